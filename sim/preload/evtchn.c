/* xenevtchn_* over the simulator: one datagram socket per handle is its
 * pollable fd, holding one doorbell datagram while any of its ports is
 * queued (event.h explains the delivery rule). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenevtchn.h>

#include "preload.h"

struct xenevtchn_handle {
	uint32_t id;
	int fd;
	/* The ports bound here, for pending() to look at: guarded by lock,
	 * since one thread may wait while another binds. */
	pthread_mutex_t lock;
	uint32_t *ports;
	size_t nports, cap, cursor;
};

static void set_errno(int err)
{
	errno = -err;
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
				 unsigned int open_flags)
{
	struct xenevtchn_handle *h = calloc(1, sizeof(*h));
	struct sockaddr_un sa;
	size_t len;
	int err, type = SOCK_DGRAM;

	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	if (!(open_flags & XENEVTCHN_NO_CLOEXEC))
		type |= SOCK_CLOEXEC;
	xv_sim_lock_take();
	err = xv_sim_connect_locked();
	if (err)
		goto fail;
	memset(xv_sim_req, 0, sizeof(*xv_sim_req));
	xv_sim_req->op = XV_SIM_EVT_OPEN;
	err = xv_sim_call_locked(xv_sim_req, -1, NULL, 0, NULL);
	if (err)
		goto fail;
	h->id = xv_sim_rep->arg[0];
	h->fd = socket(AF_UNIX, type, 0);
	len = xv_sim_handle_addr(xv_sim_ev.instance, h->id, &sa);
	if (h->fd < 0 || bind(h->fd, (struct sockaddr *)&sa, (socklen_t)len) < 0) {
		err = -errno;
		if (h->fd >= 0)
			close(h->fd);
		memset(xv_sim_req, 0, sizeof(*xv_sim_req));
		xv_sim_req->op = XV_SIM_EVT_CLOSE;
		xv_sim_req->arg[0] = h->id;
		xv_sim_call_locked(xv_sim_req, -1, NULL, 0, NULL);
		goto fail;
	}
	xv_sim_lock_give();
	return h;
fail:
	xv_sim_lock_give();
	pthread_mutex_destroy(&h->lock);
	free(h);
	set_errno(err);
	return NULL;
}

int xenevtchn_close(xenevtchn_handle *h)
{
	if (!h)
		return 0;
	xv_sim_lock_take();
	memset(xv_sim_req, 0, sizeof(*xv_sim_req));
	xv_sim_req->op = XV_SIM_EVT_CLOSE;
	xv_sim_req->arg[0] = h->id;
	/* In a forked child the handle is the parent's: only the fd is ours. */
	xv_sim_call_locked(xv_sim_req, -1, NULL, 0, NULL);
	xv_sim_lock_give();
	close(h->fd);
	pthread_mutex_destroy(&h->lock);
	free(h->ports);
	free(h);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *h)
{
	return h->fd;
}

/* A request whose reply is a port, a handle or nothing: its arg0. */
static int call(uint32_t op, uint32_t a0, uint32_t a1, uint32_t a2)
{
	uint32_t rep[3];
	int err = xv_sim_call_args(op, a0, a1, a2, rep);

	return err ? err : (int)rep[0];
}

/* Record a port the daemon bound to @h; on failure the port is unbound
 * again (a port pending() cannot see would never be delivered). */
static int add_port(xenevtchn_handle *h, int port)
{
	uint32_t *p = NULL;
	size_t cap;

	pthread_mutex_lock(&h->lock);
	if (h->nports == h->cap) {
		cap = h->cap ? 2 * h->cap : 4;
		p = realloc(h->ports, cap * sizeof(*p));
		if (p) {
			h->ports = p;
			h->cap = cap;
		}
	}
	if (h->nports < h->cap)
		h->ports[h->nports++] = (uint32_t)port;
	else
		port = -ENOMEM;
	pthread_mutex_unlock(&h->lock);
	return port;
}

/* The doorbell stays in the socket while a port is queued, so the fd is
 * readable exactly as long as an event is pending: read it once none is.
 * Caller holds h->lock. */
