/*
 * xvchan-cat: netcat for vchan.  stdin goes to the vchan and the vchan to
 * stdout, both at once: one thread per direction on a blocking endpoint
 * (the API allows one reader and one writer), and the main thread decides
 * when the program is over.  The stopping signals are blocked in every
 * thread and read through a signalfd, the endpoint's cancel_fd: a signal
 * ends every wait, and the program closes the vchan before it dies of it.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <xvchan.h>

#include "common.h"
#include "xs.h"

/* Bytes moved per read(2) from stdin and per xvchan_read(). */
#define CHUNK 65536
/*
 * Once the peer has stopped writing (end of stream) while stdin is still
 * open, the only way to learn that it has also gone away is a write; the
 * main thread then tries an empty one this often, so a peer that closed
 * ends the program even if stdin never delivers another byte.
 */
#define PEER_PROBE_MS 200
/* At the end, how long to wait for a thread still inside the library
 * before leaving without xvchan_close() (which must not run concurrently
 * with it). */
#define END_WAIT_MS 2000
/* While the reader copies, the main thread looks for a stopping signal
 * this often: neither copying thread may be able to. */
#define SIGNAL_LOOK_MS 100
/* relay()'s status when a stopping signal ended it: die of the signal. */
#define SIGNALLED (-1)

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
"    (even if standard input is still open). A failure (e.g. standard\n"
"    output's reader gone, as with | head) ends the connection at once,\n"
"    without taking in what the peer still sends: the peer's writes\n"
"    then fail, and it exits 1 too.\n"
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
"        the client waiting for the server to publish, the server for\n"
"        a client to connect. MS is 0 to 2147483647 (about 24 days);\n"
"        0 gives up unless the peer is there already. Default: wait\n"
"        forever.\n"
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
"        names the cause), or data could not be delivered, or standard\n"
"        input, output or error was closed when the program started\n"
"        (see NOTES).\n"
"    2   bad command line.\n"
"    On SIGINT, SIGTERM or SIGHUP it dies of that signal, after the\n"
"    close (see NOTES), so a shell sees it as stopped by the signal.\n"
"\n"
"NOTES\n"
"    Standard input, output and error must be open, if only on\n"
"    /dev/null: xvchan-cat refuses to start otherwise, before it talks\n"
"    to xenstore: a descriptor it opens (its xenstore connection) would\n"
"    take the closed one's number, and the data meant for the stream\n"
"    would go there instead.\n"
"\n"
"    SIGINT (Ctrl-C), SIGTERM and SIGHUP stop xvchan-cat cleanly,\n"
"    whatever it waits for (a client, its server, data, room in the\n"
"    ring): it closes the vchan without waiting for the peer (what it\n"
"    wrote stays readable, then the peer sees the end), a server (-l)\n"
"    removes its xenstore entry, and then it dies of the signal. If\n"
"    standard output takes no data for 2 seconds at that moment, what\n"
"    it last read from the vchan is lost, and it closes all the same.\n"
"    One of them that is ignored when xvchan-cat starts (nohup, a\n"
"    background job of a script) stays ignored.\n"
"\n"
"    Any other fatal signal (SIGKILL, SIGQUIT, ...) ends it at once,\n"
"    without the close. The peer then sees the vchan closed, as after a\n"
"    crash, but a server (-l) leaves its xenstore entry behind, and the\n"
"    next server on the same PORT fails with \"already published\"\n"
"    until the entry is removed, e.g. as the server's domain:\n"
"        xenstore-rm data/vchan/DOMID/PORT\n"
"    (with --path: xenstore-rm XSPATH).\n"
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

static int usage_hint(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n",
		xv_tool_name());
	return XV_TOOL_EXIT_USAGE;
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* One line naming what is wrong with the command line, then the hint. */
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", xv_tool_name());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
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
			if (rc == -ERANGE)
				return usage_error("--connect-timeout: '%s' is "
						   "out of range (0 to %d)",
						   optarg, INT_MAX);
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

