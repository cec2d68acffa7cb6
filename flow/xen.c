/*
 * The one file that calls libxengnttab, libxenevtchn and libxencall (the
 * Xen osdep idea): each failure, reported by the Xen libraries as -1 or
 * NULL with errno, leaves here as a negative errno value.
 */
/* The hypercall numbers of today's interface: without it, xen.h gives
 * event_channel_op the compat number of Xen 3.0 (16, not 32). */
#define __XEN_TOOLS__ 1
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xencall.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xentoollog.h>

#include "xen.h"

struct xv_flow_xen {
	xenevtchn_handle *evtchn;
	xengntshr_handle *gntshr;	/* server only */
	xengnttab_handle *gnttab;	/* client only */
	evtchn_port_t port;	/* 0 while unbound: Xen never uses it */
	/* Opened on the first xv_flow_xen_port_connected(): the hypercall
	 * and its argument, in memory the hypervisor may always touch. */
	xencall_handle *call;
	struct evtchn_status *status;
};

/* Xen's libraries report every failure on stderr unless given a logger
 * of their own (libxengnttab: "gntshr: error: ioctl failed" for a share
 * past gntalloc's limit; libxencall: a guest without the privcmd
 * device). The library prints nothing (include/xvchan.h): its callers
 * get -errno. */
static void xv_flow_xen_log_nothing(struct xentoollog_logger *logger,
				    xentoollog_level level, int errnoval,
				    const char *context, const char *format,
				    va_list args)
{
}

static struct xentoollog_logger xv_flow_xen_quiet = {
	.vmessage = xv_flow_xen_log_nothing,
};

/* A Xen library that failed without setting errno still must not look
 * like success to our callers. */
static int xv_flow_xen_err(void)
{
	return errno > 0 ? -errno : -EIO;
}

int xv_flow_xen_open(struct xv_flow_xen **out, bool server)
{
	struct xv_flow_xen *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return -ENOMEM;
	errno = 0;
	h->evtchn = xenevtchn_open(&xv_flow_xen_quiet, 0);
	if (!h->evtchn)
		goto fail;
	errno = 0;
	if (server)
		h->gntshr = xengntshr_open(&xv_flow_xen_quiet, 0);
	else
		h->gnttab = xengnttab_open(&xv_flow_xen_quiet, 0);
	if (!h->gntshr && !h->gnttab)
		goto fail;
	*out = h;
	return 0;
fail:
	err = xv_flow_xen_err();
	xv_flow_xen_close(h);
	return err;
}

/* Close the hypercall handle: a refused question is not asked again, so
 * it need not hold the privcmd descriptors. */
static void xv_flow_xen_call_close(struct xv_flow_xen *h)
{
	if (h->status)
		xencall_free_buffer(h->call, h->status);
	if (h->call)
		xencall_close(h->call);
	h->status = NULL;
	h->call = NULL;
}

void xv_flow_xen_close(struct xv_flow_xen *h)
{
	if (!h)
		return;
	if (h->evtchn) {
		if (h->port)
			xenevtchn_unbind(h->evtchn, h->port);
		xenevtchn_close(h->evtchn);
	}
	if (h->gntshr)
		xengntshr_close(h->gntshr);
	if (h->gnttab)
		xengnttab_close(h->gnttab);
	xv_flow_xen_call_close(h);
	free(h);
}

/* A freshly bound port may start masked; libxenvchan unmasks it too. */
static int xv_flow_xen_bound(struct xv_flow_xen *h, xenevtchn_port_or_error_t p)
{
	if (p < 0)
		return xv_flow_xen_err();
	h->port = (evtchn_port_t)p;
	errno = 0;
	if (xenevtchn_unmask(h->evtchn, h->port) < 0)
		return xv_flow_xen_err();
	return (int)p;
}

int xv_flow_xen_bind_unbound(struct xv_flow_xen *h, unsigned int remote_domid)
{
	errno = 0;
	return xv_flow_xen_bound(h,
		xenevtchn_bind_unbound_port(h->evtchn, remote_domid));
}

int xv_flow_xen_bind_interdomain(struct xv_flow_xen *h,
				 unsigned int remote_domid,
				 uint32_t remote_port)
{
	errno = 0;
	return xv_flow_xen_bound(h,
		xenevtchn_bind_interdomain(h->evtchn, remote_domid,
					   remote_port));
}

