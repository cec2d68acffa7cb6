/*
 * Zero-copy writes: xvchan_write_reserve() hands out the send ring's free
 * space in place (two segments where it wraps), xvchan_write_commit()
 * publishes a prefix of it. The reader sees exactly the committed bytes,
 * in order; the errors are those of xvchan_write() plus the commit's own.
 */
#include "flow-test.h"

/* Fill @n bytes of stream @seed at @off into the reserved segments. */
static void ft_fill_segs(const struct xvchan_segs *s, uint64_t seed,
			 uint64_t off, size_t n)
{
	size_t first = n < s->len[0] ? n : s->len[0];

	xv_pattern_fill(seed, off, s->ptr[0], first);
	if (n > first) {
		FT_ASSERT(n - first <= s->len[1]);
		xv_pattern_fill(seed, off + first, s->ptr[1], n - first);
	}
}

/* A reserve must find exactly @total bytes free, @first of them before
 * the wrap. */
static void ft_expect_free(struct xvchan *x, ssize_t total, size_t first)
{
	struct xvchan_segs s;

	FT_EQ(xvchan_write_reserve(x, &s), total);
	FT_EQ(s.len[0], first);
	FT_EQ(s.len[1], (size_t)total - first);
}

/* Read exactly @n bytes of stream @seed from @off on. */
static void ft_read_range(struct xvchan *x, uint64_t seed, uint64_t off,
			  size_t n)
{
	unsigned char buf[4096];
	size_t got = 0;

	while (got < n) {
		size_t want = n - got < sizeof(buf) ? n - got : sizeof(buf);
		ssize_t r = xvchan_read(x, buf, want);

		FT_ASSERT(r > 0);
		FT_EQ(xv_pattern_check(seed, off + got, buf, (size_t)r), r);
		got += (size_t)r;
	}
}

static void zc_wrap_server(void *arg)
{
	struct ft_pipes *p = arg;
	/* Our send ring: 4096 bytes (order 12, one granted page). */
	struct xvchan *x = ft_server("zc-wrap", 4096, 4096, 0);
	struct xvchan_segs s;

	FT_EQ(xvchan_write_reserve(x, &s), 4096);
	FT_EQ(s.len[0], 4096);
	FT_EQ(s.len[1], 0);
	FT_ASSERT(s.ptr[0] != NULL && s.ptr[1] == NULL);
	ft_fill_segs(&s, 7, 0, 3000);
	FT_EQ(xvchan_write_commit(x, 3000), 0);
	/* The commit ended the reservation. */
	FT_EQ(xvchan_write_commit(x, 0), -EINVAL);
	ft_signal_and_await(p);

	/* The reader took all 3000: the free space now runs from
	 * ring offset 3000 to the end, then from the start. */
	FT_EQ(xvchan_write_reserve(x, &s), 4096);
	FT_EQ(s.len[0], 1096);
	FT_EQ(s.len[1], 3000);
	FT_ASSERT((unsigned char *)s.ptr[1] + 3000 ==
		  (unsigned char *)s.ptr[0]);
	ft_fill_segs(&s, 7, 3000, 2000);
	FT_EQ(xvchan_write_commit(x, 4097), -EINVAL);
	FT_EQ(xvchan_write_commit(x, 2000), 0);

	/* A commit of 0 publishes nothing and ends the reservation. */
	FT_EQ(xvchan_write_reserve(x, &s), 2096);
	FT_EQ(s.len[0], 2096);
	FT_EQ(xvchan_write_commit(x, 0), 0);
	FT_EQ(xvchan_write_commit(x, 0), -EINVAL);

	FT_EQ(xvchan_shutdown(x), 0);
	FT_EQ(xvchan_write_reserve(x, &s), -ESHUTDOWN);
	FT_EQ(xvchan_close(x), 0);
}

static void zc_wrap_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_client("zc-wrap", 0);

	ft_await(p->up[0]);
	ft_read_range(x, 7, 0, 3000);
	ft_signal(p->down[1]);
	ft_read_range(x, 7, 3000, 2000);
	/* Nothing of the empty commit, then the shutdown. */
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_reserve_commit_delivers_exactly_the_committed_bytes_across_the_wrap)
{
	FT_RUN_PIPED_PAIR(zc_wrap_server, zc_wrap_client, FT_WAIT_MS);
}
END_TEST

