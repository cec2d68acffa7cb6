/*
 * A peer that dies (SIGKILL, no close) looks like a close: the grant
 * driver's unmap notification clears its live byte and raises the event.
 * The survivor reads what was written, then end of stream; its writes fail
 * with -EPIPE, including one already blocked on a full ring.
 */
#include "flow-test.h"

static void death_writer_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_server("death-writer", 4096, 4096, 0);

	ft_await(p->down[0]);
	ft_read_pattern(x, 8, 3000);
	ft_expect_eof(x);
	FT_EQ(xvchan_write(x, "x", 1), -EPIPE);
	FT_EQ(xvchan_close(x), 0);
}

static void death_writer_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_client("death-writer", 0);

	ft_write_pattern(x, 8, 3000);
	ft_signal(p->up[1]);
	ft_sleep_until_killed();
}

START_TEST(test_killed_writer_looks_like_a_close_after_its_data)
{
	struct ft_pipes p;
	pid_t srv, cli;

	FT_PIPES(p);
	srv = ft_fork_side(FT_SERVER_DOM, death_writer_server, &p);
	cli = ft_fork_side(FT_CLIENT_DOM, death_writer_client, &p);
	FT_AWAIT_PARENT(p.up[0]);
	FT_KILL(cli);
	/* The server only starts reading once the client is dead. */
	ck_assert_int_eq(write(p.down[1], "k", 1), 1);
	ck_assert_int_eq(xv_test_wait(srv, FT_WAIT_MS), 0);
	ft_close_pipes(&p);
}
END_TEST

static void death_reader_server(void *arg)
{
	int *up = arg;
	struct xvchan *x = ft_server("death-reader", 4096, 4096, 0);
	static unsigned char big[1 << 16];

	ft_signal(up[1]);
	/* Blocks on the full ring until the client dies. */
	FT_EQ(xvchan_write(x, big, sizeof(big)), -EPIPE);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

static void death_reader_client(void *arg)
{
	(void)ft_client("death-reader", 0);
	ft_sleep_until_killed();
}

START_TEST(test_blocked_writer_gets_epipe_when_the_reader_is_killed)
{
	pid_t srv, cli;
	int up[2];

	FT_PIPE(up);
	srv = ft_fork_side(FT_SERVER_DOM, death_reader_server, up);
	cli = ft_fork_side(FT_CLIENT_DOM, death_reader_client, NULL);
	FT_AWAIT_PARENT(up[0]);
	/* Let the server reach its sleep on the full ring first. */
	usleep(100 * 1000);
	FT_KILL(cli);
	ck_assert_int_eq(xv_test_wait(srv, FT_WAIT_MS), 0);
	ft_close_pipe(up);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("flow-death");
	TCase *tc = ft_sim_tcase("death");

	tcase_add_test(tc,
		test_killed_writer_looks_like_a_close_after_its_data);
	tcase_add_test(tc,
		test_blocked_writer_gets_epipe_when_the_reader_is_killed);
	suite_add_tcase(s, tc);
	return s;
}
