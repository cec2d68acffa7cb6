/*
 * xencall_* over the simulator: the handle, its buffers and xencall2(),
 * as flow/xen.c uses them to ask EVTCHNOP_status of its own port.  That
 * is the one hypercall modelled (the daemon answers it from its port
 * table); any other is ENOSYS, as from a hypervisor without it.  The
 * other xencall_* functions are not interposed: nothing run on the
 * simulator calls them.
 *
 * Linux's privcmd driver refuses every hypercall in a domU (EPERM) unless
 * the domain is some device model's target or the module was loaded with
 * unrestricted=1 (since 2024; Debian 12's 6.1 kernels have it).  So does
 * the simulator for a guest (the daemon refuses), unless
 * XVCHAN_SIM_PRIVCMD=unrestricted stands for that parameter; dom0 is
 * never restricted.
 */
/* The hypercall numbers of today's interface: without it, xen.h gives
 * event_channel_op the compat number of Xen 3.0 (16, not 32). */
#define __XEN_TOOLS__ 1
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xencall.h>
#include <xen/xen.h>
#include <xen/event_channel.h>

#include "preload.h"

/* The handle holds nothing: the process's control connection serves
 * every handle (preload.h). */
struct xencall_handle {
	int unused;
};

xencall_handle *xencall_open(struct xentoollog_logger *logger,
			     unsigned int open_flags)
{
	return calloc(1, sizeof(struct xencall_handle));
}

int xencall_close(xencall_handle *xcall)
{
	free(xcall);
	return 0;
}

/* Xen's buffers are locked pages the hypervisor may always touch; here
 * the daemon never touches them at all. */
void *xencall_alloc_buffer(xencall_handle *xcall, size_t size)
{
	return calloc(1, size ? size : 1);
}

void xencall_free_buffer(xencall_handle *xcall, void *buffer)
{
	free(buffer);
}

/* XVCHAN_SIM_PRIVCMD, for the daemon: it knows our domain. */
static bool privcmd_unrestricted(void)
{
	const char *v = getenv(XV_SIM_ENV_PRIVCMD);

	return v && !strcmp(v, "unrestricted");
}

static int evtchn_status(struct evtchn_status *st)
{
	uint32_t rep[3];
	int err;

	err = xv_sim_call_args(XV_SIM_EVT_STATUS, st->dom, st->port,
			       privcmd_unrestricted(), rep);
	if (err)
		return err;
	memset(&st->u, 0, sizeof(st->u));
	st->status = rep[0];
	st->vcpu = 0;
	if (st->status == EVTCHNSTAT_unbound) {
		st->u.unbound.dom = (domid_t)rep[1];
	} else if (st->status == EVTCHNSTAT_interdomain) {
		st->u.interdomain.dom = (domid_t)rep[1];
		st->u.interdomain.port = rep[2];
	}
	return 0;
}

/* As libxencall on Linux: the hypercall's negative result comes back as
 * -1 with errno set. */
int xencall2(xencall_handle *xcall, unsigned int op, uint64_t arg1,
	     uint64_t arg2)
{
	int err = -ENOSYS;

	if (op == __HYPERVISOR_event_channel_op && arg1 == EVTCHNOP_status)
		err = evtchn_status((struct evtchn_status *)(uintptr_t)arg2);
	if (err < 0) {
		errno = -err;
		return -1;
	}
	return 0;
}
