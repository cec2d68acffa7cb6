/*
 * Sleeping on the event channel, shared by a reader and a writer thread.
 *
 * One event channel serves both directions, and an event is consumed by
 * whoever calls pending(). If the reader consumed the event the writer was
 * waiting for, the writer would sleep on. So at most one thread sleeps in
 * poll() at a time; the other waits on a condition variable. Whoever sees
 * an event in poll(), or takes one it had not seen with pending(), bumps
 * @events and wakes everybody; each waiter compares it with the count it
 * took before its last ring check, so an event seen or taken after that
 * check (by either thread) always sends it back to re-check. An event
 * counted before the snapshot was for a state the caller already saw.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "flow.h"
#include "spin.h"

static int64_t xv_flow_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t xv_flow_now_ms(void)
{
	return xv_flow_now_ns() / 1000000;
}

int64_t xv_flow_deadline_after(int timeout_ms)
{
	if (timeout_ms == 0)
		return xv_flow_now_ms();
	/* The clock is read in whole milliseconds, truncated: one more
	 * keeps a timeout from ever expiring before @timeout_ms has passed. */
	return xv_flow_now_ms() + timeout_ms + 1;
}

int xv_flow_left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - xv_flow_now_ms();
	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

int xv_flow_wait_init(struct xvchan *x)
{
	pthread_condattr_t attr;
	int err;

	err = pthread_mutex_init(&x->lock, NULL);
	if (err)
		return -err;
	err = pthread_condattr_init(&attr);
	if (!err) {
		/* Deadlines are monotonic: a clock step must not stretch
		 * them. */
		err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		if (!err)
			err = pthread_cond_init(&x->cond, &attr);
		pthread_condattr_destroy(&attr);
	}
	if (err) {
		pthread_mutex_destroy(&x->lock);
		return -err;
	}
	x->efd = -1;
	x->pollfd = -1;
	x->dom_fd = -1;
	return 0;
}

void xv_flow_wait_exit(struct xvchan *x)
{
	/* The port's timer; a watch's descriptor belongs to @dom_xs. */
	if (x->dom_fd >= 0 && !x->dom_xs)
		close(x->dom_fd);
	if (x->pollfd >= 0)
		close(x->pollfd);
	if (x->efd >= 0)
		close(x->efd);
	pthread_cond_destroy(&x->cond);
	pthread_mutex_destroy(&x->lock);
}

/*
 * xvchan_fd() is not the event channel itself but an epoll descriptor
 * watching it and @efd. A drain (non-blocking mode) consumes whatever event
 * is pending, and that event may have been sent for the other direction:
 * the read of a single loop arms for data, the peer writes and kicks, the
 * same loop's write finds its ring full and its drain takes the kick. The
 * event channel is then quiet although a read would return data. So a
 * drain that took an event while the other direction has an -EAGAIN
 * outstanding raises @efd: the descriptor stays readable until that
 * direction calls again, and that call re-checks its ring after arming.
 * The handed-on wake-up is not checked against the other ring first: that
 * ring's state belongs to the other direction's thread (ring/ring.h), and
 * the cost is at most one spurious wake-up per event taken.
 * A loopback event channel re-notified to ourselves would need no extra
 * descriptor, but costs a second port per endpoint and a hypercall per
 * hand-on on Xen; an eventfd is a plain Linux object on Xen and the
 * simulator alike.
 */
int xv_flow_fds_init(struct xvchan *x)
{
	struct epoll_event ev = { .events = EPOLLIN };

	x->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (x->efd < 0)
		return -errno;
	x->pollfd = epoll_create1(EPOLL_CLOEXEC);
	if (x->pollfd < 0)
		return -errno;
	if (epoll_ctl(x->pollfd, EPOLL_CTL_ADD, x->fd, &ev) < 0 ||
	    epoll_ctl(x->pollfd, EPOLL_CTL_ADD, x->efd, &ev) < 0)
		return -errno;
	return 0;
}

/* Make @efd readable exactly while a wake-up is handed on. Called with
 * @lock held. A failed clear leaves it readable: at worst a spurious
 * wake-up, and the next sync tries again. */
static int xv_flow_efd_sync_locked(struct xvchan *x)
{
	bool up = x->rx_raised || x->tx_raised;
	eventfd_t v;

	if (up == x->efd_up)
		return 0;
	if (up ? eventfd_write(x->efd, 1) : eventfd_read(x->efd, &v))
		return -errno;
	x->efd_up = up;
	return 0;
}

