/*
 * xvchan-bench: xvchan, Debian's libxenvchan, a socketpair and a pipe,
 * measured side by side in one run on a private simulator, or with --xen
 * on the real Xen this domain runs on.
 *
 * The parent only orchestrates: for each cell it forks two children, each
 * becoming a simulated domain through `xvchan-sim exec` (or staying a plain
 * process for socketpair and pipe, and for everything with --xen, where
 * the real drivers and xenstored serve both ends), collects their result
 * lines (see
 * bench-child.c) and reaps them with wait4() so that every CPU cycle they
 * burn, spinning included, is counted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>
#include <xvchan.h>

#include "bench.h"
#include "common.h"

static const char usage[] =
"Usage: xvchan-bench [--quick | --smoke | --idle] [OPTIONS]\n"
"\n"
"Measure xvchan against Debian's unmodified libxenvchan (blocking mode),\n"
"a Unix socketpair and a pipe, side by side in the same run, on a private\n"
"simulated Xen host that the benchmark starts and stops itself (with\n"
"--xen: on the real Xen this domain runs on).\n"
"\n"
"Transports:\n"
"  xvchan         this library, default configuration (an adaptive spin\n"
"                 of at most spin_us = 200 us before sleeping on the\n"
"                 event channel; --spin-us changes the ceiling)\n"
"  xvchan-nospin  this library with spin_us = 0 (sleeps at once)\n"
"  libxenvchan    Xen 4.17's libxenvchan, blocking mode (vc->blocking = 1)\n"
"  socketpair     AF_UNIX stream socketpair; SO_SNDBUF and SO_RCVBUF set to\n"
"                 the ring size (the kernel doubles it for bookkeeping)\n"
"  pipe           two pipes (data and the reverse direction), each sized\n"
"                 with F_SETPIPE_SZ to the ring size\n"
"\n"
"Tests (each cell runs every transport, interleaved):\n"
"  stream    one-way throughput, message sizes 64 B, 4 KiB, 64 KiB times\n"
"            ring sizes 4 KiB, 64 KiB, 1 MiB; both rings get the ring\n"
"            size.  Timed from the first byte sent to the last byte\n"
"            received.  An untimed first repetition verifies every byte\n"
"            and sizes the timed ones; while a repetition lasts under a\n"
"            quarter of the target (first touches make the first one\n"
"            slow), up to 4 more untimed ones size them again.\n"
"  pingpong  64-byte round trips on 64 KiB rings; p50 and p99 per\n"
"            repetition; every pong is compared with its ping.  The\n"
"            untimed first repetition and the sizing are as for stream.\n"
"  connect   from the server's start (client already waiting) until\n"
"            both sides are connected.  libxenvchan's client cannot\n"
"            wait by itself: it watches the key its server writes last\n"
"            in xenstore and tries at each event, as it must from\n"
"            another domain.  For socketpair a listening abstract Unix\n"
"            socket, for pipe a FIFO.\n"
"  idle      a reader blocked in read() for --idle-seconds while its\n"
"            peer stays silent: the CPU it uses, spin budget included\n"
"            (one round only; 1 s with --quick, 0.2 s with --smoke).\n"
"\n"
"CPU: each side's CPU time comes from wait4() when it exits, minus what it\n"
"had used when the measured phase began (each side reports that), so\n"
"spinning and any helper threads count.  Stream: CPU seconds of both\n"
"processes per GB (10^9 B) moved; ping-pong: per round trip; connect: per\n"
"connection.\n"
"\n"
"Options:\n"
"  --quick            every cell, 2 rounds of 3 repetitions of 60 ms:\n"
"                     under a minute\n"
"  --smoke            one small cell per test (4 KiB messages and rings,\n"
"                     one repetition): a few seconds, for tests\n"
"  --idle             only the idle test (--idle-seconds each transport);\n"
"                     not with --tests, which can name idle among others\n"
"  --idle-seconds S   how long the idle reader blocks (default 5)\n"
"  --pin              pin the server side to CPU 0, the client side to CPU 1\n"
"  --reps N           timed repetitions per cell and transport, 1..100,\n"
"                     exactly, the first rounds taking one more when N\n"
"                     does not divide evenly (default 9 of 250 ms,\n"
"                     --quick 6, --smoke 1; connect: number of\n"
"                     connections, default 30, --quick 10, --smoke 2;\n"
"                     a default is raised to one per round)\n"
"  --rounds N         split them into N rounds, 1..10, at most --reps\n"
"                     (default 3, --quick 2, --smoke 1, each lowered to\n"
"                     --reps if that is given and smaller): each round\n"
"                     runs every cell on every transport, in a turning\n"
"                     order, each in fresh processes with an untimed,\n"
"                     verified first repetition\n"
"  --msg-size N       stream only this message size (1..1M; K and M\n"
"                     suffixes) instead of the three standard ones\n"
"  --ring-size N      only this ring size (a power of two, 4K..1M) for\n"
"                     every test instead of the standard ones\n"
"  --spin-us N        spin budget of the xvchan transport (default: the\n"
"                     library's); xvchan-nospin keeps 0\n"
"  --transports LIST  comma-separated subset of the transports above\n"
"  --tests LIST       comma-separated subset of stream,pingpong,connect,idle\n"
"                     (default: all four); only these run, also with\n"
"                     --smoke or --quick\n"
"  --json FILE        also write every result as a JSON array to FILE\n"
"  --xen              no simulator: run on the Xen this domain runs on (its\n"
"                     gntalloc, gntdev and evtchn drivers and xenstored),\n"
"                     both ends of every vchan in this domain, whose id\n"
"                     comes from xenstore's \"domid\" (dom0: xen-init-dom0\n"
"                     writes it)\n"
"  --sim PATH         the xvchan-sim executable (default: $XVCHAN_SIM, else\n"
"                     ../sim/xvchan-sim from this executable's directory\n"
"                     (build tree), else xvchan-sim beside it, else $PATH)\n"
"  -h, --help         print this help\n"
"\n"
"Output: the tables on stdout (median and min-max over the repetitions,\n"
"the issue's targets), the progress on stderr.  xv/lx and nospin/lx are\n"
"the ratio of the xvchan median to the libxenvchan median of the same\n"
"cell: above 1 is better for stream (B/s), below 1 for the others\n"
"(seconds).  JSON records: transport, test, msg_size, ring_size (bytes),\n"
"median, min, max (stream: B/s; pingpong: p50 of a repetition, s;\n"
"connect: s; idle: the reader's CPU seconds), p99 (pingpong: median of\n"
"the repetitions' p99; connect: over all connections), unit, cpu_s (CPU\n"
"seconds per GB, per round trip, per connection; idle: per second\n"
"blocked), reps, ok, rounds, round_medians (the median of each round's\n"
"repetitions, same unit), and ratio_vs_libxenvchan,\n"
"rounds_behind_libxenvchan (xvchan and xvchan-nospin: the rounds whose\n"
"median was worse than libxenvchan's in the same round; also shown for\n"
"each cell the targets list as slower), buffer_effective (the\n"
"socketpair's SO_SNDBUF as the kernel reports it), idle_s where they\n"
"apply.\n"
"\n"
"Processes are not pinned to CPUs unless --pin is given (see\n"
"docs/performance.md for why): the scheduler places both sides.\n"
"\n"
"Environment: TMPDIR for the private state directory (the simulator's\n"
"sockets, the pipe test's FIFOs).\n"
"Exit status: 0 if every cell ran, 1 if any failed, 2 on bad usage.\n";

#define MAX_REPS 100
#define MAX_ROUNDS 10
#define NMSG 3
#define NRING 3

static const size_t msg_sizes[NMSG] = { 64, 4096, 65536 };
static const size_t ring_sizes[NRING] = { 4096, 65536, 1048576 };

struct options {
	int quick, smoke, idle, pin, xen;
	int idle_ms;
	int reps, rounds;
	int tests_given, idle_given;
	size_t msg, ring;		/* 0: the standard sizes */
	int spin_us;			/* -1: the library's default */
	unsigned int transports;	/* bit per enum xv_bench_transport */
	unsigned int tests;		/* bit per enum xv_bench_test */
	const char *json;
	const char *sim;
};

