/* Client side: wait for the server's keys with a watch, and parse them. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "xs-internal.h"

/* Not found yet: keep waiting. */
#define NOT_YET 1
/*
 * Longest sleep between two looks at the keys.  The watch wakes a lookup
 * as soon as the server publishes, and the end of xenstored's socket
 * wakes it too; this bound is for a server that writes event-channel
 * before ring-ref outside a transaction (only its ring-ref is then not
 * announced), and for a device, whose descriptor never ends.
 */
#define LIVENESS_MS 1000

/*
 * Read one key in @t: 0 with *out set, NOT_YET, -EPROTO or a -errno.  A
 * missing node and an unreadable one are alike "not yet": xenstored
 * answers EACCES for a missing node under a parent the caller may not
 * read (it does not leak existence), which is how the server's home looks
 * to a client before the keys are published.
 */
static int read_key(struct xv_xs *xs, xs_transaction_t t, const char *path,
		    const char *key, uint32_t max, uint32_t *out)
{
	char node[XV_XS_KEY_BUF];
	unsigned int len;
	char *val;
	int rc;

	snprintf(node, sizeof(node), "%s/%s", path, key);
	errno = 0;
	val = xs_read(xs->h, t, node, &len);
	if (!val) {
		rc = xv_xs_fail(xs);
		return rc == -ENOENT || rc == -EACCES ? NOT_YET : rc;
	}
	rc = xv_xs_decimal_parse(val, len, 1, max, out);
	free(val);
	return rc;
}

struct keys {
	const char *path;
	uint32_t ring_ref;
	uint32_t event_channel;
};

static int keys_body(struct xv_xs *xs, xs_transaction_t t, void *arg)
{
	struct keys *k = arg;
	int rc;

	rc = read_key(xs, t, k->path, "ring-ref", UINT32_MAX, &k->ring_ref);
	if (rc != 0)
		return rc;
	/* Ports travel as int through libxenevtchn: a larger one is no
	 * port it could bind. */
	return read_key(xs, t, k->path, "event-channel", INT32_MAX,
			&k->event_channel);
}

/*
 * Both keys, in one read-only transaction.  Two plain reads could take
 * ring-ref from one publication and event-channel from the next, if the
 * server removed the path and published it again in between, and the
 * pair would look valid.  xenstored fails the commit of a transaction
 * whose nodes changed, even one that only read them, so a committed pair
 * is one publication's.  A read that fails aborts the transaction.  What
 * conflicts on every try, or until @deadline, changed under each look:
 * "not yet", and the next change brings another event (or the liveness
 * look).
 */
static int read_keys(struct xv_xs *xs, const char *path, int64_t deadline,
		     int cancel_fd, uint32_t *ring_ref,
		     uint32_t *event_channel)
{
	struct keys k = { .path = path };
	int rc = xv_xs_in_transaction(xs, deadline, cancel_fd, keys_body, &k);

	if (rc == -EAGAIN)
		return NOT_YET;
	if (rc != 0)
		return rc;
	*ring_ref = k.ring_ref;
	*event_channel = k.event_channel;
	return 0;
}

/*
 * Sleep until a watch event arrives, LIVENESS_MS pass, or @deadline
 * (monotonic ns; -1: none) passes; after an event, drain every queued one:
 * each read after the wake-up sees all changes those events announced.
 * @cancel_fd (-1: none) readable, with no event, ends the wait.
 * Returns 0 (look again), -ETIMEDOUT, -ECANCELED or a -errno.
 */
