/*
 * xvchan rings: two byte streams in memory shared with another domain.
 *
 * THEORY OF OPERATION
 *
 * The server allocates one control page (struct xv_wire_page, ring/wire.h)
 * and two data rings. A ring of order 10 or 11 lives inside the control page
 * at offset 1024 or 2048; a ring of order 12..20 lives in 2^(order-12)
 * separately granted pages whose grant references are listed in grants[],
 * left ring first. The left ring carries client->server bytes, the right ring
 * server->client bytes. Each ring has a free-running 32-bit `prod` (advanced
 * only by its writer) and `cons` (advanced only by its reader); the bytes in
 * flight are prod - cons (mod 2^32), never more than the ring size, and the
 * byte at index i sits at data[i & (size - 1)].
 *
 * A side that wants to sleep sets a bit in its REQUEST byte ("arm byte"):
 * NOTIFY_WRITE to be woken when data arrives, NOTIFY_READ to be woken when
 * space is freed. The server's request byte is cli_notify, the client's is
 * srv_notify. The acting side, after publishing an index, clears the bit in
 * the peer's request byte (its "kick byte") and, if it was set, tells its
 * caller to send one event. Higher bits of the request byte carry xvchan's
 * half-close flags (XV_WIRE_FLAG_*); the kick logic never touches them.
 *
 * `*_live`: 0 gone, 1 connected, 2 client not yet connected. The grant
 * drivers clear a dying side's live byte and raise the event (unmap-notify).
 *
 * FREED ROOM GOES BACK IN BATCHES. The reader does not publish cons after
 * every read: it keeps what it consumed in its shadow and stores cons once
 * a batch has piled up (a quarter ring, at most XV_RING_CONS_BATCH_MAX:
 * xv_ring_cons_batch()), when a read finds the ring empty while the
 * writer has asked for room (NOTIFY_READ), when it arms for data (before
 * sleeping), and on xv_ring_flush_consumed() (before a close, and before
 * flow/'s writer sleeps for room). Every cons
 * store still follows C2 and is followed by the N2 test of the writer's
 * request. The index line is written by the writer on every send; a
 * reader that writes it too on every read pulls it back and forth once
 * per message each way, which is what bounds small messages
 * (docs/performance.md). This is TCP's receiver-side silly-window
 * avoidance (RFC 1122, 4.2.3.3), with the same visible effect: room the
 * reader's caller has taken but that is not yet published (under a
 * batch) stays invisible to the writer, just as if those reads had not
 * happened yet. A writer that asked for room gets it back from a reader
 * that keeps reading, within a batch or at its next look at an empty
 * ring; both stores kick it (a caller must send that kick even when recv
 * returns 0).
 *
 * Threads: the receive calls (recv, peek, consume, readable, arm_readable,
 * room_wanted, flush_consumed) touch only rx state and the send calls
 * only tx state, so one thread may receive while another sends on the
 * same endpoint; two threads on the same direction need the caller's
 * lock. sent reads the tx count from either thread. A bit left armed
 * after a sleeper gave up waiting only costs the peer one spurious kick.
 *
 * This layer is pure: no system calls, no allocation, no I/O. It decides
 * ("the peer needs a kick", "the peer broke the protocol") and flow/ acts.
 *
 * THE PEER IS HOSTILE. Every index, order and grant it can write is loaded
 * exactly once into a local, checked, and only the local is used. An
 * impossible index (more in flight than the ring holds, or a peer index that
 * moves backwards) makes the endpoint broken: every later call returns
 * -EPROTO. Our own indices are kept in shadows and never re-read, so a peer
 * scribbling on them cannot move our position. Copies are bounded by the
 * local size, so no peer value can make us touch memory outside the rings.
 *
 * ORDERING CONTRACT (every barrier in ring/ cites its label and partner)
 *
 * | label | side     | operation                                   | pairs |
 * |-------|----------|---------------------------------------------|-------|
 * | P1    | producer | copy data in, then release-store tx prod    | C1    |
 * | C1    | consumer | acquire-load rx prod once, then copy out    | P1    |
 * | C2    | consumer | copy out, then release-store rx cons        | P2    |
 * | P2    | producer | acquire-load tx cons once, then overwrite   | C2    |
 * | N1    | sleeper  | set arm bit, full fence, re-read the index  | N2    |
 * | N2    | actor    | publish index, full fence, test+clear bit   | N1    |
 *
 * P1/C1: the consumer sees the bytes /before/ the new prod.
 * C2/P2: the producer cannot overwrite bytes /before/ the consumer is done.
 * N1/N2 is the store-buffer pattern: the sleeper stores its bit then loads
 * the index; the actor stores the index then loads the bit. With a full
 * fence between each store and load, at least one of them sees the other's
 * store: either the sleeper sees the new index and does not sleep, or the
 * actor sees the bit and kicks. Without the fences both loads can read stale
 * values and the sleeper waits forever (the lost wake-up). See also the
 * TLA+ model in talex5/spec-vchan.
 */
