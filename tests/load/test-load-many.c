/*
 * Many vchans at once in one process pair: all servers in one process, all
 * clients in another, both non-blocking and driven by one epoll loop over
 * xvchan_fd(). Every vchan carries a pattern stream each way, verified
 * byte for byte, then a half-close each way, then the close.
 *
 * How many a domain can serve is bounded by Xen's side, not by the
 * library, twice over, on Xen as here:
 * - each vchan costs its server domain three xenstore nodes (the
 *   directory, ring-ref, event-channel) and xenstored's default quota is
 *   1000 nodes per guest domain (dom0 is exempt);
 * - Linux's gntalloc lends a domain, dom0 included, 1024 pages at once:
 *   a vchan's control page, which holds rings of 1 and 2 KiB, plus the
 *   pages of larger rings (an 8 KiB ring takes 2).
 * So the 1000-vchan run serves from dom0 with in-page rings but for a
 * few, and a second test pins down where a guest server stops and with
 * which error.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/resource.h>

#include "flow-test.h"
#include "fault-sim.h"

#define LOAD_VCHANS 1000
/* Bytes each side sends on each vchan: several turns of a 1 KiB ring. */
#define LOAD_BYTES 20000u
/* No event at all for this long means something hangs. */
#define LOAD_IDLE_MS 5000

struct lm_chan {
	struct xvchan *x;
	uint64_t tx_seed, rx_seed;
	size_t total, sent, received;
	bool shut, eof;
};

static void lm_raise_nofile(unsigned int n)
{
	struct rlimit rl;

	FT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	FT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	/* Each endpoint holds a few descriptors (xenstore, event
	 * channel, grant objects). */
	FT_ASSERT(rl.rlim_cur >= 8 * n);
}

/* Ports differ between runs: a failed run may leave its rendezvous
 * behind. */
static unsigned int lm_run_id;

static void lm_port(char *buf, size_t len, unsigned int i)
{
	snprintf(buf, len, "load-%u-%u", lm_run_id, i);
}

/* Move what can move on one vchan; returns true once it is finished. */
static bool lm_progress(struct lm_chan *c)
{
	unsigned char buf[4096];

	while (!c->eof) {
		ssize_t n = xvchan_read(c->x, buf, sizeof(buf));

		if (n == -EAGAIN)
			break;
		FT_ASSERT(n >= 0);
		if (n == 0) {
			FT_EQ(c->received, c->total);
			c->eof = true;
			break;
		}
		FT_EQ(xv_pattern_check(c->rx_seed, c->received, buf,
				       (size_t)n), n);
		c->received += (size_t)n;
		FT_ASSERT(c->received <= c->total);
	}
	while (c->sent < c->total) {
		size_t len = c->total - c->sent;
		ssize_t n;

		if (len > sizeof(buf))
			len = sizeof(buf);
		xv_pattern_fill(c->tx_seed, c->sent, buf, len);
		n = xvchan_write(c->x, buf, len);
		if (n == -EAGAIN)
			break;
		FT_ASSERT(n > 0);
		c->sent += (size_t)n;
	}
	if (c->sent == c->total && !c->shut) {
		FT_EQ(xvchan_shutdown(c->x), 0);
		c->shut = true;
	}
	return c->shut && c->eof;
}

/* Name what is stuck, for the report of a lost wake-up. */
static void lm_report_idle(const struct lm_chan *chans, unsigned int n,
			   unsigned int left)
{
	unsigned int i, shown = 0;
	char desc[512];

	fprintf(stderr, "load: %u of %u vchans idle for %d ms\n", left, n,
		LOAD_IDLE_MS);
	for (i = 0; i < n && shown < 3; i++) {
		const struct lm_chan *c = &chans[i];

		if (!c->x)
			continue;
		xvchan_describe(c->x, desc, sizeof(desc));
		fprintf(stderr, "load: vchan %u sent %zu received %zu%s%s: %s\n",
			i, c->sent, c->received, c->shut ? " shut" : "",
			c->eof ? " eof" : "", desc);
		shown++;
	}
}

