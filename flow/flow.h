/*
 * The real struct xvchan and the helpers shared by flow/'s files.
 *
 * Threads: one reader and one writer may run at once (include/xvchan.h).
 * Ring state is split by direction inside struct xv_ring_endpoint (rx is
 * only touched by the reader, tx by the writer). What both directions share
 * (the event channel's consumption, the connection's end state) lives under
 * @lock.
 */
#ifndef XV_FLOW_FLOW_H
#define XV_FLOW_FLOW_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ring.h"
#include "xen.h"
#include "xs.h"
#include "xvchan.h"

/* What we know of the peer's support for the half-close extension. */
enum xv_flow_peer_kind {
	XV_FLOW_PEER_UNKNOWN,	/* non-blocking server, no client yet */
	XV_FLOW_PEER_NEW,	/* advertised XV_WIRE_FLAG_HALF_CLOSE */
	XV_FLOW_PEER_OLD,	/* libxenvchan, ocaml-vchan */
};

/* Watching the peer's domain for its destruction (wait.c). */
enum xv_flow_dom {
	XV_FLOW_DOM_UNSET,	/* not tried yet: set up lazily */
	XV_FLOW_DOM_WATCHED,	/* @dom_xs watches @releaseDomain */
	XV_FLOW_DOM_POLLED,	/* @dom_fd, a timer, says when to ask our
				 * port's status */
	XV_FLOW_DOM_OFF,	/* unavailable or done with: never again */
};

/* One direction's adaptive spin: its rule is in spin.h. */
struct xv_flow_spin {
	int64_t budget_ns;	/* how long the next slow path spins */
	int64_t since_ns;	/* start of the wait in progress, or 0 */
};

struct xvchan {
	bool server;
	bool nonblock;
	unsigned int own_domid, peer_domid;
	int close_timeout_ms, io_timeout_ms;
	int cancel_fd;		/* the caller's, or -1: never read or closed */
	unsigned int spin_us;
	char *path;			/* xenstore directory of the rings */

	struct xv_xs *xs;	/* server: kept to unpublish at close */
	bool published;
	struct xv_flow_xen *xen;
	int fd;			/* the event channel: internal waits */
	int efd;		/* eventfd: a wake-up handed on (wait.c) */
	int pollfd;		/* epoll of @fd and @efd: xvchan_fd() */
	uint32_t ring_ref;
	int port;			/* our local event-channel port */

	struct xv_ring_layout layout;
	struct xv_wire_page *page;
	void *left_area, *right_area;	/* granted ring pages, or NULL */
	struct xv_ring_endpoint ep;

	/* Reader only, but for @rx_busy. */
	bool eof;
	struct xv_flow_spin rx_spin;
	uint32_t rx_sent_mark;	/* xv_ring_sent() at the last empty look */
	/* 1 while a thread holds the read side (ring rx state): the reader
	 * for its whole call, the writer for a moment to give back room
	 * (xv_flow_give_back_room()). */
	int rx_busy;

	/* Writer only. */
	struct xv_flow_spin tx_spin;
	size_t tx_reserved;	/* last xvchan_write_reserve(), until commit */

	/* Shared by reader and writer, under @lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t events;	/* events seen or taken so far */
	bool polling;		/* a thread sleeps in poll() on @fd */
	bool event_seen;	/* poll() found one on @fd; not taken yet */
	bool wake_cheap;	/* the last sleep was short (wait.c) */
	/* Non-blocking mode: that direction's last call returned -EAGAIN
	 * (set from its drain on). Each is written only by its own
	 * direction's thread, so that thread may read it without the lock. */
	bool rx_want, tx_want;
	/* @efd was raised for that direction and not yet withdrawn. */
	bool rx_raised, tx_raised;
	bool efd_up;		/* @efd's counter is nonzero */
	enum xv_flow_peer_kind peer_kind;
	/* Set by xvchan_shutdown(), a writer call: so the writer may also
	 * read it without the lock. */
	bool shut_wr;
	bool ended;		/* our live byte is cleared (old peer) */
	uint8_t own_live;	/* the value we last stored */
	/* The peer's domain (see xv_flow_dom_start_locked()): the
	 * xenstore connection holding the watch and its descriptor, or the
	 * timer of the port's status, kept until teardown once opened (a
	 * poller may still hold @dom_fd). */
	enum xv_flow_dom dom;
	struct xv_xs *dom_xs;
	int dom_fd;
	/* XV_FLOW_DOM_POLLED: our port was seen interdomain; looks in a row
	 * that found it unbound with the peer connected. */
	bool port_was_bound;
	unsigned int port_unbound_looks;
	/* Set once (0 -> 1) under @lock when xenstore or our port says
	 * the peer's domain is gone after it connected; read without the
	 * lock by xv_flow_peer_live(). */
	int peer_dead;
};

