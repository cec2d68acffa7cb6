/*
 * libFuzzer target: ring/layout.c on arbitrary control pages.
 *
 * The input is the page a hostile server hands out (zero-padded to 4096
 * bytes, in an allocation of exactly one page). The checker's verdict is
 * compared with the rules of Xen's header, restated here from scratch; an
 * accepted layout must place every in-page ring and the whole grant list
 * inside the page without overlap, every grant slot the layout implies
 * must be readable, and binding an endpoint to the page must succeed or
 * fail with -EPROTO exactly as its indices say.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ring.h"

/* Xen's rules, independently: 10..20, at most one ring per in-page slot,
 * grants (4 bytes per page of orders >= 12) end before any in-page ring. */
static bool layout_ok(unsigned int lo, unsigned int ro)
{
	unsigned int end = 24, limit = 4096, pages = 0;

	if (lo < 10 || lo > 20 || ro < 10 || ro > 20)
		return false;
	if ((lo == 10 && ro == 10) || (lo == 11 && ro == 11))
		return false;
	if (lo == 10 || ro == 10)
		limit = 1024;
	else if (lo == 11 || ro == 11)
		limit = 2048;
	if (lo >= 12)
		pages += 1u << (lo - 12);
	if (ro >= 12)
		pages += 1u << (ro - 12);
	end += 4 * pages;
	return end <= limit;
}

static size_t ring_bytes(unsigned int order)
{
	return (size_t)1 << order;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xv_wire_page *page;
	struct xv_ring_layout l, raw;
	struct xv_ring_endpoint ep;
	unsigned int i, ngrants;
	uint8_t *left, *right;
	size_t loff, roff;
	uint32_t c0, p0, c1, p1;
	int rc;

	page = aligned_alloc(XV_WIRE_PAGE_SIZE, XV_WIRE_PAGE_SIZE);
	FZ_CHECK(page);
	memset(page, 0, XV_WIRE_PAGE_SIZE);
	memcpy(page, data, size < XV_WIRE_PAGE_SIZE ? size : XV_WIRE_PAGE_SIZE);

	/* Any two words as orders, not only what fits in a uint16_t. */
	if (size >= XV_WIRE_PAGE_SIZE + 8) {
		memcpy(&raw.left_order, data + XV_WIRE_PAGE_SIZE, 4);
		memcpy(&raw.right_order, data + XV_WIRE_PAGE_SIZE + 4, 4);
		FZ_CHECK((xv_ring_layout_check(&raw) == 0) ==
			 layout_ok(raw.left_order, raw.right_order));
	}

	rc = xv_ring_page_read_layout(page, &l);
	FZ_CHECK(l.left_order == page->left_order);
	FZ_CHECK(l.right_order == page->right_order);
	FZ_CHECK(rc == 0 || rc == -EPROTO);
	FZ_CHECK((rc == 0) == layout_ok(l.left_order, l.right_order));
	/* Past the page, or past the last slot, a grant reads as 0. */
	FZ_CHECK(xv_ring_page_grant(page, XV_WIRE_GRANTS_MAX) == 0);
	FZ_CHECK(xv_ring_page_grant(page, UINT32_MAX) == 0);
	if (rc != 0)
		goto out;

	loff = xv_ring_inpage_offset(&l, true);
	roff = xv_ring_inpage_offset(&l, false);
	ngrants = xv_ring_layout_pages(l.left_order) +
		  xv_ring_layout_pages(l.right_order);
	FZ_CHECK(ngrants <= XV_WIRE_GRANTS_MAX);
	if (loff) {
		FZ_CHECK(loff + ring_bytes(l.left_order) <= XV_WIRE_PAGE_SIZE);
		FZ_CHECK(24 + 4 * (size_t)ngrants <= loff);
	}
	if (roff) {
		FZ_CHECK(roff + ring_bytes(l.right_order) <= XV_WIRE_PAGE_SIZE);
		FZ_CHECK(24 + 4 * (size_t)ngrants <= roff);
	}
	if (loff && roff)
		FZ_CHECK(loff + ring_bytes(l.left_order) <= roff ||
			 roff + ring_bytes(l.right_order) <= loff);
	for (i = 0; i < ngrants; i++)
		FZ_CHECK(xv_ring_page_grant(page, i) == page->grants[i]);

	left = loff ? (uint8_t *)page + loff : malloc(ring_bytes(l.left_order));
	right = roff ? (uint8_t *)page + roff :
		       malloc(ring_bytes(l.right_order));
	FZ_CHECK(left && right);
	c0 = page->left.cons;
	p0 = page->left.prod;
	c1 = page->right.cons;
	p1 = page->right.prod;
	rc = xv_ring_endpoint_init(&ep, page, XV_RING_CLIENT, &l, left, right);
	/* The client reads right and writes left. */
	if (p1 - c1 > ring_bytes(l.right_order) ||
	    p0 - c0 > ring_bytes(l.left_order)) {
		FZ_CHECK(rc == -EPROTO);
	} else {
		int64_t r = xv_ring_readable(&ep), w = xv_ring_writable(&ep);

		FZ_CHECK(rc == 0);
		FZ_CHECK(r == (int64_t)(p1 - c1));
		FZ_CHECK(w == (int64_t)(ring_bytes(l.left_order) - (p0 - c0)));
	}
	if (!loff)
		free(left);
	if (!roff)
		free(right);
out:
	free(page);
	return 0;
}
