/* The C11 wire mirror has exactly the layout of Xen's struct vchan_interface. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Xen's header uses `uint32_t grants[0]`: this file is built as gnu11. */
#include <xen/io/libxenvchan.h>

#include "test-common.h"
#include "wire.h"

#define SAME_OFFSET(ours, xens) \
	ck_assert_uint_eq(offsetof(struct xv_wire_page, ours), \
			  offsetof(struct vchan_interface, xens))

START_TEST(test_mirror_has_xens_size_and_every_offset)
{
	ck_assert_uint_eq(sizeof(struct xv_wire_page),
			  sizeof(struct vchan_interface));
	ck_assert_uint_eq(sizeof(struct xv_wire_ring_shared),
			  sizeof(struct ring_shared));
	SAME_OFFSET(left.cons, left.cons);
	SAME_OFFSET(left.prod, left.prod);
	SAME_OFFSET(right.cons, right.cons);
	SAME_OFFSET(right.prod, right.prod);
	SAME_OFFSET(left_order, left_order);
	SAME_OFFSET(right_order, right_order);
	SAME_OFFSET(cli_live, cli_live);
	SAME_OFFSET(srv_live, srv_live);
	SAME_OFFSET(cli_notify, cli_notify);
	SAME_OFFSET(srv_notify, srv_notify);
	SAME_OFFSET(grants, grants);
	ck_assert_uint_eq(offsetof(struct vchan_interface, grants), 24);
}
END_TEST

START_TEST(test_mirror_field_widths_match_xens)
{
	struct vchan_interface *x = NULL;
	struct xv_wire_page *o = NULL;

	ck_assert_uint_eq(sizeof(o->left.cons), sizeof(x->left.cons));
	ck_assert_uint_eq(sizeof(o->left_order), sizeof(x->left_order));
	ck_assert_uint_eq(sizeof(o->cli_live), sizeof(x->cli_live));
	ck_assert_uint_eq(sizeof(o->srv_notify), sizeof(x->srv_notify));
	ck_assert_uint_eq(sizeof(o->grants[0]), sizeof(x->grants[0]));
}
END_TEST

START_TEST(test_fields_written_by_xens_struct_read_back_through_ours)
{
	static union {
		unsigned char bytes[4096];
		uint32_t align;
	} page;
	struct vchan_interface *x = (struct vchan_interface *)page.bytes;
	const struct xv_wire_page *o = (const struct xv_wire_page *)page.bytes;

	memset(page.bytes, 0, sizeof(page.bytes));
	x->left.cons = 0x01020304u;
	x->left.prod = 0x05060708u;
	x->right.cons = 0x090a0b0cu;
	x->right.prod = 0x0d0e0f10u;
	x->left_order = 17;
	x->right_order = 11;
	x->cli_live = 2;
	x->srv_live = 1;
	x->cli_notify = 0x81;
	x->srv_notify = 0x42;
	x->grants[0] = 0xdeadbeefu;
	x->grants[31] = 0x12345678u;

	ck_assert_uint_eq(o->left.cons, 0x01020304u);
	ck_assert_uint_eq(o->left.prod, 0x05060708u);
	ck_assert_uint_eq(o->right.cons, 0x090a0b0cu);
	ck_assert_uint_eq(o->right.prod, 0x0d0e0f10u);
	ck_assert_uint_eq(o->left_order, 17);
	ck_assert_uint_eq(o->right_order, 11);
	ck_assert_uint_eq(o->cli_live, 2);
	ck_assert_uint_eq(o->srv_live, 1);
	ck_assert_uint_eq(o->cli_notify, 0x81);
	ck_assert_uint_eq(o->srv_notify, 0x42);
	ck_assert_uint_eq(o->grants[0], 0xdeadbeefu);
	ck_assert_uint_eq(o->grants[31], 0x12345678u);
}
END_TEST

START_TEST(test_constants_match_xens_and_the_documented_values)
{
	ck_assert_uint_eq(XV_WIRE_NOTIFY_WRITE, VCHAN_NOTIFY_WRITE);
	ck_assert_uint_eq(XV_WIRE_NOTIFY_READ, VCHAN_NOTIFY_READ);
	ck_assert_uint_eq(XV_WIRE_PAGE_SIZE, 4096);
	ck_assert_uint_eq(XV_WIRE_LIVE_GONE, 0);
	ck_assert_uint_eq(XV_WIRE_LIVE_CONNECTED, 1);
	ck_assert_uint_eq(XV_WIRE_LIVE_WAITING, 2);
	ck_assert_uint_eq(XV_WIRE_SMALL_OFFSET, 1024);
	ck_assert_uint_eq(XV_WIRE_LARGE_OFFSET, 2048);
	ck_assert_uint_eq(XV_WIRE_ORDER_MIN, 10);
	ck_assert_uint_eq(XV_WIRE_ORDER_MAX, 20);
	ck_assert_uint_eq(XV_WIRE_GRANTS_MAX, 1018);
	/* The extension bits never overlap the bits libxenvchan clears. */
	ck_assert_uint_eq(XV_WIRE_FLAG_HALF_CLOSE & XV_WIRE_NOTIFY_MASK, 0);
	ck_assert_uint_eq(XV_WIRE_FLAG_SHUT_WR & XV_WIRE_NOTIFY_MASK, 0);
	ck_assert_uint_eq(XV_WIRE_FLAG_MASK, 0xfc);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("wire-abi");
	TCase *tc = tcase_create("layout");

	tcase_add_test(tc, test_mirror_has_xens_size_and_every_offset);
	tcase_add_test(tc, test_mirror_field_widths_match_xens);
	tcase_add_test(tc, test_fields_written_by_xens_struct_read_back_through_ours);
	tcase_add_test(tc, test_constants_match_xens_and_the_documented_values);
	suite_add_tcase(s, tc);
	return s;
}
