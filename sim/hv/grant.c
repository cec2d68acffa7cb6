/* Grant tables: refs per granting domain, the owner/grantee/writability
 * checks Xen makes on map, and unmap notifications for dead processes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv.h"

#define PAGE 4096u

static void obj_put(struct xv_hv_obj *o)
{
	if (--o->refs)
		return;
	close(o->fd);
	if (o->ro_fd >= 0)
		close(o->ro_fd);
	free(o);
}

/* Ref 0 is never handed out: Linux guests reserve the first refs and vchan
 * code reads 0 as "no grant". */
static int ref_alloc(struct xv_hv_gtab *t, uint32_t *ref)
{
	uint32_t i, r;

	if (t->size == 0 || t->g[t->size - 1].obj) {
		uint32_t size = t->size ? t->size * 2 : 64;
		struct xv_hv_grant *g;

		for (i = 1; i < t->size; i++) {
			r = 1 + (t->hint + i - 1) % (t->size - 1);
			if (!t->g[r].obj)
				goto found;
		}
		if (size > (1u << 20))
			return -ENOSPC;
		g = realloc(t->g, size * sizeof(*g));
		if (!g)
			return -ENOMEM;
		memset(g + t->size, 0, (size - t->size) * sizeof(*g));
		t->g = g;
		t->size = size;
	}
	for (i = 1; i < t->size; i++) {
		r = 1 + (t->hint + i - 1) % (t->size - 1);
		if (!t->g[r].obj)
			goto found;
	}
	return -ENOSPC;
found:
	t->hint = r;
	*ref = r;
	return 0;
}

static struct xv_hv_notify *notify_new(struct xv_hv *hv, struct xv_hv_conn *c,
				       struct xv_hv_obj *o, uint64_t offset,
				       uint32_t port, uint32_t flags)
{
	struct xv_hv_notify *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->id = hv->next_id++;
	n->conn = c;
	n->domid = c->domid;
	n->obj = o;
	o->refs++;
	n->offset = offset;
	n->port = port;
	n->flags = flags;
	n->next = hv->notifies;
	hv->notifies = n;
	return n;
}

static int notify_check(struct xv_hv *hv, struct xv_hv_conn *c,
			uint32_t offset, uint32_t port, uint32_t flags,
			int writable)
{
	if (flags & ~(XV_SIM_NOTIFY_CLEAR_BYTE | XV_SIM_NOTIFY_SEND_EVENT))
		return -EINVAL;
	if ((flags & XV_SIM_NOTIFY_CLEAR_BYTE) && (offset >= PAGE || !writable))
		return -EINVAL;
	/* As gntalloc/gntdev's evtchn_get(): the port must be the caller's. */
	if ((flags & XV_SIM_NOTIFY_SEND_EVENT) &&
	    !xv_hv_evt_owned(hv, port, c->domid))
		return -EINVAL;
	return 0;
}

static void notify_unlink(struct xv_hv *hv, struct xv_hv_notify *n)
{
	struct xv_hv_notify **pp;

	for (pp = &hv->notifies; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	}
	obj_put(n->obj);
	free(n);
}

static void notify_fire(struct xv_hv *hv, struct xv_hv_notify *n)
{
	if (n->flags & XV_SIM_NOTIFY_CLEAR_BYTE) {
		static const char zero;

		/* The memfd's page cache is what every mapping shows. */
		if (pwrite(n->obj->fd, &zero, 1, (off_t)n->offset) != 1)
			fprintf(stderr, "xvchan-sim: unmap notify: %m\n");
	}
	if ((n->flags & XV_SIM_NOTIFY_SEND_EVENT) &&
	    xv_hv_evt_owned(hv, n->port, n->domid))
		xv_sim_event_raise(&hv->ev, xv_hv_evt_remote(hv, n->port));
}