/* Milliseconds from CLOCK_MONOTONIC, for deadlines. */
int64_t xv_flow_now_ms(void);
/* Deadline for a timeout of @timeout_ms >= 0 from now. */
int64_t xv_flow_deadline_after(int timeout_ms);

/* Milliseconds left until @deadline for poll(): -1 for none, 0 if past. */
int xv_flow_left_ms(int64_t deadline);

/* Deadline for a timeout (negative: none, returned as -1). Inline: every
 * read and write asks, and most have no timeout. */
static inline int64_t xv_flow_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : xv_flow_deadline_after(timeout_ms);
}

/* wait.c */
int xv_flow_wait_init(struct xvchan *x);
void xv_flow_wait_exit(struct xvchan *x);
/* Snapshot of the count of events seen or taken: take it before
 * re-checking the ring, pass it to xv_flow_wait(). */
uint64_t xv_flow_events(struct xvchan *x);
/* Sleep until an event newer than @seen was seen or taken (by this thread
 * or the other one), or @deadline_ms (-1: none). 0, -ETIMEDOUT, -ECANCELED
 * (the caller's cancel_fd), or another -errno. */
int xv_flow_wait(struct xvchan *x, uint64_t seen, int64_t deadline_ms);
/* Create @efd and @pollfd once @fd exists; closed by xv_flow_wait_exit(). */
int xv_flow_fds_init(struct xvchan *x);
/* Non-blocking mode, on the way to -EAGAIN in direction @reader (before
 * arming): record the want, consume a pending event, if any, so that
 * xvchan_fd() only fires again for a new one, and hand that event on to
 * the other direction if it waits too. */
int xv_flow_drain(struct xvchan *x, bool reader);
/* A call of direction @reader returned @rc: anything but -EAGAIN withdraws
 * that direction's want and wake-up. Called by that direction's thread. */
void xv_flow_settle(struct xvchan *x, bool reader, int64_t rc);
/* Spin for @st's budget (at most x->spin_us), and never past
 * @deadline_ms (-1: none), while @ready(x) returns 0. Returns its last
 * value. Starts timing the wait of that direction if it is not timed
 * yet. */
int64_t xv_flow_spin(struct xvchan *x, struct xv_flow_spin *st,
		     int64_t (*ready)(struct xvchan *x), int64_t deadline_ms);
/* Busy-wait @ns nanoseconds, telling the CPU that it spins. */
void xv_flow_pause(int64_t ns);
/* Adapt @st's budget to the wait being timed, which just ended. */
void xv_flow_spin_adapt(struct xvchan *x, struct xv_flow_spin *st);

/* The direction of @st made progress: if a wait was being timed, adapt the
 * budget to how long it lasted. Inline for the fast path, where none was. */
static inline void xv_flow_spin_done(struct xvchan *x,
				     struct xv_flow_spin *st)
{
	if (st->since_ns)
		xv_flow_spin_adapt(x, st);
}
/* Send one event to the peer. */
void xv_flow_kick(struct xvchan *x);
/* Watch the peer's domain if that was never tried: only when the peer is
 * another domain; what cannot be set up is not tried again. Called with
 * @lock held (it talks to xenstore, or asks the hypervisor, meanwhile,
 * once per endpoint). */
void xv_flow_dom_start_locked(struct xvchan *x);

/* close.c */
/* The peer's live byte as the endpoint must take it: XV_WIRE_LIVE_GONE
 * once its domain was found destroyed, which cleared nothing. */
uint8_t xv_flow_peer_live(struct xvchan *x);
/* True when no more data will arrive beyond what is in rx now: the peer is
 * gone, shut down, or (old peer) we ended the connection. Load it BEFORE
 * the final ring check (acquire pairs with the peer's release after its
 * last prod publish). Negative -EPROTO on a garbage live byte. */
int xv_flow_peer_done(struct xvchan *x);
/* Learn the peer's kind once it has connected; applies a pending shutdown
 * to an old peer. Call with @lock held. */
void xv_flow_update_peer_locked(struct xvchan *x);

/* setup.c: undo whatever part of a server or client set-up was done. */
void xv_flow_teardown(struct xvchan *x);

#endif
