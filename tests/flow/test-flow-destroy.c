/*
 * The peer's domain destroyed (`xl destroy`, xvchan-sim destroy): it runs
 * nothing on its way out, so no live byte is cleared and no event comes;
 * only xenstore knows (@releaseDomain), and the survivor's event-channel
 * port, which Xen leaves unbound. A dom0 endpoint watches xenstore and
 * sees the end within a second: reads return what is left, then 0;
 * writes -EPIPE; a blocked call and a poll on xvchan_fd() wake; close
 * does not wait for its timeout. A guest endpoint may not watch another
 * domain (xenstored refuses, XSA-115): it asks its port's status twice a
 * second instead, and sees the end within the same second; whose peer is
 * dom0 (never destroyed) does neither.
 *
 * Each test uses a guest domain of its own, so that one destroyed by an
 * earlier test is never needed again.
 */
/* flow-test.h first: it defines _GNU_SOURCE. */
#include "flow-test.h"

#include <time.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DT_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define DT_LSAN 1
#endif
#ifdef DT_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* The bound: the end seen within a second of the destroy. */
#define DT_BOUND_MS 1000

static int64_t dt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A survivor's last act, after its close: in an ASan build nothing of the
 * endpoint (the watch's xenstore handle included) may be left behind.
 * _exit() skips LeakSanitizer's own check at exit, so ask for it. */
static void __attribute__((noreturn)) dt_exit(void)
{
#ifdef DT_LSAN
	if (__lsan_do_recoverable_leak_check())
		_exit(102);
#endif
	_exit(0);
}

static struct xvchan *dt_server(unsigned int client, const char *port,
				unsigned int flags)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, flags);
	FT_EQ(xvchan_server(&x, client, port, 4096, 4096, &cfg), 0);
	FT_ASSERT(x != NULL);
	return x;
}

static struct xvchan *dt_client(unsigned int server, const char *port,
				unsigned int flags)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, flags);
	FT_EQ(xvchan_client(&x, server, port, &cfg), 0);
	FT_ASSERT(x != NULL);
	return x;
}

/* Child: report when it saw the end. */
static void dt_send_time(int fd)
{
	int64_t t = dt_now_ms();

	FT_EQ(write(fd, &t, sizeof(t)), sizeof(t));
}

/* Destroy @domid; *@began and *@done bracket the command. */
static void dt_destroy(unsigned int domid, int64_t *began, int64_t *done)
{
	*began = dt_now_ms();
	xv_test_sim_destroy(domid);
	*done = dt_now_ms();
}

/* The survivor's end came after the destroy began and within the bound
 * of its completion (when @releaseDomain has fired). */
static void dt_check_time(int fd, int64_t began, int64_t done,
			  const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t t = 0;

	ck_assert_int_eq(poll(&p, 1, FT_WAIT_MS), 1);
	ck_assert_int_eq(read(fd, &t, sizeof(t)), sizeof(t));
	fprintf(stderr, "%s: %lld ms after the destroy began, %lld ms after "
		"it returned\n", what, (long long)(t - began),
		(long long)(t - done));
	ck_assert_int_ge(t, began);
	ck_assert_int_lt(t - done, DT_BOUND_MS);
}

/* A timed case: its port, and the pipes on which the survivor says that
 * it is up (@up) and when it saw the end (@res). */
struct dt_case {
	const char *port;
	unsigned int srv_dom, cli_dom;
	int up[2];
	int res[2];
};

/*
 * A timed case: @server in domain @srv_dom, @client in @cli_dom, and
 * @guest one of the two, to destroy. Once the survivor says it is up (and
 * 100 ms later, to let it reach its sleep), the guest is destroyed and
 * its side must die of it; the survivor reports the end within the bound
 * and exits 0.
 */
