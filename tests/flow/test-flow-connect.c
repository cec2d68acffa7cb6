/*
 * Rendezvous on the simulator: a client waits for a late server, gives up
 * with -ETIMEDOUT when none comes, a port is served once (-EADDRINUSE), a
 * blocking server gives up and unpublishes, explicit xenstore paths, a
 * server serves one client only.
 */
#include "flow-test.h"

static void nobody_client(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, 0);
	cfg.connect_timeout_ms = 200;
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "nobody", &cfg), -ETIMEDOUT);
	cfg.connect_timeout_ms = 0;
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "nobody", &cfg), -ETIMEDOUT);
	FT_ASSERT(x == NULL);
}

START_TEST(test_client_without_server_times_out)
{
	FT_RUN_SIDE(FT_CLIENT_DOM, nobody_client, NULL, FT_WAIT_MS);
}
END_TEST

static void late_client(void *arg)
{
	struct xvchan *x = ft_client("late", 0);

	ft_read_to_eof_and_close(x, 12, 100);
}

static void late_server(void *arg)
{
	struct xvchan *x = ft_server("late", 4096, 4096, 0);

	ft_write_and_close(x, 12, 100);
}

START_TEST(test_client_waits_for_a_server_that_comes_later)
{
	pid_t srv, cli;

	cli = ft_fork_side(FT_CLIENT_DOM, late_client, NULL);
	usleep(200 * 1000);
	srv = ft_fork_side(FT_SERVER_DOM, late_server, NULL);
	FT_WAIT_PAIR(srv, cli, FT_WAIT_MS);
}
END_TEST

static void busy_server(void *arg)
{
	struct xvchan *a = ft_server("busy", 4096, 4096, XVCHAN_NONBLOCK);
	struct xvchan *b = NULL;
	struct xvchan_config cfg;

	ft_config(&cfg, XVCHAN_NONBLOCK);
	FT_EQ(xvchan_server(&b, FT_CLIENT_DOM, "busy", 4096, 4096, &cfg),
	      -EADDRINUSE);
	FT_ASSERT(b == NULL);
	/* Another client domain is another path. */
	FT_EQ(xvchan_server(&b, 0, "busy", 4096, 4096, &cfg), 0);
	FT_EQ(xvchan_close(b), 0);
	/* Closing unpublishes: the port can be served again. */
	FT_EQ(xvchan_close(a), 0);
	a = ft_server("busy", 4096, 4096, XVCHAN_NONBLOCK);
	FT_EQ(xvchan_close(a), 0);
}

START_TEST(test_a_served_port_is_in_use_until_closed)
{
	FT_RUN_SIDE(FT_SERVER_DOM, busy_server, NULL, FT_WAIT_MS);
}
END_TEST

static void lonely_server(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, 0);
	cfg.connect_timeout_ms = 100;
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "lonely", 4096, 4096, &cfg),
	      -ETIMEDOUT);
	FT_ASSERT(x == NULL);
	x = ft_server("lonely", 4096, 4096, XVCHAN_NONBLOCK);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_blocking_server_times_out_and_unpublishes)
{
	FT_RUN_SIDE(FT_SERVER_DOM, lonely_server, NULL, FT_WAIT_MS);
}
END_TEST

static const char my_vchan_path[] = "/local/domain/1/data/my-vchan";

static void path_server(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, 0);
	cfg.path = my_vchan_path;
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, NULL, 4096, 4096, &cfg), 0);
	ft_expect_described(x, "(path /local/domain/1/data/my-vchan)");
	ft_write_and_close(x, 13, 5000);
}

static void path_client(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, 0);
	cfg.path = my_vchan_path;
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "ignored", &cfg), 0);
	ft_read_to_eof_and_close(x, 13, 5000);
}

START_TEST(test_explicit_path_replaces_the_port)
{
	FT_RUN_PAIR(path_server, path_client, NULL, FT_WAIT_MS);
}
END_TEST

static void stale_server(void *arg)
{
	int *up = arg;

	(void)ft_server("stale", 4096, 4096, XVCHAN_NONBLOCK);
	ft_signal(up[1]);
	ft_sleep_until_killed();
}

static void stale_client(void *arg)
{
	struct xvchan *x = NULL;
	struct xvchan_config cfg;
	int err, tries;

	ft_config(&cfg, 0);
	/* The daemon releases a dead process's resources shortly after its
	 * connection drops. */
	for (tries = 0; tries < 200; tries++) {
		err = xvchan_client(&x, FT_SERVER_DOM, "stale", &cfg);
		if (err != 0)
			break;
		FT_EQ(xvchan_close(x), 0);
		usleep(10 * 1000);
	}
	FT_EQ(err, -ECONNREFUSED);
}

START_TEST(test_client_of_a_dead_servers_stale_entry_is_refused)
{
	pid_t srv, cli;
	int up[2];

	FT_PIPE(up);
	srv = ft_fork_side(FT_SERVER_DOM, stale_server, up);
	FT_AWAIT_PARENT(up[0]);
	/* Killed: its grants and port go, its xenstore entry stays. */
	FT_KILL(srv);
	cli = ft_fork_side(FT_CLIENT_DOM, stale_client, NULL);
	ck_assert_int_eq(xv_test_wait(cli, FT_WAIT_MS), 0);
	ft_close_pipe(up);
}
END_TEST

/*
 * The server's first client has been and gone; its port, unbound again,
 * could be bound by another client of that domain, which would take up
 * the first one's stream where it left off. The page says so: cli_live
 * no longer WAITING.
 */
static void second_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_server("second", 4096, 4096, XVCHAN_NONBLOCK);

	ft_await(p->down[0]);
	FT_EQ(xvchan_close(x), 0);
}

static void second_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan_config cfg;
	struct xvchan *first = ft_client("second", XVCHAN_NONBLOCK);
	struct xvchan *second = NULL;

	FT_EQ(xvchan_write(first, "one", 3), 3);
	FT_EQ(xvchan_close(first), 0);
	ft_config(&cfg, 0);
	FT_EQ(xvchan_client(&second, FT_SERVER_DOM, "second", &cfg),
	      -ECONNREFUSED);
	FT_ASSERT(second == NULL);
	ft_signal(p->down[1]);
}

START_TEST(test_a_second_client_after_the_first_left_is_refused)
{
	FT_RUN_PIPED_PAIR(second_server, second_client, FT_WAIT_MS);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("flow-connect");
	TCase *tc = ft_sim_tcase("connect");

	tcase_add_test(tc, test_client_without_server_times_out);
	tcase_add_test(tc, test_client_waits_for_a_server_that_comes_later);
	tcase_add_test(tc, test_a_served_port_is_in_use_until_closed);
	tcase_add_test(tc, test_blocking_server_times_out_and_unpublishes);
	tcase_add_test(tc, test_explicit_path_replaces_the_port);
	tcase_add_test(tc,
		test_client_of_a_dead_servers_stale_entry_is_refused);
	tcase_add_test(tc,
		test_a_second_client_after_the_first_left_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