/* What the two copying threads and the main thread share. */
struct relay {
	struct xvchan *x;
	pthread_mutex_t lock;	/* guards the flags below */
	pthread_cond_t changed;	/* a flag below changed */
	/* Each direction's end: done, failed, or stopped by a signal. */
	bool rx_done, rx_failed, rx_stopped;	/* vchan -> stdout */
	bool tx_done, tx_failed, tx_stopped;	/* stdin -> vchan */
	int sigfd;		/* the signalfd: the endpoint's cancel_fd */
	/*
	 * Held by the writer thread around each xvchan_write() and
	 * xvchan_shutdown(), and by the main thread to probe the peer and
	 * to close: two writers at once, or a call concurrent with
	 * xvchan_close(), are not allowed.
	 */
	pthread_mutex_t writer;
	bool closing;		/* under @writer: no more library calls */
	/*
	 * Held by the reader thread around each xvchan_read(), never
	 * around its write(2) to stdout, and by the main thread to close:
	 * a reader stuck on a stdout that takes nothing cannot keep the
	 * vchan from being closed.
	 */
	pthread_mutex_t reader;
	bool rx_closing;	/* under @reader: no more library calls */
};

/* A stopping signal waits in the signalfd (it stays there until
 * die_of_signal() takes it). */
static bool stop_pending(const struct relay *r)
{
	struct pollfd sig = { .fd = r->sigfd, .events = POLLIN };

	return poll(&sig, 1, 0) > 0;
}

