/* Delivery of simulated events: see event.h for the state machine. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "event.h"

size_t xv_sim_handle_addr(uint64_t instance, uint32_t handle, void *sa)
{
	struct sockaddr_un *un = sa;
	int n;

	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	/* Abstract namespace (leading NUL): nothing to clean up on a crash,
	 * and the instance id keeps parallel simulators apart. */
	n = snprintf(un->sun_path + 1, sizeof(un->sun_path) - 1,
		     "xvchan-sim/%016llx/%u", (unsigned long long)instance,
		     handle);
	return offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n;
}

static int send_port(struct xv_sim_events *ev, uint32_t handle, uint32_t port)
{
	struct sockaddr_un sa;
	size_t len = xv_sim_handle_addr(ev->instance, handle, &sa);

	if (sendto(ev->sock, &port, sizeof(port), MSG_DONTWAIT | MSG_NOSIGNAL,
		   (struct sockaddr *)&sa, (socklen_t)len) == sizeof(port))
		return 0;
	return -errno;
}

void xv_sim_event_queue(struct xv_sim_events *ev, uint32_t handle,
			uint32_t port)
{
	struct xv_sim_port *p = &ev->tab->port[port];

	if (send_port(ev, handle, port) != -EAGAIN)
		return;
	/* E3: mark /before/ the retry; pairs with E4 in
	 * xv_sim_event_requeue(), so a receiver that drains the queue after
	 * the first attempt either lets the retry in or sees the marks. */
	atomic_fetch_or(&p->state, XV_SIM_PORT_LOST);
	atomic_store(&ev->tab->overflow[handle], 1);
	if (send_port(ev, handle, port) == 0)
		atomic_fetch_and(&p->state, ~XV_SIM_PORT_LOST);
}

void xv_sim_event_raise(struct xv_sim_events *ev, uint32_t port)
{
	struct xv_sim_port *p;
	uint32_t old, new, handle;

	if (port == 0 || port >= XV_SIM_MAX_PORTS)
		return;
	p = &ev->tab->port[port];
	/* E2: the handle before the state; pairs with E1 in the daemon's
	 * port_alloc(). */
	handle = atomic_load(&p->handle);
	if (handle == 0 || handle >= XV_SIM_MAX_HANDLES)
		return;
	/* The CAS serialises with other notifiers and with unmask: exactly
	 * one of them sees the MASKED transition and queues the port. */
	old = atomic_load(&p->state);
	do {
		if (old & XV_SIM_PORT_MASKED)
			new = old | XV_SIM_PORT_PENDING;
		else
			new = old | XV_SIM_PORT_MASKED;
	} while (!atomic_compare_exchange_weak(&p->state, &old, new));
	if (!(old & XV_SIM_PORT_MASKED))
		xv_sim_event_queue(ev, handle, port);
}

void xv_sim_event_unmask(struct xv_sim_events *ev, uint32_t port)
{
	struct xv_sim_port *p;
	uint32_t old, new, handle;

	if (port == 0 || port >= XV_SIM_MAX_PORTS)
		return;
	p = &ev->tab->port[port];
	handle = atomic_load(&p->handle);
	if (handle == 0 || handle >= XV_SIM_MAX_HANDLES)
		return;
	old = atomic_load(&p->state);
	do {
		if (old & XV_SIM_PORT_PENDING)
			new = old & ~XV_SIM_PORT_PENDING;
		else
			new = old & ~XV_SIM_PORT_MASKED;
	} while (!atomic_compare_exchange_weak(&p->state, &old, new));
	if (old & XV_SIM_PORT_PENDING)
		xv_sim_event_queue(ev, handle, port);
}

void xv_sim_event_requeue(struct xv_sim_events *ev, uint32_t handle)
{
	struct xv_sim_evtab *tab = ev->tab;
	uint32_t p;

	/* E4: after the datagram was taken; pairs with E3.  Load first: the
	 * exchange would dirty a line every sender reads. */
	if (handle == 0 || handle >= XV_SIM_MAX_HANDLES ||
	    !atomic_load(&tab->overflow[handle]) ||
	    !atomic_exchange(&tab->overflow[handle], 0))
		return;
	for (p = 1; p < XV_SIM_MAX_PORTS; p++) {
		if (atomic_load(&tab->port[p].handle) != handle ||
		    !(atomic_fetch_and(&tab->port[p].state, ~XV_SIM_PORT_LOST) &
		      XV_SIM_PORT_LOST))
			continue;
		if (send_port(ev, handle, p) == 0)
			continue;
		/* Still full: the rest wait for the next datagram taken, which
		 * a full queue guarantees. */
		atomic_fetch_or(&tab->port[p].state, XV_SIM_PORT_LOST);
		atomic_store(&tab->overflow[handle], 1);
		return;
	}
}