uint64_t xv_flow_events(struct xvchan *x)
{
	uint64_t n;

	pthread_mutex_lock(&x->lock);
	n = x->events;
	pthread_mutex_unlock(&x->lock);
	return n;
}

/*
 * The peer's domain may be destroyed (`xl destroy`) without running
 * anything: no unmap notification clears its live byte, no event comes,
 * and Xen closes its event channels silently. Two traces remain, and an
 * endpoint whose peer is another domain follows one of them, lazily: the
 * first time a blocking call would sleep (after the connect, whose time
 * must not grow) or xvchan_fd() is asked for.
 * - xenstore (xs/xs.h): on a connection of its own the endpoint watches
 *   @releaseDomain, and takes the peer as gone, like a cleared live byte,
 *   once its domain is no longer introduced. Immediate, but for the
 *   privileged: a guest is refused (XSA-115), as is a guest over its
 *   watch quota.
 * - Our own port: Xen leaves it unbound when it closes the other end,
 *   and any domain may ask its ports' status. Nothing announces the
 *   change, so the endpoint asks every XV_FLOW_PORT_POLL_MS while it
 *   sleeps (a timerfd beside the event channel). dom0 is never destroyed,
 *   so a guest whose peer it is does not ask.
 * Where neither is available (privcmd refuses a guest's hypercalls
 * unless loaded with unrestricted=1, or is missing) the endpoint simply
 * goes without.
 */

/* Often enough that a guest sees its peer's domain gone within a second,
 * seldom enough that an idle endpoint costs nothing measurable. */
#define XV_FLOW_PORT_POLL_MS 500

/* Stop looking at the peer's domain. Called with @lock held. @dom_fd
 * stays open until teardown: a poller may still hold it. */
static void xv_flow_dom_stop_locked(struct xvchan *x)
{
	static const struct itimerspec disarm;

	if (x->dom == XV_FLOW_DOM_POLLED)
		(void)timerfd_settime(x->dom_fd, 0, &disarm, NULL);
	x->dom = XV_FLOW_DOM_OFF;
	/* xvchan_fd() stops firing for it. */
	(void)epoll_ctl(x->pollfd, EPOLL_CTL_DEL, x->dom_fd, NULL);
}

/* The peer's domain is gone. Called with @lock held. */
static void xv_flow_dom_gone_locked(struct xvchan *x)
{
	xv_flow_dom_stop_locked(x);
	/* Relaxed: the flag orders nothing. The peer wrote its last bytes
	 * before Xen tore it down; the reader's ring check after seeing the
	 * flag acquires its prod as always. */
	xv_atomic_store_relaxed_int(&x->peer_dead, 1);
	/* Like an event: every sleeper goes back to look, and a direction
	 * whose -EAGAIN is outstanding gets xvchan_fd() readable. */
	x->events++;
	if (x->rx_want)
		x->rx_raised = true;
	if (x->tx_want)
		x->tx_raised = true;
	(void)xv_flow_efd_sync_locked(x);
	pthread_cond_broadcast(&x->cond);
}

/* What xenstore or the port's status said of the peer's domain: 1 there,
 * 0 gone, -errno. Called with @lock held. */
static void xv_flow_dom_apply_locked(struct xvchan *x, int there)
{
	bool polled = x->dom == XV_FLOW_DOM_POLLED;

	if (x->dom != XV_FLOW_DOM_WATCHED && !polled)
		return;
	if (there < 0) {
		/* The connection or the hypercall failed: no answer will
		 * come again. */
		xv_flow_dom_stop_locked(x);
		return;
	}
	if (polled && there)
		x->port_was_bound = true;
	/* A server may be set up for a domain that does not exist yet:
	 * only a peer that has connected can be gone. Its live byte left
	 * WAITING before it could be destroyed, so a destroy after that is
	 * announced by an event this watch still gets, or found by the
	 * next tick. */
	if (there || xv_ring_peer_live(&x->ep) == XV_WIRE_LIVE_WAITING) {
		x->port_unbound_looks = 0;
		return;
	}
	/* A server's port is unbound until its client binds, and nothing
	 * in the protocol makes a client bind before it says it is
	 * connected: an unbound port means gone once it was seen bound, or
	 * on a second look (a client destroyed before our first). */
	if (polled && !x->port_was_bound && ++x->port_unbound_looks < 2)
		return;
	xv_flow_dom_gone_locked(x);
}

