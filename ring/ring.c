/*
 * The data path: index checks, copies across the wrap, notify handshake.
 *
 * Its helpers are static inline: one send or receive of a small message
 * runs most of them, and with link-time optimisation the whole call then
 * folds into flow/'s xvchan_write() or xvchan_read() around one memcpy
 * (docs/performance.md, "What each optimisation bought").
 */
#include <errno.h>
#include <string.h>

#include "atomic.h"
#include "ring.h"

static int64_t ring_break(struct xv_ring_endpoint *ep)
{
	xv_atomic_store_relaxed_int(&ep->broken, -EPROTO);
	return -EPROTO;
}

/* 0, or the sticky -EPROTO the other direction may have just set. */
static int ring_broken(const struct xv_ring_endpoint *ep)
{
	return xv_atomic_load_relaxed_int(&ep->broken);
}

void xv_ring_mark_broken(struct xv_ring_endpoint *ep)
{
	ring_break(ep);
}

int xv_ring_broken(const struct xv_ring_endpoint *ep)
{
	return ring_broken(ep);
}

/*
 * Bytes readable in rx. The peer's prod is loaded once and must lie in
 * [last prod seen, cons + size]: anything else is a lie (too much data,
 * prod behind cons, or prod moving backwards) and breaks the endpoint.
 *
 * A caller that needs only @want bytes is served from the last prod seen
 * when that covers them: that value was acquired and checked when it was
 * loaded (C1 still holds for every byte below it), and skipping the load
 * spares a transfer of the cache line that holds both indices, which the
 * peer writes on each of its calls. Our release of cons must take the line
 * anyway; a load before it would make that two coherence round trips per
 * call instead of one (docs/performance.md).
 */
static inline int64_t rx_avail(struct xv_ring_endpoint *ep, uint32_t want)
{
	struct xv_ring *r = &ep->rx;
	uint32_t prod, avail;

	if (ring_broken(ep))
		return -EPROTO;
	avail = r->peer_seen - r->own_shadow;
	if (want && avail >= want)
		return avail;
	/* C1: the bytes up to prod are visible /after/ this; pairs with P1 */
	prod = xv_atomic_load_acquire_u32(r->peer_index);
	avail = prod - r->own_shadow;
	if (avail > r->size || avail < r->peer_seen - r->own_shadow)
		return ring_break(ep);
	r->peer_seen = prod;
	return avail;
}

/*
 * Free bytes in tx; the peer's cons must lie in [last cons seen, prod].
 * As rx_avail(): @want bytes known free from the last cons seen (acquired
 * and checked then, so P2 holds for them) need no new load.
 */
static inline int64_t tx_space(struct xv_ring_endpoint *ep, uint32_t want)
{
	struct xv_ring *r = &ep->tx;
	uint32_t cons, used;

	if (ring_broken(ep))
		return -EPROTO;
	used = r->own_shadow - r->peer_seen;
	if (want && r->size - used >= want)
		return r->size - used;
	/* P2: the peer is done reading up to cons /before/ we overwrite it;
	 * pairs with C2 */
	cons = xv_atomic_load_acquire_u32(r->peer_index);
	used = r->own_shadow - cons;
	if (used > r->size || used > r->own_shadow - r->peer_seen)
		return ring_break(ep);
	r->peer_seen = cons;
	return r->size - used;
}

/* What a request of @len bytes needs from rx_avail() / tx_space(): more
 * than the ring holds can never be served from a cached index. */
static inline uint32_t want_of(const struct xv_ring *r, size_t len)
{
	return len < r->size ? (uint32_t)len : r->size;
}

/* Up to two segments of n bytes starting at index from. */
static inline void ring_segs(const struct xv_ring *r, uint32_t from,
			     uint32_t n, struct xv_ring_segs *s)
{
	uint32_t off = from & (r->size - 1);
	uint32_t first = r->size - off < n ? r->size - off : n;

	s->ptr[0] = r->data + off;
	s->len[0] = first;
	s->ptr[1] = r->data;
	s->len[1] = n - first;
}

static inline void copy_out(const struct xv_ring *r, void *buf, uint32_t n)
{
	struct xv_ring_segs s;

	ring_segs(r, r->own_shadow, n, &s);
	memcpy(buf, s.ptr[0], s.len[0]);
	if (s.len[1])
		memcpy((uint8_t *)buf + s.len[0], s.ptr[1], s.len[1]);
}

