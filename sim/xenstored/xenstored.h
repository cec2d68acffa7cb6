/*
 * The simulator's xenstored: a xenstore server speaking the real wire
 * protocol (xen/io/xs_wire.h) on one Unix socket per simulated domain.
 *
 * The daemon owns the event loop; this module owns its sockets.  Each turn
 * of the loop the daemon asks for the descriptors to poll
 * (xv_xsd_pollfds()), polls them together with its own, and hands the
 * results back (xv_xsd_dispatch()).  The socket a connection arrived on
 * names the domain that speaks on it; nothing a client sends can change it.
 *
 * Domains appear with xv_xsd_domain_introduce() and disappear with
 * xv_xsd_domain_release(), which fire @introduceDomain / @releaseDomain.
 * Domain 0 is privileged, as on Xen.
 *
 * What clients see (C xenstored's behaviour; where it differs, said so):
 * - Requests on a connection are answered in order; a reply echoes the
 *   request's req_id and tx_id; watch events carry req_id = tx_id = 0.
 * - Paths: relative ones resolve under /local/domain/<domid>; characters
 *   [A-Za-z0-9-/_@], no "//", no trailing "/"; at most
 *   XENSTORE_REL_PATH_MAX bytes past a /local/domain/<id>/ prefix (or in
 *   all, without one) and XENSTORE_ABS_PATH_MAX in all; else EINVAL.
 * - Permissions: owner (first entry) and dom0 may do anything; another
 *   domain gets its own entry, or the first entry's flags.  A new node
 *   copies its parent's list; a guest creating it becomes the owner, dom0
 *   keeps the parent's owner.  A missing node is ENOENT only to who may
 *   read (write) its nearest existing ancestor, EACCES to others.  Guests
 *   may not change a node's owner (EPERM) nor set more than 5 entries.
 * - Watches: an event goes to every watch whose path is the changed path
 *   or a component-wise ancestor of it, with the watch's token, relative
 *   to the domain home if the watch path was relative, and once at
 *   registration.  A removal fires for the removed path and, to watches
 *   set exactly on them, for every node removed below it.  A connection
 *   hears an event only if it may read the node (with its permissions
 *   before the change, or after), or else its parent; dom0 hears all.
 *   @introduceDomain / @releaseDomain reach only watches on exactly that
 *   name, of connections that may read the special node: owner dom0, no
 *   access for others, until dom0 changes it with SET_PERMS (which on
 *   these two takes write and owner both).  An event whose path and
 *   token (with their NULs) exceed XENSTORE_PAYLOAD_MAX is not sent.
 * - Transactions: a private view; END "T" commits only if no node the
 *   transaction read or wrote changed meanwhile, else EAGAIN; "F" aborts.
 *   Watch events of a transaction fire on commit.
 * - Errors: unknown type ENOSYS; CONTROL, INTRODUCE, RELEASE, RESUME,
 *   SET_TARGET and IS_DOMAIN_INTRODUCED are EACCES to guests (and the
 *   first five ENOSYS to dom0: domains are managed through this API);
 *   unknown transaction ENOENT; START inside one EBUSY; reply over
 *   XENSTORE_PAYLOAD_MAX E2BIG.  Quotas (guests only): nodes ENOSPC,
 *   value bytes over entry_size ENOSPC, transactions ENOSPC, watches E2BIG.
 * - A header announcing more than XENSTORE_PAYLOAD_MAX bytes drops the
 *   connection (as xenstored).  Output is queued per connection: past
 *   64 KiB the connection is not read from until it drains; past 1 MiB
 *   (a client that does not read its events) it is dropped.
 * - Release removes /local/domain/<domid> and every other node the domain
 *   still owns (XSA-322), takes the domain's entries off every other
 *   node's permissions and the special nodes' (a new domain with the same
 *   id inherits no grant, as xenstored's generation check has it), and
 *   closes its connections.  Not as xenstored: an entry naming a domain
 *   that does not exist yet when it is set is kept, and counts once the
 *   domain comes (xenstored ignores it), so that a server may publish for
 *   a client domain not started yet.
 */
#ifndef XV_SIM_XENSTORED_H
#define XV_SIM_XENSTORED_H

