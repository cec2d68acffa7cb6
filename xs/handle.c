/* The xenstore connection and this domain's own id. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xs-internal.h"

/* A copy of an environment variable, NULL if unset; false: no memory. */
static bool env_copy(const char *name, char **out)
{
	const char *v = getenv(name);

	*out = v ? strdup(v) : NULL;
	return !v || *out;
}

/*
 * A handle remembering where xs_open() looks now, with its libxenstore
 * connection (@libxenstore) or, for the domain functions alone, its raw
 * one opened at once.
 */
static int handle_open(struct xv_xs **out, bool libxenstore)
{
	struct xv_xs *xs = calloc(1, sizeof(*xs));
	int rc = -ENOMEM;

	if (!xs)
		return -ENOMEM;
	if (!env_copy("XENSTORED_PATH", &xs->env_path) ||
	    !env_copy("XENSTORED_RUNDIR", &xs->env_rundir))
		goto fail;
	if (libxenstore) {
		errno = 0;
		xs->h = xs_open(0);
		if (!xs->h) {
			rc = xv_xs_errno();
			goto fail;
		}
	} else {
		rc = xv_xs_raw_open(&xs->dom, xs->env_path, xs->env_rundir);
		if (rc)
			goto fail;
	}
	*out = xs;
	return 0;
fail:
	free(xs->env_path);
	free(xs->env_rundir);
	free(xs);
	return rc;
}

int xv_xs_open(struct xv_xs **out)
{
	return handle_open(out, true);
}

int xv_xs_open_domain(struct xv_xs **out)
{
	return handle_open(out, false);
}

void xv_xs_close(struct xv_xs *xs)
{
	if (!xs)
		return;
	xv_xs_raw_close(xs->watcher);
	xv_xs_raw_close(xs->dom);
	xs_close(xs->h);
	free(xs->env_path);
	free(xs->env_rundir);
	free(xs);
}

int xv_xs_raw_beside(struct xv_xs *xs, struct xv_xs_raw **out)
{
	int rc = xv_xs_raw_open(out, xs->env_path, xs->env_rundir);

	/* @xs connected, so xenstored was there: it has gone since. */
	return rc == -ENOENT || rc == -ECONNREFUSED ? -ECONNRESET : rc;
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
	 * dies while the request waits for the reply.  A request that cannot
	 * be refused tells which: it fails too only if the connection is
	 * lost.
	 */
	errno = 0;
	val = xs_read(xs->h, XBT_NULL, "domid", &len);
	if (val) {
		free(val);
		return -EINVAL;
	}
	return errno == EBADF || errno == EINVAL ? -ECONNRESET : -EINVAL;
}