static void relay_set(struct relay *r, bool *flag)
{
	pthread_mutex_lock(&r->lock);
	*flag = true;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

static void *rx_thread(void *arg)
{
	struct relay *r = arg;
	static char buf[CHUNK];

	for (;;) {
		ssize_t n, off = 0;

		/* A peer that never lets the ring empty never lets the read
		 * sleep, where cancel_fd is looked at. */
		if (stop_pending(r)) {
			relay_set(r, &r->rx_stopped);
			return NULL;
		}
		pthread_mutex_lock(&r->reader);
		if (r->rx_closing) {
			pthread_mutex_unlock(&r->reader);
			return NULL;
		}
		n = xvchan_read(r->x, buf, sizeof(buf));
		pthread_mutex_unlock(&r->reader);

		if (n == 0) {
			/* Readers downstream see the end at once. */
			close(STDOUT_FILENO);
			relay_set(r, &r->rx_done);
			return NULL;
		}
		if (n == -ECANCELED) {
			relay_set(r, &r->rx_stopped);
			return NULL;
		}
		if (n < 0) {
			vchan_fail("read from vchan", (int)n);
			relay_set(r, &r->rx_failed);
			return NULL;
		}
		while (off < n) {
			ssize_t w = write(STDOUT_FILENO, buf + off,
					  (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				xv_tool_err("stdout: %s", strerror(errno));
				relay_set(r, &r->rx_failed);
				return NULL;
			}
			off += w;
		}
	}
}

/*
 * stdin is read only under @writer, after poll(2) says it is readable:
 * bytes taken from stdin are then always on their way into the vchan, or
 * their failure is reported, never held where the main thread's probe
 * cannot see them.  A stopping signal ends the wait for stdin as it ends
 * the library's waits.
 */
static void *tx_thread(void *arg)
{
	struct relay *r = arg;
	static char buf[CHUNK];

	for (;;) {
		struct pollfd in[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = r->sigfd, .events = POLLIN },
		};
		ssize_t n, w = 0;
		int read_err;

		if (poll(in, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			xv_tool_err("stdin: %s", strerror(errno));
			relay_set(r, &r->tx_failed);
			return NULL;
		}
		if (in[1].revents) {
			relay_set(r, &r->tx_stopped);
			return NULL;
		}
		pthread_mutex_lock(&r->writer);
		if (r->closing) {
			pthread_mutex_unlock(&r->writer);
			return NULL;
		}
		n = read(STDIN_FILENO, buf, sizeof(buf));
		read_err = n < 0 ? errno : 0;
		if (n == 0)
			xvchan_shutdown(r->x);
		else if (n > 0)
			w = xvchan_write(r->x, buf, (size_t)n);
		pthread_mutex_unlock(&r->writer);
		if (read_err == EINTR)
			continue;
		if (read_err) {
			xv_tool_err("stdin: %s", strerror(read_err));
			relay_set(r, &r->tx_failed);
			return NULL;
		}
		if (n == 0) {
			relay_set(r, &r->tx_done);
			return NULL;
		}
		if (w == -ECANCELED) {
			relay_set(r, &r->tx_stopped);
			return NULL;
		}
		if (w < 0) {
			vchan_fail("write to vchan", (int)w);
			relay_set(r, &r->tx_failed);
			return NULL;
		}
	}
}

/*
 * The peer stopped writing; has it also gone, with nothing left for us to
 * send?  Only while the writer thread waits for stdin: one busy in
 * xvchan_write() finds out by itself, and stdin that has bytes (or its
 * end) is the writer thread's to deliver or to fail on.  Once gone, the
 * writer thread takes nothing more from stdin.
 */
static bool peer_gone(struct relay *r)
{
	struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
	bool gone = false;

	if (pthread_mutex_trylock(&r->writer) != 0)
		return false;
	if (poll(&in, 1, 0) == 0 && xvchan_write(r->x, "", 0) == -EPIPE) {
		r->closing = true;
		gone = true;
	}
	pthread_mutex_unlock(&r->writer);
	return gone;
}

/* The reader thread has returned, or will without another library call.
 * Called with @lock held. */
static bool reader_ended(const struct relay *r)
{
	return r->rx_done || r->rx_failed || r->rx_stopped;
}

static struct timespec in_ms(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/*
 * Wait until both directions are done, either fails, a stopping signal
 * came, or the peer is gone after its end of stream.  Returns the exit
 * status or SIGNALLED; *give_up is when the close must give up on a thread
 * still inside the library (END_WAIT_MS after the end was seen).
 */
static int relay_wait(struct relay *r, struct timespec *give_up)
{
	struct timespec until;
	int status;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		if (r->rx_stopped || r->tx_stopped) {
			status = SIGNALLED;
			break;
		}
		if (r->rx_failed || r->tx_failed) {
			status = XV_TOOL_EXIT_FAIL;
			break;
		}
		if (r->rx_done && r->tx_done) {
			status = 0;
			break;
		}
		if (!r->rx_done) {
			/* The threads may never look at the signalfd again: a
			 * writer done with stdin, a reader inside write(2). */
			if (stop_pending(r)) {
				status = SIGNALLED;
				break;
			}
			until = in_ms(SIGNAL_LOOK_MS);
			pthread_cond_timedwait(&r->changed, &r->lock, &until);
			continue;
		}
		until = in_ms(PEER_PROBE_MS);
		if (pthread_cond_timedwait(&r->changed, &r->lock,
					   &until) != ETIMEDOUT)
			continue;
		pthread_mutex_unlock(&r->lock);
		if (peer_gone(r)) {
			*give_up = in_ms(END_WAIT_MS);
			return 0;
		}
		pthread_mutex_lock(&r->lock);
	}
	/* A failed writer means a broken connection (or stdin), which ends
	 * the reader soon too; a failed reader leaves the writer to finish
	 * its call; a signal ends the waits of both, but the reader may be
	 * writing to stdout what it read last.  Either way give the reader
	 * a little time to finish (the close takes its lock, and that of
	 * the writer, whichever thread is still running). */
	*give_up = in_ms(END_WAIT_MS);
	while (!reader_ended(r) &&
	       pthread_cond_timedwait(&r->changed, &r->lock, give_up) == 0)
		;
	pthread_mutex_unlock(&r->lock);
	return status;
}

/* Everything after connecting.  Returns the exit status, or SIGNALLED. */
static int relay(struct xvchan *x, int sigfd)
{
	static struct relay r = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.changed = PTHREAD_COND_INITIALIZER,
		.writer = PTHREAD_MUTEX_INITIALIZER,
		.reader = PTHREAD_MUTEX_INITIALIZER,
	};
	pthread_t rx, tx;
	struct timespec until;
	int status, rc;

	r.x = x;
	r.sigfd = sigfd;
	if (pthread_create(&rx, NULL, rx_thread, &r) != 0 ||
	    pthread_create(&tx, NULL, tx_thread, &r) != 0) {
		xv_tool_err("cannot start threads");
		/* The threads may already run: leave without closing. */
		_exit(XV_TOOL_EXIT_FAIL);
	}
	/* Neither is ever joined (the flags say when each is done, and the
	 * writer may sit in poll(2) on stdin until the process ends):
	 * detached, their ends free what they hold. */
	pthread_detach(rx);
	pthread_detach(tx);
	status = relay_wait(&r, &until);
	/*
	 * Neither thread is joined: the writer may sit in poll(2) on stdin
	 * for ever, the reader in write(2) to a stdout that takes nothing.
	 * Closing takes both locks, which keeps them out of the library
	 * from then on.  A thread still inside the library after
	 * END_WAIT_MS (a reader whose peer stays silent after our writer
	 * failed) is left there, and so is the vchan, unclosed.
	 */
	if (pthread_mutex_timedlock(&r.reader, &until) != 0)
		return status;
	r.rx_closing = true;
	if (pthread_mutex_timedlock(&r.writer, &until) != 0) {
		pthread_mutex_unlock(&r.reader);
		return status;
	}
	r.closing = true;
	/* After a signal the close does not wait for the peer: it says
	 * so with -ECANCELED, which is no failure here. */
	rc = xvchan_close(x);
	pthread_mutex_unlock(&r.writer);
	pthread_mutex_unlock(&r.reader);
	if (rc < 0 && status == 0)
		status = vchan_fail("close", rc);
	return status;
}

/* The signals that stop xvchan-cat cleanly (usage_text, NOTES). */
static void stopping_signals(sigset_t *set)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	size_t i;

	sigemptyset(set);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		/* A blocked signal is queued even if ignored (nohup, a
		 * background job of sh): leave an ignored one alone. */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaddset(set, sigs[i]);
	}
}