#include <poll.h>
#include <stddef.h>

struct xv_xsd;

/* Per-domain quotas; dom0 is exempt, as with xenstored's defaults. */
struct xv_xsd_quota {
	unsigned int nodes;        /* nodes a domain may own */
	unsigned int watches;      /* watches per connection */
	unsigned int transactions; /* per connection, plus one as xenstored */
	unsigned int entry_size;   /* bytes of value per node */
};

/* Fill *quota with xenstored's defaults (1000, 128, 10, 2048). */
void xv_xsd_quota_default(struct xv_xsd_quota *quota);

/* Create an empty store with "/", "/local", "/local/domain" and "/tool".
 * Returns 0 or -ENOMEM. */
int xv_xsd_new(struct xv_xsd **out, const struct xv_xsd_quota *quota);

/* Close every socket and connection and free the store. */
void xv_xsd_free(struct xv_xsd *xsd);

/*
 * Create domain @domid: /local/domain/<domid> (owner dom0, domid may read),
 * its "domid" and "name" nodes, and "data" owned by the domain so that it
 * can publish there (as libxl sets it up); listen on @socket_path; fire
 * @introduceDomain.  Returns 0, -EEXIST, or a negative errno from the
 * socket calls.
 */
int xv_xsd_domain_introduce(struct xv_xsd *xsd, unsigned int domid,
			    const char *name, const char *socket_path);

/*
 * Remove domain @domid as the toolstack would on destroy: close its socket
 * and connections, remove /local/domain/<domid> and what it owns, drop its
 * permission entries everywhere, fire @releaseDomain.
 * Returns 0 or -ENOENT.
 */
int xv_xsd_domain_release(struct xv_xsd *xsd, unsigned int domid);

/*
 * Extension, for tests: the next @n transaction commits (-1: every one
 * from now on; 0: none) fail with EAGAIN, as if another writer had
 * changed a node they touched, and change nothing. A client's retries
 * can then be tested without racing a second writer.
 */
void xv_xsd_fail_commits(struct xv_xsd *xsd, int n);

/*
 * Extension: serve @fd, a connected stream socket (e.g. one end of a
 * socketpair), as a connection of introduced domain @domid, as if it had
 * connected to that domain's socket; for tests and fuzzers that drive a
 * connection without a socket file.  The store owns @fd from the call on
 * (closes it, also on failure) and makes it nonblocking.  Returns 0,
 * -ENOENT (no such domain), -ENOMEM or a negative errno from fcntl().
 */
int xv_xsd_adopt_fd(struct xv_xsd *xsd, unsigned int domid, int fd);

/*
 * Extension: the processes connected to domain @domid's socket, for a
 * domain destroy that kills them.  Writes up to @max pidfds into @pidfds
 * and returns how many there are (possibly more than @max).  They are the
 * store's own, taken with SO_PEERCRED when each connection was accepted
 * (connections made with xv_xsd_adopt_fd() have none), and stay valid
 * until the next call that may close connections (dispatch, release).
 */
size_t xv_xsd_domain_pidfds(const struct xv_xsd *xsd, unsigned int domid,
			    int *pidfds, size_t max);

/* Extension: how many connections domain @domid's socket has now (those
 * xv_xsd_adopt_fd() made included), for tests that count what a client
 * holds. */
size_t xv_xsd_domain_connections(const struct xv_xsd *xsd,
				 unsigned int domid);

/* Write into @fds (at most @max entries) the descriptors to poll, with the
 * events wanted.  Returns how many entries were written. */
size_t xv_xsd_pollfds(struct xv_xsd *xsd, struct pollfd *fds, size_t max);

/* Extension: how many entries xv_xsd_pollfds() would write given room,
 * so the daemon can size its array; descriptors left out for want of
 * room are not served in that turn. */
size_t xv_xsd_nfds(const struct xv_xsd *xsd);

/* Process the results of poll() for the entries xv_xsd_pollfds() filled:
 * accept connections, read and answer requests, flush replies and watch
 * events.  A misbehaving connection is dropped; it never stops the others. */
void xv_xsd_dispatch(struct xv_xsd *xsd, const struct pollfd *fds, size_t n);

#endif
