/* Transactions that xenstored ended with EAGAIN, tried again. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <time.h>

#include "xs-internal.h"

/*
 * Sleep a random time below 2^@tries ms (capped): writers that conflicted
 * once would conflict again if they all retried at once; spreading them
 * lets one commit per turn, as Ethernet's backoff does.
 */
static void backoff(unsigned int tries)
{
	unsigned int cap_ms = 1u << (tries < 6 ? tries : 6);
	struct timespec ts;
	uint64_t r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* Scrambled clock bits are random enough to desynchronise
	 * processes; nothing depends on their quality. */
	r = ((uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull) >> 32;
	r %= (uint64_t)cap_ms * 1000000;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)r;
	nanosleep(&ts, NULL);
}

int xv_xs_in_transaction(struct xv_xs *xs,
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
		if (tries + 1 < XV_XS_TXN_TRIES)
			backoff((unsigned int)tries);
	}
	return -EAGAIN;
}
