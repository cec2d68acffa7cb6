/*
 * Event channels of the simulator: the table every process shares and the
 * delivery rule, used alike by the preload library (notify, unmask,
 * pending) and the daemon (events it raises when a process dies).
 *
 * The daemon owns allocation: it creates the table (a memfd mapped by every
 * process after HELLO) and is the only writer of a port's `handle` and
 * `remote` words.  Delivery needs no daemon: the notifier reads the remote
 * port and the handle bound to it from the table, marks the port QUEUED
 * and rings the handle's doorbell: one datagram to that handle's socket,
 * an AF_UNIX datagram socket bound in the abstract namespace under a name
 * built from the daemon's instance id and the handle id.  That socket is
 * the handle's pollable fd; the QUEUED bits of its ports are its pending
 * list.
 *
 * Each port's `state` word makes delivery exactly-once per event, as the
 * Linux evtchn driver does: delivering masks the port (MASKED) and queues
 * it (QUEUED); further events while masked only set PENDING (latched and
 * coalesced); unmask either clears MASKED or, if PENDING, queues it once
 * more.  pending() takes a port by clearing QUEUED.
 *
 * Why a doorbell and not a datagram per event: an unread datagram is
 * charged to the socket that sent it (its send buffer, wmem_default, holds
 * under 300) as well as to the receiver's queue (max_dgram_qlen, often
 * 10).  One process notifying a thousand idle handles filled its own send
 * buffer, and the events that found it full were lost.  Now:
 *  - the handle's `bell` word is non-zero while its datagram is in flight or
 *    queued, so a handle never holds more than one datagram and its queue
 *    is never full;
 *  - a sender whose socket is full sends from another one of its pool of
 *    XV_SIM_SEND_SOCKS sockets, opened on demand; at one datagram per
 *    handle in the whole simulator, a few sockets carry any number of
 *    handles (65,536 handles need about 240 at 212,992 bytes each);
 *  - the receiver leaves the datagram in its socket while any of its ports
 *    is QUEUED, so the fd is readable exactly while an event is pending;
 *    with the last port taken it reads the datagram, clears `bell` and
 *    looks at its ports once more, ringing itself if one was queued
 *    meanwhile (its sender saw `bell` still 1 and sent nothing).
 * The receiver knows its ports itself (the preload keeps a list per
 * handle), so taking an event costs a scan of the handle's ports only.
 * A ring whose every socket fails (no socket left to open, or the handle
 * closed) clears `bell` again: that event is lost, the next one is not.
 *
 * A notifier may die (SIGKILL) between queuing a port and sending the
 * datagram, leaving a port queued with no bell, or a bell rung that no
 * datagram follows, which would silence the handle for good.  So `bell`
 * holds the ringer's pid, and the daemon, when a process's connection
 * drops, clears the bells it holds and rings every handle with a queued
 * port (xv_sim_event_repair()).  Only the ringer that finds `bell` 0
 * writes its pid: a later one leaves it, since overwriting the pid of a
 * ringer that then dies unsent would hide that bell from the repair.  If the dead process had sent its
 * datagram, the handle gets two: the receiver reads every datagram it
 * finds when it has no port left, so the second costs one empty wake-up.
 *
 * Ordering (all table accesses are sequentially consistent atomics):
 *  E1  daemon: resets `state` and `remote`, then stores `handle` (bind)
 *      /before/ replying; pairs with E2.  It resets `bell` when it hands
 *      out a handle id, before the handle's socket exists.
 *  E2  notifier: loads `remote`, then that port's `handle`, then CASes
 *      `state`; a handle seen non-zero has a reset state (E1).
 *  E3  sender: sets QUEUED /before/ compare-exchanging `bell` from 0 to its
 *      pid (a failed one still reads it); pairs with E4.
 *  E4  receiver: reads the datagram, stores `bell` = 0, /then/ looks for
 *      QUEUED ports; a sender that saw `bell` = 1 set its QUEUED bit
 *      before this store (E3), so the look finds it.
 *
 * Every process maps the table writable, so the simulator checks what Xen
 * checks for correct programs but does not sandbox hostile host processes;
 * values read from the table are still bounds-checked before use.
 */
#ifndef XV_SIM_EVENT_H
#define XV_SIM_EVENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define XV_SIM_MAX_PORTS 65536u
#define XV_SIM_MAX_HANDLES 65536u

#define XV_SIM_PORT_MASKED 0x1u
#define XV_SIM_PORT_PENDING 0x2u
#define XV_SIM_PORT_QUEUED 0x4u

/* Sending sockets one process may open (see above). */
#define XV_SIM_SEND_SOCKS 512u

struct xv_sim_port {
	_Atomic uint32_t state;
	_Atomic uint32_t handle;	/* receiving handle id, 0 if none */
	_Atomic uint32_t remote;	/* connected port, 0 if none */
	uint32_t unused;
};

struct xv_sim_evtab {
	struct xv_sim_port port[XV_SIM_MAX_PORTS];
	_Atomic uint32_t bell[XV_SIM_MAX_HANDLES];
};

/* What a process needs to deliver events: the table, its sending
 * sockets, and the instance id that prefixes every handle's socket name.
 * A zeroed struct (with the table set) is ready to use. */
struct xv_sim_events {
	struct xv_sim_evtab *tab;
	_Atomic int send_fd[XV_SIM_SEND_SOCKS];	/* fd + 1, 0 if not open */
	uint64_t instance;
};

/* Fill @sa with the abstract name of handle @handle; returns its length. */
size_t xv_sim_handle_addr(uint64_t instance, uint32_t handle, void *sa);

/* Open the first sending socket now, so that a process holds its usual
 * descriptors from its first handle on (more open only under load).
 * Returns 0 or a negative errno. */
int xv_sim_events_open(struct xv_sim_events *ev);

/* Close the sending sockets. */
void xv_sim_events_close(struct xv_sim_events *ev);

/* Raise an event on @port (a port in a handle's queue, i.e. the remote
 * end of a notify). */
void xv_sim_event_raise(struct xv_sim_events *ev, uint32_t port);

/* Unmask @port: deliver it again if it became pending while masked. */
void xv_sim_event_unmask(struct xv_sim_events *ev, uint32_t port);

/* For a handle's owner: take one QUEUED port of @handle among its @n
 * @ports, looking from *@cursor on (so no port starves the others), or 0
 * if none is queued. */
uint32_t xv_sim_event_take(struct xv_sim_events *ev, uint32_t handle,
			   const uint32_t *ports, size_t n, size_t *cursor);

/* For the daemon, when process @pid is gone: clear the bells it rang and
 * ring every handle that has a port queued. */
void xv_sim_event_repair(struct xv_sim_events *ev, uint32_t pid);

/* Whether any of @handle's @n @ports is QUEUED. */
int xv_sim_event_queued(struct xv_sim_events *ev, uint32_t handle,
			const uint32_t *ports, size_t n);

/* For a handle's owner that has read its doorbell datagram: clear `bell`,
 * then ring again if any of its @n @ports is still QUEUED (E4). */
void xv_sim_event_rearm(struct xv_sim_events *ev, uint32_t handle,
			const uint32_t *ports, size_t n);

#endif
