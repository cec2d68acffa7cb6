/*
 * Watches and the per-connection output queue.
 *
 * Who hears an event (xenstored's watch_permitted()): dom0 always; another
 * domain if it may read the node, judged by the permissions the node had
 * when it changed (so a watcher hears the removal of a node it could read),
 * or by its current permissions, or else if it may read the node's parent.
 * @introduceDomain / @releaseDomain reach only watches set exactly on them,
 * and only connections that may read the special node (owner dom0, no
 * access for others unless dom0 grants it with SET_PERMS).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xsd-int.h"

void xv_xsd_queue(struct xv_conn *c, uint32_t type, uint32_t req_id,
		  uint32_t tx_id, const void *data, size_t len)
{
	struct xsd_sockmsg hdr = {
		.type = type, .req_id = req_id, .tx_id = tx_id,
		.len = (uint32_t)len,
	};
	struct xv_buf *b;

	if (c->dead)
		return;
	/* A client that never reads would make us hold its output forever. */
	if (c->out_bytes + sizeof(hdr) + len > XV_XSD_OUT_DROP) {
		c->dead = true;
		return;
	}
	b = malloc(sizeof(*b) + sizeof(hdr) + len);
	if (!b) {
		/* The stream would lose a reply: the client could not
		 * resynchronise, so end it. */
		c->dead = true;
		return;
	}
	memcpy(b->data, &hdr, sizeof(hdr));
	if (len)
		memcpy(b->data + sizeof(hdr), data, len);
	b->len = sizeof(hdr) + len;
	b->off = 0;
	b->next = NULL;
	*c->out_tail = b;
	c->out_tail = &b->next;
	c->out_bytes += b->len;
}

static bool is_child(const char *path, const char *watched)
{
	size_t l = strlen(watched);

	if (strcmp(watched, "/") == 0)
		return path[0] == '/';
	return strncmp(path, watched, l) == 0 &&
	       (path[l] == '/' || path[l] == '\0');
}

static bool readable(struct xv_xsd *xsd, unsigned int domid, const char *path,
		     const struct xv_xsd_perm *perms, unsigned int nperms)
{
	struct xv_node *n;
	char *pp;
	bool ok = false;

	if (domid == 0)
		return true;
	if (path[0] == '@') {
		for (size_t i = 0; i < 2; i++)
			if (strcmp(xsd->special[i].name, path) == 0)
				return xv_xsd_perm_for(domid,
						       xsd->special[i].perms,
						       xsd->special[i].nperms) &
				       XV_XSD_PERM_READ;
		return false;
	}
	if (perms && (xv_xsd_perm_for(domid, perms, nperms) & XV_XSD_PERM_READ))
		return true;
	n = xv_xsd_table_find(&xsd->nodes, path);
	if (n && (xv_xsd_perm_for(domid, n->perms, n->nperms) &
		  XV_XSD_PERM_READ))
		return true;
	if (xv_xsd_path_parent(path, &pp))
		return false;
	n = xv_xsd_table_find(&xsd->nodes, pp);
	if (n)
		ok = xv_xsd_perm_for(domid, n->perms, n->nperms) &
		     XV_XSD_PERM_READ;
	free(pp);
	return ok;
}

void xv_xsd_send_event(struct xv_conn *c, const struct xv_watch *w,
		       const char *path)
{
	const char *shown = path + w->prefix_len;
	size_t pl = strlen(shown) + 1;
	size_t tl = strlen(w->token) + 1;
	char *msg;

	/*
	 * A long path under a watch with a long token: the reader could not
	 * take it (libxenstore drops its connection with E2BIG), so it does
	 * not hear of this change at all, as with xenstored's send_event().
	 */
	if (pl + tl > XENSTORE_PAYLOAD_MAX)
		return;
	msg = malloc(pl + tl);
	if (!msg) {
		c->dead = true;
		return;
	}
	memcpy(msg, shown, pl);
	memcpy(msg + pl, w->token, tl);
	xv_xsd_queue(c, XS_WATCH_EVENT, 0, 0, msg, pl + tl);
	free(msg);
}

void xv_xsd_deliver(struct xv_xsd *xsd, const char *path, bool exact,
		    const struct xv_xsd_perm *perms, unsigned int nperms)
{
	for (struct xv_conn *c = xsd->conns; c; c = c->next) {
		int allowed = -1; /* decided once, on the first match */

		if (c->dead)
			continue;
		for (struct xv_watch *w = c->watches; w; w = w->next) {
			bool match = exact || path[0] == '@' ?
					     strcmp(w->path, path) == 0 :
					     is_child(path, w->path);

			if (!match)
				continue;
			if (allowed < 0)
				allowed = readable(xsd, c->domid, path, perms,
						   nperms);
			if (allowed)
				xv_xsd_send_event(c, w, path);
		}
	}
}

int xv_xsd_fire(struct xv_view *v, const char *path, bool exact,
		const struct xv_xsd_perm *perms, unsigned int nperms)
{
	struct xv_pending *p;

	if (!v->txn) {
		xv_xsd_deliver(v->xsd, path, exact, perms, nperms);
		return 0;
	}
	/* Events of a transaction exist only if it commits. */
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->path = strdup(path);
	if (!p->path || (perms && xv_xsd_perms_dup(perms, nperms, &p->perms))) {
		free(p->path);
		free(p);
		return -ENOMEM;
	}
	p->nperms = perms ? nperms : 0;
	p->exact = exact;
	*v->txn->events_tail = p;
	v->txn->events_tail = &p->next;
	return 0;
}

void xv_xsd_conn_drop_state(struct xv_conn *c)
{
	while (c->watches) {
		struct xv_watch *w = c->watches;

		c->watches = w->next;
		free(w->path);
		free(w->token);
		free(w);
	}
	c->nwatches = 0;
	while (c->txns) {
		struct xv_txn *t = c->txns;

		c->txns = t->next;
		xv_xsd_txn_free(t);
	}
	c->ntxns = 0;
}