/* Copy n bytes to tx at own_shadow + at; caller checked the space. */
static inline void copy_in(struct xv_ring *r, uint32_t at,
			   const void *buf, uint32_t n)
{
	struct xv_ring_segs s;

	ring_segs(r, r->own_shadow + at, n, &s);
	memcpy(s.ptr[0], buf, s.len[0]);
	if (s.len[1])
		memcpy(s.ptr[1], (const uint8_t *)buf + s.len[0], s.len[1]);
}

/*
 * N2: our just-published index is visible /before/ we look at the peer's
 * request; pairs with N1 in arm(). The plain load keeps the atomic RMW off
 * the fast path: the bit is only ever set by the peer and cleared by us.
 */
static inline bool take_kick(struct xv_ring_endpoint *ep, uint8_t bit)
{
	xv_atomic_fence_full();
	if (!(xv_atomic_load_relaxed_u8(ep->kick_byte) & bit))
		return false;
	/* Clear only the notify bit: the peer's flag bits must survive. */
	return (xv_atomic_fetch_and_u8(ep->kick_byte, (uint8_t)~bit) & bit) != 0;
}

static inline bool tx_publish(struct xv_ring_endpoint *ep, uint32_t n)
{
	uint32_t prod = ep->tx.own_shadow + n;

	/* Atomic only for xv_ring_sent() in a reader thread; the writer is
	 * its only writer, and reads its own value plainly. */
	xv_atomic_store_relaxed_u32(&ep->tx.own_shadow, prod);
	/* P1: the data copied in is visible /before/ the new prod; pairs
	 * with C1 */
	xv_atomic_store_release_u32(ep->tx.own_index, prod);
	return take_kick(ep, XV_WIRE_NOTIFY_WRITE);
}

/* Store the consumed bytes' cons, if any are unpublished, and test the
 * writer's request (N2). */
static bool rx_flush(struct xv_ring_endpoint *ep)
{
	struct xv_ring *r = &ep->rx;

	if (r->own_published == r->own_shadow)
		return false;
	r->own_published = r->own_shadow;
	/* C2: our copy-out is complete /before/ the peer sees the new cons;
	 * pairs with P2 */
	xv_atomic_store_release_u32(r->own_index, r->own_shadow);
	return take_kick(ep, XV_WIRE_NOTIFY_READ);
}

/*
 * Consume @n bytes; publish once a batch is pending (ring.h, "freed room
 * goes back in batches"): a quarter ring hides at most that from the
 * writer and stores cons at most four times a lap (measured against
 * per-read stores in docs/performance.md), capped for large rings at
 * XV_RING_CONS_BATCH_MAX.
 */
static inline bool rx_publish(struct xv_ring_endpoint *ep, uint32_t n)
{
	struct xv_ring *r = &ep->rx;

	r->own_shadow += n;
	if (r->own_shadow - r->own_published < xv_ring_cons_batch(r->size))
		return false;
	return rx_flush(ep);
}

/*
 * The writer asked for room (NOTIFY_READ in its request byte) and we hold
 * some back. A hint, loaded relaxed: a bit set just now may be missed
 * here, never for good. The caller looks again (a spinning reader), or
 * arms for data, which publishes anyway and whose N1/N2 fences settle the
 * race.
 */
static bool rx_room_wanted(const struct xv_ring_endpoint *ep)
{
	return ep->rx.own_published != ep->rx.own_shadow &&
	       (xv_atomic_load_relaxed_u8(ep->kick_byte) & XV_WIRE_NOTIFY_READ);
}

bool xv_ring_room_wanted(const struct xv_ring_endpoint *ep)
{
	return !ring_broken(ep) && rx_room_wanted(ep);
}

uint32_t xv_ring_sent(const struct xv_ring_endpoint *ep)
{
	return xv_atomic_load_relaxed_u32(&ep->tx.own_shadow);
}

bool xv_ring_flush_consumed(struct xv_ring_endpoint *ep)
{
	if (ring_broken(ep))
		return false;
	return rx_flush(ep);
}

static void ring_bind(struct xv_ring *r, struct xv_wire_ring_shared *shr,
		      bool reader, void *data, unsigned int order)
{
	r->peer_index = reader ? &shr->prod : &shr->cons;
	r->own_index = reader ? &shr->cons : &shr->prod;
	r->data = data;
	r->size = 1u << order;
}

