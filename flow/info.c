/* The descriptor, sizes, the description for logs and the error texts. */
/* snprintf's return value is C11; nothing POSIX is needed here. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "flow.h"

int xvchan_fd(const struct xvchan *x)
{
	/* Whoever polls the descriptor must also hear of the peer domain's
	 * destruction: the watch behind it is internal state, set up on
	 * this first need, not an observable change of the endpoint. */
	struct xvchan *mx = (struct xvchan *)x;

	if (!x)
		return -EINVAL;
	pthread_mutex_lock(&mx->lock);
	xv_flow_dom_start_locked(mx);
	pthread_mutex_unlock(&mx->lock);
	return x->pollfd;
}

int xvchan_ring_sizes(const struct xvchan *x, size_t *read_size,
		      size_t *write_size)
{
	if (!x)
		return -EINVAL;
	/* The server reads the left ring; the client the right one. */
	if (read_size)
		*read_size = (size_t)1 << (x->server ? x->layout.left_order :
						       x->layout.right_order);
	if (write_size)
		*write_size = (size_t)1 << (x->server ? x->layout.right_order :
							x->layout.left_order);
	return 0;
}

/* Whether the peer's domain is watched for its destruction (wait.c). */
static const char *xv_flow_dom_name(enum xv_flow_dom d, bool dead)
{
	if (dead)
		return "gone";
	switch (d) {
	case XV_FLOW_DOM_WATCHED:
		return "watched";
	case XV_FLOW_DOM_POLLED:
		return "port-polled";
	case XV_FLOW_DOM_OFF:
		return "unwatched";
	default:
		return "not-yet-watched";
	}
}

static const char *xv_flow_kind_name(enum xv_flow_peer_kind k)
{
	switch (k) {
	case XV_FLOW_PEER_NEW:
		return "half-close";
	case XV_FLOW_PEER_OLD:
		return "legacy";
	default:
		return "unknown";
	}
}

int xvchan_describe(const struct xvchan *x, char *buf, size_t len)
{
	/* Locking is not a change of the endpoint's observable state. */
	struct xvchan *mx = (struct xvchan *)x;
	size_t rs, ws;
	enum xv_flow_peer_kind kind;
	bool shut_wr, ended, dead;
	enum xv_flow_dom dom;
	uint8_t own_live;
	int n;

	if (!x || (!buf && len))
		return -EINVAL;
	xvchan_ring_sizes(x, &rs, &ws);
	/* The lock only guards the shared flags; the ring shadows are read
	 * as they are (a description is a snapshot for humans). */
	pthread_mutex_lock(&mx->lock);
	kind = x->peer_kind;
	shut_wr = x->shut_wr;
	ended = x->ended;
	own_live = x->own_live;
	dom = x->dom;
	dead = x->peer_dead;
	pthread_mutex_unlock(&mx->lock);
	n = snprintf(buf, len,
		"((role %s) (domid %u) (peer_domid %u) (path %s) "
		"(ring_ref %" PRIu32 ") (port %d) "
		"(read_size %zu) (write_size %zu) "
		"(own_live %u) (peer_live %u) (peer_flags 0x%02x) "
		"(peer %s) (peer_domain %s) (shut_wr %s) (ended %s) (eof %s) "
		"(rx (cons %" PRIu32 ") (cons_published %" PRIu32 ") "
		"(prod_seen %" PRIu32 ")) "
		"(tx (prod %" PRIu32 ") (cons_seen %" PRIu32 ")))",
		x->server ? "server" : "client", x->own_domid, x->peer_domid,
		x->path ? x->path : "-", x->ring_ref, x->port, rs, ws,
		own_live, xv_ring_peer_live(&x->ep),
		xv_ring_peer_flags(&x->ep), xv_flow_kind_name(kind),
		xv_flow_dom_name(dom, dead),
		shut_wr ? "true" : "false", ended ? "true" : "false",
		x->eof ? "true" : "false",
		x->ep.rx.own_shadow, x->ep.rx.own_published, x->ep.rx.peer_seen,
		x->ep.tx.own_shadow, x->ep.tx.peer_seen);
	return n < 0 ? -EINVAL : n;
}

const char *xvchan_strerror(int err)
{
	if (err > 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case -EINVAL:
		return "invalid argument (port name, domid, ring size, "
		       "buffer or flag)";
	case -ENOMEM:
		return "out of memory";
	case -ETIMEDOUT:
		return "timed out waiting for the vchan peer";
	case -EADDRINUSE:
		return "vchan port already published in xenstore";
	case -ECONNREFUSED:
		return "vchan server is not waiting for a client";
	case -EAGAIN:
		return "vchan would block (poll its fd and retry), or xenstore "
		       "kept conflicting (retry later)";
	case -ECANCELED:
		return "vchan wait cancelled through cancel_fd";
	case -EBADF:
		return "bad file descriptor (cancel_fd not open?)";
	case -EPIPE:
		return "peer closed the vchan";
	case -ESHUTDOWN:
		return "vchan already shut down for writing on this side";
	case -EPROTO:
		return "peer violated the vchan protocol";
	case -EACCES:
		return "permission denied by xenstore or the grant table";
	case -ENOENT:
		return "Xen interface or xenstore entry not found";
	case -ENODEV:
	case -ENXIO:
		return "Xen device not available on this host";
	case -ENOSPC:
		return "out of grant or event-channel resources";
	case -EMFILE:
		return "too many open files for event channel or grants";
	default:
		/* INT_MIN has no negation. */
		return err == INT_MIN ? "unknown error" : strerror(-err);
	}
}
