/*
 * The simulator daemon: one per simulated host, the "hypervisor".
 *
 * It owns the domain table, allocates event-channel ports and grant refs
 * and checks every bind and map as Xen does, and hosts the xenstored.  Each
 * process that uses the preload holds one control connection (proto.h);
 * everything a process holds is hung off that connection, so that when it
 * drops the daemon can undo it in Xen's order: unmap notifications first
 * (they may send on the dead process's ports), then ports, then grants.
 */
#ifndef XV_SIM_HV_H
#define XV_SIM_HV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"
#include "proto.h"

struct xv_xsd;

struct xv_hv_conn {
	int fd;
	int hello;		/* HELLO accepted */
	unsigned int domid;	/* XV_HV_TOOL for xvchan-sim's own requests */
	pid_t pid;		/* for the log line when it dies */
	int pidfd;		/* a domain's process (SO_PEERCRED), else -1 */
	int gone;		/* torn down by a destroy, fd closed: only
				 * the loop's next look at it frees it */
	struct xv_hv_conn *next;
};

/* A process counted as a domain's whether or not it holds a connection
 * (exec, xv_test_fork_domain), so that a destroy kills it. */
struct xv_hv_member {
	int pidfd;
	pid_t pid;	/* to find a repeated join: it is alive, so its own */
	unsigned int domid;
	struct xv_hv_member *next;
};

#define XV_HV_TOOL XV_SIM_DOMID_TOOL

/* Daemon-side state of a port; the shared part lives in the event table. */
enum xv_hv_port_state { XV_HV_PORT_FREE, XV_HV_PORT_UNBOUND, XV_HV_PORT_CONNECTED };

struct xv_hv_port {
	enum xv_hv_port_state state;
	unsigned int domid;		/* owner */
	unsigned int remote_domid;	/* UNBOUND: who may bind it */
	/* CONNECTED: the other end.  The table's `remote` is its mirror for
	 * the notifiers, writable by every domain process: the daemon never
	 * reads it back, or one domain could unbind another's channel. */
	uint32_t remote_port;
	uint32_t handle;
};

struct xv_hv_handle {
	struct xv_hv_conn *conn;	/* NULL when free */
};

/* A granted memfd, shared by the grants, shares and notifications that
 * name it; closed when the last of them goes. */
struct xv_hv_obj {
	int fd;
	int ro_fd;	/* read-only re-open, made on the first read-only map */
	unsigned int refs;
};

struct xv_hv_grant {
	struct xv_hv_obj *obj;	/* NULL when the ref is free */
	uint32_t page;
	unsigned int grantee;
	int writable;
};

/* A domain's grant table, indexed by ref. */
struct xv_hv_gtab {
	struct xv_hv_grant *g;
	uint32_t size;
	uint32_t hint;	/* where the search for a free ref starts */
};

struct xv_hv_share {
	uint32_t id;
	struct xv_hv_conn *conn;
	unsigned int domid;
	uint32_t count;
	uint32_t *refs;
	uint32_t notify;	/* notify id, 0 if none */
	struct xv_hv_share *next;
};

struct xv_hv_notify {
	uint32_t id;
	struct xv_hv_conn *conn;
	unsigned int domid;
	struct xv_hv_obj *obj;
	uint64_t offset;	/* byte within obj */
	uint32_t port;
	uint32_t flags;
	struct xv_hv_notify *next;
};

struct xv_hv {
	char dir[256];
	int ctl_fd;
	int spare_fd;		/* /dev/null, given up to refuse a connection
				 * when out of descriptors */
	int refusing;		/* said so in the log; until an accept works */
	int stop;
	uint64_t instance;
	struct xv_xsd *xsd;
	unsigned char *domain;		/* [XV_SIM_MAX_DOMID + 1]: exists */
	struct xv_hv_conn *conns;
	struct xv_hv_member *members;
	int evtab_fd;
	struct xv_sim_events ev;
	struct xv_hv_port *port;	/* [XV_SIM_MAX_PORTS] */
	uint32_t port_hint;
	struct xv_hv_handle *handle;	/* [XV_SIM_MAX_HANDLES] */
	uint32_t handle_hint;
	struct xv_hv_gtab *gtab;	/* [XV_SIM_MAX_DOMID + 1] */
	struct xv_hv_share *shares;
	struct xv_hv_notify *notifies;
	uint32_t next_id;
};

/* Set up in @dir (sockets, event table, xenstored, dom0).  Returns 0 or a
 * negative errno; *what names the step that failed. */
