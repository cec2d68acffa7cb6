/*
 * The public face of the simulator's xenstored: domains, their sockets and
 * connections, and the poll/dispatch pair the daemon's loop drives.
 *
 * Every socket is nonblocking.  A request is read straight into the
 * connection's one message buffer, header first, so a slow or truncated
 * client only ever holds its own half message.  Replies and events are
 * queued per connection and flushed when the socket takes them; a
 * connection whose queue passes XV_XSD_OUT_PAUSE is not read from until
 * it drains, and one that passes XV_XSD_OUT_DROP is dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xsd-int.h"

/* Requests handled per connection per dispatch, so one busy client cannot
 * starve the others. */
#define XV_XSD_BATCH 32

void xv_xsd_quota_default(struct xv_xsd_quota *quota)
{
	quota->nodes = 1000;
	quota->watches = 128;
	quota->transactions = 10;
	quota->entry_size = 2048;
}

static int special_init(struct xv_special *sp, const char *name)
{
	sp->name = name;
	sp->nperms = 1;
	sp->perms = calloc(1, sizeof(*sp->perms));
	return sp->perms ? 0 : -ENOMEM;
}

int xv_xsd_new(struct xv_xsd **out, const struct xv_xsd_quota *quota)
{
	struct xv_view v;
	struct xv_xsd *xsd = calloc(1, sizeof(*xsd));
	struct xv_node *root;
	int err = -ENOMEM;

	*out = NULL;
	if (!xsd)
		return -ENOMEM;
	xsd->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (quota)
		xsd->quota = *quota;
	else
		xv_xsd_quota_default(&xsd->quota);
	if (xv_xsd_table_init(&xsd->nodes))
		goto fail;
	root = calloc(1, sizeof(*root));
	if (!root)
		goto fail;
	root->path = strdup("/");
	root->value = malloc(1);
	root->children = malloc(1);
	root->perms = calloc(1, sizeof(*root->perms));
	root->nperms = 1;
	root->gen = ++xsd->gen;
	if (!root->path || !root->value || !root->children || !root->perms) {
		xv_xsd_node_free(root);
		goto fail;
	}
	xv_xsd_table_insert(&xsd->nodes, root);
	v.xsd = xsd;
	v.txn = NULL;
	/* Children of dom0-owned "/" inherit "n0": owner dom0, nobody else. */
	err = xv_xsd_create(&v, 0, "/local/domain", "", 0);
	if (!err)
		err = xv_xsd_create(&v, 0, "/tool", "", 0);
	if (!err)
		err = special_init(&xsd->special[0], "@introduceDomain");
	if (!err)
		err = special_init(&xsd->special[1], "@releaseDomain");
	if (err)
		goto fail;
	*out = xsd;
	return 0;
fail:
	xv_xsd_free(xsd);
	return err;
}

static void conn_free(struct xv_conn *c)
{
	xv_xsd_conn_drop_state(c);
	while (c->out_head) {
		struct xv_buf *b = c->out_head;

		c->out_head = b->next;
		free(b);
	}
	close(c->fd);
	if (c->pidfd >= 0)
		close(c->pidfd);
	free(c);
}

static void dom_free(struct xv_dom *d)
{
	close(d->listen_fd);
	/* The socket file is ours: we bound it. */
	unlink(d->sock_path);
	free(d->sock_path);
	free(d);
}

void xv_xsd_free(struct xv_xsd *xsd)
{
	if (!xsd)
		return;
	while (xsd->conns) {
		struct xv_conn *c = xsd->conns;

		xsd->conns = c->next;
		conn_free(c);
	}
	while (xsd->doms) {
		struct xv_dom *d = xsd->doms;

		xsd->doms = d->next;
		dom_free(d);
	}
	if (xsd->nodes.buckets)
		xv_xsd_table_clear(&xsd->nodes);
	for (size_t i = 0; i < 2; i++)
		free(xsd->special[i].perms);
	if (xsd->spare_fd >= 0)
		close(xsd->spare_fd);
	free(xsd);
}

