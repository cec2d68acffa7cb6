/*
 * xs: the xenstore rendezvous, the only code in xvchan that talks to
 * xenstore (through libxenstore).
 *
 * The server publishes where the client looks:
 *
 *   <path>/ring-ref       decimal grant reference of the control page
 *   <path>/event-channel  decimal unbound port the client binds to
 *
 * with permissions [owner: server domain, others: none; client: read] on
 * <path> and on both keys, written in one transaction so that a client
 * never sees one key without the other.  <path> is either explicit
 * (libxenvchan style) or the MirageOS convention built by
 * xv_xs_path_build():
 *
 *   /local/domain/<server domid>/data/vchan/<client domid>/<port>
 *
 * Key names, the keys' permissions, the MirageOS path and its clean-up
 * match ocaml-vchan (lib/xenstore.ml; it leaves the directory's own
 * permissions inherited, this module sets them too), so MirageOS peers
 * interoperate in both directions.
 *
 * A domain learns its own id by reading the relative key "domid", i.e.
 * /local/domain/<N>/domid, which the toolstack creates with the domain
 * (xen-init-dom0 does it for dom0; the simulator creates it too).  This is
 * what ocaml-vchan does; it needs no privilege.
 *
 * Errors are negative errno values.  Failures of libxenstore are passed on
 * as -errno (-EIO if libxenstore left errno at 0).  If the connection to
 * xenstored breaks, libxenstore closes it for good: every later call on
 * that handle fails with -ECONNRESET, and a lookup waiting at that moment
 * returns -ECONNRESET within about a second (even with no timeout).  The
 * caller closes the handle and may open a new one; nothing in this module
 * reconnects or retries behind its back, except a transaction that
 * xenstored ended with EAGAIN (bounded, see xv_xs_publish()).
 */
#ifndef XV_XS_H
#define XV_XS_H

#include <stdint.h>

struct xv_xs;

/*
 * Longest port name allowed, in bytes.  xenstored (4.17) refuses a path
 * under /local/domain/<N>/ whose part after that prefix exceeds
 * XENSTORE_REL_PATH_MAX (2048); the longest such part this module writes
 * is "data/vchan/<client>/<port>/event-channel", 36 bytes plus the port
 * even for a 10-digit client domid (real ones have at most 5).  The whole
 * absolute path then stays far below XENSTORE_ABS_PATH_MAX (3072).
 */
#define XV_XS_PORT_MAX 2012

/* Open a connection to xenstore with xs_open(0).  A handle is not meant
 * for concurrent use by several threads.  Returns 0, -ENOMEM, or
 * the -errno of the failed connection (e.g. -ENOENT, -ECONNREFUSED,
 * -EACCES when xenstored's socket or device is missing or closed). */
int xv_xs_open(struct xv_xs **out);

/* A handle for the domain functions at the end of this header only
 * (xv_xs_domain_watch, xv_xs_watch_drain, xv_xs_domain_exists): their
 * connection, which needs no libxenstore, is opened here and is the
 * handle's only one.  Never pass it to any other function.  Returns as
 * xv_xs_open(). */
int xv_xs_open_domain(struct xv_xs **out);

/* Close the connection(s) and free @xs; NULL is allowed. */
void xv_xs_close(struct xv_xs *xs);

/* Read this domain's id from the relative key "domid".  Returns 0,
 * -EPROTO if the value is not a strict decimal domid (< 0x7FF0), or a
 * -errno from xenstore. */
int xv_xs_own_domid(struct xv_xs *xs, unsigned int *domid);

/* A port is [a-zA-Z0-9_-]{1,XV_XS_PORT_MAX} (ocaml-vchan's rule).
 * Returns 0 or -EINVAL (also for NULL). */
int xv_xs_port_check(const char *port);

/*
 * An explicit path is absolute or relative to the caller's domain home,
 * made of xenstore's node characters [a-zA-Z0-9_/@-], not empty, not
 * starting with '@' (watch specials), with no "//" and no trailing '/', and
 * short enough that <path>/event-channel is a valid node for xenstored
 * (relative part <= XENSTORE_REL_PATH_MAX, absolute <=
 * XENSTORE_ABS_PATH_MAX).  Returns 0 or -EINVAL (also for NULL).
 */
int xv_xs_path_check(const char *path);

/* Build the MirageOS path into a malloc'd string (*out, caller frees).
 * Returns 0, -EINVAL for a bad port (see xv_xs_port_check()) or a domid
 * that names no domain (>= DOMID_FIRST_RESERVED, 0x7FF0), or -ENOMEM.
 * Never truncates. */
int xv_xs_path_build(char **out, unsigned int server_domid,
		     unsigned int client_domid, const char *port);

/*
 * Server: in one transaction, refuse if @path exists (-EADDRINUSE), create
 * it, write ring-ref and event-channel in decimal, and set permissions
 * [owner: own domain, others: none; @client_domid: read] on @path and both
 * keys.  A transaction that xenstored ends with EAGAIN (a conflicting
 * write) is retried a bounded number of times, then -EAGAIN; the pauses
 * between tries (about 2 s in all at worst) end early with -ECANCELED
 * once @cancel_fd (-1: none; never read) is readable, -EBADF if it was
 * closed.  Returns 0, -EINVAL (bad path), -EADDRINUSE, -EAGAIN,
 * -ECANCELED, -EBADF or a -errno from xenstore (e.g. -EACCES if the
 * caller may not write there).
 */
int xv_xs_publish(struct xv_xs *xs, const char *path,
		  unsigned int client_domid, uint32_t ring_ref,
		  uint32_t event_channel, int cancel_fd);