static void dt_run_timed_guest(const char *port, unsigned int srv_dom,
			       void (*server)(void *), unsigned int cli_dom,
			       void (*client)(void *), unsigned int guest,
			       const char *what)
{
	struct dt_case c = {
		.port = port, .srv_dom = srv_dom, .cli_dom = cli_dom,
	};
	pid_t srv, cli, victim, survivor;
	int64_t began, done;

	FT_PIPE(c.up);
	FT_PIPE(c.res);
	srv = ft_fork_side(srv_dom, server, &c);
	cli = ft_fork_side(cli_dom, client, &c);
	victim = guest == srv_dom ? srv : cli;
	survivor = guest == srv_dom ? cli : srv;
	FT_AWAIT_PARENT(c.up[0]);
	usleep(100 * 1000);
	dt_destroy(guest, &began, &done);
	ck_assert_int_eq(xv_test_wait(victim, FT_WAIT_MS), 128 + SIGKILL);
	dt_check_time(c.res[0], began, done, what);
	ck_assert_int_eq(xv_test_wait(survivor, FT_WAIT_MS), 0);
	ft_close_pipe(c.up);
	ft_close_pipe(c.res);
}

/* A timed case between dom0 (the survivor) and a guest. */
static void dt_run_timed(const char *port, unsigned int srv_dom,
			 void (*server)(void *), unsigned int cli_dom,
			 void (*client)(void *), const char *what)
{
	dt_run_timed_guest(port, srv_dom, server, cli_dom, client,
			   srv_dom != 0 ? srv_dom : cli_dom, what);
}

/* A timed case's guest that only connects, then waits for its destroy. */
static void dt_idle_client(void *arg)
{
	const struct dt_case *dc = arg;

	(void)dt_client(dc->srv_dom, dc->port, 0);
	ft_sleep_until_killed();
}

/*
 * A dom0 survivor's blocked read: after the guest's stream @seed it says it
 * is up, sleeps on the empty ring until the destroy, reports when it woke
 * to end of stream, and the end stays.
 */
static void dt_read_until_destroyed(struct xvchan *x,
				    const struct dt_case *dc, uint64_t seed)
{
	char c;

	ft_read_pattern(x, seed, 3000);
	ft_signal(dc->up[1]);
	FT_EQ(xvchan_read(x, &c, 1), 0);
	dt_send_time(dc->res[1]);
	ft_expect_eof(x);
}

/*
 * An untimed case: dom0 serves guest @guest's @client. Once the client
 * says it is up, the guest is destroyed (the client must die of it), and
 * only then is the server told to go on; it must exit 0.
 */
static void dt_destroy_then_release(unsigned int guest,
				    void (*server)(void *),
				    void (*client)(void *))
{
	struct ft_pipes p;
	pid_t srv, cli;

	FT_PIPES(p);
	srv = ft_fork_side(0, server, &p);
	cli = ft_fork_side(guest, client, &p);
	FT_AWAIT_PARENT(p.up[0]);
	xv_test_sim_destroy(guest);
	ck_assert_int_eq(xv_test_wait(cli, FT_WAIT_MS), 128 + SIGKILL);
	ck_assert_int_eq(write(p.down[1], "d", 1), 1);
	ck_assert_int_eq(xv_test_wait(srv, FT_WAIT_MS), 0);
	ft_close_pipes(&p);
}

/*
 * One byte each way, each side having asked for xvchan_fd() first (which
 * sets up its look at the other's domain): how each then looks.
 */
struct dt_greet {
	unsigned int srv_dom, cli_dom;
	const char *port;
	const char *srv_looks, *cli_looks;
};

static void dt_greet_server(void *arg)
{
	const struct dt_greet *g = arg;
	struct xvchan *x = dt_server(g->cli_dom, g->port, 0);
	char c = 0;

	ft_expect_described(x, "(peer_domain not-yet-watched)");
	FT_ASSERT(xvchan_fd(x) >= 0);
	ft_expect_described(x, g->srv_looks);
	FT_EQ(xvchan_write(x, "s", 1), 1);
	FT_EQ(xvchan_read(x, &c, 1), 1);
	FT_EQ(c, 'c');
	FT_EQ(xvchan_close(x), 0);
	dt_exit();
}

