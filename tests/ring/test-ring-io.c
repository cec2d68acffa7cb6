/*
 * Moving bytes: send/recv/sendv, zero-copy, wrap-around, full/empty, kicks,
 * and when the reader's cons is published (batch).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "pattern.h"
#include "ring-fixture.h"
#include "test-common.h"

static struct xv_fx fx;
static unsigned char in[XV_WIRE_RING_MAX + 4096];
static unsigned char out[XV_WIRE_RING_MAX + 4096];

static void setup_small(void)
{
	/* left 10 (client->server, in-page), right 11 (in-page) */
	xv_fx_setup(&fx, 10, 11, 0);
}

START_TEST(test_fresh_rings_are_empty_and_fully_writable)
{
	ck_assert_int_eq(xv_ring_readable(&fx.srv), 0);
	ck_assert_int_eq(xv_ring_readable(&fx.cli), 0);
	ck_assert_int_eq(xv_ring_writable(&fx.cli), 1024);
	ck_assert_int_eq(xv_ring_writable(&fx.srv), 2048);
}
END_TEST

START_TEST(test_send_then_recv_moves_the_same_bytes_both_ways)
{
	bool kick = true;

	xv_pattern_fill(1, 0, in, 700);
	ck_assert_int_eq(xv_ring_send(&fx.cli, in, 700, &kick), 700);
	ck_assert(!kick);
	ck_assert_uint_eq(fx.page->left.prod, 700);
	ck_assert_int_eq(xv_ring_readable(&fx.srv), 700);
	ck_assert_int_eq(xv_ring_writable(&fx.cli), 324);
	/* The bytes sit in the in-page left slot at 1024. */
	ck_assert_mem_eq(fx.bytes + 1024, in, 700);

	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 300, &kick), 300);
	ck_assert_mem_eq(out, in, 300);
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out + 300, 1000, &kick), 400);
	ck_assert_mem_eq(out, in, 700);
	ck_assert_uint_eq(fx.page->left.cons, 700);
	ck_assert_int_eq(xv_ring_readable(&fx.srv), 0);

	xv_pattern_fill(2, 0, in, 2048);
	ck_assert_int_eq(xv_ring_send(&fx.srv, in, 2048, &kick), 2048);
	ck_assert_int_eq(xv_ring_recv(&fx.cli, out, 4096, &kick), 2048);
	ck_assert_mem_eq(out, in, 2048);
	ck_assert_mem_eq(fx.bytes + 2048, in, 2048);
}
END_TEST

START_TEST(test_full_ring_takes_nothing_and_empty_ring_gives_nothing)
{
	bool kick = true;

	xv_pattern_fill(3, 0, in, 1500);
	ck_assert_int_eq(xv_ring_send(&fx.cli, in, 1500, &kick), 1024);
	ck_assert_int_eq(xv_ring_writable(&fx.cli), 0);
	kick = true;
	ck_assert_int_eq(xv_ring_send(&fx.cli, in + 1024, 476, &kick), 0);
	ck_assert(!kick);
	ck_assert_uint_eq(fx.page->left.prod, 1024);

	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, sizeof(out), &kick), 1024);
	ck_assert_mem_eq(out, in, 1024);
	kick = true;
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, sizeof(out), &kick), 0);
	ck_assert(!kick);
	ck_assert_int_eq(xv_ring_send(&fx.cli, in, 0, &kick), 0);
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 0, &kick), 0);
	ck_assert_uint_eq(fx.page->left.cons, 1024);
}
END_TEST

/*
 * Indices start 1000 below 2^32: every chunk size crosses both the ring
 * end and the index wrap, and the stream must come out intact.
 */
static const unsigned int wrap_orders[][2] = {
	{ 10, 11 }, { 11, 10 }, { 12, 11 }, { 11, 13 }, { 16, 12 },
	{ 10, 19 }, { 20, 20 },
};

