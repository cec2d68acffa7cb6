/*
 * One handler per xenstore request type, with xenstored's argument rules
 * and error names.  Each handler replies itself on success and returns 0,
 * or returns a negative errno that becomes an XS_ERROR reply.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsd-int.h"

static const char *err_name(int err)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	/* xenstored too answers an untranslatable error with EINVAL. */
	return "EINVAL";
}

static void reply_error(struct xv_conn *c, int err)
{
	const char *s = err_name(err);

	xv_xsd_queue(c, XS_ERROR, c->hdr.req_id, c->hdr.tx_id, s,
		     strlen(s) + 1);
}

static void reply(struct xv_conn *c, const void *data, size_t len)
{
	if (len > XENSTORE_PAYLOAD_MAX) {
		reply_error(c, E2BIG);
		return;
	}
	xv_xsd_queue(c, c->hdr.type, c->hdr.req_id, c->hdr.tx_id, data, len);
}

static void reply_ok(struct xv_conn *c)
{
	reply(c, "OK", 3);
}

/* Number of nul-terminated strings in the payload (trailing bytes after
 * the last nul do not count, as in xenstored's get_strings()). */
static unsigned int count_strings(const struct xv_conn *c)
{
	unsigned int n = 0;

	for (uint32_t i = 0; i < c->hdr.len; i++)
		if (c->body[i] == '\0')
			n++;
	return n;
}

/* The payload is exactly one string with its nul. */
static const char *onearg(const struct xv_conn *c)
{
	if (c->hdr.len == 0 || strlen(c->body) != c->hdr.len - 1)
		return NULL;
	return c->body;
}