static void settle_locked(xenevtchn_handle *h)
{
	uint32_t bell;
	int got = 0;

	if (xv_sim_event_queued(&xv_sim_ev, h->id, h->ports, h->nports))
		return;

	/* All of them: the daemon's repair of a dead notifier's bell can
	 * leave two (event.h).  Another thread on this handle may have read
	 * them first: then it is that thread's to re-arm. */
	while (recv(h->fd, &bell, sizeof(bell), MSG_DONTWAIT) >= 0)
		got = 1;
	if (got)
		xv_sim_event_rearm(&xv_sim_ev, h->id, h->ports, h->nports);
}

/* A port unbound while queued is no event any more. */
static void drop_port(xenevtchn_handle *h, evtchn_port_t port)
{
	size_t i;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nports; i++) {
		if (h->ports[i] == port) {
			h->ports[i] = h->ports[--h->nports];
			break;
		}
	}
	settle_locked(h);
	pthread_mutex_unlock(&h->lock);
}

static int bound(xenevtchn_handle *h, int r)
{
	if (r > 0 && add_port(h, r) < 0) {
		call(XV_SIM_EVT_UNBIND, h->id, (uint32_t)r, 0);
		r = -ENOMEM;
	}
	return r;
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *h,
						       uint32_t domid)
{
	int r = bound(h, call(XV_SIM_EVT_BIND_UNBOUND, h->id, domid, 0));

	if (r < 0) {
		set_errno(r);
		return -1;
	}
	return r;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *h,
						      uint32_t domid,
						      evtchn_port_t remote_port)
{
	int r = bound(h, call(XV_SIM_EVT_BIND_INTERDOMAIN, h->id, domid,
			      remote_port));

	if (r < 0) {
		set_errno(r);
		return -1;
	}
	return r;
}

int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
	int r = call(XV_SIM_EVT_UNBIND, h->id, port, 0);

	if (r < 0) {
		set_errno(r);
		return -1;
	}
	drop_port(h, port);
	return 0;
}

static int owned(xenevtchn_handle *h, evtchn_port_t port)
{
	if (port == 0 || port >= XV_SIM_MAX_PORTS) {
		errno = EINVAL;
		return 0;
	}
	/* The table's handle word is the daemon's record of the binding. */
	if (!xv_sim_ev.tab || atomic_load(&xv_sim_ev.tab->port[port].handle) != h->id) {
		errno = ENOTCONN;
		return 0;
	}
	return 1;
}

/* Straight to the peer handle's socket: the daemon never sees a notify. */
int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
	uint32_t remote;

	if (!owned(h, port))
		return -1;
	/* An unbound port (no peer yet, or the peer closed) drops it, as Xen
	 * does. */
	remote = atomic_load(&xv_sim_ev.tab->port[port].remote);
	if (remote)
		xv_sim_event_raise(&xv_sim_ev, remote);
	return 0;
}

int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
	/* Linux's evtchn write() skips ports of other handles silently. */
	if (port && port < XV_SIM_MAX_PORTS && xv_sim_ev.tab &&
	    atomic_load(&xv_sim_ev.tab->port[port].handle) == h->id)
		xv_sim_event_unmask(&xv_sim_ev, port);
	return 0;
}

/* Returns a queued port, or 0 if none was left. */
static uint32_t take(xenevtchn_handle *h)
{
	uint32_t port;

	pthread_mutex_lock(&h->lock);
	port = xv_sim_event_take(&xv_sim_ev, h->id, h->ports, h->nports,
				 &h->cursor);
	settle_locked(h);
	pthread_mutex_unlock(&h->lock);
	return port;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h)
{
	uint32_t bell, port;

	for (;;) {
		/* Blocks (unless the fd is non-blocking) until rung. A signal
		 * handler fails it with EINTR unless installed with
		 * SA_RESTART, as Linux's read() of /dev/xen/evtchn does in
		 * libxenevtchn: the caller sees -1 and errno EINTR. */
		if (recv(h->fd, &bell, sizeof(bell), MSG_PEEK) < 0)
			return -1;
		port = take(h);
		if (port)
			return (xenevtchn_port_or_error_t)port;
	}
}
