/* A peer that lies in shared memory gets -EPROTO, for good, and no overrun. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"
#include "test-common.h"
#include "ring.h"

/*
 * Exact-size heap areas (not the 1 MiB fixture arrays), so that under
 * AddressSanitizer any access outside a ring is reported.
 */
static struct xv_wire_page *page;
static unsigned char *left_data, *right_data;
static struct xv_ring_layout layout = { 12, 11 };
static struct xv_ring_endpoint srv, cli;
static unsigned char buf[8192];

static void bind(struct xv_ring_endpoint *ep, enum xv_ring_role role)
{
	ck_assert_int_eq(xv_ring_endpoint_init(ep, page, role, &layout,
					       left_data, right_data), 0);
}

static void setup(void)
{
	page = aligned_alloc(XV_WIRE_PAGE_SIZE, XV_WIRE_PAGE_SIZE);
	left_data = malloc(4096);
	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(left_data);
	right_data = (unsigned char *)page + 2048;
	xv_ring_page_init_server(page, &layout, 0);
	bind(&srv, XV_RING_SERVER);
	bind(&cli, XV_RING_CLIENT);
}

static void teardown(void)
{
	free(left_data);
	free(page);
}

/* Every operation of a broken endpoint fails the same way, and moves nothing. */
static void assert_broken(struct xv_ring_endpoint *ep)
{
	struct xv_wire_page before;
	struct xv_ring_segs s;
	struct xv_ring_iov iov = { "x", 1 };
	bool kick = true;

	memcpy(&before, page, sizeof(before));
	ck_assert_int_eq(ep->broken, -EPROTO);
	ck_assert_int_eq(xv_ring_readable(ep), -EPROTO);
	ck_assert_int_eq(xv_ring_writable(ep), -EPROTO);
	ck_assert_int_eq(xv_ring_recv(ep, buf, sizeof(buf), &kick), -EPROTO);
	ck_assert(!kick);
	ck_assert_int_eq(xv_ring_send(ep, "x", 1, &kick), -EPROTO);
	ck_assert_int_eq(xv_ring_sendv(ep, &iov, 1, &kick), -EPROTO);
	ck_assert_int_eq(xv_ring_reserve(ep, &s), -EPROTO);
	ck_assert_int_eq(xv_ring_commit(ep, 0, &kick), -EPROTO);
	ck_assert_int_eq(xv_ring_peek(ep, &s), -EPROTO);
	ck_assert_int_eq(xv_ring_consume(ep, 0, &kick), -EPROTO);
	ck_assert_int_eq(xv_ring_arm_readable(ep, &kick), -EPROTO);
	ck_assert_int_eq(xv_ring_arm_writable(ep), -EPROTO);
	ck_assert(!kick);
	/* Not even a notify bit or an index changed. */
	ck_assert_mem_eq(page, &before, sizeof(before));
}

START_TEST(test_prod_more_than_a_ring_ahead_breaks_the_reader)
{
	page->left.prod = 4097;
	ck_assert_int_eq(xv_ring_readable(&srv), -EPROTO);
	/* Sticky: a peer that repairs the index does not un-break us. */
	page->left.prod = 0;
	assert_broken(&srv);
}
END_TEST

START_TEST(test_prod_behind_cons_breaks_the_reader)
{
	bool kick;

	ck_assert_int_eq(xv_ring_send(&cli, buf, 100, &kick), 100);
	ck_assert_int_eq(xv_ring_recv(&srv, buf, 100, &kick), 100);
	page->left.prod = 99;
	ck_assert_int_eq(xv_ring_recv(&srv, buf, sizeof(buf), &kick), -EPROTO);
	assert_broken(&srv);
}
END_TEST

START_TEST(test_prod_moving_backwards_breaks_the_reader)
{
	bool kick;

	ck_assert_int_eq(xv_ring_send(&cli, buf, 500, &kick), 500);
	ck_assert_int_eq(xv_ring_readable(&srv), 500);
	/* Still ahead of cons, but behind what the peer already published. */
	page->left.prod = 400;
	ck_assert_int_eq(xv_ring_readable(&srv), -EPROTO);
	assert_broken(&srv);
}
END_TEST

