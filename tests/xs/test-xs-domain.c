/*
 * xs/domain.c against the simulator's xenstored run in-process: the
 * @releaseDomain watch and XS_IS_DOMAIN_INTRODUCED, as dom0 sees them and
 * as a guest does (C xenstored 4.17 rules: privileged).  Domains 0..3
 * exist; the store's own thread releases one on request, as the
 * toolstack's destroy would.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-common.h"
#include "xenstored.h"
#include "xs.h"

#define MAX_POLL 256
/* Asked of the store thread through @cmd_pipe: stop, or release a domain. */
#define CMD_STOP 0xFFFFFFFFu

static struct xv_xsd *xsd;
static pthread_t xsd_thread;
static int cmd_pipe[2], reply_pipe[2];
static char dir[] = "/tmp/xv-test-xsdom-XXXXXX";

static void sock_path(char *buf, size_t len, unsigned int domid)
{
	snprintf(buf, len, "%s/dom%u.sock", dir, domid);
}

/* The store is not thread-safe: every change to it, a release too, is
 * made by this thread. */
static void *xsd_loop(void *arg)
{
	struct pollfd fds[MAX_POLL + 1];

	(void)arg;
	for (;;) {
		size_t n = xv_xsd_pollfds(xsd, fds, MAX_POLL);
		unsigned int cmd;
		int rc;

		fds[n] = (struct pollfd){ .fd = cmd_pipe[0], .events = POLLIN };
		if (poll(fds, n + 1, -1) < 0)
			continue;
		if (fds[n].revents) {
			if (read(cmd_pipe[0], &cmd, sizeof(cmd)) != sizeof(cmd) ||
			    cmd == CMD_STOP)
				return NULL;
			rc = xv_xsd_domain_release(xsd, cmd);
			if (write(reply_pipe[1], &rc, sizeof(rc)) != sizeof(rc))
				return NULL;
			continue;
		}
		xv_xsd_dispatch(xsd, fds, n);
	}
}

static void xsd_start(void)
{
	char sock[256];
	unsigned int d;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(xv_xsd_new(&xsd, NULL), 0);
	for (d = 0; d <= 3; d++) {
		char name[16];

		snprintf(name, sizeof(name), "dom%u", d);
		sock_path(sock, sizeof(sock), d);
		ck_assert_int_eq(xv_xsd_domain_introduce(xsd, d, name, sock), 0);
	}
	ck_assert_int_eq(pipe(cmd_pipe), 0);
	ck_assert_int_eq(pipe(reply_pipe), 0);
	ck_assert_int_eq(pthread_create(&xsd_thread, NULL, xsd_loop, NULL), 0);
}

static void xsd_stop(void)
{
	unsigned int cmd = CMD_STOP, d;
	char sock[256];

	if (!xsd)
		return;
	ck_assert_int_eq(write(cmd_pipe[1], &cmd, sizeof(cmd)), sizeof(cmd));
	pthread_join(xsd_thread, NULL);
	xv_xsd_free(xsd);
	xsd = NULL;
	close(cmd_pipe[0]);
	close(cmd_pipe[1]);
	close(reply_pipe[0]);
	close(reply_pipe[1]);
	for (d = 0; d <= 3; d++) {
		sock_path(sock, sizeof(sock), d);
		unlink(sock);
	}
	rmdir(dir);
}

/* What `xl destroy` leaves in xenstore: the domain released. */
static int release(unsigned int domid)
{
	int rc = 1;

	ck_assert_int_eq(write(cmd_pipe[1], &domid, sizeof(domid)),
			 sizeof(domid));
	ck_assert_int_eq(read(reply_pipe[0], &rc, sizeof(rc)), sizeof(rc));
	return rc;
}

static struct xv_xs *open_as(unsigned int domid)
{
	struct xv_xs *xs = NULL;
	char sock[256];

	/* libxenstore reads XENSTORED_PATH at each xs_open(). */
	sock_path(sock, sizeof(sock), domid);
	ck_assert_int_eq(setenv("XENSTORED_PATH", sock, 1), 0);
	ck_assert_int_eq(xv_xs_open(&xs), 0);
	ck_assert_ptr_nonnull(xs);
	return xs;
}

static int readable_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms);
}