static void dt_greet_client(void *arg)
{
	const struct dt_greet *g = arg;
	struct xvchan *x = dt_client(g->srv_dom, g->port, 0);
	char c = 0;

	FT_ASSERT(xvchan_fd(x) >= 0);
	/* A refusal is no error: the endpoint goes on without. */
	ft_expect_described(x, g->cli_looks);
	FT_EQ(xvchan_read(x, &c, 1), 1);
	FT_EQ(c, 's');
	FT_EQ(xvchan_write(x, "c", 1), 1);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
	dt_exit();
}

static void dt_greet(const struct dt_greet *g)
{
	pid_t srv, cli;

	srv = ft_fork_side(g->srv_dom, dt_greet_server, (void *)g);
	cli = ft_fork_side(g->cli_dom, dt_greet_client, (void *)g);
	FT_WAIT_PAIR(srv, cli, FT_WAIT_MS);
}

/* xenstored refuses a guest the question; a dom0 peer is never asked
 * about otherwise. */
START_TEST(test_dom0_watches_its_guest_peer_and_the_guest_does_without)
{
	static const struct dt_greet g = {
		.srv_dom = 0, .cli_dom = 3, .port = "dt-watch",
		.srv_looks = "(peer_domain watched)",
		.cli_looks = "(peer_domain unwatched)",
	};

	dt_greet(&g);
}
END_TEST

/*
 * A server may be set up before its client domain exists: a domain that
 * is not there yet is no peer that went away, nor is a guest server's
 * port, unbound until its client binds, however many ticks pass. The
 * client's domain does not exist when the server first looks.
 */
struct dt_early {
	struct ft_pipes p;
	unsigned int srv_dom, cli_dom;
	const char *port;
	const char *described;	/* how the server looks at the domain */
	int linger_ms;		/* reading, before the client may come */
};

static void dt_early_server(void *arg)
{
	struct dt_early *e = arg;
	struct xvchan *x = dt_server(e->cli_dom, e->port, XVCHAN_NONBLOCK);
	struct pollfd pfd = { .fd = xvchan_fd(x), .events = POLLIN };
	int64_t until = dt_now_ms() + e->linger_ms;
	char c = 0;
	ssize_t n;

	FT_ASSERT(pfd.fd >= 0);
	ft_expect_described(x, e->described);
	/* Each read takes what made the descriptor readable (the watch's
	 * first event, a tick) and asks; none may end. */
	FT_EQ(xvchan_read(x, &c, 1), -EAGAIN);
	do {
		(void)poll(&pfd, 1, 100);
		FT_EQ(xvchan_read(x, &c, 1), -EAGAIN);
	} while (dt_now_ms() < until);
	ft_expect_described(x, e->described);
	ft_signal_and_await(&e->p);
	for (;;) {
		FT_EQ(poll(&pfd, 1, FT_WAIT_MS), 1);
		n = xvchan_read(x, &c, 1);
		if (n != -EAGAIN)
			break;
	}
	FT_EQ(n, 1);
	FT_EQ(c, 'c');
	ft_expect_described(x, e->described);
	FT_EQ(xvchan_close(x), 0);
	dt_exit();
}

static void dt_early_client(void *arg)
{
	const struct dt_early *e = arg;
	struct xvchan *x = dt_client(e->srv_dom, e->port, 0);

	FT_EQ(xvchan_write(x, "c", 1), 1);
	FT_EQ(xvchan_close(x), 0);
	dt_exit();
}

static void dt_run_early(struct dt_early *e)
{
	pid_t srv, cli;

	FT_PIPES(e->p);
	srv = ft_fork_side(e->srv_dom, dt_early_server, e);
	FT_AWAIT_PARENT(e->p.up[0]);
	cli = ft_fork_side(e->cli_dom, dt_early_client, e);
	ck_assert_int_eq(write(e->p.down[1], "g", 1), 1);
	ck_assert_int_eq(xv_test_wait(cli, FT_WAIT_MS), 0);
	ck_assert_int_eq(xv_test_wait(srv, FT_WAIT_MS), 0);
	ft_close_pipes(&e->p);
}

