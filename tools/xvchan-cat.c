/*
 * xvchan-cat: netcat for vchan.  stdin goes to the vchan and the vchan to
 * stdout, both at once, from one poll loop over stdin, stdout and the
 * endpoint's descriptor (the endpoint is non-blocking).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xvchan.h>

#include "common.h"
#include "xs.h"

/* Bytes moved per read(2) from stdin and per xvchan_read(). */
#define CHUNK 65536
/*
 * Largest write(2) to stdout after POLLOUT: a pipe reports POLLOUT with one
 * free page, and a write of at most PIPE_BUF then cannot block.  stdin and
 * stdout stay in blocking mode because their open file descriptions are
 * often shared with the shell; O_NONBLOCK would leak to it.
 */
#define OUT_STEP PIPE_BUF
/*
 * Once the peer has stopped writing (EOF) while stdin is still open, the
 * only way to learn that it has also gone away is a write; the loop then
 * tries an empty one this often, so a peer that closed ends the program
 * even if stdin never delivers another byte.
 */
#define PEER_PROBE_MS 200

static const char usage_text[] =
"NAME\n"
"    xvchan-cat - concatenate stdin/stdout with a Xen vchan\n"
"\n"
"SYNOPSIS\n"
"    xvchan-cat -l [--read-size N] [--write-size N] [--path XSPATH]\n"
"               [--connect-timeout MS] DOMID [PORT]\n"
"    xvchan-cat [--path XSPATH] [--connect-timeout MS] DOMID [PORT]\n"
"    xvchan-cat --help\n"
"\n"
"DESCRIPTION\n"
"    xvchan-cat is netcat for vchan, the byte stream between two Xen\n"
"    domains over shared memory. It copies its standard input to the\n"
"    vchan and the vchan to its standard output, in both directions at\n"
"    once. The other end may be xvchan-cat, any xvchan program, Xen's\n"
"    libxenvchan (e.g. vchan-socket-proxy) or a MirageOS unikernel.\n"
"\n"
"    With -l it is the server for client domain DOMID: it shares the\n"
"    rings and publishes them in xenstore, then waits for the client.\n"
"    Without -l it is the client of the server domain DOMID: it waits\n"
"    until that server has published, then connects.\n"
"\n"
"    The rendezvous is the xenstore directory\n"
"        /local/domain/<server domid>/data/vchan/<client domid>/<PORT>\n"
"    (the MirageOS convention), or XSPATH given with --path (as\n"
"    libxenvchan programs use). PORT matches [a-zA-Z0-9_-]+.\n"
"\n"
"    End of standard input half-closes the vchan: the peer reads\n"
"    everything sent, then end of stream, and can still answer. Against\n"
"    a peer without xvchan's half-close extension (libxenvchan,\n"
"    ocaml-vchan) this closes the connection after the data. End of\n"
"    stream from the vchan closes standard output at once. The program\n"
"    ends when both directions are done, or when the peer has closed\n"
"    (even if standard input is still open).\n"
"\n"
"OPTIONS\n"
"    -l, --listen\n"
"        Be the server; DOMID is the client's domain.\n"
"    -r, --read-size N\n"
"        Server only: bytes in the ring the client writes (default\n"
"        64K). N is decimal with an optional suffix K (1024) or\n"
"        M (1048576); 1 to 1M, rounded up to a power of two, at least 1K.\n"
"    -w, --write-size N\n"
"        Server only: bytes in the ring this side writes (default 64K).\n"
"    -p, --path XSPATH\n"
"        Use this xenstore directory instead of the MirageOS path; PORT\n"
"        is then not given. Relative paths are under this domain's\n"
"        /local/domain/<own domid>.\n"
"    -t, --connect-timeout MS\n"
"        Give up if the peer has not appeared within MS milliseconds:\n"
"        the client waiting for the server to publish. Default: wait\n"
"        forever. (The server returns as soon as it has published.)\n"
"    -h, --help\n"
"        Print this text and exit.\n"
"\n"
"    DOMID is a decimal domain id, 0 to 32751.\n"
"\n"
"EXIT STATUS\n"
"    0   both directions finished: standard input reached its end and\n"
"        the peer ended its stream, or the peer closed while nothing\n"
"        from standard input was left unsent.\n"
"    1   the vchan could not be set up or failed (a message on stderr\n"
"        names the cause), or data could not be delivered.\n"
"    2   bad command line.\n"
"\n"
"EXAMPLES\n"
"    Serve a file to domain 2 on port \"files\", from domain 1:\n"
"        xvchan-cat -l 2 files < big.iso\n"
"    Receive it in domain 2:\n"
"        xvchan-cat 1 files > big.iso < /dev/null\n"
"    Talk to a libxenvchan server that published at a fixed path:\n"
"        xvchan-cat --path /local/domain/1/data/vchan-test 1\n"
"\n"
"    On a host without Xen, run both ends on the xvchan simulator:\n"
"        xvchan-sim start\n"
"        xvchan-sim exec --domid 1 -- xvchan-cat -l 2 myport &\n"
"        echo hello | xvchan-sim exec --domid 2 -- xvchan-cat 1 myport\n";

