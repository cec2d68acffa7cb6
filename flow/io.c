/*
 * read / write / writev: the fast path is one ring call; the slow path
 * spins briefly, then arms a wake-up (N1 in ring/ring.h), re-checks and
 * sleeps on the event channel.
 */
/* IOV_MAX and SSIZE_MAX are POSIX, hidden by -std=c11 otherwise. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>

#include "atomic.h"
#include "flow.h"
#include "spin.h"

/* Gather at most this many iovecs per ring call: no allocation per write,
 * and the ring publishes once per batch. */
#define XV_FLOW_IOV_BATCH 16

/*
 * Spin predicates: nonzero sends the caller back to re-check. Only what
 * the caller's next pass turns into a result: data, or a peer gone. A
 * peer's shutdown flag is left to the check after arming, so a flag that
 * does not count (an old peer's) cannot keep us spinning.
 */
static int64_t xv_flow_read_ready(struct xvchan *x)
{
	int64_t n = xv_ring_readable(&x->ep);

	if (n)
		return n;
	/* The writer asked for the room we hold: recv gives it back. */
	if (xv_ring_room_wanted(&x->ep))
		return 1;
	return xv_flow_peer_live(x) == XV_WIRE_LIVE_GONE ? 1 : 0;
}

static int64_t xv_flow_write_ready(struct xvchan *x)
{
	int64_t n = xv_ring_writable(&x->ep);

	if (n)
		return n;
	return xv_flow_peer_live(x) == XV_WIRE_LIVE_GONE ? 1 : 0;
}

/*
 * How long a spinning reader that has caught up with a streaming writer
 * waits before it looks at the ring again. Looking at once, it takes each
 * small message as it lands: the index line and the message's data line
 * then cross between the CPUs once per message, and each crossing also
 * stalls the writer's N2 fence (ring/ring.h). Both ends slow to a third
 * or less, and stay there, for a reader that keeps up never falls behind
 * (docs/performance.md, "The spinning reader's low mode"). A microsecond
 * lets the writer fill a few dozen lines meanwhile, which the reader then
 * takes from its cached index, one crossing for all.
 */
#define XV_FLOW_CATCH_UP_NS 1000

/*
 * The ring is empty: pause first if that only means we caught up with a
 * writer (xv_flow_read()'s spin; the rule is xv_flow_catch_up_due() in
 * spin.h). Not when this endpoint sent anything since the ring was last
 * found empty: then the peer may be waiting for our answer and writes
 * only after it, and the pause would add to every round trip. Nor
 * without a spin budget: a reader about to sleep has nothing to wait for
 * (nor has a non-blocking one, whose budget is always 0).
 */
static void xv_flow_catch_up(struct xvchan *x)
{
	uint32_t sent = xv_ring_sent(&x->ep);

	if (xv_flow_catch_up_due(x->rx_spin.budget_ns, sent, x->rx_sent_mark))
		xv_flow_pause(XV_FLOW_CATCH_UP_NS);
	x->rx_sent_mark = sent;
}

static ssize_t xv_flow_read(struct xvchan *x, void *buf, size_t len)
{
	int64_t deadline;

	if (x->eof)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	deadline = xv_flow_deadline(x->io_timeout_ms);
	for (;;) {
		uint64_t seen;
		bool kick;
		int64_t n = xv_ring_recv(&x->ep, buf, len, &kick);
		int done, err;

		/* Also on 0: an empty look may have given back the room the
		 * writer asked for. */
		if (kick)
			xv_flow_kick(x);
		if (n < 0)
			return n;
		if (n > 0) {
			xv_flow_spin_done(x, &x->rx_spin);
			return n;
		}
		/* Empty. The end is only believed if the ring is still
		 * empty after it was seen: bytes published just before a
		 * close or shutdown are never lost. */
		done = xv_flow_peer_done(x);
		if (done < 0)
			return done;
		if (done) {
			n = xv_ring_readable(&x->ep);
			if (n < 0)
				return n;
			if (n > 0)
				continue;
			x->eof = true;
			return 0;
		}
		xv_flow_catch_up(x);
		if (xv_flow_spin(x, &x->rx_spin, xv_flow_read_ready,
				 deadline))
			continue;
		if (x->nonblock) {
			err = xv_flow_drain(x, true);
			if (err)
				return err;
		}
		/* Before the re-check in arm: an event seen or taken after
		 * this point, by either thread, sends us back to look. */
		seen = xv_flow_events(x);
		n = xv_ring_arm_readable(&x->ep, &kick);
		if (kick)
			xv_flow_kick(x);
		if (n < 0)
			return n;
		if (n > 0 || xv_flow_peer_done(x))
			continue;
		if (x->nonblock)
			return -EAGAIN;
		err = xv_flow_wait(x, seen, deadline);
		if (err)
			return err;
	}
}

ssize_t xvchan_read(struct xvchan *x, void *buf, size_t len)
{
	ssize_t n;

	if (!x)
		return -EINVAL;
	/* Held by the writer only for one publish of room. */
	while (xv_atomic_take_int(&x->rx_busy))
		sched_yield();
	n = buf && len ? xv_flow_read(x, buf, len) : -EINVAL;
	xv_atomic_give_int(&x->rx_busy);
	xv_flow_settle(x, true, n);
	return n;
}