START_TEST(test_a_server_for_a_domain_not_yet_created_keeps_waiting)
{
	struct dt_early e = {
		.srv_dom = 0, .cli_dom = 9, .port = "dt-early",
		.described = "(peer_domain watched)",
	};

	dt_run_early(&e);
}
END_TEST

static void dt_reader_server(void *arg)
{
	const struct dt_case *dc = arg;
	struct xvchan *x = dt_server(dc->cli_dom, dc->port, 0);

	dt_read_until_destroyed(x, dc, 21);
	ft_expect_described(x, "(peer_domain gone)");
	/* The live byte was never cleared: only xenstore or the port
	 * told. */
	ft_expect_described(x, "(peer_live 1)");
	FT_EQ(xvchan_write(x, "x", 1), -EPIPE);
	FT_EQ(xvchan_close(x), 0);
	dt_exit();
}

static void dt_reader_client(void *arg)
{
	const struct dt_case *dc = arg;
	struct xvchan *x = dt_client(dc->srv_dom, dc->port, 0);

	ft_write_pattern(x, 21, 3000);
	ft_sleep_until_killed();
}

START_TEST(test_a_blocked_dom0_reader_gets_eof_within_a_second)
{
	dt_run_timed("dt-reader", 0, dt_reader_server, 4, dt_reader_client,
		     "blocked reader: EOF");
}
END_TEST

/* Bytes the peer wrote before it was destroyed are all read first. */
static void dt_inflight_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = dt_server(5, "dt-inflight", 0);

	ft_await(p->down[0]);
	ft_read_pattern(x, 22, 3000);
	ft_expect_eof(x);
	FT_EQ(xvchan_write(x, "x", 1), -EPIPE);
	FT_EQ(xvchan_close(x), 0);
	dt_exit();
}

static void dt_inflight_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = dt_client(0, "dt-inflight", 0);

	ft_write_pattern(x, 22, 3000);
	ft_signal(p->up[1]);
	ft_sleep_until_killed();
}

START_TEST(test_what_the_destroyed_peer_wrote_is_read_before_eof)
{
	dt_destroy_then_release(5, dt_inflight_server, dt_inflight_client);
}
END_TEST

static void dt_writer_server(void *arg)
{
	const struct dt_case *dc = arg;
	struct xvchan *x = dt_server(dc->cli_dom, dc->port, 0);
	static unsigned char big[1 << 16];

	ft_signal(dc->up[1]);
	/* Blocks on the full ring: the peer never reads. */
	FT_EQ(xvchan_write(x, big, sizeof(big)), -EPIPE);
	dt_send_time(dc->res[1]);
	FT_EQ(xvchan_write(x, big, 1), -EPIPE);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
	dt_exit();
}

START_TEST(test_a_blocked_dom0_writer_gets_epipe_within_a_second)
{
	dt_run_timed("dt-writer", 0, dt_writer_server, 6, dt_idle_client,
		     "blocked writer: -EPIPE");
}
END_TEST

/*
 * Non-blocking: both directions wait (-EAGAIN: nothing to read, the send
 * ring full), the descriptor polled; the destroy makes it readable, and
 * the calls then return 0 and -EPIPE.
 */