static int wait_event(struct xv_xs_raw *watcher, int64_t deadline,
		      int cancel_fd)
{
	struct pollfd pfd[2] = {
		{ .fd = xv_xs_raw_fd(watcher), .events = POLLIN },
		{ .fd = cancel_fd, .events = POLLIN },	/* -1: skipped */
	};
	int n, rc;

	/* Also with events pending: a lookup past its time makes no more
	 * transactions. */
	if (deadline >= 0 && xv_xs_now_ns() >= deadline)
		return -ETIMEDOUT;
	/* Events the XS_WATCH reply was preceded by left the descriptor
	 * quiet: they are in the count. */
	while (!xv_xs_raw_pending(watcher)) {
		int ms = LIVENESS_MS;

		if (deadline >= 0) {
			int64_t left = deadline - xv_xs_now_ns();

			if (left <= 0)
				return -ETIMEDOUT;
			/* Rounded up: waking early would only cost a turn,
			 * but a timeout must never end before its time. */
			left = (left + 999999) / 1000000;
			if (left < ms)
				ms = (int)left;
		}
		n = poll(pfd, 2, ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		/* Time to look again, event or not (see LIVENESS_MS). */
		if (n == 0 && ms == LIVENESS_MS)
			return 0;
		/* An event first: the keys it announces may be there. */
		if (n > 0 && pfd[0].revents)
			break;
		if (n > 0 && pfd[1].revents)
			return pfd[1].revents & POLLNVAL ? -EBADF : -ECANCELED;
	}
	/* Only a count: the keys are read again whatever changed. */
	rc = xv_xs_raw_drain(watcher);
	return rc < 0 ? rc : 0;
}

/*
 * Keys first: a client started after its server then makes one
 * transaction of two reads and no watch.  Only keys not there yet make it
 * watch, on a raw connection (xs/raw.c) of its own: no libxenstore reader
 * thread to start, wake and join, and closing the watcher removes its
 * watch with it (no XS_UNWATCH).  One xenstored serves both connections
 * in order: a read sent after an event arrived sees what the event
 * announced.
 */
int xv_xs_lookup(struct xv_xs *xs, const char *path, int timeout_ms,
		 int cancel_fd, uint32_t *ring_ref, uint32_t *event_channel)
{
	char key[XV_XS_KEY_BUF];
	struct xv_xs_raw *watcher;
	int64_t deadline = -1;
	int rc;

	if (xv_xs_path_check(path) < 0 || timeout_ms < -1)
		return -EINVAL;
	if (timeout_ms >= 0)
		deadline = xv_xs_now_ns() + (int64_t)timeout_ms * 1000000;
	rc = read_keys(xs, path, deadline, cancel_fd, ring_ref,
		       event_channel);
	if (rc != NOT_YET)
		return rc;
	/* Past its time (a timeout of 0 always is): no watch. */
	if (timeout_ms == 0 || (deadline >= 0 && xv_xs_now_ns() >= deadline))
		return -ETIMEDOUT;
	xv_xs_raw_close(xs->watcher);
	xs->watcher = NULL;
	rc = xv_xs_raw_beside(xs, &watcher);
	if (rc < 0)
		return rc;
	/*
	 * Only the key written last: a watch on @path would also fire for
	 * the directory's creation, its permissions and ring-ref, each one
	 * an event that xenstored sends and this process wakes for, for
	 * nothing.  Every known server (libxenvchan, ocaml-vchan, ours)
	 * writes event-channel after ring-ref, in one transaction; one that
	 * wrote them the other way round without one would only have its
	 * ring-ref found by the liveness look.
	 */
	snprintf(key, sizeof(key), "%s/event-channel", path);
	rc = xv_xs_raw_watch(watcher, key, "xvchan-lookup");
	if (rc < 0)
		goto out;
	/*
	 * Read again only after an event: xenstored fires a new watch once
	 * straight away (Xen's docs/misc/xenstore.txt), so a publication
	 * after the first read is either seen by the read that event causes
	 * or announced by a later one.  A xenstored that did not would only
	 * delay that read to the liveness look.
	 */
	for (;;) {
		rc = wait_event(watcher, deadline, cancel_fd);
		if (rc < 0)
			break;
		rc = read_keys(xs, path, deadline, cancel_fd, ring_ref,
			       event_channel);
		if (rc != NOT_YET)
			break;
	}
out:
	/* Closing it makes xenstored drop the watch, work a client that
	 * found its server can leave for later (see xs.h). */
	if (rc == 0)
		xs->watcher = watcher;
	else
		xv_xs_raw_close(watcher);
	return rc;
}
