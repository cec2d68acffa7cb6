/*
 * A lost wake-up, step by step. xvchan.h promises, for non-blocking mode,
 * that after -EAGAIN the descriptor becomes readable once the peer made
 * progress possible. One thread using both directions of one endpoint:
 * its read gets -EAGAIN (armed for data); the peer writes (and, seeing
 * the arm, sends the event); then the same thread's write finds the ring
 * full and returns -EAGAIN, and on that path drains the pending event,
 * the one that announced the data. Unless that drain hands the event on
 * to the read (flow/wait.c), the descriptor then stays quiet although a
 * read would return the byte: an epoll loop waits forever (tests/load's
 * loops stalled exactly so).
 */
#include "flow-test.h"
#include "fault-sim.h"

START_TEST(test_data_event_survives_a_write_eagain_on_the_same_thread)
{
	pid_t srv, cli;
	int up[2], down[2], srv_status, cli_status;

	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	srv = xv_test_fork_domain(FT_SERVER_DOM);
	if (srv == 0) {
		struct xvchan_config cfg;
		struct xvchan *x = NULL;
		struct pollfd p;
		static unsigned char buf[8192];
		char c;
		ssize_t n;

		ft_config(&cfg, 0);
		cfg.flags = XVCHAN_NONBLOCK;
		cfg.spin_us = 0;
		FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "wakeup", 4096, 4096,
				    &cfg), 0);
		p = (struct pollfd){ .fd = xvchan_fd(x), .events = POLLIN };
		/* Wait for the client's connect, consumed by a read. */
		FT_EQ(poll(&p, 1, FT_WAIT_MS), 1);
		FT_EQ(xvchan_read(x, &c, 1), -EAGAIN);
		ft_signal(up[1]);
		/* The client wrote one byte: the event is pending. */
		ft_await(down[0]);
		FT_EQ(poll(&p, 1, 0), 1);
		/* Same thread, other direction: fill the ring. */
		while ((n = xvchan_write(x, buf, sizeof(buf))) > 0)
			;
		FT_EQ(n, -EAGAIN);
		/* A read would make progress, so the fd must say so. */
		FT_EQ(poll(&p, 1, 1000), 1);
		FT_EQ(xvchan_read(x, &c, 1), 1);
		FT_EQ(c, 'd');
		ft_signal(up[1]);
		FT_EQ(xvchan_close(x), 0);
		_exit(0);
	}
	cli = xv_test_fork_domain(FT_CLIENT_DOM);
	if (cli == 0) {
		struct xvchan *x = ft_client("wakeup", 0);

		ft_await(up[0]);
		FT_EQ(xvchan_write(x, "d", 1), 1);
		ft_signal(down[1]);
		/* Stay connected (and not reading) until the server is
		 * done looking. */
		ft_await(up[0]);
		FT_EQ(xvchan_close(x), 0);
		_exit(0);
	}
	srv_status = xv_test_wait(srv, FT_WAIT_MS);
	/* A failed server never releases the client. */
	if (srv_status != 0)
		kill(cli, SIGKILL);
	cli_status = xv_test_wait(cli, FT_WAIT_MS);
	ck_assert_int_eq(srv_status, 0);
	ck_assert_int_eq(cli_status, 0);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
}
END_TEST

static void fu_setup(void)
{
	xv_test_sim_start();
}

static void fu_teardown(void)
{
	xv_test_sim_stop();
}

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("faults-wakeup");
	TCase *tc = tcase_create("wakeup");

	tcase_add_unchecked_fixture(tc, fu_setup, fu_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		test_data_event_survives_a_write_eagain_on_the_same_thread);
	suite_add_tcase(s, tc);
	return s;
}
