/*
 * The grant-table and event-channel calls flow/ needs, with the Xen
 * libraries' -1/errno (or NULL/errno) turned into negative errno values.
 * flow/xen.c is the only file that includes the Xen library headers.
 */
#ifndef XV_FLOW_XEN_H
#define XV_FLOW_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One side's handles: an event channel with its one bound port, and the
 * grant device of its role (share for the server, map for the client). */
struct xv_flow_xen;

int xv_flow_xen_open(struct xv_flow_xen **out, bool server);
/* Unbinds the port and closes the handles; mappings must be gone first. */
void xv_flow_xen_close(struct xv_flow_xen *h);

/* Server: allocate a port for @remote_domid to bind; returns it (> 0). */
int xv_flow_xen_bind_unbound(struct xv_flow_xen *h, unsigned int remote_domid);
/* Client: bind to the server's @remote_port; returns the local port. */
int xv_flow_xen_bind_interdomain(struct xv_flow_xen *h,
				 unsigned int remote_domid,
				 uint32_t remote_port);
int xv_flow_xen_fd(const struct xv_flow_xen *h);
int xv_flow_xen_notify(struct xv_flow_xen *h);
/* Consume one pending event of our port and unmask it so the next one is
 * delivered. Blocks if none is pending: call only after poll() said so. */
int xv_flow_xen_take_event(struct xv_flow_xen *h);
/* Whether our port is still connected to the peer's: 1 it is, 0 it is
 * not (the remote end was closed: its domain destroyed, or it unbound),
 * or -errno when the hypervisor cannot be asked (no privcmd device, a
 * refused hypercall; the privcmd handle is then closed, and opened again
 * only if asked again). */
int xv_flow_xen_port_connected(struct xv_flow_xen *h);

/* Server: one page shared with @domid, writable by it; when this process
 * dies or unshares, the byte at @notify_offset is cleared and our port
 * signalled. */
int xv_flow_xen_share_page_notify(struct xv_flow_xen *h, unsigned int domid,
				  size_t notify_offset, uint32_t *ref,
				  void **page);
/* Server: @count contiguous pages shared writable with @domid. */
int xv_flow_xen_share_pages(struct xv_flow_xen *h, unsigned int domid,
			    unsigned int count, uint32_t *refs, void **area);
int xv_flow_xen_unshare(struct xv_flow_xen *h, void *area, unsigned int count);

/* Client: map @ref read-write with the same death notification. */
int xv_flow_xen_map_page_notify(struct xv_flow_xen *h, unsigned int domid,
				uint32_t ref, size_t notify_offset,
				void **page);
/* Client: map @count refs of @domid as one range. */
int xv_flow_xen_map_pages(struct xv_flow_xen *h, unsigned int domid,
			  unsigned int count, uint32_t *refs,
			  bool writable, void **area);
int xv_flow_xen_unmap(struct xv_flow_xen *h, void *area, unsigned int count);

#endif