static void share_free(struct xv_hv *hv, struct xv_hv_share *s)
{
	struct xv_hv_gtab *t = &hv->gtab[s->domid];
	struct xv_hv_share **pp;
	uint32_t i;

	for (i = 0; i < s->count; i++) {
		struct xv_hv_grant *g = &t->g[s->refs[i]];

		obj_put(g->obj);
		memset(g, 0, sizeof(*g));
	}
	for (pp = &hv->shares; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	free(s->refs);
	free(s);
}

/*
 * Linux's gntalloc lends a domain at most this many pages at once, all its
 * processes together (module parameter xen_gntalloc.limit, 1024 unless
 * the administrator changes it); a share beyond fails with ENOSPC. A vchan
 * server with two 1 MiB rings holds 513, so a domain has one such server
 * at a time: found on Xen 4.17 with Linux 6.1, where a second one failed.
 */
#define XV_HV_GNTALLOC_LIMIT 1024u

/* Pages @domid shares now: counted, not kept, so no path that frees a
 * share can leave a count behind. */
static uint32_t shared_pages(const struct xv_hv *hv, unsigned int domid)
{
	const struct xv_hv_share *s;
	uint32_t n = 0;

	for (s = hv->shares; s; s = s->next)
		if (s->domid == domid)
			n += s->count;
	return n;
}

int xv_hv_gnt_share(struct xv_hv *hv, struct xv_hv_conn *c, int memfd,
		    const struct xv_sim_msg *req, struct xv_sim_msg *rep)
{
	uint32_t count = req->arg[5], grantee = req->arg[0], i;
	uint32_t flags = req->arg[4];
	struct xv_hv_gtab *t = &hv->gtab[c->domid];
	struct xv_hv_share *s;
	struct xv_hv_obj *o;
	struct stat st;
	int err;

	/* The reply lists every ref, so a share fits one message. */
	if (memfd < 0 || count == 0 || count > XV_SIM_MAX_DATA ||
	    grantee > XV_SIM_MAX_DOMID || (flags && count != 1))
		return -EINVAL;
	err = notify_check(hv, c, req->arg[2], req->arg[3], flags, 1);
	if (err)
		return err;
	if (count > XV_HV_GNTALLOC_LIMIT - shared_pages(hv, c->domid))
		return -ENOSPC;
	/* Sealed so the sharer cannot shrink the pages under a mapper (which
	 * would SIGBUS it); a non-memfd cannot be sealed and is refused.
	 * Sealed before the size is looked at: the sharer still holds the
	 * file and could shrink it in between. */
	if (fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL) < 0 ||
	    fstat(memfd, &st) < 0 ||
	    (uint64_t)st.st_size < (uint64_t)count * PAGE)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	o = calloc(1, sizeof(*o));
	if (s)
		s->refs = calloc(count, sizeof(*s->refs));
	if (!s || !o || !s->refs)
		goto nomem;
	o->fd = dup(memfd);
	o->ro_fd = -1;
	if (o->fd < 0) {
		err = -errno;
		free(o);
		free(s->refs);
		free(s);
		return err;
	}
	s->id = hv->next_id++;
	s->conn = c;
	s->domid = c->domid;
	s->next = hv->shares;
	hv->shares = s;
	for (i = 0; i < count; i++) {
		uint32_t ref;

		err = ref_alloc(t, &ref);
		if (err) {
			o->refs++;
			share_free(hv, s);
			obj_put(o);
			return err;
		}
		t->g[ref] = (struct xv_hv_grant){
			.obj = o, .page = i, .grantee = grantee,
			.writable = req->arg[1] != 0,
		};
		o->refs++;
		s->refs[s->count++] = ref;
	}
	if (flags) {
		struct xv_hv_notify *n = notify_new(hv, c, o, req->arg[2],
						    req->arg[3], flags);

		if (!n) {
			share_free(hv, s);
			return -ENOMEM;
		}
		s->notify = n->id;
		rep->arg[1] = n->id;
	}
	rep->arg[0] = s->id;
	memcpy(rep->data, s->refs, count * sizeof(uint32_t));
	rep->count = count;
	return 0;
nomem:
	if (s)
		free(s->refs);
	free(s);
	free(o);
	return -ENOMEM;
}

static struct xv_hv_notify *notify_find(struct xv_hv *hv, struct xv_hv_conn *c,
					uint32_t id)
{
	struct xv_hv_notify *n;

	for (n = hv->notifies; n; n = n->next)
		if (n->id == id && n->conn == c)
			return n;
	return NULL;
}

int xv_hv_gnt_unshare(struct xv_hv *hv, struct xv_hv_conn *c, uint32_t id)
{
	struct xv_hv_share *s;

	for (s = hv->shares; s; s = s->next) {
		if (s->id != id || s->conn != c)
			continue;
		if (s->notify) {
			struct xv_hv_notify *n = notify_find(hv, c, s->notify);

			if (n)
				notify_unlink(hv, n);
		}
		share_free(hv, s);
		return 0;
	}
	return -EINVAL;
}

