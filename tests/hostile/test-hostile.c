/*
 * xvchan against a hostile peer on the simulator: hostile-peer (built
 * beside this test) plays the other end, as server or as client, and
 * breaks the protocol; the victim, xvchan in a forked domain, must answer
 * with the documented error within a bounded time, never crash, and free
 * everything (checked by LeakSanitizer when the build is sanitized).
 *
 * A victim cannot report through Check: it checks with HV_* (message on
 * stderr, non-zero exit) and the test asserts exit status 0 for both ends.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/libxenvchan.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "test-common.h"
#include "test-sim.h"
#include "xvchan.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HV_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HV_LSAN 1
#endif
#ifdef HV_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#define HV_SERVER_DOM 1u
#define HV_CLIENT_DOM 2u
/* The bound on every victim verdict; generous for a loaded 2-core box. */
#define HV_VERDICT_MS 20000
#define HV_WAIT_MS 30000

#define HV_FAIL(fmt, ...)						\
	do {								\
		fprintf(stderr, "%s:%d: victim %d: " fmt "\n", __FILE__,\
			__LINE__, (int)getpid(), __VA_ARGS__);		\
		_exit(100);						\
	} while (0)

#define HV_EQ(a, b)							\
	do {								\
		long long hv_a_ = (long long)(a);			\
		long long hv_b_ = (long long)(b);			\
		if (hv_a_ != hv_b_)					\
			HV_FAIL("%s == %lld, expected %s == %lld", #a,	\
				hv_a_, #b, hv_b_);			\
	} while (0)

#define HV_ASSERT(c)							\
	do {								\
		if (!(c))						\
			HV_FAIL("failed: %s", #c);			\
	} while (0)

static char program_dir[PATH_MAX];

static void setup(void)
{
	ssize_t n = readlink("/proc/self/exe", program_dir,
			     sizeof(program_dir) - 1);

	ck_assert_int_gt(n, 0);
	program_dir[n] = '\0';
	*strrchr(program_dir, '/') = '\0';
	xv_test_sim_start();
}

static void teardown(void)
{
	xv_test_sim_stop();
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The victim's last act: nothing of the endpoint may be left behind. */
static void __attribute__((noreturn)) victim_exit(void)
{
#ifdef HV_LSAN
	if (__lsan_do_recoverable_leak_check())
		_exit(102);
#endif
	_exit(0);
}

static pid_t spawn_hostile(bool server, const char *mode, const char *port,
			   unsigned int seed, unsigned int rounds)
{
	char program[PATH_MAX + 32], peer[16], s[16], r[16];
	char *argv[] = { program, server ? "server" : "client", (char *)mode,
			 peer, (char *)port, s, r, NULL };

	snprintf(program, sizeof(program), "%s/hostile-peer", program_dir);
	snprintf(peer, sizeof(peer), "%u",
		 server ? HV_CLIENT_DOM : HV_SERVER_DOM);
	snprintf(s, sizeof(s), "%u", seed);
	snprintf(r, sizeof(r), "%u", rounds);
	ck_assert_int_eq(access(program, X_OK), 0);
	return xv_test_spawn(server ? HV_SERVER_DOM : HV_CLIENT_DOM, argv);
}

static void victim_config(struct xvchan_config *cfg, int io_timeout_ms)
{
	xvchan_config_init(cfg);
	cfg->connect_timeout_ms = 10000;
	cfg->close_timeout_ms = 2000;
	cfg->io_timeout_ms = io_timeout_ms;
}

static struct xvchan *victim_server(const char *port, int io_timeout_ms)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	victim_config(&cfg, io_timeout_ms);
	HV_EQ(xvchan_server(&x, HV_CLIENT_DOM, port, 4096, 2048, &cfg), 0);
	return x;
}

static struct xvchan *victim_client(const char *port, int io_timeout_ms)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	victim_config(&cfg, io_timeout_ms);
	HV_EQ(xvchan_client(&x, HV_SERVER_DOM, port, &cfg), 0);
	return x;
}

/* Close within the bound; a broken endpoint skips the drain. */
static void victim_close(struct xvchan *x, int expect)
{
	int64_t t0 = now_ms();

	HV_EQ(xvchan_close(x), expect);
	HV_ASSERT(now_ms() - t0 < HV_VERDICT_MS);
}

/*
 * A failed check ends the test process before the fixture's teardown
 * runs: stop the simulator first, or its daemon outlives the test.
 */
static void hv_expect_status(int got, int want, const char *who)
{
	if (got == want)
		return;
	xv_test_sim_stop();
	ck_abort_msg("%s exit status %d, expected %d", who, got, want);
}

static void run_pair(pid_t hostile, pid_t victim, bool kill_hostile)
{
	int vs = xv_test_wait(victim, HV_WAIT_MS), hs;

	if (kill_hostile)
		kill(hostile, SIGTERM);
	hs = xv_test_wait(hostile, HV_WAIT_MS);
	hv_expect_status(hs, kill_hostile ? 128 + SIGTERM : 0, "hostile peer");
	hv_expect_status(vs, 0, "victim");
}

/* ---- a hostile server the client must refuse at connect ------------- */

struct refusal {
	const char *mode;
	int expect;
};

static void client_refuses(const struct refusal *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char port[32];
		pid_t hostile, victim;

		snprintf(port, sizeof(port), "refuse-%zu", i);
		hostile = spawn_hostile(true, cases[i].mode, port, 1, 0);
		victim = xv_test_fork_domain(HV_CLIENT_DOM);
		if (victim == 0) {
			struct xvchan_config cfg;
			struct xvchan *x = (struct xvchan *)&cfg;
			int64_t t0 = now_ms();

			victim_config(&cfg, -1);
			HV_EQ(xvchan_client(&x, HV_SERVER_DOM, port, &cfg),
			      cases[i].expect);
			/* Untouched on error. */
			HV_ASSERT(x == (struct xvchan *)&cfg);
			HV_ASSERT(now_ms() - t0 < HV_VERDICT_MS);
			victim_exit();
		}
		run_pair(hostile, victim, true);
	}
}