/* What the two sides of one job reported. */
struct side {
	int64_t mark;		/* CPU ns when its measured phase began */
	int64_t cpu;		/* CPU ns from wait4() */
	int marked, exited_ok;
	char line[512];
	size_t len;
	int eof;
};

struct raw {
	int64_t t0[MAX_REPS + 1], t1[MAX_REPS + 1];
	uint64_t bytes[MAX_REPS + 1];
	int64_t p50[MAX_REPS + 1], p99[MAX_REPS + 1];
	uint64_t trips[MAX_REPS + 1];
	int64_t start[MAX_REPS + 1], done_srv[MAX_REPS + 1],
		done_cli[MAX_REPS + 1];
	int64_t idle_ns;
	int64_t buf;
	char err[256];
};

/*
 * One cell of one transport: gathered over its rounds, then summed up.
 * Ok only if every round succeeded.
 */
struct result {
	enum xv_bench_transport transport;
	enum xv_bench_test test;
	size_t msg, ring;
	int ok, failed, n;
	double val[2 * MAX_REPS], p99s[2 * MAX_REPS];
	double cpu_ns, units;	/* CPU after the marks; bytes, trips, ... */
	double median, min, max, p99;
	double cpu;
	double ratio;		/* NAN when not computed */
	/* Per round: where its repetitions end in val[], their median. */
	int rounds, round_end[MAX_ROUNDS];
	double round_median[MAX_ROUNDS];
	/* xvchan, xvchan-nospin: rounds in which its median was worse than
	 * libxenvchan's median of the same round; -1 when not compared. */
	int behind;
	int64_t buf;
	double idle_s;
};

static struct result *results;
static size_t nresults;

static char sim_dir[PATH_MAX];
static char sim_path[PATH_MAX];
static char self_path[PATH_MAX];
static int sim_started;
static int pin_cpus;
static int on_xen;
/* The domains of a vchan's two ends. */
static unsigned int srv_dom = XV_BENCH_SERVER_DOMID;
static unsigned int cli_dom = XV_BENCH_CLIENT_DOMID;
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* Run `xvchan-sim <cmd>` to completion, its stdout on our stderr. */
static int sim_cmd(const char *cmd)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execlp(sim_path, sim_path, cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void sim_cleanup(void)
{
	char cmd[PATH_MAX + 32];

	if (sim_started && sim_cmd("stop") != 0)
		xv_tool_err("could not stop the simulator in %s", sim_dir);
	sim_started = 0;
	if (sim_dir[0]) {
		/* Only our mkdtemp() directory: sockets, lock, FIFOs. */
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sim_dir);
		if (system(cmd) != 0)
			xv_tool_err("could not remove %s", sim_dir);
		sim_dir[0] = '\0';
	}
}