START_TEST(test_stream_crosses_ring_end_and_index_wrap_intact)
{
	unsigned int lo = wrap_orders[_i][0], ro = wrap_orders[_i][1];
	uint32_t start = UINT32_MAX - 1000;
	uint64_t total = 3ull << (lo > ro ? lo : ro), sent = 0, got = 0;
	size_t chunk = 777;
	bool kick;

	xv_fx_setup(&fx, lo, ro, start);
	while (got < total) {
		size_t n = total - sent < chunk ? total - sent : chunk;
		int64_t r;

		xv_pattern_fill(9, sent, in, n);
		r = xv_ring_send(&fx.cli, in, n, &kick);
		ck_assert_int_ge(r, 0);
		sent += (uint64_t)r;
		r = xv_ring_recv(&fx.srv, out, chunk * 2, &kick);
		ck_assert_int_ge(r, 0);
		ck_assert_uint_eq(xv_pattern_check(9, got, out, (size_t)r),
				  (size_t)r);
		got += (uint64_t)r;
		/* Never more than a batch held back: a quarter ring, at
		 * most 16 KiB (the 1 MiB ring's would be 256 KiB). */
		ck_assert_uint_lt((uint32_t)(start + got) - fx.page->left.cons,
				  (1u << lo) / 4 < 16384 ? (1u << lo) / 4 : 16384);
		chunk = chunk * 7 % 5003 + 1;
	}
	ck_assert_uint_eq(got, total);
	ck_assert_uint_eq(fx.page->left.prod, (uint32_t)(start + total));
	/* A reader about to sleep publishes the rest. */
	ck_assert_int_eq(xv_ring_arm_readable(&fx.srv, &kick), 0);
	ck_assert_uint_eq(fx.page->left.cons, (uint32_t)(start + total));
	ck_assert_uint_lt(fx.page->left.prod, start);
}
END_TEST

START_TEST(test_sendv_gathers_across_the_wrap_and_stops_when_full)
{
	struct xv_ring_iov iov[3];
	bool kick;

	xv_fx_setup(&fx, 10, 11, UINT32_MAX - 99);
	xv_pattern_fill(4, 0, in, 2000);
	iov[0].base = NULL;	/* empty elements may have no buffer */
	iov[0].len = 0;
	iov[1].base = in;
	iov[1].len = 300;
	iov[2].base = in + 300;
	iov[2].len = 1700;
	ck_assert_int_eq(xv_ring_sendv(&fx.cli, iov, 3, &kick), 1024);
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, sizeof(out), &kick), 1024);
	ck_assert_mem_eq(out, in, 1024);
	/* Started at 2^32 - 100, i.e. ring offset 924: 100 bytes, then 924. */
	ck_assert_uint_eq(fx.page->left.prod, 924);
	ck_assert_mem_eq(fx.bytes + 1024 + 924, in, 100);
	ck_assert_mem_eq(fx.bytes + 1024, in + 100, 924);

	ck_assert_int_eq(xv_ring_sendv(&fx.cli, iov, 0, &kick), 0);
	ck_assert_uint_eq(fx.page->left.prod, 924);
}
END_TEST

START_TEST(test_reserve_commit_give_two_segments_at_the_wrap)
{
	struct xv_ring_segs s;
	bool kick;

	xv_fx_setup(&fx, 10, 11, 1000);
	ck_assert_int_eq(xv_ring_reserve(&fx.cli, &s), 1024);
	ck_assert_ptr_eq(s.ptr[0], fx.bytes + 1024 + 1000);
	ck_assert_uint_eq(s.len[0], 24);
	ck_assert_ptr_eq(s.ptr[1], fx.bytes + 1024);
	ck_assert_uint_eq(s.len[1], 1000);
	xv_pattern_fill(5, 0, in, 100);
	memcpy(s.ptr[0], in, 24);
	memcpy(s.ptr[1], in + 24, 76);
	ck_assert_int_eq(xv_ring_commit(&fx.cli, 1025, &kick), -EINVAL);
	ck_assert_uint_eq(fx.page->left.prod, 1000);
	ck_assert_int_eq(xv_ring_commit(&fx.cli, 100, &kick), 0);
	ck_assert_uint_eq(fx.page->left.prod, 1100);
	ck_assert_int_eq(xv_ring_writable(&fx.cli), 924);
	ck_assert_int_eq(xv_ring_commit(&fx.cli, 925, &kick), -EINVAL);

	ck_assert_int_eq(xv_ring_peek(&fx.srv, &s), 100);
	ck_assert_ptr_eq(s.ptr[0], fx.bytes + 1024 + 1000);
	ck_assert_uint_eq(s.len[0], 24);
	ck_assert_uint_eq(s.len[1], 76);
	ck_assert_mem_eq(s.ptr[0], in, 24);
	ck_assert_mem_eq(s.ptr[1], in + 24, 76);
	ck_assert_int_eq(xv_ring_consume(&fx.srv, 101, &kick), -EINVAL);
	ck_assert_int_eq(xv_ring_consume(&fx.srv, 30, &kick), 0);
	ck_assert_int_eq(xv_ring_peek(&fx.srv, &s), 70);
	ck_assert_uint_eq(s.len[0], 70);
	ck_assert_uint_eq(s.len[1], 0);
	ck_assert_mem_eq(s.ptr[0], in + 30, 70);
	ck_assert_int_eq(xv_ring_consume(&fx.srv, 70, &kick), 0);
	ck_assert_int_eq(xv_ring_peek(&fx.srv, &s), 0);
	ck_assert_uint_eq(s.len[0], 0);
	ck_assert_uint_eq(s.len[1], 0);
	/* Consumed as recv does: held back under a quarter ring. */
	ck_assert_uint_eq(fx.page->left.cons, 1000);
	ck_assert(!xv_ring_flush_consumed(&fx.srv));
	ck_assert_uint_eq(fx.page->left.cons, 1100);
}
END_TEST