/*
 * Server: remove @path and everything under it.  If @path has the MirageOS
 * shape (/local/domain/<d>/data/vchan/<c>/<port>), also remove the
 * per-client directory <c> in the same transaction when it is left empty
 * and this domain may remove it, as ocaml-vchan does.  The parent of an explicit path is never touched:
 * it may be the domain's "data" node, which a guest could not recreate.
 * Returns 0, -EINVAL (bad path), -ENOENT if @path does not exist, -EAGAIN
 * (as xv_xs_publish()) or a -errno from xenstore.
 */
int xv_xs_unpublish(struct xv_xs *xs, const char *path);

/*
 * Client: wait until both keys under @path can be read, using a xenstore
 * watch on @path/event-channel, the key servers write last (no polling),
 * for at most @timeout_ms milliseconds (-1: forever; 0: look once), or
 * until @cancel_fd (-1: none; never read) is readable while nothing else
 * is (-ECANCELED; -EBADF if it was closed).  A key that does not exist
 * or cannot be read yet (ENOENT, EACCES) means "not published yet".
 * Values must be strict decimal: digits only, no sign, no spaces, no
 * leading zero, ring-ref in 1..UINT32_MAX, event-channel in 1..INT32_MAX
 * (libxenevtchn returns ports as int).  Returns 0 with *ring_ref and
 * *event_channel set, -EINVAL (bad path or timeout < -1), -ETIMEDOUT,
 * -ECANCELED, -EBADF, -EPROTO (malformed value), -ECONNRESET (xenstored
 * gone), or a -errno from xenstore.  Both keys are read in one read-only
 * transaction, so the pair found is always one publication's, never
 * ring-ref from one and event-channel from the next; a look whose commit
 * conflicts is retried as xv_xs_publish() retries, but never past the
 * timeout, and one that conflicts every time (keys changing all along)
 * counts as "not yet": the lookup ends within one xenstore exchange (a
 * transaction, or setting its watch) after its timeout (a timeout of 0
 * makes exactly one transaction), and @cancel_fd also ends the pauses
 * between tries.  It reads the
 * keys first and only if they are not there yet sets the watch, on a
 * second connection; the watch wakes it when the server publishes, and
 * the end of that connection wakes it too (-ECONNRESET); it also looks
 * again once a second, for a server that writes the keys in the other
 * order outside a transaction.  The second connection speaks the
 * wire protocol itself (no libxenstore reader thread).  After a success
 * that needed the watch, it stays open until xv_xs_close(@xs) or the next
 * lookup: closing it makes xenstored drop the watch, which a client can
 * better have done once it has connected.
 */
int xv_xs_lookup(struct xv_xs *xs, const char *path, int timeout_ms,
		 int cancel_fd, uint32_t *ring_ref, uint32_t *event_channel);

/*
 * The end of a domain.  `xl destroy` kills a domain without letting it run
 * anything: no unmap notification clears its live byte, no event arrives,
 * and Xen closes its event channels silently.  What remains is xenstore:
 * the toolstack removes /local/domain/<N> and xenstored fires the special
 * watch @releaseDomain, after which XS_IS_DOMAIN_INTRODUCED(N) says "F".
 *
 * Use a handle of its own (xv_xs_open()) for this: its descriptor then
 * wakes only for @releaseDomain, and the whole handle can be dropped when
 * the feature turns out to be unavailable.  Order that misses nothing:
 * xv_xs_domain_watch(), then xv_xs_domain_exists() once; afterwards, each
 * time the descriptor is readable, xv_xs_watch_drain() and ask again.
 * (xenstored also fires every new watch once at once; that event only
 * costs one more question.)
 *
 * C xenstored 4.17 makes both privileged (XSA-115): a guest may set the
 * watch, but never hears it fire (the special node is readable by dom0
 * only), and XS_IS_DOMAIN_INTRODUCED is EACCES.  An unprivileged domain
 * therefore cannot learn this way that its peer domain was destroyed;
 * xv_xs_domain_exists() returning -EACCES is how a caller finds out.
 * Guests are also bound by xenstored's watch quota (128 per domain in C
 * xenstored; dom0 is exempt): xv_xs_domain_watch() then fails with E2BIG
 * (or ENOSPC, depending on the daemon).
 */

/*
 * These three use a connection of the handle's own, opened on first use
 * where xv_xs_open() connected, that speaks the wire protocol directly:
 * no libxenstore reader thread, and the descriptor is xenstored's socket
 * (or the xenbus device) itself.
 */

/* Set the watch on @releaseDomain (once per handle).  Returns the
 * descriptor that is readable while events are queued, and for good once
 * xenstored is gone (owned by the handle, valid until xv_xs_close()), or
 * a -errno from xenstore (-E2BIG for the watch quota, -ECONNRESET, ...).
 * An event read by xv_xs_domain_exists() while it waited for its answer
 * leaves the descriptor quiet: that answer already reflects it, and the
 * next xv_xs_watch_drain() counts it. */
int xv_xs_domain_watch(struct xv_xs *xs);

/* Consume every queued watch event of @xs without blocking, so that its
 * descriptor is quiet until the next one.  Returns how many were taken
 * (>= 0, saturating), or a -errno (-ECONNRESET: the connection is gone and
 * no event will ever come again). */
int xv_xs_watch_drain(struct xv_xs *xs);

/*
 * Ask xenstored whether domain @domid is still introduced.  Returns 1 (it
 * is), 0 (it is not: destroyed, or never existed), -EINVAL (@domid names
 * no domain), -EACCES (this domain may not ask: see above), -ECONNRESET
 * or another -errno.  A failure never reads as "gone".
 */
int xv_xs_domain_exists(struct xv_xs *xs, unsigned int domid);

#endif