int xv_hv_notify_drop(struct xv_hv *hv, struct xv_hv_conn *c, uint32_t id)
{
	struct xv_hv_notify *n = notify_find(hv, c, id);

	if (!n)
		return -EINVAL;
	notify_unlink(hv, n);
	return 0;
}

static int ro_fd(struct xv_hv_obj *o)
{
	char path[64];

	if (o->ro_fd >= 0)
		return o->ro_fd;
	/* A new read-only open file description: the mapper can then neither
	 * mmap nor mprotect the pages writable. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", o->fd);
	o->ro_fd = open(path, O_RDONLY | O_CLOEXEC);
	return o->ro_fd;
}

int xv_hv_gnt_map(struct xv_hv *hv, struct xv_hv_conn *c,
		  const struct xv_sim_msg *req, struct xv_sim_msg *rep,
		  int *fds, size_t *nfds)
{
	struct xv_hv_obj *objs[XV_SIM_MAX_FDS];
	struct xv_hv_grant *first = NULL;
	uint32_t n = req->count / 2, i, k;
	int writable = req->arg[0] != 0;
	uint32_t flags = req->arg[3];
	size_t nobj = 0;
	int err;

	if (n == 0 || (req->count & 1) || (flags && n != 1))
		return -EINVAL;
	err = notify_check(hv, c, req->arg[1], req->arg[2], flags, writable);
	if (err)
		return err;
	/* Every failure Xen reports per op, gntdev turns into EINVAL. */
	for (i = 0; i < n; i++) {
		uint32_t domid = req->data[2 * i], ref = req->data[2 * i + 1];
		struct xv_hv_gtab *t;
		struct xv_hv_grant *g;

		if (domid > XV_SIM_MAX_DOMID)
			return -EINVAL;
		t = &hv->gtab[domid];
		if (ref == 0 || ref >= t->size || !t->g[ref].obj)
			return -EINVAL;
		g = &t->g[ref];
		if (g->grantee != c->domid || (writable && !g->writable))
			return -EINVAL;
		if (!first)
			first = g;
		for (k = 0; k < nobj && objs[k] != g->obj; k++)
			;
		if (k == nobj) {
			if (nobj == XV_SIM_MAX_FDS)
				return -E2BIG;
			objs[nobj++] = g->obj;
		}
		rep->data[2 * i] = k;
		rep->data[2 * i + 1] = g->page;
	}
	for (k = 0; k < nobj; k++) {
		int fd = writable ? objs[k]->fd : ro_fd(objs[k]);

		if (fd < 0 || (fds[k] = dup(fd)) < 0) {
			err = -errno;
			while (k)
				close(fds[--k]);
			return err;
		}
	}
	if (flags) {
		struct xv_hv_notify *no = notify_new(hv, c, first->obj,
			(uint64_t)first->page * PAGE + req->arg[1],
			req->arg[2], flags);

		if (!no) {
			for (k = 0; k < nobj; k++)
				close(fds[k]);
			return -ENOMEM;
		}
		rep->arg[0] = no->id;
	}
	*nfds = nobj;
	rep->count = 2 * n;
	return 0;
}

static unsigned int conn_notifies_end(struct xv_hv *hv, struct xv_hv_conn *c,
				      int fire)
{
	struct xv_hv_notify *n, *next;
	unsigned int count = 0;

	for (n = hv->notifies; n; n = next) {
		next = n->next;
		if (n->conn != c)
			continue;
		if (fire)
			notify_fire(hv, n);
		notify_unlink(hv, n);
		count++;
	}
	return count;
}

unsigned int xv_hv_gnt_conn_fire(struct xv_hv *hv, struct xv_hv_conn *c)
{
	return conn_notifies_end(hv, c, 1);
}

/* Xen destroys a domain without running its kernel, so the gntalloc and
 * gntdev drivers that would clear the byte and send the event never act. */
unsigned int xv_hv_gnt_conn_drop(struct xv_hv *hv, struct xv_hv_conn *c)
{
	return conn_notifies_end(hv, c, 0);
}

unsigned int xv_hv_gnt_conn_gone(struct xv_hv *hv, struct xv_hv_conn *c)
{
	struct xv_hv_share *s, *next;
	unsigned int refs = 0;

	for (s = hv->shares; s; s = next) {
		next = s->next;
		if (s->conn == c) {
			refs += s->count;
			share_free(hv, s);
		}
	}
	return refs;
}
