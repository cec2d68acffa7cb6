/*
 * xvchan against an old peer (Debian's unmodified libxenvchan), which has
 * no half-close: our extension bits must go unnoticed by it, and our
 * shutdown becomes the end of the whole connection (docs/protocol.md).
 * libxenvchan also exposes its mapped page, which makes it a convenient
 * lying peer for the -EPROTO path.
 */
#include <libxenvchan.h>

#include "flow-test.h"

#define FT_LEGACY_PATH(port) "/local/domain/1/data/vchan/2/" port

/* libxenvchan's client fails at once if the server has not published. */
static struct libxenvchan *ft_lx_client(const char *path)
{
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		struct libxenvchan *c = libxenvchan_client_init(NULL,
			FT_SERVER_DOM, path);

		if (c) {
			/* A signed 1-bit field: -1 is its "true". */
			c->blocking = -1;
			return c;
		}
		usleep(10 * 1000);
	}
	FT_ASSERT(!"libxenvchan client never connected");
	return NULL;
}

static void ft_lx_send(struct libxenvchan *c, uint64_t seed, size_t total)
{
	unsigned char buf[1000];
	size_t off;

	for (off = 0; off < total; off += sizeof(buf)) {
		size_t n = total - off < sizeof(buf) ? total - off :
						       sizeof(buf);

		xv_pattern_fill(seed, off, buf, n);
		FT_EQ(libxenvchan_send(c, buf, n), n);
	}
}

static void ft_lx_recv(struct libxenvchan *c, uint64_t seed, size_t total)
{
	unsigned char buf[1000];
	size_t off = 0;

	while (off < total) {
		size_t want = total - off < sizeof(buf) ? total - off :
							  sizeof(buf);
		int n = libxenvchan_read(c, buf, want);

		FT_ASSERT(n > 0);
		FT_EQ(xv_pattern_check(seed, off, buf, (size_t)n), n);
		off += (size_t)n;
	}
}

static void ft_expect_legacy(struct xvchan *x)
{
	ft_expect_described(x, "(peer legacy)");
}

static void legacy_a_server(void *arg)
{
	struct xvchan *x = ft_server("legacy-a", 4096, 4096, 0);

	ft_expect_legacy(x);
	ft_read_pattern(x, 20, 3000);
	ft_write_pattern(x, 21, 10000);
	FT_EQ(xvchan_shutdown(x), 0);
	/* An old peer stops writing once our live byte is 0. */
	ft_expect_eof(x);
	FT_EQ(xvchan_write(x, "x", 1), -ESHUTDOWN);
	FT_EQ(xvchan_close(x), 0);
}

static void legacy_a_client(void *arg)
{
	struct libxenvchan *c = ft_lx_client(FT_LEGACY_PATH("legacy-a"));
	char b;

	ft_lx_send(c, 20, 3000);
	/* Every byte before the shutdown, then the end. */
	ft_lx_recv(c, 21, 10000);
	FT_EQ(libxenvchan_read(c, &b, 1), -1);
	FT_EQ(libxenvchan_is_open(c), 0);
	libxenvchan_close(c);
}

START_TEST(test_server_shutdown_ends_the_connection_for_a_libxenvchan_client)
{
	FT_RUN_PAIR(legacy_a_server, legacy_a_client, NULL, FT_WAIT_MS);
}
END_TEST

static const char legacy_b_path[] = FT_LEGACY_PATH("legacy-b");

static void legacy_b_server(void *arg)
{
	struct libxenvchan *s = libxenvchan_server_init(NULL,
		FT_CLIENT_DOM, legacy_b_path, 4096, 4096);
	char b;

	FT_ASSERT(s != NULL);
	s->blocking = -1;
	ft_lx_send(s, 30, 20000);
	ft_lx_recv(s, 31, 5000);
	FT_EQ(libxenvchan_read(s, &b, 1), -1);
	libxenvchan_close(s);
}

static void legacy_b_client(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, 0);
	cfg.path = legacy_b_path;
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, NULL, &cfg), 0);
	ft_expect_legacy(x);
	ft_read_pattern(x, 30, 20000);
	ft_write_pattern(x, 31, 5000);
	FT_EQ(xvchan_shutdown(x), 0);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_client_shutdown_ends_the_connection_for_a_libxenvchan_server)
{
	FT_RUN_PAIR(legacy_b_server, legacy_b_client, NULL, FT_WAIT_MS);
}
END_TEST

static void legacy_c_server(void *arg)
{
	struct xvchan *x = ft_server("legacy-c", 4096, 65536, 0);

	ft_expect_legacy(x);
	ft_read_pattern(x, 40, 50000);
	ft_expect_eof(x);
	FT_EQ(xvchan_write(x, "x", 1), -EPIPE);
	FT_EQ(xvchan_close(x), 0);
}

static void legacy_c_client(void *arg)
{
	struct libxenvchan *c = ft_lx_client(FT_LEGACY_PATH("legacy-c"));

	ft_lx_send(c, 40, 50000);
	libxenvchan_close(c);
}

START_TEST(test_libxenvchan_close_is_eof_after_its_data_then_epipe)
{
	FT_RUN_PAIR(legacy_c_server, legacy_c_client, NULL, FT_WAIT_MS);
}
END_TEST

static const char legacy_d_path[] = FT_LEGACY_PATH("legacy-d");

static void legacy_d_server(void *arg)
{
	struct ft_pipes *p = arg;
	/* libxenvchan hands us its mapped page: a handy liar. */
	struct libxenvchan *s = libxenvchan_server_init(NULL,
		FT_CLIENT_DOM, legacy_d_path, 4096, 4096);

	FT_ASSERT(s != NULL);
	s->blocking = -1;
	ft_lx_send(s, 50, 100);
	ft_await(p->up[0]);
	/* More in flight than the 4 KiB ring can hold. */
	s->ring->right.prod = s->ring->right.cons + 5000;
	ft_signal(p->down[1]);
	ft_await(p->up[0]);
	libxenvchan_close(s);
}

static void legacy_d_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	char b[64];

	ft_config(&cfg, 0);
	cfg.path = legacy_d_path;
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, NULL, &cfg), 0);
	ft_read_pattern(x, 50, 100);
	ft_signal_and_await(p);
	FT_EQ(xvchan_read(x, b, sizeof(b)), -EPROTO);
	FT_EQ(xvchan_read(x, b, sizeof(b)), -EPROTO);
	FT_EQ(xvchan_write(x, "x", 1), -EPROTO);
	FT_EQ(xvchan_close(x), -EPROTO);
	ft_signal(p->up[1]);
}

START_TEST(test_impossible_index_from_the_peer_is_eproto_and_sticky)
{
	FT_RUN_PIPED_PAIR(legacy_d_server, legacy_d_client, FT_WAIT_MS);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("flow-legacy");
	TCase *tc = ft_sim_tcase("legacy");

	tcase_add_test(tc,
		test_server_shutdown_ends_the_connection_for_a_libxenvchan_client);
	tcase_add_test(tc,
		test_client_shutdown_ends_the_connection_for_a_libxenvchan_server);
	tcase_add_test(tc,
		test_libxenvchan_close_is_eof_after_its_data_then_epipe);
	tcase_add_test(tc,
		test_impossible_index_from_the_peer_is_eproto_and_sticky);
	suite_add_tcase(s, tc);
	return s;
}