int xv_ring_endpoint_init(struct xv_ring_endpoint *ep,
			  struct xv_wire_page *page, enum xv_ring_role role,
			  const struct xv_ring_layout *l,
			  void *left_data, void *right_data)
{
	bool server = role == XV_RING_SERVER;

	if (xv_ring_layout_check(l) != 0)
		return -EINVAL;

	ep->broken = 0;
	if (server) {
		ring_bind(&ep->rx, &page->left, true, left_data, l->left_order);
		ring_bind(&ep->tx, &page->right, false, right_data,
			  l->right_order);
		ep->own_live = &page->srv_live;
		ep->peer_live = &page->cli_live;
		ep->arm_byte = &page->cli_notify;
		ep->kick_byte = &page->srv_notify;
	} else {
		ring_bind(&ep->rx, &page->right, true, right_data,
			  l->right_order);
		ring_bind(&ep->tx, &page->left, false, left_data,
			  l->left_order);
		ep->own_live = &page->cli_live;
		ep->peer_live = &page->srv_live;
		ep->arm_byte = &page->srv_notify;
		ep->kick_byte = &page->cli_notify;
	}

	/*
	 * Our own indices are read here once and then only ever come from
	 * the shadows. The peer indices are acquired as in C1/P2, so data
	 * already in the ring is visible.
	 */
	ep->rx.own_shadow = xv_atomic_load_relaxed_u32(ep->rx.own_index);
	ep->rx.own_published = ep->rx.own_shadow;
	ep->rx.peer_seen = xv_atomic_load_acquire_u32(ep->rx.peer_index);
	ep->tx.own_shadow = xv_atomic_load_relaxed_u32(ep->tx.own_index);
	ep->tx.peer_seen = xv_atomic_load_acquire_u32(ep->tx.peer_index);
	if (ep->rx.peer_seen - ep->rx.own_shadow > ep->rx.size ||
	    ep->tx.own_shadow - ep->tx.peer_seen > ep->tx.size)
		return (int)ring_break(ep);
	return 0;
}

int xv_ring_client_connect(struct xv_ring_endpoint *ep, uint8_t extra_flags)
{
	/* Relaxed: the value is only compared. Two clients cannot both get
	 * this far, for only one can bind the server's port. */
	if (xv_atomic_load_relaxed_u8(ep->own_live) != XV_WIRE_LIVE_WAITING)
		return -ECONNREFUSED;
	/*
	 * libxenvchan's order: live first, then ask for the first write.
	 * Release: anything we set up /before/ is visible to the server's
	 * acquire in xv_ring_peer_live().
	 */
	xv_atomic_store_release_u8(ep->own_live, XV_WIRE_LIVE_CONNECTED);
	xv_atomic_fetch_or_u8(ep->arm_byte,
			      (uint8_t)(XV_WIRE_NOTIFY_WRITE | extra_flags));
	return 0;
}

int64_t xv_ring_readable(struct xv_ring_endpoint *ep)
{
	return rx_avail(ep, 0);
}

int64_t xv_ring_writable(struct xv_ring_endpoint *ep)
{
	return tx_space(ep, 0);
}

int64_t xv_ring_recv(struct xv_ring_endpoint *ep, void *buf, size_t len,
		     bool *kick)
{
	int64_t avail = rx_avail(ep, want_of(&ep->rx, len));
	uint32_t n;

	*kick = false;
	/* Found empty (avail 0 comes only from a fresh load of prod): a
	 * writer that asked for room may be waiting for what we hold back.
	 * One that did not has all but a batch of the ring or more: the
	 * store would only pull the line from it, once per message for a
	 * reader that keeps up. */
	if (avail == 0 && len) {
		if (rx_room_wanted(ep))
			*kick = rx_flush(ep);
		return 0;
	}
	if (avail < 0)
		return avail;
	n = (uint32_t)((size_t)avail < len ? (size_t)avail : len);
	if (n == 0)
		return 0;
	copy_out(&ep->rx, buf, n);
	*kick = rx_publish(ep, n);
	return n;
}

int64_t xv_ring_send(struct xv_ring_endpoint *ep, const void *buf, size_t len,
		     bool *kick)
{
	int64_t space = tx_space(ep, want_of(&ep->tx, len));
	uint32_t n;

	*kick = false;
	if (space <= 0)
		return space;
	n = (uint32_t)((size_t)space < len ? (size_t)space : len);
	if (n == 0)
		return 0;
	copy_in(&ep->tx, 0, buf, n);
	*kick = tx_publish(ep, n);
	return n;
}

