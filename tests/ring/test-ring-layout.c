/* Ring order choice, in-page placement and validation of a peer's layout. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ring.h"
#include "test-common.h"

/* Sizes at and around every placement boundary. */
static const size_t sizes[] = {
	1, 2, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097,
	8192, 8193, 65536, 65537, 524288, 524289, 1048575, 1048576,
};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

enum size_class { FITS_SMALL, FITS_LARGE, NEEDS_GRANTS };

static enum size_class classify(size_t s)
{
	return s <= 1024 ? FITS_SMALL : s <= 2048 ? FITS_LARGE : NEEDS_GRANTS;
}

/* Smallest granted order holding s bytes (libxenvchan's min_order). */
static unsigned int granted(size_t s)
{
	unsigned int o = 12;

	while (((size_t)1 << o) < s)
		o++;
	return o;
}

/*
 * libxenvchan_server_init() (tools/libs/vchan/init.c) restated as a table
 * over the two size classes, independently of layout.c's if-chain.
 */
static void expected(size_t rd, size_t wr, unsigned int *left,
		     unsigned int *right)
{
	static const unsigned int pick[3][3][2] = {
		/* rd small */ { { 10, 11 }, { 10, 11 }, { 11, 0 } },
		/* rd large */ { { 11, 10 }, { 11, 0 }, { 11, 0 } },
		/* rd grants */ { { 0, 11 }, { 0, 11 }, { 0, 0 } },
	};
	const unsigned int *p = pick[classify(rd)][classify(wr)];

	*left = p[0] ? p[0] : granted(rd);
	*right = p[1] ? p[1] : granted(wr);
}

START_TEST(test_choice_matches_libxenvchan_for_every_size_pair)
{
	size_t rd = sizes[_i / NSIZES], wr = sizes[_i % NSIZES];
	struct xv_ring_layout l;
	unsigned int left, right;

	expected(rd, wr, &left, &right);
	ck_assert_int_eq(xv_ring_layout_choose(rd, wr, &l), 0);
	ck_assert_msg(l.left_order == left && l.right_order == right,
		      "sizes %zu/%zu: got %u/%u, libxenvchan picks %u/%u",
		      rd, wr, l.left_order, l.right_order, left, right);
	ck_assert_int_eq(xv_ring_layout_check(&l), 0);
	ck_assert_uint_ge((size_t)1 << l.left_order, rd);
	ck_assert_uint_ge((size_t)1 << l.right_order, wr);
}
END_TEST

/* Every read size against each boundary write size, and the reverse. */
START_TEST(test_choice_matches_libxenvchan_for_every_size_on_one_side)
{
	size_t fixed = sizes[_i];
	struct xv_ring_layout l;
	unsigned int left, right;

	/* Plain ifs: a Check assertion per size would cost a pipe write. */
	for (size_t s = 1; s <= XV_WIRE_RING_MAX; s++) {
		int rc = xv_ring_layout_choose(s, fixed, &l);

		expected(s, fixed, &left, &right);
		if (rc != 0 || l.left_order != left || l.right_order != right)
			ck_abort_msg("sizes %zu/%zu: rc %d, got %u/%u, want %u/%u",
				     s, fixed, rc, l.left_order, l.right_order,
				     left, right);
		rc = xv_ring_layout_choose(fixed, s, &l);
		expected(fixed, s, &left, &right);
		if (rc != 0 || l.left_order != left || l.right_order != right)
			ck_abort_msg("sizes %zu/%zu: rc %d, got %u/%u, want %u/%u",
				     fixed, s, rc, l.left_order, l.right_order,
				     left, right);
	}
}
END_TEST

START_TEST(test_choice_spot_values)
{
	struct xv_ring_layout l;

	ck_assert_int_eq(xv_ring_layout_choose(1024, 2048, &l), 0);
	ck_assert_uint_eq(l.left_order, 10);
	ck_assert_uint_eq(l.right_order, 11);
	ck_assert_int_eq(xv_ring_layout_choose(2048, 1024, &l), 0);
	ck_assert_uint_eq(l.left_order, 11);
	ck_assert_uint_eq(l.right_order, 10);
	ck_assert_int_eq(xv_ring_layout_choose(2048, 2048, &l), 0);
	ck_assert_uint_eq(l.left_order, 11);
	ck_assert_uint_eq(l.right_order, 12);
	ck_assert_int_eq(xv_ring_layout_choose(1, 1048576, &l), 0);
	ck_assert_uint_eq(l.left_order, 11);
	ck_assert_uint_eq(l.right_order, 20);
	ck_assert_int_eq(xv_ring_layout_choose(4097, 65536, &l), 0);
	ck_assert_uint_eq(l.left_order, 13);
	ck_assert_uint_eq(l.right_order, 16);
	ck_assert_int_eq(xv_ring_layout_choose(1048576, 3000, &l), 0);
	ck_assert_uint_eq(l.left_order, 20);
	ck_assert_uint_eq(l.right_order, 12);
}
END_TEST