struct options {
	bool listen;
	unsigned int domid;
	const char *port;
	const char *path;
	size_t read_size;
	size_t write_size;
	int connect_timeout_ms;
};

/* A byte buffer between a source and a sink. */
struct pipe_buf {
	char data[CHUNK];
	size_t off;
	size_t len;
};

static int usage_hint(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n",
		xv_tool_name());
	return XV_TOOL_EXIT_USAGE;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", xv_tool_name());
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return usage_hint();
}

static int parse_size_opt(const char *name, const char *arg, size_t *out)
{
	int rc = xv_tool_parse_size(arg, 1, XVCHAN_RING_MAX, out);

	if (rc == -ERANGE)
		return usage_error("%s: out of range (1 to 1M)", name);
	if (rc < 0)
		return usage_error("%s: not a size (e.g. 4096, 64K, 1M)", name);
	return 0;
}

/* Returns 0, or the exit status for a bad command line (-1 for --help). */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "listen", no_argument, NULL, 'l' },
		{ "read-size", required_argument, NULL, 'r' },
		{ "write-size", required_argument, NULL, 'w' },
		{ "path", required_argument, NULL, 'p' },
		{ "connect-timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool sizes_given = false;
	unsigned long ms;
	int c, rc;

	*o = (struct options){
		.read_size = XVCHAN_DEFAULT_RING_SIZE,
		.write_size = XVCHAN_DEFAULT_RING_SIZE,
		.connect_timeout_ms = -1,
	};
	while ((c = getopt_long(argc, argv, "+lr:w:p:t:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = true;
			break;
		case 'r':
			rc = parse_size_opt("--read-size", optarg,
					    &o->read_size);
			if (rc)
				return rc;
			sizes_given = true;
			break;
		case 'w':
			rc = parse_size_opt("--write-size", optarg,
					    &o->write_size);
			if (rc)
				return rc;
			sizes_given = true;
			break;
		case 'p':
			if (xv_xs_path_check(optarg) < 0)
				return usage_error("--path: '%s' is not a "
						   "valid xenstore path", optarg);
			o->path = optarg;
			break;
		case 't':
			rc = xv_tool_parse_uint(optarg, INT_MAX, &ms);
			if (rc < 0)
				return usage_error("--connect-timeout: '%s' is "
						   "not a number of "
						   "milliseconds", optarg);
			o->connect_timeout_ms = (int)ms;
			break;
		case 'h':
			return -1;
		default:
			/* getopt has said what was wrong. */
			return usage_hint();
		}
	}
	if (sizes_given && !o->listen)
		return usage_error("%s", "--read-size and --write-size need "
				   "-l: the server chooses the ring sizes");
	if (optind >= argc)
		return usage_error("%s", "missing DOMID");
	rc = xv_tool_parse_domid(argv[optind], &o->domid);
	if (rc == -ERANGE)
		return usage_error("domain id '%s' out of range (0 to 32751)",
				   argv[optind]);
	if (rc < 0)
		return usage_error("domain id '%s' is not a decimal number",
				   argv[optind]);
	optind++;
	if (o->path) {
		if (optind < argc)
			return usage_error("unexpected '%s': --path replaces "
					   "PORT", argv[optind]);
		return 0;
	}
	if (optind >= argc)
		return usage_error("%s", "missing PORT (or --path)");
	if (xv_xs_port_check(argv[optind]) < 0)
		return usage_error("port '%s' must match [a-zA-Z0-9_-]+ "
				   "(at most 2012 characters)", argv[optind]);
	o->port = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

static int vchan_fail(const char *what, int err)
{
	xv_tool_err("%s: %s", what, xvchan_strerror(err));
	return XV_TOOL_EXIT_FAIL;
}

/*
 * Everything after connecting.  Each turn first makes all the progress it
 * can (a non-blocking xvchan call that returns -EAGAIN arms the endpoint's
 * descriptor, see xvchan_fd()), then sleeps in poll() on what it waits for.
 */
static int relay(struct xvchan *x)
{
	static struct pipe_buf in, out;	/* stdin -> vchan, vchan -> stdout */
	bool in_eof = false, shut = false, vchan_eof = false;

	for (;;) {
		struct pollfd fds[3];
		nfds_t n = 0;
		int stdin_i = -1, stdout_i = -1, timeout = -1;
		bool want_vchan = false;
		ssize_t r;

		if (in.len > 0) {
			r = xvchan_write(x, in.data + in.off, in.len);
			if (r > 0) {
				in.off += (size_t)r;
				in.len -= (size_t)r;
				continue;
			}
			if (r != -EAGAIN)
				return vchan_fail("write to vchan", (int)r);
			want_vchan = true;
		}
		if (in_eof && in.len == 0 && !shut) {
			xvchan_shutdown(x);
			shut = true;
		}
		if (!vchan_eof && out.len == 0) {
			r = xvchan_read(x, out.data, sizeof(out.data));
			if (r > 0) {
				out.off = 0;
				out.len = (size_t)r;
			} else if (r == 0) {
				vchan_eof = true;
				close(STDOUT_FILENO);
			} else if (r == -EAGAIN) {
				want_vchan = true;
			} else {
				return vchan_fail("read from vchan", (int)r);
			}
		}
		if (shut && vchan_eof)
			return 0;
		if (vchan_eof && !in_eof && in.len == 0) {
			/* Has the peer gone, or only stopped writing? */
			r = xvchan_write(x, in.data, 0);
			if (r == -EPIPE)
				return 0;
			if (r < 0)
				return vchan_fail("write to vchan", (int)r);
			timeout = PEER_PROBE_MS;
		}
		if (!in_eof && in.len == 0) {
			stdin_i = (int)n;
			fds[n++] = (struct pollfd){ .fd = STDIN_FILENO,
						    .events = POLLIN };
		}
		if (out.len > 0) {
			stdout_i = (int)n;
			fds[n++] = (struct pollfd){ .fd = STDOUT_FILENO,
						    .events = POLLOUT };
		}
		if (want_vchan)
			fds[n++] = (struct pollfd){ .fd = xvchan_fd(x),
						    .events = POLLIN };
		if (poll(fds, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			xv_tool_err("poll: %s", strerror(errno));
			return XV_TOOL_EXIT_FAIL;
		}
		if (stdin_i >= 0 && fds[stdin_i].revents) {
			r = read(STDIN_FILENO, in.data, sizeof(in.data));
			if (r < 0 && errno != EINTR && errno != EAGAIN) {
				xv_tool_err("stdin: %s", strerror(errno));
				return XV_TOOL_EXIT_FAIL;
			}
			if (r == 0)
				in_eof = true;
			in.off = 0;
			in.len = r > 0 ? (size_t)r : 0;
		}
		if (stdout_i >= 0 && fds[stdout_i].revents) {
			size_t step = out.len < OUT_STEP ? out.len : OUT_STEP;

			r = write(STDOUT_FILENO, out.data + out.off, step);
			if (r < 0 && errno != EINTR && errno != EAGAIN) {
				xv_tool_err("stdout: %s", strerror(errno));
				return XV_TOOL_EXIT_FAIL;
			}
			if (r > 0) {
				out.off += (size_t)r;
				out.len -= (size_t)r;
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct xvchan_config cfg;
	struct options o;
	struct xvchan *x;
	int rc, status;

	xv_tool_set_name(argv[0]);
	rc = parse_args(argc, argv, &o);
	if (rc == -1) {
		fputs(usage_text, stdout);
		return fflush(stdout) == 0 ? 0 : XV_TOOL_EXIT_FAIL;
	}
	if (rc)
		return rc;
	/* A reader of stdout that went away is reported, not fatal. */
	signal(SIGPIPE, SIG_IGN);

	xvchan_config_init(&cfg);
	cfg.flags = XVCHAN_NONBLOCK;
	cfg.connect_timeout_ms = o.connect_timeout_ms;
	cfg.path = o.path;
	if (o.listen)
		rc = xvchan_server(&x, o.domid, o.port, o.read_size,
				   o.write_size, &cfg);
	else
		rc = xvchan_client(&x, o.domid, o.port, &cfg);
	if (rc < 0)
		return vchan_fail(o.listen ? "cannot serve" : "cannot connect",
				  rc);
	status = relay(x);
	/* Non-blocking close does not wait: what was written stays in the
	 * ring for the peer to read (see xvchan_close()). */
	rc = xvchan_close(x);
	if (rc < 0 && status == 0)
		status = vchan_fail("close", rc);
	return status;
}
