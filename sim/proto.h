/*
 * The control protocol between the simulator daemon (the "hypervisor") and
 * the processes that use it (the preload library and xvchan-sim itself).
 *
 * One AF_UNIX SOCK_SEQPACKET connection per process, to $DIR/ctl, opened on
 * the first handle and kept for the process's life: its drop is how the
 * daemon learns that the process died, and the daemon then does what Xen's
 * drivers do (unmap notifications, close ports, release grants).
 *
 * Every request gets exactly one reply with the same op.  Descriptors travel
 * with SCM_RIGHTS: the event table with HELLO, a grant memfd with SHARE, the
 * mapped objects with a MAP reply.  The connection is only for set-up:
 * notifications go process to process (see event.h).
 */
#ifndef XV_SIM_PROTO_H
#define XV_SIM_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* Bumped on any incompatible change; HELLO with another version fails. */
#define XV_SIM_PROTO_VERSION 3

/* Refs (or domain ids) one message may carry; also the largest map. */
#define XV_SIM_MAX_DATA 8192
/* Distinct objects one MAP reply may pass; below SCM_MAX_FD (253). */
#define XV_SIM_MAX_FDS 200
/* Xen's DOMID_FIRST_RESERVED: ids from here on are not domains. */
#define XV_SIM_MAX_DOMID 0x7fefu
/* HELLO's domid for a tool (xvchan-sim itself, a test fixture): a
 * connection that is no domain and may hold nothing. */
#define XV_SIM_DOMID_TOOL 0xffffffffu

enum xv_sim_op {
	XV_SIM_HELLO = 1,	/* arg0 version, arg1 domid, arg2 pid;
				 * reply: fd event table, arg0/1 instance */
	XV_SIM_DOMAIN_CREATE,	/* arg0 domid; reply arg0 1 if created */
	XV_SIM_DOMAIN_LIST,	/* reply data[] domids, arg0 daemon pid */
	XV_SIM_SHUTDOWN,	/* the daemon exits after replying */
	XV_SIM_DOMAIN_STATS,	/* reply data[] (domid, ports, grant refs)
				 * triples, one per domain */
	XV_SIM_EVT_OPEN,	/* reply arg0 handle id */
	XV_SIM_EVT_CLOSE,	/* arg0 handle */
	XV_SIM_EVT_BIND_UNBOUND, /* arg0 handle, arg1 remote domid; reply arg0 port */
	XV_SIM_EVT_BIND_INTERDOMAIN, /* arg0 handle, arg1 remote domid,
				 * arg2 remote port; reply arg0 port */
	XV_SIM_EVT_UNBIND,	/* arg0 handle, arg1 port */
	XV_SIM_GNT_SHARE,	/* fd memfd, arg0 grantee, arg1 writable,
				 * arg2 notify offset, arg3 notify port,
				 * arg4 notify flags, arg5 pages;
				 * reply arg0 share id, arg1 notify id,
				 * data[] refs */
	XV_SIM_GNT_UNSHARE,	/* arg0 share id */
	XV_SIM_GNT_MAP,		/* arg0 writable, arg1 notify offset, arg2 notify
				 * port, arg3 notify flags, data[] (domid, ref)
				 * pairs, count pairs; reply fds, arg0 notify
				 * id, data[] (fd index, page) pairs */
	XV_SIM_NOTIFY_DROP,	/* arg0 notify id: the caller did it itself */
	XV_SIM_DOMAIN_JOIN,	/* arg0 domid, arg1 pid: count process pid as
				 * domain domid's, so that a destroy kills it
				 * (exec enrols itself; a no-op for dom0) */
	XV_SIM_DOMAIN_DESTROY,	/* arg0 domid (not 0): as `xl destroy`; the
				 * reply comes once it is all done */
	XV_SIM_EVT_STATUS,	/* arg0 domid (DOMID_SELF: the caller's),
				 * arg1 port, as EVTCHNOP_status; arg2 1 if
				 * the caller's privcmd lets a guest's
				 * hypercalls through; reply arg0
				 * EVTCHNSTAT_*, arg1 remote domid, arg2
				 * remote port (interdomain) */
};

/* Unmap-notify flags, the values of xen/gntalloc.h's UNMAP_NOTIFY_*. */
#define XV_SIM_NOTIFY_CLEAR_BYTE 0x1u
#define XV_SIM_NOTIFY_SEND_EVENT 0x2u

struct xv_sim_msg {
	uint32_t op;
	int32_t err;		/* reply: 0 or a negative errno */
	uint32_t arg[6];
	uint32_t count;		/* entries of data[] in use */
	uint32_t data[];
};

#define XV_SIM_MSG_MAX (sizeof(struct xv_sim_msg) + \
			XV_SIM_MAX_DATA * sizeof(uint32_t))

/* Names inside the state directory. */
#define XV_SIM_CTL_NAME "ctl"
#define XV_SIM_LOCK_NAME "lock"
#define XV_SIM_XS_DIR "xenstore"

/* Environment of a simulated process. */
#define XV_SIM_ENV_DIR "XVCHAN_SIM_DIR"
#define XV_SIM_ENV_DOMID "XVCHAN_SIM_DOMID"
/* "unrestricted": a guest's privcmd lets hypercalls through, as Linux's
 * xen_privcmd.unrestricted=1 does (sim/preload/call.c). */
#define XV_SIM_ENV_PRIVCMD "XVCHAN_SIM_PRIVCMD"

/*
 * Send @msg (header plus msg->count data words) with @nfds descriptors.
 * Returns 0 or a negative errno.
 */
int xv_sim_send(int sock, const struct xv_sim_msg *msg, const int *fds,
		size_t nfds);

/*
 * Receive one message into @msg (XV_SIM_MSG_MAX bytes) and up to @maxfds
 * descriptors into @fds (*nfds set; extra ones are closed).  A short or
 * inconsistent message is -EPROTO; a closed peer is -ECONNRESET.
 */
int xv_sim_recv(int sock, struct xv_sim_msg *msg, int *fds, size_t maxfds,
		size_t *nfds);

/* The state directory: $XVCHAN_SIM_DIR, else $XDG_RUNTIME_DIR/xvchan-sim,
 * else /tmp/xvchan-sim-<uid>.  Returns 0 or -ENAMETOOLONG. */
int xv_sim_state_dir(char *buf, size_t size);

#endif