static void dt_poll_server(void *arg)
{
	const struct dt_case *dc = arg;
	struct xvchan *x = dt_server(7, dc->port, XVCHAN_NONBLOCK);
	struct pollfd pfd = { .fd = xvchan_fd(x), .events = POLLIN };
	unsigned char buf[4096];
	size_t got = 0;
	ssize_t r, w;

	FT_ASSERT(pfd.fd >= 0);
	while (got < 100) {
		r = xvchan_read(x, buf, sizeof(buf));
		if (r == -EAGAIN) {
			FT_EQ(poll(&pfd, 1, FT_WAIT_MS), 1);
			continue;
		}
		FT_ASSERT(r > 0);
		got += (size_t)r;
	}
	FT_EQ(got, 100);
	do
		w = xvchan_write(x, buf, sizeof(buf));
	while (w > 0);
	FT_EQ(w, -EAGAIN);
	FT_EQ(xvchan_read(x, buf, sizeof(buf)), -EAGAIN);
	ft_signal(dc->up[1]);
	/* A wake-up before the destroy (the watch's own first
	 * event) leaves both at -EAGAIN; the destroy ends it. */
	for (;;) {
		FT_EQ(poll(&pfd, 1, FT_WAIT_MS), 1);
		r = xvchan_read(x, buf, sizeof(buf));
		if (r != -EAGAIN)
			break;
		w = xvchan_write(x, buf, sizeof(buf));
		FT_ASSERT(w == -EAGAIN || w == -EPIPE);
	}
	FT_EQ(r, 0);
	dt_send_time(dc->res[1]);
	FT_EQ(xvchan_write(x, buf, sizeof(buf)), -EPIPE);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
	dt_exit();
}

static void dt_poll_client(void *arg)
{
	const struct dt_case *dc = arg;
	struct xvchan *x = dt_client(0, dc->port, 0);
	unsigned char buf[100] = { 0 };

	FT_EQ(xvchan_write(x, buf, sizeof(buf)), 100);
	ft_sleep_until_killed();
}

START_TEST(test_a_nonblocking_dom0_poller_wakes_to_eof_and_epipe)
{
	dt_run_timed("dt-poll", 0, dt_poll_server, 7, dt_poll_client,
		     "non-blocking poller: EOF");
}
END_TEST

/* dom0 as the client: the destroyed guest served the pages it maps. */
static void dt_guestsrv_server(void *arg)
{
	const struct dt_case *dc = arg;
	struct xvchan *x = dt_server(dc->cli_dom, dc->port, 0);

	ft_write_pattern(x, 23, 3000);
	ft_sleep_until_killed();
}

static void dt_guestsrv_client(void *arg)
{
	const struct dt_case *dc = arg;
	struct xvchan *x = dt_client(8, dc->port, 0);

	dt_read_until_destroyed(x, dc, 23);
	FT_EQ(xvchan_write(x, "x", 1), -EPIPE);
	FT_EQ(xvchan_close(x), 0);
	dt_exit();
}

START_TEST(test_a_dom0_client_of_a_destroyed_guest_server_sees_the_end)
{
	dt_run_timed("dt-guestsrv", 8, dt_guestsrv_server, 0,
		     dt_guestsrv_client, "dom0 client: EOF");
}
END_TEST

/*
 * Close waits for the peer to close too (close_timeout_ms, 20 s here): a
 * destroyed one never will, and close must not wait for the timeout,
 * whether the domain was gone before the close or goes during it.
 */
static void dt_closeafter_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = dt_server(10, "dt-closeafter", 0);
	int64_t t;

	ft_await(p->down[0]);
	t = dt_now_ms();
	FT_EQ(xvchan_close(x), 0);
	FT_ASSERT(dt_now_ms() - t < DT_BOUND_MS);
	dt_exit();
}

static void dt_closeafter_client(void *arg)
{
	struct ft_pipes *p = arg;

	(void)dt_client(0, "dt-closeafter", 0);
	ft_signal(p->up[1]);
	ft_sleep_until_killed();
}

START_TEST(test_close_after_the_destroy_returns_at_once)
{
	dt_destroy_then_release(10, dt_closeafter_server, dt_closeafter_client);
}
END_TEST

static void dt_closing_server(void *arg)
{
	const struct dt_case *dc = arg;
	struct xvchan *x = dt_server(11, dc->port, 0);

	ft_signal(dc->up[1]);
	FT_EQ(xvchan_close(x), 0);
	dt_send_time(dc->res[1]);
	dt_exit();
}

START_TEST(test_a_close_waiting_for_the_peer_ends_at_its_destroy)
{
	dt_run_timed("dt-closing", 0, dt_closing_server, 11, dt_idle_client,
		     "waiting close: returned");
}
END_TEST

