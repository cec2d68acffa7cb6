/*
 * Non-blocking mode driven by poll() on xvchan_fd(): the server returns
 * before a client exists, -EAGAIN arms a wake-up, the descriptor fires when
 * progress is possible, and the retried call makes it.
 */
#include "flow-test.h"

static int ft_poll(struct xvchan *x, int timeout_ms)
{
	struct pollfd p = { .fd = xvchan_fd(x), .events = POLLIN };

	return poll(&p, 1, timeout_ms);
}

static void nb_connect_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_server("nb-connect", 4096, 4096,
				     XVCHAN_NONBLOCK);
	char buf[16];

	/* No client yet: nothing to read or write, nothing fires. */
	FT_EQ(xvchan_read(x, buf, sizeof(buf)), -EAGAIN);
	FT_EQ(xvchan_write(x, "early", 5), -EAGAIN);
	FT_EQ(ft_poll(x, 100), 0);
	ft_signal(p->up[1]);
	/* The client's connect (then its write) fires the fd. */
	for (;;) {
		ssize_t n;

		FT_EQ(ft_poll(x, FT_WAIT_MS), 1);
		n = xvchan_read(x, buf, sizeof(buf));
		if (n == -EAGAIN)
			continue;
		FT_EQ(n, 5);
		FT_EQ(memcmp(buf, "hello", 5), 0);
		break;
	}
	FT_EQ(xvchan_write(x, "world", 5), 5);
	FT_EQ(xvchan_close(x), 0);
}

static void nb_connect_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x;
	char buf[16];

	ft_await(p->up[0]);
	x = ft_client("nb-connect", 0);
	FT_EQ(xvchan_write(x, "hello", 5), 5);
	/* Only what was written after the connect arrives. */
	FT_EQ(xvchan_read(x, buf, sizeof(buf)), 5);
	FT_EQ(memcmp(buf, "world", 5), 0);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_nonblocking_server_returns_before_the_client_connects)
{
	FT_RUN_PIPED_PAIR(nb_connect_server, nb_connect_client, FT_WAIT_MS);
}
END_TEST

static void nb_write_server(void *arg)
{
	struct ft_pipes *p = arg;
	/* The server reads a 1024-byte ring. */
	struct xvchan *x = ft_server("nb-write", 1000, 1000, 0);

	ft_await(p->up[0]);
	ft_read_pattern(x, 6, 1024);
	/* The client armed a wake-up when it got -EAGAIN; this
	 * read kicked it. Now stream the rest. */
	ft_read_to_eof_and_close(x, 6 + 1, 5000);
}

static void nb_write_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_client("nb-write", XVCHAN_NONBLOCK);
	unsigned char buf[5000];
	size_t off = 0;

	xv_pattern_fill(6, 0, buf, sizeof(buf));
	FT_EQ(xvchan_write(x, buf, sizeof(buf)), 1024);
	FT_EQ(xvchan_write(x, buf, sizeof(buf)), -EAGAIN);
	/* -EAGAIN consumed whatever was pending: no wake-up until
	 * the server reads. */
	FT_EQ(ft_poll(x, 100), 0);
	ft_signal(p->up[1]);
	FT_EQ(ft_poll(x, FT_WAIT_MS), 1);
	xv_pattern_fill(7, 0, buf, sizeof(buf));
	while (off < sizeof(buf)) {
		ssize_t n = xvchan_write(x, buf + off,
					 sizeof(buf) - off);

		if (n == -EAGAIN) {
			FT_EQ(ft_poll(x, FT_WAIT_MS), 1);
			continue;
		}
		FT_ASSERT(n > 0 && n <= 1024);
		off += (size_t)n;
	}
	FT_EQ(xvchan_shutdown(x), 0);
	/* Non-blocking read: -EAGAIN until the server's EOF. */
	for (;;) {
		char c;
		ssize_t n = xvchan_read(x, &c, 1);

		if (n == -EAGAIN) {
			FT_EQ(ft_poll(x, FT_WAIT_MS), 1);
			continue;
		}
		FT_EQ(n, 0);
		break;
	}
	/* Non-blocking close does not wait. */
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_nonblocking_write_returns_what_fits_then_eagain_until_fd_fires)
{
	FT_RUN_PIPED_PAIR(nb_write_server, nb_write_client, FT_WAIT_MS);
}
END_TEST