START_TEST(test_cons_beyond_prod_breaks_the_writer)
{
	bool kick;

	ck_assert_int_eq(xv_ring_send(&srv, buf, 10, &kick), 10);
	page->right.cons = 11;
	/* The first call that loads cons sees the lie. */
	ck_assert_int_eq(xv_ring_writable(&srv), -EPROTO);
	ck_assert_int_eq(xv_ring_send(&srv, buf, 10, &kick), -EPROTO);
	ck_assert_uint_eq(page->right.prod, 10);
	assert_broken(&srv);
}
END_TEST

START_TEST(test_cons_moving_backwards_breaks_the_writer)
{
	struct xv_ring_segs s;
	bool kick;

	ck_assert_int_eq(xv_ring_send(&srv, buf, 1000, &kick), 1000);
	ck_assert_int_eq(xv_ring_recv(&cli, buf, 600, &kick), 600);
	ck_assert_int_eq(xv_ring_writable(&srv), 1648);
	page->right.cons = 500;
	ck_assert_int_eq(xv_ring_reserve(&srv, &s), -EPROTO);
	assert_broken(&srv);
}
END_TEST

START_TEST(test_a_lying_client_index_breaks_the_client_too)
{
	bool kick = true;

	/* The server is the liar: right.prod far ahead of right.cons. */
	page->right.prod = 0x80000000u;
	ck_assert_int_eq(xv_ring_arm_readable(&cli, &kick), -EPROTO);
	ck_assert(!kick);
	assert_broken(&cli);
	/* The server's own view of its tx ring is from its shadow: intact. */
	ck_assert_int_eq(xv_ring_writable(&srv), 2048);
}
END_TEST

START_TEST(test_peer_scribbling_on_our_index_moves_nothing)
{
	bool kick;

	xv_pattern_fill(11, 0, buf, 300);
	ck_assert_int_eq(xv_ring_send(&cli, buf, 300, &kick), 300);
	page->left.cons = 0x12345678u;	/* ours, written by the peer */
	ck_assert_int_eq(xv_ring_readable(&srv), 300);
	ck_assert_int_eq(xv_ring_recv(&srv, buf + 4096, 300, &kick), 300);
	ck_assert_mem_eq(buf + 4096, buf, 300);
	/* Held back (under a quarter ring), then published from the shadow. */
	ck_assert_uint_eq(page->left.cons, 0x12345678u);
	(void)xv_ring_flush_consumed(&srv);
	ck_assert_uint_eq(page->left.cons, 300);
	ck_assert_int_eq(srv.broken, 0);
}
END_TEST

START_TEST(test_joining_a_page_with_impossible_indices_fails)
{
	struct xv_ring_endpoint late;

	page->right.cons = 5;
	page->right.prod = 5 + 2049;
	ck_assert_int_eq(xv_ring_endpoint_init(&late, page, XV_RING_CLIENT,
					       &layout, left_data, right_data),
			 -EPROTO);
	ck_assert_int_eq(late.broken, -EPROTO);
	ck_assert_int_eq(xv_ring_readable(&late), -EPROTO);

	page->right.prod = 5 + 2048;
	page->left.cons = 7;
	page->left.prod = 6;
	ck_assert_int_eq(xv_ring_endpoint_init(&late, page, XV_RING_CLIENT,
					       &layout, left_data, right_data),
			 -EPROTO);
}
END_TEST

static const uint16_t garbage_orders[] = {
	0, 1, 9, 21, 22, 31, 32, 64, 0x7fff, 0x8000, 0x800a, 0xffff,
};

START_TEST(test_garbage_orders_are_refused)
{
	struct xv_ring_layout l;
	size_t n = sizeof(garbage_orders) / sizeof(garbage_orders[0]);

	for (size_t i = 0; i < n; i++) {
		page->left_order = garbage_orders[i];
		page->right_order = 12;
		ck_assert_int_eq(xv_ring_page_read_layout(page, &l), -EPROTO);
		page->left_order = 12;
		page->right_order = garbage_orders[i];
		ck_assert_int_eq(xv_ring_page_read_layout(page, &l), -EPROTO);
	}
}
END_TEST

/* Cheap deterministic generator: the run is the same every time. */
static uint32_t next_rand(uint64_t *state)
{
	*state = xv_pattern_mix(*state);
	return (uint32_t)(*state >> 32);
}

