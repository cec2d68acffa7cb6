/*
 * A peer that dies (SIGKILL, no close) looks like a close: the grant
 * driver's unmap notification clears its live byte and raises the event.
 * The survivor reads what was written, then end of stream; its writes fail
 * with -EPIPE, including one already blocked on a full ring.
 */
#include "flow-test.h"

/* ft_await() for the Check process itself: failures are Check failures. */
static void ft_await_parent(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	ck_assert_int_eq(poll(&p, 1, FT_WAIT_MS), 1);
	ck_assert_int_eq(read(fd, &c, 1), 1);
}

START_TEST(test_killed_writer_looks_like_a_close_after_its_data)
{
	pid_t srv, cli;
	int up[2], down[2];

	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
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
		pause();
		_exit(0);
	}
	ft_await_parent(up[0]);
	ck_assert_int_eq(kill(cli, SIGKILL), 0);
	ck_assert_int_eq(xv_test_wait(cli, FT_WAIT_MS), 128 + SIGKILL);
	/* The server only starts reading once the client is dead. */
	ck_assert_int_eq(write(down[1], "k", 1), 1);
	ck_assert_int_eq(xv_test_wait(srv, FT_WAIT_MS), 0);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
}
END_TEST

START_TEST(test_blocked_writer_gets_epipe_when_the_reader_is_killed)
{
	pid_t srv, cli;
	int up[2];

	ck_assert_int_eq(pipe(up), 0);
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
		pause();
		_exit(0);
	}
	ft_await_parent(up[0]);
	/* Let the server reach its sleep on the full ring first. */
	usleep(100 * 1000);
	ck_assert_int_eq(kill(cli, SIGKILL), 0);
	ck_assert_int_eq(xv_test_wait(cli, FT_WAIT_MS), 128 + SIGKILL);
	ck_assert_int_eq(xv_test_wait(srv, FT_WAIT_MS), 0);
	close(up[0]);
	close(up[1]);
}
END_TEST

static void ft_setup(void)
{
	xv_test_sim_start();
}

static void ft_teardown(void)
{
	xv_test_sim_stop();
}

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("flow-death");
	TCase *tc = tcase_create("death");

	tcase_add_unchecked_fixture(tc, ft_setup, ft_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		test_killed_writer_looks_like_a_close_after_its_data);
	tcase_add_test(tc,
		test_blocked_writer_gets_epipe_when_the_reader_is_killed);
	suite_add_tcase(s, tc);
	return s;
}
