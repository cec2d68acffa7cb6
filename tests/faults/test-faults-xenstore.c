/*
 * xenstore refuses: the refusal reaches the caller of xvchan_server() /
 * xvchan_client() as its own error code, promptly, and leaves nothing
 * behind (no node, no port, no grant).
 */
#include "flow-test.h"
#include "fault-sim.h"

/* Run @body as domain @domid and require exit status 0. */
#define FX_AS_DOMAIN(domid, body)					\
	do {								\
		pid_t fx_pid_ = xv_test_fork_domain(domid);		\
		if (fx_pid_ == 0) {					\
			body;						\
			_exit(0);					\
		}							\
		ck_assert_int_eq(xv_test_wait(fx_pid_, FT_WAIT_MS), 0);	\
	} while (0)

static int fx_server_at(const char *path, unsigned int client, int timeout)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	int err;

	ft_config(&cfg, 0);
	cfg.path = path;
	cfg.connect_timeout_ms = timeout;
	err = xvchan_server(&x, client, NULL, 4096, 4096, &cfg);
	FT_ASSERT(err != 0 || x != NULL);
	if (err == 0)
		FT_EQ(xvchan_close(x), 0);
	return err;
}

static int fx_client_at(const char *path, unsigned int server, int timeout)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	int err;

	ft_config(&cfg, 0);
	cfg.path = path;
	cfg.connect_timeout_ms = timeout;
	err = xvchan_client(&x, server, NULL, &cfg);
	if (err == 0)
		FT_EQ(xvchan_close(x), 0);
	return err;
}

/* After a refused call the simulator holds nothing of the caller. */
static void fx_assert_nothing_held(void)
{
	int ports, grants;

	ck_assert_msg(fs_sim_settle(0, 0, 2000, &ports, &grants) == 0,
		      "the simulator still holds %d ports, %d grant objects",
		      ports, grants);
}

START_TEST(test_server_in_another_domains_home_is_eacces)
{
	struct xs_handle *xs;

	FX_AS_DOMAIN(1, FT_EQ(fx_server_at("/local/domain/2/data/fx-perm", 2,
					   0), -EACCES));
	/* A path whose parents do not exist yet, outside the home too. */
	FX_AS_DOMAIN(1, FT_EQ(fx_server_at("/tool/fx/deep/path", 2, 0),
			      -EACCES));
	xs = fs_xs_dom0();
	ck_assert_ptr_nonnull(xs);
	ck_assert_int_eq(fs_xs_exists(xs, "/local/domain/2/data/fx-perm"), 0);
	ck_assert_int_eq(fs_xs_exists(xs, "/tool/fx"), 0);
	xs_close(xs);
	fx_assert_nothing_held();
}
END_TEST

/* Fill domain 1's node quota from inside domain 1, then serve. */
static void fx_fill_quota_then_serve(void)
{
	struct xs_handle *h = xs_open(0);
	unsigned int n;
	char node[64];

	FT_ASSERT(h != NULL);
	for (n = 0;; n++) {
		snprintf(node, sizeof(node), "data/fill/%u", n);
		errno = 0;
		if (!xs_write(h, XBT_NULL, node, "x", 1))
			break;
		FT_ASSERT(n < 5000);
	}
	FT_EQ(errno, ENOSPC);
	/* Room for one node is not room for a vchan (three nodes). */
	snprintf(node, sizeof(node), "data/fill/%u", n - 1);
	FT_ASSERT(xs_rm(h, XBT_NULL, node));
	FT_EQ(fx_server_at("data/fx-quota", 2, 0), -ENOSPC);
	/* The refused transaction left nothing: the freed slot is free. */
	FT_ASSERT(xs_write(h, XBT_NULL, node, "x", 1));
	errno = 0;
	FT_ASSERT(xs_read(h, XBT_NULL, "data/fx-quota", &n) == NULL);
	FT_EQ(errno, ENOENT);
	xs_close(h);
}

START_TEST(test_server_over_the_node_quota_is_enospc)
{
	FX_AS_DOMAIN(1, fx_fill_quota_then_serve());
	fx_assert_nothing_held();
}
END_TEST

START_TEST(test_client_of_a_path_never_published_times_out)
{
	FX_AS_DOMAIN(2, {
		int64_t t = fs_now_ns();

		FT_EQ(fx_client_at("/local/domain/1/data/fx-none", 1, 300),
		      -ETIMEDOUT);
		FT_ASSERT(fs_now_ns() - t >= 300 * 1000000ll);
		FT_ASSERT(fs_now_ns() - t < 5000 * 1000000ll);
		/* 0: look once. */
		t = fs_now_ns();
		FT_EQ(fx_client_at("/local/domain/1/data/fx-none", 1, 0),
		      -ETIMEDOUT);
		FT_ASSERT(fs_now_ns() - t < 1000 * 1000000ll);
	});
	fx_assert_nothing_held();
}
END_TEST

/*
 * A vchan published for domain 3 is unreadable to domain 2: xenstore
 * answers EACCES, which the lookup cannot tell from "not yet published"
 * (the nearest readable ancestor rule gives EACCES for missing nodes
 * too), so the client waits and times out.
 */
START_TEST(test_client_without_read_permission_times_out)
{
	int up[2], down[2];
	pid_t srv;

	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	xv_test_sim_domain(3);
	srv = xv_test_fork_domain(1);
	if (srv == 0) {
		struct xvchan_config cfg;
		struct xvchan *x = NULL;

		ft_config(&cfg, XVCHAN_NONBLOCK);
		cfg.path = "data/fx-for-3";
		FT_EQ(xvchan_server(&x, 3, NULL, 4096, 4096, &cfg), 0);
		ft_signal(up[1]);
		ft_await(down[0]);
		FT_EQ(xvchan_close(x), 0);
		_exit(0);
	}
	FX_AS_DOMAIN(2, {
		ft_await(up[0]);
		FT_EQ(fx_client_at("/local/domain/1/data/fx-for-3", 1, 300),
		      -ETIMEDOUT);
		ft_signal(down[1]);
	});
	ck_assert_int_eq(xv_test_wait(srv, FT_WAIT_MS), 0);
	fx_assert_nothing_held();
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
}
END_TEST

START_TEST(test_unreachable_xenstore_fails_server_and_client_at_once)
{
	FX_AS_DOMAIN(1, {
		int64_t t = fs_now_ns();

		FT_EQ(setenv("XENSTORED_PATH", "/nonexistent/xs-socket", 1),
		      0);
		FT_EQ(fx_server_at("data/fx-nostore", 2, -1), -ENOENT);
		FT_EQ(fx_client_at("/local/domain/2/data/fx", 2, -1),
		      -ENOENT);
		FT_ASSERT(fs_now_ns() - t < 1000 * 1000000ll);
	});
	fx_assert_nothing_held();
}
END_TEST

static void fx_setup(void)
{
	xv_test_sim_start();
}

static void fx_teardown(void)
{
	xv_test_sim_stop();
}

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("faults-xenstore");
	TCase *tc = tcase_create("xenstore");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_server_in_another_domains_home_is_eacces);
	tcase_add_test(tc, test_server_over_the_node_quota_is_enospc);
	tcase_add_test(tc, test_client_of_a_path_never_published_times_out);
	tcase_add_test(tc, test_client_without_read_permission_times_out);
	tcase_add_test(tc,
		test_unreachable_xenstore_fails_server_and_client_at_once);
	suite_add_tcase(s, tc);
	return s;
}
