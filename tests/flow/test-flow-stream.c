/*
 * Data across two simulated domains: every byte arrives in order in both
 * directions at once (one reader and one writer thread per endpoint),
 * gathered writes, end of stream only after the last byte, ring sizes.
 */
#include "flow-test.h"

struct ft_writer {
	struct xvchan *x;
	uint64_t seed;
	size_t total;
};

static void *ft_writer_main(void *arg)
{
	struct ft_writer *w = arg;

	ft_write_pattern(w->x, w->seed, w->total);
	return NULL;
}

/* Write and read at once from two threads, then close. */
static void ft_duplex(struct xvchan *x, uint64_t wseed, uint64_t rseed,
		      size_t total)
{
	struct ft_writer w = { .x = x, .seed = wseed, .total = total };
	pthread_t t;

	FT_EQ(pthread_create(&t, NULL, ft_writer_main, &w), 0);
	ft_read_pattern(x, rseed, total);
	FT_EQ(pthread_join(t, NULL), 0);
	FT_EQ(xvchan_close(x), 0);
}

struct ft_duplex_run {
	const char *port;
	size_t rs, ws, total;
};

static void duplex_server(void *arg)
{
	const struct ft_duplex_run *d = arg;

	ft_duplex(ft_server(d->port, d->rs, d->ws, 0), 11, 22, d->total);
}

static void duplex_client(void *arg)
{
	const struct ft_duplex_run *d = arg;

	ft_duplex(ft_client(d->port, 0), 22, 11, d->total);
}

static void ft_run_duplex(const char *port, size_t rs, size_t ws,
			  size_t total)
{
	struct ft_duplex_run d = {
		.port = port, .rs = rs, .ws = ws, .total = total,
	};

	FT_RUN_PAIR(duplex_server, duplex_client, &d, FT_WAIT_MS);
}

START_TEST(test_bytes_flow_both_ways_at_once_through_in_page_rings)
{
	/* 1024 + 2048: both rings inside the control page. */
	ft_run_duplex("duplex-small", 1000, 2000, 300000);
}
END_TEST

START_TEST(test_bytes_flow_both_ways_at_once_through_granted_rings)
{
	ft_run_duplex("duplex-large", 65536, 16384, 2000000);
}
END_TEST

START_TEST(test_bytes_flow_both_ways_at_once_through_1_mib_rings)
{
	ft_run_duplex("duplex-max", XVCHAN_RING_MAX, XVCHAN_RING_MAX,
		      5000000);
}
END_TEST

struct ft_reader {
	struct xvchan *x;
	char got[8];
	ssize_t n, eof;
};

static void *ft_reader_main(void *arg)
{
	struct ft_reader *r = arg;

	r->n = xvchan_read(r->x, r->got, sizeof(r->got));
	r->eof = xvchan_read(r->x, r->got + 4, 1);
	return NULL;
}

static void two_sleepers_server(void *arg)
{
	struct xvchan *x = ft_server("two-sleepers", 1024, 1024, 0);
	struct ft_reader r = { .x = x };
	pthread_t t;

	/* The reader sleeps the whole time: the writer's wake-ups (space
	 * freed) must reach it whoever consumes the event. */
	FT_EQ(pthread_create(&t, NULL, ft_reader_main, &r), 0);
	ft_write_pattern(x, 15, 3000000);
	FT_EQ(pthread_join(t, NULL), 0);
	FT_EQ(r.n, 3);
	FT_EQ(memcmp(r.got, "bye", 3), 0);
	FT_EQ(r.eof, 0);
	FT_EQ(xvchan_close(x), 0);
}

static void two_sleepers_client(void *arg)
{
	struct xvchan *x = ft_client("two-sleepers", 0);

	ft_read_pattern(x, 15, 3000000);
	FT_EQ(xvchan_write(x, "bye", 3), 3);
	FT_EQ(xvchan_shutdown(x), 0);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_writer_is_woken_while_a_reader_sleeps_on_the_same_endpoint)
{
	FT_RUN_PAIR(two_sleepers_server, two_sleepers_client, NULL,
		    FT_WAIT_MS);
}
END_TEST