/*
 * Blocked in every thread (so before the first one starts), they queue up
 * in a signalfd instead: the endpoint's cancel_fd, which ends every wait
 * of the library while one is pending, and which the writer thread polls
 * beside stdin.  Returns the descriptor, or -1 after saying why.
 */
static int stopping_signals_fd(void)
{
	sigset_t set;
	int fd;

	stopping_signals(&set);
	errno = pthread_sigmask(SIG_BLOCK, &set, NULL);
	fd = errno ? -1 : signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		xv_tool_err("cannot take signals: %s", strerror(errno));
	return fd;
}

/* Die of the pending stopping signal, as if it had never been caught:
 * its default action ends the process (all three terminate). */
static void die_of_signal(int sigfd)
{
	struct signalfd_siginfo si;
	sigset_t set;
	int sig = SIGTERM;

	if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		sig = (int)si.ssi_signo;
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	raise(sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* Not reached; if it were, say it the shell's way. */
	_exit(128 + sig);
}

/*
 * Descriptors 0-2 must be open: the library's first descriptor takes the
 * lowest free number, and as stdout the xenstore socket would receive the
 * peer's bytes as requests from this domain (whatever the peer chose to
 * write there), as stdin it would have its replies sent to the peer.
 * Returns 0, or the exit status after saying which stream is closed.
 */
static int stdio_check(void)
{
	static const char *const names[] = {
		"standard input", "standard output", "standard error",
	};
	int fd;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (fd != STDERR_FILENO)
			xv_tool_err("%s is closed (open it on /dev/null if "
				    "unused)", names[fd]);
		return XV_TOOL_EXIT_FAIL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct xvchan_config cfg;
	struct options o;
	struct xvchan *x;
	int rc, sigfd;

	xv_tool_set_name(argv[0]);
	rc = stdio_check();
	if (rc)
		return rc;
	rc = parse_args(argc, argv, &o);
	if (rc == -1) {
		fputs(usage_text, stdout);
		return fflush(stdout) == 0 ? 0 : XV_TOOL_EXIT_FAIL;
	}
	if (rc)
		return rc;
	/* A reader of stdout that went away is reported, not fatal. */
	signal(SIGPIPE, SIG_IGN);
	sigfd = stopping_signals_fd();
	if (sigfd < 0)
		return XV_TOOL_EXIT_FAIL;

	xvchan_config_init(&cfg);
	cfg.connect_timeout_ms = o.connect_timeout_ms;
	/*
	 * Close must not drain: after a failure (stdout gone) that would
	 * take in and drop the peer's data for seconds, and a sender whose
	 * data then fits into that time would see a clean end and exit 0.
	 * Closing at once makes its writes fail instead.  A success needs
	 * no wait either: the peer has then shut down or gone, and what we
	 * wrote stays in the ring for it to read.
	 */
	cfg.close_timeout_ms = 0;
	cfg.path = o.path;
	cfg.cancel_fd = sigfd;
	if (o.listen)
		rc = xvchan_server(&x, o.domid, o.port, o.read_size,
				   o.write_size, &cfg);
	else
		rc = xvchan_client(&x, o.domid, o.port, &cfg);
	if (rc == -EADDRINUSE) {
		/* A server killed before it could close leaves its keys. */
		xv_tool_err("cannot serve: %s (another server, or one that "
			    "died: remove its entry with xenstore-rm)",
			    xvchan_strerror(rc));
		return XV_TOOL_EXIT_FAIL;
	}
	if (rc == -ECANCELED)
		die_of_signal(sigfd);
	if (rc < 0)
		return vchan_fail(o.listen ? "cannot serve" : "cannot connect",
				  rc);
	/* Leaving main ends the writer thread too, even if it still sits
	 * in poll(2) on stdin. */
	rc = relay(x, sigfd);
	if (rc == SIGNALLED)
		die_of_signal(sigfd);
	return rc;
}