static int exe_dir_has(const char *rel, char *out, size_t len)
{
	char exe[PATH_MAX], *slash;

	snprintf(exe, sizeof(exe), "%s", self_path);
	slash = strrchr(exe, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	return snprintf(out, len, "%s/%s", exe, rel) < (int)len &&
	       access(out, X_OK) == 0;
}

/* Like xvchan-sim finding its preload: build tree, then installed. */
static void find_sim(const char *opt)
{
	const char *env = getenv("XVCHAN_SIM");

	if (opt)
		snprintf(sim_path, sizeof(sim_path), "%s", opt);
	else if (env && *env)
		snprintf(sim_path, sizeof(sim_path), "%s", env);
	else if (!exe_dir_has("../sim/xvchan-sim", sim_path, sizeof(sim_path)) &&
		 !exe_dir_has("xvchan-sim", sim_path, sizeof(sim_path)))
		snprintf(sim_path, sizeof(sim_path), "xvchan-sim");
}

/* With --xen: both ends are this domain. */
static int xen_setup(void)
{
	struct xs_handle *xs = xs_open(0);
	unsigned long v = 0;
	unsigned int len;
	char *s = xs ? xs_read(xs, XBT_NULL, "domid", &len) : NULL;
	int ok = s && xv_tool_parse_uint(s, XVCHAN_DOMID_MAX, &v) == 0;

	if (!xs)
		xv_tool_err("--xen: cannot open xenstore: %s", strerror(errno));
	else if (!ok)
		xv_tool_err("--xen: no usable \"domid\" in xenstore");
	free(s);
	if (xs)
		xs_close(xs);
	srv_dom = cli_dom = (unsigned int)v;
	return ok ? 0 : -1;
}

/* The private state directory, then the simulator or Xen's domid. */
static int host_setup(void)
{
	const char *tmp = getenv("TMPDIR");
	int err;

	snprintf(sim_dir, sizeof(sim_dir), "%s/xvchan-bench-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(sim_dir)) {
		xv_tool_err("mkdtemp %s: %s", sim_dir, strerror(errno));
		sim_dir[0] = '\0';
		return -1;
	}
	if (setenv("XVCHAN_BENCH_DIR", sim_dir, 1) < 0)
		return -1;
	if (on_xen)
		return xen_setup();
	if (setenv("XVCHAN_SIM_DIR", sim_dir, 1) < 0)
		return -1;
	err = sim_cmd("start");
	if (err) {
		xv_tool_err("cannot start the simulator (%s start: status %d)",
			    sim_path, err);
		return -1;
	}
	sim_started = 1;
	return 0;
}

static int is_vchan(enum xv_bench_transport t)
{
	return t == XV_BENCH_XVCHAN || t == XV_BENCH_XVCHAN_NOSPIN ||
	       t == XV_BENCH_LIBXENVCHAN;
}

/* Child after fork(): close every job descriptor not its own, then
 * become the measuring side. */
static void child(const struct xv_bench_job *job, const int *fds, int nfds)
{
	char spec[256], dom[16];
	int i;

	for (i = 0; i < nfds; i++)
		if (fds[i] != job->res_fd && fds[i] != job->sync_in &&
		    fds[i] != job->sync_out && fds[i] != job->data_in &&
		    fds[i] != job->data_out)
			close(fds[i]);
	/* stdout carries the tables: nothing of ours may land there. */
	dup2(STDERR_FILENO, STDOUT_FILENO);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (pin_cpus) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(job->role == XV_BENCH_SERVER ? 0 : 1, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			fprintf(stderr, "xvchan-bench: cannot pin to a CPU: %s\n",
				strerror(errno));
	}
	if (!is_vchan(job->transport) || on_xen)
		_exit(xv_bench_child(job));
	if (xv_bench_job_format(job, spec, sizeof(spec)) < 0)
		_exit(126);
	snprintf(dom, sizeof(dom), "%u", job->role == XV_BENCH_SERVER ?
		 XV_BENCH_SERVER_DOMID : XV_BENCH_CLIENT_DOMID);
	execlp(sim_path, sim_path, "exec", "--domid", dom, "--", self_path,
	       "--child", spec, (char *)NULL);
	fprintf(stderr, "xvchan-bench: cannot run %s: %s\n", sim_path,
		strerror(errno));
	_exit(127);
}

static int parse_line(struct side *s, struct raw *r, const char *l)
{
	int rep = -1;
	int64_t a, b;
	uint64_t n;

	if (!strncmp(l, "err ", 4)) {
		if (!r->err[0])
			snprintf(r->err, sizeof(r->err), "%s", l + 4);
		return 0;
	}
	if (sscanf(l, "mark %" SCNd64, &a) == 1) {
		s->mark = a;
		s->marked = 1;
	} else if (sscanf(l, "t0 %d %" SCNd64, &rep, &a) == 2 &&
		   rep >= 0 && rep <= MAX_REPS) {
		r->t0[rep] = a;
	} else if (sscanf(l, "t1 %d %" SCNu64 " %" SCNd64, &rep, &n, &a) == 3 &&
		   rep >= 0 && rep <= MAX_REPS) {
		r->bytes[rep] = n;
		r->t1[rep] = a;
	} else if (sscanf(l, "rtt %d %" SCNu64 " %" SCNd64 " %" SCNd64, &rep,
			  &n, &a, &b) == 4 && rep >= 0 && rep <= MAX_REPS) {
		r->trips[rep] = n;
		r->p50[rep] = a;
		r->p99[rep] = b;
	} else if (sscanf(l, "conn %d %" SCNd64 " %" SCNd64, &rep, &a, &b) == 3 &&
		   rep >= 0 && rep <= MAX_REPS) {
		if (a) {
			r->start[rep] = a;
			r->done_srv[rep] = b;
		} else {
			r->done_cli[rep] = b;
		}
	} else if (sscanf(l, "idle %" SCNd64, &a) == 1) {
		r->idle_ns = a;
	} else if (sscanf(l, "buf %" SCNd64, &a) == 1) {
		r->buf = a;
	} else {
		snprintf(r->err, sizeof(r->err), "unreadable result line '%s'", l);
		return -1;
	}
	return 0;
}

static void read_side(int fd, struct side *s, struct raw *r)
{
	ssize_t n = read(fd, s->line + s->len, sizeof(s->line) - 1 - s->len);
	char *nl;

	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		s->eof = 1;
		return;
	}
	s->len += (size_t)n;
	s->line[s->len] = '\0';
	while ((nl = strchr(s->line, '\n'))) {
		*nl = '\0';
		parse_line(s, r, s->line);
		s->len -= (size_t)(nl + 1 - s->line);
		memmove(s->line, nl + 1, s->len + 1);
	}
	if (s->len == sizeof(s->line) - 1)
		s->eof = 1;
}

