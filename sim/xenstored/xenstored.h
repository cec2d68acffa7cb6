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
	unsigned int transactions; /* open transactions per connection */
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
 * and connections, remove /local/domain/<domid>, fire @releaseDomain.
 * Returns 0 or -ENOENT.
 */
int xv_xsd_domain_release(struct xv_xsd *xsd, unsigned int domid);

/* Write into @fds (at most @max entries) the descriptors to poll, with the
 * events wanted.  Returns how many entries were written. */
size_t xv_xsd_pollfds(struct xv_xsd *xsd, struct pollfd *fds, size_t max);

/* Process the results of poll() for the entries xv_xsd_pollfds() filled:
 * accept connections, read and answer requests, flush replies and watch
 * events.  A misbehaving connection is dropped; it never stops the others. */
void xv_xsd_dispatch(struct xv_xsd *xsd, const struct pollfd *fds, size_t n);

#endif