/*
 * Why the writer cannot go on, or 0. No lock: shut_wr is only written by
 * xvchan_shutdown(), which belongs to the writer thread, and our side only
 * ends the connection (ended) after shut_wr was set. A broken peer is
 * reported by the ring call itself.
 */
static int xv_flow_write_check(struct xvchan *x)
{
	if (x->shut_wr)
		return -ESHUTDOWN;
	if (xv_flow_peer_live(x) == XV_WIRE_LIVE_GONE)
		return -EPIPE;
	return 0;
}

/*
 * A write put @done bytes in the ring: they count if the peer is still
 * there to read them, or read them all before it went. Loaded after our
 * index store, the live byte's line is already ours.
 */
static ssize_t xv_flow_wrote(struct xvchan *x, size_t done)
{
	int64_t space;

	if (xv_flow_peer_live(x) != XV_WIRE_LIVE_GONE)
		return (ssize_t)done;
	/* Its last cons was released before its live byte (C2, then the
	 * release in its close): the acquire of the live byte above makes
	 * it visible here. */
	space = xv_ring_writable(&x->ep);
	if (space < 0)
		return space;
	return space == x->ep.tx.size ? (ssize_t)done : -EPIPE;
}

/*
 * Before the first byte: a non-blocking server before its client sends
 * nothing until someone listens. The client's connect event fires the fd,
 * so consume what is pending first and look again after.
 */
static int xv_flow_write_start(struct xvchan *x)
{
	int err;

	if (!x->nonblock ||
	    xv_ring_peer_live(&x->ep) != XV_WIRE_LIVE_WAITING)
		return 0;
	err = xv_flow_drain(x, false);
	if (err)
		return err;
	if (xv_ring_peer_live(&x->ep) == XV_WIRE_LIVE_WAITING)
		return -EAGAIN;
	return 0;
}

/*
 * Room our reads took but did not publish yet (ring.h: freed room goes
 * back in batches) goes back before the writer sleeps or returns -EAGAIN:
 * the peer may be blocked on a full ring of its own until it gets that
 * room, and only then read what we wait to write. Without this, a caller
 * that reads a little and then writes a lot deadlocks with a peer doing
 * the same. The read side belongs to the reader; it is borrowed only
 * while no read is in progress (a reader inside xvchan_read() publishes
 * before it sleeps anyway).
 */
static void xv_flow_give_back_room(struct xvchan *x)
{
	bool kick;

	if (xv_atomic_take_int(&x->rx_busy))
		return;
	kick = xv_ring_flush_consumed(&x->ep);
	xv_atomic_give_int(&x->rx_busy);
	if (kick)
		xv_flow_kick(x);
}

/*
 * The send ring is full: spin, then arm (N1) and sleep until it may have
 * room. 0 means look again; else -EPIPE, -ESHUTDOWN, -EAGAIN (non-blocking),
 * -ETIMEDOUT, -ECANCELED or -EPROTO.
 */
static int xv_flow_wait_space(struct xvchan *x, int64_t deadline)
{
	uint64_t seen;
	int64_t n;
	int err;

	/* A peer that is gone will never make room. */
	err = xv_flow_write_check(x);
	if (err)
		return err;
	if (xv_flow_spin(x, &x->tx_spin, xv_flow_write_ready, deadline))
		return 0;
	xv_flow_give_back_room(x);
	if (x->nonblock) {
		err = xv_flow_drain(x, false);
		if (err)
			return err;
	}
	seen = xv_flow_events(x);
	n = xv_ring_arm_writable(&x->ep);
	if (n < 0)
		return (int)n;
	if (n > 0 || xv_flow_peer_live(x) == XV_WIRE_LIVE_GONE)
		return 0;
	if (x->nonblock)
		return -EAGAIN;
	return xv_flow_wait(x, seen, deadline);
}

