/*
 * EVTCHNOP_status through libxencall, as flow/xen.c asks it: for the
 * event-channel tests on the simulator (whose preload answers it) and on
 * a real Xen alike.
 */
#ifndef XV_TEST_PORT_STATUS_H
#define XV_TEST_PORT_STATUS_H

/* The hypercall numbers of today's interface: without it, xen.h gives
 * event_channel_op the compat number of Xen 3.0 (16, not 32). It must
 * come before any header that brings xen.h, so include this one first. */
#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif
#include <errno.h>
#include <stdint.h>
#include <xencall.h>
#include <xen/xen.h>
#include <xen/event_channel.h>

#if __XEN_INTERFACE_VERSION__ < 0x00030202
#error "port-status.h must be included before any Xen header"
#endif

/* The status of @port of domain @dom (DOMID_SELF: the caller's): the
 * EVTCHNSTAT_* value (>= 0) with, for an unbound port, the domain allowed
 * to bind it in *@remote_dom, and for an interdomain one the other end in
 * *@remote_dom and *@remote_port; or -errno. */
static inline int xv_port_status(unsigned int dom, unsigned int port,
				 unsigned int *remote_dom,
				 unsigned int *remote_port)
{
	xencall_handle *call = xencall_open(NULL, 0);
	struct evtchn_status *st;
	int rc = -ENOMEM;

	if (!call)
		return -errno;
	st = xencall_alloc_buffer(call, sizeof(*st));
	if (st) {
		*st = (struct evtchn_status){
			.dom = (domid_t)dom,
			.port = port,
		};
		rc = xencall2(call, __HYPERVISOR_event_channel_op,
			      EVTCHNOP_status, (uint64_t)(uintptr_t)st);
		if (rc < 0) {
			rc = -errno;
		} else {
			rc = (int)st->status;
			if (st->status == EVTCHNSTAT_unbound) {
				*remote_dom = st->u.unbound.dom;
			} else if (st->status == EVTCHNSTAT_interdomain) {
				*remote_dom = st->u.interdomain.dom;
				*remote_port = st->u.interdomain.port;
			}
		}
		xencall_free_buffer(call, st);
	}
	xencall_close(call);
	return rc;
}

#endif
