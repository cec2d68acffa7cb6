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

enum after {
	AFTER_CLOSE,	 /* xvchan_close(): flush, wait for the peer, free */
	AFTER_EXIT,	 /* exit(0) without closing: the drivers must tidy up */
	AFTER_HANG,	 /* wait to be killed */
	AFTER_WAIT_PEER, /* read until end of stream, then close */
};

struct options {
	int server;
	int domid;
	const char *path;
	size_t read_size, write_size;
	uint64_t send, expect;
	uint64_t tx_seed, rx_seed;
	size_t chunk;
	enum after after;
	int timeout_s;
	const char *done_file;
	int threads;
	int spin_us;
};

static const char usage[] =
"Usage: xvchan-peer --server|--client --domid D --path XSPATH [OPTIONS]\n"
"\n"
"One end of a vchan made with xvchan, for interop tests; the command line\n"
"is xenvchan-peer's.  Streams a verifiable byte pattern both ways at once,\n"
"then leaves as --after says.\n"
"\n"
"  --server            create the vchan, for client domain D\n"
"  --client            connect to the vchan of server domain D\n"
"  --domid D           the peer's domain id\n"
"  --path XSPATH       xenstore path of the vchan\n"
"  --read-size N       server: size of the ring it reads (1024)\n"
"  --write-size N      server: size of the ring it writes (1024)\n"
"  --send N            bytes to send (0)\n"
"  --expect N          bytes to receive and verify (0)\n"
"  --tx-seed S         pattern stream to send (1)\n"
"  --rx-seed S         pattern stream expected (2)\n"
"  --chunk N           bytes per xvchan call (4000)\n"
"  --after WHAT        close | exit | hang | wait-peer (close)\n"
"  --timeout S         give up after S seconds (120)\n"
"  --done-file F       create F once the transfer has succeeded\n"
"  --threads           blocking mode, one reader and one writer thread\n"
"                      (default: non-blocking, one poll loop)\n"
"  --spin-us N         spin budget before sleeping (library default)\n"
"\n"
"Prints one line of results on stderr.  Exit status: 0 on success, 1 on a\n"
"verification failure, a timeout or a vchan error, 2 on bad usage.\n";

static uint64_t parse_u64(const char *arg, const char *name)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-') {
		fprintf(stderr, "xvchan-peer: bad %s '%s'\n", name, arg);
		exit(2);
	}
	return v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "server", no_argument, NULL, 's' },
		{ "client", no_argument, NULL, 'c' },
		{ "domid", required_argument, NULL, 'd' },
		{ "path", required_argument, NULL, 'p' },
		{ "read-size", required_argument, NULL, 'r' },
		{ "write-size", required_argument, NULL, 'w' },
		{ "send", required_argument, NULL, 'S' },
		{ "expect", required_argument, NULL, 'E' },
		{ "tx-seed", required_argument, NULL, 'T' },
		{ "rx-seed", required_argument, NULL, 'R' },
		{ "chunk", required_argument, NULL, 'k' },
		{ "after", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "done-file", required_argument, NULL, 'D' },
		{ "threads", no_argument, NULL, 'm' },
		{ "spin-us", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, role = 0;

	*o = (struct options){
		.domid = -1, .read_size = 1024, .write_size = 1024,
		.tx_seed = 1, .rx_seed = 2, .chunk = 4000,
		.after = AFTER_CLOSE, .timeout_s = 120, .spin_us = -1,
	};
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->server = 1; role++; break;
		case 'c': o->server = 0; role++; break;
		case 'd': o->domid = (int)parse_u64(optarg, "domid"); break;
		case 'p': o->path = optarg; break;
		case 'r': o->read_size = parse_u64(optarg, "read size"); break;
		case 'w': o->write_size = parse_u64(optarg, "write size"); break;
		case 'S': o->send = parse_u64(optarg, "byte count"); break;
		case 'E': o->expect = parse_u64(optarg, "byte count"); break;
		case 'T': o->tx_seed = parse_u64(optarg, "seed"); break;
		case 'R': o->rx_seed = parse_u64(optarg, "seed"); break;
		case 'k': o->chunk = parse_u64(optarg, "chunk"); break;
		case 't': o->timeout_s = (int)parse_u64(optarg, "timeout"); break;
		case 'D': o->done_file = optarg; break;
		case 'm': o->threads = 1; break;
		case 'u': o->spin_us = (int)parse_u64(optarg, "spin budget"); break;
		case 'a':
			if (!strcmp(optarg, "close"))
				o->after = AFTER_CLOSE;
			else if (!strcmp(optarg, "exit"))
				o->after = AFTER_EXIT;
			else if (!strcmp(optarg, "hang"))
				o->after = AFTER_HANG;
			else if (!strcmp(optarg, "wait-peer"))
				o->after = AFTER_WAIT_PEER;
			else {
				fprintf(stderr, "xvchan-peer: bad --after '%s'\n", optarg);
				exit(2);
			}
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			exit(2);
		}
	}
	if (role != 1 || o->domid < 0 || !o->path || optind != argc ||
	    o->chunk == 0 || o->chunk > (1u << 24)) {
		fputs(usage, stderr);
		exit(2);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

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

/* Tell a watching test the transfer is over, so it may now kill us. */
static int mark_done(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || fclose(f) != 0) {
		fprintf(stderr, "xvchan-peer: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct transfer {
	struct xvchan *vc;
	const struct options *o;
	uint64_t sent, received;
	pthread_mutex_t lock; /* guards status and why: both threads may fail */
	int status;
	char why[160];
};

static void fail(struct transfer *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct transfer *t, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&t->lock);
	if (!t->status) {
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
	const struct options *o = t->o;
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
		double left = deadline - now_s();

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
	const struct options *o = t->o;
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
	const struct options *o = t->o;
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
		if (now_s() > deadline) {
			fail(t, "peer never went away");
			return;
		}
		poll(&pfd, 1, poll_ms(deadline - now_s()));
	}
}

int main(int argc, char **argv)
{
	struct options o;
	struct xvchan_config cfg;
	struct transfer t = { .o = &o, .lock = PTHREAD_MUTEX_INITIALIZER };
	unsigned char *txbuf, *rxbuf;
	double start, deadline;
	int err;

	parse_options(argc, argv, &o);
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

	start = now_s();
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
	if (!t.status && o.after == AFTER_WAIT_PEER) {
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
		!t.status && o.after == AFTER_WAIT_PEER ? ", peer gone" : "",
		now_s() - start);
	if (t.status == 0 && o.done_file && mark_done(o.done_file) < 0)
		t.status = 1;

	switch (o.after) {
	case AFTER_EXIT:
		_exit(t.status);
	case AFTER_HANG:
		for (;;)
			pause();
	case AFTER_CLOSE:
	case AFTER_WAIT_PEER:
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
