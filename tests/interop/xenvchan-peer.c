/*
 * xenvchan-peer: one end of a vchan built on Debian's unmodified
 * libxenvchan, the reference every interop test measures against.
 *
 * It sends --send bytes of pattern stream --tx-seed and, at the same time,
 * receives and verifies --expect bytes of stream --rx-seed, so both
 * directions are in flight together and neither side can deadlock on a
 * full ring.  Then it does what --after says, which is how the tests
 * exercise every way a peer can go away.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libxenvchan.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

enum after {
	AFTER_CLOSE,	/* libxenvchan_close(), then exit 0 */
	AFTER_EXIT,	/* exit(0) without closing: the drivers must tidy up */
	AFTER_HANG,	/* wait to be killed */
	AFTER_WAIT_PEER, /* wait until the peer has gone, then close */
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
};

static const char usage[] =
"Usage: xenvchan-peer --server|--client --domid D --path XSPATH [OPTIONS]\n"
"\n"
"One end of a vchan made with libxenvchan, for interop tests.  Streams a\n"
"verifiable byte pattern both ways at once, then leaves as --after says.\n"
"\n"
"  --server            create the vchan, for client domain D\n"
"  --client            connect to the vchan of server domain D\n"
"  --domid D           the peer's domain id\n"
"  --path XSPATH       xenstore path of the vchan\n"
"  --read-size N       server: minimum size of the ring it reads (1024)\n"
"  --write-size N      server: minimum size of the ring it writes (1024)\n"
"  --send N            bytes to send (0)\n"
"  --expect N          bytes to receive and verify (0)\n"
"  --tx-seed S         pattern stream to send (1)\n"
"  --rx-seed S         pattern stream expected (2)\n"
"  --chunk N           bytes per libxenvchan call (4000)\n"
"  --after WHAT        close | exit | hang | wait-peer (close)\n"
"  --timeout S         give up after S seconds (120)\n"
"  --done-file F       create F once the transfer has succeeded\n"
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
		fprintf(stderr, "xenvchan-peer: bad %s '%s'\n", name, arg);
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, role = 0;

	*o = (struct options){
		.domid = -1, .read_size = 1024, .write_size = 1024,
		.tx_seed = 1, .rx_seed = 2, .chunk = 4000,
		.after = AFTER_CLOSE, .timeout_s = 120,
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
				fprintf(stderr, "xenvchan-peer: bad --after '%s'\n", optarg);
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

/* Tell a watching test the transfer is over, so it may now kill us. */
static int mark_done(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || fclose(f) != 0) {
		fprintf(stderr, "xenvchan-peer: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Sleep on the event channel until something happens or @deadline. */
static int wait_event(struct libxenvchan *vc, double deadline)
{
	struct pollfd pfd = { .fd = libxenvchan_fd_for_select(vc), .events = POLLIN };
	double left = deadline - now_s();
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	n = poll(&pfd, 1, left > 0.2 ? 200 : (int)(left * 1000) + 1);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	/* Only consume an event poll() reported: libxenvchan_wait() blocks. */
	if (n > 0 && libxenvchan_wait(vc) < 0)
		return -EIO;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct libxenvchan *vc;
	unsigned char *txbuf, *rxbuf;
	uint64_t sent = 0, received = 0;
	double start, deadline;
	int status = 0, peer_gone = 0;

	parse_options(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	txbuf = malloc(o.chunk);
	rxbuf = malloc(o.chunk);
	if (!txbuf || !rxbuf)
		return 1;

	start = now_s();
	deadline = start + o.timeout_s;
	if (o.server)
		vc = libxenvchan_server_init(NULL, o.domid, o.path,
					     o.read_size, o.write_size);
	else {
		/* libxenvchan's client cannot wait for its server: poll. */
		do {
			vc = libxenvchan_client_init(NULL, o.domid, o.path);
			if (!vc)
				usleep(10000);
		} while (!vc && now_s() < deadline);
	}
	if (!vc) {
		fprintf(stderr, "xenvchan-peer: %s init failed: %s\n",
			o.server ? "server" : "client", strerror(errno));
		return 1;
	}
	vc->blocking = 0;

	/* A libxenvchan server reports 2 until its client connects. */
	while (o.server && libxenvchan_is_open(vc) == 2) {
		if (wait_event(vc, deadline) < 0) {
			fprintf(stderr, "xenvchan-peer: no client connected\n");
			return 1;
		}
	}

	while (sent < o.send || received < o.expect) {
		int progress = 0, n;

		if (received < o.expect) {
			size_t want = o.expect - received < o.chunk ?
				      o.expect - received : o.chunk;

			n = libxenvchan_read(vc, rxbuf, want);
			if (n < 0) {
				fprintf(stderr, "xenvchan-peer: peer went away after %" PRIu64 " of %" PRIu64 " bytes\n",
					received, o.expect);
				status = 1;
				break;
			}
			if (n > 0) {
				size_t bad = xv_pattern_check(o.rx_seed, received, rxbuf, (size_t)n);

				if (bad != (size_t)n) {
					fprintf(stderr, "xenvchan-peer: data mismatch at byte %" PRIu64 "\n",
						received + bad);
					status = 1;
					break;
				}
				received += (uint64_t)n;
				progress = 1;
			}
		}
		if (sent < o.send) {
			size_t want = o.send - sent < o.chunk ? o.send - sent : o.chunk;

			xv_pattern_fill(o.tx_seed, sent, txbuf, want);
			n = libxenvchan_write(vc, txbuf, want);
			if (n < 0) {
				fprintf(stderr, "xenvchan-peer: write failed after %" PRIu64 " bytes: peer closed\n",
					sent);
				status = 1;
				break;
			}
			sent += (uint64_t)n;
			progress |= n > 0;
		}
		if (!progress && wait_event(vc, deadline) < 0) {
			fprintf(stderr, "xenvchan-peer: timed out: sent %" PRIu64 ", received %" PRIu64 "\n",
				sent, received);
			status = 1;
			break;
		}
	}

	if (status == 0 && o.after == AFTER_WAIT_PEER) {
		while (libxenvchan_is_open(vc) == 1) {
			if (wait_event(vc, deadline) < 0) {
				fprintf(stderr, "xenvchan-peer: peer never went away\n");
				status = 1;
				break;
			}
		}
		peer_gone = status == 0;
	}

	/* stderr: a test runner may be reading TAP on our inherited stdout. */
	fprintf(stderr, "xenvchan-peer %s: sent %" PRIu64 " received %" PRIu64 " verified%s in %.3f s\n",
		o.server ? "server" : "client", sent, received,
		peer_gone ? ", peer gone" : "", now_s() - start);
	if (status == 0 && o.done_file && mark_done(o.done_file) < 0)
		status = 1;

	switch (o.after) {
	case AFTER_EXIT:
		_exit(status);
	case AFTER_HANG:
		for (;;)
			pause();
	case AFTER_CLOSE:
	case AFTER_WAIT_PEER:
		break;
	}
	libxenvchan_close(vc);
	free(txbuf);
	free(rxbuf);
	return status;
}
