/*
 * Whether a domain still exists, as xenstored knows it: @releaseDomain and
 * XS_IS_DOMAIN_INTRODUCED.  A destroyed domain runs nothing on its way out
 * (no unmap notification, no event), so this is the only place its end can
 * be seen from.  Both go over a raw connection (xs/raw.c) of the handle's
 * own: the watch then needs no libxenstore reader thread, and its events
 * wake the caller's poll() on the socket or device itself.
 */
#include <errno.h>

#include "xs-internal.h"

/* One watch per handle: the handle is meant to be this watch's alone. */
#define XV_XS_DOMAIN_TOKEN "xvchan-release"

/* The handle's raw connection, opened on first use (a domain-only handle
 * opened it already). */
static int dom_conn(struct xv_xs *xs, struct xv_xs_raw **out)
{
	int rc = xs->dom ? 0 : xv_xs_raw_beside(xs, &xs->dom);

	*out = xs->dom;
	return rc;
}

int xv_xs_domain_watch(struct xv_xs *xs)
{
	struct xv_xs_raw *r;
	int rc = dom_conn(xs, &r);

	if (rc == 0)
		rc = xv_xs_raw_watch(r, "@releaseDomain", XV_XS_DOMAIN_TOKEN);
	return rc < 0 ? rc : xv_xs_raw_fd(r);
}

int xv_xs_watch_drain(struct xv_xs *xs)
{
	struct xv_xs_raw *r;
	int rc = dom_conn(xs, &r);

	return rc < 0 ? rc : xv_xs_raw_drain(r);
}

int xv_xs_domain_exists(struct xv_xs *xs, unsigned int domid)
{
	struct xv_xs_raw *r;
	int rc;

	if (domid >= XV_XS_DOMID_END)
		return -EINVAL;
	rc = dom_conn(xs, &r);
	return rc < 0 ? rc : xv_xs_raw_domain_introduced(r, domid);
}