static void writev_server(void *arg)
{
	struct xvchan *x = ft_server("writev", 4096, 4096, 0);
	/* 40 iovecs, more than one internal batch, some empty. */
	static unsigned char data[40 * 500];
	struct iovec iov[40];
	int i;

	xv_pattern_fill(5, 0, data, sizeof(data));
	for (i = 0; i < 40; i++) {
		iov[i].iov_base = data + i * 500;
		iov[i].iov_len = (i % 7 == 3) ? 0 : 500;
	}
	FT_EQ(xvchan_writev(x, iov, 40), 500 * (40 - 6));
	FT_EQ(xvchan_writev(x, iov, 0), 0);
	FT_EQ(xvchan_close(x), 0);
}

static void writev_client(void *arg)
{
	struct xvchan *x = ft_client("writev", 0);
	static unsigned char expect[40 * 500], got[40 * 500];
	size_t off = 0;
	int i;

	xv_pattern_fill(5, 0, expect, sizeof(expect));
	while (off < 500 * 34) {
		ssize_t n = xvchan_read(x, got + off, sizeof(got) - off);

		FT_ASSERT(n > 0);
		off += (size_t)n;
	}
	FT_EQ(off, 500 * 34);
	ft_expect_eof(x);
	off = 0;
	for (i = 0; i < 40; i++) {
		if (i % 7 == 3)
			continue;
		FT_EQ(memcmp(got + off, expect + i * 500, 500), 0);
		off += 500;
	}
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_writev_delivers_every_iovec_in_order)
{
	FT_RUN_PAIR(writev_server, writev_client, NULL, FT_WAIT_MS);
}
END_TEST

static void eof_after_data_server(void *arg)
{
	struct xvchan *x = ft_server("eof-after-data", 4096, 4096, 0);

	/* Far more than the ring: the last bytes are still in flight when
	 * close starts. */
	ft_write_and_close(x, 9, 250000);
}

static void eof_after_data_client(void *arg)
{
	struct xvchan *x = ft_client("eof-after-data", 0);

	ft_read_to_eof_and_close(x, 9, 250000);
}

START_TEST(test_read_returns_eof_only_after_every_byte_before_close)
{
	FT_RUN_PAIR(eof_after_data_server, eof_after_data_client, NULL,
		    FT_WAIT_MS);
}
END_TEST

static void close_race_server(void *arg)
{
	struct ft_pipes *p = arg;
	/* Non-blocking: close does not wait for the client. */
	struct xvchan *x = ft_server("close-race", 4096, 4096,
				     XVCHAN_NONBLOCK);
	unsigned char buf[3000];

	ft_await(p->up[0]);
	/* Less than the ring: all of it fits at once. */
	xv_pattern_fill(4, 0, buf, sizeof(buf));
	FT_EQ(xvchan_write(x, buf, sizeof(buf)), sizeof(buf));
	FT_EQ(xvchan_close(x), 0);
	ft_signal(p->down[1]);
}

static void close_race_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_client("close-race", 0);

	/* Only read once the server is completely gone. */
	ft_signal_and_await(p);
	ft_read_pattern(x, 4, 3000);
	ft_expect_eof(x);
	FT_EQ(xvchan_write(x, "x", 1), -EPIPE);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_data_written_just_before_a_close_is_not_lost)
{
	FT_RUN_PIPED_PAIR(close_race_server, close_race_client, FT_WAIT_MS);
}
END_TEST

static void bad_io_server(void *arg)
{
	struct xvchan *x = ft_server("bad-io", 4096, 4096, 0);
	struct iovec iov[2] = {
		{ .iov_base = NULL, .iov_len = 1 },
		{ .iov_base = "ok", .iov_len = 2 },
	};
	char c;

	FT_EQ(xvchan_read(x, &c, 0), -EINVAL);
	FT_EQ(xvchan_read(x, NULL, 1), -EINVAL);
	FT_EQ(xvchan_write(x, NULL, 1), -EINVAL);
	FT_EQ(xvchan_writev(x, iov, -1), -EINVAL);
	FT_EQ(xvchan_writev(x, iov, IOV_MAX + 1), -EINVAL);
	FT_EQ(xvchan_writev(x, NULL, 1), -EINVAL);
	FT_EQ(xvchan_writev(x, iov, 2), -EINVAL);
	iov[0].iov_base = "x";
	iov[1].iov_len = SSIZE_MAX;
	FT_EQ(xvchan_writev(x, iov, 2), -EINVAL);
	FT_EQ(xvchan_write(x, "", 0), 0);
	/* Nothing above reached the ring: the client sees only this. */
	FT_EQ(xvchan_write(x, "z", 1), 1);
	FT_EQ(xvchan_close(x), 0);
}