/* A finished vchan leaves the loop at once: its descriptor may stay
 * readable (no call of ours consumes the last event), which would make a
 * level-triggered epoll spin. */
static void lm_done(int ep, struct lm_chan *c, unsigned int *left)
{
	FT_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, xvchan_fd(c->x), NULL), 0);
	FT_EQ(xvchan_close(c->x), 0);
	c->x = NULL;
	(*left)--;
}

/* Drive every vchan to its end with one epoll loop, closing each as it
 * finishes. */
static void lm_run(struct lm_chan *chans, unsigned int n)
{
	static struct epoll_event evs[256];
	unsigned int i, left = n;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	FT_ASSERT(ep >= 0);
	for (i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		FT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, xvchan_fd(chans[i].x), &ev),
		      0);
	}
	/* -EAGAIN arms the wake-up: every vchan starts with one try. */
	for (i = 0; i < n; i++)
		if (lm_progress(&chans[i]))
			lm_done(ep, &chans[i], &left);
	while (left > 0) {
		int k, m = epoll_wait(ep, evs, 256, LOAD_IDLE_MS);

		if (m == 0)
			lm_report_idle(chans, n, left);
		FT_ASSERT(m > 0);
		for (k = 0; k < m; k++) {
			struct lm_chan *c = &chans[evs[k].data.u32];

			if (c->x && lm_progress(c))
				lm_done(ep, c, &left);
		}
	}
	close(ep);
}

static struct lm_chan *lm_chans(unsigned int n)
{
	struct lm_chan *chans = calloc(n, sizeof(*chans));

	FT_ASSERT(chans != NULL);
	return chans;
}

static void lm_servers(unsigned int n, size_t bytes, unsigned int client_domid,
		       int published)
{
	struct lm_chan *chans = lm_chans(n);
	struct xvchan_config cfg;
	char port[32];
	unsigned int i;

	lm_raise_nofile(n);
	ft_config(&cfg, XVCHAN_NONBLOCK);
	for (i = 0; i < n; i++) {
		/* Mostly in-page rings; some use granted pages: every 8th,
		 * or every 200th among a thousand (1000 control pages and
		 * 4 ring pages for each of the 5 fill 1020 of 1024). */
		size_t ring = i % (n > 200 ? 200 : 8) == 0 ? 8192 : 1024;

		lm_port(port, sizeof(port), i);
		FT_EQ(xvchan_server(&chans[i].x, client_domid, port, ring, ring,
				    &cfg), 0);
		chans[i].total = bytes;
		chans[i].tx_seed = 2 * i;
		chans[i].rx_seed = 2 * i + 1;
	}
	ft_signal(published);
	lm_run(chans, n);
	free(chans);
	_exit(0);
}

static void lm_clients(unsigned int n, size_t bytes, unsigned int server_domid,
		       int published)
{
	struct lm_chan *chans = lm_chans(n);
	struct xvchan_config cfg;
	char port[32];
	unsigned int i;

	lm_raise_nofile(n);
	ft_config(&cfg, XVCHAN_NONBLOCK);
	ft_await(published);
	for (i = 0; i < n; i++) {
		lm_port(port, sizeof(port), i);
		FT_EQ(xvchan_client(&chans[i].x, server_domid, port, &cfg), 0);
		chans[i].total = bytes;
		chans[i].tx_seed = 2 * i + 1;
		chans[i].rx_seed = 2 * i;
	}
	lm_run(chans, n);
	free(chans);
	_exit(0);
}

/* Servers as dom0 (exempt from the node quota), clients as dom2. */
static void lm_many(unsigned int n, size_t bytes)
{
	int published[2], ports, grants;
	int64_t start = fs_now_ns();
	pid_t srv, cli;

	lm_run_id++;
	ck_assert_int_eq(pipe(published), 0);
	srv = xv_test_fork_domain(0);
	if (srv == 0)
		lm_servers(n, bytes, FT_CLIENT_DOM, published[1]);
	cli = xv_test_fork_domain(FT_CLIENT_DOM);
	if (cli == 0)
		lm_clients(n, bytes, 0, published[0]);
	ck_assert_int_eq(xv_test_wait(cli, 120000), 0);
	ck_assert_int_eq(xv_test_wait(srv, 120000), 0);
	if (n > 1)
		fprintf(stderr, "load: %u vchans, %zu bytes each way on each: "
			"%lld ms\n", n, bytes,
			(long long)((fs_now_ns() - start) / 1000000));
	ck_assert_msg(fs_sim_settle(0, 0, 5000, &ports, &grants) == 0,
		      "the simulator still holds %d ports, %d grant objects",
		      ports, grants);
	close(published[0]);
	close(published[1]);
}

