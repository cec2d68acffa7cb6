/*
 * xvchan-bench: one side of one job (see bench.h).  Runs as a simulated
 * domain for the vchan transports (re-executed through `xvchan-sim exec`)
 * and as a plain forked process for socketpair and pipe.
 *
 * Result lines on job->res_fd, one per event, all times CLOCK_MONOTONIC
 * nanoseconds, all CPU times this process's user + system nanoseconds:
 *   mark CPU                 CPU used before the measured phase began
 *   t0 REP NS                stream sender: first byte of REP sent
 *   t1 REP BYTES NS          stream receiver: last byte of REP received
 *   rtt REP N P50 P99        ping-pong asker: REP's N round trips
 *   conn REP START DONE      connect: START (server only, else 0) and
 *                            the moment this side was connected
 *   idle NS                  idle reader: how long it was blocked
 *   buf N                    socketpair: the send buffer the kernel gave
 *   err TEXT                 the job failed
 *
 * Streams: the receiver drives.  It asks for a number of bytes (8 bytes,
 * little endian, 0 = stop) and times the answer, so repetitions never
 * overlap and each is timed from its first byte sent to its last byte
 * received.  The first repetition is untimed: its data is verified and its
 * duration sizes the timed ones.  It is small and pays for every first
 * touch (page faults on the rings and buffers, cold caches), so it can
 * come out many times slower than the steady state: until a repetition
 * lasts a quarter of the target, more untimed ones (UNTIMED in the
 * request) size the next from their own speed.  Ping-pong works the same
 * way with a count of round trips; every pong is compared with its ping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libxenvchan.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include <xvchan.h>

#include "bench.h"

const char *const xv_bench_transport_names[XV_BENCH_NTRANSPORTS] = {
	[XV_BENCH_XVCHAN] = "xvchan",
	[XV_BENCH_XVCHAN_NOSPIN] = "xvchan-nospin",
	[XV_BENCH_LIBXENVCHAN] = "libxenvchan",
	[XV_BENCH_SOCKETPAIR] = "socketpair",
	[XV_BENCH_PIPE] = "pipe",
};

const char *const xv_bench_test_names[XV_BENCH_NTESTS] = {
	[XV_BENCH_STREAM] = "stream",
	[XV_BENCH_PINGPONG] = "pingpong",
	[XV_BENCH_CONNECT] = "connect",
	[XV_BENCH_IDLE] = "idle",
};

/*
 * The stream is a pseudo-random pattern with a period that is no power of
 * two, so a byte landing at a wrong ring offset never matches by accident.
 * The buffer holds one period plus the largest write, so every write and
 * every check is one contiguous slice of it.
 */
#define PAT_PERIOD ((size_t)(1u << 20) + 4099)
#define MSG_MAX ((size_t)1 << 20)

/* Requests larger than this are a broken peer, not a benchmark. */
#define REQUEST_MAX ((uint64_t)1 << 40)

/* A request's flag: a sizing repetition after the first, neither timed
 * nor counted by the side that answers. */
#define UNTIMED ((uint64_t)1 << 63)

/* At most this many sizing repetitions after the first. */
#define SIZING_MAX 4

/* Connect timeout for both vchan libraries: a lost peer fails the job. */
#define CONNECT_TIMEOUT_MS 30000

struct conn {
	enum xv_bench_transport transport;
	struct xvchan *xv;
	struct libxenvchan *lx;
	int in, out;
};

static const struct xv_bench_job *job;

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write() per line, shorter than PIPE_BUF: never split. */
	if (write(job->res_fd, line, (size_t)n) != n)
		_exit(1);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report("err %s %s: %s", xv_bench_transport_names[job->transport],
	       job->role == XV_BENCH_SERVER ? "server" : "client", msg);
	return -1;
}

int64_t xv_bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static void mark(void)
{
	report("mark %" PRId64, cpu_ns());
}

