/*
 * Private to sim/xenstored: the node store, transactions, watches and
 * connections behind xenstored.h.
 *
 * The store is flat, as C xenstored's database is: one record per absolute
 * path, holding the value, the permission list and the packed list of child
 * names, and the generation at which it last changed.  A transaction is an
 * overlay of records it copied on first access (remembering the generation
 * it saw) and then changed privately; it commits only if every record it
 * touched still has the generation it saw, otherwise EAGAIN.  This is the
 * same rule as xenstored's, so a reader of a node that another transaction
 * changed conflicts too.
 */
#ifndef XV_SIM_XSD_INT_H
#define XV_SIM_XSD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/xs_wire.h>

#include "xenstored.h"

/* Permission bits, as libxenstore's XS_PERM_* (not included: xs_ names). */
enum {
	XV_XSD_PERM_NONE = 0,
	XV_XSD_PERM_READ = 1,
	XV_XSD_PERM_WRITE = 2,
	XV_XSD_PERM_OWNER = 8,
};

/* xenstored's default cap on permission entries set by a guest. */
#define XV_XSD_MAX_PERMS 5

/* Output queued for one connection before it stops being read from, and
 * before it is dropped for never reading its replies and events. */
#define XV_XSD_OUT_PAUSE (64u * 1024u)
#define XV_XSD_OUT_DROP (1024u * 1024u)

struct xv_xsd_perm {
	unsigned int id;
	unsigned int perms;
};

struct xv_node {
	struct xv_node *hnext;
	char *path;
	char *value;
	unsigned int len;
	char *children; /* "a\0b\0" as on the wire */
	unsigned int childlen;
	struct xv_xsd_perm *perms;
	unsigned int nperms;
	uint64_t gen;
	/* Only in a transaction overlay: */
	bool absent;       /* the path does not exist in this view */
	bool dirty;        /* changed by the transaction */
	uint64_t seen_gen; /* store generation at first access; 0: absent */
};

struct xv_table {
	struct xv_node **buckets;
	size_t nbuckets;
	size_t count;
};

/* A watch event waiting for its transaction to commit. */
struct xv_pending {
	struct xv_pending *next;
	char *path;
	bool exact;
	struct xv_xsd_perm *perms;
	unsigned int nperms;
};

struct xv_txn {
	struct xv_txn *next;
	uint32_t id;
	unsigned int domid;
	int own_delta; /* nodes owned by domid created minus removed */
	struct xv_table overlay;
	struct xv_pending *events;
	struct xv_pending **events_tail;
};

struct xv_watch {
	struct xv_watch *next;
	char *path;  /* canonical */
	char *token;
	size_t prefix_len; /* stripped from event paths of relative watches */
};

struct xv_buf {
	struct xv_buf *next;
	size_t len;
	size_t off;
	char data[];
};

struct xv_conn {
	struct xv_conn *next;
	int fd;
	int pidfd; /* the connecting process (SO_PEERCRED), -1 if unknown */
	unsigned int domid;
	bool polled; /* present at the last xv_xsd_pollfds() */
	bool dead;
	struct xsd_sockmsg hdr;
	size_t hdr_got;
	size_t body_got;
	char body[XENSTORE_PAYLOAD_MAX + 1];
	struct xv_buf *out_head;
	struct xv_buf **out_tail;
	size_t out_bytes;
	struct xv_watch *watches;
	unsigned int nwatches;
	struct xv_txn *txns;
	unsigned int ntxns;
};

struct xv_dom {
	struct xv_dom *next;
	unsigned int domid;
	int listen_fd;
	bool polled;
	char *sock_path;
	unsigned int nodes; /* owned, for the quota */
};

/* @introduceDomain and @releaseDomain: not in the tree, perms only. */
struct xv_special {
	const char *name;
	struct xv_xsd_perm *perms;
	unsigned int nperms;
};

struct xv_xsd {
	struct xv_xsd_quota quota;
	struct xv_table nodes;
	uint64_t gen;
	uint32_t next_txid;
	struct xv_dom *doms;
	struct xv_conn *conns;
	struct xv_special special[2];
	/* /dev/null, given up to refuse a connection when out of
	 * descriptors (accept_all()); -1 if none. */
	int spare_fd;
	int fail_commits;	/* xv_xsd_fail_commits(): left, -1 all */
};

/* A place to read and write: the store itself or one transaction. */
struct xv_view {
	struct xv_xsd *xsd;
	struct xv_txn *txn;
};

/* store.c */
int xv_xsd_table_init(struct xv_table *t);
void xv_xsd_table_clear(struct xv_table *t);
struct xv_node *xv_xsd_table_find(const struct xv_table *t, const char *path);
void xv_xsd_table_insert(struct xv_table *t, struct xv_node *n);
void xv_xsd_node_free(struct xv_node *n);
unsigned int xv_xsd_perm_for(unsigned int domid,
			     const struct xv_xsd_perm *p, unsigned int n);
struct xv_dom *xv_xsd_dom_find(struct xv_xsd *xsd, unsigned int domid);
bool xv_xsd_path_valid(const char *path);
int xv_xsd_path_parent(const char *path, char **out);
int xv_xsd_view_get(struct xv_view *v, const char *path, struct xv_node **out);
int xv_xsd_get_checked(struct xv_view *v, unsigned int domid,
		       const char *path, unsigned int perm,
		       struct xv_node **out);
int xv_xsd_create(struct xv_view *v, unsigned int domid, const char *path,
		  const char *value, unsigned int len);
int xv_xsd_set_value(struct xv_view *v, struct xv_node *n,
		     const char *value, unsigned int len);
int xv_xsd_set_perms(struct xv_view *v, struct xv_node *n,
		     const struct xv_xsd_perm *perms, unsigned int nperms);
int xv_xsd_remove(struct xv_view *v, const char *path);
int xv_xsd_txn_new(struct xv_xsd *xsd, unsigned int domid,
		   struct xv_txn **out);
void xv_xsd_txn_free(struct xv_txn *txn);
int xv_xsd_txn_commit(struct xv_xsd *xsd, struct xv_txn *txn);
int xv_xsd_perms_dup(const struct xv_xsd_perm *p, unsigned int n,
		     struct xv_xsd_perm **out);

/* watch.c */
int xv_xsd_fire(struct xv_view *v, const char *path, bool exact,
		const struct xv_xsd_perm *perms, unsigned int nperms);
void xv_xsd_deliver(struct xv_xsd *xsd, const char *path, bool exact,
		    const struct xv_xsd_perm *perms, unsigned int nperms);
void xv_xsd_queue(struct xv_conn *c, uint32_t type, uint32_t req_id,
		  uint32_t tx_id, const void *data, size_t len);
void xv_xsd_send_event(struct xv_conn *c, const struct xv_watch *w,
		       const char *path);
void xv_xsd_conn_drop_state(struct xv_conn *c);

/* ops.c */
void xv_xsd_handle(struct xv_xsd *xsd, struct xv_conn *c);

#endif