static int64_t tv_ns(const struct timeval *tv)
{
	return (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000;
}

static void reap(pid_t pid, struct side *s)
{
	struct rusage ru;
	int status;

	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return;
	s->cpu = tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime);
	s->exited_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Note the pair @p that @ret (pipe() or socketpair()) made in @fds. */
static int add_fds(int *fds, int *nfds, const int p[2], int ret)
{
	if (ret < 0)
		return 1;
	fds[(*nfds)++] = p[0];
	fds[(*nfds)++] = p[1];
	return 0;
}

/*
 * Run both sides of one job; fill @r and @side.  Returns 0 when both
 * exited cleanly, -1 otherwise (@r->err says why when a side said).
 */
static int run_job(const struct xv_bench_job *tmpl, struct raw *r,
		   struct side side[2], int timeout_ms)
{
	int res[2][2], c2s[2], s2c[2], data[2][2] = { { -1, -1 }, { -1, -1 } };
	int fds[12], nfds = 0, i, ndata = 0, err = 0;
	struct xv_bench_job job[2];
	pid_t pid[2] = { -1, -1 };
	int64_t deadline;

	memset(r, 0, sizeof(*r));
	memset(side, 0, 2 * sizeof(*side));
	if (tmpl->test != XV_BENCH_CONNECT && tmpl->transport == XV_BENCH_SOCKETPAIR)
		ndata = 1;
	else if (tmpl->test != XV_BENCH_CONNECT && tmpl->transport == XV_BENCH_PIPE)
		ndata = 2;	/* [0]: client -> server, [1]: server -> client */
	err |= add_fds(fds, &nfds, res[0], pipe(res[0]));
	err |= add_fds(fds, &nfds, res[1], pipe(res[1]));
	err |= add_fds(fds, &nfds, c2s, pipe(c2s));
	err |= add_fds(fds, &nfds, s2c, pipe(s2c));
	if (ndata == 1)
		err |= add_fds(fds, &nfds, data[0],
			       socketpair(AF_UNIX, SOCK_STREAM, 0, data[0]));
	for (i = 0; ndata == 2 && i < 2; i++)
		err |= add_fds(fds, &nfds, data[i], pipe(data[i]));
	if (err) {
		snprintf(r->err, sizeof(r->err), "out of descriptors: %s",
			 strerror(errno));
		while (nfds > 0)
			close(fds[--nfds]);
		return -1;
	}
	for (i = 0; i < 2; i++) {
		job[i] = *tmpl;
		job[i].role = i == 0 ? XV_BENCH_SERVER : XV_BENCH_CLIENT;
		job[i].res_fd = res[i][1];
		job[i].sync_in = i == 0 ? c2s[0] : s2c[0];
		job[i].sync_out = i == 0 ? s2c[1] : c2s[1];
		job[i].data_in = job[i].data_out = -1;
	}
	if (ndata == 1) {
		job[0].data_in = job[0].data_out = data[0][0];
		job[1].data_in = job[1].data_out = data[0][1];
	} else if (ndata == 2) {
		job[0].data_in = data[0][0];
		job[0].data_out = data[1][1];
		job[1].data_in = data[1][0];
		job[1].data_out = data[0][1];
	}
	fflush(NULL);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] == 0)
			child(&job[i], fds, nfds);
		if (pid[i] < 0)
			snprintf(r->err, sizeof(r->err), "fork: %s", strerror(errno));
	}
	for (i = 0; i < nfds; i++)
		if (fds[i] != res[0][0] && fds[i] != res[1][0])
			close(fds[i]);

	deadline = xv_bench_now_ns() + (int64_t)timeout_ms * 1000000;
	while (!(side[0].eof && side[1].eof) && !interrupted) {
		struct pollfd pfd[2] = {
			{ .fd = side[0].eof ? -1 : res[0][0], .events = POLLIN },
			{ .fd = side[1].eof ? -1 : res[1][0], .events = POLLIN },
		};
		int64_t left = (deadline - xv_bench_now_ns()) / 1000000;

		if (left <= 0) {
			snprintf(r->err, sizeof(r->err), "timed out after %d ms",
				 timeout_ms);
			break;
		}
		if (poll(pfd, 2, left > INT_MAX ? INT_MAX : (int)left) < 0)
			continue;
		for (i = 0; i < 2; i++)
			if (pfd[i].revents)
				read_side(res[i][0], &side[i], r);
	}
	if (!(side[0].eof && side[1].eof))
		for (i = 0; i < 2; i++)
			if (pid[i] > 0)
				kill(pid[i], SIGKILL);
	for (i = 0; i < 2; i++) {
		close(res[i][0]);
		if (pid[i] > 0)
			reap(pid[i], &side[i]);
	}
	if (side[0].exited_ok && side[1].exited_ok && !r->err[0])
		return 0;
	if (!r->err[0])
		snprintf(r->err, sizeof(r->err), "a side failed (see above)");
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_of(const double *v, int n)
{
	double s[2 * MAX_REPS];

	memcpy(s, v, (size_t)n * sizeof(*v));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* CPU ns both sides used after their measured phase began. */
static double cpu_after_mark(const struct side side[2])
{
	return (double)(side[0].cpu - side[0].mark) +
	       (double)(side[1].cpu - side[1].mark);
}

/* Add one job's raw reports to @res; -1 if they do not add up. */
static int gather(const struct xv_bench_job *job, const struct raw *r,
		  const struct side side[2], struct result *res)
{
	int i, n = res->n;

	if (!side[0].marked || !side[1].marked ||
	    n + job->reps > 2 * MAX_REPS)
		return -1;
	switch (job->test) {
	case XV_BENCH_STREAM:
		for (i = 1; i <= job->reps; i++) {
			if (!r->t0[i] || r->t1[i] <= r->t0[i] || !r->bytes[i])
				return -1;
			res->val[n++] = (double)r->bytes[i] * 1e9 /
					(double)(r->t1[i] - r->t0[i]);
			res->units += (double)r->bytes[i];
		}
		res->buf = r->buf;
		break;
	case XV_BENCH_PINGPONG:
		for (i = 1; i <= job->reps; i++) {
			if (!r->trips[i])
				return -1;
			res->p99s[n] = (double)r->p99[i] / 1e9;
			res->val[n++] = (double)r->p50[i] / 1e9;
			res->units += (double)r->trips[i];
		}
		break;
	case XV_BENCH_CONNECT:
		for (i = 0; i < job->reps; i++) {
			int64_t done = r->done_srv[i] > r->done_cli[i] ?
				       r->done_srv[i] : r->done_cli[i];

			if (!r->start[i] || !r->done_cli[i] || done < r->start[i])
				return -1;
			res->val[n++] = (double)(done - r->start[i]) / 1e9;
			res->units += 1;
		}
		break;
	case XV_BENCH_IDLE:
		if (!r->idle_ns)
			return -1;
		/* The reader alone: its peer sleeps in nanosleep(). */
		res->idle_s += (double)r->idle_ns / 1e9;
		res->val[n++] = (double)(side[0].cpu - side[0].mark) / 1e9;
		res->cpu_ns += (double)(side[0].cpu - side[0].mark);
		res->n = n;
		return 0;
	case XV_BENCH_NTESTS:
		return -1;
	}
	res->cpu_ns += cpu_after_mark(side);
	res->n = n;
	return 0;
}

/* Percentile (nearest rank) of @n values. */
static double percentile(const double *v, int n, int p)
{
	double s[2 * MAX_REPS];
	int rank = (n * p + 99) / 100;

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return s[rank ? rank - 1 : 0];
}

/* Medians and CPU per unit once every round is in. */
static void summarise(struct result *res)
{
	int i;

	res->ok = !res->failed && res->n > 0;
	if (!res->ok)
		return;
	res->median = median_of(res->val, res->n);
	for (i = 0; i < res->rounds; i++) {
		int from = i ? res->round_end[i - 1] : 0;

		res->round_median[i] = median_of(res->val + from,
						 res->round_end[i] - from);
	}
	res->min = res->max = res->val[0];
	for (i = 1; i < res->n; i++) {
		if (res->val[i] < res->min)
			res->min = res->val[i];
		if (res->val[i] > res->max)
			res->max = res->val[i];
	}
	switch (res->test) {
	case XV_BENCH_STREAM:
		/* CPU seconds per 10^9 bytes is CPU ns per byte. */
		res->cpu = res->cpu_ns / res->units;
		break;
	case XV_BENCH_PINGPONG:
		/* Each repetition's p99, then their median: one noisy
		 * repetition cannot set it alone. */
		res->p99 = median_of(res->p99s, res->n);
		res->cpu = res->cpu_ns / 1e9 / res->units;
		break;
	case XV_BENCH_CONNECT:
		res->p99 = percentile(res->val, res->n, 99);
		res->cpu = res->cpu_ns / 1e9 / res->units;
		break;
	case XV_BENCH_IDLE:
		res->cpu = res->cpu_ns / 1e9 / res->idle_s;
		break;
	case XV_BENCH_NTESTS:
		break;
	}
}

static struct result *find(enum xv_bench_transport t, enum xv_bench_test test,
			   size_t msg, size_t ring)
{
	size_t i;

	for (i = 0; i < nresults; i++)
		if (results[i].transport == t && results[i].test == test &&
		    results[i].msg == msg && results[i].ring == ring)
			return &results[i];
	return NULL;
}

static const char *unit(enum xv_bench_test t)
{
	return t == XV_BENCH_STREAM ? "B/s" : "s";
}

static void json_num(FILE *f, const char *name, double v, int ok)
{
	if (ok && isfinite(v))
		fprintf(f, ", \"%s\": %.6g", name, v);
	else
		fprintf(f, ", \"%s\": null", name);
}

static int write_json(const char *path)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f) {
		xv_tool_err("%s: %s", path, strerror(errno));
		return -1;
	}
	fputs("[\n", f);
	for (i = 0; i < nresults; i++) {
		const struct result *r = &results[i];

		fprintf(f, "  {\"transport\": \"%s\", \"test\": \"%s\", "
			"\"msg_size\": %zu, \"ring_size\": %zu, \"unit\": \"%s\", "
			"\"ok\": %s, \"reps\": %d",
			xv_bench_transport_names[r->transport],
			xv_bench_test_names[r->test], r->msg, r->ring,
			unit(r->test), r->ok ? "true" : "false", r->n);
		json_num(f, "median", r->median, r->ok);
		json_num(f, "min", r->min, r->ok);
		json_num(f, "max", r->max, r->ok);
		if (r->test == XV_BENCH_PINGPONG || r->test == XV_BENCH_CONNECT)
			json_num(f, "p99", r->p99, r->ok);
		json_num(f, "cpu_s", r->cpu, r->ok);
		fprintf(f, ", \"rounds\": %d, \"round_medians\": ", r->rounds);
		if (r->ok) {
			for (int k = 0; k < r->rounds; k++)
				fprintf(f, "%s%.6g", k ? ", " : "[",
					r->round_median[k]);
			fputs("]", f);
		} else {
			fputs("null", f);
		}
		if (!isnan(r->ratio))
			json_num(f, "ratio_vs_libxenvchan", r->ratio, 1);
		if (r->behind >= 0)
			fprintf(f, ", \"rounds_behind_libxenvchan\": %d",
				r->behind);
		if (r->transport == XV_BENCH_SOCKETPAIR && r->test == XV_BENCH_STREAM)
			json_num(f, "buffer_effective", (double)r->buf, r->ok);
		if (r->test == XV_BENCH_IDLE)
			json_num(f, "idle_s", r->idle_s, r->ok);
		fprintf(f, "}%s\n", i + 1 < nresults ? "," : "");
	}
	fputs("]\n", f);
	if (fclose(f) != 0) {
		xv_tool_err("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* "4K", "1M", "64": sizes as the tables show them. */
static const char *size_str(size_t n, char *buf, size_t len)
{
	if (n >= 1048576 && n % 1048576 == 0)
		snprintf(buf, len, "%zuM", n / 1048576);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, len, "%zuK", n / 1024);
	else
		snprintf(buf, len, "%zu", n);
	return buf;
}

/* median (min-max) scaled by @scale, @decimals places, in a column of 19. */
static void print_cell(const struct result *r, double scale, int decimals)
{
	char m[32], lo[32], hi[32], all[100];

	if (!r) {
		printf(" %19s", "-");
		return;
	}
	if (!r->ok) {
		printf(" %19s", "FAILED");
		return;
	}
	snprintf(m, sizeof(m), "%.*f", decimals, r->median * scale);
	snprintf(lo, sizeof(lo), "%.*f", decimals, r->min * scale);
	snprintf(hi, sizeof(hi), "%.*f", decimals, r->max * scale);
	snprintf(all, sizeof(all), "%s (%s-%s)", m, lo, hi);
	printf(" %19s", all);
}

static void print_header(const char *first, const struct options *o,
			 int ratios)
{
	int t;

	printf("%-12s", first);
	for (t = 0; t < XV_BENCH_NTRANSPORTS; t++)
		if (o->transports & (1u << t))
			printf(" %19s", xv_bench_transport_names[t]);
	if (ratios)
		printf(" %7s %9s", "xv/lx", "nospin/lx");
	putchar('\n');
}

static void print_ratio(const struct result *xv, const struct result *ns)
{
	if (xv && !isnan(xv->ratio))
		printf(" %7.2f", xv->ratio);
	else
		printf(" %7s", "-");
	if (ns && !isnan(ns->ratio))
		printf(" %9.2f", ns->ratio);
	else
		printf(" %9s", "-");
}

static void print_row(const struct options *o, enum xv_bench_test test,
		      size_t msg, size_t ring, const char *label, double scale,
		      int decimals, int cpu)
{
	int t;

	printf("%-12s", label);
	for (t = 0; t < XV_BENCH_NTRANSPORTS; t++) {
		const struct result *r;

		if (!(o->transports & (1u << t)))
			continue;
		r = find((enum xv_bench_transport)t, test, msg, ring);
		if (cpu) {
			if (r && r->ok)
				printf(" %19.3f", r->cpu * scale);
			else
				printf(" %19s", r ? "FAILED" : "-");
		} else {
			print_cell(r, scale, decimals);
		}
	}
	if (!cpu)
		print_ratio(find(XV_BENCH_XVCHAN, test, msg, ring),
			    find(XV_BENCH_XVCHAN_NOSPIN, test, msg, ring));
	putchar('\n');
}

static void print_tables(const struct options *o, const size_t *msgs,
			 int nmsg, const size_t *rings, int nring)
{
	char a[24], b[24], label[56];
	int m, g;

	if (o->tests & (1u << XV_BENCH_STREAM)) {
		printf("\nStream throughput, MB/s (10^6 B/s): median (min-max)\n");
		print_header("msg/ring", o, 1);
		for (m = 0; m < nmsg; m++)
			for (g = 0; g < nring; g++) {
				snprintf(label, sizeof(label), "%s/%s",
					 size_str(msgs[m], a, sizeof(a)),
					 size_str(rings[g], b, sizeof(b)));
				print_row(o, XV_BENCH_STREAM, msgs[m], rings[g],
					  label, 1e-6, 0, 0);
			}
		printf("\nStream CPU, seconds per GB moved (both processes)\n");
		print_header("msg/ring", o, 0);
		for (m = 0; m < nmsg; m++)
			for (g = 0; g < nring; g++) {
				snprintf(label, sizeof(label), "%s/%s",
					 size_str(msgs[m], a, sizeof(a)),
					 size_str(rings[g], b, sizeof(b)));
				print_row(o, XV_BENCH_STREAM, msgs[m], rings[g],
					  label, 1, 3, 1);
			}
	}
	if (o->tests & (1u << XV_BENCH_PINGPONG)) {
		size_t ring = o->ring ? o->ring : o->smoke ? 4096 : 65536;

		printf("\nPing-pong, 64 B round trip, %s rings, microseconds\n",
		       size_str(ring, a, sizeof(a)));
		print_header("", o, 1);
		print_row(o, XV_BENCH_PINGPONG, XV_BENCH_PING_SIZE, ring,
			  "p50", 1e6, 1, 0);
		printf("%-12s", "p99");
		for (m = 0; m < XV_BENCH_NTRANSPORTS; m++) {
			const struct result *r;

			if (!(o->transports & (1u << m)))
				continue;
			r = find((enum xv_bench_transport)m, XV_BENCH_PINGPONG,
				 XV_BENCH_PING_SIZE, ring);
			if (r && r->ok)
				printf(" %19.1f", r->p99 * 1e6);
			else
				printf(" %19s", r ? "FAILED" : "-");
		}
		putchar('\n');
		print_row(o, XV_BENCH_PINGPONG, XV_BENCH_PING_SIZE, ring,
			  "CPU us/rt", 1e6, 3, 1);
	}
	if (o->tests & (1u << XV_BENCH_CONNECT)) {
		size_t ring = o->ring ? o->ring : o->smoke ? 4096 : 65536;

		printf("\nConnect, server start to both connected, milliseconds\n");
		print_header("", o, 1);
		print_row(o, XV_BENCH_CONNECT, 0, ring, "p50", 1e3, 2, 0);
		print_row(o, XV_BENCH_CONNECT, 0, ring, "CPU ms/conn", 1e3, 3, 1);
	}
	if (o->tests & (1u << XV_BENCH_IDLE)) {
		printf("\nIdle reader blocked in read(): CPU used, %% of one CPU\n");
		print_header("", o, 0);
		print_row(o, XV_BENCH_IDLE, 0, 65536, "CPU %", 100, 3, 1);
	}
}

static const char *verdict(int known, int met)
{
	return !known ? "not measured" : met ? "met" : "NOT MET";
}

/* The targets, judged on medians. */
static void print_targets(void)
{
	const struct result *xv, *lx, *sp, *ns;
	int known, met;
	size_t i;

	printf("\nTargets (issue 4), on medians\n");
	xv = find(XV_BENCH_XVCHAN, XV_BENCH_STREAM, 65536, 65536);
	lx = find(XV_BENCH_LIBXENVCHAN, XV_BENCH_STREAM, 65536, 65536);
	known = xv && lx && xv->ok && lx->ok;
	printf("  64K msg/64K ring >= 4x libxenvchan: %s", verdict(known,
	       known && xv->median >= 4 * lx->median));
	if (known)
		printf(" (%.2fx)", xv->median / lx->median);
	xv = find(XV_BENCH_XVCHAN, XV_BENCH_STREAM, 65536, 1048576);
	sp = find(XV_BENCH_SOCKETPAIR, XV_BENCH_STREAM, 65536, 1048576);
	known = xv && sp && xv->ok && sp->ok;
	printf("\n  64K msg/1M ring >= socketpair: %s", verdict(known,
	       known && xv->median >= sp->median));
	if (known)
		printf(" (%.2fx)", xv->median / sp->median);
	xv = find(XV_BENCH_XVCHAN, XV_BENCH_STREAM, 64, 65536);
	lx = find(XV_BENCH_LIBXENVCHAN, XV_BENCH_STREAM, 64, 65536);
	known = xv && lx && xv->ok && lx->ok;
	printf("\n  64 B msg/64K ring >= 2x libxenvchan: %s", verdict(known,
	       known && xv->median >= 2 * lx->median));
	if (known)
		printf(" (%.2fx)", xv->median / lx->median);
	xv = find(XV_BENCH_XVCHAN, XV_BENCH_PINGPONG, XV_BENCH_PING_SIZE, 65536);
	lx = find(XV_BENCH_LIBXENVCHAN, XV_BENCH_PINGPONG, XV_BENCH_PING_SIZE, 65536);
	known = xv && lx && xv->ok && lx->ok;
	printf("\n  64 B round trip p50 <= 1/10 libxenvchan: %s", verdict(known,
	       known && xv->median * 10 <= lx->median));
	if (known)
		printf(" (%.3fx)", xv->median / lx->median);
	xv = find(XV_BENCH_XVCHAN, XV_BENCH_IDLE, 0, 65536);
	known = xv && xv->ok;
	printf("\n  idle blocked reader < 1%% CPU: %s", verdict(known,
	       known && xv->cpu < 0.01));
	if (known)
		printf(" (%.3f%%)", xv->cpu * 100);
	/* Every cell: time-valued tests are better when lower. */
	known = 0;
	met = 1;
	for (i = 0; i < nresults; i++) {
		ns = &results[i];
		if (ns->transport == XV_BENCH_XVCHAN_NOSPIN && !isnan(ns->ratio)) {
			known = 1;
			if (ns->test == XV_BENCH_STREAM ? ns->ratio < 1 : ns->ratio > 1)
				met = 0;
		}
	}
	printf("\n  xvchan-nospin no cell slower than libxenvchan: %s\n",
	       verdict(known, met));
	for (i = 0; i < nresults; i++) {
		char a[24], b[24];

		ns = &results[i];
		if (ns->transport != XV_BENCH_XVCHAN_NOSPIN || isnan(ns->ratio) ||
		    (ns->test == XV_BENCH_STREAM ? ns->ratio >= 1 : ns->ratio <= 1))
			continue;
		printf("    slower: %s", xv_bench_test_names[ns->test]);
		if (ns->test == XV_BENCH_STREAM)
			printf(" %s/%s", size_str(ns->msg, a, sizeof(a)),
			       size_str(ns->ring, b, sizeof(b)));
		printf(" (nospin/lx %.2f", ns->ratio);
		if (ns->behind >= 0)
			printf("; behind in %d of %d rounds", ns->behind,
			       ns->rounds);
		printf(")\n");
	}
}

/*
 * In how many rounds @r's median was worse than @lx's median of the same
 * round (stream: lower B/s; the others: more seconds).  A cell slower on
 * the median of all repetitions but behind in only some rounds is a cell
 * the host's load moved, not one that is slower every time.
 */
static int rounds_behind(const struct result *r, const struct result *lx)
{
	int i, n = 0;

	if (r->rounds != lx->rounds)
		return -1;
	for (i = 0; i < r->rounds; i++)
		n += r->test == XV_BENCH_STREAM ?
		     r->round_median[i] < lx->round_median[i] :
		     r->round_median[i] > lx->round_median[i];
	return n;
}

static void set_ratios(void)
{
	size_t i;

	for (i = 0; i < nresults; i++) {
		struct result *r = &results[i];
		const struct result *lx;

		r->ratio = NAN;
		r->behind = -1;
		if (r->transport != XV_BENCH_XVCHAN &&
		    r->transport != XV_BENCH_XVCHAN_NOSPIN)
			continue;
		lx = find(XV_BENCH_LIBXENVCHAN, r->test, r->msg, r->ring);
		if (r->ok && lx && lx->ok && lx->median > 0 &&
		    r->test != XV_BENCH_IDLE) {
			r->ratio = r->median / lx->median;
			r->behind = rounds_behind(r, lx);
		}
	}
}

/* @arg, a comma-separated list of @names given to option @opt, as a bit
 * mask; 0 after saying what is wrong with it. */
static unsigned int parse_list(const char *opt, const char *arg,
			       const char *const *names, int n, int limit)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	unsigned int mask = 0;
	int i;

	if (!copy) {
		xv_tool_err("%s: out of memory", opt);
		return 0;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < n && i < limit; i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == n || i == limit) {
			xv_tool_err("unknown name '%s' for %s", tok, opt);
			free(copy);
			return 0;
		}
		mask |= 1u << i;
	}
	free(copy);
	/* strtok_r() finds no name in "" or ",,": nothing would run. */
	if (!mask)
		xv_tool_err("empty list for %s", opt);
	return mask;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	unsigned long v;
	int i;

	*o = (struct options){
		.idle_ms = 5000,
		.spin_us = -1,
		.transports = (1u << XV_BENCH_NTRANSPORTS) - 1,
		.tests = (1u << XV_BENCH_STREAM) | (1u << XV_BENCH_PINGPONG) |
			 (1u << XV_BENCH_CONNECT),
	};
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			exit(0);
		} else if (!strcmp(a, "--quick")) {
			o->quick = 1;
			takes = 0;
		} else if (!strcmp(a, "--smoke")) {
			o->smoke = 1;
			takes = 0;
		} else if (!strcmp(a, "--pin")) {
			o->pin = 1;
			takes = 0;
		} else if (!strcmp(a, "--idle")) {
			o->idle = 1;
			takes = 0;
		} else if (!strcmp(a, "--xen")) {
			o->xen = 1;
			takes = 0;
		} else if (!arg) {
			xv_tool_err("unknown option or missing value: '%s'", a);
			goto bad;
		} else if (!strcmp(a, "--idle-seconds")) {
			if (xv_tool_parse_uint(arg, 3600, &v) < 0 || v == 0) {
				xv_tool_err("bad --idle-seconds '%s' (1..3600)", arg);
				goto bad;
			}
			o->idle_ms = (int)v * 1000;
			o->idle_given = 1;
		} else if (!strcmp(a, "--reps")) {
			if (xv_tool_parse_uint(arg, MAX_REPS, &v) < 0 || v == 0) {
				xv_tool_err("bad --reps '%s' (1..%d)", arg, MAX_REPS);
				goto bad;
			}
			o->reps = (int)v;
		} else if (!strcmp(a, "--rounds")) {
			if (xv_tool_parse_uint(arg, MAX_ROUNDS, &v) < 0 ||
			    v == 0) {
				xv_tool_err("bad --rounds '%s' (1..%d)", arg,
					    MAX_ROUNDS);
				goto bad;
			}
			o->rounds = (int)v;
		} else if (!strcmp(a, "--spin-us")) {
			if (xv_tool_parse_uint(arg, 1000000, &v) < 0) {
				xv_tool_err("bad --spin-us '%s' (0..1000000)", arg);
				goto bad;
			}
			o->spin_us = (int)v;
		} else if (!strcmp(a, "--msg-size")) {
			if (xv_tool_parse_size(arg, 1, 1u << 20, &o->msg) < 0) {
				xv_tool_err("bad --msg-size '%s' (1..1M)", arg);
				goto bad;
			}
		} else if (!strcmp(a, "--ring-size")) {
			if (xv_tool_parse_size(arg, 4096, 1u << 20, &o->ring) < 0 ||
			    (o->ring & (o->ring - 1))) {
				xv_tool_err("bad --ring-size '%s' (a power of two, 4K..1M)", arg);
				goto bad;
			}
		} else if (!strcmp(a, "--transports")) {
			o->transports = parse_list(a, arg,
						   xv_bench_transport_names,
						   XV_BENCH_NTRANSPORTS,
						   XV_BENCH_NTRANSPORTS);
			if (!o->transports)
				goto bad;
		} else if (!strcmp(a, "--tests")) {
			o->tests = parse_list(a, arg, xv_bench_test_names,
					      XV_BENCH_NTESTS, XV_BENCH_NTESTS);
			o->tests_given = 1;
			if (!o->tests)
				goto bad;
		} else if (!strcmp(a, "--json")) {
			o->json = arg;
		} else if (!strcmp(a, "--sim")) {
			o->sim = arg;
		} else {
			xv_tool_err("unknown option '%s'", a);
			goto bad;
		}
		i += takes;
	}
	if (o->xen && o->sim) {
		xv_tool_err("--xen and --sim exclude each other");
		goto bad;
	}
	if (o->reps && o->rounds && o->reps < o->rounds) {
		xv_tool_err("--reps %d is fewer than --rounds %d: each round "
			    "needs a repetition", o->reps, o->rounds);
		goto bad;
	}
	if (o->quick + o->smoke + o->idle > 1) {
		xv_tool_err("--quick, --smoke and --idle exclude each other");
		goto bad;
	}
	/* --idle chooses the tests itself: a list beside it would be
	 * ignored without a word. */
	if (o->idle && o->tests_given) {
		xv_tool_err("--idle runs only the idle test: give --tests "
			    "without it");
		goto bad;
	}
	if (o->idle)
		o->tests = 1u << XV_BENCH_IDLE;
	/* A whole run, --smoke's too, includes the idle test unless --tests
	 * chose. */
	if (!o->tests_given)
		o->tests |= 1u << XV_BENCH_IDLE;
	return;
