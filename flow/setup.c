/*
 * Endpoint set-up: the server shares and publishes, the client looks up,
 * maps and connects. Both follow libxenvchan's order on the wire (event
 * channel first, so the control page can carry its death notification).
 */
/* strdup() is POSIX, hidden by -std=c11 otherwise. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

void xvchan_config_init(struct xvchan_config *cfg)
{
	if (!cfg)
		return;
	*cfg = (struct xvchan_config){
		.flags = 0,
		.connect_timeout_ms = -1,
		.close_timeout_ms = 5000,
		.io_timeout_ms = -1,
		.spin_us = 200,
		.path = NULL,
		.cancel_fd = -1,
	};
}

/* The words of struct xvchan_config that no option uses yet are all 0. */
static bool xv_flow_config_reserved_clear(const struct xvchan_config *cfg)
{
	size_t i;

	for (i = 0; i < sizeof(cfg->reserved) / sizeof(cfg->reserved[0]); i++)
		if (cfg->reserved[i])
			return false;
	return true;
}

/* Checks shared by both roles; builds the endpoint shell with its xenstore
 * handle, own domid and path. */
static int xv_flow_new(struct xvchan **out, bool server,
		       unsigned int peer_domid, const char *port,
		       const struct xvchan_config *cfg)
{
	struct xvchan *x;
	int err;

	if ((cfg->flags & ~(unsigned int)XVCHAN_NONBLOCK) ||
	    peer_domid > XVCHAN_DOMID_MAX || cfg->cancel_fd < -1 ||
	    !xv_flow_config_reserved_clear(cfg))
		return -EINVAL;
	err = cfg->path ? xv_xs_path_check(cfg->path) : xv_xs_port_check(port);
	if (err)
		return err;
	/* Checked now: a closed one would only show as POLLNVAL at the
	 * first wait, far from the mistake. */
	if (cfg->cancel_fd >= 0 && fcntl(cfg->cancel_fd, F_GETFD) < 0)
		return -EBADF;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	err = xv_flow_wait_init(x);
	if (err) {
		free(x);
		return err;
	}
	x->server = server;
	x->nonblock = cfg->flags & XVCHAN_NONBLOCK;
	x->peer_domid = peer_domid;
	x->close_timeout_ms = cfg->close_timeout_ms;
	x->io_timeout_ms = cfg->io_timeout_ms;
	x->cancel_fd = cfg->cancel_fd;
	/* The spin stands in for a sleep, and non-blocking calls never
	 * sleep: a poll loop's -EAGAIN must not cost a spin. */
	x->spin_us = x->nonblock ? 0 : cfg->spin_us;
	x->rx_spin.budget_ns = (int64_t)x->spin_us * 1000;
	x->tx_spin.budget_ns = x->rx_spin.budget_ns;
	x->fd = -1;
	*out = x;

	err = xv_xs_open(&x->xs);
	if (!err)
		err = xv_xs_own_domid(x->xs, &x->own_domid);
	if (err)
		return err;
	if (cfg->path) {
		x->path = strdup(cfg->path);
		return x->path ? 0 : -ENOMEM;
	}
	if (server)
		return xv_xs_path_build(&x->path, x->own_domid, peer_domid,
					port);
	return xv_xs_path_build(&x->path, peer_domid, x->own_domid, port);
}

void xv_flow_teardown(struct xvchan *x)
{
	/* Orders are only meaningful once an area was mapped with them. */
	unsigned int lp = x->left_area ?
		xv_ring_layout_pages(x->layout.left_order) : 0;
	unsigned int rp = x->right_area ?
		xv_ring_layout_pages(x->layout.right_order) : 0;

	if (x->published)
		(void)xv_xs_unpublish(x->xs, x->path);
	if (x->server) {
		if (rp)
			(void)xv_flow_xen_unshare(x->xen, x->right_area, rp);
		if (lp)
			(void)xv_flow_xen_unshare(x->xen, x->left_area, lp);
		if (x->page)
			(void)xv_flow_xen_unshare(x->xen, x->page, 1);
	} else {
		if (rp)
			(void)xv_flow_xen_unmap(x->xen, x->right_area, rp);
		if (lp)
			(void)xv_flow_xen_unmap(x->xen, x->left_area, lp);
		if (x->page)
			(void)xv_flow_xen_unmap(x->xen, x->page, 1);
	}
	xv_flow_xen_close(x->xen);
	xv_xs_close(x->dom_xs);
	xv_xs_close(x->xs);
	free(x->path);
	xv_flow_wait_exit(x);
	free(x);
}

