/* The xenstore connection and this domain's own id. */
#include <errno.h>
#include <stdlib.h>

#include "xs-internal.h"

int xv_xs_open(struct xv_xs **out)
{
	struct xv_xs *xs = calloc(1, sizeof(*xs));

	if (!xs)
		return -ENOMEM;
	errno = 0;
	xs->h = xs_open(0);
	if (!xs->h) {
		int rc = xv_xs_errno();

		free(xs);
		return rc;
	}
	*out = xs;
	return 0;
}

void xv_xs_close(struct xv_xs *xs)
{
	if (!xs)
		return;
	xv_xs_close(xs->watcher);
	xs_close(xs->h);
	free(xs);
}

int xv_xs_own_domid(struct xv_xs *xs, unsigned int *domid)
{
	unsigned int len;
	uint32_t v;
	char *val;
	int rc;

	if (xs->own_known) {
		*domid = xs->own_domid;
		return 0;
	}
	errno = 0;
	/* Relative: xenstored resolves it under this connection's home,
	 * /local/domain/<N>, which only the toolstack writes. */
	val = xs_read(xs->h, XBT_NULL, "domid", &len);
	if (!val)
		return xv_xs_fail(xs);
	rc = xv_xs_decimal_parse(val, len, 0, XV_XS_DOMID_END - 1, &v);
	free(val);
	if (rc < 0)
		return rc;
	xs->own_domid = v;
	xs->own_known = true;
	*domid = v;
	return 0;
}

int xv_xs_fail(struct xv_xs *xs)
{
	unsigned int len;
	char *val;

	if (errno != EINVAL)
		return xv_xs_errno();
	/*
	 * libxenstore also fails a request with EINVAL when its connection
	 * dies while the request waits for the reply, and xs_check_watch()
	 * when it finds the connection gone.  A request that cannot be
	 * refused tells which: it fails too only if the connection is lost.
	 */
	errno = 0;
	val = xs_read(xs->h, XBT_NULL, "domid", &len);
	if (val) {
		free(val);
		return -EINVAL;
	}
	return errno == EBADF || errno == EINVAL ? -ECONNRESET : -EINVAL;
}
