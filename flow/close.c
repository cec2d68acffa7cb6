/*
 * The end of a connection: the peer's end seen by the reader, half-close
 * (the negotiated extension, docs/protocol.md), and close.
 */
#include <errno.h>
#include <stdlib.h>

#include "atomic.h"
#include "flow.h"

/* Our live byte goes to GONE: an old peer takes that as the end of the
 * whole connection. Called with @lock held. */
static void xv_flow_end_locked(struct xvchan *x)
{
	if (x->own_live == XV_WIRE_LIVE_GONE)
		return;
	x->ended = true;
	x->own_live = XV_WIRE_LIVE_GONE;
	xv_ring_set_own_live(&x->ep, XV_WIRE_LIVE_GONE);
	xv_flow_kick(x);
}

void xv_flow_update_peer_locked(struct xvchan *x)
{
	uint8_t live;

	if (x->peer_kind == XV_FLOW_PEER_UNKNOWN) {
		live = xv_ring_peer_live(&x->ep);
		if (live == XV_WIRE_LIVE_WAITING)
			return;
		/* The peer advertised the extension /before/ its live byte
		 * left WAITING (xvchan_client() sets the flag first), and
		 * the acquire load of live orders this read after it. */
		if (xv_ring_peer_flags(&x->ep) & XV_WIRE_FLAG_HALF_CLOSE)
			x->peer_kind = XV_FLOW_PEER_NEW;
		else
			x->peer_kind = XV_FLOW_PEER_OLD;
	}
	/* An old peer cannot hear "no more data" alone: the shutdown asked
	 * for before it connected becomes the end of the connection. */
	if (x->shut_wr && x->peer_kind == XV_FLOW_PEER_OLD)
		xv_flow_end_locked(x);
}

uint8_t xv_flow_peer_live(struct xvchan *x)
{
	/* Relaxed: see xv_flow_dom_gone_locked(). Once set it stays. */
	if (xv_atomic_load_relaxed_int(&x->peer_dead))
		return XV_WIRE_LIVE_GONE;
	return xv_ring_peer_live(&x->ep);
}

int xv_flow_peer_done(struct xvchan *x)
{
	uint8_t live = xv_flow_peer_live(x);
	bool ended;
	enum xv_flow_peer_kind kind;

	if (live == XV_WIRE_LIVE_GONE)
		return 1;
	/* No state allows any other value: a lie, as sticky as a bad index. */
	if (live != XV_WIRE_LIVE_CONNECTED && live != XV_WIRE_LIVE_WAITING) {
		xv_ring_mark_broken(&x->ep);
		return -EPROTO;
	}
	pthread_mutex_lock(&x->lock);
	xv_flow_update_peer_locked(x);
	ended = x->ended;
	kind = x->peer_kind;
	pthread_mutex_unlock(&x->lock);
	if (ended)
		return 1;
	/* Acquire: pairs with the release in the peer's xv_ring_set_flags()
	 * after its last prod publish, so the ring check that follows sees
	 * every byte it wrote. */
	if (kind == XV_FLOW_PEER_NEW &&
	    (xv_ring_peer_flags(&x->ep) & XV_WIRE_FLAG_SHUT_WR))
		return 1;
	return 0;
}

int xvchan_shutdown(struct xvchan *x)
{
	if (!x)
		return -EINVAL;
	/* Every later write returns -ESHUTDOWN: no -EAGAIN of ours waits. */
	xv_flow_settle(x, false, -ESHUTDOWN);
	pthread_mutex_lock(&x->lock);
	if (!x->shut_wr) {
		x->shut_wr = true;
		/* Harmless to an old peer: it never tests this bit, and its
		 * fetch_and on our request byte keeps it. */
		xv_ring_set_flags(&x->ep, XV_WIRE_FLAG_SHUT_WR);
		xv_flow_update_peer_locked(x);
		/* A reader sleeping on the other side must wake to see it. */
		xv_flow_kick(x);
	}
	pthread_mutex_unlock(&x->lock);
	return 0;
}

/* Drop everything readable now. Returns the byte count or -EPROTO. */
static int64_t xv_flow_discard(struct xvchan *x)
{
	struct xv_ring_segs segs;
	int64_t n = xv_ring_peek(&x->ep, &segs);
	bool kick = false;
	int err;

	if (n <= 0)
		return n;
	err = xv_ring_consume(&x->ep, (uint32_t)n, &kick);
	if (err)
		return err;
	if (kick)
		xv_flow_kick(x);
	return n;
}

/*
 * Drain until the peer will send nothing more: gone, or shut down with its
 * ring empty. Waiting for its live byte alone would deadlock two sides that
 * close at once; a shut-down peer is not blocked on a full ring anyway.
 */
static int xv_flow_close_wait(struct xvchan *x)
{
	int64_t deadline = xv_flow_deadline(x->close_timeout_ms);
	unsigned int late = 0;

	for (;;) {
		uint64_t seen;
		bool kick;
		int done = xv_flow_peer_done(x);
		int64_t n;
		int err;

		if (done < 0)
			return done;
		n = xv_flow_discard(x);
		if (n < 0)
			return (int)n;
		/* Past the deadline one more discard may take what a peer
		 * that has finished left behind; a peer that always writes
		 * again before our next look never lets us reach the wait,
		 * where the deadline is, so a second one ends it. */
		if (n > 0 && xv_flow_left_ms(deadline) == 0 && late++)
			return -ETIMEDOUT;
		if (n > 0)
			continue;
		if (done)
			return 0;
		seen = xv_flow_events(x);
		n = xv_ring_arm_readable(&x->ep, &kick);
		if (kick)
			xv_flow_kick(x);
		if (n < 0)
			return (int)n;
		if (n > 0 || xv_flow_peer_done(x))
			continue;
		err = xv_flow_wait(x, seen, deadline);
		if (err)
			return err;
	}
}

int xvchan_close(struct xvchan *x)
{
	int rc = 0;

	if (!x)
		return 0;
	if (x->page) {
		xvchan_shutdown(x);
		if (!x->nonblock &&
		    xv_flow_peer_live(x) != XV_WIRE_LIVE_WAITING)
			rc = xv_flow_close_wait(x);
		/* Every byte we read is published /before/ we are seen to
		 * leave: a writer that finds us gone counts its bytes as
		 * delivered only if we took them all (xv_flow_wrote()). */
		if (xv_ring_flush_consumed(&x->ep))
			xv_flow_kick(x);
		pthread_mutex_lock(&x->lock);
		xv_flow_end_locked(x);
		pthread_mutex_unlock(&x->lock);
	}
	xv_flow_teardown(x);
	return rc;
}
