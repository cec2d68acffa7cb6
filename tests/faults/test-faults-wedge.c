/*
 * A wedged peer: connected, alive, and never reading. A blocking writer
 * gives up after its io timeout with -ETIMEDOUT, having put exactly one
 * ring's worth of bytes in flight (which the peer still gets if it ever
 * reads); a non-blocking writer never sleeps: it takes what fits, then
 * every call returns -EAGAIN at once and the descriptor stays quiet.
 */
#include "flow-test.h"
#include "fault-sim.h"

#define WEDGE_IO_TIMEOUT_MS 300

static int64_t fw_ms_since(int64_t start_ns)
{
	return (fs_now_ns() - start_ns) / 1000000;
}

/* One test's stream, shared by its two sides. */
struct fw_case {
	const char *port;
	uint64_t seed;
	size_t expect;	/* what the reader gets in the end */
	int go[2];	/* the writer tells the reader to start reading */
};

/* The wedged reader: connected, waits for go, then reads exactly the
 * expected bytes of the stream and the end. */
static void fw_late_reader(void *arg)
{
	struct fw_case *w = arg;
	struct xvchan *x = ft_client(w->port, 0);

	ft_await(w->go[0]);
	ft_read_to_eof_and_close(x, w->seed, w->expect);
}

/* @writer as the server against fw_late_reader() expecting @expect bytes
 * of stream @seed. */
static void fw_run(const char *port, uint64_t seed, size_t expect,
		   void (*writer)(void *))
{
	struct fw_case w = { .port = port, .seed = seed, .expect = expect };

	FT_PIPE(w.go);
	FT_RUN_PAIR(writer, fw_late_reader, &w, FT_WAIT_MS);
	ft_close_pipe(w.go);
}

/* A blocking server with 4 KiB rings whose io timeout is @io_timeout_ms. */
static struct xvchan *fw_server(const struct fw_case *w, int io_timeout_ms)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, 0);
	cfg.io_timeout_ms = io_timeout_ms;
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, w->port, 4096, 4096, &cfg), 0);
	return x;
}

static void fw_blocking_writer(void *arg)
{
	struct fw_case *w = arg;
	struct xvchan *x = fw_server(w, WEDGE_IO_TIMEOUT_MS);
	static unsigned char buf[65536];
	size_t ws;
	int64_t t;

	FT_EQ(xvchan_ring_sizes(x, NULL, &ws), 0);
	FT_EQ(ws, 4096);
	xv_pattern_fill(w->seed, 0, buf, sizeof(buf));
	t = fs_now_ns();
	FT_EQ(xvchan_write(x, buf, sizeof(buf)), -ETIMEDOUT);
	FT_ASSERT(fw_ms_since(t) >= WEDGE_IO_TIMEOUT_MS);
	FT_ASSERT(fw_ms_since(t) < WEDGE_IO_TIMEOUT_MS + 5000);
	/* Still wedged: the next write times out the same way and adds
	 * nothing. */
	t = fs_now_ns();
	FT_EQ(xvchan_write(x, buf + ws, 1), -ETIMEDOUT);
	FT_ASSERT(fw_ms_since(t) >= WEDGE_IO_TIMEOUT_MS);
	/* Let the reader take the one ring it was given. */
	ft_signal(w->go[1]);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_blocking_writer_to_a_wedged_peer_times_out_after_one_ring)
{
	fw_run("wedge-block", 11, 4096, fw_blocking_writer);
}
END_TEST

static void fw_zero_timeout_writer(void *arg)
{
	struct fw_case *w = arg;
	struct xvchan *x = fw_server(w, 0);
	static unsigned char buf[8192];
	int64_t t;

	xv_pattern_fill(w->seed, 0, buf, sizeof(buf));
	/* A write that fits needs no wait at all. */
	FT_EQ(xvchan_write(x, buf, 4096), 4096);
	t = fs_now_ns();
	FT_EQ(xvchan_write(x, buf + 4096, 1), -ETIMEDOUT);
	FT_ASSERT(fw_ms_since(t) < 100);
	ft_signal(w->go[1]);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_zero_io_timeout_fails_a_write_at_once_on_a_full_ring)
{
	fw_run("wedge-zero", 12, 4096, fw_zero_timeout_writer);
}
END_TEST

static void fw_nonblocking_writer(void *arg)
{
	struct fw_case *w = arg;
	struct xvchan *x = ft_server(w->port, 4096, 65536, XVCHAN_NONBLOCK);
	struct pollfd p = { .fd = xvchan_fd(x), .events = POLLIN };
	static unsigned char buf[100000];
	size_t off = 0;
	unsigned int calls = 0;
	int64_t start;
	ssize_t n;

	xv_pattern_fill(w->seed, 0, buf, sizeof(buf));
	/* Before the client is there, nothing fits. */
	while ((n = xvchan_write(x, buf, 1000)) == -EAGAIN)
		FT_EQ(poll(&p, 1, FT_WAIT_MS), 1);
	FT_EQ(n, 1000);
	off = 1000;
	while ((n = xvchan_write(x, buf + off, 7000)) > 0)
		off += (size_t)n;
	FT_EQ(n, -EAGAIN);
	FT_EQ(off, 65536);
	/* Half a second of retries: each returns at once, and nothing
	 * wakes the descriptor while the peer is wedged. */
	start = fs_now_ns();
	while (fw_ms_since(start) < 500) {
		int64_t t = fs_now_ns();

		FT_EQ(xvchan_write(x, buf + off, 1), -EAGAIN);
		FT_ASSERT(fw_ms_since(t) < 100);
		FT_EQ(poll(&p, 1, 20), 0);
		calls++;
	}
	FT_ASSERT(calls >= 5);
	ft_signal(w->go[1]);
	/* The reader drains: now the rest goes through. */
	while (off < sizeof(buf)) {
		n = xvchan_write(x, buf + off, sizeof(buf) - off);
		if (n == -EAGAIN) {
			FT_EQ(poll(&p, 1, FT_WAIT_MS), 1);
			continue;
		}
		FT_ASSERT(n > 0);
		off += (size_t)n;
	}
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_nonblocking_writer_to_a_wedged_peer_never_blocks)
{
	fw_run("wedge-nb", 13, 100000, fw_nonblocking_writer);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("faults-wedge");
	TCase *tc = tcase_create("wedge");

	tcase_add_checked_fixture(tc, xv_test_sim_start, xv_test_sim_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		test_blocking_writer_to_a_wedged_peer_times_out_after_one_ring);
	tcase_add_test(tc,
		test_zero_io_timeout_fails_a_write_at_once_on_a_full_ring);
	tcase_add_test(tc, test_nonblocking_writer_to_a_wedged_peer_never_blocks);
	suite_add_tcase(s, tc);
	return s;
}
