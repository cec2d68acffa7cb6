/*
 * xvchan-peer: one end of a vchan built on xvchan, with the same command
 * line as xenvchan-peer, so that an interop test can put either library at
 * either end and compare like with like.
 *
 * It sends --send bytes of pattern stream --tx-seed and, at the same time,
 * receives and verifies --expect bytes of stream --rx-seed.  By default one
 * thread drives both directions in non-blocking mode with poll() on
 * xvchan_fd(); --threads uses blocking mode with a reader and a writer
 * thread instead, the other way the API promises to work.  Then it does
 * what --after says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xvchan.h>

#include "pattern.h"
#include "peer-cli.h"

static const struct xv_peer_program program = {
	.name = "xvchan-peer", .library = "xvchan", .xvchan_options = 1,
};

/*
 * poll() timeout for @left seconds until the deadline, rounded up so the
 * deadline check after it finds the time up. Never shorter: a periodic
 * timeout would hide a wake-up the library lost (xvchan.h promises the fd
 * fires), and the interop test is meant to hang on one instead.
 */
static int poll_ms(double left)
{
	if (left <= 0)
		return 0;
	if (left * 1000 >= INT_MAX)
		return INT_MAX;
	return (int)(left * 1000) + 1;
}

struct transfer {
	struct xvchan *vc;
	const struct xv_peer_options *o;
	uint64_t sent, received;
	pthread_mutex_t lock; /* guards status and why: both threads may fail */
	int status;
	char why[160];
	/* CLOCK_BOOTTIME of the first failure, /proc/uptime's clock: a test
	 * times when the end was seen, not when the process got to exit
	 * (close and exit may wait on a busy xenstored). */
	double failed_at;
};

static void fail(struct transfer *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct transfer *t, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&t->lock);
	if (!t->status) {
		struct timespec ts;

		clock_gettime(CLOCK_BOOTTIME, &ts);
		t->failed_at = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		t->status = 1;
		va_start(ap, fmt);
		vsnprintf(t->why, sizeof(t->why), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&t->lock);
}

/* Verify and count @n received bytes; 0, or -1 after recording a mismatch. */
static int accept_bytes(struct transfer *t, const unsigned char *buf, size_t n)
{
	size_t bad = xv_pattern_check(t->o->rx_seed, t->received, buf, n);

	if (bad != n) {
		fail(t, "data mismatch at byte %" PRIu64, t->received + bad);
		return -1;
	}
	t->received += n;
	return 0;
}

static size_t next_chunk(uint64_t total, uint64_t done, size_t chunk)
{
	return total - done < chunk ? (size_t)(total - done) : chunk;
}

/* Non-blocking: one loop moves both directions, sleeping in poll(). */
static void run_poll_loop(struct transfer *t, unsigned char *txbuf,
			  unsigned char *rxbuf, double deadline)
{
	const struct xv_peer_options *o = t->o;
	struct pollfd pfd = { .fd = xvchan_fd(t->vc), .events = POLLIN };
	size_t tx_filled = 0; /* bytes of txbuf holding the next chunk */
	size_t tx_off = 0;    /* bytes of those already written */

	while (!t->status && (t->sent < o->send || t->received < o->expect)) {
		int blocked = 1;
		ssize_t n;

		if (t->received < o->expect) {
			n = xvchan_read(t->vc, rxbuf, next_chunk(o->expect, t->received, o->chunk));
			if (n > 0) {
				if (accept_bytes(t, rxbuf, (size_t)n) < 0)
					return;
				blocked = 0;
			} else if (n == 0) {
				fail(t, "end of stream after %" PRIu64 " of %" PRIu64 " bytes",
				     t->received, o->expect);
			} else if (n != -EAGAIN) {
				fail(t, "read: %s", xvchan_strerror((int)n));
			}
		}
		if (!t->status && t->sent < o->send) {
			if (tx_off == tx_filled) {
				tx_filled = next_chunk(o->send, t->sent, o->chunk);
				tx_off = 0;
				xv_pattern_fill(o->tx_seed, t->sent, txbuf, tx_filled);
			}
			n = xvchan_write(t->vc, txbuf + tx_off, tx_filled - tx_off);
			if (n > 0) {
				tx_off += (size_t)n;
				t->sent += (uint64_t)n;
				blocked = 0;
			} else if (n != -EAGAIN) {
				fail(t, "write after %" PRIu64 " bytes: %s", t->sent,
				     xvchan_strerror((int)n));
			}
		}
		if (t->status || !blocked)
			continue;
		/* Both calls returned -EAGAIN and armed: sleep until an event. */
		double left = deadline - xv_peer_now_s();

		if (left <= 0) {
			fail(t, "timed out: sent %" PRIu64 ", received %" PRIu64,
			     t->sent, t->received);
			return;
		}
		if (poll(&pfd, 1, poll_ms(left)) < 0 &&
		    errno != EINTR)
			fail(t, "poll: %s", strerror(errno));
	}
}

static void *writer_thread(void *arg)
{
	struct transfer *t = arg;
	const struct xv_peer_options *o = t->o;
	unsigned char *buf = malloc(o->chunk);

	if (!buf) {
		fail(t, "out of memory");
		return NULL;
	}
	while (t->sent < o->send) {
		size_t want = next_chunk(o->send, t->sent, o->chunk);
		ssize_t n;

		xv_pattern_fill(o->tx_seed, t->sent, buf, want);
		n = xvchan_write(t->vc, buf, want);
		if (n < 0) {
			fail(t, "write after %" PRIu64 " bytes: %s", t->sent,
			     xvchan_strerror((int)n));
			break;
		}
		/* Blocking mode promises all of it. */
		if ((size_t)n != want) {
			fail(t, "short blocking write: %zd of %zu", n, want);
			break;
		}
		t->sent += want;
	}
	free(buf);
	return NULL;
}

