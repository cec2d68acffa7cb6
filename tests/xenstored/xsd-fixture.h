/*
 * A store running in this process for the xenstored tests: domains 0, 1
 * and 2 on sockets in a fresh temporary directory, served by a thread that
 * runs the poll loop a daemon would.  Clients are the real libxenstore.
 */
#ifndef XV_TEST_XSD_FIXTURE_H
#define XV_TEST_XSD_FIXTURE_H

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <xenstore.h>

#include "xenstored.h"

/* Start with @quota (NULL: xenstored's defaults). */
void xsd_fix_start_quota(const struct xv_xsd_quota *quota);
/* Checked-fixture hooks: start with defaults, and stop (nothing to do
 * if a test stopped the store itself, to see it go away). */
void xsd_fix_start(void);
void xsd_fix_stop(void);

/* The socket path of @domid (0, 1 or 2, or one introduced later). */
const char *xsd_fix_sock(unsigned int domid);
/* A libxenstore handle speaking as @domid; fails the test if it cannot. */
struct xs_handle *xsd_fix_open(unsigned int domid);

/* Run against the store while the loop thread is held off. */
int xsd_fix_introduce(unsigned int domid, const char *name);
int xsd_fix_release(unsigned int domid);

/*
 * fork() while the store's thread is outside the store (it allocates
 * there, under the fixture's lock). A child forked while another thread
 * held one of the allocator's locks waits for it for ever at the first
 * malloc() or free() that needs it: seen under ASan (clang 14), whose
 * allocator takes no lock around fork(). This closes the likeliest
 * window, not every one: a churning child still hung once in 30 runs
 * with it, so tests that need many busy workers run them as threads
 * (test-xs-rendezvous.c, churn()).
 */
pid_t xsd_fix_fork(void);

/* The next @n commits (-1: all) fail with EAGAIN (xv_xsd_fail_commits()). */
void xsd_fix_fail_commits(int n);

/* Connections the store serves on @domid's socket now (a client's
 * connection counts once the store has answered it a request). */
size_t xsd_fix_connections(unsigned int domid);

/* Read one watch event within @ms; false on timeout.  Fills @path and
 * @token (which the caller frees with free(vec)). */
bool xsd_fix_event(struct xs_handle *h, int ms, char ***vec);

/* @call, a libxenstore call, fails (false or NULL) with errno @err. */
#define XSD_FAILS(call, err) do { \
		errno = 0; \
		ck_assert(!(call)); \
		ck_assert_int_eq(errno, (err)); \
	} while (0)

/* A raw connected socket to @domid's xenstored socket. */
int xsd_fix_raw(unsigned int domid);

#endif