/*
 * Occasional lies between honest operations: every result stays within
 * the ring, and a broken endpoint stays broken until it is bound afresh.
 * AddressSanitizer checks the copies against the exact-size areas.
 */
START_TEST(test_random_lies_never_overrun_and_stay_broken)
{
	uint64_t rng = 0x5eed0000u + (uint64_t)_i;
	uint64_t moved = 0;
	unsigned int breaks = 0;
	struct xv_ring_segs s;
	bool kick;

	for (int step = 0; step < 20000; step++) {
		uint32_t r = next_rand(&rng);
		uint32_t v = next_rand(&rng);
		int64_t got = 0;

		switch (r % 64) {
		case 0: page->left.prod += v % 8192 - 4096; break;
		case 1: page->right.cons += v % 8192 - 4096; break;
		case 2: page->left.prod += v % 16; break;
		case 3: page->right.cons += v % 16; break;
		case 4: page->left.prod = v; break;
		case 5: page->right.cons = v; break;
		default: break;	/* mostly honest steps */
		}
		switch ((r >> 8) % 6) {
		case 0:
			got = xv_ring_recv(&srv, buf, v % sizeof(buf), &kick);
			ck_assert(got == -EPROTO || (got >= 0 && got <= 4096));
			break;
		case 1:
			got = xv_ring_send(&srv, buf, v % sizeof(buf), &kick);
			ck_assert(got == -EPROTO || (got >= 0 && got <= 2048));
			break;
		case 2:
			got = xv_ring_peek(&srv, &s);
			if (got < 0)
				break;
			ck_assert_uint_eq(s.len[0] + s.len[1], got);
			ck_assert(s.ptr[0] >= left_data &&
				  s.ptr[0] + s.len[0] <= left_data + 4096);
			ck_assert(s.ptr[1] == left_data && s.len[1] <= 4096);
			ck_assert_int_eq(xv_ring_consume(&srv, s.len[0], &kick),
					 0);
			got = s.len[0];
			break;
		case 3:
			got = xv_ring_reserve(&srv, &s);
			if (got < 0)
				break;
			memset(s.ptr[0], 0x5a, s.len[0]);
			memset(s.ptr[1], 0x5a, s.len[1]);
			ck_assert_int_eq(xv_ring_commit(&srv, (uint32_t)got,
							&kick), 0);
			break;
		case 4:
			xv_ring_send(&cli, buf, v % 3000, &kick);
			break;
		default:
			xv_ring_recv(&cli, buf, v % 3000, &kick);
			break;
		}
		if (got > 0)
			moved += (uint64_t)got;
		if (srv.broken) {
			assert_broken(&srv);
			breaks++;
			xv_ring_page_init_server(page, &layout, 0);
			bind(&srv, XV_RING_SERVER);
			bind(&cli, XV_RING_CLIENT);
		}
	}
	/* Both kinds of step happened, many times over. */
	ck_assert_uint_gt(breaks, 50);
	ck_assert_uint_gt(moved, 1000000);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("ring-hostile");
	TCase *idx = tcase_create("indices");
	TCase *orders = tcase_create("orders");
	TCase *fuzz = tcase_create("random");

	tcase_add_checked_fixture(idx, setup, teardown);
	tcase_add_test(idx, test_prod_more_than_a_ring_ahead_breaks_the_reader);
	tcase_add_test(idx, test_prod_behind_cons_breaks_the_reader);
	tcase_add_test(idx, test_prod_moving_backwards_breaks_the_reader);
	tcase_add_test(idx, test_cons_beyond_prod_breaks_the_writer);
	tcase_add_test(idx, test_cons_moving_backwards_breaks_the_writer);
	tcase_add_test(idx, test_a_lying_client_index_breaks_the_client_too);
	tcase_add_test(idx, test_peer_scribbling_on_our_index_moves_nothing);
	tcase_add_test(idx, test_joining_a_page_with_impossible_indices_fails);
	suite_add_tcase(s, idx);

	tcase_add_checked_fixture(orders, setup, teardown);
	tcase_add_test(orders, test_garbage_orders_are_refused);
	suite_add_tcase(s, orders);

	tcase_add_checked_fixture(fuzz, setup, teardown);
	tcase_add_loop_test(fuzz, test_random_lies_never_overrun_and_stay_broken,
			    0, 16);
	suite_add_tcase(s, fuzz);
	return s;
}