static void bad_io_client(void *arg)
{
	struct xvchan *x = ft_client("bad-io", 0);
	char buf[8];

	FT_EQ(xvchan_read(x, buf, sizeof(buf)), 1);
	FT_EQ(buf[0], 'z');
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_io_calls_refuse_bad_arguments_on_a_live_endpoint)
{
	FT_RUN_PAIR(bad_io_server, bad_io_client, NULL, FT_WAIT_MS);
}
END_TEST

struct ft_sizes {
	size_t req_read, req_write, got_read, got_write;
};

/* libxenvchan's placement: in-page when it fits, else pages (>= 4096). */
static const struct ft_sizes ft_size_cases[] = {
	{ 1000, 1000, 1024, 2048 },
	{ 1, 1, 1024, 2048 },
	{ 1500, 3000, 2048, 4096 },
	{ 3000, 1024, 4096, 2048 },
	{ 4097, 5000, 8192, 8192 },
	{ XVCHAN_RING_MAX, 1, XVCHAN_RING_MAX, 2048 },
};

struct ft_sizes_run {
	const struct ft_sizes *c;
	char port[32];
};

static void sizes_server(void *arg)
{
	const struct ft_sizes_run *r = arg;
	const struct ft_sizes *c = r->c;
	struct xvchan *x = ft_server(r->port, c->req_read, c->req_write, 0);
	size_t rs = 0, ws = 0;

	FT_EQ(xvchan_ring_sizes(x, &rs, &ws), 0);
	FT_EQ(rs, c->got_read);
	FT_EQ(ws, c->got_write);
	ft_expect_described(x, "(role server)");
	ft_expect_described(x, "(domid 1) (peer_domid 2)");
	FT_ASSERT(xvchan_fd(x) >= 0);
	FT_EQ(xvchan_close(x), 0);
}

static void sizes_client(void *arg)
{
	const struct ft_sizes_run *r = arg;
	const struct ft_sizes *c = r->c;
	struct xvchan *x = ft_client(r->port, 0);
	size_t rs = 0, ws = 0;
	char d[1024], expect[64];
	int n;

	/* The client sees the same rings from the other side. */
	FT_EQ(xvchan_ring_sizes(x, &rs, &ws), 0);
	FT_EQ(rs, c->got_write);
	FT_EQ(ws, c->got_read);
	FT_EQ(xvchan_ring_sizes(x, NULL, NULL), 0);
	n = xvchan_describe(x, d, sizeof(d));
	FT_ASSERT(n > 0 && (size_t)n < sizeof(d));
	FT_EQ(strlen(d), n);
	FT_ASSERT(strstr(d, "(role client)") != NULL);
	FT_ASSERT(strstr(d, "(peer half-close)") != NULL);
	FT_ASSERT(strstr(d, "(own_live 1) (peer_live 1)") != NULL);
	snprintf(expect, sizeof(expect), "(read_size %zu)", c->got_write);
	FT_ASSERT(strstr(d, expect) != NULL);
	/* Truncation works like snprintf. */
	FT_EQ(xvchan_describe(x, d, 8), n);
	FT_EQ(strlen(d), 7);
	FT_EQ(xvchan_describe(x, NULL, 0), n);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_ring_sizes_round_up_as_documented)
{
	struct ft_sizes_run r = { .c = &ft_size_cases[_i] };

	snprintf(r.port, sizeof(r.port), "sizes-%d", _i);
	FT_RUN_PAIR(sizes_server, sizes_client, &r, FT_WAIT_MS);
}
END_TEST

/*
 * One thread per side that reads a little, then writes a lot, as over a
 * pipe: the server fills its 2 KiB ring and waits for 100 bytes of room;
 * the client reads those 100 bytes (under a quarter ring: held back, see
 * xvchan_read()), then writes 5000 bytes into its own 1 KiB ring, which
 * the server reads only once its own write is done. The client's write
 * must give back the room it read before it sleeps.
 */
#define TURN_FIRST 2148
#define TURN_SECOND 5000

/* One call, so that the ring fills at once. */
static void turn_write(struct xvchan *x, uint64_t seed, size_t len)
{
	unsigned char *buf = malloc(len);

	FT_ASSERT(buf != NULL);
	xv_pattern_fill(seed, 0, buf, len);
	FT_EQ(xvchan_write(x, buf, len), len);
	free(buf);
}

/* Read stream @seed from @off to @end. */
static void turn_read(struct xvchan *x, uint64_t seed, size_t off,
		      size_t end)
{
	unsigned char buf[TURN_SECOND];

	while (off < end) {
		ssize_t n = xvchan_read(x, buf, end - off);

		FT_ASSERT(n > 0);
		FT_EQ(xv_pattern_check(seed, off, buf, (size_t)n), n);
		off += (size_t)n;
	}
}

