/* Ring placement: which order goes where, and validation of a peer's page. */
#include <errno.h>
#include <string.h>

#include "atomic.h"
#include "ring.h"

#define XV_SMALL_RING (1u << XV_WIRE_ORDER_SMALL)
#define XV_LARGE_RING (1u << XV_WIRE_ORDER_LARGE)

/* libxenvchan's min_order(): never below a page, so 10/11 only by choice. */
static unsigned int granted_order(size_t size)
{
	unsigned int order = XV_WIRE_PAGE_SHIFT;

	while (size > ((size_t)1 << order))
		order++;
	return order;
}

int xv_ring_layout_choose(size_t read_size, size_t write_size,
			  struct xv_ring_layout *out)
{
	if (read_size == 0 || write_size == 0 ||
	    read_size > XV_WIRE_RING_MAX || write_size > XV_WIRE_RING_MAX)
		return -EINVAL;

	out->left_order = granted_order(read_size);
	out->right_order = granted_order(write_size);
	/* Same preference order as libxenvchan_server_init(): saves pages. */
	if (read_size <= XV_SMALL_RING && write_size <= XV_LARGE_RING) {
		out->left_order = XV_WIRE_ORDER_SMALL;
		out->right_order = XV_WIRE_ORDER_LARGE;
	} else if (read_size <= XV_LARGE_RING && write_size <= XV_SMALL_RING) {
		out->left_order = XV_WIRE_ORDER_LARGE;
		out->right_order = XV_WIRE_ORDER_SMALL;
	} else if (read_size <= XV_LARGE_RING) {
		out->left_order = XV_WIRE_ORDER_LARGE;
	} else if (write_size <= XV_LARGE_RING) {
		out->right_order = XV_WIRE_ORDER_LARGE;
	}
	return 0;
}

unsigned int xv_ring_layout_pages(unsigned int order)
{
	if (order < XV_WIRE_PAGE_SHIFT)
		return 0;
	return 1u << (order - XV_WIRE_PAGE_SHIFT);
}

static size_t order_offset(unsigned int order)
{
	if (order == XV_WIRE_ORDER_SMALL)
		return XV_WIRE_SMALL_OFFSET;
	if (order == XV_WIRE_ORDER_LARGE)
		return XV_WIRE_LARGE_OFFSET;
	return 0;
}

/*
 * The slot depends only on the order (libxenvchan init.c and ocaml-vchan
 * location.ml agree); the check below guarantees the two never share one.
 */
size_t xv_ring_inpage_offset(const struct xv_ring_layout *l, bool left)
{
	return order_offset(left ? l->left_order : l->right_order);
}

int xv_ring_layout_check(const struct xv_ring_layout *l)
{
	size_t grants_end, limit = XV_WIRE_PAGE_SIZE;
	size_t left_off, right_off;

	if (l->left_order < XV_WIRE_ORDER_MIN ||
	    l->left_order > XV_WIRE_ORDER_MAX ||
	    l->right_order < XV_WIRE_ORDER_MIN ||
	    l->right_order > XV_WIRE_ORDER_MAX)
		return -EPROTO;

	left_off = order_offset(l->left_order);
	right_off = order_offset(l->right_order);
	if (left_off != 0 && left_off == right_off)
		return -EPROTO;
	if (left_off != 0 && left_off < limit)
		limit = left_off;
	if (right_off != 0 && right_off < limit)
		limit = right_off;

	/*
	 * Xen's header: the grant list "must not extend into actual ring".
	 * Only order 10 + order 20 can break it (256 grants end at 1048);
	 * ocaml-vchan can produce that pair, libxenvchan cannot.
	 */
	grants_end = offsetof(struct xv_wire_page, grants) +
		     sizeof(uint32_t) * ((size_t)xv_ring_layout_pages(l->left_order) +
					 xv_ring_layout_pages(l->right_order));
	if (grants_end > limit)
		return -EPROTO;
	return 0;
}

void xv_ring_page_init_server(struct xv_wire_page *page,
			      const struct xv_ring_layout *l,
			      uint8_t cli_notify_extra)
{
	/* Not shared yet: the peer learns of the page only through xenstore. */
	memset(page, 0, XV_WIRE_PAGE_SIZE);
	xv_atomic_store_relaxed_u16(&page->left_order, (uint16_t)l->left_order);
	xv_atomic_store_relaxed_u16(&page->right_order,
				    (uint16_t)l->right_order);
	xv_atomic_store_relaxed_u8(&page->cli_live, XV_WIRE_LIVE_WAITING);
	xv_atomic_store_relaxed_u8(&page->srv_live, XV_WIRE_LIVE_CONNECTED);
	/* libxenvchan's server asks for a kick on the client's first write. */
	xv_atomic_store_relaxed_u8(&page->cli_notify,
				   (uint8_t)(XV_WIRE_NOTIFY_WRITE |
					     cli_notify_extra));
}

int xv_ring_page_read_layout(const struct xv_wire_page *page,
			     struct xv_ring_layout *l)
{
	/* Read once: the peer may rewrite the orders after we checked them. */
	l->left_order = xv_atomic_load_relaxed_u16(&page->left_order);
	l->right_order = xv_atomic_load_relaxed_u16(&page->right_order);
	return xv_ring_layout_check(l);
}

uint32_t xv_ring_page_grant(const struct xv_wire_page *page, unsigned int i)
{
	if (i >= XV_WIRE_GRANTS_MAX)
		return 0;
	return xv_atomic_load_relaxed_u32(&page->grants[i]);
}

void xv_ring_page_set_grant(struct xv_wire_page *page, unsigned int i,
			    uint32_t ref)
{
	if (i >= XV_WIRE_GRANTS_MAX)
		return;
	xv_atomic_store_relaxed_u32(&page->grants[i], ref);
}