START_TEST(test_choice_rejects_zero_and_above_one_mib)
{
	struct xv_ring_layout l = { 77, 77 };

	ck_assert_int_eq(xv_ring_layout_choose(0, 1024, &l), -EINVAL);
	ck_assert_int_eq(xv_ring_layout_choose(1024, 0, &l), -EINVAL);
	ck_assert_int_eq(xv_ring_layout_choose(1048577, 1024, &l), -EINVAL);
	ck_assert_int_eq(xv_ring_layout_choose(1024, 1048577, &l), -EINVAL);
	ck_assert_int_eq(xv_ring_layout_choose(SIZE_MAX, SIZE_MAX, &l),
			 -EINVAL);
	ck_assert_uint_eq(l.left_order, 77);
	ck_assert_uint_eq(l.right_order, 77);
}
END_TEST

START_TEST(test_pages_per_order)
{
	ck_assert_uint_eq(xv_ring_layout_pages(10), 0);
	ck_assert_uint_eq(xv_ring_layout_pages(11), 0);
	ck_assert_uint_eq(xv_ring_layout_pages(12), 1);
	ck_assert_uint_eq(xv_ring_layout_pages(13), 2);
	ck_assert_uint_eq(xv_ring_layout_pages(16), 16);
	ck_assert_uint_eq(xv_ring_layout_pages(20), 256);
}
END_TEST

START_TEST(test_inpage_offsets_follow_the_order)
{
	struct xv_ring_layout a = { 10, 11 }, b = { 11, 10 }, c = { 12, 11 };
	struct xv_ring_layout d = { 10, 19 }, e = { 14, 20 };

	ck_assert_uint_eq(xv_ring_inpage_offset(&a, true), 1024);
	ck_assert_uint_eq(xv_ring_inpage_offset(&a, false), 2048);
	ck_assert_uint_eq(xv_ring_inpage_offset(&b, true), 2048);
	ck_assert_uint_eq(xv_ring_inpage_offset(&b, false), 1024);
	ck_assert_uint_eq(xv_ring_inpage_offset(&c, true), 0);
	ck_assert_uint_eq(xv_ring_inpage_offset(&c, false), 2048);
	ck_assert_uint_eq(xv_ring_inpage_offset(&d, true), 1024);
	ck_assert_uint_eq(xv_ring_inpage_offset(&d, false), 0);
	ck_assert_uint_eq(xv_ring_inpage_offset(&e, true), 0);
	ck_assert_uint_eq(xv_ring_inpage_offset(&e, false), 0);
}
END_TEST

/* Valid iff both in 10..20, distinct in-page slots, grants end in time. */
static bool valid_pair(unsigned int left, unsigned int right)
{
	if (left < 10 || left > 20 || right < 10 || right > 20)
		return false;
	if (left == right && left < 12)
		return false;
	/* 24 + 4 * 256 = 1048 > 1024: the only grant list too long. */
	if ((left == 10 && right == 20) || (left == 20 && right == 10))
		return false;
	return true;
}

START_TEST(test_check_every_order_pair_0_to_24)
{
	struct xv_ring_layout l = { (unsigned int)_i / 25,
				    (unsigned int)_i % 25 };

	ck_assert_int_eq(xv_ring_layout_check(&l),
			 valid_pair(l.left_order, l.right_order) ? 0 : -EPROTO);
}
END_TEST

START_TEST(test_check_rejections_by_name)
{
	struct xv_ring_layout below = { 9, 12 }, above = { 12, 21 };
	struct xv_ring_layout both_small = { 10, 10 }, both_large = { 11, 11 };
	struct xv_ring_layout grants_into_1024 = { 20, 10 };
	struct xv_ring_layout huge = { 65535, 65535 };
	struct xv_ring_layout grants_before_2048 = { 11, 20 };
	struct xv_ring_layout both_max = { 20, 20 };
	struct xv_ring_layout most_before_1024 = { 19, 10 };

	ck_assert_int_eq(xv_ring_layout_check(&below), -EPROTO);
	ck_assert_int_eq(xv_ring_layout_check(&above), -EPROTO);
	ck_assert_int_eq(xv_ring_layout_check(&both_small), -EPROTO);
	ck_assert_int_eq(xv_ring_layout_check(&both_large), -EPROTO);
	ck_assert_int_eq(xv_ring_layout_check(&grants_into_1024), -EPROTO);
	ck_assert_int_eq(xv_ring_layout_check(&huge), -EPROTO);
	ck_assert_int_eq(xv_ring_layout_check(&grants_before_2048), 0);
	ck_assert_int_eq(xv_ring_layout_check(&both_max), 0);
	ck_assert_int_eq(xv_ring_layout_check(&most_before_1024), 0);
}
END_TEST

static union {
	struct xv_wire_page page;
	unsigned char bytes[XV_WIRE_PAGE_SIZE];
} mem;

