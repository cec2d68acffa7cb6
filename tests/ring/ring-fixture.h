/*
 * One control page and two granted-ring areas in ordinary memory, with a
 * server and a client endpoint bound to them: both sides of a vchan in one
 * process, so ring/ can be tested without Xen or the simulator.
 */
#ifndef XV_TEST_RING_FIXTURE_H
#define XV_TEST_RING_FIXTURE_H

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "ring.h"

struct xv_fx {
	_Alignas(XV_WIRE_PAGE_SIZE) unsigned char bytes[XV_WIRE_PAGE_SIZE];
	struct xv_wire_page *page;	/* = bytes */
	/* Stand-ins for the granted pages of an order 12..20 ring. */
	unsigned char left_pages[XV_WIRE_RING_MAX];
	unsigned char right_pages[XV_WIRE_RING_MAX];
	struct xv_ring_layout layout;
	struct xv_ring_endpoint srv, cli;
};

static inline void *xv_fx_data(struct xv_fx *fx, bool left)
{
	size_t off = xv_ring_inpage_offset(&fx->layout, left);

	if (off)
		return fx->bytes + off;
	return left ? fx->left_pages : fx->right_pages;
}

/*
 * Server page with both rings' indices started at @start (to cross the 2^32
 * wrap early), then both endpoints bound and the client connected.
 */
static inline void xv_fx_setup(struct xv_fx *fx, unsigned int left_order,
			       unsigned int right_order, uint32_t start)
{
	fx->page = (struct xv_wire_page *)fx->bytes;
	fx->layout.left_order = left_order;
	fx->layout.right_order = right_order;
	ck_assert_int_eq(xv_ring_layout_check(&fx->layout), 0);
	xv_ring_page_init_server(fx->page, &fx->layout, 0);
	fx->page->left.cons = fx->page->left.prod = start;
	fx->page->right.cons = fx->page->right.prod = start;
	ck_assert_int_eq(xv_ring_endpoint_init(&fx->srv, fx->page,
					       XV_RING_SERVER, &fx->layout,
					       xv_fx_data(fx, true),
					       xv_fx_data(fx, false)), 0);
	ck_assert_int_eq(xv_ring_endpoint_init(&fx->cli, fx->page,
					       XV_RING_CLIENT, &fx->layout,
					       xv_fx_data(fx, true),
					       xv_fx_data(fx, false)), 0);
	ck_assert_int_eq(xv_ring_client_connect(&fx->cli, 0), 0);
	/* Start every test with no pending wake-up requests. */
	fx->page->cli_notify = 0;
	fx->page->srv_notify = 0;
}

#endif
