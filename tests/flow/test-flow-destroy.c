/*
 * The peer's domain destroyed (`xl destroy`, xvchan-sim destroy): it runs
 * nothing on its way out, so no live byte is cleared and no event comes;
 * only xenstore knows (@releaseDomain). A dom0 endpoint still sees the
 * end within a second: reads return what is left, then 0; writes -EPIPE;
 * a blocked call and a poll on xvchan_fd() wake; close does not wait for
 * its timeout. A guest endpoint may not watch another domain (xenstored
 * refuses, XSA-115) and goes on as before.
 *
 * Each test uses a guest domain of its own, so that one destroyed by an
 * earlier test is never needed again.
 */
#include "flow-test.h"

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

static void dt_describes(struct xvchan *x, const char *what)
{
	char d[1024];

	FT_ASSERT(xvchan_describe(x, d, sizeof(d)) > 0);
	if (!strstr(d, what)) {
		fprintf(stderr, "no \"%s\" in %s\n", what, d);
		FT_ASSERT(0);
	}
}

/* ft_await() for the Check process itself: failures are Check failures. */
static void dt_await_parent(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	ck_assert_int_eq(poll(&p, 1, FT_WAIT_MS), 1);
	ck_assert_int_eq(read(fd, &c, 1), 1);
}

static void dt_pipe(int p[2])
{
	ck_assert_int_eq(pipe(p), 0);
}

static void dt_close_pipe(int p[2])
{
	close(p[0]);
	close(p[1]);
}

START_TEST(test_dom0_watches_its_guest_peer_and_the_guest_does_without)
{
	pid_t srv, cli;

	srv = xv_test_fork_domain(0);
	if (srv == 0) {
		struct xvchan *x = dt_server(3, "dt-watch", 0);
		char c = 0;

		dt_describes(x, "(peer_domain not-yet-watched)");
		FT_ASSERT(xvchan_fd(x) >= 0);
		dt_describes(x, "(peer_domain watched)");
		FT_EQ(xvchan_write(x, "s", 1), 1);
		FT_EQ(xvchan_read(x, &c, 1), 1);
		FT_EQ(c, 'c');
		FT_EQ(xvchan_close(x), 0);
		_exit(0);
	}
	cli = xv_test_fork_domain(3);
	if (cli == 0) {
		struct xvchan *x = dt_client(0, "dt-watch", 0);
		char c = 0;

		FT_ASSERT(xvchan_fd(x) >= 0);
		/* xenstored refuses a guest the question: no watch, and
		 * no error either. */
		dt_describes(x, "(peer_domain unwatched)");
		FT_EQ(xvchan_read(x, &c, 1), 1);
		FT_EQ(c, 's');
		FT_EQ(xvchan_write(x, "c", 1), 1);
		ft_expect_eof(x);
		FT_EQ(xvchan_close(x), 0);
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(srv, FT_WAIT_MS), 0);
	ck_assert_int_eq(xv_test_wait(cli, FT_WAIT_MS), 0);
}
END_TEST

/*
 * A server may be set up before its client domain exists: a domain that
 * is not there yet is no peer that went away. Domain 9 does not exist
 * when the watch is set and first asked.
 */
START_TEST(test_a_server_for_a_domain_not_yet_created_keeps_waiting)
{
	int up[2], down[2];
	pid_t srv, cli;

	dt_pipe(up);
	dt_pipe(down);
	srv = xv_test_fork_domain(0);
	if (srv == 0) {
		struct xvchan *x = dt_server(9, "dt-early", XVCHAN_NONBLOCK);
		struct pollfd p = { .fd = xvchan_fd(x), .events = POLLIN };
		char c = 0;
		ssize_t n;

		FT_ASSERT(p.fd >= 0);
		dt_describes(x, "(peer_domain watched)");
		/* The read takes the watch's first event and asks. */
		FT_EQ(xvchan_read(x, &c, 1), -EAGAIN);
		FT_EQ(xvchan_read(x, &c, 1), -EAGAIN);
		dt_describes(x, "(peer_domain watched)");
		ft_signal(up[1]);
		ft_await(down[0]);
		for (;;) {
			FT_EQ(poll(&p, 1, FT_WAIT_MS), 1);
			n = xvchan_read(x, &c, 1);
			if (n != -EAGAIN)
				break;
		}
		FT_EQ(n, 1);
		FT_EQ(c, 'c');
		dt_describes(x, "(peer_domain watched)");
		FT_EQ(xvchan_close(x), 0);
		_exit(0);
	}
	dt_await_parent(up[0]);
	cli = xv_test_fork_domain(9);
	if (cli == 0) {
		struct xvchan *x = dt_client(0, "dt-early", 0);

		FT_EQ(xvchan_write(x, "c", 1), 1);
		FT_EQ(xvchan_close(x), 0);
		_exit(0);
	}
	ck_assert_int_eq(write(down[1], "g", 1), 1);
	ck_assert_int_eq(xv_test_wait(cli, FT_WAIT_MS), 0);
	ck_assert_int_eq(xv_test_wait(srv, FT_WAIT_MS), 0);
	dt_close_pipe(up);
	dt_close_pipe(down);
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
	Suite *s = suite_create("flow-destroy");
	TCase *tc = tcase_create("destroy");

	tcase_add_unchecked_fixture(tc, ft_setup, ft_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		test_dom0_watches_its_guest_peer_and_the_guest_does_without);
	tcase_add_test(tc,
		test_a_server_for_a_domain_not_yet_created_keeps_waiting);
	suite_add_tcase(s, tc);
	return s;
}