START_TEST(test_server_init_writes_libxenvchans_header)
{
	struct xv_ring_layout l = { 13, 11 };
	unsigned char zero[XV_WIRE_PAGE_SIZE - 24];

	memset(mem.bytes, 0xa5, sizeof(mem.bytes));
	xv_ring_page_init_server(&mem.page, &l, XV_WIRE_FLAG_HALF_CLOSE);
	ck_assert_uint_eq(mem.page.left.cons, 0);
	ck_assert_uint_eq(mem.page.left.prod, 0);
	ck_assert_uint_eq(mem.page.right.cons, 0);
	ck_assert_uint_eq(mem.page.right.prod, 0);
	ck_assert_uint_eq(mem.page.left_order, 13);
	ck_assert_uint_eq(mem.page.right_order, 11);
	ck_assert_uint_eq(mem.page.cli_live, XV_WIRE_LIVE_WAITING);
	ck_assert_uint_eq(mem.page.srv_live, XV_WIRE_LIVE_CONNECTED);
	ck_assert_uint_eq(mem.page.cli_notify, 0x81);
	ck_assert_uint_eq(mem.page.srv_notify, 0);
	memset(zero, 0, sizeof(zero));
	ck_assert_mem_eq(mem.bytes + 24, zero, sizeof(zero));
}
END_TEST

START_TEST(test_client_reads_and_checks_the_orders)
{
	struct xv_ring_layout l;

	memset(mem.bytes, 0, sizeof(mem.bytes));
	mem.page.left_order = 16;
	mem.page.right_order = 10;
	ck_assert_int_eq(xv_ring_page_read_layout(&mem.page, &l), 0);
	ck_assert_uint_eq(l.left_order, 16);
	ck_assert_uint_eq(l.right_order, 10);

	mem.page.left_order = 0xffff;
	ck_assert_int_eq(xv_ring_page_read_layout(&mem.page, &l), -EPROTO);
	mem.page.left_order = 11;
	mem.page.right_order = 11;
	ck_assert_int_eq(xv_ring_page_read_layout(&mem.page, &l), -EPROTO);
	mem.page.left_order = 10;
	mem.page.right_order = 20;
	ck_assert_int_eq(xv_ring_page_read_layout(&mem.page, &l), -EPROTO);
}
END_TEST

START_TEST(test_grants_round_trip_and_stay_inside_the_page)
{
	memset(mem.bytes, 0, sizeof(mem.bytes));
	xv_ring_page_set_grant(&mem.page, 0, 0x11111111u);
	xv_ring_page_set_grant(&mem.page, 511, 0x22222222u);
	xv_ring_page_set_grant(&mem.page, XV_WIRE_GRANTS_MAX - 1, 0x33333333u);
	xv_ring_page_set_grant(&mem.page, XV_WIRE_GRANTS_MAX, 0x44444444u);
	ck_assert_uint_eq(xv_ring_page_grant(&mem.page, 0), 0x11111111u);
	ck_assert_uint_eq(xv_ring_page_grant(&mem.page, 511), 0x22222222u);
	ck_assert_uint_eq(xv_ring_page_grant(&mem.page, XV_WIRE_GRANTS_MAX - 1),
			  0x33333333u);
	ck_assert_uint_eq(mem.bytes[24], 0x11);
	ck_assert_uint_eq(mem.bytes[24 + 4 * 511], 0x22);
	ck_assert_uint_eq(mem.bytes[XV_WIRE_PAGE_SIZE - 1], 0x33);
	/* Beyond the page: nothing read, the never-valid grant 0 returned. */
	ck_assert_uint_eq(xv_ring_page_grant(&mem.page, XV_WIRE_GRANTS_MAX), 0);
	ck_assert_uint_eq(xv_ring_page_grant(&mem.page, UINT32_MAX), 0);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("ring-layout");
	TCase *choose = tcase_create("choose");
	TCase *place = tcase_create("place");
	TCase *check = tcase_create("check");
	TCase *page = tcase_create("page");

	tcase_add_loop_test(choose,
			    test_choice_matches_libxenvchan_for_every_size_pair,
			    0, NSIZES * NSIZES);
	tcase_add_loop_test(choose,
			    test_choice_matches_libxenvchan_for_every_size_on_one_side,
			    0, NSIZES);
	tcase_add_test(choose, test_choice_spot_values);
	tcase_add_test(choose, test_choice_rejects_zero_and_above_one_mib);
	/* 2 M choices per loop step: room for sanitizer builds. */
	tcase_set_timeout(choose, 60);
	suite_add_tcase(s, choose);

	tcase_add_test(place, test_pages_per_order);
	tcase_add_test(place, test_inpage_offsets_follow_the_order);
	suite_add_tcase(s, place);

	tcase_add_loop_test(check, test_check_every_order_pair_0_to_24, 0,
			    25 * 25);
	tcase_add_test(check, test_check_rejections_by_name);
	suite_add_tcase(s, check);

	tcase_add_test(page, test_server_init_writes_libxenvchans_header);
	tcase_add_test(page, test_client_reads_and_checks_the_orders);
	tcase_add_test(page, test_grants_round_trip_and_stay_inside_the_page);
	suite_add_tcase(s, page);
	return s;
}
