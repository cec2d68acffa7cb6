/* The interop peers' shared command line: see peer-cli.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peer-cli.h"

static void usage(FILE *out, const struct xv_peer_program *prog)
{
	fprintf(out,
"Usage: %s --server|--client --domid D --path XSPATH [OPTIONS]\n"
"\n"
"One end of a vchan made with %s, for interop tests; xenvchan-peer and\n"
"xvchan-peer take the same command line.  Streams a verifiable byte\n"
"pattern both ways at once, then leaves as --after says.\n"
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
"  --chunk N           bytes per library call (4000)\n"
"  --after WHAT        close | exit | hang | wait-peer (close)\n"
"  --timeout S         give up after S seconds (120)\n"
"  --done-file F       create F once the transfer has succeeded\n",
		prog->name, prog->library);
	if (prog->xvchan_options)
		fputs(
"  --threads           blocking mode, one reader and one writer thread\n"
"                      (default: non-blocking, one poll loop)\n"
"  --spin-us N         spin budget before sleeping (library default)\n", out);
	if (prog->packet_option)
		fputs(
"  --packets           send each chunk whole or not at once, as\n"
"                      libxenvchan_send() does: wait until the ring has\n"
"                      room for all of it (default: libxenvchan_write(),\n"
"                      whatever fits)\n", out);
	fputs(
"\n"
"Prints one line of results on stderr.  Exit status: 0 on success, 1 on a\n"
"verification failure, a timeout or a vchan error, 2 on bad usage.\n", out);
}

static uint64_t parse_u64(const struct xv_peer_program *prog, const char *arg,
			  const char *name)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-') {
		fprintf(stderr, "%s: bad %s '%s'\n", prog->name, name, arg);
		exit(2);
	}
	return v;
}

static enum xv_peer_after parse_after(const struct xv_peer_program *prog,
				      const char *arg)
{
	static const char *const names[] = {
		[XV_PEER_AFTER_CLOSE] = "close",
		[XV_PEER_AFTER_EXIT] = "exit",
		[XV_PEER_AFTER_HANG] = "hang",
		[XV_PEER_AFTER_WAIT_PEER] = "wait-peer",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(arg, names[i]))
			return (enum xv_peer_after)i;
	fprintf(stderr, "%s: bad --after '%s'\n", prog->name, arg);
	exit(2);
}

void xv_peer_parse(int argc, char **argv, const struct xv_peer_program *prog,
		   struct xv_peer_options *o)
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
		/* xvchan-peer only, from here on. */
		{ "threads", no_argument, NULL, 'm' },
		{ "spin-us", required_argument, NULL, 'u' },
		/* xenvchan-peer only. */
		{ "packets", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int c, role = 0;

	*o = (struct xv_peer_options){
		.domid = -1, .read_size = 1024, .write_size = 1024,
		.tx_seed = 1, .rx_seed = 2, .chunk = 4000,
		.after = XV_PEER_AFTER_CLOSE, .timeout_s = 120, .spin_us = -1,
	};
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->server = 1; role++; break;
		case 'c': o->server = 0; role++; break;
		case 'd': o->domid = (int)parse_u64(prog, optarg, "domid"); break;
		case 'p': o->path = optarg; break;
		case 'r': o->read_size = parse_u64(prog, optarg, "read size"); break;
		case 'w': o->write_size = parse_u64(prog, optarg, "write size"); break;
		case 'S': o->send = parse_u64(prog, optarg, "byte count"); break;
		case 'E': o->expect = parse_u64(prog, optarg, "byte count"); break;
		case 'T': o->tx_seed = parse_u64(prog, optarg, "seed"); break;
		case 'R': o->rx_seed = parse_u64(prog, optarg, "seed"); break;
		case 'k': o->chunk = parse_u64(prog, optarg, "chunk"); break;
		case 't': o->timeout_s = (int)parse_u64(prog, optarg, "timeout"); break;
		case 'D': o->done_file = optarg; break;
		case 'a': o->after = parse_after(prog, optarg); break;
		case 'm':
		case 'u':
			if (!prog->xvchan_options)
				goto bad_usage;
			if (c == 'm')
				o->threads = 1;
			else
				o->spin_us = (int)parse_u64(prog, optarg, "spin budget");
			break;
		case 'P':
			if (!prog->packet_option)
				goto bad_usage;
			o->packets = 1;
			break;
		case 'h':
			usage(stdout, prog);
			exit(0);
		default:
			goto bad_usage;
		}
	}
	if (role == 1 && o->domid >= 0 && o->path && optind == argc &&
	    o->chunk != 0 && o->chunk <= (1u << 24))
		return;
bad_usage:
	usage(stderr, prog);
	exit(2);
}

double xv_peer_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int xv_peer_mark_done(const struct xv_peer_program *prog, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || fclose(f) != 0) {
		fprintf(stderr, "%s: cannot create %s: %s\n", prog->name, path,
			strerror(errno));
		return -1;
	}
	return 0;
}
