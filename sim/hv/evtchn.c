/* Event-channel allocation and Xen's bind checks (xen/common/event_channel.c
 * semantics: a port is bound interdomain only from the domain it was
 * allocated for, and closing one end leaves the other unbound). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>

#include "hv.h"

static struct xv_hv_handle *own_handle(struct xv_hv *hv, struct xv_hv_conn *c,
				       uint32_t id)
{
	if (id == 0 || id >= XV_SIM_MAX_HANDLES || hv->handle[id].conn != c)
		return NULL;
	return &hv->handle[id];
}

int xv_hv_evt_open(struct xv_hv *hv, struct xv_hv_conn *c, uint32_t *id)
{
	uint32_t i, h;

	for (i = 0; i < XV_SIM_MAX_HANDLES - 1; i++) {
		h = 1 + (hv->handle_hint + i) % (XV_SIM_MAX_HANDLES - 1);
		if (hv->handle[h].conn)
			continue;
		hv->handle[h].conn = c;
		/* E1 (event.h): a bell left rung by the id's last holder
		 * would keep this handle from ever being rung. */
		atomic_store(&hv->ev.tab->bell[h], 0);
		hv->handle_hint = h;
		*id = h;
		return 0;
	}
	return -EMFILE;
}

/* Port 0 is never handed out: Xen reserves it, and vchan code treats it as
 * "none". */
static int port_alloc(struct xv_hv *hv, uint32_t handle, unsigned int domid,
		      uint32_t *port)
{
	uint32_t i, p;

	for (i = 0; i < XV_SIM_MAX_PORTS - 1; i++) {
		p = 1 + (hv->port_hint + i) % (XV_SIM_MAX_PORTS - 1);
		if (hv->port[p].state != XV_HV_PORT_FREE)
			continue;
		hv->port[p].domid = domid;
		hv->port[p].handle = handle;
		/* E1 (event.h): reset state and remote /before/ publishing
		 * the handle; pairs with E2 in xv_sim_event_raise(). */
		atomic_store(&hv->ev.tab->port[p].state, 0);
		atomic_store(&hv->ev.tab->port[p].remote, 0);
		atomic_store(&hv->ev.tab->port[p].handle, handle);
		hv->port_hint = p;
		*port = p;
		return 0;
	}
	return -ENOSPC;
}

static void port_close(struct xv_hv *hv, uint32_t p)
{
	struct xv_hv_port *port = &hv->port[p];

	if (port->state == XV_HV_PORT_CONNECTED) {
		/* Set together at bind, cleared together here: the two
		 * ends always name each other. */
		struct xv_hv_port *q = &hv->port[port->remote_port];

		q->state = XV_HV_PORT_UNBOUND;
		q->remote_domid = port->domid;
		q->remote_port = 0;
		atomic_store(&hv->ev.tab->port[port->remote_port].remote, 0);
	}
	atomic_store(&hv->ev.tab->port[p].handle, 0);
	atomic_store(&hv->ev.tab->port[p].remote, 0);
	port->state = XV_HV_PORT_FREE;
	port->remote_port = 0;
	port->handle = 0;
}

/* Returns how many ports it closed, or -EBADF. */
static int handle_close(struct xv_hv *hv, struct xv_hv_conn *c, uint32_t id)
{
	uint32_t p;
	int n = 0;

	if (!own_handle(hv, c, id))
		return -EBADF;
	for (p = 1; p < XV_SIM_MAX_PORTS; p++) {
		if (hv->port[p].state != XV_HV_PORT_FREE && hv->port[p].handle == id) {
			port_close(hv, p);
			n++;
		}
	}
	hv->handle[id].conn = NULL;
	return n;
}

int xv_hv_evt_close(struct xv_hv *hv, struct xv_hv_conn *c, uint32_t id)
{
	int n = handle_close(hv, c, id);

	return n < 0 ? n : 0;
}

int xv_hv_evt_bind_unbound(struct xv_hv *hv, struct xv_hv_conn *c,
			   uint32_t handle, uint32_t remote_domid, uint32_t *port)
{
	int err;

	if (!own_handle(hv, c, handle))
		return -EBADF;
	/* As Xen, the remote domain need not exist yet (DOMID_SELF aside). */
	if (remote_domid == 0x7ff0u)
		remote_domid = c->domid;
	else if (remote_domid > XV_SIM_MAX_DOMID)
		return -EINVAL;
	err = port_alloc(hv, handle, c->domid, port);
	if (err)
		return err;
	hv->port[*port].state = XV_HV_PORT_UNBOUND;
	hv->port[*port].remote_domid = remote_domid;
	return 0;
}