static void turn_server(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	(void)arg;
	ft_config(&cfg, 0);
	cfg.io_timeout_ms = 5000;	/* a deadlock fails, not hangs */
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "turn", 1024, 2048, &cfg), 0);
	turn_write(x, 31, TURN_FIRST);
	turn_read(x, 32, 0, TURN_SECOND);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

static void turn_client(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	(void)arg;
	ft_config(&cfg, 0);
	cfg.io_timeout_ms = 5000;
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "turn", &cfg), 0);
	turn_read(x, 31, 0, 100);
	turn_write(x, 32, TURN_SECOND);
	FT_EQ(xvchan_shutdown(x), 0);
	turn_read(x, 31, 100, TURN_FIRST);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_a_reader_that_turns_to_writing_gives_its_room_back)
{
	FT_RUN_PAIR(turn_server, turn_client, NULL, FT_WAIT_MS);
}
END_TEST

/*
 * A signal handler that runs while a read sleeps (installed without
 * SA_RESTART, so the wait's system call fails with EINTR) does not end
 * the read: it goes on waiting and returns the byte that comes later.
 * Twice: without a timeout the read sleeps in pending(), with one in
 * poll().
 */
static volatile sig_atomic_t intr_handled;

static void intr_handler(int sig)
{
	(void)sig;
	intr_handled = 1;
}

static const char *const intr_ports[] = { "intr", "intr-timed" };

static void intr_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct sigaction sa = { .sa_handler = intr_handler };
	pid_t self = getpid();

	FT_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	for (int i = 0; i < 2; i++) {
		struct xvchan_config cfg;
		struct xvchan *x = NULL;
		char c = 0;

		ft_config(&cfg, 0);
		cfg.io_timeout_ms = i ? FT_WAIT_MS : -1;
		FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, intr_ports[i], 4096,
				    4096, &cfg), 0);
		intr_handled = 0;
		FT_EQ(write(p->up[1], &self, sizeof(self)), sizeof(self));
		FT_EQ(xvchan_read(x, &c, 1), 1);
		FT_EQ(c, 'x');
		FT_ASSERT(intr_handled);
		ft_expect_eof(x);
		FT_EQ(xvchan_close(x), 0);
	}
}

static void intr_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct timespec settle = { .tv_nsec = 100 * 1000000L };

	for (int i = 0; i < 2; i++) {
		struct xvchan *x = ft_client(intr_ports[i], 0);
		pid_t reader;

		FT_EQ(read(p->up[0], &reader, sizeof(reader)),
		      sizeof(reader));
		nanosleep(&settle, NULL);	/* the reader is asleep */
		FT_EQ(kill(reader, SIGUSR1), 0);
		nanosleep(&settle, NULL);
		FT_EQ(xvchan_write(x, "x", 1), 1);
		FT_EQ(xvchan_close(x), 0);
	}
}

START_TEST(test_a_signal_does_not_end_a_blocked_read)
{
	FT_RUN_PIPED_PAIR(intr_server, intr_client, FT_WAIT_MS);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("flow-stream");
	TCase *tc = ft_sim_tcase("stream");

	tcase_add_test(tc,
		test_bytes_flow_both_ways_at_once_through_in_page_rings);
	tcase_add_test(tc,
		test_bytes_flow_both_ways_at_once_through_granted_rings);
	tcase_add_test(tc,
		test_bytes_flow_both_ways_at_once_through_1_mib_rings);
	tcase_add_test(tc,
		test_writer_is_woken_while_a_reader_sleeps_on_the_same_endpoint);
	tcase_add_test(tc, test_writev_delivers_every_iovec_in_order);
	tcase_add_test(tc,
		test_read_returns_eof_only_after_every_byte_before_close);
	tcase_add_test(tc, test_data_written_just_before_a_close_is_not_lost);
	tcase_add_test(tc,
		test_a_reader_that_turns_to_writing_gives_its_room_back);
	tcase_add_test(tc, test_a_signal_does_not_end_a_blocked_read);
	tcase_add_test(tc,
		test_io_calls_refuse_bad_arguments_on_a_live_endpoint);
	tcase_add_loop_test(tc, test_ring_sizes_round_up_as_documented, 0,
		(int)(sizeof(ft_size_cases) / sizeof(ft_size_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}