/* The first way: 0 once watched, or -errno. Called with @lock held. */
static int xv_flow_dom_watch_locked(struct xvchan *x)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct xv_xs *xs;
	int fd, there;

	there = xv_xs_open_domain(&xs);
	if (there < 0)
		return there;
	/* A guest is refused the question (EACCES): asking first spares it
	 * a watch that would never fire, held against its quota. */
	there = xv_xs_domain_exists(xs, x->peer_domid);
	/* Then watch, then ask again: a destroy after that question is
	 * announced by the watch, one before it is answered by it. */
	fd = there < 0 ? there : xv_xs_domain_watch(xs);
	there = fd < 0 ? fd : xv_xs_domain_exists(xs, x->peer_domid);
	if (there >= 0 && epoll_ctl(x->pollfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		there = -errno;
	if (there < 0) {
		xv_xs_close(xs);
		return there;
	}
	x->dom_xs = xs;
	x->dom_fd = fd;
	x->dom = XV_FLOW_DOM_WATCHED;
	xv_flow_dom_apply_locked(x, there);
	return 0;
}

/* The second way. Called with @lock held. */
static void xv_flow_dom_poll_start_locked(struct xvchan *x)
{
	static const struct timespec period = {
		.tv_sec = XV_FLOW_PORT_POLL_MS / 1000,
		.tv_nsec = XV_FLOW_PORT_POLL_MS % 1000 * 1000000L,
	};
	const struct itimerspec every = { period, period };
	struct epoll_event ev = { .events = EPOLLIN };
	int fd, there;

	/* Asked once now: a port that cannot be asked is not timed. */
	there = xv_flow_xen_port_connected(x->xen);
	if (there < 0)
		return;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return;
	if (timerfd_settime(fd, 0, &every, NULL) < 0 ||
	    epoll_ctl(x->pollfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return;
	}
	x->dom_fd = fd;
	x->dom = XV_FLOW_DOM_POLLED;
	xv_flow_dom_apply_locked(x, there);
}

void xv_flow_dom_start_locked(struct xvchan *x)
{
	if (x->dom != XV_FLOW_DOM_UNSET)
		return;
	x->dom = XV_FLOW_DOM_OFF;
	if (x->peer_domid == x->own_domid)
		return;
	if (xv_flow_dom_watch_locked(x) < 0 && x->peer_domid != 0)
		xv_flow_dom_poll_start_locked(x);
}

/* Take what made @dom_fd readable and ask again; without @lock (the
 * poller owns the watch's handle, and the port's question, while it
 * polls). 1 there, 0 gone, or -errno. */
static int xv_flow_dom_check(struct xvchan *x, enum xv_flow_dom dom,
			     short revents)
{
	uint64_t ticks;
	int err;

	if (revents & (POLLERR | POLLNVAL))
		return -EIO;
	if (dom == XV_FLOW_DOM_POLLED) {
		/* Non-blocking: ticks another look took leave nothing. */
		if (read(x->dom_fd, &ticks, sizeof(ticks)) < 0 &&
		    errno != EAGAIN)
			return -errno;
		return xv_flow_xen_port_connected(x->xen);
	}
	err = xv_xs_watch_drain(x->dom_xs);
	if (err < 0)
		return err;
	return xv_xs_domain_exists(x->dom_xs, x->peer_domid);
}

/*
 * A sleep shorter than this says that wake-ups are cheap here: the peer
 * runs on our CPU, or on one that is busy rather than halted. Waking a
 * halted vCPU takes 25-100 us on the machines of docs/performance.md;
 * a wake-up between the two ends of one CPU, or onto a busy one, 2-6 us.
 */
#define XV_FLOW_SLOW_WAKE_NS 10000

/* A call woken sooner found its event already there: it slept through no
 * wake-up, and says nothing of their cost. */
#define XV_FLOW_NO_SLEEP_NS 1000

/*
 * Called with @lock held; drops it around poll() and pending(). The
 * caller's cancel_fd ends a wait that saw no event with -ECANCELED (a
 * blocking call's sleep only: a drain of non-blocking mode never looks).
 *
 * Where wake-ups are slow, a blocking wait that finds an event counts it
 * and sends its caller back to its ring at once. The event is taken
 * (pending() and unmask: two system calls on Xen, three on the simulator)
 * only by the next wait of either thread, once the work is done and the
 * peer kicked: the peer's wake-up then overlaps this bookkeeping instead
 * of following it. The take is not counted again: it consumes only the
 * event already seen, because the port stays masked from its delivery to
 * the unmask; kicks sent meanwhile raise no interrupt and latch into one
 * more event, which the unmask delivers (docs/xen.md, "Coalescing") and
 * the next poll() sees.
 *
 * Deferring costs a system call per sleep: poll() to wait, pending() to
 * take, where pending() alone does both. Where wake-ups are cheap
 * (XV_FLOW_SLOW_WAKE_NS) that call is not hidden behind the peer's
 * wake-up, so there a wait that only watches the event channel blocks in
 * pending(), and a poll() that finds an event takes it at once.
 * A drain (@timeout_ms 0) always takes it at once: it must leave
 * xvchan_fd() quiet.
 */
static int xv_flow_poll_locked(struct xvchan *x, int timeout_ms)
{
	struct pollfd pfd[3] = {
		{ .fd = x->fd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },	/* poll() skips it */
		{ .fd = x->nonblock ? -1 : x->cancel_fd, .events = POLLIN },
	};
	enum xv_flow_dom dom = x->dom;
	bool looking = dom == XV_FLOW_DOM_WATCHED || dom == XV_FLOW_DOM_POLLED;
	bool take_seen = x->event_seen;
	bool defer = timeout_ms != 0 && !x->wake_cheap;
	bool seen = false, took = false, asked = false;
	int64_t slept_ns = -1;
	int err = 0, there = 0;

	if (looking)
		pfd[1].fd = x->dom_fd;
	x->polling = true;
	x->event_seen = false;
	pthread_mutex_unlock(&x->lock);
	if (take_seen) {
		/* Pending since a poll() saw it: this does not block. An
		 * interrupted take leaves it pending for the next poll(). */
		err = xv_flow_xen_take_event(x->xen);
		if (err == -EINTR)
			err = 0;
	} else if (!defer && timeout_ms < 0 && !looking && pfd[2].fd < 0) {
		int64_t start = xv_flow_now_ns();

		/* Nothing but the event channel to wait for, and no
		 * deadline: pending() blocks by itself. */
		err = xv_flow_xen_take_event(x->xen);
		took = !err;
		if (took)
			slept_ns = xv_flow_now_ns() - start;
		if (err == -EINTR)
			err = 0;
	} else {
		int64_t start = timeout_ms ? xv_flow_now_ns() : 0;
		int n = poll(pfd, 3, timeout_ms);

		/* Only a wake-up by the event channel says what one costs. */
		if (timeout_ms && n > 0 && (pfd[0].revents & POLLIN))
			slept_ns = xv_flow_now_ns() - start;
		if (n < 0) {
			err = errno == EINTR ? 0 : -errno;
		} else if (pfd[0].revents & POLLIN) {
			/* Before any cancel: the caller looks again, and only
			 * a wait that would sleep again is cancelled. */
			if (defer) {
				seen = true;
			} else {
				err = xv_flow_xen_take_event(x->xen);
				took = !err;
			}
		} else if (pfd[0].revents) {
			/* pending() would block on a descriptor that only
			 * reports an error: the event channel device itself
			 * has failed. */
			err = -EIO;
		} else if (pfd[2].revents) {
			/* Readable, or an error or hang-up, which a read
			 * would report at once too: stop. Closed under us
			 * is the caller's bug, said as such. */
			err = pfd[2].revents & POLLNVAL ? -EBADF : -ECANCELED;
		}
		if (n > 0 && pfd[1].revents) {
			there = xv_flow_dom_check(x, dom, pfd[1].revents);
			asked = true;
		}
	}
	pthread_mutex_lock(&x->lock);
	x->polling = false;
	if (slept_ns >= XV_FLOW_NO_SLEEP_NS)
		x->wake_cheap = slept_ns < XV_FLOW_SLOW_WAKE_NS;
	if (seen)
		x->event_seen = true;
	if (seen || took)
		x->events++;
	/* Only an answer counts: a wake-up for the event channel says
	 * nothing of the peer's domain (nor of a port never seen bound). */
	if (asked)
		xv_flow_dom_apply_locked(x, there);
	/* Wake the other thread either way: it must see the new count, or
	 * take over poll() if it is still waiting for its own event. */
	pthread_cond_broadcast(&x->cond);
	return err;
}

int xv_flow_wait(struct xvchan *x, uint64_t seen, int64_t deadline_ms)
{
	int err = 0;

	pthread_mutex_lock(&x->lock);
	while (x->events == seen && !err) {
		int left = xv_flow_left_ms(deadline_ms);

		if (left == 0) {
			err = -ETIMEDOUT;
		} else if (x->dom == XV_FLOW_DOM_UNSET &&
			   x->peer_kind != XV_FLOW_PEER_UNKNOWN) {
			/* A known peer kind: past the connect. The start
			 * may find the domain gone, which counts as an
			 * event: look at the loop's condition again. */
			xv_flow_dom_start_locked(x);
		} else if (!x->polling) {
			err = xv_flow_poll_locked(x, left);
		} else if (deadline_ms < 0) {
			pthread_cond_wait(&x->cond, &x->lock);
		} else {
			struct timespec ts = {
				.tv_sec = deadline_ms / 1000,
				.tv_nsec = (deadline_ms % 1000) * 1000000,
			};

			pthread_cond_timedwait(&x->cond, &x->lock, &ts);
		}
	}
	pthread_mutex_unlock(&x->lock);
	return err;
}

int xv_flow_drain(struct xvchan *x, bool reader)
{
	uint64_t before;
	bool other_wants;
	int err = 0;

	pthread_mutex_lock(&x->lock);
	/*
	 * The want is recorded before our caller arms (N1): an event the
	 * peer sends for that arm comes after it, so whichever drain takes
	 * that event, by either thread, sees the want and hands it on.
	 */
	if (reader)
		x->rx_want = true;
	else
		x->tx_want = true;
	before = x->events;
	/* A thread draining already takes the event; it hands it on. */
	if (!x->polling)
		err = xv_flow_poll_locked(x, 0);
	other_wants = reader ? x->tx_want : x->rx_want;
	/* Our caller re-checks its own ring after arming: what was handed
	 * on to it is used up. */
	if (reader)
		x->rx_raised = false;
	else
		x->tx_raised = false;
	if (x->events != before && other_wants) {
		if (reader)
			x->tx_raised = true;
		else
			x->rx_raised = true;
	}
	if (!err)
		err = xv_flow_efd_sync_locked(x);
	pthread_mutex_unlock(&x->lock);
	return err;
}

void xv_flow_settle(struct xvchan *x, bool reader, int64_t rc)
{
	bool *want = reader ? &x->rx_want : &x->tx_want;

	/* No lock to read our own direction's want (see struct xvchan):
	 * the fast path stays free of it. */
	if (rc == -EAGAIN || !*want)
		return;
	pthread_mutex_lock(&x->lock);
	*want = false;
	if (reader)
		x->rx_raised = false;
	else
		x->tx_raised = false;
	/* Our call succeeded or failed for good; a clear that failed only
	 * costs a spurious wake-up (see xv_flow_efd_sync_locked()). */
	(void)xv_flow_efd_sync_locked(x);
	pthread_mutex_unlock(&x->lock);
}

/* The budget's rule is in spin.h. */
int64_t xv_flow_spin(struct xvchan *x, struct xv_flow_spin *st,
		     int64_t (*ready)(struct xvchan *x), int64_t deadline_ms)
{
	int64_t now, end, v;

	if (!x->spin_us)
		return 0;
	now = xv_flow_now_ns();
	if (!st->since_ns)
		st->since_ns = now;
	if (!st->budget_ns)
		return 0;
	end = now + st->budget_ns;
	/* An io timeout shorter than the budget is still the timeout. */
	if (deadline_ms >= 0 && end > deadline_ms * 1000000)
		end = deadline_ms * 1000000;
	do {
		v = ready(x);
		if (v)
			return v;
		/* Woken by our event, the peer is often queued on this very
		 * CPU (the scheduler places a wakee near its waker): a spin
		 * that keeps the CPU then only delays it. Yielding lets it
		 * run; with the peer on another CPU it costs one cheap
		 * system call per pass. */
		sched_yield();
	} while (xv_flow_now_ns() < end);
	return 0;
}

void xv_flow_pause(int64_t ns)
{
	int64_t until = xv_flow_now_ns() + ns;

	do {
		/* A spin-wait hint where the CPU has one (it frees the
		 * core for its sibling thread and saves power); elsewhere a
		 * plain loop on the clock. */
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#elif defined(__aarch64__)
		__asm__ __volatile__("yield");
#endif
	} while (xv_flow_now_ns() < until);
}

void xv_flow_spin_adapt(struct xvchan *x, struct xv_flow_spin *st)
{
	int64_t waited;

	waited = xv_flow_now_ns() - st->since_ns;
	st->since_ns = 0;
	st->budget_ns = xv_flow_spin_next(st->budget_ns, waited,
					  (int64_t)x->spin_us * 1000);
}

void xv_flow_kick(struct xvchan *x)
{
	/* A failed notify means the peer's port is gone: its death is seen
	 * through its live byte, so there is nothing to report here. */
	(void)xv_flow_xen_notify(x->xen);
}
