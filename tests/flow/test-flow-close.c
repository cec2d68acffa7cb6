/*
 * The end of a connection between two xvchan endpoints: half-close in both
 * orders, close waiting for (and draining) the peer, close bounded by its
 * timeout (also against a peer that never lets the ring stay empty),
 * writes after the peer closed, a closing reader's last cons.
 */
#include "flow-test.h"

#include <dlfcn.h>
#include <time.h>
#include <xen/io/libxenvchan.h>
#include <xenevtchn.h>
#include <xengnttab.h>

/* @a shuts down first, then reads @b's answer sent after @b saw the EOF. */
static void ft_half_close(struct xvchan *x, bool first)
{
	if (first) {
		ft_write_pattern(x, 1, 20000);
		FT_EQ(xvchan_shutdown(x), 0);
		FT_EQ(xvchan_shutdown(x), 0);
		FT_EQ(xvchan_write(x, "x", 1), -ESHUTDOWN);
		/* Reading goes on after our shutdown. */
		ft_read_pattern(x, 2, 30000);
		ft_expect_eof(x);
	} else {
		ft_read_pattern(x, 1, 20000);
		ft_expect_eof(x);
		/* The peer's shutdown does not stop our writing. */
		ft_write_pattern(x, 2, 30000);
	}
	FT_EQ(xvchan_close(x), 0);
}

struct ft_half_run {
	const char *port;
	size_t rs, ws;
	bool server_first;
};

static void half_server(void *arg)
{
	const struct ft_half_run *h = arg;

	ft_half_close(ft_server(h->port, h->rs, h->ws, 0), h->server_first);
}

static void half_client(void *arg)
{
	const struct ft_half_run *h = arg;

	ft_half_close(ft_client(h->port, 0), !h->server_first);
}

START_TEST(test_half_close_client_first_keeps_the_other_direction)
{
	struct ft_half_run h = { "half-cli", 4096, 2048, false };

	FT_RUN_PAIR(half_server, half_client, &h, FT_WAIT_MS);
}
END_TEST

START_TEST(test_half_close_server_first_keeps_the_other_direction)
{
	struct ft_half_run h = { "half-srv", 1024, 65536, true };

	FT_RUN_PAIR(half_server, half_client, &h, FT_WAIT_MS);
}
END_TEST

static void close_drain_server(void *arg)
{
	struct xvchan *x = ft_server("close-drain", 1024, 1024, 0);

	ft_read_pattern(x, 3, 10);
	/* The client is blocked on a full 1 KiB ring with ~500 KB to go;
	 * close must read it all away. */
	FT_EQ(xvchan_close(x), 0);
}

static void close_drain_client(void *arg)
{
	struct xvchan *x = ft_client("close-drain", 0);

	ft_write_pattern(x, 3, 500000);
	/* The server shut down its side while we were writing. */
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_close_drains_until_a_blocked_peer_finishes_its_write)
{
	FT_RUN_PAIR(close_drain_server, close_drain_client, NULL,
		    FT_WAIT_MS);
}
END_TEST

static void close_both_server(void *arg)
{
	struct xvchan *x = ft_server("close-both", 4096, 4096, 0);

	FT_EQ(xvchan_close(x), 0);
}

static void close_both_client(void *arg)
{
	struct xvchan *x = ft_client("close-both", 0);

	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_both_sides_closing_at_once_do_not_wait_for_each_other)
{
	/* Well below the 20 s close timeout both sides use. */
	FT_RUN_PAIR(close_both_server, close_both_client, NULL, 5000);
}
END_TEST

static void close_timeout_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, 0);
	cfg.close_timeout_ms = 200;
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "close-timeout", 4096, 4096,
			    &cfg), 0);
	/* The client neither writes nor shuts down. */
	FT_EQ(xvchan_close(x), -ETIMEDOUT);
	ft_signal(p->up[1]);
}

static void close_timeout_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_client("close-timeout", 0);

	ft_await(p->up[0]);
	ft_expect_eof(x);
	FT_EQ(xvchan_write(x, "x", 1), -EPIPE);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_close_gives_up_after_its_timeout_and_the_peer_sees_the_end)
{
	FT_RUN_PIPED_PAIR(close_timeout_server, close_timeout_client,
			  FT_WAIT_MS);
}
END_TEST

/*
 * A peer that always writes again before our next look, played inside
 * the closing client's own process so that it never misses: every kick
 * the client sends for the room it freed first puts a whole ring in
 * flight again and asks for the next kick. The executable's definitions
 * come before the simulator's libraries; the real calls are the next.
 */
static struct vchan_interface *flood_page;	/* the client's control page */
static int64_t flood_until_ms;			/* 0: no flood */
static unsigned long flood_refills;

