/* Transactions that xenstored ended with EAGAIN, tried again. */
#define _GNU_SOURCE	/* ppoll() */

#include <errno.h>
#include <poll.h>
#include <time.h>

#include "xs-internal.h"

int64_t xv_xs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Sleep a random time below 2^@tries ms (capped): writers that conflicted
 * once would conflict again if they all retried at once; spreading them
 * lets one commit per turn, as Ethernet's backoff does.  0 to try again;
 * -EAGAIN if the sleep would end past @deadline (no time for another
 * try), -ECANCELED or -EBADF once @cancel_fd is readable or closed.
 */
static int backoff(unsigned int tries, int64_t deadline, int cancel_fd)
{
	unsigned int cap_ms = 1u << (tries < 6 ? tries : 6);
	struct pollfd pfd = { .fd = cancel_fd, .events = POLLIN };
	int64_t now = xv_xs_now_ns();
	struct timespec ts;
	uint64_t r;

	/* Scrambled clock bits are random enough to desynchronise
	 * processes; nothing depends on their quality. */
	r = ((uint64_t)now * 0x9e3779b97f4a7c15ull) >> 32;
	r %= (uint64_t)cap_ms * 1000000;
	if (deadline >= 0 && now + (int64_t)r >= deadline)
		return -EAGAIN;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)r;
	/* A signal only cuts the sleep short: the next try comes sooner. */
	if (ppoll(&pfd, 1, &ts, NULL) > 0)
		return pfd.revents & POLLNVAL ? -EBADF : -ECANCELED;
	return 0;
}

int xv_xs_in_transaction(struct xv_xs *xs, int64_t deadline, int cancel_fd,
			 int (*body)(struct xv_xs *xs, xs_transaction_t t,
				     void *arg),
			 void *arg)
{
	int tries, rc;

	for (tries = 0; tries < XV_XS_TXN_TRIES; tries++) {
		xs_transaction_t t;

		errno = 0;
		t = xs_transaction_start(xs->h);
		if (t == XBT_NULL)
			return xv_xs_fail(xs);
		rc = body(xs, t, arg);
		if (rc != 0) {
			xs_transaction_end(xs->h, t, true);
			return rc;
		}
		errno = 0;
		if (xs_transaction_end(xs->h, t, false))
			return 0;
		if (errno != EAGAIN)
			return xv_xs_fail(xs);
		if (tries + 1 < XV_XS_TXN_TRIES) {
			rc = backoff((unsigned int)tries, deadline, cancel_fd);
			if (rc != 0)
				return rc;
		}
	}
	return -EAGAIN;
}