static int listen_on(const char *path, int *out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(fd, 64) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

static void reap(struct xv_xsd *xsd)
{
	struct xv_conn **pp = &xsd->conns;

	while (*pp) {
		struct xv_conn *c = *pp;

		if (c->dead) {
			*pp = c->next;
			conn_free(c);
		} else {
			pp = &c->next;
		}
	}
}

static int domain_remove(struct xv_xsd *xsd, unsigned int domid,
			 bool announce);

/* Write or create @path as dom0, with @perms if given; watchers hear it. */
static int dom0_write(struct xv_xsd *xsd, const char *path, const char *value,
		      const struct xv_xsd_perm *perms, unsigned int nperms)
{
	struct xv_view v = { .xsd = xsd, .txn = NULL };
	unsigned int len = (unsigned int)strlen(value);
	struct xv_node *n;
	int err = xv_xsd_view_get(&v, path, &n);

	if (!err && n)
		err = xv_xsd_set_value(&v, n, value, len);
	else if (!err)
		err = xv_xsd_create(&v, 0, path, value, len);
	if (!err && perms) {
		err = xv_xsd_view_get(&v, path, &n);
		if (!err)
			err = xv_xsd_set_perms(&v, n, perms, nperms);
	}
	if (!err)
		xv_xsd_deliver(xsd, path, false, NULL, 0);
	return err;
}

int xv_xsd_domain_introduce(struct xv_xsd *xsd, unsigned int domid,
			    const char *name, const char *socket_path)
{
	struct xv_xsd_perm home[2] = {
		{ .id = 0, .perms = XV_XSD_PERM_NONE },
		{ .id = domid, .perms = XV_XSD_PERM_READ },
	};
	struct xv_xsd_perm own = { .id = domid, .perms = XV_XSD_PERM_NONE };
	char path[64], val[16];
	struct xv_dom *d;
	int err;

	if (xv_xsd_dom_find(xsd, domid))
		return -EEXIST;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->domid = domid;
	d->sock_path = strdup(socket_path);
	if (!d->sock_path) {
		free(d);
		return -ENOMEM;
	}
	err = listen_on(socket_path, &d->listen_fd);
	if (err) {
		free(d->sock_path);
		free(d);
		return err;
	}
	d->next = xsd->doms;
	xsd->doms = d;
	/* Count what the domain already owns (dom0 may have chmod'ed). */
	for (size_t i = 0; i < xsd->nodes.nbuckets; i++)
		for (struct xv_node *n = xsd->nodes.buckets[i]; n; n = n->hnext)
			if (n->perms[0].id == domid)
				d->nodes++;
	/* The layout libxl gives a new domain. */
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	err = dom0_write(xsd, path, "", home, domid == 0 ? 1 : 2);
	snprintf(path, sizeof(path), "/local/domain/%u/domid", domid);
	snprintf(val, sizeof(val), "%u", domid);
	if (!err)
		err = dom0_write(xsd, path, val, NULL, 0);
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	if (!err)
		err = dom0_write(xsd, path, name ? name : "", NULL, 0);
	snprintf(path, sizeof(path), "/local/domain/%u/data", domid);
	if (!err)
		err = dom0_write(xsd, path, "", &own, 1);
	if (err) {
		/* Never announced, so nothing to announce on the way out. */
		domain_remove(xsd, domid, false);
		return err;
	}
	xv_xsd_deliver(xsd, "@introduceDomain", true, NULL, 0);
	/* Events may have overflowed a lazy client: close it now, not at
	 * the next dispatch, which may be far off. */
	reap(xsd);
	return 0;
}


static int by_length(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? -1 : la > lb;
}

/*
 * xenstored deletes what a dead domain still owns (XSA-322), so a guest
 * cannot pin store memory past its life.  Ancestors first: removing one
 * takes its subtree, and later paths in it are then already gone.
 */
static void remove_orphans(struct xv_xsd *xsd, unsigned int domid)
{
	struct xv_view v = { .xsd = xsd, .txn = NULL };
	char **paths = NULL;
	size_t n = 0;

	for (size_t i = 0; i < xsd->nodes.nbuckets; i++)
		for (struct xv_node *e = xsd->nodes.buckets[i]; e;
		     e = e->hnext) {
			char **grown;

			if (e->perms[0].id != domid)
				continue;
			grown = realloc(paths, (n + 1) * sizeof(*paths));
			if (!grown)
				goto out;
			paths = grown;
			paths[n] = strdup(e->path);
			if (!paths[n])
				goto out;
			n++;
		}
	if (n)
		qsort(paths, n, sizeof(*paths), by_length);
	for (size_t i = 0; i < n; i++) {
		struct xv_node *e = xv_xsd_table_find(&xsd->nodes, paths[i]);

		if (e && e->perms[0].id == domid && strcmp(paths[i], "/") != 0)
			(void)xv_xsd_remove(&v, paths[i]);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/* Drop @domid's entries after the owner's from @p; true if any went. */
static bool perms_forget(struct xv_xsd_perm *p, unsigned int *n,
			 unsigned int domid)
{
	unsigned int i, kept = 1;

	for (i = 1; i < *n; i++)
		if (p[i].id != domid)
			p[kept++] = p[i];
	if (kept == *n)
		return false;
	*n = kept;
	return true;
}

/*
 * C xenstored 4.17 stops honouring a permission entry once its domain is
 * gone (chk_domain_generation(): an entry counts only for a domain older
 * than the node's last change), so a new domain given the same id does
 * not inherit what the old one was granted.  Dropping the entries at
 * release answers the same.  A node changed here gets a new generation:
 * a transaction holding a copy from before then conflicts at commit
 * instead of writing the grant back.  The special nodes are kept by
 * xenstored itself and lose the entries at release
 * (remove_domid_from_perm()), an owner among them becoming dom0.
 *
 * Unlike on Xen, an entry naming a domain that does not exist yet when
 * it is set keeps working once the domain comes: xenstored ignores it
 * (domain_alloc_permrefs()), but the simulator creates a domain only when
 * something runs in it (xvchan-sim exec), and a server may publish for a
 * client domain that has not started yet (sim/README.md).
 */
static void forget_grants(struct xv_xsd *xsd, unsigned int domid)
{
	for (size_t i = 0; i < xsd->nodes.nbuckets; i++)
		for (struct xv_node *n = xsd->nodes.buckets[i]; n;
		     n = n->hnext)
			if (perms_forget(n->perms, &n->nperms, domid))
				n->gen = ++xsd->gen;
	for (size_t i = 0; i < 2; i++) {
		struct xv_special *sp = &xsd->special[i];

		(void)perms_forget(sp->perms, &sp->nperms, domid);
		if (sp->perms[0].id == domid)
			sp->perms[0].id = 0;
	}
}

static int domain_remove(struct xv_xsd *xsd, unsigned int domid,
			 bool announce)
{
	struct xv_view v = { .xsd = xsd, .txn = NULL };
	struct xv_dom **pp = &xsd->doms;
	struct xv_dom *d;
	char path[64];

	while (*pp && (*pp)->domid != domid)
		pp = &(*pp)->next;
	if (!*pp)
		return -ENOENT;
	for (struct xv_conn *c = xsd->conns; c; c = c->next)
		if (c->domid == domid)
			c->dead = true;
	reap(xsd);
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	/* Only fails for lack of memory; the domain goes regardless. */
	if (xv_xsd_table_find(&xsd->nodes, path))
		(void)xv_xsd_remove(&v, path);
	remove_orphans(xsd, domid);
	forget_grants(xsd, domid);
	d = *pp;
	*pp = d->next;
	dom_free(d);
	if (announce)
		xv_xsd_deliver(xsd, "@releaseDomain", true, NULL, 0);
	reap(xsd);
	return 0;
}

int xv_xsd_domain_release(struct xv_xsd *xsd, unsigned int domid)
{
	return domain_remove(xsd, domid, true);
}

size_t xv_xsd_nfds(const struct xv_xsd *xsd)
{
	size_t n = 0;

	for (const struct xv_dom *d = xsd->doms; d; d = d->next)
		n++;
	for (const struct xv_conn *c = xsd->conns; c; c = c->next)
		n += !c->dead;
	return n;
}

size_t xv_xsd_pollfds(struct xv_xsd *xsd, struct pollfd *fds, size_t max)
{
	size_t n = 0;

	for (struct xv_dom *d = xsd->doms; d; d = d->next) {
		d->polled = n < max;
		if (d->polled)
			fds[n++] = (struct pollfd){ .fd = d->listen_fd,
						    .events = POLLIN };
	}
	for (struct xv_conn *c = xsd->conns; c; c = c->next) {
		short ev = 0;

		if (c->out_bytes < XV_XSD_OUT_PAUSE)
			ev |= POLLIN;
		if (c->out_head)
			ev |= POLLOUT;
		c->polled = n < max && !c->dead;
		if (c->polled)
			fds[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
	}
	return n;
}

static int conn_add(struct xv_xsd *xsd, unsigned int domid, int fd, int pidfd)
{
	struct xv_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		if (pidfd >= 0)
			close(pidfd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->pidfd = pidfd;
	c->domid = domid;
	c->out_tail = &c->out_head;
	c->next = xsd->conns;
	xsd->conns = c;
	return 0;
}

/* A pidfd, not the pid: by the time a domain destroy kills the domain's
 * processes, this one may be gone and its pid reused.  Taken right at
 * accept, it can only name another process if the connecting one died
 * before the accept and the pid space wrapped meanwhile. */
static int peer_pidfd(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.pid <= 0 || cred.pid == getpid())
		return -1;
	return pidfd_open(cred.pid, 0);
}

/*
 * Out of descriptors, accept4() fails and leaves the connection pending:
 * poll() would report it at once, forever, and the daemon spin.  Give up
 * the spare descriptor to take it and close it (the client sees a
 * refusal), then take the spare back.  Returns whether it took one.
 */
static int refuse_one(struct xv_xsd *xsd, struct xv_dom *d)
{
	int fd;

	if (xsd->spare_fd < 0)
		xsd->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (xsd->spare_fd < 0)
		return 0;
	close(xsd->spare_fd);
	fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	xsd->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0;
}

static void accept_all(struct xv_xsd *xsd, struct xv_dom *d)
{
	for (int i = 0; i < XV_XSD_BATCH; i++) {
		int fd = accept4(d->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC), pidfd;

		if (fd < 0) {
			if ((errno == EMFILE || errno == ENFILE) &&
			    refuse_one(xsd, d))
				continue;
			return;
		}
		errno = 0;
		pidfd = peer_pidfd(fd);
		/* Without its pidfd a destroy could not kill this domain's
		 * process: refuse it rather than let it outlive the domain. */
		if (pidfd < 0 && (errno == EMFILE || errno == ENFILE)) {
			close(fd);
			continue;
		}
		if (conn_add(xsd, d->domid, fd, pidfd))
			return;
	}
}

int xv_xsd_adopt_fd(struct xv_xsd *xsd, unsigned int domid, int fd)
{
	int flags;

	if (!xv_xsd_dom_find(xsd, domid)) {
		close(fd);
		return -ENOENT;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return conn_add(xsd, domid, fd, -1);
}

size_t xv_xsd_domain_pidfds(const struct xv_xsd *xsd, unsigned int domid,
			    int *pidfds, size_t max)
{
	size_t n = 0;

	for (const struct xv_conn *c = xsd->conns; c; c = c->next) {
		if (c->domid != domid || c->dead || c->pidfd < 0)
			continue;
		if (n < max)
			pidfds[n] = c->pidfd;
		n++;
	}
	return n;
}

size_t xv_xsd_domain_connections(const struct xv_xsd *xsd,
				 unsigned int domid)
{
	size_t n = 0;

	for (const struct xv_conn *c = xsd->conns; c; c = c->next)
		n += c->domid == domid && !c->dead;
	return n;
}

/* Receive into @buf; false when the connection is over or must wait. */
static bool recv_some(struct xv_conn *c, void *buf, size_t want, size_t *got)
{
	ssize_t r;

	do
		r = recv(c->fd, (char *)buf + *got, want - *got, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		c->dead = true;
		return false;
	}
	if (r < 0)
		return false;
	*got += (size_t)r;
	return *got == want;
}

static void conn_read(struct xv_xsd *xsd, struct xv_conn *c)
{
	for (int i = 0; i < XV_XSD_BATCH && !c->dead; i++) {
		if (c->out_bytes >= XV_XSD_OUT_PAUSE)
			return;
		if (c->hdr_got < sizeof(c->hdr)) {
			if (!recv_some(c, &c->hdr, sizeof(c->hdr), &c->hdr_got))
				return;
			/* As xenstored: a client announcing more than the
			 * protocol allows is not worth resynchronising. */
			if (c->hdr.len > XENSTORE_PAYLOAD_MAX) {
				c->dead = true;
				return;
			}
		}
		if (c->body_got < c->hdr.len &&
		    !recv_some(c, c->body, c->hdr.len, &c->body_got))
			return;
		c->body[c->hdr.len] = '\0';
		xv_xsd_handle(xsd, c);
		c->hdr_got = 0;
		c->body_got = 0;
	}
}

static void conn_flush(struct xv_conn *c)
{
	while (c->out_head && !c->dead) {
		struct xv_buf *b = c->out_head;
		ssize_t r = send(c->fd, b->data + b->off, b->len - b->off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->dead = true;
			return;
		}
		b->off += (size_t)r;
		c->out_bytes -= (size_t)r;
		if (b->off == b->len) {
			c->out_head = b->next;
			if (!c->out_head)
				c->out_tail = &c->out_head;
			free(b);
		}
	}
}

void xv_xsd_dispatch(struct xv_xsd *xsd, const struct pollfd *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		short rev = fds[i].revents;
		struct xv_dom *d;
		struct xv_conn *c;

		if (!rev)
			continue;
		for (d = xsd->doms; d; d = d->next)
			if (d->polled && d->listen_fd == fds[i].fd)
				break;
		if (d) {
			accept_all(xsd, d);
			continue;
		}
		for (c = xsd->conns; c; c = c->next)
			if (c->polled && !c->dead && c->fd == fds[i].fd)
				break;
		if (!c)
			continue;
		if (rev & (POLLIN | POLLHUP | POLLERR))
			conn_read(xsd, c);
		if (rev & POLLNVAL)
			c->dead = true;
	}
	/* Replies and events for every connection, not only the polled. */
	for (struct xv_conn *c = xsd->conns; c; c = c->next)
		conn_flush(c);
	reap(xsd);
}