int64_t xv_ring_sendv(struct xv_ring_endpoint *ep,
		      const struct xv_ring_iov *iov, unsigned int iovcnt,
		      bool *kick)
{
	size_t total = 0;
	int64_t space;
	uint32_t done = 0;

	/* Capped per element, so the sum cannot wrap. */
	for (unsigned int i = 0; i < iovcnt && total < ep->tx.size; i++)
		total += iov[i].len < ep->tx.size ? iov[i].len : ep->tx.size;
	space = tx_space(ep, want_of(&ep->tx, total));
	*kick = false;
	if (space <= 0)
		return space;
	for (unsigned int i = 0; i < iovcnt && done < (uint32_t)space; i++) {
		uint32_t left = (uint32_t)space - done;
		uint32_t n = (uint32_t)(iov[i].len < left ? iov[i].len : left);

		/* An empty element may carry a NULL base: no memcpy on it. */
		if (n == 0)
			continue;
		copy_in(&ep->tx, done, iov[i].base, n);
		done += n;
	}
	if (done == 0)
		return 0;
	*kick = tx_publish(ep, done);
	return done;
}

int64_t xv_ring_reserve(struct xv_ring_endpoint *ep, struct xv_ring_segs *s)
{
	int64_t space = tx_space(ep, 0);

	if (space < 0)
		return space;
	ring_segs(&ep->tx, ep->tx.own_shadow, (uint32_t)space, s);
	return space;
}

int xv_ring_commit(struct xv_ring_endpoint *ep, uint32_t n, bool *kick)
{
	struct xv_ring *r = &ep->tx;

	*kick = false;
	if (ring_broken(ep))
		return -EPROTO;
	/* Bounded by what reserve() could have shown: cons only grows. */
	if (n > r->size - (r->own_shadow - r->peer_seen))
		return -EINVAL;
	if (n == 0)
		return 0;
	*kick = tx_publish(ep, n);
	return 0;
}

int64_t xv_ring_peek(struct xv_ring_endpoint *ep, struct xv_ring_segs *s)
{
	int64_t avail = rx_avail(ep, 0);

	if (avail < 0)
		return avail;
	ring_segs(&ep->rx, ep->rx.own_shadow, (uint32_t)avail, s);
	return avail;
}

int xv_ring_consume(struct xv_ring_endpoint *ep, uint32_t n, bool *kick)
{
	struct xv_ring *r = &ep->rx;

	*kick = false;
	if (ring_broken(ep))
		return -EPROTO;
	if (n > r->peer_seen - r->own_shadow)
		return -EINVAL;
	if (n == 0)
		return 0;
	*kick = rx_publish(ep, n);
	return 0;
}

/*
 * N1: our request bit is visible /before/ we re-read the peer's index;
 * pairs with N2 in take_kick(). Either we see the peer's new index here, or
 * the peer's N2 sees our bit and kicks.
 */
static void arm(struct xv_ring_endpoint *ep, uint8_t bit)
{
	xv_atomic_fetch_or_u8(ep->arm_byte, bit);
	xv_atomic_fence_full();
}

int64_t xv_ring_arm_readable(struct xv_ring_endpoint *ep, bool *kick)
{
	*kick = false;
	if (ring_broken(ep))
		return -EPROTO;
	*kick = rx_flush(ep);
	arm(ep, XV_WIRE_NOTIFY_WRITE);
	return rx_avail(ep, 0);
}

int64_t xv_ring_arm_writable(struct xv_ring_endpoint *ep)
{
	if (ring_broken(ep))
		return -EPROTO;
	arm(ep, XV_WIRE_NOTIFY_READ);
	return tx_space(ep, 0);
}

uint8_t xv_ring_peer_live(const struct xv_ring_endpoint *ep)
{
	/* Pairs with the peer's release of its live byte after its last P1. */
	return xv_atomic_load_acquire_u8(ep->peer_live);
}

void xv_ring_set_own_live(struct xv_ring_endpoint *ep, uint8_t v)
{
	/* Our last P1/C2 is visible /before/ the peer sees us leave; pairs
	 * with the acquire in the peer's xv_ring_peer_live(). */
	xv_atomic_store_release_u8(ep->own_live, v);
}

void xv_ring_set_flags(struct xv_ring_endpoint *ep, uint8_t bits)
{
	/* The RMW is seq_cst, hence release: our last P1 is visible /before/
	 * XV_WIRE_FLAG_SHUT_WR; pairs with the acquire in peer_flags(). */
	xv_atomic_fetch_or_u8(ep->arm_byte, (uint8_t)(bits & XV_WIRE_FLAG_MASK));
}

uint8_t xv_ring_peer_flags(const struct xv_ring_endpoint *ep)
{
	/* Pairs with the release in the peer's set_flags(). */
	return (uint8_t)(xv_atomic_load_acquire_u8(ep->kick_byte) &
			 XV_WIRE_FLAG_MASK);
}