/*
 * A wake-up handed on from one direction to the other (xvchan_fd() in
 * xvchan.h) lasts exactly until that direction calls again: a write's
 * -EAGAIN, which consumed the data event the read had armed for, keeps the
 * descriptor readable, so does a second write -EAGAIN, and once the read
 * has taken the data nothing is left to fire (a level-triggered loop
 * would spin on a stale one).
 */
static void nb_handon_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	static unsigned char buf[8192];
	char c;

	ft_config(&cfg, XVCHAN_NONBLOCK);
	cfg.spin_us = 0;
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "nb-handon", 4096, 4096,
			    &cfg), 0);
	FT_EQ(ft_poll(x, FT_WAIT_MS), 1);
	FT_EQ(xvchan_read(x, &c, 1), -EAGAIN);
	ft_signal_and_await(p);
	/* 4096 bytes fit, the rest returns -EAGAIN and drains. */
	FT_EQ(xvchan_write(x, buf, sizeof(buf)), 4096);
	FT_EQ(xvchan_write(x, buf, sizeof(buf)), -EAGAIN);
	FT_EQ(ft_poll(x, 0), 1);
	FT_EQ(xvchan_write(x, buf, sizeof(buf)), -EAGAIN);
	FT_EQ(ft_poll(x, 0), 1);
	FT_EQ(xvchan_read(x, &c, 1), 1);
	FT_EQ(c, 'd');
	/* The read's progress withdrew it, even for a loop that now
	 * only writes. */
	FT_EQ(xvchan_write(x, buf, sizeof(buf)), -EAGAIN);
	FT_EQ(ft_poll(x, 100), 0);
	FT_EQ(xvchan_read(x, &c, 1), -EAGAIN);
	FT_EQ(ft_poll(x, 100), 0);
	ft_signal(p->up[1]);
	FT_EQ(xvchan_close(x), 0);
}

static void nb_handon_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x;

	x = ft_client("nb-handon", 0);
	ft_await(p->up[0]);
	FT_EQ(xvchan_write(x, "d", 1), 1);
	ft_signal(p->down[1]);
	/* Not reading: the server's ring stays full. */
	ft_await(p->up[0]);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_a_handed_on_wake_up_lasts_until_its_direction_calls_again)
{
	FT_RUN_PIPED_PAIR(nb_handon_server, nb_handon_client, FT_WAIT_MS);
}
END_TEST

/* Bytes each way over 1 KiB rings: hundreds of wake-ups per direction. */
#define FT_TWO_THREAD_BYTES (256u << 10)

struct ft_nb_side {
	struct xvchan *x;
	uint64_t seed;
};

/* Each thread sleeps in poll() on the shared descriptor; a wake-up the
 * other thread's -EAGAIN consumed would leave it there for FT_WAIT_MS. */
static void *ft_nb_writer(void *arg)
{
	const struct ft_nb_side *s = arg;
	static unsigned char buf[3000];
	size_t off = 0;

	while (off < FT_TWO_THREAD_BYTES) {
		size_t len = FT_TWO_THREAD_BYTES - off;
		ssize_t n;

		if (len > sizeof(buf))
			len = sizeof(buf);
		xv_pattern_fill(s->seed, off, buf, len);
		n = xvchan_write(s->x, buf, len);
		if (n == -EAGAIN) {
			FT_EQ(ft_poll(s->x, FT_WAIT_MS), 1);
			continue;
		}
		FT_ASSERT(n > 0 && (size_t)n <= len);
		off += (size_t)n;
	}
	FT_EQ(xvchan_shutdown(s->x), 0);
	return NULL;
}

