/*
 * The vchan control page as it sits in shared memory: a C11 mirror of Xen's
 * struct vchan_interface (xen/io/libxenvchan.h), whose `grants[0]` is a GNU
 * extension. Byte for byte the same layout, checked below and against Xen's
 * own header by tests/api/test-wire-abi.c.
 *
 * Every field is written by both domains, one of which we do not trust:
 * access them only through ring/atomic.h, never as plain lvalues.
 */
#ifndef XV_RING_WIRE_H
#define XV_RING_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* One free-running index pair; the ring position is index & (size - 1). */
struct xv_wire_ring_shared {
	uint32_t cons;
	uint32_t prod;
};

struct xv_wire_page {
	/* left: client writes, server reads; right: server writes, client reads */
	struct xv_wire_ring_shared left, right;
	/* log2 of each ring's size; fixed once the page is shared */
	uint16_t left_order, right_order;
	/* XV_WIRE_LIVE_*; the grant drivers' unmap-notify clears them */
	uint8_t cli_live, srv_live;
	/*
	 * The server sets bits in cli_notify to be woken by the client, the
	 * client sets bits in srv_notify to be woken by the server (libxenvchan
	 * io.c request_notify/send_notify).
	 */
	uint8_t cli_notify, srv_notify;
	/* left ring's pages first, then right's; must end before any in-page ring */
	uint32_t grants[];
};

#define XV_WIRE_PAGE_SHIFT	12
#define XV_WIRE_PAGE_SIZE	4096u

#define XV_WIRE_NOTIFY_WRITE	0x01u	/* wake me when data is written */
#define XV_WIRE_NOTIFY_READ	0x02u	/* wake me when data is consumed */
/* The only bits the vchan kick logic may test or clear. */
#define XV_WIRE_NOTIFY_MASK	(XV_WIRE_NOTIFY_WRITE | XV_WIRE_NOTIFY_READ)

/*
 * xvchan's half-close extension, kept in the sender's own request byte
 * (server: cli_notify, client: srv_notify). libxenvchan only ORs in and
 * clears 0x1/0x2 with atomic RMWs, so these bits survive it untouched.
 */
#define XV_WIRE_FLAG_HALF_CLOSE	0x80u	/* I understand half-close */
#define XV_WIRE_FLAG_SHUT_WR	0x40u	/* I will write no more */
#define XV_WIRE_FLAG_MASK	((uint8_t)~XV_WIRE_NOTIFY_MASK)

#define XV_WIRE_LIVE_GONE	0u
#define XV_WIRE_LIVE_CONNECTED	1u
#define XV_WIRE_LIVE_WAITING	2u	/* client has not connected yet */

#define XV_WIRE_ORDER_MIN	10u
#define XV_WIRE_ORDER_MAX	20u
#define XV_WIRE_ORDER_SMALL	10u	/* in-page at XV_WIRE_SMALL_OFFSET */
#define XV_WIRE_ORDER_LARGE	11u	/* in-page at XV_WIRE_LARGE_OFFSET */
#define XV_WIRE_SMALL_OFFSET	1024u
#define XV_WIRE_LARGE_OFFSET	2048u
#define XV_WIRE_RING_MAX	(1u << XV_WIRE_ORDER_MAX)

/* Grant slots that fit in the page at all (in-page rings lower the limit). */
#define XV_WIRE_GRANTS_MAX \
	((XV_WIRE_PAGE_SIZE - offsetof(struct xv_wire_page, grants)) / \
	 sizeof(uint32_t))

_Static_assert(sizeof(struct xv_wire_page) == 24, "vchan_interface size");
_Static_assert(offsetof(struct xv_wire_page, left.cons) == 0, "left.cons");
_Static_assert(offsetof(struct xv_wire_page, left.prod) == 4, "left.prod");
_Static_assert(offsetof(struct xv_wire_page, right.cons) == 8, "right.cons");
_Static_assert(offsetof(struct xv_wire_page, right.prod) == 12, "right.prod");
_Static_assert(offsetof(struct xv_wire_page, left_order) == 16, "left_order");
_Static_assert(offsetof(struct xv_wire_page, right_order) == 18, "right_order");
_Static_assert(offsetof(struct xv_wire_page, cli_live) == 20, "cli_live");
_Static_assert(offsetof(struct xv_wire_page, srv_live) == 21, "srv_live");
_Static_assert(offsetof(struct xv_wire_page, cli_notify) == 22, "cli_notify");
_Static_assert(offsetof(struct xv_wire_page, srv_notify) == 23, "srv_notify");
_Static_assert(offsetof(struct xv_wire_page, grants) == 24, "grants");
/* Two order-20 rings: 2 * 256 grants still fit when no ring is in-page. */
_Static_assert(24 + 2 * 4 * (XV_WIRE_RING_MAX >> XV_WIRE_PAGE_SHIFT) <=
	       XV_WIRE_PAGE_SIZE, "max grant list fits in the page");

#endif