static int64_t flood_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void *xengnttab_map_grant_ref_notify(xengnttab_handle *xgt, uint32_t domid,
				     uint32_t ref, int prot,
				     uint32_t notify_offset,
				     evtchn_port_t notify_port)
{
	void *(*real)(xengnttab_handle *, uint32_t, uint32_t, int, uint32_t,
		      evtchn_port_t);
	void *page;

	*(void **)&real = dlsym(RTLD_NEXT, "xengnttab_map_grant_ref_notify");
	FT_ASSERT(real != NULL);
	page = real(xgt, domid, ref, prot, notify_offset, notify_port);
	/* The client maps only its control page this way. */
	flood_page = page;
	return page;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	int (*real)(xenevtchn_handle *, evtchn_port_t);

	*(void **)&real = dlsym(RTLD_NEXT, "xenevtchn_notify");
	FT_ASSERT(real != NULL);
	if (flood_until_ms && flood_now_ms() < flood_until_ms) {
		uint32_t size = 1u << flood_page->right_order;
		uint32_t cons = __atomic_load_n(&flood_page->right.cons,
						__ATOMIC_RELAXED);

		__atomic_store_n(&flood_page->right.prod, cons + size,
				 __ATOMIC_RELEASE);
		__atomic_fetch_or(&flood_page->cli_notify, VCHAN_NOTIFY_READ,
				  __ATOMIC_SEQ_CST);
		flood_refills++;
	}
	return real(xce, port);
}

static void flood_server(void *arg)
{
	struct ft_pipes *p = arg;

	(void)ft_server("close-flood", 4096, 4096, 0);
	ft_await(p->down[0]);
	/* Gone without a close: the stream the client saw was not ours. */
}

static void flood_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	int64_t t0;

	ft_config(&cfg, 0);
	cfg.close_timeout_ms = 200;
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "close-flood", &cfg), 0);
	FT_ASSERT(flood_page != NULL);
	/* The flood starts at close's first kick (its shutdown) and ends
	 * by itself after 3 s, so that a close that ignores its timeout
	 * still returns: late. */
	t0 = flood_now_ms();
	flood_until_ms = t0 + 3000;
	FT_EQ(xvchan_close(x), -ETIMEDOUT);
	flood_until_ms = 0;
	FT_ASSERT(flood_refills >= 2);
	FT_ASSERT(flood_now_ms() - t0 < 1500);
	ft_signal(p->down[1]);
}

START_TEST(test_close_gives_up_at_its_timeout_while_the_peer_keeps_writing)
{
	FT_RUN_PIPED_PAIR(flood_server, flood_client, FT_WAIT_MS);
}
END_TEST

static void write_epipe_server(void *arg)
{
	struct xvchan *x = ft_server("write-epipe", 4096, 4096, 0);
	static unsigned char big[100000];

	ssize_t n;

	/* Write without end: the client's close drains it for 200 ms,
	 * gives up and ends the connection. */
	do
		n = xvchan_write(x, big, sizeof(big));
	while (n == (ssize_t)sizeof(big));
	FT_EQ(n, -EPIPE);
	FT_EQ(xvchan_write(x, big, 1), -EPIPE);
	FT_EQ(xvchan_close(x), 0);
}

static void write_epipe_client(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, 0);
	cfg.close_timeout_ms = 200;
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "write-epipe", &cfg), 0);
	/* Close drains what the server writes; the server never shuts
	 * down, so close ends by its timeout. */
	FT_EQ(xvchan_close(x), -ETIMEDOUT);
}

START_TEST(test_writer_gets_epipe_once_the_draining_peer_gives_up)
{
	FT_RUN_PAIR(write_epipe_server, write_epipe_client, NULL,
		    FT_WAIT_MS);
}
END_TEST

/*
 * A reader that closes publishes every byte it took first: a writer
 * that then finds it gone sees them consumed (the cons it loads in
 * xv_flow_wrote() shows in its description). 100 bytes of a 4 KiB ring
 * are under the quarter that would publish them anyway.
 */
static void close_flush_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_server("close-flush", 4096, 4096,
				     XVCHAN_NONBLOCK);
	unsigned char buf[100];

	ft_await(p->up[0]);
	FT_EQ(xvchan_read(x, buf, sizeof(buf)), 100);
	FT_EQ(xv_pattern_check(3, 0, buf, 100), 100);
	/* Non-blocking: no wait for the client, straight to the end. */
	FT_EQ(xvchan_close(x), 0);
	ft_signal(p->down[1]);
}

static void close_flush_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_client("close-flush", XVCHAN_NONBLOCK);
	unsigned char msg[100];

	xv_pattern_fill(3, 0, msg, sizeof(msg));
	FT_EQ(xvchan_write(x, msg, sizeof(msg)), 100);
	ft_signal_and_await(p);
	/* The byte is in, the reader gone without it: -EPIPE. */
	FT_EQ(xvchan_write(x, msg, 1), -EPIPE);
	ft_expect_described(x, "(tx (prod 101) (cons_seen 100))");
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_a_closing_reader_publishes_what_it_read)
{
	FT_RUN_PIPED_PAIR(close_flush_server, close_flush_client, FT_WAIT_MS);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("flow-close");
	TCase *tc = ft_sim_tcase("close");

	tcase_add_test(tc,
		test_half_close_client_first_keeps_the_other_direction);
	tcase_add_test(tc,
		test_half_close_server_first_keeps_the_other_direction);
	tcase_add_test(tc,
		test_close_drains_until_a_blocked_peer_finishes_its_write);
	tcase_add_test(tc,
		test_both_sides_closing_at_once_do_not_wait_for_each_other);
	tcase_add_test(tc,
		test_close_gives_up_after_its_timeout_and_the_peer_sees_the_end);
	tcase_add_test(tc,
		test_writer_gets_epipe_once_the_draining_peer_gives_up);
	tcase_add_test(tc, test_a_closing_reader_publishes_what_it_read);
	tcase_add_test(tc,
		test_close_gives_up_at_its_timeout_while_the_peer_keeps_writing);
	suite_add_tcase(s, tc);
	return s;
}