#ifndef XV_RING_RING_H
#define XV_RING_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/*
 * The batch's ceiling. A writer asleep for room is woken by the store that
 * ends a batch, so where both sides sleep in turn each cycle waits for the
 * reader to read a whole batch before the writer's wake-up even begins: a
 * quarter of a 1 MiB ring (256 KiB, some 25 us of copying) was that much
 * more per cycle than libxenvchan, which stores after every read. 16 KiB,
 * the quarter of the 64 KiB ring whose small messages the batching was
 * measured on, keeps a store per 256 messages of 64 bytes
 * (docs/performance.md, "Batched cons").
 */
#define XV_RING_CONS_BATCH_MAX ((uint32_t)16 << 10)

/* Freed room a reader of a @size-byte ring holds back at most: a quarter
 * ring, at most XV_RING_CONS_BATCH_MAX. */
static inline uint32_t xv_ring_cons_batch(uint32_t size)
{
	return size / 4 < XV_RING_CONS_BATCH_MAX ? size / 4 :
						   XV_RING_CONS_BATCH_MAX;
}

/* Ring orders of one connection, fixed for its life. */
struct xv_ring_layout {
	unsigned int left_order;	/* client -> server, 10..20 */
	unsigned int right_order;	/* server -> client, 10..20 */
};

/**
 * Choose ring orders as libxenvchan's server does, so an xvchan server looks
 * like a libxenvchan one: each size rounds up to a granted order >= 12,
 * except that the in-page slots are used when they fit (left 10 + right 11,
 * or left 11 + right 10, or one side 11 alone).
 * @param read_size  server's receive ring (left) in bytes, 1..1 MiB
 * @param write_size server's send ring (right) in bytes, 1..1 MiB
 * @param out        the chosen orders
 * @return 0, or -EINVAL if a size is 0 or above 1 MiB
 */
int xv_ring_layout_choose(size_t read_size, size_t write_size,
			  struct xv_ring_layout *out);

/**
 * @return the number of granted pages a ring of @order uses: 0 for the
 * in-page orders 10 and 11, 2^(order-12) otherwise
 */
unsigned int xv_ring_layout_pages(unsigned int order);

/**
 * @param l    a checked layout
 * @param left true for the left ring, false for the right
 * @return the ring's offset in the control page (1024 for order 10, 2048
 * for order 11, as libxenvchan places them), or 0 when it is granted
 */
size_t xv_ring_inpage_offset(const struct xv_ring_layout *l, bool left);

/**
 * Validate orders found in a (hostile) page: each in 10..20, not both in the
 * same in-page slot, and the grant list (24 + 4 bytes per granted page)
 * ending before the first in-page ring in use, or the page end (Xen's
 * header: "must not extend into actual ring").
 * @return 0, or -EPROTO
 */
int xv_ring_layout_check(const struct xv_ring_layout *l);

/**
 * Server: zero the whole control page, write the orders, cli_live = WAITING,
 * srv_live = CONNECTED, cli_notify = NOTIFY_WRITE | @cli_notify_extra (as
 * libxenvchan, plus our half-close flags). All indices 0. Call before the
 * grant reference is published in xenstore: until then no peer can map the
 * page. Grants are written afterwards with xv_ring_page_set_grant().
 */
void xv_ring_page_init_server(struct xv_wire_page *page,
			      const struct xv_ring_layout *l,
			      uint8_t cli_notify_extra);

/**
 * Client: read both orders ONCE into @l and check them.
 * @return 0, or -EPROTO (then @l holds the rejected values)
 */
int xv_ring_page_read_layout(const struct xv_wire_page *page,
			     struct xv_ring_layout *l);