bad:
	fprintf(stderr, "Try '%s --help'.\n", xv_tool_name());
	exit(XV_TOOL_EXIT_USAGE);
}

/* Run one job of @tmpl on transport @t and add it to @res. */
static void run_one(struct xv_bench_job *tmpl, enum xv_bench_transport t,
		    struct result *res, unsigned int *cell, int round)
{
	struct side side[2];
	struct raw raw;
	char a[24], b[24];
	int64_t t0 = xv_bench_now_ns();
	/* Generous: a slow transport still fits; a hang does not. */
	int timeout_ms = 60000 + 8 * (tmpl->reps + 1) *
			 (tmpl->target_ms + tmpl->idle_ms);

	tmpl->transport = t;
	tmpl->cell = (*cell)++;
	fprintf(stderr, "round %d %-8s %-14s msg %-4s ring %-4s ...", round + 1,
		xv_bench_test_names[tmpl->test], xv_bench_transport_names[t],
		size_str(res->msg, a, sizeof(a)),
		size_str(tmpl->ring, b, sizeof(b)));
	if (run_job(tmpl, &raw, side, timeout_ms) == 0 &&
	    gather(tmpl, &raw, side, res) == 0) {
		res->round_end[res->rounds++] = res->n;
		fprintf(stderr, " %.2f s\n",
			(double)(xv_bench_now_ns() - t0) / 1e9);
		return;
	}
	fprintf(stderr, " %s: %s\n", interrupted ? "interrupted" : "FAILED",
		raw.err[0] ? raw.err : "incomplete results");
	res->failed = 1;
}