int xv_hv_init(struct xv_hv *hv, const char *dir, const char **what);
/* Serve until SHUTDOWN, SIGTERM or SIGINT (then it tidies up as for
 * SHUTDOWN).  Returns 0 or a negative errno from poll(). */
int xv_hv_run(struct xv_hv *hv);
void xv_hv_exit(struct xv_hv *hv);

int xv_hv_domain_create(struct xv_hv *hv, unsigned int domid, int *created);

/* Domain membership and destroy (domain.c). */
/* Count process @pid as domain @domid's (again: nothing to do).  0,
 * -ESRCH (no such domain or process), -EINVAL (the daemon itself) or
 * -ENOMEM. */
int xv_hv_domain_join(struct xv_hv *hv, unsigned int domid, uint32_t pid);
/*
 * Destroy domain @domid as Xen does on `xl destroy`: SIGKILL its processes
 * and wait for their deaths, then release what they held without any of
 * their death actions (no unmap notification, ports closed silently), and
 * release the domain in xenstore (@releaseDomain).  Returns 0, -EPERM for
 * dom0, -ESRCH if there is no such domain, or -ETIMEDOUT if a process
 * outlived its SIGKILL by 5 s (the rest is done regardless).
 */
int xv_hv_domain_destroy(struct xv_hv *hv, unsigned int domid);
/* Close every member's pidfd (daemon exit). */
void xv_hv_members_free(struct xv_hv *hv);

/* Event channels (evtchn.c). */
int xv_hv_evt_open(struct xv_hv *hv, struct xv_hv_conn *c, uint32_t *id);
int xv_hv_evt_close(struct xv_hv *hv, struct xv_hv_conn *c, uint32_t id);
int xv_hv_evt_bind_unbound(struct xv_hv *hv, struct xv_hv_conn *c,
			   uint32_t handle, uint32_t remote_domid, uint32_t *port);
int xv_hv_evt_bind_interdomain(struct xv_hv *hv, struct xv_hv_conn *c,
			       uint32_t handle, uint32_t remote_domid,
			       uint32_t remote_port, uint32_t *port);
int xv_hv_evt_unbind(struct xv_hv *hv, struct xv_hv_conn *c, uint32_t handle,
		     uint32_t port);
/* EVTCHNOP_status: the state of @port of domain @domid (DOMID_SELF: the
 * caller's) into @rep's arg0-2 (see XV_SIM_EVT_STATUS).  -EPERM for a
 * guest whose privcmd is not @unrestricted (Linux's default in a domU),
 * and for another domain's port unless the caller is dom0; -ESRCH for no
 * such domain, -EINVAL for a port beyond the table. */
int xv_hv_evt_status(struct xv_hv *hv, struct xv_hv_conn *c, uint32_t domid,
		     uint32_t port, bool unrestricted, struct xv_sim_msg *rep);
/* Whether @port is bound by domain @domid (a valid notify target). */
int xv_hv_evt_owned(struct xv_hv *hv, uint32_t port, unsigned int domid);
/* The port connected to @port, or 0. */
uint32_t xv_hv_evt_remote(struct xv_hv *hv, uint32_t port);
/* Close @c's handles; returns how many ports that closed. */
unsigned int xv_hv_evt_conn_gone(struct xv_hv *hv, struct xv_hv_conn *c);

/* Grants (grant.c); @fds receives the descriptors to send back. */
int xv_hv_gnt_share(struct xv_hv *hv, struct xv_hv_conn *c, int memfd,
		    const struct xv_sim_msg *req, struct xv_sim_msg *rep);
int xv_hv_gnt_unshare(struct xv_hv *hv, struct xv_hv_conn *c, uint32_t id);
int xv_hv_gnt_map(struct xv_hv *hv, struct xv_hv_conn *c,
		  const struct xv_sim_msg *req, struct xv_sim_msg *rep,
		  int *fds, size_t *nfds);
int xv_hv_notify_drop(struct xv_hv *hv, struct xv_hv_conn *c, uint32_t id);
/* Fire and drop @c's notifications; returns how many. */
unsigned int xv_hv_gnt_conn_fire(struct xv_hv *hv, struct xv_hv_conn *c);
/* Drop @c's notifications unfired (its domain is destroyed); returns how
 * many. */
unsigned int xv_hv_gnt_conn_drop(struct xv_hv *hv, struct xv_hv_conn *c);
/* Release @c's shares; returns how many refs that ended. */
unsigned int xv_hv_gnt_conn_gone(struct xv_hv *hv, struct xv_hv_conn *c);

#endif