int xv_flow_xen_fd(const struct xv_flow_xen *h)
{
	return xenevtchn_fd(h->evtchn);
}

int xv_flow_xen_notify(struct xv_flow_xen *h)
{
	errno = 0;
	if (xenevtchn_notify(h->evtchn, h->port) < 0)
		return xv_flow_xen_err();
	return 0;
}

int xv_flow_xen_take_event(struct xv_flow_xen *h)
{
	xenevtchn_port_or_error_t p;

	errno = 0;
	p = xenevtchn_pending(h->evtchn);
	if (p < 0)
		return xv_flow_xen_err();
	errno = 0;
	if (xenevtchn_unmask(h->evtchn, (evtchn_port_t)p) < 0)
		return xv_flow_xen_err();
	return 0;
}

/*
 * EVTCHNOP_status on our own port.  Xen closes a destroyed domain's ports
 * without a word to the other ends: each is left unbound, which only this
 * question reveals.  Xen lets any domain ask it of its own ports
 * (DOMID_SELF); Linux's privcmd refuses a domU's hypercalls (EPERM) unless
 * loaded with unrestricted=1.
 */
int xv_flow_xen_port_connected(struct xv_flow_xen *h)
{
	int err;

	if (!h->call) {
		errno = 0;
		h->call = xencall_open(&xv_flow_xen_quiet, 0);
		if (!h->call)
			return xv_flow_xen_err();
		errno = 0;
		h->status = xencall_alloc_buffer(h->call, sizeof(*h->status));
		if (!h->status)
			goto fail;
	}
	*h->status = (struct evtchn_status){
		.dom = DOMID_SELF,
		.port = h->port,
	};
	errno = 0;
	if (xencall2(h->call, __HYPERVISOR_event_channel_op, EVTCHNOP_status,
		     (uint64_t)(uintptr_t)h->status) < 0)
		goto fail;
	return h->status->status == EVTCHNSTAT_interdomain;
fail:
	err = xv_flow_xen_err();
	xv_flow_xen_call_close(h);
	return err;
}

int xv_flow_xen_share_page_notify(struct xv_flow_xen *h, unsigned int domid,
				  size_t notify_offset, uint32_t *ref,
				  void **page)
{
	void *p;

	errno = 0;
	p = xengntshr_share_page_notify(h->gntshr, domid, ref, 1,
					(uint32_t)notify_offset, h->port);
	if (!p)
		return xv_flow_xen_err();
	*page = p;
	return 0;
}

int xv_flow_xen_share_pages(struct xv_flow_xen *h, unsigned int domid,
			    unsigned int count, uint32_t *refs, void **area)
{
	void *p;

	errno = 0;
	p = xengntshr_share_pages(h->gntshr, domid, (int)count, refs, 1);
	if (!p)
		return xv_flow_xen_err();
	*area = p;
	return 0;
}

int xv_flow_xen_unshare(struct xv_flow_xen *h, void *area, unsigned int count)
{
	errno = 0;
	if (xengntshr_unshare(h->gntshr, area, count) < 0)
		return xv_flow_xen_err();
	return 0;
}

int xv_flow_xen_map_page_notify(struct xv_flow_xen *h, unsigned int domid,
				uint32_t ref, size_t notify_offset,
				void **page)
{
	void *p;

	errno = 0;
	p = xengnttab_map_grant_ref_notify(h->gnttab, domid, ref,
					   PROT_READ | PROT_WRITE,
					   (uint32_t)notify_offset, h->port);
	if (!p)
		return xv_flow_xen_err();
	*page = p;
	return 0;
}

int xv_flow_xen_map_pages(struct xv_flow_xen *h, unsigned int domid,
			  unsigned int count, uint32_t *refs,
			  bool writable, void **area)
{
	void *p;

	errno = 0;
	p = xengnttab_map_domain_grant_refs(h->gnttab, count, domid, refs,
		writable ? PROT_READ | PROT_WRITE : PROT_READ);
	if (!p)
		return xv_flow_xen_err();
	*area = p;
	return 0;
}

int xv_flow_xen_unmap(struct xv_flow_xen *h, void *area, unsigned int count)
{
	errno = 0;
	if (xengnttab_unmap(h->gnttab, area, count) < 0)
		return xv_flow_xen_err();
	return 0;
}
