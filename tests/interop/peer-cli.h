/*
 * The command line both interop peer programs share (xenvchan-peer on
 * Debian's libxenvchan, xvchan-peer on xvchan), so that a test can put
 * either library at either end with the same arguments.
 */
#ifndef XV_PEER_CLI_H
#define XV_PEER_CLI_H

#include <stddef.h>
#include <stdint.h>

/* What a peer does once its transfer is over (--after). */
enum xv_peer_after {
	XV_PEER_AFTER_CLOSE,	 /* close the vchan, then exit */
	XV_PEER_AFTER_EXIT,	 /* exit without closing: the drivers tidy up */
	XV_PEER_AFTER_HANG,	 /* wait to be killed */
	XV_PEER_AFTER_WAIT_PEER, /* wait until the peer has gone, then close */
};

struct xv_peer_options {
	int server;
	int domid;
	const char *path;
	size_t read_size, write_size;
	uint64_t send, expect;
	uint64_t tx_seed, rx_seed;
	size_t chunk;
	enum xv_peer_after after;
	int timeout_s;
	const char *done_file;
	int threads;	/* xvchan-peer only: blocking, two threads */
	int spin_us;	/* xvchan-peer only: -1 for the library default */
	int packets;	/* xenvchan-peer only: whole chunks (libxenvchan_send) */
};

/* Who is parsing: its name for messages, the library it is built on, and
 * whether it takes xvchan-peer's two extra options or xenvchan-peer's
 * --packets. */
struct xv_peer_program {
	const char *name;
	const char *library;
	int xvchan_options;
	int packet_option;
};

/* Parse argv into *o; prints usage and exits 0 for --help, 2 on bad usage. */
void xv_peer_parse(int argc, char **argv, const struct xv_peer_program *prog,
		   struct xv_peer_options *o);

/* CLOCK_MONOTONIC in seconds. */
double xv_peer_now_s(void);

/* Create @path so a watching test knows the transfer is over; 0 or -1
 * after a message on stderr. */
int xv_peer_mark_done(const struct xv_peer_program *prog, const char *path);

#endif