/*
 * Each side's first pass reads (-EAGAIN: arms "tell me about data"), then
 * writes until the ring is full (-EAGAIN: drains the pending event and
 * arms "tell me about space"). The event the peer sent for its data,
 * armed by our read, is the one that drain consumes, and nothing else
 * will come: unless the drain hands it on to the read (flow/wait.c), both
 * sides wait with a full ring each and unread data each, and xvchan_fd()
 * is not readable though a read would make progress (the contract in
 * xvchan.h says it is).
 */
START_TEST(test_one_vchan_both_ways_in_one_nonblocking_loop_each_side)
{
	/* The race needs both first passes to overlap: try it often. */
	for (int round = 0; round < 40; round++)
		lm_many(1, 256u << 10);
}
END_TEST

START_TEST(test_a_hundred_vchans_in_one_epoll_loop_each_side)
{
	lm_many(100, LOAD_BYTES);
}
END_TEST

/*
 * Each endpoint has its own event-channel handle, so one process notifies
 * hundreds of handles at once: the simulator once lost events here,
 * because AF_UNIX charges unread datagrams to the sender's buffer
 * (sim/event.h: one doorbell per handle now).
 */
START_TEST(test_a_thousand_vchans_in_one_epoll_loop_each_side)
{
	lm_many(LOAD_VCHANS, LOAD_BYTES);
}
END_TEST

/*
 * A guest serving from one domain: domain 1 owns one node of its own
 * (/local/domain/1/data is its); the first vchan adds data/vchan,
 * data/vchan/2 and its three nodes, each later one three more. 1 + 5 +
 * 3 * 331 = 999 <= 1000 < 1002: the 333rd server is refused.
 */
START_TEST(test_a_guest_server_domain_stops_at_the_xenstore_node_quota)
{
	pid_t srv;

	lm_run_id++;
	srv = xv_test_fork_domain(FT_SERVER_DOM);
	if (srv == 0) {
		static struct xvchan *xs[LOAD_VCHANS];
		struct xvchan_config cfg;
		char port[32];
		unsigned int i;
		int err = 0;

		lm_raise_nofile(LOAD_VCHANS);
		ft_config(&cfg, XVCHAN_NONBLOCK);
		for (i = 0; i < LOAD_VCHANS; i++) {
			lm_port(port, sizeof(port), i);
			err = xvchan_server(&xs[i], FT_CLIENT_DOM, port, 1024,
					    1024, &cfg);
			if (err)
				break;
		}
		FT_EQ(err, -ENOSPC);
		FT_EQ(i, 332);
		while (i-- > 0)
			FT_EQ(xvchan_close(xs[i]), 0);
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(srv, 60000), 0);
}
END_TEST

static void lm_setup(void)
{
	xv_test_sim_start();
}

static void lm_teardown(void)
{
	xv_test_sim_stop();
}

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("load-many");
	TCase *tc = tcase_create("many");

	/* One simulator for the case, stopped by the runner even when a
	 * test fails (a checked teardown is skipped then). The
	 * thousand-vchan test comes last: a failure there leaves nothing
	 * for the others to trip on. */
	tcase_add_unchecked_fixture(tc, lm_setup, lm_teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc,
		test_one_vchan_both_ways_in_one_nonblocking_loop_each_side);
	tcase_add_test(tc, test_a_hundred_vchans_in_one_epoll_loop_each_side);
	tcase_add_test(tc,
		test_a_guest_server_domain_stops_at_the_xenstore_node_quota);
	tcase_add_test(tc, test_a_thousand_vchans_in_one_epoll_loop_each_side);
	suite_add_tcase(s, tc);
	return s;
}