/*
 * Between two guests: neither may watch the other, so each asks its own
 * port's status, where its privcmd lets it (Linux's
 * xen_privcmd.unrestricted=1, XVCHAN_SIM_PRIVCMD=unrestricted here). A
 * guest server's blocked read ends at its client domain's destroy, its
 * blocked write fails, and a guest client sees its server's domain go.
 */
static void dt_privcmd(bool unrestricted)
{
	if (unrestricted)
		ck_assert_int_eq(setenv("XVCHAN_SIM_PRIVCMD", "unrestricted", 1),
				 0);
	else
		ck_assert_int_eq(unsetenv("XVCHAN_SIM_PRIVCMD"), 0);
}

START_TEST(test_a_blocked_guest_reader_gets_eof_when_its_guest_peer_goes)
{
	dt_privcmd(true);
	dt_run_timed_guest("dt-gg-reader", 12, dt_reader_server, 13,
			   dt_reader_client, 13, "guest reader: EOF");
}
END_TEST

START_TEST(test_a_blocked_guest_writer_gets_epipe_when_its_guest_peer_goes)
{
	dt_privcmd(true);
	dt_run_timed_guest("dt-gg-writer", 14, dt_writer_server, 15,
			   dt_idle_client, 15, "guest writer: -EPIPE");
}
END_TEST

/* Non-blocking, polling xvchan_fd(): the port's timer is in it. */
static void dt_gg_srvgone_client(void *arg)
{
	const struct dt_case *dc = arg;
	struct xvchan *x = dt_client(dc->srv_dom, dc->port, XVCHAN_NONBLOCK);
	struct pollfd pfd = { .fd = xvchan_fd(x), .events = POLLIN };
	unsigned char buf[4096];
	bool told = false;
	size_t got = 0;
	ssize_t r;

	FT_ASSERT(pfd.fd >= 0);
	ft_expect_described(x, "(peer_domain port-polled)");
	for (;;) {
		r = xvchan_read(x, buf, sizeof(buf));
		if (r == -EAGAIN) {
			if (got == 3000 && !told) {
				ft_signal(dc->up[1]);
				told = true;
			}
			FT_EQ(poll(&pfd, 1, FT_WAIT_MS), 1);
			continue;
		}
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	FT_EQ(r, 0);
	FT_EQ(got, 3000);
	dt_send_time(dc->res[1]);
	ft_expect_described(x, "(peer_domain gone)");
	FT_EQ(xvchan_write(x, buf, 1), -EPIPE);
	FT_EQ(xvchan_close(x), 0);
	dt_exit();
}

START_TEST(test_a_nonblocking_guest_client_wakes_when_its_guest_server_goes)
{
	dt_privcmd(true);
	dt_run_timed_guest("dt-gg-srvgone", 16, dt_guestsrv_server, 17,
			   dt_gg_srvgone_client, 16, "guest poller: EOF");
}
END_TEST

/* The same for a guest server, over two ticks at least. */
START_TEST(test_a_guest_server_for_a_domain_not_yet_created_keeps_waiting)
{
	struct dt_early e = {
		.srv_dom = 18, .cli_dom = 19, .port = "dt-gg-early",
		.described = "(peer_domain port-polled)", .linger_ms = 1200,
	};

	dt_privcmd(true);
	dt_run_early(&e);
}
END_TEST

/*
 * A client destroyed before the guest server ever looked at its port: the
 * first look finds it unbound without having seen it bound, which a
 * client about to bind also shows; the second look, half a second on,
 * takes it as gone.
 */
static void dt_gg_unseen_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = dt_server(23, "dt-gg-unseen", XVCHAN_NONBLOCK);
	struct pollfd pfd;
	int64_t t0;
	char c = 0;
	ssize_t n;

	/* Read without ever sleeping: nothing looks at the port yet. */
	while ((n = xvchan_read(x, &c, 1)) == -EAGAIN)
		usleep(1000);
	FT_EQ(n, 1);
	ft_expect_described(x, "(peer_domain not-yet-watched)");
	ft_signal_and_await(p);
	t0 = dt_now_ms();
	pfd = (struct pollfd){ .fd = xvchan_fd(x), .events = POLLIN };
	FT_ASSERT(pfd.fd >= 0);
	ft_expect_described(x, "(peer_domain port-polled)");
	for (;;) {
		n = xvchan_read(x, &c, 1);
		if (n != -EAGAIN)
			break;
		FT_EQ(poll(&pfd, 1, FT_WAIT_MS), 1);
	}
	FT_EQ(n, 0);
	/* Two looks: the first at once, the second a tick later. */
	FT_ASSERT(dt_now_ms() - t0 >= 400);
	FT_ASSERT(dt_now_ms() - t0 < 2 * DT_BOUND_MS);
	ft_expect_described(x, "(peer_domain gone)");
	FT_EQ(xvchan_close(x), 0);
	dt_exit();
}

