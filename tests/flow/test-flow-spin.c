/*
 * The adaptive spin: its rule on its own (flow/spin.h: exact budgets for
 * given waits), then its effect on a real endpoint: a reader whose peer
 * is always slower than the ceiling stops spinning after a few waits.
 */
#include <time.h>

#include "flow-test.h"
#include "flow/spin.h"

#define US 1000		/* nanoseconds */
#define CEILING (200 * US)

START_TEST(test_a_wait_caught_within_the_ceiling_buys_twice_its_length)
{
	ck_assert_int_eq(xv_flow_spin_next(0, 30 * US, CEILING), 60 * US);
	/* A larger budget that caught its wait is kept, not trimmed. */
	ck_assert_int_eq(xv_flow_spin_next(60 * US, 20 * US, CEILING),
			 60 * US);
	ck_assert_int_eq(xv_flow_spin_next(60 * US, 40 * US, CEILING),
			 80 * US);
	/* Twice the wait would pass the ceiling: the ceiling. */
	ck_assert_int_eq(xv_flow_spin_next(60 * US, 150 * US, CEILING),
			 CEILING);
	/* A wait of exactly the ceiling was still within it. */
	ck_assert_int_eq(xv_flow_spin_next(0, CEILING, CEILING), CEILING);
}
END_TEST

START_TEST(test_a_wait_beyond_the_ceiling_halves_the_budget_down_to_none)
{
	static const int64_t expected[] = {
		100000, 50000, 25000, 12500, 6250, 3125, 1562, 0, 0,
	};
	int64_t budget = CEILING;

	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		budget = xv_flow_spin_next(budget, CEILING + 1, CEILING);
		ck_assert_int_eq(budget, expected[i]);
	}
}
END_TEST

START_TEST(test_a_quick_wait_restores_a_budget_that_fell_to_none)
{
	ck_assert_int_eq(xv_flow_spin_next(0, 10 * US, CEILING), 20 * US);
	/* However short the wait, a budget below one pass is no budget. */
	ck_assert_int_eq(xv_flow_spin_next(0, 100, CEILING),
			 XV_FLOW_SPIN_MIN_NS);
	ck_assert_int_eq(xv_flow_spin_next(0, 0, CEILING),
			 XV_FLOW_SPIN_MIN_NS);
}
END_TEST

/* The catch-up pause: only for a reader that still spins and sent
 * nothing since it last found its ring empty (a one-way stream). */
START_TEST(test_the_catch_up_pause_is_for_a_spinning_one_way_reader)
{
	ck_assert(xv_flow_catch_up_due(CEILING, 1234, 1234));
	ck_assert(xv_flow_catch_up_due(XV_FLOW_SPIN_MIN_NS, 0, 0));
	/* Sent since: maybe an answer the peer waits for. */
	ck_assert(!xv_flow_catch_up_due(CEILING, 1235, 1234));
	/* A count that wrapped to the same value is 2^32 bytes: not a
	 * case a pause could wrongly delay a round trip for. */
	ck_assert(!xv_flow_catch_up_due(CEILING, 0, UINT32_MAX));
	/* No budget (spinning decayed, nospin, non-blocking): no pause. */
	ck_assert(!xv_flow_catch_up_due(0, 1234, 1234));
}
END_TEST

#define SLOW_BYTES 30
#define SLOW_GAP_MS 20
#define SLOW_CEILING_US 5000

/*
 * The writer sends a byte every 20 ms, four times the reader's 5 ms
 * ceiling. A budget that never shrank would spin 5 ms per byte, 150 ms in
 * all; halving from 5 ms spins about 10 ms before it reaches none.
 */
static void slow_server(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	int64_t c0;
	char c;

	ft_config(&cfg, 0);
	cfg.spin_us = SLOW_CEILING_US;
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "slow", 4096, 4096, &cfg), 0);
	c0 = xv_test_cpu_ms();
	for (int i = 0; i < SLOW_BYTES; i++) {
		FT_EQ(xvchan_read(x, &c, 1), 1);
		FT_EQ(c, 'a' + i % 26);
	}
	/* Generous for a loaded machine and sanitizers: the wake-ups
	 * themselves cost well under a millisecond each. */
	FT_ASSERT(xv_test_cpu_ms() - c0 < 60);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

static void slow_client(void *arg)
{
	struct timespec gap = { .tv_nsec = SLOW_GAP_MS * 1000000L };
	struct xvchan *x = ft_client("slow", 0);

	for (int i = 0; i < SLOW_BYTES; i++) {
		char c = (char)('a' + i % 26);

		nanosleep(&gap, NULL);
		FT_EQ(xvchan_write(x, &c, 1), 1);
	}
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_a_reader_whose_peer_is_always_slow_stops_spinning)
{
	FT_RUN_PAIR(slow_server, slow_client, NULL, FT_WAIT_MS);
}
END_TEST

/*
 * The spin stands in for a sleep. A non-blocking call never sleeps, so it
 * never spins; a blocking one never spins past its io timeout. A ceiling
 * of 2 s makes either mistake plain.
 */
#define LONG_CEILING_US 2000000

static int64_t bounded_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void bounded_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	int64_t t0, c0;
	char c;

	ft_config(&cfg, XVCHAN_NONBLOCK);
	cfg.spin_us = LONG_CEILING_US;
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "spin-nb", 4096, 4096, &cfg),
	      0);
	c0 = xv_test_cpu_ms();
	FT_EQ(xvchan_read(x, &c, 1), -EAGAIN);
	FT_ASSERT(xv_test_cpu_ms() - c0 < 500);
	FT_EQ(xvchan_close(x), 0);

	ft_config(&cfg, 0);
	cfg.spin_us = LONG_CEILING_US;
	cfg.io_timeout_ms = 100;
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "spin-io", 4096, 4096, &cfg),
	      0);
	t0 = bounded_now_ms();
	FT_EQ(xvchan_read(x, &c, 1), -ETIMEDOUT);
	FT_ASSERT(bounded_now_ms() - t0 < 1000);
	ft_signal(p->down[1]);
	FT_EQ(xvchan_close(x), 0);
}

static void bounded_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_client("spin-io", 0);

	ft_await(p->down[0]);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_no_spin_without_a_sleep_or_past_the_io_timeout)
{
	FT_RUN_PIPED_PAIR(bounded_server, bounded_client, FT_WAIT_MS);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("flow-spin");
	TCase *rule = tcase_create("rule");
	TCase *endpoint = ft_sim_tcase("endpoint");

	tcase_add_test(rule,
		test_a_wait_caught_within_the_ceiling_buys_twice_its_length);
	tcase_add_test(rule,
		test_a_wait_beyond_the_ceiling_halves_the_budget_down_to_none);
	tcase_add_test(rule,
		test_the_catch_up_pause_is_for_a_spinning_one_way_reader);
	tcase_add_test(rule,
		test_a_quick_wait_restores_a_budget_that_fell_to_none);
	suite_add_tcase(s, rule);

	tcase_add_test(endpoint,
		test_a_reader_whose_peer_is_always_slow_stops_spinning);
	tcase_add_test(endpoint,
		test_no_spin_without_a_sleep_or_past_the_io_timeout);
	suite_add_tcase(s, endpoint);
	return s;
}