static int canonical(const struct xv_conn *c, const char *path,
		     bool allow_special, char **out)
{
	int n;

	*out = NULL;
	if (!path)
		return -EINVAL;
	if (path[0] == '@') {
		if (!allow_special || strlen(path) > XENSTORE_ABS_PATH_MAX ||
		    path[strspn(path, "@_-abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")])
			return -EINVAL;
		*out = strdup(path);
		return *out ? 0 : -ENOMEM;
	}
	if (path[0] == '/')
		*out = strdup(path);
	else if ((n = asprintf(out, "/local/domain/%u/%s", c->domid,
			       path)) < 0)
		*out = NULL;
	if (!*out)
		return -ENOMEM;
	if (!xv_xsd_path_valid(*out)) {
		free(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

static int parse_domid(const char *s, unsigned int *out)
{
	unsigned long v;
	char *end;

	if (!s || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || errno || v > 0xffff)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static int view_of(struct xv_xsd *xsd, struct xv_conn *c, struct xv_view *v)
{
	v->xsd = xsd;
	v->txn = NULL;
	if (c->hdr.tx_id == 0)
		return 0;
	for (struct xv_txn *t = c->txns; t; t = t->next)
		if (t->id == c->hdr.tx_id) {
			v->txn = t;
			return 0;
		}
	return -ENOENT;
}

static int too_big(const struct xv_xsd *xsd, const struct xv_conn *c,
		   unsigned int len)
{
	return c->domid != 0 && len > xsd->quota.entry_size;
}

/* The node a request names by the ordinary path @arg, if @c's domain may
 * do @perm on it.  *path is the canonical path, or NULL when @arg is not
 * a valid one; the caller frees it, also on error, since a write or mkdir
 * of a missing node (-ENOENT) goes on with it. */
static int lookup_path(struct xv_view *v, struct xv_conn *c, const char *arg,
		       unsigned int perm, char **path, struct xv_node **n)
{
	int err = canonical(c, arg, false, path);

	if (err)
		return err;
	return xv_xsd_get_checked(v, c->domid, *path, perm, n);
}

/* lookup_path() for a request that needs only the node. */
static int lookup(struct xv_view *v, struct xv_conn *c, const char *arg,
		  unsigned int perm, struct xv_node **n)
{
	char *path;
	int err = lookup_path(v, c, arg, perm, &path, n);

	free(path);
	return err;
}

static int do_read(struct xv_view *v, struct xv_conn *c)
{
	struct xv_node *n;
	int err = lookup(v, c, onearg(c), XV_XSD_PERM_READ, &n);

	if (!err)
		reply(c, n->value, n->len);
	return err;
}

static int do_write(struct xv_view *v, struct xv_conn *c)
{
	struct xv_node *n;
	char *path;
	size_t plen;
	unsigned int len;
	const char *value;
	int err;

	if (count_strings(c) < 1)
		return -EINVAL;
	plen = strlen(c->body) + 1;
	value = c->body + plen;
	len = c->hdr.len - (unsigned int)plen;
	err = lookup_path(v, c, c->body, XV_XSD_PERM_WRITE, &path, &n);
	if ((!err || err == -ENOENT) && too_big(v->xsd, c, len))
		err = -ENOSPC;
	else if (!err)
		err = xv_xsd_set_value(v, n, value, len);
	else if (err == -ENOENT)
		err = xv_xsd_create(v, c->domid, path, value, len);
	if (!err)
		err = xv_xsd_fire(v, path, false, NULL, 0);
	if (!err)
		reply_ok(c);
	free(path);
	return err;
}

static int do_mkdir(struct xv_view *v, struct xv_conn *c)
{
	struct xv_node *n;
	char *path;
	int err = lookup_path(v, c, onearg(c), XV_XSD_PERM_WRITE, &path, &n);

	/* An existing node is fine, and changes nothing to watch. */
	if (err == -ENOENT) {
		err = xv_xsd_create(v, c->domid, path, "", 0);
		if (!err)
			err = xv_xsd_fire(v, path, false, NULL, 0);
	}
	if (!err)
		reply_ok(c);
	free(path);
	return err;
}

static int do_rm(struct xv_view *v, struct xv_conn *c)
{
	struct xv_node *n, *parent;
	char *path, *pp;
	int err = lookup_path(v, c, onearg(c), XV_XSD_PERM_WRITE, &path, &n);

	if (err == -ENOENT) {
		/* Already gone is success, if the parent is there. */
		err = xv_xsd_path_parent(path, &pp);
		if (!err) {
			err = xv_xsd_view_get(v, pp, &parent);
			free(pp);
		}
		if (!err && !parent)
			err = -ENOENT;
	} else if (!err && strcmp(path, "/") == 0) {
		err = -EINVAL;
	} else if (!err) {
		err = xv_xsd_remove(v, path);
	}
	if (!err)
		reply_ok(c);
	free(path);
	return err;
}

static int do_directory(struct xv_view *v, struct xv_conn *c)
{
	struct xv_node *n;
	int err = lookup(v, c, onearg(c), XV_XSD_PERM_READ, &n);

	/* Over XENSTORE_PAYLOAD_MAX reply() answers E2BIG, which makes
	 * libxenstore fall back to XS_DIRECTORY_PART. */
	if (!err)
		reply(c, n->children, n->childlen);
	return err;
}

/* Reply: generation, nul, then as many whole names from byte @off as fit;
 * an extra nul marks the end of the list (xenstored's format). */
static int do_directory_part(struct xv_view *v, struct xv_conn *c)
{
	char out[XENSTORE_PAYLOAD_MAX];
	struct xv_node *n;
	unsigned long off;
	unsigned int len = 0, maxlen;
	int genlen, err;
	const char *offstr;
	char *end;

	if (count_strings(c) != 2)
		return -EINVAL;
	offstr = c->body + strlen(c->body) + 1;
	errno = 0;
	off = strtoul(offstr, &end, 10);
	if (*offstr < '0' || *offstr > '9' || *end || errno)
		return -EINVAL;
	err = lookup(v, c, c->body, XV_XSD_PERM_READ, &n);
	if (err)
		return err;
	genlen = snprintf(out, sizeof(out), "%llu",
			  (unsigned long long)n->gen) + 1;
	maxlen = XENSTORE_PAYLOAD_MAX - (unsigned int)genlen - 1;
	if (off < n->childlen) {
		const char *child = n->children + off;

		while (off + len < n->childlen &&
		       len + strlen(child) + 1 <= maxlen) {
			len += (unsigned int)strlen(child) + 1;
			child = n->children + off + len;
		}
		if (len == 0)
			return -E2BIG;
		memcpy(out + genlen, n->children + off, len);
	}
	if (off + len >= n->childlen)
		out[genlen + len++] = '\0';
	reply(c, out, (size_t)genlen + len);
	return 0;
}

static int perms_reply(struct xv_conn *c, const struct xv_xsd_perm *p,
		       unsigned int n)
{
	static const char letter[] = { 'n', 'r', 'w', 'b' };
	char out[XENSTORE_PAYLOAD_MAX];
	size_t len = 0;

	for (unsigned int i = 0; i < n; i++) {
		char one[16];
		size_t l = (size_t)snprintf(one, sizeof(one), "%c%u",
					    letter[p[i].perms & 3],
					    p[i].id) + 1;

		if (len + l > sizeof(out))
			return -E2BIG;
		memcpy(out + len, one, l);
		len += l;
	}
	reply(c, out, len);
	return 0;
}

static struct xv_special *special(struct xv_xsd *xsd, const char *name)
{
	for (size_t i = 0; i < 2; i++)
		if (strcmp(xsd->special[i].name, name) == 0)
			return &xsd->special[i];
	return NULL;
}

/* The special node @path names, if @c's domain may do all of @perm on it:
 * what xv_xsd_get_checked() is for ordinary nodes. */
static int special_checked(struct xv_xsd *xsd, const struct xv_conn *c,
			   const char *path, unsigned int perm,
			   struct xv_special **out)
{
	struct xv_special *sp = special(xsd, path);

	if (!sp)
		return -ENOENT;
	if ((xv_xsd_perm_for(c->domid, sp->perms, sp->nperms) & perm) != perm)
		return -EACCES;
	*out = sp;
	return 0;
}

static int do_get_perms(struct xv_view *v, struct xv_conn *c)
{
	struct xv_special *sp;
	struct xv_node *n;
	char *path;
	int err = canonical(c, onearg(c), true, &path);

	if (err)
		return err;
	if (path[0] == '@') {
		err = special_checked(v->xsd, c, path, XV_XSD_PERM_READ, &sp);
		if (!err)
			err = perms_reply(c, sp->perms, sp->nperms);
	} else {
		err = xv_xsd_get_checked(v, c->domid, path, XV_XSD_PERM_READ,
					 &n);
		if (!err)
			err = perms_reply(c, n->perms, n->nperms);
	}
	free(path);
	return err;
}

static int parse_perm(const char *s, struct xv_xsd_perm *p)
{
	static const char letters[] = "nrwb";
	const char *l = s[0] ? strchr(letters, s[0]) : NULL;

	if (!l)
		return -EINVAL;
	p->perms = (unsigned int)(l - letters);
	return parse_domid(s + 1, &p->id);
}

static int do_set_perms(struct xv_view *v, struct xv_conn *c)
{
	struct xv_xsd_perm perms[XENSTORE_PAYLOAD_MAX / 3];
	struct xv_xsd_perm *old = NULL;
	struct xv_special *sp;
	struct xv_node *n;
	unsigned int nperms = count_strings(c);
	unsigned int nold;
	const char *s;
	char *path = NULL;
	int err;

	/* Each entry takes at least 3 bytes ("n0\0"): more cannot parse. */
	if (nperms < 2 || nperms - 1 > sizeof(perms) / sizeof(perms[0]))
		return -EINVAL;
	nperms--;
	if (c->domid != 0 && nperms > XV_XSD_MAX_PERMS)
		return -ENOSPC;
	s = c->body + strlen(c->body) + 1;
	for (unsigned int i = 0; i < nperms; i++) {
		err = parse_perm(s, &perms[i]);
		if (err)
			return err;
		s += strlen(s) + 1;
	}
	err = canonical(c, c->body, true, &path);
	if (err)
		return err;
	if (path[0] == '@') {
		/* Write and owner both, as xenstored's set_perms_special():
		 * a domain granted write may not make the node its own. */
		err = special_checked(v->xsd, c, path,
				      XV_XSD_PERM_WRITE | XV_XSD_PERM_OWNER,
				      &sp);
		if (!err && !(err = xv_xsd_perms_dup(perms, nperms, &old))) {
			free(sp->perms);
			sp->perms = old;
			sp->nperms = nperms;
			old = NULL;
		}
		goto out;
	}
	err = xv_xsd_get_checked(v, c->domid, path,
				 XV_XSD_PERM_WRITE | XV_XSD_PERM_OWNER, &n);
	if (err)
		goto out;
	/* A guest may share its node, not give it away. */
	if (c->domid != 0 && perms[0].id != n->perms[0].id) {
		err = -EPERM;
		goto out;
	}
	nold = n->nperms;
	err = xv_xsd_perms_dup(n->perms, nold, &old);
	if (!err)
		err = xv_xsd_set_perms(v, n, perms, nperms);
	/* The old permissions too decide who hears: losing access is news. */
	if (!err)
		err = xv_xsd_fire(v, path, false, old, nold);
out:
	if (!err)
		reply_ok(c);
	free(old);
	free(path);
	return err;
}

/* The watch a WATCH or UNWATCH request names: where the link to it is
 * in c->watches (*link is NULL if there is none), its token, and its
 * canonical path, which the caller frees (NULL on error). */
static int watch_lookup(struct xv_conn *c, char **path, const char **token,
			struct xv_watch ***link)
{
	struct xv_watch **pp;
	int err;

	*path = NULL;
	if (count_strings(c) != 2)
		return -EINVAL;
	*token = c->body + strlen(c->body) + 1;
	err = canonical(c, c->body, true, path);
	if (err)
		return err;
	for (pp = &c->watches; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->path, *path) &&
		    !strcmp((*pp)->token, *token))
			break;
	*link = pp;
	return 0;
}

static int do_watch(struct xv_view *v, struct xv_conn *c)
{
	struct xv_xsd *xsd = v->xsd;
	struct xv_watch **link, *w;
	const char *token;
	char *path;
	int err = watch_lookup(c, &path, &token, &link);

	if (err)
		return err;
	if (*link) {
		free(path);
		return -EEXIST;
	}
	if (c->domid != 0 && c->nwatches >= xsd->quota.watches) {
		free(path);
		return -E2BIG;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->token = strdup(token))) {
		free(w);
		free(path);
		return -ENOMEM;
	}
	w->path = path;
	if (c->body[0] != '/' && c->body[0] != '@')
		w->prefix_len = (size_t)snprintf(NULL, 0, "/local/domain/%u/",
						 c->domid);
	w->next = c->watches;
	c->watches = w;
	c->nwatches++;
	reply_ok(c);
	/* Fired once at once, so a client needs no separate first read. */
	xv_xsd_send_event(c, w, w->path);
	return 0;
}

static int do_unwatch(struct xv_view *v, struct xv_conn *c)
{
	struct xv_watch **link, *w;
	const char *token;
	char *path;
	int err = watch_lookup(c, &path, &token, &link);

	free(path);
	if (err)
		return err;
	w = *link;
	if (!w)
		return -ENOENT;
	*link = w->next;
	free(w->path);
	free(w->token);
	free(w);
	c->nwatches--;
	reply_ok(c);
	return 0;
}

static int do_txn_start(struct xv_view *v, struct xv_conn *c)
{
	struct xv_xsd *xsd = v->xsd;
	struct xv_txn *t;
	char id[16];
	int err;

	if (v->txn)
		return -EBUSY;
	/* '>', not '>=': C xenstored 4.17 (do_transaction_start) refuses only
	 * once a guest already holds more than the quota, so a guest gets one
	 * transaction over it, and programs tuned on Xen count on that. */
	if (c->domid != 0 && c->ntxns > xsd->quota.transactions)
		return -ENOSPC;
	err = xv_xsd_txn_new(xsd, c->domid, &t);
	if (err)
		return err;
	t->next = c->txns;
	c->txns = t;
	c->ntxns++;
	reply(c, id, (size_t)snprintf(id, sizeof(id), "%u", t->id) + 1);
	return 0;
}

static int do_txn_end(struct xv_view *v, struct xv_conn *c)
{
	const char *arg = onearg(c);
	struct xv_txn **pp;
	int err = 0;

	if (!v->txn)
		return -ENOENT;
	if (!arg || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
		return -EINVAL;
	for (pp = &c->txns; *pp != v->txn; pp = &(*pp)->next)
		;
	*pp = v->txn->next;
	c->ntxns--;
	if (arg[0] == 'T')
		err = xv_xsd_txn_commit(v->xsd, v->txn);
	xv_xsd_txn_free(v->txn);
	if (!err)
		reply_ok(c);
	return err;
}

static int do_domain_path(struct xv_view *v, struct xv_conn *c)
{
	char out[32];
	unsigned int domid;
	int err = parse_domid(onearg(c), &domid);

	if (!err)
		reply(c, out, (size_t)snprintf(out, sizeof(out),
					       "/local/domain/%u", domid) + 1);
	return err;
}

static int do_is_introduced(struct xv_view *v, struct xv_conn *c)
{
	unsigned int domid;
	int err = parse_domid(onearg(c), &domid);

	if (err)
		return err;
	reply(c, xv_xsd_dom_find(v->xsd, domid) ? "T" : "F", 2);
	return 0;
}

static int do_reset_watches(struct xv_view *v, struct xv_conn *c)
{
	xv_xsd_conn_drop_state(c);
	reply_ok(c);
	return 0;
}

/* CONTROL, INTRODUCE, RELEASE, RESUME and SET_TARGET have none (ENOSYS):
 * the simulator's daemon, not a client, manages domains. */
static int (*const handlers[XS_TYPE_COUNT])(struct xv_view *,
					    struct xv_conn *) = {
	[XS_READ] = do_read,
	[XS_WRITE] = do_write,
	[XS_MKDIR] = do_mkdir,
	[XS_RM] = do_rm,
	[XS_DIRECTORY] = do_directory,
	[XS_DIRECTORY_PART] = do_directory_part,
	[XS_GET_PERMS] = do_get_perms,
	[XS_SET_PERMS] = do_set_perms,
	[XS_WATCH] = do_watch,
	[XS_UNWATCH] = do_unwatch,
	[XS_TRANSACTION_START] = do_txn_start,
	[XS_TRANSACTION_END] = do_txn_end,
	[XS_GET_DOMAIN_PATH] = do_domain_path,
	[XS_IS_DOMAIN_INTRODUCED] = do_is_introduced,
	[XS_RESET_WATCHES] = do_reset_watches,
};

static bool is_known(uint32_t type)
{
	return type < XS_TYPE_COUNT && type != XS_WATCH_EVENT &&
	       type != XS_ERROR && type != XS_SET_TARGET + 1;
}

static bool is_privileged(uint32_t type)
{
	return type == XS_CONTROL || type == XS_INTRODUCE ||
	       type == XS_RELEASE || type == XS_RESUME ||
	       type == XS_SET_TARGET || type == XS_IS_DOMAIN_INTRODUCED;
}

/* Checked in xenstored's order: known type, privilege, transaction id
 * (which WATCH and UNWATCH ignore). */
static int admit(struct xv_xsd *xsd, struct xv_conn *c, struct xv_view *v)
{
	uint32_t type = c->hdr.type;

	v->xsd = xsd;
	v->txn = NULL;
	if (!is_known(type))
		return -ENOSYS;
	if (is_privileged(type) && c->domid != 0)
		return -EACCES;
	if (type == XS_WATCH || type == XS_UNWATCH)
		return 0;
	return view_of(xsd, c, v);
}

void xv_xsd_handle(struct xv_xsd *xsd, struct xv_conn *c)
{
	struct xv_view v;
	int err = admit(xsd, c, &v);

	if (err) {
		reply_error(c, -err);
		return;
	}
	/* admit() let through only types below XS_TYPE_COUNT. */
	err = handlers[c->hdr.type] ? handlers[c->hdr.type](&v, c) : -ENOSYS;
	if (err)
		reply_error(c, -err);
}
