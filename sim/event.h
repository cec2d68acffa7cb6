/*
 * Event channels of the simulator: the table every process shares and the
 * delivery rule, used alike by the preload library (notify, unmask,
 * pending) and the daemon (events it raises when a process dies).
 *
 * The daemon owns allocation: it creates the table (a memfd mapped by every
 * process after HELLO) and is the only writer of a port's `handle` and
 * `remote` words.  Delivery needs no daemon: the notifier reads the remote
 * port and the handle bound to it from the table and sends the port number
 * as one datagram to that handle's socket, an AF_UNIX datagram socket bound
 * in the abstract namespace under a name built from the daemon's instance
 * id and the handle id.  That socket is the handle's pollable fd and its
 * queue is the handle's pending list.
 *
 * Each port's `state` word makes delivery exactly-once per event, as the
 * Linux evtchn driver does: delivering masks the port (MASKED); further
 * events while masked only set PENDING (latched and coalesced); unmask
 * either clears MASKED or, if PENDING, delivers once more.  A port is
 * therefore in a handle's queue at most once.
 *
 * A datagram socket's queue holds at most net.unix.max_dgram_qlen (often
 * 10) datagrams.  When a send finds it full the sender marks the port
 * LOST and raises the handle's `overflow` word, then tries once more; the
 * receiver, after each datagram it takes, checks `overflow` and re-sends its
 * LOST ports to itself.  Either the retry lands, or the queue is still full
 * and the receiver will take another datagram and see the marks, so no
 * event is lost (at worst one port is reported twice: a spurious event,
 * which Xen allows too).
 *
 * Ordering (all table accesses are sequentially consistent atomics):
 *  E1  daemon: resets `state` and `remote`, then stores `handle` (bind)
 *      /before/ replying; pairs with E2.
 *  E2  notifier: loads `remote`, then that port's `handle`, then CASes
 *      `state`; a handle seen non-zero has a reset state (E1).
 *  E3  sender: marks LOST and sets `overflow` /before/ its retry;
 *      pairs with E4.
 *  E4  receiver: takes a datagram, then exchanges `overflow` and re-sends
 *      LOST ports; a mark made after its exchange is followed by a retry
 *      that either lands or finds the queue full again (E3).
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
#define XV_SIM_PORT_LOST 0x4u

struct xv_sim_port {
	_Atomic uint32_t state;
	_Atomic uint32_t handle;	/* receiving handle id, 0 if none */
	_Atomic uint32_t remote;	/* connected port, 0 if none */
	uint32_t unused;
};

struct xv_sim_evtab {
	struct xv_sim_port port[XV_SIM_MAX_PORTS];
	_Atomic uint32_t overflow[XV_SIM_MAX_HANDLES];
};

/* What a process needs to deliver events: the table and a socket to send
 * from, plus the instance id that prefixes every handle's socket name. */
struct xv_sim_events {
	struct xv_sim_evtab *tab;
	int sock;
	uint64_t instance;
};

/* Fill @sa with the abstract name of handle @handle; returns its length. */
size_t xv_sim_handle_addr(uint64_t instance, uint32_t handle, void *sa);

/* Raise an event on @port (a port in a handle's queue, i.e. the remote
 * end of a notify). */
void xv_sim_event_raise(struct xv_sim_events *ev, uint32_t port);

/* Unmask @port: deliver it again if it became pending while masked. */
void xv_sim_event_unmask(struct xv_sim_events *ev, uint32_t port);

/* Queue @port on its handle (it is already marked MASKED). */
void xv_sim_event_queue(struct xv_sim_events *ev, uint32_t handle,
			uint32_t port);

/* Called by a handle's owner after taking a datagram: if a sender found
 * the queue full, re-send the LOST ports, stopping when it fills again. */
void xv_sim_event_requeue(struct xv_sim_events *ev, uint32_t handle);

#endif
