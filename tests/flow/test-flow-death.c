/*
 * A peer that dies (SIGKILL, no close) looks like a close: the grant
 * driver's unmap notification clears its live byte and raises the event.
 * The survivor reads what was written, then end of stream; its writes fail
 * with -EPIPE, including one already blocked on a full ring.
 */
#include "flow-test.h"

START_TEST(test_killed_writer_looks_like_a_close_after_its_data)
{
	pid_t srv, cli;
	int up[2], down[2];

	FT_PIPE(up);
	FT_PIPE(down);
	srv = xv_test_fork_domain(FT_SERVER_DOM);
	if (srv == 0) {
		struct xvchan *x = ft_server("death-writer", 4096, 4096, 0);

		ft_await(down[0]);
		ft_read_pattern(x, 8, 3000);
		ft_expect_eof(x);
		FT_EQ(xvchan_write(x, "x", 1), -EPIPE);
		FT_EQ(xvchan_close(x), 0);
		_exit(0);
	}
	cli = xv_test_fork_domain(FT_CLIENT_DOM);
	if (cli == 0) {
		struct xvchan *x = ft_client("death-writer", 0);

		ft_write_pattern(x, 8, 3000);
		ft_signal(up[1]);
		ft_sleep_until_killed();
	}
	FT_AWAIT_PARENT(up[0]);
	FT_KILL(cli);
	/* The server only starts reading once the client is dead. */
	ck_assert_int_eq(write(down[1], "k", 1), 1);
	ck_assert_int_eq(xv_test_wait(srv, FT_WAIT_MS), 0);
	ft_close_pipe(up);
	ft_close_pipe(down);
}
END_TEST

START_TEST(test_blocked_writer_gets_epipe_when_the_reader_is_killed)
{
	pid_t srv, cli;
	int up[2];

	FT_PIPE(up);
	srv = xv_test_fork_domain(FT_SERVER_DOM);
	if (srv == 0) {
		struct xvchan *x = ft_server("death-reader", 4096, 4096, 0);
		static unsigned char big[1 << 16];

		ft_signal(up[1]);
		/* Blocks on the full ring until the client dies. */
		FT_EQ(xvchan_write(x, big, sizeof(big)), -EPIPE);
		ft_expect_eof(x);
		FT_EQ(xvchan_close(x), 0);
		_exit(0);
	}
	cli = xv_test_fork_domain(FT_CLIENT_DOM);
	if (cli == 0) {
		(void)ft_client("death-reader", 0);
		ft_sleep_until_killed();
	}
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