/**
 * Read grant @i once. The caller bounds @i by the checked layout
 * (xv_ring_layout_pages(left) + xv_ring_layout_pages(right)).
 * @return the grant reference, or 0 (never a valid grant) when @i is not a
 * slot inside the page at all
 */
uint32_t xv_ring_page_grant(const struct xv_wire_page *page, unsigned int i);

/* Server: store grant @i (ignored when @i is outside the page). */
void xv_ring_page_set_grant(struct xv_wire_page *page, unsigned int i,
			    uint32_t ref);

enum xv_ring_role { XV_RING_SERVER, XV_RING_CLIENT };

/* One direction as this side sees it. Only ring.c touches the fields. */
struct xv_ring {
	uint32_t *peer_index;	/* shared: the index the peer advances */
	uint32_t *own_index;	/* shared: the index we advance, store only */
	uint32_t own_shadow;	/* our index; never re-read from shared memory */
	uint32_t own_published;	/* rx: the cons last stored (batched) */
	uint32_t peer_seen;	/* last checked peer index: it may only grow */
	uint8_t *data;		/* rx data is never written by ring/ */
	uint32_t size;		/* power of two, 1024..1 MiB */
};

struct xv_ring_endpoint {
	struct xv_ring rx, tx;
	uint8_t *own_live, *peer_live;
	uint8_t *arm_byte;	/* our request byte: peer tests it when acting */
	uint8_t *kick_byte;	/* peer's request byte: we test it after acting */
	int broken;		/* 0, or sticky -EPROTO */
};

/**
 * Bind @ep to a mapped control page and the two data areas (for an in-page
 * ring pass page + xv_ring_inpage_offset()). Reads the current shared
 * indices ONCE into the shadows; a client joining a server page takes them
 * as found.
 * @param l a layout already checked by xv_ring_layout_check()
 * @return 0, -EINVAL if @l does not pass the check, -EPROTO if an index
 * pair found in the page has prod - cons > size
 */
int xv_ring_endpoint_init(struct xv_ring_endpoint *ep,
			  struct xv_wire_page *page, enum xv_ring_role role,
			  const struct xv_ring_layout *l,
			  void *left_data, void *right_data);

/**
 * Client connect, in libxenvchan's order: cli_live = CONNECTED (release),
 * then srv_notify |= NOTIFY_WRITE | @extra_flags. The caller then sends
 * one event. -ECONNREFUSED, with nothing written, unless cli_live still
 * says WAITING: a client was here before us (connected, or gone and its
 * port left for the taking), and the indices are its stream, not ours.
 */
int xv_ring_client_connect(struct xv_ring_endpoint *ep, uint8_t extra_flags);

/**
 * Break the endpoint for good: the caller saw a lie the ring cannot see
 * itself (e.g. a live byte no state allows). Every later ring call returns
 * -EPROTO, whichever thread makes it.
 */
void xv_ring_mark_broken(struct xv_ring_endpoint *ep);

/** 0, or the sticky -EPROTO once the endpoint is broken. */
int xv_ring_broken(const struct xv_ring_endpoint *ep);

/**
 * @return bytes readable / writable now, or -EPROTO if the peer's index is
 * impossible (then the endpoint is broken for good)
 */
int64_t xv_ring_readable(struct xv_ring_endpoint *ep);
int64_t xv_ring_writable(struct xv_ring_endpoint *ep);

/**
 * Copy up to @len bytes out of rx / into tx, in at most two memcpy. send
 * publishes prod at once; recv publishes cons in batches (above), and a
 * recv that finds the ring empty publishes whatever was consumed before it
 * if the writer has asked for room.
 * @param kick assigned on every return: true when the peer asked to be woken
 * and the caller must send one event (also on a recv that returns 0)
 * @return bytes moved (0 when empty / full or @len is 0), or -EPROTO
 */
int64_t xv_ring_recv(struct xv_ring_endpoint *ep, void *buf, size_t len,
		     bool *kick);
int64_t xv_ring_send(struct xv_ring_endpoint *ep, const void *buf, size_t len,
		     bool *kick);

/*
 * Gather element. Our own type rather than struct iovec keeps ring/ within
 * C11 (no <sys/uio.h>); flow/ converts from the caller's iovec.
 */
struct xv_ring_iov {
	const void *base;
	size_t len;
};

/**
 * Gather as many bytes as fit from @iov[0..@iovcnt) into tx with one index
 * publish and one kick decision.
 * @return bytes moved, or -EPROTO
 */