int xv_bench_job_format(const struct xv_bench_job *j, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%d:%d:%d:%zu:%zu:%d:%d:%" PRIu64 ":%u:%d:%d:%u:%u:%d:%d:%d:%d:%d",
			 (int)j->transport, (int)j->test, (int)j->role, j->msg,
			 j->ring, j->reps, j->target_ms, j->first, j->cell,
			 j->idle_ms, j->spin_us, j->srv_dom, j->cli_dom,
			 j->res_fd, j->sync_in, j->sync_out, j->data_in,
			 j->data_out);

	return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

int xv_bench_job_parse(const char *s, struct xv_bench_job *j)
{
	int t, test, role, end = 0;

	if (sscanf(s, "%d:%d:%d:%zu:%zu:%d:%d:%" SCNu64 ":%u:%d:%d:%u:%u:%d:%d:%d:%d:%d%n",
		   &t, &test, &role, &j->msg, &j->ring, &j->reps,
		   &j->target_ms, &j->first, &j->cell, &j->idle_ms,
		   &j->spin_us, &j->srv_dom, &j->cli_dom, &j->res_fd,
		   &j->sync_in, &j->sync_out, &j->data_in, &j->data_out,
		   &end) != 18 || s[end] != '\0')
		return -EINVAL;
	if (t < 0 || t >= XV_BENCH_NTRANSPORTS || test < 0 ||
	    test >= XV_BENCH_NTESTS || (role != XV_BENCH_SERVER &&
	    role != XV_BENCH_CLIENT) || j->msg == 0 || j->msg > MSG_MAX ||
	    j->reps < 0 || j->target_ms <= 0 || j->res_fd < 0)
		return -EINVAL;
	j->transport = (enum xv_bench_transport)t;
	j->test = (enum xv_bench_test)test;
	j->role = (enum xv_bench_role)role;
	return 0;
}

/* One byte over the side pipe: "I am ready" / "it is published". */
static int sync_send(void)
{
	char c = 's';

	return write(job->sync_out, &c, 1) == 1 ? 0 : fail("sync pipe closed");
}

static int sync_wait(void)
{
	char c;

	return read(job->sync_in, &c, 1) == 1 ? 0 : fail("sync pipe closed");
}

static void names(int rep, char *port, size_t plen, char *path, size_t len)
{
	snprintf(port, plen, "bench%u-%d", job->cell, rep);
	snprintf(path, len, "/local/domain/%u/data/xvchan-bench/%u-%d",
		 job->srv_dom, job->cell, rep);
}

static int open_xvchan(struct conn *c, const char *port)
{
	struct xvchan_config cfg;
	int err;

	xvchan_config_init(&cfg);
	cfg.connect_timeout_ms = CONNECT_TIMEOUT_MS;
	if (c->transport == XV_BENCH_XVCHAN_NOSPIN)
		cfg.spin_us = 0;
	else if (job->spin_us >= 0)
		cfg.spin_us = (unsigned int)job->spin_us;
	if (job->role == XV_BENCH_SERVER)
		err = xvchan_server(&c->xv, job->cli_dom, port,
				    job->ring, job->ring, &cfg);
	else
		err = xvchan_client(&c->xv, job->srv_dom, port, &cfg);
	return err ? fail("connect: %s", xvchan_strerror(err)) : 0;
}

/*
 * libxenvchan's client cannot wait for its server. In another domain it
 * has only xenstore to learn that the server has published, so when
 * connect time is measured it watches the key the server writes last and
 * tries at each event, as a real client must (xvchan's client waits the
 * same way inside the library). The side pipe used elsewhere has no
 * counterpart between domains: timing connect with it would hand
 * libxenvchan a signal no real client gets.
 */
static struct libxenvchan *libxenvchan_client_wait(const char *path)
{
	struct libxenvchan *lx = NULL;
	struct xs_handle *xs = xs_open(0);
	char key[256];
	int64_t deadline = xv_bench_now_ns() +
			   (int64_t)CONNECT_TIMEOUT_MS * 1000000;

