/* Private to xs/: the handle and helpers shared by its files. */
#ifndef XV_XS_INTERNAL_H
#define XV_XS_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xenstore.h>

#include "xs.h"

struct xv_xs_raw;

struct xv_xs {
	struct xs_handle *h;	/* NULL: xv_xs_open_domain()'s handle */
	bool own_known;
	unsigned int own_domid;	/* cached by xv_xs_own_domid() */
	/* Where xs_open() looked when @h was opened ($XENSTORED_PATH,
	 * $XENSTORED_RUNDIR; NULL: unset): the raw connections below go to
	 * the same xenstored, as the same domain, whatever the environment
	 * says by the time they are opened. */
	char *env_path, *env_rundir;
	struct xv_xs_raw *watcher;	/* left open by a lookup, see xs.h */
	struct xv_xs_raw *dom;		/* xs/domain.c's: opened on first use,
					 * or by xv_xs_open_domain() */
};

/*
 * A raw connection (xs/raw.c): the xenstore wire protocol on a descriptor
 * of its own, no thread.  Opened where libxenstore 4.17's xs_open(0)
 * connects: @xsd_path if not NULL, else <@rundir or /var/run/xenstored>/
 * socket, else /dev/xen/xenbus (or /proc/xen/xenbus).  Returns 0 or a
 * -errno (-ENOENT, -ECONNREFUSED, -EACCES, -ENOMEM).
 */
int xv_xs_raw_open(struct xv_xs_raw **out, const char *xsd_path,
		   const char *rundir);
void xv_xs_raw_close(struct xv_xs_raw *r);
/* A raw connection to where @xs connected, as the same domain; a
 * xenstored that is no longer there is -ECONNRESET. */
int xv_xs_raw_beside(struct xv_xs *xs, struct xv_xs_raw **out);
/* Readable while watch events wait to be read (and at the connection's
 * end); valid until xv_xs_raw_close(). */
int xv_xs_raw_fd(const struct xv_xs_raw *r);
/*
 * Requests: one at a time; each waits for its reply without a timeout
 * (xenstored's end is an end of file, -ECONNRESET).  Watch events read
 * while a reply is awaited are kept for the next drain; the reply itself
 * already reflects what they announced, since xenstored sends each
 * connection's messages in order.  Returns 0 (a watch set), 1/0 ("T"/"F"),
 * the -errno xenstored answered (-EACCES, -E2BIG, -ENOSPC, ...),
 * -ECONNRESET or -EPROTO (malformed stream: the connection is done).
 */
int xv_xs_raw_watch(struct xv_xs_raw *r, const char *path, const char *token);
int xv_xs_raw_domain_introduced(struct xv_xs_raw *r, unsigned int domid);
/* True if events were read by a request and not yet drained: the
 * descriptor no longer says so. */
bool xv_xs_raw_pending(const struct xv_xs_raw *r);
/* Read every queued message without blocking; the count of watch events
 * since the last drain (saturating), or -ECONNRESET / -EPROTO / -errno. */
int xv_xs_raw_drain(struct xv_xs_raw *r);

/* CLOCK_MONOTONIC in nanoseconds: the clock of the lookup's deadline. */
int64_t xv_xs_now_ns(void);

/* Bounded retries of a transaction that xenstored ended with EAGAIN:
 * conflicts come from other writers under the same node (e.g. servers
 * publishing ports for one client), which the backoff between tries
 * spreads out; a node hammered for longer than that is the caller's to
 * know about.  32 tries back off for about 2 s at most. */
#define XV_XS_TXN_TRIES 32

/*
 * Run @body in a transaction; it returns 0 to commit, or anything else,
 * which aborts the transaction and is returned as it is (a negative errno,
 * or a positive answer of the caller's own).  A commit that xenstored ends
 * with EAGAIN (another writer changed a node the body read or wrote) runs
 * @body again from the start, at most XV_XS_TXN_TRIES times in all,
 * backing off between tries; then -EAGAIN.  The first try is always made;
 * no backoff sleeps past @deadline (CLOCK_MONOTONIC ns, -1: none): one
 * that would ends the tries with -EAGAIN, so the call ends at most one
 * transaction past it.  @cancel_fd (-1: none; never read) readable during
 * a backoff ends them with -ECANCELED (-EBADF once closed).  Returns 0
 * once committed, @body's answer, -EAGAIN, -ECANCELED, -EBADF, or the
 * -errno of a failed start or end.
 */
int xv_xs_in_transaction(struct xv_xs *xs, int64_t deadline, int cancel_fd,
			 int (*body)(struct xv_xs *xs, xs_transaction_t t,
				     void *arg),
			 void *arg);

/* Room for "<path>/<key>" with any path xv_xs_path_check() accepts (at
 * most XENSTORE_ABS_PATH_MAX) and the longest key, "event-channel". */
#define XV_XS_KEY_BUF (XENSTORE_ABS_PATH_MAX + sizeof("/event-channel"))

/* Domain ids at or above DOMID_FIRST_RESERVED name no real domain. */
#define XV_XS_DOMID_END 0x7FF0u

/*
 * libxenstore reports failures through errno; it sometimes leaves it 0.
 * Once the connection to xenstored is lost, requests fail with EPIPE
 * (libxenstore ignores SIGPIPE while it writes), or EBADF once it closed
 * the socket after a failed exchange.  (No handle here ever watches
 * through libxenstore: xs/raw.c does.)  Say what happened.
 */
static inline int xv_xs_errno(void)
{
	if (errno == EBADF || errno == EPIPE)
		return -ECONNRESET;
	return errno > 0 ? -errno : -EIO;
}

/* The negative errno for a libxenstore call on @xs that just failed:
 * xv_xs_errno(), but an EINVAL that means a lost connection is told apart
 * from one that xenstored sent. */
int xv_xs_fail(struct xv_xs *xs);

/*
 * Parse @len bytes at @s as a strict decimal in [@min, @max]: digits only,
 * no sign, no spaces, no leading zero (except "0" itself), no NUL inside.
 * Returns 0 or -EPROTO.  The bytes come from xenstore, possibly written by
 * the peer, so nothing is assumed about them.
 */
int xv_xs_decimal_parse(const char *s, size_t len, uint32_t min,
			uint32_t max, uint32_t *out);

/* True if @path is /local/domain/<d>/data/vchan/<c>/<port> with decimal
 * domids and a valid port. */
bool xv_xs_path_is_mirage(const char *path);

#endif