/*
 * xv_ring_sent() counts what this side sent, from where the page started,
 * through every way of sending, across the 2^32 wrap; receiving and a
 * peer that scribbles on our prod change nothing.
 */
START_TEST(test_sent_counts_our_own_sends_only)
{
	struct xv_ring_iov iov[2] = { { in, 100 }, { in + 100, 50 } };
	struct xv_ring_segs s;
	bool kick;

	xv_fx_setup(&fx, 10, 11, UINT32_MAX - 99);
	ck_assert_uint_eq(xv_ring_sent(&fx.cli), UINT32_MAX - 99);
	xv_pattern_fill(6, 0, in, 1024);
	ck_assert_int_eq(xv_ring_send(&fx.cli, in, 64, &kick), 64);
	ck_assert_uint_eq(xv_ring_sent(&fx.cli), UINT32_MAX - 35);
	ck_assert_int_eq(xv_ring_sendv(&fx.cli, iov, 2, &kick), 150);
	ck_assert_uint_eq(xv_ring_sent(&fx.cli), 114);
	ck_assert_int_eq(xv_ring_reserve(&fx.cli, &s), 1024 - 214);
	ck_assert_int_eq(xv_ring_commit(&fx.cli, 10, &kick), 0);
	ck_assert_uint_eq(xv_ring_sent(&fx.cli), 124);
	/* The other direction and the peer's reads are not ours. */
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 224, &kick), 224);
	ck_assert_int_eq(xv_ring_send(&fx.srv, in, 10, &kick), 10);
	ck_assert_uint_eq(xv_ring_sent(&fx.cli), 124);
	ck_assert_uint_eq(xv_ring_sent(&fx.srv), UINT32_MAX - 89);
	fx.page->left.prod = 7;
	ck_assert_uint_eq(xv_ring_sent(&fx.cli), 124);
}
END_TEST

START_TEST(test_no_kick_unless_the_peer_armed)
{
	bool kick = true;

	ck_assert_int_eq(xv_ring_send(&fx.srv, "abc", 3, &kick), 3);
	ck_assert(!kick);
	ck_assert_int_eq(xv_ring_recv(&fx.cli, out, 3, &kick), 3);
	ck_assert(!kick);
	/* A READ request does not make a write kick, nor the reverse. */
	fx.page->srv_notify = XV_WIRE_NOTIFY_READ;
	ck_assert_int_eq(xv_ring_send(&fx.srv, "abc", 3, &kick), 3);
	ck_assert(!kick);
	ck_assert_uint_eq(fx.page->srv_notify, XV_WIRE_NOTIFY_READ);
	fx.page->cli_notify = XV_WIRE_NOTIFY_WRITE;
	ck_assert_int_eq(xv_ring_recv(&fx.cli, out, 3, &kick), 3);
	ck_assert(!kick);
	ck_assert_uint_eq(fx.page->cli_notify, XV_WIRE_NOTIFY_WRITE);
}
END_TEST