	snprintf(key, sizeof(key), "%s/event-channel", path);
	if (!xs || !xs_watch(xs, key, "lx")) {
		fail("xenstore watch on %s: %s", key, strerror(errno));
		if (xs)
			xs_close(xs);
		return NULL;
	}
	/* xenstored fires a new watch once at once: that is the first try. */
	while (!lx) {
		struct pollfd p = { .fd = xs_fileno(xs), .events = POLLIN };
		int64_t left = deadline - xv_bench_now_ns();
		unsigned int n;
		char **ev;

		if (left <= 0 || poll(&p, 1, (int)(left / 1000000) + 1) <= 0) {
			fail("libxenvchan_client_init: no server in %d ms",
			     CONNECT_TIMEOUT_MS);
			break;
		}
		ev = xs_read_watch(xs, &n);
		if (!ev) {
			fail("xs_read_watch: %s", strerror(errno));
			break;
		}
		free(ev);
		lx = libxenvchan_client_init(NULL, job->srv_dom, path);
	}
	/* Also ends the watch. */
	xs_close(xs);
	return lx;
}

/* Elsewhere the server says when it has published (the side pipe): no
 * polling interval pads the figures. */
static int open_libxenvchan(struct conn *c, const char *path)
{
	bool connect_test = job->test == XV_BENCH_CONNECT;

	if (job->role == XV_BENCH_SERVER) {
		c->lx = libxenvchan_server_init(NULL, job->cli_dom,
						path, job->ring, job->ring);
		if (!c->lx)
			return fail("libxenvchan_server_init: %s", strerror(errno));
		c->lx->blocking = 1;
		if (!connect_test && sync_send() < 0)
			return -1;
		/* 2 = published, no client yet; the client's connect
		 * notifies. */
		while (libxenvchan_is_open(c->lx) == 2)
			if (libxenvchan_wait(c->lx) < 0)
				return fail("libxenvchan_wait failed");
		return 0;
	}
	if (connect_test) {
		c->lx = libxenvchan_client_wait(path);
		if (!c->lx)
			return -1;
	} else {
		if (sync_wait() < 0)
			return -1;
		c->lx = libxenvchan_client_init(NULL, job->srv_dom, path);
		if (!c->lx)
			return fail("libxenvchan_client_init: %s",
				    strerror(errno));
	}
	c->lx->blocking = 1;
	return 0;
}

/* socketpair: a named (abstract) Unix socket stands in for a vchan's
 * rendezvous when connect time is measured. */
static int open_unix(struct conn *c, int rep)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen;
	int fd, lfd;

	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
		 "xvchan-bench-%d-%u-%d", (int)getppid(), job->cell, rep);
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			    strlen(sa.sun_path + 1));
	if (job->role == XV_BENCH_SERVER) {
		lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, salen) < 0 ||
		    listen(lfd, 1) < 0)
			return fail("listen: %s", strerror(errno));
		if (sync_send() < 0)
			return -1;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		close(lfd);
	} else {
		if (sync_wait() < 0)
			return -1;
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, salen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		return fail("connect: %s", strerror(errno));
	c->in = c->out = fd;
	return 0;
}

/* pipe: a FIFO in the benchmark's private state directory; opening it
 * blocks until both ends are open, which is its "connected". */
static int open_fifo(struct conn *c, int rep)
{
	const char *dir = getenv("XVCHAN_BENCH_DIR");
	char path[512];
	int fd;

	if (!dir)
		return fail("XVCHAN_BENCH_DIR is not set");
	snprintf(path, sizeof(path), "%s/fifo-%u-%d", dir, job->cell, rep);
	if (job->role == XV_BENCH_SERVER) {
		if (mkfifo(path, 0600) < 0)
			return fail("mkfifo %s: %s", path, strerror(errno));
		if (sync_send() < 0)
			return -1;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		unlink(path);
		c->in = fd;
	} else {
		if (sync_wait() < 0)
			return -1;
		fd = open(path, O_WRONLY | O_CLOEXEC);
		c->out = fd;
	}
	return fd < 0 ? fail("open %s: %s", path, strerror(errno)) : 0;
}

