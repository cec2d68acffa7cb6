/*
 * Whether a domain still exists, as xenstored knows it: @releaseDomain and
 * XS_IS_DOMAIN_INTRODUCED.  A destroyed domain runs nothing on its way out
 * (no unmap notification, no event), so this is the only place its end can
 * be seen from.
 */
#include <errno.h>
#include <stdlib.h>
#include <xenstore.h>

#include "xs-internal.h"

/* One watch per handle: the handle is meant to be this watch's alone. */
#define XV_XS_DOMAIN_TOKEN "xvchan-release"

int xv_xs_domain_watch(struct xv_xs *xs)
{
	int fd;

	errno = 0;
	/* The pipe libxenstore raises for queued events; asked for first so
	 * that the event xenstored fires at once for a new watch finds it. */
	fd = xs_fileno(xs->h);
	if (fd < 0)
		return xv_xs_errno();
	errno = 0;
	if (!xs_watch(xs->h, "@releaseDomain", XV_XS_DOMAIN_TOKEN))
		return xv_xs_fail(xs);
	return fd;
}

int xv_xs_watch_drain(struct xv_xs *xs)
{
	int n = 0;
	char **ev;

	for (;;) {
		errno = 0;
		ev = xs_check_watch(xs->h);
		if (!ev)
			break;
		free(ev);
		/* The count is only informative: saturate, never wrap. */
		if (n < 1000000)
			n++;
	}
	/* EAGAIN: nothing queued.  Anything else (EINVAL once the
	 * connection is gone) is a failure of the handle. */
	return errno == EAGAIN ? n : xv_xs_fail(xs);
}

int xv_xs_domain_exists(struct xv_xs *xs, unsigned int domid)
{
	if (domid >= XV_XS_DOMID_END)
		return -EINVAL;
	/*
	 * xs_is_domain_introduced() answers false both for xenstored's "F"
	 * and for a failed request (EACCES to an unprivileged domain, a lost
	 * connection): only errno tells them apart.  A successful exchange
	 * leaves errno alone, so a false with errno still 0 is the "F".
	 */
	errno = 0;
	if (xs_is_domain_introduced(xs->h, domid))
		return 1;
	if (errno == 0)
		return 0;
	return xv_xs_fail(xs);
}
