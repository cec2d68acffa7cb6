/*
 * The node store and its transactions (see xsd-int.h for the model).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xsd-int.h"

static size_t hash_path(const char *s)
{
	/* FNV-1a: cheap and spreads the long common /local/domain prefixes. */
	size_t h = (size_t)14695981039346656037ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= (size_t)1099511628211ull;
	}
	return h;
}

int xv_xsd_table_init(struct xv_table *t)
{
	t->nbuckets = 64;
	t->count = 0;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

void xv_xsd_node_free(struct xv_node *n)
{
	if (!n)
		return;
	free(n->path);
	free(n->value);
	free(n->children);
	free(n->perms);
	free(n);
}

void xv_xsd_table_clear(struct xv_table *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct xv_node *n = t->buckets[i];

		while (n) {
			struct xv_node *next = n->hnext;

			xv_xsd_node_free(n);
			n = next;
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = 0;
	t->count = 0;
}

struct xv_node *xv_xsd_table_find(const struct xv_table *t, const char *path)
{
	struct xv_node *n = t->buckets[hash_path(path) & (t->nbuckets - 1)];

	while (n && strcmp(n->path, path) != 0)
		n = n->hnext;
	return n;
}

static void table_grow(struct xv_table *t)
{
	size_t nb = t->nbuckets * 2;
	struct xv_node **b = calloc(nb, sizeof(*b));

	/* Failing to grow only makes chains longer; lookups stay correct. */
	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct xv_node *n = t->buckets[i];

		while (n) {
			struct xv_node *next = n->hnext;
			size_t j = hash_path(n->path) & (nb - 1);

			n->hnext = b[j];
			b[j] = n;
			n = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

void xv_xsd_table_insert(struct xv_table *t, struct xv_node *n)
{
	size_t i;

	if (t->count >= t->nbuckets * 2)
		table_grow(t);
	i = hash_path(n->path) & (t->nbuckets - 1);
	n->hnext = t->buckets[i];
	t->buckets[i] = n;
	t->count++;
}

static struct xv_node *table_unlink(struct xv_table *t, const char *path)
{
	struct xv_node **pp = &t->buckets[hash_path(path) & (t->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext) {
		struct xv_node *n = *pp;

		if (strcmp(n->path, path) == 0) {
			*pp = n->hnext;
			t->count--;
			return n;
		}
	}
	return NULL;
}

int xv_xsd_perms_dup(const struct xv_xsd_perm *p, unsigned int n,
		     struct xv_xsd_perm **out)
{
	*out = malloc(n * sizeof(*p));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, p, n * sizeof(*p));
	return 0;
}

static struct xv_node *node_dup(const struct xv_node *src)
{
	struct xv_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->path = strdup(src->path);
	n->value = malloc(src->len ? src->len : 1);
	n->children = malloc(src->childlen ? src->childlen : 1);
	n->perms = malloc(src->nperms * sizeof(*n->perms));
	if (!n->path || !n->value || !n->children || !n->perms) {
		xv_xsd_node_free(n);
		return NULL;
	}
	memcpy(n->value, src->value, src->len);
	memcpy(n->children, src->children, src->childlen);
	memcpy(n->perms, src->perms, src->nperms * sizeof(*n->perms));
	n->len = src->len;
	n->childlen = src->childlen;
	n->nperms = src->nperms;
	n->gen = src->gen;
	return n;
}

/* Move the contents of @from into @to, leaving @from empty. */
static void node_move(struct xv_node *to, struct xv_node *from)
{
	free(to->value);
	free(to->children);
	free(to->perms);
	to->value = from->value;
	to->len = from->len;
	to->children = from->children;
	to->childlen = from->childlen;
	to->perms = from->perms;
	to->nperms = from->nperms;
	from->value = NULL;
	from->children = NULL;
	from->perms = NULL;
	from->len = from->childlen = from->nperms = 0;
}

unsigned int xv_xsd_perm_for(unsigned int domid,
			     const struct xv_xsd_perm *p, unsigned int n)
{
	const unsigned int all = XV_XSD_PERM_READ | XV_XSD_PERM_WRITE |
				 XV_XSD_PERM_OWNER;

	if (domid == 0 || p[0].id == domid)
		return all;
	for (unsigned int i = 1; i < n; i++)
		if (p[i].id == domid)
			return p[i].perms & all;
	return p[0].perms & all;
}

struct xv_dom *xv_xsd_dom_find(struct xv_xsd *xsd, unsigned int domid)
{
	struct xv_dom *d = xsd->doms;

	while (d && d->domid != domid)
		d = d->next;
	return d;
}

static void account(struct xv_view *v, unsigned int owner, int delta)
{
	struct xv_dom *d;

	if (v->txn) {
		if (owner == v->txn->domid)
			v->txn->own_delta += delta;
		return;
	}
	d = xv_xsd_dom_find(v->xsd, owner);
	if (d && (delta > 0 || d->nodes > 0))
		d->nodes += (unsigned int)delta;
}

static bool valid_chars(const char *s)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz"
				 "0123456789-/_@";

	return s[strspn(s, ok)] == '\0';
}

/*
 * xenstored's is_valid_nodename(): absolute, no empty component, and no
 * longer than XENSTORE_REL_PATH_MAX past a /local/domain/<id>/ prefix, so
 * a guest gets as much room under its own home as anywhere else.
 */
bool xv_xsd_path_valid(const char *path)
{
	static const char home[] = "/local/domain/";
	size_t len = strlen(path);
	size_t off = 0;

	if (path[0] != '/' || len > XENSTORE_ABS_PATH_MAX)
		return false;
	if (len > 1 && path[len - 1] == '/')
		return false;
	if (strstr(path, "//"))
		return false;
	if (strncmp(path, home, sizeof(home) - 1) == 0) {
		size_t i = sizeof(home) - 1;
		size_t digits = strspn(path + i, "0123456789");

		if (digits >= 1 && digits <= 5 && path[i + digits] == '/')
			off = i + digits + 1;
	}
	if (len > off + XENSTORE_REL_PATH_MAX)
		return false;
	return valid_chars(path);
}

int xv_xsd_path_parent(const char *path, char **out)
{
	char *p = strdup(path);
	char *slash;

	if (!p)
		return -ENOMEM;
	slash = strrchr(p, '/');
	if (slash == p || !slash)
		p[1] = '\0';
	else
		*slash = '\0';
	*out = p;
	return 0;
}

static struct xv_node *tombstone(const char *path)
{
	struct xv_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->path = strdup(path);
	if (!n->path) {
		free(n);
		return NULL;
	}
	n->absent = true;
	return n;
}

int xv_xsd_view_get(struct xv_view *v, const char *path, struct xv_node **out)
{
	struct xv_node *m = xv_xsd_table_find(&v->xsd->nodes, path);
	struct xv_node *e;

	if (!v->txn) {
		*out = m;
		return 0;
	}
	e = xv_xsd_table_find(&v->txn->overlay, path);
	if (!e) {
		e = m ? node_dup(m) : tombstone(path);
		if (!e)
			return -ENOMEM;
		e->seen_gen = m ? m->gen : 0;
		xv_xsd_table_insert(&v->txn->overlay, e);
	}
	*out = e->absent ? NULL : e;
	return 0;
}

static void view_changed(struct xv_view *v, struct xv_node *n)
{
	if (v->txn)
		n->dirty = true;
	else
		n->gen = ++v->xsd->gen;
}

/* Put @n (not in any table) at its path, which is absent in @v. */
static int view_insert(struct xv_view *v, struct xv_node *n)
{
	struct xv_node *e;
	int err;

	account(v, n->perms[0].id, 1);
	if (!v->txn) {
		n->gen = ++v->xsd->gen;
		xv_xsd_table_insert(&v->xsd->nodes, n);
		return 0;
	}
	err = xv_xsd_view_get(v, n->path, &e);
	if (err)
		return err;
	e = xv_xsd_table_find(&v->txn->overlay, n->path);
	node_move(e, n);
	e->absent = false;
	e->dirty = true;
	xv_xsd_node_free(n);
	return 0;
}

static void view_delete(struct xv_view *v, struct xv_node *n)
{
	account(v, n->perms[0].id, -1);
	if (!v->txn) {
		xv_xsd_node_free(table_unlink(&v->xsd->nodes, n->path));
		return;
	}
	free(n->value);
	free(n->children);
	free(n->perms);
	n->value = n->children = NULL;
	n->perms = NULL;
	n->len = n->childlen = n->nperms = 0;
	n->absent = true;
	n->dirty = true;
}

int xv_xsd_get_checked(struct xv_view *v, unsigned int domid,
		       const char *path, unsigned int perm,
		       struct xv_node **out)
{
	struct xv_node *n, *anc = NULL;
	char *p, *cut;
	int err;

	*out = NULL;
	err = xv_xsd_view_get(v, path, &n);
	if (err)
		return err;
	if (n) {
		unsigned int have = xv_xsd_perm_for(domid, n->perms, n->nperms);

		if ((have & perm) != perm)
			return -EACCES;
		*out = n;
		return 0;
	}
	/*
	 * As xenstored's errno_from_parents(): a missing node is ENOENT only
	 * to who may do @perm on its nearest existing ancestor, so that
	 * nobody learns what exists where they may not look.
	 */
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	while (!anc && strcmp(p, "/") != 0) {
		cut = strrchr(p, '/');
		if (cut == p)
			cut[1] = '\0';
		else
			*cut = '\0';
		err = xv_xsd_view_get(v, p, &anc);
		if (err) {
			free(p);
			return err;
		}
	}
	free(p);
	if (anc && (xv_xsd_perm_for(domid, anc->perms, anc->nperms) & perm))
		return -ENOENT;
	return -EACCES;
}

static int add_child(struct xv_node *parent, const char *childpath)
{
	const char *base = strrchr(childpath, '/') + 1;
	size_t blen = strlen(base) + 1;
	char *c = realloc(parent->children, parent->childlen + blen);

	if (!c)
		return -ENOMEM;
	memcpy(c + parent->childlen, base, blen);
	parent->children = c;
	parent->childlen += (unsigned int)blen;
	return 0;
}

static void del_child(struct xv_node *parent, const char *childpath)
{
	const char *base = strrchr(childpath, '/') + 1;
	unsigned int off = 0;

	while (off < parent->childlen) {
		size_t l = strlen(parent->children + off) + 1;

		if (strcmp(parent->children + off, base) == 0) {
			memmove(parent->children + off,
				parent->children + off + l,
				parent->childlen - off - l);
			parent->childlen -= (unsigned int)l;
			return;
		}
		off += (unsigned int)l;
	}
}

static unsigned int owned_nodes(struct xv_view *v, unsigned int domid)
{
	struct xv_dom *d = xv_xsd_dom_find(v->xsd, domid);
	long n = d ? (long)d->nodes : 0;

	if (v->txn && v->txn->domid == domid)
		n += v->txn->own_delta;
	return n < 0 ? 0 : (unsigned int)n;
}

/*
 * Create @path and its missing ancestors.  Each new node takes its
 * parent's permission list and, when a guest creates it, that guest as
 * owner: xenstored's construct_node().  Dom0 keeps the parent's owner.
 */
int xv_xsd_create(struct xv_view *v, unsigned int domid, const char *path,
		  const char *value, unsigned int len)
{
	char **chain = NULL;
	size_t depth = 0, i;
	char *cur;
	struct xv_node *anc = NULL;
	int err = 0;

	cur = strdup(path);
	if (!cur)
		return -ENOMEM;
	for (;;) {
		char **grown = realloc(chain, (depth + 1) * sizeof(*chain));

		if (!grown) {
			free(cur);
			err = -ENOMEM;
			goto out;
		}
		chain = grown;
		chain[depth++] = cur;
		err = xv_xsd_path_parent(cur, &cur);
		if (err)
			goto out;
		err = xv_xsd_view_get(v, cur, &anc);
		if (err || anc) {
			free(cur);
			goto check;
		}
	}
check:
	if (err)
		goto out;
	if (domid != 0 &&
	    owned_nodes(v, domid) + depth > v->xsd->quota.nodes) {
		err = -ENOSPC;
		goto out;
	}
	/* chain[depth - 1] is the topmost missing one. */
	for (i = depth; i-- > 0;) {
		struct xv_node *parent, *n;
		char *pp;
		bool last = i == 0;

		err = xv_xsd_path_parent(chain[i], &pp);
		if (err)
			goto out;
		err = xv_xsd_view_get(v, pp, &parent);
		free(pp);
		if (err)
			goto out;
		n = calloc(1, sizeof(*n));
		if (!n) {
			err = -ENOMEM;
			goto out;
		}
		n->path = strdup(chain[i]);
		n->value = malloc(last && len ? len : 1);
		n->children = malloc(1);
		if (!n->path || !n->value || !n->children ||
		    xv_xsd_perms_dup(parent->perms, parent->nperms,
				     &n->perms)) {
			xv_xsd_node_free(n);
			err = -ENOMEM;
			goto out;
		}
		n->nperms = parent->nperms;
		if (domid != 0)
			n->perms[0].id = domid;
		if (last) {
			memcpy(n->value, value, len);
			n->len = len;
		}
		err = add_child(parent, chain[i]);
		if (err) {
			xv_xsd_node_free(n);
			goto out;
		}
		view_changed(v, parent);
		err = view_insert(v, n);
		if (err)
			goto out;
	}
out:
	for (i = 0; i < depth; i++)
		free(chain[i]);
	free(chain);
	return err;
}

int xv_xsd_set_value(struct xv_view *v, struct xv_node *n,
		     const char *value, unsigned int len)
{
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, value, len);
	free(n->value);
	n->value = copy;
	n->len = len;
	view_changed(v, n);
	return 0;
}

int xv_xsd_set_perms(struct xv_view *v, struct xv_node *n,
		     const struct xv_xsd_perm *perms, unsigned int nperms)
{
	struct xv_xsd_perm *copy;
	int err = xv_xsd_perms_dup(perms, nperms, &copy);

	if (err)
		return err;
	account(v, n->perms[0].id, -1);
	account(v, perms[0].id, 1);
	free(n->perms);
	n->perms = copy;
	n->nperms = nperms;
	view_changed(v, n);
	return 0;
}

/* Children first; each removed descendant fires the watches set exactly
 * on it, as xenstored's delete_node() does. */
static int remove_below(struct xv_view *v, struct xv_node *n)
{
	unsigned int off = 0;
	int err;

	while (off < n->childlen) {
		const char *name = n->children + off;
		size_t plen = strlen(n->path);
		char *cp = malloc(plen + strlen(name) + 2);
		struct xv_node *child;

		if (!cp)
			return -ENOMEM;
		strcpy(cp, n->path);
		if (plen > 1)
			cp[plen++] = '/';
		strcpy(cp + plen, name);
		off += (unsigned int)strlen(name) + 1;
		err = xv_xsd_view_get(v, cp, &child);
		if (!err && child) {
			err = remove_below(v, child);
			if (!err)
				err = xv_xsd_fire(v, cp, true, child->perms,
						  child->nperms);
			if (!err)
				view_delete(v, child);
		}
		free(cp);
		if (err)
			return err;
	}
	return 0;
}

int xv_xsd_remove(struct xv_view *v, const char *path)
{
	struct xv_node *n, *parent;
	char *pp;
	int err;

	err = xv_xsd_view_get(v, path, &n);
	if (err || !n)
		return err ? err : -ENOENT;
	err = xv_xsd_path_parent(path, &pp);
	if (err)
		return err;
	err = xv_xsd_view_get(v, pp, &parent);
	free(pp);
	if (err)
		return err;
	/* Fire while the node's permissions still decide who may hear. */
	err = xv_xsd_fire(v, path, false, n->perms, n->nperms);
	if (!err)
		err = remove_below(v, n);
	if (err)
		return err;
	view_delete(v, n);
	if (parent) {
		del_child(parent, path);
		view_changed(v, parent);
	}
	return 0;
}

int xv_xsd_txn_new(struct xv_xsd *xsd, unsigned int domid,
		   struct xv_txn **out)
{
	struct xv_txn *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	if (xv_xsd_table_init(&t->overlay)) {
		free(t);
		return -ENOMEM;
	}
	/* Ids are never 0, which means "no transaction" on the wire. */
	if (++xsd->next_txid == 0)
		xsd->next_txid = 1;
	t->id = xsd->next_txid;
	t->domid = domid;
	t->events_tail = &t->events;
	*out = t;
	return 0;
}

void xv_xsd_txn_free(struct xv_txn *txn)
{
	struct xv_pending *p = txn->events;

	while (p) {
		struct xv_pending *next = p->next;

		free(p->path);
		free(p->perms);
		free(p);
		p = next;
	}
	xv_xsd_table_clear(&txn->overlay);
	free(txn);
}

static void store_account(struct xv_xsd *xsd, unsigned int owner, int delta)
{
	struct xv_view v = { .xsd = xsd, .txn = NULL };

	account(&v, owner, delta);
}

void xv_xsd_fail_commits(struct xv_xsd *xsd, int n)
{
	xsd->fail_commits = n < -1 ? -1 : n;
}

int xv_xsd_txn_commit(struct xv_xsd *xsd, struct xv_txn *txn)
{
	struct xv_table *o = &txn->overlay;
	struct xv_pending *p;

	if (xsd->fail_commits) {
		if (xsd->fail_commits > 0)
			xsd->fail_commits--;
		return -EAGAIN;
	}
	for (size_t i = 0; i < o->nbuckets; i++)
		for (struct xv_node *e = o->buckets[i]; e; e = e->hnext) {
			struct xv_node *m = xv_xsd_table_find(&xsd->nodes,
							      e->path);

			if ((m ? m->gen : 0) != e->seen_gen)
				return -EAGAIN;
		}
	/*
	 * Every record is whole (value, perms, children), so applying the
	 * changed ones in any order gives the transaction's view.
	 */
	for (size_t i = 0; i < o->nbuckets; i++)
		for (struct xv_node *e = o->buckets[i]; e; e = e->hnext) {
			struct xv_node *m;

			if (!e->dirty)
				continue;
			m = xv_xsd_table_find(&xsd->nodes, e->path);
			if (m)
				store_account(xsd, m->perms[0].id, -1);
			if (e->absent) {
				if (m)
					xv_xsd_node_free(
						table_unlink(&xsd->nodes,
							     e->path));
				continue;
			}
			if (!m) {
				m = calloc(1, sizeof(*m));
				if (!m || !(m->path = strdup(e->path))) {
					/* The store stays consistent per
					 * record; report the lost write. */
					free(m);
					return -ENOMEM;
				}
				xv_xsd_table_insert(&xsd->nodes, m);
			}
			node_move(m, e);
			store_account(xsd, m->perms[0].id, 1);
			m->gen = ++xsd->gen;
		}
	for (p = txn->events; p; p = p->next)
		xv_xsd_deliver(xsd, p->path, p->exact, p->perms, p->nperms);
	return 0;
}