START_TEST(test_client_refuses_impossible_orders_and_grant_lists)
{
	static const struct refusal cases[] = {
		{ "orders-high", -EPROTO },
		{ "orders-huge", -EPROTO },
		{ "orders-low", -EPROTO },
		{ "orders-same-small", -EPROTO },
		{ "orders-same-large", -EPROTO },
		{ "grants-overlap", -EPROTO },
		{ "initial-prod", -EPROTO },
		{ "live-waiting", -ECONNREFUSED },
	};

	client_refuses(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(test_client_refuses_garbage_xenstore_entries)
{
	static const struct refusal cases[] = {
		{ "ref-abc", -EPROTO },
		{ "ref-zero", -EPROTO },
		{ "evtchn-huge", -EPROTO },
		{ "evtchn-negative", -EPROTO },
	};

	client_refuses(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

/*
 * Grants and ports the server never made. The simulator answers as Linux's
 * gntdev and evtchn drivers do (EINVAL for any failed map op or bind). A
 * published ring-ref or port that Xen refuses cannot be told from a dead
 * server's leftover entry: -ECONNREFUSED, "the published server is not
 * waiting" (xvchan.h). Once the control page is mapped the server is
 * there, so ring grants it never made are a lie: -EPROTO. Never the
 * -EINVAL that means a bad argument.
 */
START_TEST(test_client_fails_on_grants_and_ports_never_made)
{
	static const struct refusal cases[] = {
		{ "grants-ungranted", -EPROTO },
		{ "ref-ungranted", -ECONNREFUSED },
		{ "evtchn-unbound", -ECONNREFUSED },
	};

	client_refuses(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

/* Read once; must be exactly @want. */
static void victim_read_is(struct xvchan *x, ssize_t want)
{
	char buf[64];

	HV_EQ(xvchan_read(x, buf, sizeof(buf)), want);
}

/*
 * A server that published and died before the client came: its keys stay
 * (the domain lives on), its port is closed. Binding to it fails as in
 * Linux's evtchn driver (EINVAL), which the client reports as
 * -ECONNREFUSED like the cases above.
 */
START_TEST(test_client_refuses_a_server_that_died_after_publishing)
{
	pid_t hostile = spawn_hostile(true, "publish-die", "died", 1, 0);
	pid_t victim;

	/* Dead first, so the victim always finds the same leftovers. */
	hv_expect_status(xv_test_wait(hostile, HV_WAIT_MS), 0, "hostile peer");
	victim = xv_test_fork_domain(HV_CLIENT_DOM);
	if (victim == 0) {
		struct xvchan_config cfg;
		struct xvchan *x = NULL;

		victim_config(&cfg, -1);
		HV_EQ(xvchan_client(&x, HV_SERVER_DOM, "died", &cfg), -ECONNREFUSED);
		HV_ASSERT(x == NULL);
		victim_exit();
	}
	hv_expect_status(xv_test_wait(victim, HV_WAIT_MS), 0, "victim");
}
END_TEST

/*
 * Ring grants that alias other pages: the client cannot tell (two refs may
 * name one frame on Xen too), but whatever it then reads and writes stays
 * inside its own mappings, and the lie shows as -EPROTO.
 */
START_TEST(test_client_ring_grants_aliasing_the_control_page)
{
	pid_t hostile = spawn_hostile(true, "alias-page", "alias-page", 1, 0);
	pid_t victim = xv_test_fork_domain(HV_CLIENT_DOM);

	if (victim == 0) {
		struct xvchan *x = victim_client("alias-page", 10000);
		char a[100];

		memset(a, 'A', sizeof(a));
		/* Our tx ring is the control page: the 100 bytes land on
		 * both index pairs, so the next look at them is a lie. */
		HV_EQ(xvchan_write(x, a, sizeof(a)), 100);
		victim_read_is(x, -EPROTO);
		HV_EQ(xvchan_write(x, a, sizeof(a)), -EPROTO);
		/* A broken endpoint is freed without a drain; close says why. */
		victim_close(x, -EPROTO);
		victim_exit();
	}
	run_pair(hostile, victim, false);
}
END_TEST

START_TEST(test_client_rings_aliasing_each_other)
{
	pid_t hostile = spawn_hostile(true, "alias-rings", "alias-rings", 1, 0);
	pid_t victim = xv_test_fork_domain(HV_CLIENT_DOM);

	if (victim == 0) {
		struct xvchan *x = victim_client("alias-rings", 10000);
		char a[100], b[200];

		memset(a, 'A', sizeof(a));
		HV_EQ(xvchan_write(x, a, sizeof(a)), 100);
		/* What the server offers is our own bytes, read back
		 * through the read-only mapping of the same page. */
		HV_EQ(xvchan_read(x, b, sizeof(b)), 100);
		HV_ASSERT(!memcmp(a, b, 100));
		victim_read_is(x, 0);
		victim_close(x, 0);
		victim_exit();
	}
	run_pair(hostile, victim, false);
}
END_TEST

/* ---- scripted breakage after the connect, either role --------------- */

/*
 * What the victim sees for each scripted mode, then its own close. Every
 * lie is sticky (xvchan.h: "every later read/write returns it"), and close
 * reports it too.
 */
static void victim_script(struct xvchan *x, const char *mode)
{
	char buf[64];
	int64_t end = now_ms() + HV_VERDICT_MS;

	if (!strcmp(mode, "prod-beyond") || !strcmp(mode, "live-junk")) {
		victim_read_is(x, -EPROTO);
	} else if (!strcmp(mode, "prod-back")) {
		static char fill[XVCHAN_RING_MAX + 1];
		size_t ws;

		HV_EQ(xvchan_read(x, buf, 10), 10);
		HV_ASSERT(!memcmp(buf, "xxxxxxxxxx", 10));
		/* Returns once the peer has moved prod back and made room. */
		HV_EQ(xvchan_ring_sizes(x, NULL, &ws), 0);
		HV_EQ(xvchan_write(x, fill, ws + 1), ws + 1);
		/* Wanting more than the 10 it knows of, the read looks at
		 * prod again: 15, behind the 20 seen. */
		victim_read_is(x, -EPROTO);
	} else if (!strcmp(mode, "cons-beyond")) {
		ssize_t n;

		/* Writes succeed until the lie is seen, then never. */
		while ((n = xvchan_write(x, "w", 1)) == 1) {
			HV_ASSERT(now_ms() < end);
			usleep(1000);
		}
		HV_EQ(n, -EPROTO);
	} else if (!strcmp(mode, "orders-rewrite")) {
		HV_EQ(xvchan_read(x, buf, sizeof(buf)), 5);
		HV_ASSERT(!memcmp(buf, "ooooo", 5));
		victim_read_is(x, 0);
		HV_EQ(xvchan_write(x, "w", 1), -EPIPE);
		victim_close(x, 0);
		return;
	} else {
		HV_FAIL("unknown mode %s", mode);
	}
	victim_read_is(x, -EPROTO);
	HV_EQ(xvchan_write(x, "w", 1), -EPROTO);
	HV_EQ(xvchan_write(x, "", 0), -EPROTO);
	victim_close(x, -EPROTO);
}

static void run_script(bool victim_is_server, const char *mode, size_t i)
{
	char port[32];
	pid_t hostile, victim;

	snprintf(port, sizeof(port), "script-%zu", i);
	if (victim_is_server) {
		victim = xv_test_fork_domain(HV_SERVER_DOM);
		if (victim == 0) {
			victim_script(victim_server(port, 10000), mode);
			victim_exit();
		}
		hostile = spawn_hostile(false, mode, port, 1, 0);
	} else {
		hostile = spawn_hostile(true, mode, port, 1, 0);
		victim = xv_test_fork_domain(HV_CLIENT_DOM);
		if (victim == 0) {
			victim_script(victim_client(port, 10000), mode);
			victim_exit();
		}
	}
	run_pair(hostile, victim, false);
}

static const char *const scripts[] = {
	"prod-beyond", "prod-back", "cons-beyond", "live-junk", "orders-rewrite",
};

START_TEST(test_server_reports_each_client_lie_exactly)
{
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		run_script(true, scripts[i], i);
}
END_TEST

START_TEST(test_client_reports_each_server_lie_exactly)
{
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		run_script(false, scripts[i], i);
}
END_TEST

/*
 * A peer that stays silent for a second: the blocked reader sleeps on the
 * event channel (spinning at most spin_us per attempt), then sees the end.
 */
static void victim_idle(struct xvchan *x)
{
	int64_t t0 = now_ms(), c0 = xv_test_cpu_ms();

	victim_read_is(x, 0);
	HV_ASSERT(now_ms() - t0 >= 900);
	/* Generous for a loaded machine; a spinning reader uses ~1000. */
	HV_ASSERT(xv_test_cpu_ms() - c0 < 250);
	victim_close(x, 0);
}

START_TEST(test_server_sleeps_while_the_client_is_silent)
{
	pid_t victim = xv_test_fork_domain(HV_SERVER_DOM), hostile;

	if (victim == 0) {
		victim_idle(victim_server("idle", -1));
		victim_exit();
	}
	hostile = spawn_hostile(false, "idle", "idle", 1, 0);
	run_pair(hostile, victim, false);
}
END_TEST

START_TEST(test_client_sleeps_while_the_server_is_silent)
{
	pid_t hostile = spawn_hostile(true, "idle", "idle", 1, 0);
	pid_t victim = xv_test_fork_domain(HV_CLIENT_DOM);

	if (victim == 0) {
		victim_idle(victim_client("idle", -1));
		victim_exit();
	}
	run_pair(hostile, victim, false);
}
END_TEST

/*
 * A peer killed outright (SIGKILL, no exit path of its own): the grant
 * driver's unmap-notify must still wake the blocked reader with EOF.
 */
static void victim_sees_kill(struct xvchan *x, int ready_fd)
{
	int64_t t0;

	HV_EQ(write(ready_fd, "r", 1), 1);
	t0 = now_ms();
	victim_read_is(x, 0);
	HV_ASSERT(now_ms() - t0 < 5000);
	HV_EQ(xvchan_write(x, "w", 1), -EPIPE);
	victim_close(x, 0);
}

static void run_kill(bool victim_is_server)
{
	const char *port = victim_is_server ? "kill-s" : "kill-c";
	struct pollfd p;
	pid_t hostile, victim;
	int ready[2];
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	if (victim_is_server) {
		victim = xv_test_fork_domain(HV_SERVER_DOM);
		if (victim == 0)
			victim_sees_kill(victim_server(port, -1), ready[1]);
		hostile = spawn_hostile(false, "hang", port, 1, 0);
	} else {
		hostile = spawn_hostile(true, "hang", port, 1, 0);
		victim = xv_test_fork_domain(HV_CLIENT_DOM);
		if (victim == 0)
			victim_sees_kill(victim_client(port, -1), ready[1]);
	}
	if (victim == 0)
		victim_exit();
	/* Connected, and the victim about to block in read. */
	p = (struct pollfd){ .fd = ready[0], .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, HV_WAIT_MS), 1);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	usleep(200 * 1000);
	ck_assert_int_eq(kill(hostile, SIGKILL), 0);
	hv_expect_status(xv_test_wait(hostile, HV_WAIT_MS), 128 + SIGKILL,
			 "hostile peer");
	/* The victim allows itself 5 s to wake, then closes. */
	hv_expect_status(xv_test_wait(victim, 10000), 0, "victim");
	close(ready[0]);
	close(ready[1]);
}

START_TEST(test_server_reader_wakes_when_the_client_is_killed)
{
	run_kill(true);
}
END_TEST

START_TEST(test_client_reader_wakes_when_the_server_is_killed)
{
	run_kill(false);
}
END_TEST

/* ---- seeded garbage while the victim reads and writes --------------- */

/*
 * Read and write until the peer's end shows (EOF, -EPIPE) or a lie is
 * caught (-EPROTO). Short I/O timeouts keep one direction from starving
 * the other; any other answer, or no end within the bound, is a failure.
 */
static void victim_endure(struct xvchan *x)
{
	int64_t t0 = now_ms(), end = t0 + HV_VERDICT_MS;
	static char buf[8192];
	unsigned long long got = 0, sent = 0;
	ssize_t n;
	int rc;

	for (;;) {
		n = xvchan_read(x, buf, sizeof(buf));
		if (n == 0 || n == -EPROTO)
			break;
		if (n > 0)
			got += (unsigned long long)n;
		if (n != -ETIMEDOUT)
			HV_ASSERT(n > 0 && (size_t)n <= sizeof(buf));
		n = xvchan_write(x, buf, 3000);
		if (n == -EPIPE || n == -EPROTO)
			break;
		if (n > 0)
			sent += (unsigned long long)n;
		if (n != -ETIMEDOUT)
			HV_EQ(n, 3000);
		HV_ASSERT(now_ms() < end);
	}
	fprintf(stderr, "victim: %s after %lld ms, read %llu, wrote %llu\n",
		xvchan_strerror((int)n), (long long)(now_ms() - t0), got, sent);
	end = now_ms();
	rc = xvchan_close(x);
	HV_ASSERT(rc == 0 || rc == -EPROTO || rc == -ETIMEDOUT);
	/* close_timeout_ms is 2000. */
	HV_ASSERT(now_ms() - end < 2000 + 1000);
}

/*
 * The same in non-blocking mode, driven by poll() on xvchan_fd(): -EAGAIN
 * joins the allowed answers, and the descriptor must keep the loop going.
 */
static void victim_endure_nonblock(struct xvchan *x)
{
	int64_t end = now_ms() + HV_VERDICT_MS;
	static char buf[8192];
	ssize_t n;
	int rc;

	for (;;) {
		struct pollfd p = { .fd = xvchan_fd(x), .events = POLLIN };

		HV_ASSERT(p.fd >= 0);
		HV_ASSERT(poll(&p, 1, 50) >= 0);
		n = xvchan_read(x, buf, sizeof(buf));
		if (n == 0 || n == -EPROTO)
			break;
		if (n != -EAGAIN)
			HV_ASSERT(n > 0 && (size_t)n <= sizeof(buf));
		n = xvchan_write(x, buf, 3000);
		if (n == -EPIPE || n == -EPROTO)
			break;
		if (n != -EAGAIN)
			HV_ASSERT(n > 0 && n <= 3000);
		HV_ASSERT(now_ms() < end);
	}
	end = now_ms();
	rc = xvchan_close(x);
	/* Non-blocking close does not wait for the peer. */
	HV_ASSERT(rc == 0 || rc == -EPROTO);
	HV_ASSERT(now_ms() - end < 1000);
}

static struct xvchan *victim_nonblock(bool server, const char *port)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	victim_config(&cfg, -1);
	cfg.flags = XVCHAN_NONBLOCK;
	if (server)
		HV_EQ(xvchan_server(&x, HV_CLIENT_DOM, port, 4096, 2048, &cfg),
		      0);
	else
		HV_EQ(xvchan_client(&x, HV_SERVER_DOM, port, &cfg), 0);
	return x;
}

static void run_garbage_nonblock(bool victim_is_server, unsigned int seed)
{
	char port[32];
	pid_t hostile, victim;

	snprintf(port, sizeof(port), "garbage-nb-%u", seed);
	if (victim_is_server) {
		victim = xv_test_fork_domain(HV_SERVER_DOM);
		if (victim == 0) {
			victim_endure_nonblock(victim_nonblock(true, port));
			victim_exit();
		}
		hostile = spawn_hostile(false, "garbage", port, seed, 3000);
	} else {
		hostile = spawn_hostile(true, "garbage", port, seed, 3000);
		victim = xv_test_fork_domain(HV_CLIENT_DOM);
		if (victim == 0) {
			victim_endure_nonblock(victim_nonblock(false, port));
			victim_exit();
		}
	}
	run_pair(hostile, victim, false);
}

START_TEST(test_nonblocking_endpoints_survive_garbage)
{
	for (unsigned int seed = 101; seed <= 104; seed++) {
		run_garbage_nonblock(true, seed);
		run_garbage_nonblock(false, seed);
	}
}
END_TEST

/*
 * A client may set its live byte before it binds its port: nothing in the
 * protocol orders the two. A guest server that asks its port's status
 * (privcmd unrestricted) then finds the port unbound with the client
 * "connected", which is also what a client destroyed before the server's
 * first look leaves behind. One such look must not end the vchan; the
 * victim paces its own looks (ticks between two reads make one look).
 */
static bool victim_described(struct xvchan *x, const char *what)
{
	char d[1024];

	HV_ASSERT(xvchan_describe(x, d, sizeof(d)) > 0);
	return strstr(d, what) != NULL;
}

static void victim_bind_late(int up_fd)
{
	struct xvchan *x;
	struct pollfd p;
	int64_t end = now_ms() + HV_VERDICT_MS;
	char buf[8];
	size_t got = 0;
	ssize_t n;

	HV_EQ(setenv("XVCHAN_SIM_PRIVCMD", "unrestricted", 1), 0);
	x = victim_nonblock(true, "bind-late");
	/* The first look, before the client can exist: WAITING. */
	p = (struct pollfd){ .fd = xvchan_fd(x), .events = POLLIN };
	HV_ASSERT(p.fd >= 0);
	HV_ASSERT(victim_described(x, "(peer_domain port-polled)"));
	HV_EQ(write(up_fd, "u", 1), 1);
	/* No read, so no look, until the client says it is connected. */
	while (!victim_described(x, "(peer_live 1)")) {
		HV_ASSERT(now_ms() < end);
		usleep(10 * 1000);
	}
	/* A tick is due; this read's look finds the port unbound. */
	usleep(600 * 1000);
	HV_EQ(poll(&p, 1, 0), 1);
	HV_EQ(xvchan_read(x, buf, sizeof(buf)), -EAGAIN);
	HV_ASSERT(victim_described(x, "(peer_domain port-polled)"));
	/* Tell it to bind, and give it time before the next look. */
	HV_EQ(xvchan_write(x, "b", 1), 1);
	usleep(1000 * 1000);
	while ((n = xvchan_read(x, buf + got, sizeof(buf) - got)) != 0) {
		HV_ASSERT(now_ms() < end);
		if (n == -EAGAIN) {
			HV_EQ(poll(&p, 1, HV_VERDICT_MS), 1);
			continue;
		}
		HV_ASSERT(n > 0 && got + (size_t)n <= 5);
		got += (size_t)n;
	}
	HV_EQ(got, 5);
	HV_EQ(memcmp(buf, "lllll", 5), 0);
	HV_ASSERT(victim_described(x, "(peer_domain port-polled)"));
	victim_close(x, 0);
}

START_TEST(test_guest_server_waits_for_a_client_that_binds_late)
{
	int up[2];
	pid_t victim, hostile;
	char c;

	ck_assert_int_eq(pipe(up), 0);
	victim = xv_test_fork_domain(HV_SERVER_DOM);
	if (victim == 0) {
		close(up[0]);
		victim_bind_late(up[1]);
		victim_exit();
	}
	close(up[1]);
	if (read(up[0], &c, 1) != 1) {
		hv_expect_status(xv_test_wait(victim, HV_WAIT_MS), 0,
				 "victim, before it was up,");
		ck_abort_msg("the victim exited 0 before it was up");
	}
	close(up[0]);
	hostile = spawn_hostile(false, "bind-late", "bind-late", 1, 0);
	run_pair(hostile, victim, false);
}
END_TEST

/*
 * Bytes published just before the peer goes must be read before end of
 * stream, even when they land between the reader's look at an empty ring
 * and its look at the peer's live byte: the end is believed only if the
 * ring is still empty after it was seen. To hold the victim in that
 * window, its own process interposes the one call made there (the kick
 * of a writer that asked for the room the empty look gives back; the
 * executable's definitions come before the simulator's libraries): the
 * kick waits until the peer has published 5 more bytes and cleared its
 * live byte.
 */
static struct vchan_interface *race_page;	/* the server's control page */
static bool race_armed;

void *xengntshr_share_page_notify(xengntshr_handle *xgs, uint32_t domid,
				  uint32_t *ref, int writable,
				  uint32_t notify_offset,
				  evtchn_port_t notify_port)
{
	void *(*real)(xengntshr_handle *, uint32_t, uint32_t *, int,
		      uint32_t, evtchn_port_t);
	void *page;

	*(void **)&real = dlsym(RTLD_NEXT, "xengntshr_share_page_notify");
	HV_ASSERT(real != NULL);
	page = real(xgs, domid, ref, writable, notify_offset, notify_port);
	/* A server shares only its control page this way. */
	race_page = page;
	return page;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	int (*real)(xenevtchn_handle *, evtchn_port_t);
	int64_t end = now_ms() + HV_VERDICT_MS;
	int rc;

	*(void **)&real = dlsym(RTLD_NEXT, "xenevtchn_notify");
	HV_ASSERT(real != NULL);
	rc = real(xce, port);
	if (race_armed) {
		race_armed = false;
		while (__atomic_load_n(&race_page->cli_live, __ATOMIC_ACQUIRE))
			HV_ASSERT(now_ms() < end);
	}
	return rc;
}

START_TEST(test_bytes_sent_as_the_peer_goes_come_before_eof)
{
	pid_t victim = xv_test_fork_domain(HV_SERVER_DOM), hostile;

	if (victim == 0) {
		struct xvchan *x = victim_server("close-race", -1);
		char buf[64];

		/* Read, and held back: under a quarter ring. */
		HV_EQ(xvchan_read(x, buf, sizeof(buf)), 10);
		HV_ASSERT(!memcmp(buf, "aaaaaaaaaa", 10));
		race_armed = true;
		HV_EQ(xvchan_read(x, buf, sizeof(buf)), 5);
		HV_ASSERT(!race_armed);	/* the window was hit */
		HV_ASSERT(!memcmp(buf, "bbbbb", 5));
		victim_read_is(x, 0);
		victim_close(x, 0);
		victim_exit();
	}
	hostile = spawn_hostile(false, "close-race", "close-race", 1, 0);
	run_pair(hostile, victim, false);
}
END_TEST

static void run_garbage(bool victim_is_server, unsigned int seed)
{
	char port[32];
	pid_t hostile, victim;

	snprintf(port, sizeof(port), "garbage-%u", seed);
	if (victim_is_server) {
		victim = xv_test_fork_domain(HV_SERVER_DOM);
		if (victim == 0) {
			victim_endure(victim_server(port, 100));
			victim_exit();
		}
		hostile = spawn_hostile(false, "garbage", port, seed, 3000);
	} else {
		hostile = spawn_hostile(true, "garbage", port, seed, 3000);
		victim = xv_test_fork_domain(HV_CLIENT_DOM);
		if (victim == 0) {
			victim_endure(victim_client(port, 100));
			victim_exit();
		}
	}
	run_pair(hostile, victim, false);
}

START_TEST(test_server_survives_a_garbage_client)
{
	for (unsigned int seed = 1; seed <= 8; seed++)
		run_garbage(true, seed);
}
END_TEST

START_TEST(test_client_survives_a_garbage_server)
{
	for (unsigned int seed = 1; seed <= 8; seed++)
		run_garbage(false, seed);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc;

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_client_refuses_impossible_orders_and_grant_lists);
	tcase_add_test(tc, test_client_refuses_garbage_xenstore_entries);
	tcase_add_test(tc, test_client_fails_on_grants_and_ports_never_made);
	tcase_add_test(tc, test_client_refuses_a_server_that_died_after_publishing);
	tcase_add_test(tc, test_client_ring_grants_aliasing_the_control_page);
	tcase_add_test(tc, test_client_rings_aliasing_each_other);
	tcase_add_test(tc, test_server_reports_each_client_lie_exactly);
	tcase_add_test(tc, test_client_reports_each_server_lie_exactly);
	tcase_add_test(tc, test_server_reader_wakes_when_the_client_is_killed);
	tcase_add_test(tc, test_client_reader_wakes_when_the_server_is_killed);
	tcase_add_test(tc, test_server_survives_a_garbage_client);
	tcase_add_test(tc, test_client_survives_a_garbage_server);
	tcase_add_test(tc, test_nonblocking_endpoints_survive_garbage);
	tcase_add_test(tc, test_server_sleeps_while_the_client_is_silent);
	tcase_add_test(tc, test_client_sleeps_while_the_server_is_silent);
	tcase_add_test(tc, test_guest_server_waits_for_a_client_that_binds_late);
	tcase_add_test(tc, test_bytes_sent_as_the_peer_goes_come_before_eof);
	suite_add_tcase(s, tc);
	return s;
}