/* Blocking mode: a writer thread beside this reading thread. */
static void run_threads(struct transfer *t, unsigned char *rxbuf)
{
	const struct xv_peer_options *o = t->o;
	pthread_t writer;
	int err = pthread_create(&writer, NULL, writer_thread, t);

	if (err) {
		fail(t, "pthread_create: %s", strerror(err));
		return;
	}
	while (t->received < o->expect) {
		ssize_t n = xvchan_read(t->vc, rxbuf, next_chunk(o->expect, t->received, o->chunk));

		if (n == 0) {
			fail(t, "end of stream after %" PRIu64 " of %" PRIu64 " bytes",
			     t->received, o->expect);
			break;
		}
		if (n < 0) {
			fail(t, "read: %s", xvchan_strerror((int)n));
			break;
		}
		if (accept_bytes(t, rxbuf, (size_t)n) < 0)
			break;
	}
	pthread_join(writer, NULL);
}

/* Read until end of stream: whatever the peer still sends is refused. */
static void wait_peer_gone(struct transfer *t, double deadline)
{
	struct pollfd pfd = { .fd = xvchan_fd(t->vc), .events = POLLIN };
	unsigned char byte;

	for (;;) {
		ssize_t n = xvchan_read(t->vc, &byte, 1);

		if (n == 0)
			return;
		if (n > 0) {
			fail(t, "unexpected byte after the transfer");
			return;
		}
		if (n != -EAGAIN) {
			fail(t, "waiting for the peer to leave: %s", xvchan_strerror((int)n));
			return;
		}
		if (xv_peer_now_s() > deadline) {
			fail(t, "peer never went away");
			return;
		}
		poll(&pfd, 1, poll_ms(deadline - xv_peer_now_s()));
	}
}

int main(int argc, char **argv)
{
	struct xv_peer_options o;
	struct xvchan_config cfg;
	struct transfer t = { .o = &o, .lock = PTHREAD_MUTEX_INITIALIZER };
	unsigned char *txbuf, *rxbuf;
	double start, deadline;
	int err;

	xv_peer_parse(argc, argv, &program, &o);
	signal(SIGPIPE, SIG_IGN);
	txbuf = malloc(o.chunk);
	rxbuf = malloc(o.chunk);
	if (!txbuf || !rxbuf)
		return 1;

	xvchan_config_init(&cfg);
	cfg.path = o.path;
	cfg.connect_timeout_ms = o.timeout_s * 1000;
	cfg.io_timeout_ms = o.timeout_s * 1000;
	if (o.spin_us >= 0)
		cfg.spin_us = (unsigned int)o.spin_us;
	if (!o.threads)
		cfg.flags |= XVCHAN_NONBLOCK;

	start = xv_peer_now_s();
	deadline = start + o.timeout_s;
	if (o.server)
		err = xvchan_server(&t.vc, (unsigned int)o.domid, NULL,
				    o.read_size, o.write_size, &cfg);
	else
		err = xvchan_client(&t.vc, (unsigned int)o.domid, NULL, &cfg);
	if (err < 0) {
		fprintf(stderr, "xvchan-peer: %s: %s\n", o.server ? "server" : "client",
			xvchan_strerror(err));
		return 1;
	}

	if (o.threads)
		run_threads(&t, rxbuf);
	else
		run_poll_loop(&t, txbuf, rxbuf, deadline);
	if (!t.status && o.after == XV_PEER_AFTER_WAIT_PEER) {
		if (o.threads) {
			/* Blocking: the io timeout bounds this read. */
			ssize_t n = xvchan_read(t.vc, rxbuf, 1);

			if (n != 0)
				fail(&t, "waiting for the peer to leave: %s",
				     n > 0 ? "unexpected byte" : xvchan_strerror((int)n));
		} else {
			wait_peer_gone(&t, deadline);
		}
	}

	/* stderr: a test runner may be reading TAP on our inherited stdout. */
	fprintf(stderr, "xvchan-peer %s: sent %" PRIu64 " received %" PRIu64 "%s%s%s in %.3f s\n",
		o.server ? "server" : "client", t.sent, t.received,
		t.status ? ": FAILED: " : " verified", t.status ? t.why : "",
		!t.status && o.after == XV_PEER_AFTER_WAIT_PEER ? ", peer gone" : "",
		xv_peer_now_s() - start);
	if (t.status)
		fprintf(stderr, "xvchan-peer %s: failed at uptime %.3f s\n",
			o.server ? "server" : "client", t.failed_at);
	if (t.status == 0 && o.done_file && xv_peer_mark_done(&program, o.done_file) < 0)
		t.status = 1;

	switch (o.after) {
	case XV_PEER_AFTER_EXIT:
		_exit(t.status);
	case XV_PEER_AFTER_HANG:
		for (;;)
			pause();
	case XV_PEER_AFTER_CLOSE:
	case XV_PEER_AFTER_WAIT_PEER:
		break;
	}
	err = xvchan_close(t.vc);
	/* Closing first, a peer that is still reading may not have closed
	 * in time; only the data transfer decides the exit status then. */
	if (err < 0 && err != -ETIMEDOUT)
		fprintf(stderr, "xvchan-peer: close: %s\n", xvchan_strerror(err));
	free(txbuf);
	free(rxbuf);
	return t.status;
}