/* A new watch fires once at once: take that event out of the way. */
static int watch_and_settle(struct xv_xs *xs)
{
	int fd = xv_xs_domain_watch(xs);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(readable_within(fd, 2000), 1);
	ck_assert_int_eq(xv_xs_watch_drain(xs), 1);
	ck_assert_int_eq(readable_within(fd, 0), 0);
	return fd;
}

/*
 * Drain until @want events were taken or none came for 2 s: a release's
 * reply can overtake libxenstore's reader thread queuing the event.
 */
static int drain_events(struct xv_xs *xs, int fd, int want)
{
	int got = 0;

	while (got < want && readable_within(fd, 2000) == 1) {
		int n = xv_xs_watch_drain(xs);

		ck_assert_int_ge(n, 0);
		got += n;
	}
	return got;
}

START_TEST(test_dom0_hears_a_release_and_the_domain_is_then_gone)
{
	struct xv_xs *xs = open_as(0);
	int fd = watch_and_settle(xs);

	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), 1);
	ck_assert_int_eq(release(2), 0);
	ck_assert_int_eq(drain_events(xs, fd, 1), 1);
	/* Drained: quiet until the next release. */
	ck_assert_int_eq(readable_within(fd, 0), 0);
	ck_assert_int_eq(xv_xs_watch_drain(xs), 0);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), 0);
	/* Only that one. */
	ck_assert_int_eq(xv_xs_domain_exists(xs, 1), 1);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 3), 1);
	xv_xs_close(xs);
}
END_TEST

START_TEST(test_every_release_fires_again)
{
	struct xv_xs *xs = open_as(0);
	int fd = watch_and_settle(xs);

	ck_assert_int_eq(release(1), 0);
	ck_assert_int_eq(release(3), 0);
	ck_assert_int_eq(drain_events(xs, fd, 2), 2);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 1), 0);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 3), 0);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), 1);
	xv_xs_close(xs);
}
END_TEST

START_TEST(test_existing_domains_are_there_and_unknown_ones_are_not)
{
	struct xv_xs *xs = open_as(0);

	/* No watch needed to ask. */
	ck_assert_int_eq(xv_xs_domain_exists(xs, 0), 1);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 1), 1);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 3), 1);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 77), 0);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 0x7FEF), 0);
	/* DOMID_FIRST_RESERVED and above name no domain: never asked. */
	ck_assert_int_eq(xv_xs_domain_exists(xs, 0x7FF0), -EINVAL);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 0xFFFFFFFFu), -EINVAL);
	xv_xs_close(xs);
}
END_TEST

/* XSA-115: a guest may set the watch but never hears it, and may not ask. */
START_TEST(test_a_guest_may_not_ask_and_never_hears_a_release)
{
	struct xv_xs *xs = open_as(1);
	int fd = watch_and_settle(xs);
	unsigned int d = 99;

	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), -EACCES);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 1), -EACCES);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 0), -EACCES);
	ck_assert_int_eq(release(2), 0);
	ck_assert_int_eq(readable_within(fd, 300), 0);
	ck_assert_int_eq(xv_xs_watch_drain(xs), 0);
	/* Still a refusal, never "gone". */
	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), -EACCES);
	/* The handle itself is fine. */
	ck_assert_int_eq(xv_xs_own_domid(xs, &d), 0);
	ck_assert_uint_eq(d, 1);
	xv_xs_close(xs);
}
END_TEST

START_TEST(test_a_lost_xenstored_is_a_failure_not_a_gone_domain)
{
	struct xv_xs *xs = open_as(0);

	(void)watch_and_settle(xs);
	xsd_stop();
	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), -ECONNRESET);
	ck_assert_int_eq(xv_xs_watch_drain(xs), -ECONNRESET);
	xv_xs_close(xs);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xs-domain");
	TCase *tc = tcase_create("domain");

	tcase_add_checked_fixture(tc, xsd_start, xsd_stop);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc,
		test_dom0_hears_a_release_and_the_domain_is_then_gone);
	tcase_add_test(tc, test_every_release_fires_again);
	tcase_add_test(tc,
		test_existing_domains_are_there_and_unknown_ones_are_not);
	tcase_add_test(tc, test_a_guest_may_not_ask_and_never_hears_a_release);
	tcase_add_test(tc, test_a_lost_xenstored_is_a_failure_not_a_gone_domain);
	suite_add_tcase(s, tc);
	return s;
}