START_TEST(test_armed_reader_gets_exactly_one_kick_and_keeps_its_flags)
{
	bool kick = false;

	xv_ring_set_flags(&fx.cli, XV_WIRE_FLAG_HALF_CLOSE);
	ck_assert_int_eq(xv_ring_arm_readable(&fx.cli, &kick), 0);
	ck_assert_uint_eq(fx.page->srv_notify,
			  XV_WIRE_FLAG_HALF_CLOSE | XV_WIRE_NOTIFY_WRITE);
	ck_assert_int_eq(xv_ring_send(&fx.srv, "hello", 5, &kick), 5);
	ck_assert(kick);
	ck_assert_uint_eq(fx.page->srv_notify, XV_WIRE_FLAG_HALF_CLOSE);
	ck_assert_int_eq(xv_ring_send(&fx.srv, "again", 5, &kick), 5);
	ck_assert(!kick);
	ck_assert_uint_eq(xv_ring_peer_flags(&fx.srv), XV_WIRE_FLAG_HALF_CLOSE);
}
END_TEST

START_TEST(test_armed_writer_is_kicked_when_space_is_freed)
{
	struct xv_ring_segs s;
	bool kick = false;

	xv_pattern_fill(6, 0, in, 1024);
	ck_assert_int_eq(xv_ring_send(&fx.cli, in, 1024, &kick), 1024);
	xv_ring_set_flags(&fx.cli, XV_WIRE_FLAG_SHUT_WR);
	ck_assert_int_eq(xv_ring_arm_writable(&fx.cli), 0);
	ck_assert_uint_eq(fx.page->srv_notify,
			  XV_WIRE_FLAG_SHUT_WR | XV_WIRE_NOTIFY_READ);
	ck_assert_int_eq(xv_ring_peek(&fx.srv, &s), 1024);
	/* A quarter of the 1 KiB ring is the batch: 256 bytes. */
	ck_assert_int_eq(xv_ring_consume(&fx.srv, 256, &kick), 0);
	ck_assert(kick);
	ck_assert_uint_eq(fx.page->srv_notify, XV_WIRE_FLAG_SHUT_WR);
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 256, &kick), 256);
	ck_assert(!kick);

	/* Server side of the same: its request byte is cli_notify. */
	ck_assert_int_eq(xv_ring_arm_readable(&fx.srv, &kick), 512);
	ck_assert(!kick);
	ck_assert_uint_eq(fx.page->cli_notify, XV_WIRE_NOTIFY_WRITE);
	/* commit() is bounded by the space the last reserve() saw. */
	ck_assert_int_eq(xv_ring_commit(&fx.cli, 20, &kick), -EINVAL);
	ck_assert_int_eq(xv_ring_reserve(&fx.cli, &s), 512);
	ck_assert_int_eq(xv_ring_commit(&fx.cli, 20, &kick), 0);
	ck_assert(kick);
	ck_assert_uint_eq(fx.page->cli_notify, 0);
}
END_TEST

START_TEST(test_arm_reports_what_is_already_there)
{
	bool kick;

	ck_assert_int_eq(xv_ring_send(&fx.srv, "xyz", 3, &kick), 3);
	ck_assert_int_eq(xv_ring_arm_readable(&fx.cli, &kick), 3);
	ck_assert_int_eq(xv_ring_arm_writable(&fx.srv), 2045);
	ck_assert_uint_eq(fx.page->srv_notify, XV_WIRE_NOTIFY_WRITE);
	ck_assert_uint_eq(fx.page->cli_notify, XV_WIRE_NOTIFY_READ);
}
END_TEST