int xv_hv_evt_bind_interdomain(struct xv_hv *hv, struct xv_hv_conn *c,
			       uint32_t handle, uint32_t remote_domid,
			       uint32_t remote_port, uint32_t *port)
{
	struct xv_hv_port *r;
	int err;

	if (!own_handle(hv, c, handle))
		return -EBADF;
	if (remote_domid == 0x7ff0u)
		remote_domid = c->domid;
	if (remote_domid > XV_SIM_MAX_DOMID || !hv->domain[remote_domid])
		return -ESRCH;
	if (remote_port == 0 || remote_port >= XV_SIM_MAX_PORTS)
		return -EINVAL;
	r = &hv->port[remote_port];
	if (r->state != XV_HV_PORT_UNBOUND || r->domid != remote_domid ||
	    r->remote_domid != c->domid)
		return -EINVAL;
	err = port_alloc(hv, handle, c->domid, port);
	if (err)
		return err;
	hv->port[*port].state = XV_HV_PORT_CONNECTED;
	hv->port[*port].remote_port = remote_port;
	r->state = XV_HV_PORT_CONNECTED;
	r->remote_port = *port;
	atomic_store(&hv->ev.tab->port[*port].remote, remote_port);
	atomic_store(&hv->ev.tab->port[remote_port].remote, *port);
	return 0;
}

int xv_hv_evt_unbind(struct xv_hv *hv, struct xv_hv_conn *c, uint32_t handle,
		     uint32_t port)
{
	if (!own_handle(hv, c, handle))
		return -EBADF;
	if (port == 0 || port >= XV_SIM_MAX_PORTS)
		return -EINVAL;
	/* The Linux evtchn driver's answer for a port bound elsewhere. */
	if (hv->port[port].state == XV_HV_PORT_FREE ||
	    hv->port[port].handle != handle)
		return -ENOTCONN;
	port_close(hv, port);
	return 0;
}

/* The values of xen/event_channel.h's EVTCHNSTAT_*. */
enum { STAT_CLOSED = 0, STAT_UNBOUND = 1, STAT_INTERDOMAIN = 2 };

int xv_hv_evt_status(struct xv_hv *hv, struct xv_hv_conn *c, uint32_t domid,
		     uint32_t port, bool unrestricted, struct xv_sim_msg *rep)
{
	const struct xv_hv_port *p;

	/* The guest's privcmd, not Xen, refuses: before any other check. */
	if (c->domid != 0 && !unrestricted)
		return -EPERM;
	if (domid == 0x7ff0u)
		domid = c->domid;
	else if (domid != c->domid && c->domid != 0)
		return -EPERM;
	if (domid > XV_SIM_MAX_DOMID || !hv->domain[domid])
		return -ESRCH;
	if (port >= XV_SIM_MAX_PORTS)
		return -EINVAL;
	/* The table is shared by all domains, each seeing its own ports:
	 * another domain's port is, to this one, a port not in use. */
	p = &hv->port[port];
	rep->arg[0] = STAT_CLOSED;
	if (port == 0 || p->state == XV_HV_PORT_FREE || p->domid != domid)
		return 0;
	if (p->state == XV_HV_PORT_UNBOUND) {
		rep->arg[0] = STAT_UNBOUND;
		rep->arg[1] = p->remote_domid;
	} else {
		rep->arg[0] = STAT_INTERDOMAIN;
		rep->arg[1] = hv->port[p->remote_port].domid;
		rep->arg[2] = p->remote_port;
	}
	return 0;
}

int xv_hv_evt_owned(struct xv_hv *hv, uint32_t port, unsigned int domid)
{
	return port && port < XV_SIM_MAX_PORTS &&
	       hv->port[port].state != XV_HV_PORT_FREE &&
	       hv->port[port].domid == domid;
}

uint32_t xv_hv_evt_remote(struct xv_hv *hv, uint32_t port)
{
	if (port == 0 || port >= XV_SIM_MAX_PORTS ||
	    hv->port[port].state != XV_HV_PORT_CONNECTED)
		return 0;
	return hv->port[port].remote_port;
}

unsigned int xv_hv_evt_conn_gone(struct xv_hv *hv, struct xv_hv_conn *c)
{
	unsigned int n = 0;
	uint32_t h;

	for (h = 1; h < XV_SIM_MAX_HANDLES; h++)
		if (hv->handle[h].conn == c)
			n += (unsigned int)handle_close(hv, c, h);
	return n;
}
