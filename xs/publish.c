/* Server side: publish the rendezvous keys, and remove them. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs-internal.h"

/* 0 if @path exists, -ENOENT if not, another -errno if it cannot tell. */
static int node_exists(struct xv_xs *xs, xs_transaction_t t, const char *path)
{
	unsigned int len;
	char *val;

	errno = 0;
	val = xs_read(xs->h, t, path, &len);
	if (!val)
		return xv_xs_fail(xs);
	free(val);
	return 0;
}

struct publish_args {
	const char *path;
	struct xs_permissions perms[2];
	uint32_t ring_ref;
	uint32_t event_channel;
};

/* The key inherits the directory's permissions (see publish_body()). */
static int write_key(struct xv_xs *xs, xs_transaction_t t, const char *path,
		     const char *key, uint32_t value)
{
	char node[XV_XS_KEY_BUF], val[16];
	int n;

	snprintf(node, sizeof(node), "%s/%s", path, key);
	n = snprintf(val, sizeof(val), "%u", (unsigned int)value);
	errno = 0;
	if (!xs_write(xs->h, t, node, val, (unsigned int)n))
		return xv_xs_fail(xs);
	return 0;
}

/*
 * Five requests besides the transaction's two.  A node that xenstored
 * creates takes its parent's permission list, with the creator as owner
 * when the creator is a guest (construct_node() in C xenstored 4.17; the
 * simulator does the same).  So the directory gets its final permissions
 * before anything is written under it, and the keys inherit exactly
 * those: for a guest server the owner is itself either way, for dom0 it
 * is the directory's owner, dom0 again.  No per-key SET_PERMS.
 */
static int publish_body(struct xv_xs *xs, xs_transaction_t t, void *arg)
{
	struct publish_args *a = arg;
	int rc;

	/* No write fails on an existing node (MKDIR succeeds, WRITE
	 * overwrites): only a read can tell that the path is taken. */
	rc = node_exists(xs, t, a->path);
	if (rc == 0)
		return -EADDRINUSE;
	if (rc != -ENOENT)
		return rc;
	errno = 0;
	if (!xs_mkdir(xs->h, t, a->path))
		return xv_xs_fail(xs);
	/* The directory too: a client that may not read it could not list
	 * it, and a watch on it only fires for readers. */
	errno = 0;
	if (!xs_set_permissions(xs->h, t, a->path, a->perms, 2))
		return xv_xs_fail(xs);
	rc = write_key(xs, t, a->path, "ring-ref", a->ring_ref);
	if (rc < 0)
		return rc;
	return write_key(xs, t, a->path, "event-channel", a->event_channel);
}

int xv_xs_publish(struct xv_xs *xs, const char *path,
		  unsigned int client_domid, uint32_t ring_ref,
		  uint32_t event_channel, int cancel_fd)
{
	struct publish_args a = {
		.path = path,
		.ring_ref = ring_ref,
		.event_channel = event_channel,
	};
	unsigned int own;
	int rc;

	if (xv_xs_path_check(path) < 0)
		return -EINVAL;
	rc = xv_xs_own_domid(xs, &own);
	if (rc < 0)
		return rc;
	/* The first entry is the owner and what everyone else gets. */
	a.perms[0].id = own;
	a.perms[0].perms = XS_PERM_NONE;
	a.perms[1].id = client_domid;
	a.perms[1].perms = XS_PERM_READ;
	return xv_xs_in_transaction(xs, -1, cancel_fd, publish_body, &a);
}

/* Remove @path, which the caller checked exists. */
static int remove_node(struct xv_xs *xs, xs_transaction_t t, const char *path)
{
	errno = 0;
	if (!xs_rm(xs->h, t, path))
		return xv_xs_fail(xs);
	return 0;
}

/*
 * One listing of the per-client directory tells both whether the path
 * exists and whether it is the last port there; one RM then removes the
 * path, or the directory with it (xenstored's rm is recursive).
 */
static int unpublish_body(struct xv_xs *xs, xs_transaction_t t, void *arg)
{
	const char *path = *(const char **)arg;
	char parent[XV_XS_KEY_BUF];
	const char *base;
	bool found = false;
	unsigned int n, i;
	char **names;
	int rc;

	snprintf(parent, sizeof(parent), "%s", path);
	*strrchr(parent, '/') = '\0';
	base = path + strlen(parent) + 1;
	errno = 0;
	names = xs_directory(xs->h, t, parent, &n);
	if (!names) {
		rc = xv_xs_fail(xs);
		if (rc != -EACCES)
			return rc;
		/* A directory this domain may not list is the toolstack's,
		 * not ours to tidy: only the path goes. */
		rc = node_exists(xs, t, path);
		return rc < 0 ? rc : remove_node(xs, t, path);
	}
	for (i = 0; i < n && !found; i++)
		found = strcmp(names[i], base) == 0;
	free(names);
	if (!found)
		return -ENOENT;
	if (n == 1) {
		rc = remove_node(xs, t, parent);
		/* Listed but not removable: left as it is. */
		if (rc != -EACCES)
			return rc;
	}
	return remove_node(xs, t, path);
}

/*
 * MirageOS path: the transaction above, four requests.  Explicit path: its
 * parent is never touched, so no transaction is needed; the read is only
 * there to report -ENOENT (xenstored's rm succeeds on a missing node whose
 * parent exists).
 */
int xv_xs_unpublish(struct xv_xs *xs, const char *path)
{
	int rc;

	if (xv_xs_path_check(path) < 0)
		return -EINVAL;
	if (xv_xs_path_is_mirage(path))
		return xv_xs_in_transaction(xs, -1, -1, unpublish_body,
					    &path);
	rc = node_exists(xs, XBT_NULL, path);
	return rc < 0 ? rc : remove_node(xs, XBT_NULL, path);
}