START_TEST(test_connect_live_and_flag_bytes)
{
	struct xv_ring_layout l = { 12, 13 };
	struct xv_ring_endpoint cli;

	xv_ring_page_init_server(fx.page, &l, XV_WIRE_FLAG_HALF_CLOSE);
	ck_assert_int_eq(xv_ring_endpoint_init(&cli, fx.page,
					       XV_RING_CLIENT, &l,
					       fx.left_pages, fx.right_pages), 0);
	ck_assert_uint_eq(xv_ring_peer_live(&cli), XV_WIRE_LIVE_CONNECTED);
	ck_assert_uint_eq(xv_ring_peer_flags(&cli), XV_WIRE_FLAG_HALF_CLOSE);
	ck_assert_uint_eq(fx.page->cli_live, XV_WIRE_LIVE_WAITING);
	ck_assert_int_eq(xv_ring_client_connect(&cli, XV_WIRE_FLAG_HALF_CLOSE),
			 0);
	ck_assert_uint_eq(fx.page->cli_live, XV_WIRE_LIVE_CONNECTED);
	ck_assert_uint_eq(fx.page->srv_notify,
			  XV_WIRE_NOTIFY_WRITE | XV_WIRE_FLAG_HALF_CLOSE);
	/* A second client, or one after the first has gone, is refused
	 * and writes nothing. */
	fx.page->srv_notify = 0;
	ck_assert_int_eq(xv_ring_client_connect(&cli, 0), -ECONNREFUSED);
	fx.page->cli_live = XV_WIRE_LIVE_GONE;
	ck_assert_int_eq(xv_ring_client_connect(&cli, 0), -ECONNREFUSED);
	ck_assert_uint_eq(fx.page->cli_live, XV_WIRE_LIVE_GONE);
	ck_assert_uint_eq(fx.page->srv_notify, 0);
	fx.page->cli_live = XV_WIRE_LIVE_CONNECTED;
	fx.page->srv_notify = XV_WIRE_NOTIFY_WRITE | XV_WIRE_FLAG_HALF_CLOSE;
	/* Notify bits passed as flags are not flags. */
	xv_ring_set_flags(&cli, XV_WIRE_NOTIFY_READ | XV_WIRE_FLAG_SHUT_WR);
	ck_assert_uint_eq(fx.page->srv_notify, XV_WIRE_NOTIFY_WRITE |
			  XV_WIRE_FLAG_HALF_CLOSE | XV_WIRE_FLAG_SHUT_WR);
	xv_ring_set_own_live(&cli, XV_WIRE_LIVE_GONE);
	ck_assert_uint_eq(fx.page->cli_live, XV_WIRE_LIVE_GONE);
	ck_assert_uint_eq(fx.page->srv_live, XV_WIRE_LIVE_CONNECTED);
}
END_TEST

START_TEST(test_client_joins_a_page_with_data_already_in_flight)
{
	struct xv_ring_endpoint late;
	bool kick;

	xv_pattern_fill(7, 0, in, 500);
	ck_assert_int_eq(xv_ring_send(&fx.srv, in, 500, &kick), 500);
	ck_assert_int_eq(xv_ring_recv(&fx.cli, out, 200, &kick), 200);
	/* The first reader leaves: what it took must be published. */
	ck_assert(!xv_ring_flush_consumed(&fx.cli));
	ck_assert_int_eq(xv_ring_endpoint_init(&late, fx.page,
					       XV_RING_CLIENT, &fx.layout,
					       xv_fx_data(&fx, true),
					       xv_fx_data(&fx, false)), 0);
	ck_assert_int_eq(xv_ring_readable(&late), 300);
	ck_assert_int_eq(xv_ring_recv(&late, out, sizeof(out), &kick), 300);
	ck_assert_mem_eq(out, in + 200, 300);
}
END_TEST

/*
 * The batch rule (ring.h, "freed room goes back in batches") on the 1 KiB
 * client->server ring: a quarter is 256 bytes.
 */
static void fill_left_and_arm_writer(void)
{
	bool kick;

	xv_pattern_fill(12, 0, in, 1024);
	ck_assert_int_eq(xv_ring_send(&fx.cli, in, 1024, &kick), 1024);
	ck_assert_int_eq(xv_ring_arm_writable(&fx.cli), 0);
	ck_assert_uint_eq(fx.page->srv_notify, XV_WIRE_NOTIFY_READ);
}

START_TEST(test_cons_is_held_back_until_a_quarter_ring_is_read)
{
	bool kick = true;

	fill_left_and_arm_writer();
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 200, &kick), 200);
	ck_assert(!kick);
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out + 200, 55, &kick), 55);
	ck_assert(!kick);
	/* 255 bytes read: the writer still sees a full ring, still armed. */
	ck_assert_uint_eq(fx.page->left.cons, 0);
	ck_assert_uint_eq(fx.page->srv_notify, XV_WIRE_NOTIFY_READ);
	ck_assert_int_eq(xv_ring_writable(&fx.cli), 0);
	/* The 256th byte publishes all of them and wakes the writer. */
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out + 255, 1, &kick), 1);
	ck_assert(kick);
	ck_assert_uint_eq(fx.page->left.cons, 256);
	ck_assert_uint_eq(fx.page->srv_notify, 0);
	ck_assert_int_eq(xv_ring_writable(&fx.cli), 256);
	ck_assert_mem_eq(out, in, 256);
}
END_TEST