static void ft_nb_reader(struct xvchan *x, uint64_t seed)
{
	static unsigned char buf[3000];
	size_t off = 0;

	for (;;) {
		ssize_t n = xvchan_read(x, buf, sizeof(buf));

		if (n == -EAGAIN) {
			FT_EQ(ft_poll(x, FT_WAIT_MS), 1);
			continue;
		}
		FT_ASSERT(n >= 0);
		if (n == 0)
			break;
		FT_EQ(xv_pattern_check(seed, off, buf, (size_t)n), n);
		off += (size_t)n;
	}
	FT_EQ(off, FT_TWO_THREAD_BYTES);
}

/* One side: a writer thread and this reading thread, both non-blocking. */
static void ft_nb_two_threads(struct xvchan *x, uint64_t tx_seed,
			      uint64_t rx_seed)
{
	struct ft_nb_side w = { .x = x, .seed = tx_seed };
	pthread_t t;

	FT_EQ(pthread_create(&t, NULL, ft_nb_writer, &w), 0);
	ft_nb_reader(x, rx_seed);
	FT_EQ(pthread_join(t, NULL), 0);
}

static void nb_threads_server(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, XVCHAN_NONBLOCK);
	cfg.spin_us = 0;
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "nb-threads", 1024,
			    1024, &cfg), 0);
	ft_nb_two_threads(x, 20, 21);
	FT_EQ(xvchan_close(x), 0);
}

static void nb_threads_client(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, XVCHAN_NONBLOCK);
	cfg.spin_us = 0;
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "nb-threads", &cfg), 0);
	ft_nb_two_threads(x, 21, 20);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_nonblocking_reader_and_writer_threads_share_the_descriptor)
{
	FT_RUN_PAIR(nb_threads_server, nb_threads_client, NULL, 2 * FT_WAIT_MS);
}
END_TEST

static void io_timeout_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_server("io-timeout", 4096, 4096, 0);

	ft_await(p->up[0]);
	FT_EQ(xvchan_close(x), 0);
}

static void io_timeout_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	char c;

	ft_config(&cfg, 0);
	cfg.io_timeout_ms = 150;
	cfg.spin_us = 0;
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "io-timeout", &cfg),
	      0);
	FT_EQ(xvchan_read(x, &c, 1), -ETIMEDOUT);
	ft_signal(p->up[1]);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_blocking_read_times_out_with_the_io_timeout)
{
	FT_RUN_PIPED_PAIR(io_timeout_server, io_timeout_client, FT_WAIT_MS);
}
END_TEST

static void io_timeout_w_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_server("io-timeout-w", 1024, 1024, 0);

	ft_await(p->up[0]);
	/* Everything the client managed to write is here. */
	ft_read_to_eof_and_close(x, 16, 1024);
}

static void io_timeout_w_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	unsigned char buf[3000];

	ft_config(&cfg, 0);
	cfg.io_timeout_ms = 150;
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "io-timeout-w", &cfg),
	      0);
	xv_pattern_fill(16, 0, buf, sizeof(buf));
	/* The 1 KiB ring takes 1024 bytes, then nothing moves. */
	FT_EQ(xvchan_write(x, buf, sizeof(buf)), -ETIMEDOUT);
	ft_signal(p->up[1]);
	FT_EQ(xvchan_shutdown(x), 0);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_blocking_write_times_out_on_a_full_ring_with_the_io_timeout)
{
	FT_RUN_PIPED_PAIR(io_timeout_w_server, io_timeout_w_client, FT_WAIT_MS);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("flow-nonblock");
	TCase *tc = ft_sim_tcase("nonblock");

	tcase_add_test(tc,
		test_nonblocking_server_returns_before_the_client_connects);
	tcase_add_test(tc,
		test_nonblocking_write_returns_what_fits_then_eagain_until_fd_fires);
	tcase_add_test(tc,
		test_a_handed_on_wake_up_lasts_until_its_direction_calls_again);
	tcase_add_test(tc,
		test_nonblocking_reader_and_writer_threads_share_the_descriptor);
	tcase_add_test(tc, test_blocking_read_times_out_with_the_io_timeout);
	tcase_add_test(tc,
		test_blocking_write_times_out_on_a_full_ring_with_the_io_timeout);
	suite_add_tcase(s, tc);
	return s;
}