static void zc_nonblock_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_server("zc-nonblock", 4096, 4096, 0);

	ft_await(p->up[0]);
	ft_read_range(x, 9, 0, 1000);
	ft_signal(p->down[1]);
	/* 24 more make a quarter of the ring: the room goes back. */
	ft_await(p->up[0]);
	ft_read_range(x, 9, 1000, 24);
	ft_signal(p->down[1]);
	/* The rest only once the client has looked at the space. */
	ft_await(p->up[0]);
	ft_read_range(x, 9, 1024, 3072);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

static void zc_nonblock_client(void *arg)
{
	struct ft_pipes *p = arg;
	/* The client writes the server's 4096-byte read ring. */
	struct xvchan *x = ft_client("zc-nonblock", XVCHAN_NONBLOCK);
	struct xvchan_segs s;
	unsigned char rest[3096];

	FT_EQ(xvchan_write_reserve(x, &s), 4096);
	ft_fill_segs(&s, 9, 0, 1000);
	FT_EQ(xvchan_write_commit(x, 1000), 0);
	/* A plain write of the rest fills the ring. */
	xv_pattern_fill(9, 1000, rest, sizeof(rest));
	FT_EQ(xvchan_write(x, rest, sizeof(rest)), 3096);
	FT_EQ(xvchan_write_reserve(x, &s), -EAGAIN);
	FT_EQ(xvchan_write_commit(x, 0), -EINVAL);
	ft_signal_and_await(p);
	/* The server read 1000 bytes, under a quarter of its 4096-byte
	 * ring: it holds that room back while the ring is not empty. */
	FT_EQ(xvchan_write_reserve(x, &s), -EAGAIN);
	ft_signal_and_await(p);
	/* 1024 read: exactly those are free, at the start of the ring. */
	ft_expect_free(x, 1024, 1024);
	ft_signal(p->up[1]);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_nonblocking_reserve_on_a_full_ring_is_eagain_until_a_quarter_is_read)
{
	FT_RUN_PIPED_PAIR(zc_nonblock_server, zc_nonblock_client, FT_WAIT_MS);
}
END_TEST

static void zc_empty_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_server("zc-empty", 4096, 4096, XVCHAN_NONBLOCK);
	unsigned char buf[200];

	ft_await(p->up[0]);
	FT_EQ(xvchan_read(x, buf, sizeof(buf)), 100);
	FT_EQ(xv_pattern_check(10, 0, buf, 100), 100);
	ft_expect_described(x, "(rx (cons 100) (cons_published 0)");
	ft_signal(p->down[1]);
	/* A read that finds the ring empty and returns -EAGAIN (it arms
	 * for data first) gives the room back. */
	ft_await(p->up[0]);
	FT_EQ(xvchan_read(x, buf, sizeof(buf)), -EAGAIN);
	ft_expect_described(x, "(rx (cons 100) (cons_published 100)");
	ft_signal(p->down[1]);
	ft_await(p->up[0]);
	FT_EQ(xvchan_close(x), 0);
}

static void zc_empty_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_client("zc-empty", XVCHAN_NONBLOCK);
	unsigned char msg[100];

	xv_pattern_fill(10, 0, msg, sizeof(msg));
	FT_EQ(xvchan_write(x, msg, sizeof(msg)), 100);
	ft_signal_and_await(p);
	/* Read, but held back: the server has not looked again yet. */
	ft_expect_free(x, 3996, 3996);
	ft_signal_and_await(p);
	ft_expect_free(x, 4096, 3996);
	ft_signal(p->up[1]);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_a_reader_that_finds_the_ring_empty_gives_the_room_back)
{
	FT_RUN_PIPED_PAIR(zc_empty_server, zc_empty_client, FT_WAIT_MS);
}
END_TEST

static void zc_dead_server(void *arg)
{
	struct ft_pipes *p = arg;

	(void)ft_server("zc-dead", 4096, 4096, 0);
	ft_signal(p->up[1]);
	/* Gone without a close: the simulator clears our live byte. */
}

static void zc_dead_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_client("zc-dead", 0);
	struct xvchan_segs s;

	ft_await(p->up[0]);
	/* End of stream tells us the server is gone. */
	ft_expect_eof(x);
	FT_EQ(xvchan_write_reserve(x, &s), -EPIPE);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_reserve_after_the_peer_died_is_epipe)
{
	FT_RUN_PIPED_PAIR(zc_dead_server, zc_dead_client, FT_WAIT_MS);
}
END_TEST