static ssize_t xv_flow_writev(struct xvchan *x, const struct iovec *iov,
			      int iovcnt)
{
	struct xv_ring_iov batch[XV_FLOW_IOV_BATCH];
	size_t total = 0, done = 0, skip;
	int64_t deadline;
	int i, first, err;

	/* A write ends a reservation: these bytes go where its segments
	 * are. */
	x->tx_reserved = 0;
	if (iovcnt < 0 || iovcnt > IOV_MAX || (iovcnt && !iov))
		return -EINVAL;
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len && !iov[i].iov_base)
			return -EINVAL;
		if (iov[i].iov_len > SSIZE_MAX - total)
			return -EINVAL;
		total += iov[i].iov_len;
	}
	if (!total) {
		/* Nothing to send, but a write's verdict all the same. */
		err = xv_ring_broken(&x->ep);
		return err ? err : xv_flow_write_check(x);
	}
	/* A gone peer is looked for once the bytes are in (xv_flow_wrote()),
	 * not here: its live byte shares the cache line that both sides'
	 * index stores keep moving, and loading it before our store costs a
	 * second coherence round trip per call. */
	if (x->shut_wr)
		return -ESHUTDOWN;
	err = xv_flow_write_start(x);
	if (err)
		return err;
	deadline = xv_flow_deadline(x->io_timeout_ms);
	first = 0;
	skip = 0;	/* bytes of iov[first] already written */
	for (;;) {
		unsigned int cnt = 0;
		bool kick;
		int64_t n;

		for (i = first; i < iovcnt && cnt < XV_FLOW_IOV_BATCH; i++) {
			size_t off = i == first ? skip : 0;

			if (iov[i].iov_len == off)
				continue;
			batch[cnt].base = (const char *)iov[i].iov_base + off;
			batch[cnt].len = iov[i].iov_len - off;
			cnt++;
		}
		n = xv_ring_sendv(&x->ep, batch, cnt, &kick);
		if (n < 0)
			return n;
		if (kick)
			xv_flow_kick(x);
		if (n > 0)
			xv_flow_spin_done(x, &x->tx_spin);
		done += (size_t)n;
		skip += (size_t)n;
		while (first < iovcnt && skip >= iov[first].iov_len) {
			skip -= iov[first].iov_len;
			first++;
		}
		if (done == total)
			return xv_flow_wrote(x, done);
		if (n > 0) {
			if (x->nonblock)
				return xv_flow_wrote(x, done);
			deadline = xv_flow_deadline(x->io_timeout_ms);
			continue;
		}
		err = xv_flow_wait_space(x, deadline);
		if (err)
			return err;
	}
}

ssize_t xvchan_writev(struct xvchan *x, const struct iovec *iov, int iovcnt)
{
	ssize_t n;

	if (!x)
		return -EINVAL;
	n = xv_flow_writev(x, iov, iovcnt);
	xv_flow_settle(x, false, n);
	return n;
}

ssize_t xvchan_write(struct xvchan *x, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	ssize_t n;
	bool kick;

	/* A blocking write that fits at once is one ring call: none of
	 * writev's validation and batching, which showed in profiles of
	 * small messages. Anything else takes the general path. */
	if (!x || !buf || !len || len > SSIZE_MAX || x->nonblock ||
	    x->shut_wr)
		return xvchan_writev(x, &iov, 1);
	x->tx_reserved = 0;	/* as in xv_flow_writev() */
	n = xv_ring_send(&x->ep, buf, len, &kick);
	if (n > 0 && kick)
		xv_flow_kick(x);
	if (n == (ssize_t)len) {
		xv_flow_spin_done(x, &x->tx_spin);
		n = xv_flow_wrote(x, len);
	} else if (n >= 0) {
		ssize_t rest;

		/* The rest waits for room as writev does; all or an error. */
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= (size_t)n;
		rest = xvchan_writev(x, &iov, 1);
		return rest < 0 ? rest : rest + n;
	}
	xv_flow_settle(x, false, n);
	return n;
}

static ssize_t xv_flow_write_reserve(struct xvchan *x,
				     struct xvchan_segs *segs)
{
	int64_t deadline;
	int err;

	x->tx_reserved = 0;
	err = xv_flow_write_check(x);
	if (!err)
		err = xv_flow_write_start(x);
	if (err)
		return err;
	deadline = xv_flow_deadline(x->io_timeout_ms);
	for (;;) {
		struct xv_ring_segs s;
		int64_t n = xv_ring_reserve(&x->ep, &s);

		if (n < 0)
			return n;
		if (n > 0) {
			xv_flow_spin_done(x, &x->tx_spin);
			segs->ptr[0] = s.ptr[0];
			segs->len[0] = s.len[0];
			segs->ptr[1] = s.len[1] ? s.ptr[1] : NULL;
			segs->len[1] = s.len[1];
			x->tx_reserved = (size_t)n;
			return (ssize_t)n;
		}
		err = xv_flow_wait_space(x, deadline);
		if (err)
			return err;
	}
}

ssize_t xvchan_write_reserve(struct xvchan *x, struct xvchan_segs *segs)
{
	ssize_t n;

	if (!x)
		return -EINVAL;
	n = segs ? xv_flow_write_reserve(x, segs) : -EINVAL;
	xv_flow_settle(x, false, n);
	return n;
}

int xvchan_write_commit(struct xvchan *x, size_t n)
{
	size_t reserved;
	ssize_t wrote;
	bool kick;
	int err;

	if (!x || n > x->tx_reserved)
		return -EINVAL;
	reserved = x->tx_reserved;
	x->tx_reserved = 0;
	if (!reserved)
		return -EINVAL;
	/* After our end of stream nothing may follow it. */
	if (x->shut_wr)
		return -ESHUTDOWN;
	/* @n is at most what the reserve found free; the ring checks it
	 * again against its own bound. */
	err = xv_ring_commit(&x->ep, (uint32_t)n, &kick);
	if (err)
		return err;
	if (kick)
		xv_flow_kick(x);
	/* As for a write: bytes a gone peer will never read are an error. */
	wrote = n ? xv_flow_wrote(x, n) : 0;
	return wrote < 0 ? (int)wrote : 0;
}