static void dt_gg_unseen_client(void *arg)
{
	struct xvchan *x = dt_client(22, "dt-gg-unseen", 0);

	FT_EQ(xvchan_write(x, "c", 1), 1);
	ft_sleep_until_killed();
}

START_TEST(test_a_guest_client_destroyed_before_the_first_look_is_found)
{
	struct ft_pipes p;
	pid_t srv, cli;

	dt_privcmd(true);
	FT_PIPES(p);
	srv = ft_fork_side(22, dt_gg_unseen_server, &p);
	cli = ft_fork_side(23, dt_gg_unseen_client, NULL);
	FT_AWAIT_PARENT(p.up[0]);
	xv_test_sim_destroy(23);
	ck_assert_int_eq(xv_test_wait(cli, FT_WAIT_MS), 128 + SIGKILL);
	ck_assert_int_eq(write(p.down[1], "d", 1), 1);
	ck_assert_int_eq(xv_test_wait(srv, FT_WAIT_MS), 0);
	ft_close_pipes(&p);
}
END_TEST

/* The default in a Linux guest: privcmd refuses the question, and the
 * endpoint goes on without, as before. */
START_TEST(test_guests_whose_privcmd_refuses_go_without)
{
	static const struct dt_greet g = {
		.srv_dom = 20, .cli_dom = 21, .port = "dt-gg-refused",
		.srv_looks = "(peer_domain unwatched)",
		.cli_looks = "(peer_domain unwatched)",
	};

	dt_privcmd(false);
	dt_greet(&g);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("flow-destroy");
	TCase *tc = ft_sim_tcase("destroy");

	tcase_add_test(tc,
		test_dom0_watches_its_guest_peer_and_the_guest_does_without);
	tcase_add_test(tc,
		test_a_server_for_a_domain_not_yet_created_keeps_waiting);
	tcase_add_test(tc, test_a_blocked_dom0_reader_gets_eof_within_a_second);
	tcase_add_test(tc,
		test_what_the_destroyed_peer_wrote_is_read_before_eof);
	tcase_add_test(tc,
		test_a_blocked_dom0_writer_gets_epipe_within_a_second);
	tcase_add_test(tc,
		test_a_nonblocking_dom0_poller_wakes_to_eof_and_epipe);
	tcase_add_test(tc,
		test_a_dom0_client_of_a_destroyed_guest_server_sees_the_end);
	tcase_add_test(tc, test_close_after_the_destroy_returns_at_once);
	tcase_add_test(tc,
		test_a_close_waiting_for_the_peer_ends_at_its_destroy);
	tcase_add_test(tc,
		test_a_blocked_guest_reader_gets_eof_when_its_guest_peer_goes);
	tcase_add_test(tc,
		test_a_blocked_guest_writer_gets_epipe_when_its_guest_peer_goes);
	tcase_add_test(tc,
		test_a_nonblocking_guest_client_wakes_when_its_guest_server_goes);
	tcase_add_test(tc,
		test_a_guest_server_for_a_domain_not_yet_created_keeps_waiting);
	tcase_add_test(tc,
		test_a_guest_client_destroyed_before_the_first_look_is_found);
	tcase_add_test(tc, test_guests_whose_privcmd_refuses_go_without);
	suite_add_tcase(s, tc);
	return s;
}