int64_t xv_ring_sendv(struct xv_ring_endpoint *ep,
		      const struct xv_ring_iov *iov, unsigned int iovcnt,
		      bool *kick);

/* Zero-copy view of free space or readable data; len[1] is 0 if unwrapped. */
struct xv_ring_segs {
	uint8_t *ptr[2];
	uint32_t len[2];
};

/**
 * Free space in tx as up to two segments the caller may fill.
 * @return total free bytes (len[0] + len[1]), or -EPROTO
 */
int64_t xv_ring_reserve(struct xv_ring_endpoint *ep, struct xv_ring_segs *s);

/**
 * Publish @n bytes written into the last reserve().
 * @return 0, -EINVAL if @n exceeds the free space last observed, -EPROTO
 */
int xv_ring_commit(struct xv_ring_endpoint *ep, uint32_t n, bool *kick);

/**
 * Readable data in rx as up to two segments. The peer can overwrite them at
 * will (it is hostile): copy before trusting the contents.
 * @return total readable bytes, or -EPROTO
 */
int64_t xv_ring_peek(struct xv_ring_endpoint *ep, struct xv_ring_segs *s);

/**
 * Release @n bytes at the head of rx; cons is published in batches, as
 * for recv.
 * @return 0, -EINVAL if @n exceeds the data last observed, -EPROTO
 */
int xv_ring_consume(struct xv_ring_endpoint *ep, uint32_t n, bool *kick);

/**
 * Publish every byte consumed so far (a no-op when all are), then ask to
 * be woken when rx gets data (N1: NOTIFY_WRITE in the arm byte, full
 * fence) and re-check. A reader going to sleep holds back no room. Sleep
 * only if this returns 0 and the peer is live.
 * @param kick as for recv: the publish found the writer waiting for room
 * @return bytes readable after arming, or -EPROTO
 */
int64_t xv_ring_arm_readable(struct xv_ring_endpoint *ep, bool *kick);

/**
 * For a reader that polls readable() while it waits: true when the writer
 * has asked for room (NOTIFY_READ) and some is held back, i.e. when a
 * recv would publish. Relaxed, a hint: asked again on every poll, it sees
 * a new request sooner or later; arming settles it for good.
 */
bool xv_ring_room_wanted(const struct xv_ring_endpoint *ep);

/**
 * Bytes sent so far on tx (mod 2^32): our own count, never the shared
 * index. Safe to call from the reader's thread while another sends (it
 * then sees some recent value), e.g. to notice that nothing was sent
 * between two reads.
 */
uint32_t xv_ring_sent(const struct xv_ring_endpoint *ep);

/**
 * Publish every byte consumed so far, e.g. before the reader leaves: a
 * writer that checks the reader took everything before it went (flow/'s
 * write path does) must see it all.
 * @return true when the writer asked to be woken and the caller must send
 * one event; false when nothing was pending or the endpoint is broken
 */
bool xv_ring_flush_consumed(struct xv_ring_endpoint *ep);

/**
 * N1: ask to be woken when tx gets space (NOTIFY_READ), fence, re-check.
 * @return bytes writable after arming, or -EPROTO
 */
int64_t xv_ring_arm_writable(struct xv_ring_endpoint *ep);

/**
 * Peer's live byte, read once with acquire: pairs with the peer's release
 * store of its live byte after its last prod publish, so a caller that sees
 * GONE and then re-checks readable gets every byte written before close.
 * @return XV_WIRE_LIVE_* as found (anything else is the peer's garbage)
 */
uint8_t xv_ring_peer_live(const struct xv_ring_endpoint *ep);

/* Store our live byte with release: our last publish is seen /before/ it. */
void xv_ring_set_own_live(struct xv_ring_endpoint *ep, uint8_t v);

/**
 * OR extension flag bits (XV_WIRE_FLAG_*) into our request byte, with
 * release so the peer sees our last prod /before/ XV_WIRE_FLAG_SHUT_WR.
 * Notify bits in @bits are ignored.
 */
void xv_ring_set_flags(struct xv_ring_endpoint *ep, uint8_t bits);

/**
 * @return the peer's extension flag bits (its request byte without the
 * notify bits), read once with acquire
 */
uint8_t xv_ring_peer_flags(const struct xv_ring_endpoint *ep);

#endif