/* Data area of one ring: its granted pages, or its slot in the page. */
static void *xv_flow_ring_data(struct xvchan *x, bool left)
{
	void *area = left ? x->left_area : x->right_area;

	if (area)
		return area;
	return (unsigned char *)x->page +
	       xv_ring_inpage_offset(&x->layout, left);
}

static int xv_flow_share_ring(struct xvchan *x, bool left)
{
	unsigned int order = left ? x->layout.left_order :
				    x->layout.right_order;
	unsigned int n = xv_ring_layout_pages(order);
	unsigned int first = left ? 0 :
		xv_ring_layout_pages(x->layout.left_order);
	uint32_t refs[XV_WIRE_RING_MAX / XV_WIRE_PAGE_SIZE];
	unsigned int i;
	int err;

	if (!n)
		return 0;
	/* Writable for the client even for the ring it only reads:
	 * ocaml-vchan maps every ring read-write and would fail otherwise.
	 * Our client maps that one read-only. */
	err = xv_flow_xen_share_pages(x->xen, x->peer_domid, n, refs,
				      left ? &x->left_area : &x->right_area);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		xv_ring_page_set_grant(x->page, first + i, refs[i]);
	return 0;
}

static int xv_flow_wait_client(struct xvchan *x, int timeout_ms)
{
	int64_t deadline = xv_flow_deadline(timeout_ms);

	for (;;) {
		uint64_t seen = xv_flow_events(x);
		int err;

		/* The client always sends an event after setting its live
		 * byte, so no arm bit is needed to be woken. */
		if (xv_ring_peer_live(&x->ep) != XV_WIRE_LIVE_WAITING)
			break;
		err = xv_flow_wait(x, seen, deadline);
		if (err)
			return err;
	}
	pthread_mutex_lock(&x->lock);
	xv_flow_update_peer_locked(x);
	pthread_mutex_unlock(&x->lock);
	return 0;
}

int xvchan_server(struct xvchan **out, unsigned int client_domid,
		  const char *port, size_t read_size, size_t write_size,
		  const struct xvchan_config *cfg)
{
	struct xvchan_config def;
	struct xv_ring_layout layout;
	struct xvchan *x = NULL;
	void *page;
	int err;

	if (!out)
		return -EINVAL;
	if (!cfg) {
		xvchan_config_init(&def);
		cfg = &def;
	}
	err = xv_ring_layout_choose(read_size, write_size, &layout);
	if (err)
		return err;
	err = xv_flow_new(&x, true, client_domid, port, cfg);
	if (err)
		goto fail;
	x->layout = layout;
	err = xv_flow_xen_open(&x->xen, true);
	if (err)
		goto fail;
	err = xv_flow_xen_bind_unbound(x->xen, client_domid);
	if (err < 0)
		goto fail;
	x->port = err;
	x->fd = xv_flow_xen_fd(x->xen);
	err = xv_flow_fds_init(x);
	if (err)
		goto fail;
	/* If we die, the grant driver clears srv_live and signals the
	 * client: a dead server looks like a closed one. */
	err = xv_flow_xen_share_page_notify(x->xen, client_domid,
		offsetof(struct xv_wire_page, srv_live), &x->ring_ref, &page);
	if (err)
		goto fail;
	x->page = page;
	xv_ring_page_init_server(x->page, &layout, XV_WIRE_FLAG_HALF_CLOSE);
	err = xv_flow_share_ring(x, true);
	if (!err)
		err = xv_flow_share_ring(x, false);
	if (!err)
		err = xv_ring_endpoint_init(&x->ep, x->page, XV_RING_SERVER,
					    &layout, xv_flow_ring_data(x, true),
					    xv_flow_ring_data(x, false));
	if (err)
		goto fail;
	x->own_live = XV_WIRE_LIVE_CONNECTED;
	/* Its retries may pause (a conflicting publication beside ours):
	 * a blocking server's cancel_fd ends them; a non-blocking one
	 * looks at it only in xvchan_client(). */
	err = xv_xs_publish(x->xs, x->path, client_domid, x->ring_ref,
			    (uint32_t)x->port, x->nonblock ? -1 : x->cancel_fd);
	if (err)
		goto fail;
	x->published = true;
	if (!x->nonblock) {
		err = xv_flow_wait_client(x, cfg->connect_timeout_ms);
		if (err)
			goto fail;
	}
	*out = x;
	return 0;
fail:
	if (x)
		xv_flow_teardown(x);
	return err;
}