#define MAX_CELLS (NMSG * NRING + 3)

/* Round @round's share of @total repetitions over @rounds rounds: the
 * remainder goes one each to the first rounds, so they add up to @total
 * exactly. */
static int round_share(int total, int rounds, int round)
{
	return total / rounds + (round < total % rounds);
}

/*
 * Every cell, every transport, in rounds: each round runs every cell on
 * every transport once, the transports' order turning from round to
 * round, so that a burst of load from elsewhere on the host is spread
 * over all of them instead of landing on one.
 */
static int run_all(const struct options *o)
{
	struct xv_bench_job cells[MAX_CELLS], *c;
	int total[MAX_CELLS];	/* each cell's repetitions over all rounds */
	const size_t *msgs = msg_sizes, *rings = ring_sizes;
	static const size_t smoke_size[1] = { 4096 };
	int nmsg = NMSG, nring = NRING, ncells = 0, m, g, i, t, round, failed = 0;
	int rounds = o->rounds ? o->rounds : o->quick ? 2 : o->smoke ? 1 : 3;
	int reps = o->reps ? o->reps : o->quick ? 6 : o->smoke ? 1 : 9;
	unsigned int cell = 0;
	/* Each round needs a repetition of its own for its median: a
	 * default gives way to what was asked for (parse_options() refused
	 * --reps below --rounds). */
	if (o->reps && rounds > reps)
		rounds = reps;
	if (reps < rounds)
		reps = rounds;
	struct xv_bench_job base = {
		.res_fd = -1, .reps = reps, .spin_us = o->spin_us,
		.srv_dom = srv_dom, .cli_dom = cli_dom,
		.target_ms = o->smoke ? 10 : o->quick ? 60 : 250,
	};

	if (o->smoke) {
		msgs = rings = smoke_size;
		nmsg = nring = 1;
	}
	if (o->msg) {
		msgs = &o->msg;
		nmsg = 1;
	}
	if (o->ring) {
		rings = &o->ring;
		nring = 1;
	}
	if (o->tests & (1u << XV_BENCH_STREAM))
		for (m = 0; m < nmsg; m++)
			for (g = 0; g < nring; g++) {
				c = &cells[ncells++];
				*c = base;
				c->test = XV_BENCH_STREAM;
				c->msg = msgs[m];
				c->ring = rings[g];
				c->first = o->smoke ? 65536 : o->quick ? 1u << 20 : 2u << 20;
			}
	if (o->tests & (1u << XV_BENCH_PINGPONG)) {
		c = &cells[ncells++];
		*c = base;
		c->test = XV_BENCH_PINGPONG;
		c->msg = XV_BENCH_PING_SIZE;
		c->ring = o->ring ? o->ring : o->smoke ? 4096 : 65536;
		c->first = o->smoke ? 20 : 500;
	}
	if (o->tests & (1u << XV_BENCH_CONNECT)) {
		int conns = o->reps ? o->reps : o->smoke ? 2 : o->quick ? 10 : 30;

		if (conns < rounds)
			conns = rounds;

		c = &cells[ncells++];
		*c = base;
		c->test = XV_BENCH_CONNECT;
		c->msg = XV_BENCH_PING_SIZE;
		c->ring = o->ring ? o->ring : o->smoke ? 4096 : 65536;
		c->reps = conns;
	}
	if (o->tests & (1u << XV_BENCH_IDLE)) {
		c = &cells[ncells++];
		*c = base;
		c->test = XV_BENCH_IDLE;
		c->msg = 1;
		c->ring = 65536;
		c->reps = 1;
		c->idle_ms = o->smoke ? 200 : o->quick && !o->idle_given ?
			     1000 : o->idle_ms;
	}
	for (i = 0; i < ncells; i++)
		total[i] = cells[i].reps;
	results = calloc((size_t)(ncells * XV_BENCH_NTRANSPORTS), sizeof(*results));
	if (!results)
		return -1;
	for (i = 0; i < ncells; i++)
		for (t = 0; t < XV_BENCH_NTRANSPORTS; t++) {
			if (!(o->transports & (1u << t)))
				continue;
			results[nresults++] = (struct result){
				.transport = (enum xv_bench_transport)t,
				.test = cells[i].test,
				.msg = cells[i].test == XV_BENCH_STREAM ||
				       cells[i].test == XV_BENCH_PINGPONG ?
				       cells[i].msg : 0,
				.ring = cells[i].ring, .ratio = NAN,
			};
		}
	/* Idle blocks for seconds: one round of it is enough. */
	for (round = 0; round < rounds && !interrupted; round++)
		for (i = 0; i < ncells && !interrupted; i++) {
			if (cells[i].test == XV_BENCH_IDLE && round > 0)
				continue;
			cells[i].reps = round_share(total[i], rounds, round);
			for (t = 0; t < XV_BENCH_NTRANSPORTS && !interrupted; t++) {
				int k = (t + round) % XV_BENCH_NTRANSPORTS;
				struct result *res;

				if (!(o->transports & (1u << k)))
					continue;
				res = find((enum xv_bench_transport)k,
					   cells[i].test,
					   cells[i].test == XV_BENCH_STREAM ||
					   cells[i].test == XV_BENCH_PINGPONG ?
					   cells[i].msg : 0, cells[i].ring);
				run_one(&cells[i], (enum xv_bench_transport)k,
					res, &cell, round);
			}
		}
	for (i = 0; i < (int)nresults; i++) {
		summarise(&results[i]);
		failed |= !results[i].ok;
	}
	set_ratios();
	print_tables(o, msgs, nmsg, rings, nring);
	print_targets();
	return failed;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct options o;
	ssize_t n;
	int failed;

	xv_tool_set_name(argv[0]);
	if (argc == 3 && !strcmp(argv[1], "--child")) {
		struct xv_bench_job job;

		if (xv_bench_job_parse(argv[2], &job) < 0) {
			xv_tool_err("bad --child job '%s'", argv[2]);
			return XV_TOOL_EXIT_USAGE;
		}
		return xv_bench_child(&job);
	}
	parse_options(argc, argv, &o);
	n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (n <= 0) {
		xv_tool_err("cannot find my own executable: %s", strerror(errno));
		return XV_TOOL_EXIT_FAIL;
	}
	self_path[n] = '\0';
	find_sim(o.sim);
	pin_cpus = o.pin;
	on_xen = o.xen;
	/* No SA_RESTART: poll() must return so that we clean up. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (host_setup() < 0) {
		sim_cleanup();
		return XV_TOOL_EXIT_FAIL;
	}
	failed = run_all(&o);
	sim_cleanup();
	if (interrupted) {
		xv_tool_err("interrupted");
		return 128 + interrupted;
	}
	if (failed < 0)
		return XV_TOOL_EXIT_FAIL;
	if (o.json && write_json(o.json) < 0)
		failed = 1;
	free(results);
	return failed ? XV_TOOL_EXIT_FAIL : 0;
}