START_TEST(test_a_read_that_finds_the_ring_empty_publishes_what_was_held)
{
	bool kick = true;

	fill_left_and_arm_writer();
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 1024 - 100, &kick), 924);
	ck_assert(kick);
	ck_assert_uint_eq(fx.page->left.cons, 924);
	/* The last 100 bytes: under a quarter, held. */
	ck_assert_int_eq(xv_ring_arm_writable(&fx.cli), 924);
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out + 924, 100, &kick), 100);
	ck_assert(!kick);
	ck_assert_uint_eq(fx.page->left.cons, 924);
	/* Empty now, and the writer asked: the next look publishes them,
	 * kick included. */
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, sizeof(out), &kick), 0);
	ck_assert(kick);
	ck_assert_uint_eq(fx.page->left.cons, 1024);
	ck_assert_int_eq(xv_ring_writable(&fx.cli), 1024);
	/* Nothing left to publish: no second kick even if asked again. */
	fx.page->srv_notify = XV_WIRE_NOTIFY_READ;
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, sizeof(out), &kick), 0);
	ck_assert(!kick);
	ck_assert_uint_eq(fx.page->srv_notify, XV_WIRE_NOTIFY_READ);
	/* A zero-length recv is no look at the ring: it publishes nothing. */
	ck_assert_int_eq(xv_ring_send(&fx.cli, in, 10, &kick), 10);
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 10, &kick), 10);
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 0, &kick), 0);
	ck_assert(!kick);
	ck_assert_uint_eq(fx.page->left.cons, 1024);
}
END_TEST

START_TEST(test_an_empty_ring_keeps_the_room_until_the_writer_asks)
{
	bool kick = true;

	ck_assert_int_eq(xv_ring_send(&fx.cli, in, 100, &kick), 100);
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 100, &kick), 100);
	/* Not asked: the writer has 924 bytes, the look stores nothing. */
	ck_assert(!xv_ring_room_wanted(&fx.srv));
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 100, &kick), 0);
	ck_assert(!kick);
	ck_assert_uint_eq(fx.page->left.cons, 0);
	ck_assert_int_eq(xv_ring_arm_writable(&fx.cli), 924);
	/* Asked: the next look gives it all back and kicks. */
	ck_assert(xv_ring_room_wanted(&fx.srv));
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 100, &kick), 0);
	ck_assert(kick);
	ck_assert_uint_eq(fx.page->left.cons, 100);
	ck_assert(!xv_ring_room_wanted(&fx.srv));
	/* Asked with nothing held back, or on a broken ring: no. */
	fx.page->srv_notify = XV_WIRE_NOTIFY_READ;
	ck_assert(!xv_ring_room_wanted(&fx.srv));
	ck_assert_int_eq(xv_ring_send(&fx.cli, in, 10, &kick), 10);
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 10, &kick), 10);
	ck_assert(xv_ring_room_wanted(&fx.srv));
	xv_ring_mark_broken(&fx.srv);
	ck_assert(!xv_ring_room_wanted(&fx.srv));
}
END_TEST

START_TEST(test_arming_for_data_publishes_first)
{
	bool kick = false;

	fill_left_and_arm_writer();
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 1024 - 100, &kick), 924);
	ck_assert_int_eq(xv_ring_arm_writable(&fx.cli), 924);
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 100, &kick), 100);
	/* A reader about to sleep holds nothing back. */
	ck_assert_int_eq(xv_ring_arm_readable(&fx.srv, &kick), 0);
	ck_assert(kick);
	ck_assert_uint_eq(fx.page->left.cons, 1024);
	ck_assert_uint_eq(fx.page->srv_notify, 0);
	ck_assert_uint_eq(fx.page->cli_notify, XV_WIRE_NOTIFY_WRITE);
}
END_TEST