static int xv_flow_map_ring(struct xvchan *x, bool left)
{
	unsigned int order = left ? x->layout.left_order :
				    x->layout.right_order;
	unsigned int n = xv_ring_layout_pages(order);
	unsigned int first = left ? 0 :
		xv_ring_layout_pages(x->layout.left_order);
	uint32_t refs[XV_WIRE_RING_MAX / XV_WIRE_PAGE_SIZE];
	unsigned int i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		refs[i] = xv_ring_page_grant(x->page, first + i);
	/* The left ring is the one we write; the right one we only read,
	 * so we map it read-only: a bug here cannot scribble on it. */
	return xv_flow_xen_map_pages(x->xen, x->peer_domid, n, refs, left,
				     left ? &x->left_area : &x->right_area);
}

int xvchan_client(struct xvchan **out, unsigned int server_domid,
		  const char *port, const struct xvchan_config *cfg)
{
	struct xvchan_config def;
	struct xvchan *x = NULL;
	uint32_t evport;
	void *page;
	int err, timeout;

	if (!out)
		return -EINVAL;
	if (!cfg) {
		xvchan_config_init(&def);
		cfg = &def;
	}
	err = xv_flow_new(&x, false, server_domid, port, cfg);
	if (err)
		goto fail;
	timeout = cfg->connect_timeout_ms < 0 ? -1 : cfg->connect_timeout_ms;
	/* The one wait a non-blocking client makes too. */
	err = xv_xs_lookup(x->xs, x->path, timeout, x->cancel_fd,
			   &x->ring_ref, &evport);
	if (err)
		goto fail;
	err = xv_flow_xen_open(&x->xen, false);
	if (err)
		goto fail;
	err = xv_flow_xen_bind_interdomain(x->xen, server_domid, evport);
	if (err < 0)
		goto fail_refused;
	x->port = err;
	x->fd = xv_flow_xen_fd(x->xen);
	err = xv_flow_fds_init(x);
	if (err)
		goto fail;
	/* If we die, the grant driver clears cli_live and signals the
	 * server. */
	err = xv_flow_xen_map_page_notify(x->xen, server_domid, x->ring_ref,
		offsetof(struct xv_wire_page, cli_live), &page);
	if (err)
		goto fail_refused;
	x->page = page;
	err = xv_ring_page_read_layout(x->page, &x->layout);
	if (err)
		goto fail;
	err = xv_flow_map_ring(x, true);
	if (!err)
		err = xv_flow_map_ring(x, false);
	/* The control page mapped, so a server is there: refs in its grant
	 * list that Xen refuses us are a lie, not a stale entry. */
	if (err == -EINVAL || err == -ENOENT)
		err = -EPROTO;
	if (!err)
		err = xv_ring_endpoint_init(&x->ep, x->page, XV_RING_CLIENT,
					    &x->layout,
					    xv_flow_ring_data(x, true),
					    xv_flow_ring_data(x, false));
	if (err)
		goto fail;
	if (xv_ring_peer_live(&x->ep) != XV_WIRE_LIVE_CONNECTED) {
		err = -ECONNREFUSED;
		goto fail;
	}
	x->peer_kind = (xv_ring_peer_flags(&x->ep) & XV_WIRE_FLAG_HALF_CLOSE) ?
		       XV_FLOW_PEER_NEW : XV_FLOW_PEER_OLD;
	/* Advertise the extension /before/ the live byte says connected:
	 * the release store of cli_live in xv_ring_client_connect() orders
	 * it, so a server that sees us connected also sees the flag. */
	xv_ring_set_flags(&x->ep, XV_WIRE_FLAG_HALF_CLOSE);
	err = xv_ring_client_connect(&x->ep, 0);
	if (err)
		goto fail;
	x->own_live = XV_WIRE_LIVE_CONNECTED;
	xv_flow_kick(x);
	/* The client never uses xenstore again.  Closed only now, the
	 * server waiting for the kick above does not wait for the close
	 * (see xv_xs_lookup()). */
	xv_xs_close(x->xs);
	x->xs = NULL;
	*out = x;
	return 0;
fail_refused:
	/* Our own arguments are valid, so Xen refusing the published port or
	 * grant means nobody serves them any more: the entry of a server
	 * that died without unpublishing. */
	if (err == -EINVAL || err == -ENOENT)
		err = -ECONNREFUSED;
fail:
	if (x)
		xv_flow_teardown(x);
	return err;
}
