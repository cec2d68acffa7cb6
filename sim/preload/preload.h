/*
 * The preload library: libxengnttab's and libxenevtchn's functions over the
 * simulator.  Each process holds one control connection to the daemon,
 * opened on its first handle and re-opened after fork(); its drop is the
 * daemon's death signal.  Notifications never go through the daemon.
 */
#ifndef XV_SIM_PRELOAD_H
#define XV_SIM_PRELOAD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "proto.h"

#define XV_PAGE 4096u

/* Serialises requests, the mapping registry and (re)connection.  Taken
 * and given only through these, which track the holding thread. */
extern pthread_mutex_t xv_sim_lock;
void xv_sim_lock_take(void);
void xv_sim_lock_give(void);
extern struct xv_sim_events xv_sim_ev;

/* Connect if this process has no connection yet.  Returns 0 or a negative
 * errno.  Caller holds xv_sim_lock. */
int xv_sim_connect_locked(void);

/* One request/reply; rep is a buffer of XV_SIM_MSG_MAX bytes owned by the
 * library.  Returns the reply's error or a transport error.  Caller holds
 * xv_sim_lock. */
int xv_sim_call_locked(struct xv_sim_msg *req, int fd_out,
		       int *fds_in, size_t max_in, size_t *n_in);
extern struct xv_sim_msg *xv_sim_req, *xv_sim_rep;
/* A request of three arguments and no descriptors, connecting first if
 * need be (takes xv_sim_lock).  Returns the reply's error or a transport
 * error; on success the reply's first three arguments are in @rep. */
int xv_sim_call_args(uint32_t op, uint32_t a0, uint32_t a1, uint32_t a2,
		     uint32_t rep[3]);

/* The real munmap, bypassing our interposer. */
int xv_sim_real_munmap(void *addr, size_t len);

/* A grant mapping this process made (share or map). */
struct xv_sim_mapping {
	char *addr;
	size_t pages;
	int share;		/* xengntshr page(s), else an xengnttab map */
	uint32_t share_id;	/* share: the daemon's id */
	uint32_t notify_id;	/* 0 if none */
	uint32_t notify_offset;	/* byte from addr */
	uint32_t notify_port;
	uint32_t notify_flags;
	void *owner;		/* the handle that made it, NULL once closed */
	uint32_t *owner_mapped;	/* the owner's count of mapped pages */
	struct xv_sim_mapping *next;
};

/* Register @m (caller holds xv_sim_lock). */
void xv_sim_mapping_add(struct xv_sim_mapping *m);
/* Forget every mapping made through @owner's handle (it is closing). */
void xv_sim_mapping_disown(void *owner);
/* End every mapping overlapping [addr, addr+len): fire its unmap
 * notification and tell the daemon.  Does not unmap.  Caller holds
 * xv_sim_lock. */
void xv_sim_mapping_end_locked(char *addr, size_t len);
/* The mapping that starts at @addr, or NULL. */
struct xv_sim_mapping *xv_sim_mapping_at(void *addr);

#endif