START_TEST(test_flush_publishes_once_and_never_on_a_broken_ring)
{
	bool kick;

	fill_left_and_arm_writer();
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 50, &kick), 50);
	ck_assert(xv_ring_flush_consumed(&fx.srv));
	ck_assert_uint_eq(fx.page->left.cons, 50);
	ck_assert_uint_eq(fx.page->srv_notify, 0);
	/* Nothing pending: no store at all, even over a peer's scribble. */
	fx.page->left.cons = 7;
	fx.page->srv_notify = XV_WIRE_NOTIFY_READ;
	ck_assert(!xv_ring_flush_consumed(&fx.srv));
	ck_assert_uint_eq(fx.page->left.cons, 7);
	ck_assert_uint_eq(fx.page->srv_notify, XV_WIRE_NOTIFY_READ);
	/* Held bytes on a ring that then breaks stay unpublished. */
	ck_assert_int_eq(xv_ring_recv(&fx.srv, out, 50, &kick), 50);
	xv_ring_mark_broken(&fx.srv);
	ck_assert(!xv_ring_flush_consumed(&fx.srv));
	ck_assert_uint_eq(fx.page->left.cons, 7);
	ck_assert_uint_eq(fx.page->srv_notify, XV_WIRE_NOTIFY_READ);
}
END_TEST

START_TEST(test_init_rejects_a_layout_that_fails_the_check)
{
	struct xv_ring_layout l = { 10, 10 };
	struct xv_ring_endpoint ep;

	ck_assert_int_eq(xv_ring_endpoint_init(&ep, fx.page,
					       XV_RING_SERVER, &l,
					       fx.left_pages, fx.right_pages),
			 -EINVAL);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("ring-io");
	TCase *copy = tcase_create("copy");
	TCase *wrap = tcase_create("wrap");
	TCase *kick = tcase_create("kick");
	TCase *bind = tcase_create("bind");
	TCase *batch = tcase_create("batch");

	tcase_add_checked_fixture(copy, setup_small, NULL);
	tcase_add_test(copy, test_fresh_rings_are_empty_and_fully_writable);
	tcase_add_test(copy, test_send_then_recv_moves_the_same_bytes_both_ways);
	tcase_add_test(copy, test_full_ring_takes_nothing_and_empty_ring_gives_nothing);
	suite_add_tcase(s, copy);

	tcase_add_loop_test(wrap, test_stream_crosses_ring_end_and_index_wrap_intact,
			    0, sizeof(wrap_orders) / sizeof(wrap_orders[0]));
	tcase_add_test(wrap, test_sendv_gathers_across_the_wrap_and_stops_when_full);
	tcase_add_test(wrap, test_reserve_commit_give_two_segments_at_the_wrap);
	tcase_add_test(wrap, test_sent_counts_our_own_sends_only);
	tcase_set_timeout(wrap, 30);
	suite_add_tcase(s, wrap);

	tcase_add_checked_fixture(kick, setup_small, NULL);
	tcase_add_test(kick, test_no_kick_unless_the_peer_armed);
	tcase_add_test(kick, test_armed_reader_gets_exactly_one_kick_and_keeps_its_flags);
	tcase_add_test(kick, test_armed_writer_is_kicked_when_space_is_freed);
	tcase_add_test(kick, test_arm_reports_what_is_already_there);
	suite_add_tcase(s, kick);

	tcase_add_checked_fixture(bind, setup_small, NULL);
	tcase_add_test(bind, test_connect_live_and_flag_bytes);
	tcase_add_test(bind, test_client_joins_a_page_with_data_already_in_flight);
	tcase_add_test(bind, test_init_rejects_a_layout_that_fails_the_check);
	suite_add_tcase(s, bind);

	tcase_add_checked_fixture(batch, setup_small, NULL);
	tcase_add_test(batch, test_cons_is_held_back_until_a_quarter_ring_is_read);
	tcase_add_test(batch, test_a_read_that_finds_the_ring_empty_publishes_what_was_held);
	tcase_add_test(batch, test_an_empty_ring_keeps_the_room_until_the_writer_asks);
	tcase_add_test(batch, test_arming_for_data_publishes_first);
	tcase_add_test(batch, test_flush_publishes_once_and_never_on_a_broken_ring);
	suite_add_tcase(s, batch);
	return s;
}