/* The socketpair or pipes the parent made; sized to the ring. */
static int open_inherited(struct conn *c)
{
	int size = (int)job->ring, got;
	socklen_t len = sizeof(got);

	c->in = job->data_in;
	c->out = job->data_out;
	if (c->transport == XV_BENCH_PIPE) {
		/* Each side sizes the pipe it writes (the request pipe too:
		 * the reverse direction gets the same ring, like a vchan). */
		if (fcntl(c->out, F_SETPIPE_SZ, size) < 0)
			return fail("F_SETPIPE_SZ %d: %s", size, strerror(errno));
		return 0;
	}
	if (setsockopt(c->out, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) < 0 ||
	    setsockopt(c->in, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		return fail("setsockopt: %s", strerror(errno));
	if (job->role == XV_BENCH_CLIENT &&
	    getsockopt(c->out, SOL_SOCKET, SO_SNDBUF, &got, &len) == 0)
		report("buf %d", got);
	return 0;
}

static int conn_open(struct conn *c, int rep)
{
	char port[64], path[128];

	*c = (struct conn){ .transport = job->transport, .in = -1, .out = -1 };
	names(rep, port, sizeof(port), path, sizeof(path));
	switch (c->transport) {
	case XV_BENCH_XVCHAN:
	case XV_BENCH_XVCHAN_NOSPIN:
		return open_xvchan(c, port);
	case XV_BENCH_LIBXENVCHAN:
		return open_libxenvchan(c, path);
	case XV_BENCH_SOCKETPAIR:
		return job->test == XV_BENCH_CONNECT ? open_unix(c, rep) :
		       open_inherited(c);
	case XV_BENCH_PIPE:
		return job->test == XV_BENCH_CONNECT ? open_fifo(c, rep) :
		       open_inherited(c);
	case XV_BENCH_NTRANSPORTS:
		break;
	}
	return fail("no such transport");
}

static void conn_close(struct conn *c)
{
	if (c->xv) {
		int err = xvchan_close(c->xv);

		if (err)
			fail("close: %s", xvchan_strerror(err));
	}
	if (c->lx)
		libxenvchan_close(c->lx);
	if (c->in >= 0)
		close(c->in);
	if (c->out >= 0 && c->out != c->in)
		close(c->out);
}

static int conn_write(struct conn *c, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	if (c->xv) {
		n = xvchan_write(c->xv, buf, len);
		return n == (ssize_t)len ? 0 :
		       fail("write: %s", n < 0 ? xvchan_strerror((int)n) : "short");
	}
	if (c->lx) {
		/* Blocking libxenvchan_write() returns only when all is in. */
		int r = libxenvchan_write(c->lx, buf, len);

		return r == (int)len ? 0 : fail("libxenvchan_write: %d", r);
	}
	while (len) {
		n = write(c->out, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail("write: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Some bytes (at least 1), 0 at end of stream, -1 on error. */
static ssize_t conn_read(struct conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->xv) {
		n = xvchan_read(c->xv, buf, len);
		return n >= 0 ? n : fail("read: %s", xvchan_strerror((int)n));
	}
	if (c->lx) {
		int r = libxenvchan_read(c->lx, buf, len);

		/* -1 is also how libxenvchan reports a closed peer. */
		return r > 0 ? r : fail("libxenvchan_read: %d", r);
	}
	do
		n = read(c->in, buf, len);
	while (n < 0 && errno == EINTR);
	return n >= 0 ? n : fail("read: %s", strerror(errno));
}

static int conn_read_full(struct conn *c, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = conn_read(c, p, len);

		if (n <= 0)
			return n == 0 ? fail("unexpected end of stream") : -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_u64(struct conn *c, uint64_t v)
{
	unsigned char b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return conn_write(c, b, sizeof(b));
}

static int recv_u64(struct conn *c, uint64_t *v)
{
	unsigned char b[8];
	int i;

	if (conn_read_full(c, b, sizeof(b)) < 0)
		return -1;
	*v = 0;
	for (i = 0; i < 8; i++)
		*v |= (uint64_t)b[i] << (8 * i);
	return (*v & ~UNTIMED) <= REQUEST_MAX ? 0 :
	       fail("impossible request %" PRIu64, *v);
}

static unsigned char *pattern(void)
{
	unsigned char *p = malloc(PAT_PERIOD + MSG_MAX);
	uint64_t x = 0x9e3779b97f4a7c15u;
	size_t i;

	if (!p)
		return NULL;
	for (i = 0; i < PAT_PERIOD; i++) {
		/* xorshift64: cheap, and no short period. */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 32);
	}
	memcpy(p + PAT_PERIOD, p, MSG_MAX);
	return p;
}

/* Bytes for a timed repetition: what @rate (B/ns) moves in target_ms. */
static uint64_t size_rep(double rate)
{
	double want = rate * job->target_ms * 1e6;
	uint64_t n;

	if (want < (double)job->msg * 4)
		want = (double)job->msg * 4;
	if (want > (double)((uint64_t)1 << 36))
		want = (double)((uint64_t)1 << 36);
	n = (uint64_t)want;
	return n - n % job->msg;
}

/* Whether a repetition that took @ns is too short to size the timed ones:
 * under a quarter of the target. */
static bool too_short(int64_t ns)
{
	return ns < (int64_t)job->target_ms * 250000;
}

/*
 * Ask for @n bytes (@flags: 0 or UNTIMED) and receive them; compare each
 * with the pattern when @pat is set. @off counts the stream's bytes.
 */
static int stream_take(struct conn *c, unsigned char *buf, uint64_t n,
		       uint64_t flags, const unsigned char *pat, uint64_t *off)
{
	uint64_t got;

	if (send_u64(c, n | flags) < 0)
		return -1;
	for (got = 0; got < n;) {
		size_t want = n - got < job->msg ? n - got : job->msg;
		ssize_t r = conn_read(c, buf, want);

		if (r <= 0)
			return r == 0 ? fail("early end of stream") : -1;
		if (pat && memcmp(buf, pat + *off % PAT_PERIOD, (size_t)r) != 0)
			return fail("data differ in bytes %" PRIu64 "..%" PRIu64,
				    *off, *off + (uint64_t)r);
		got += (uint64_t)r;
		*off += (uint64_t)r;
	}
	return 0;
}

static int stream_receiver(struct conn *c, unsigned char *pat)
{
	uint64_t n = job->first, off = 0;
	unsigned char *buf;
	int64_t start, end;
	int rep, sizing, err;

	if (n == 0 || n > REQUEST_MAX)
		return fail("bad first repetition of %" PRIu64 " bytes", n);
	buf = malloc(job->msg);
	if (!buf)
		return fail("out of memory");
	start = xv_bench_now_ns();
	err = stream_take(c, buf, n, 0, pat, &off);
	end = xv_bench_now_ns();
	if (!err)
		report("t1 0 %" PRIu64 " %" PRId64, n, end);
	for (sizing = 0; !err && sizing < SIZING_MAX && too_short(end - start);
	     sizing++) {
		n = size_rep((double)n / (double)(end - start));
		start = xv_bench_now_ns();
		err = stream_take(c, buf, n, UNTIMED, NULL, &off);
		end = xv_bench_now_ns();
	}
	n = size_rep((double)n / (double)(end - start));
	for (rep = 1; rep <= job->reps && !err; rep++) {
		if (rep == 1)
			mark();
		err = stream_take(c, buf, n, 0, NULL, &off);
		if (!err)
			report("t1 %d %" PRIu64 " %" PRId64, rep, n,
			       xv_bench_now_ns());
	}
	free(buf);
	return err ? err : send_u64(c, 0);
}

static int stream_sender(struct conn *c, const unsigned char *pat)
{
	uint64_t n, off = 0, sent;
	int rep;

	for (rep = 0;;) {
		bool timed;

		if (recv_u64(c, &n) < 0)
			return -1;
		if (n == 0)
			return 0;
		timed = !(n & UNTIMED);
		n &= ~UNTIMED;
		if (timed) {
			if (rep == 1)
				mark();
			report("t0 %d %" PRId64, rep++, xv_bench_now_ns());
		}
		for (sent = 0; sent < n;) {
			size_t len = n - sent < job->msg ? n - sent : job->msg;

			if (conn_write(c, pat + off % PAT_PERIOD, len) < 0)
				return -1;
			sent += len;
			off += len;
		}
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted @v. */
static int64_t pct(const int64_t *v, uint64_t n, unsigned int p)
{
	uint64_t rank = (n * p + 99) / 100;

	return v[rank ? rank - 1 : 0];
}

/* Round trips in one repetition at most. */
#define TRIPS_MAX 1000000

/* Round trips for a timed repetition: what takes target_ms at @mean_ns
 * each, 100 to TRIPS_MAX. */
static uint64_t size_trips(double mean_ns)
{
	double want = job->target_ms * 1e6 / (mean_ns > 1 ? mean_ns : 1);

	return want < 100 ? 100 : want > TRIPS_MAX ? TRIPS_MAX : (uint64_t)want;
}

/*
 * Ask for @n round trips (@flags: 0 or UNTIMED) and make them, each timed
 * into @rtt (room for @n) and every pong compared with its ping. @off
 * counts the pattern's bytes; @total gets the sum of the round trips.
 */
static int pingpong_trips(struct conn *c, const unsigned char *pat,
			  uint64_t n, uint64_t flags, int64_t *rtt,
			  uint64_t *off, int64_t *total)
{
	unsigned char pong[XV_BENCH_PING_SIZE];
	uint64_t i;

	*total = 0;
	if (send_u64(c, n | flags) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const unsigned char *ping = pat + *off % PAT_PERIOD;
		int64_t t = xv_bench_now_ns();

		if (conn_write(c, ping, XV_BENCH_PING_SIZE) < 0 ||
		    conn_read_full(c, pong, XV_BENCH_PING_SIZE) < 0)
			return -1;
		rtt[i] = xv_bench_now_ns() - t;
		*total += rtt[i];
		if (memcmp(ping, pong, XV_BENCH_PING_SIZE))
			return fail("pong %" PRIu64 " differs from its ping", i);
		*off += XV_BENCH_PING_SIZE;
	}
	return 0;
}

/* Report repetition @rep's @n round trips in @rtt: p50 and p99. */
static void report_trips(int rep, int64_t *rtt, uint64_t n)
{
	qsort(rtt, n, sizeof(*rtt), cmp_i64);
	report("rtt %d %" PRIu64 " %" PRId64 " %" PRId64, rep, n,
	       pct(rtt, n, 50), pct(rtt, n, 99));
}

static int pingpong_asker(struct conn *c, const unsigned char *pat)
{
	uint64_t n = job->first, off = 0;
	int64_t *rtt, total;
	int rep, sizing, err;

	if (n < 1 || n > TRIPS_MAX)
		return fail("bad first repetition of %" PRIu64 " round trips", n);
	rtt = malloc(TRIPS_MAX * sizeof(*rtt));
	if (!rtt)
		return fail("out of memory");
	err = pingpong_trips(c, pat, n, 0, rtt, &off, &total);
	if (!err)
		report_trips(0, rtt, n);
	for (sizing = 0; !err && sizing < SIZING_MAX && too_short(total);
	     sizing++) {
		n = size_trips((double)total / (double)n);
		err = pingpong_trips(c, pat, n, UNTIMED, rtt, &off, &total);
	}
	n = size_trips((double)total / (double)n);
	for (rep = 1; rep <= job->reps && !err; rep++) {
		if (rep == 1)
			mark();
		err = pingpong_trips(c, pat, n, 0, rtt, &off, &total);
		if (!err)
			report_trips(rep, rtt, n);
	}
	free(rtt);
	return err ? err : send_u64(c, 0);
}

static int pingpong_echoer(struct conn *c)
{
	unsigned char buf[XV_BENCH_PING_SIZE];
	uint64_t n, i;
	int rep;

	for (rep = 0;;) {
		if (recv_u64(c, &n) < 0)
			return -1;
		if (n == 0)
			return 0;
		if (!(n & UNTIMED) && rep++ == 1)
			mark();
		n &= ~UNTIMED;
		for (i = 0; i < n; i++)
			if (conn_read_full(c, buf, sizeof(buf)) < 0 ||
			    conn_write(c, buf, sizeof(buf)) < 0)
				return -1;
	}
}

/*
 * Each repetition connects afresh under a new name.  The client says it
 * is ready first, so that the server's clock starts with a client already
 * waiting, as a guest agent's would be.
 */
static int connect_loop(void)
{
	struct conn c;
	int rep;

	mark();
	for (rep = 0; rep < job->reps; rep++) {
		int64_t start = 0;

		if (job->role == XV_BENCH_CLIENT) {
			if (sync_send() < 0)
				return -1;
		} else {
			if (sync_wait() < 0)
				return -1;
			start = xv_bench_now_ns();
		}
		if (conn_open(&c, rep) < 0)
			return -1;
		report("conn %d %" PRId64 " %" PRId64, rep, start, xv_bench_now_ns());
		conn_close(&c);
	}
	return 0;
}

/* The server reads and blocks; the client stays silent for idle_ms, then
 * sends one byte to end it. */
static int idle_run(struct conn *c)
{
	struct timespec ts = { job->idle_ms / 1000,
			       (job->idle_ms % 1000) * 1000000L };
	int64_t start, end;
	char b = 'x';
	ssize_t n;

	/* The parent charges the reader everything after this mark: the
	 * spin budget, the sleep, the wake-up and the close. */
	mark();
	if (job->role == XV_BENCH_CLIENT) {
		nanosleep(&ts, NULL);
		return conn_write(c, &b, 1);
	}
	start = xv_bench_now_ns();
	n = conn_read(c, &b, 1);
	end = xv_bench_now_ns();
	if (n != 1)
		return n == 0 ? fail("early end of stream") : -1;
	report("idle %" PRId64, end - start);
	return 0;
}

int xv_bench_child(const struct xv_bench_job *j)
{
	unsigned char *pat = NULL;
	struct conn c;
	int err;

	job = j;
	if (j->test == XV_BENCH_CONNECT)
		return connect_loop() < 0;
	if (j->test == XV_BENCH_STREAM || j->test == XV_BENCH_PINGPONG) {
		pat = pattern();
		if (!pat)
			return fail("out of memory"), 1;
	}
	if (conn_open(&c, 0) < 0) {
		free(pat);
		return 1;
	}
	switch (j->test) {
	case XV_BENCH_STREAM:
		err = j->role == XV_BENCH_SERVER ? stream_receiver(&c, pat) :
		      stream_sender(&c, pat);
		break;
	case XV_BENCH_PINGPONG:
		err = j->role == XV_BENCH_SERVER ? pingpong_echoer(&c) :
		      pingpong_asker(&c, pat);
		break;
	default:
		err = idle_run(&c);
		break;
	}
	conn_close(&c);
	free(pat);
	return err < 0;
}