/*
 * A write between reserve and commit puts its bytes where the segments
 * are, and a shutdown ends the stream: either ends the reservation, and
 * the commit that follows publishes nothing.
 */
static void zc_ended_server(void *arg)
{
	struct xvchan *x = ft_server("zc-ended", 4096, 4096, 0);
	char buf[16];
	size_t got = 0;
	ssize_t n;

	(void)arg;
	while ((n = xvchan_read(x, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	FT_EQ(n, 0);
	FT_EQ(got, 5);
	FT_EQ(memcmp(buf, "abcde", 5), 0);
	FT_EQ(xvchan_close(x), 0);
}

static void zc_ended_client(void *arg)
{
	struct xvchan *x = ft_client("zc-ended", 0);
	struct iovec c = { .iov_base = "c", .iov_len = 1 };
	struct xvchan_segs s;

	(void)arg;
	FT_EQ(xvchan_write_reserve(x, &s), 4096);
	memset(s.ptr[0], 'V', 5);
	FT_EQ(xvchan_write(x, "ab", 2), 2);
	FT_EQ(xvchan_write_commit(x, 5), -EINVAL);
	FT_ASSERT(xvchan_write_reserve(x, &s) > 0);
	memset(s.ptr[0], 'W', 5);
	FT_EQ(xvchan_writev(x, &c, 1), 1);
	FT_EQ(xvchan_write_commit(x, 5), -EINVAL);
	FT_ASSERT(xvchan_write_reserve(x, &s) >= 2 && s.len[0] >= 2);
	memcpy(s.ptr[0], "de", 2);
	FT_EQ(xvchan_write_commit(x, 2), 0);
	FT_ASSERT(xvchan_write_reserve(x, &s) > 0);
	memset(s.ptr[0], 'X', 1);
	FT_EQ(xvchan_shutdown(x), 0);
	FT_EQ(xvchan_write_commit(x, 1), -ESHUTDOWN);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_a_write_or_a_shutdown_ends_the_reservation)
{
	FT_RUN_PAIR(zc_ended_server, zc_ended_client, NULL, FT_WAIT_MS);
}
END_TEST

/* Committed bytes that a gone peer will never read are an error, as for a
 * write. */
static void zc_gone_server(void *arg)
{
	struct ft_pipes *p = arg;

	(void)ft_server("zc-gone", 4096, 4096, 0);
	ft_await(p->down[0]);
	/* Gone without a close: the simulator clears our live byte. */
}

static void zc_gone_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_client("zc-gone", 0);
	struct xvchan_segs s;

	FT_ASSERT(xvchan_write_reserve(x, &s) >= 3 && s.len[0] >= 3);
	memset(s.ptr[0], 'g', 3);
	ft_signal(p->down[1]);
	ft_expect_eof(x);
	FT_EQ(xvchan_write_commit(x, 3), -EPIPE);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_commit_after_the_peer_died_is_epipe)
{
	FT_RUN_PIPED_PAIR(zc_gone_server, zc_gone_client, FT_WAIT_MS);
}
END_TEST

START_TEST(test_reserve_and_commit_refuse_null_pointers)
{
	struct xvchan_segs s;

	ck_assert_int_eq(xvchan_write_reserve(NULL, &s), -EINVAL);
	ck_assert_int_eq(xvchan_write_commit(NULL, 0), -EINVAL);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("flow-zerocopy");
	TCase *tc = ft_sim_tcase("zerocopy");

	tcase_add_test(tc,
		test_reserve_commit_delivers_exactly_the_committed_bytes_across_the_wrap);
	tcase_add_test(tc,
		test_nonblocking_reserve_on_a_full_ring_is_eagain_until_a_quarter_is_read);
	tcase_add_test(tc,
		test_a_reader_that_finds_the_ring_empty_gives_the_room_back);
	tcase_add_test(tc, test_reserve_after_the_peer_died_is_epipe);
	tcase_add_test(tc, test_a_write_or_a_shutdown_ends_the_reservation);
	tcase_add_test(tc, test_commit_after_the_peer_died_is_epipe);
	tcase_add_test(tc, test_reserve_and_commit_refuse_null_pointers);
	suite_add_tcase(s, tc);
	return s;
}
