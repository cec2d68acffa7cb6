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
#include "peer-cli.h"

static const struct xv_peer_program program = {
	.name = "xenvchan-peer", .library = "libxenvchan", .xvchan_options = 0,
	.packet_option = 1,
};

/* Sleep on the event channel until something happens or @deadline. */
static int wait_event(struct libxenvchan *vc, double deadline)
{
	struct pollfd pfd = { .fd = libxenvchan_fd_for_select(vc), .events = POLLIN };
	double left = deadline - xv_peer_now_s();
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
	struct xv_peer_options o;
	struct libxenvchan *vc;
	unsigned char *txbuf, *rxbuf;
	uint64_t sent = 0, received = 0;
	double start, deadline;
	int status = 0, peer_gone = 0;

	xv_peer_parse(argc, argv, &program, &o);
	signal(SIGPIPE, SIG_IGN);
	txbuf = malloc(o.chunk);
	rxbuf = malloc(o.chunk);
	if (!txbuf || !rxbuf)
		return 1;

	start = xv_peer_now_s();
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
		} while (!vc && xv_peer_now_s() < deadline);
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
			/* A packet goes whole or not at all (0): libxenvchan
			 * then asks to be woken once the reader frees room. */
			n = o.packets ? libxenvchan_send(vc, txbuf, want) :
					libxenvchan_write(vc, txbuf, want);
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

	if (status == 0 && o.after == XV_PEER_AFTER_WAIT_PEER) {
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
		peer_gone ? ", peer gone" : "", xv_peer_now_s() - start);
	if (status == 0 && o.done_file && xv_peer_mark_done(&program, o.done_file) < 0)
		status = 1;

	switch (o.after) {
	case XV_PEER_AFTER_EXIT:
		_exit(status);
	case XV_PEER_AFTER_HANG:
		for (;;)
			pause();
	case XV_PEER_AFTER_CLOSE:
	case XV_PEER_AFTER_WAIT_PEER:
		break;
	}
	libxenvchan_close(vc);
	free(txbuf);
	free(rxbuf);
	return status;
}
