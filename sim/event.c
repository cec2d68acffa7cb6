/* Delivery of simulated events: see event.h for the state machine. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "event.h"

size_t xv_sim_handle_addr(uint64_t instance, uint32_t handle, void *sa)
{
	static const char prefix[] = "xvchan-sim/";
	static const char hex[] = "0123456789abcdef";
	struct sockaddr_un *un = sa;
	char digits[10], *p;
	int i, n = 0;

	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	/*
	 * Abstract namespace (leading NUL): nothing to clean up on a crash,
	 * and the instance id keeps parallel simulators apart. The name is
	 * "xvchan-sim/<instance, 16 hex digits>/<handle, decimal>", written
	 * by hand: every event sent formats one, and snprintf() took about
	 * 5 % of a stream's user time on both libraries' data paths.
	 */
	p = un->sun_path + 1;
	memcpy(p, prefix, sizeof(prefix) - 1);
	p += sizeof(prefix) - 1;
	for (i = 15; i >= 0; i--)
		*p++ = hex[(instance >> (4 * i)) & 0xf];
	*p++ = '/';
	do {
		digits[n++] = (char)('0' + handle % 10);
		handle /= 10;
	} while (handle);
	while (n)
		*p++ = digits[--n];
	return (size_t)(p - (char *)un);
}

/* The pool's socket @i, opened on first use; a negative errno if none. */
static int send_sock(struct xv_sim_events *ev, unsigned int i)
{
	int have = atomic_load(&ev->send_fd[i]), fd;

	if (have)
		return have - 1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Two threads may open the same slot: the loser uses the winner's. */
	if (!atomic_compare_exchange_strong(&ev->send_fd[i], &have, fd + 1)) {
		close(fd);
		return have - 1;
	}
	return fd;
}

int xv_sim_events_open(struct xv_sim_events *ev)
{
	int fd = send_sock(ev, 0);

	return fd < 0 ? fd : 0;
}

void xv_sim_events_close(struct xv_sim_events *ev)
{
	unsigned int i;
	int have;

	for (i = 0; i < XV_SIM_SEND_SOCKS; i++) {
		have = atomic_exchange(&ev->send_fd[i], 0);
		if (have)
			close(have - 1);
	}
}

/* Send the handle's one doorbell datagram (its `bell` is ours to ring). */
static void send_bell(struct xv_sim_events *ev, uint32_t handle)
{
	struct sockaddr_un sa;
	size_t len = xv_sim_handle_addr(ev->instance, handle, &sa);
	unsigned int i;
	int fd;

	for (i = 0; i < XV_SIM_SEND_SOCKS; i++) {
		fd = send_sock(ev, i);
		if (fd < 0)
			break;
		if (sendto(fd, &handle, sizeof(handle),
			   MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa,
			   (socklen_t)len) == sizeof(handle))
			return;
		/* EAGAIN: this socket's send buffer is full of datagrams
		 * other handles have not read yet (their queues hold one
		 * each), so another socket has room. */
		if (errno != EAGAIN)
			break;
	}
	/* Nobody will read a datagram (the handle is gone, or no socket
	 * could take it): let the next event ring again. */
	atomic_store(&ev->tab->bell[handle], 0);
}

static void ring(struct xv_sim_events *ev, uint32_t handle)
{
	uint32_t idle = 0;

	/* E3: QUEUED was set before; pairs with E4 in
	 * xv_sim_event_rearm().  The ringer's pid, not 1: if it dies before
	 * its datagram is sent, the daemon knows whose bell to repair.  A
	 * bell already rung keeps its ringer's pid for that reason. */
	if (atomic_compare_exchange_strong(&ev->tab->bell[handle], &idle,
					   (uint32_t)getpid()))
		send_bell(ev, handle);
}

void xv_sim_event_repair(struct xv_sim_events *ev, uint32_t pid)
{
	struct xv_sim_evtab *tab = ev->tab;
	uint32_t h, p, want;

	for (h = 1; h < XV_SIM_MAX_HANDLES; h++) {
		want = pid;
		atomic_compare_exchange_strong(&tab->bell[h], &want, 0);
	}
	/* A port QUEUED with no bell rung is one whose notifier died
	 * between the two (E3); ringing a rung bell does nothing. */
	for (p = 1; p < XV_SIM_MAX_PORTS; p++) {
		h = atomic_load(&tab->port[p].handle);
		if (h && h < XV_SIM_MAX_HANDLES &&
		    (atomic_load(&tab->port[p].state) & XV_SIM_PORT_QUEUED))
			ring(ev, h);
	}
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
			new = old | XV_SIM_PORT_MASKED | XV_SIM_PORT_QUEUED;
	} while (!atomic_compare_exchange_weak(&p->state, &old, new));
	if (!(old & XV_SIM_PORT_MASKED))
		ring(ev, handle);
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
			new = (old & ~XV_SIM_PORT_PENDING) | XV_SIM_PORT_QUEUED;
		else
			new = old & ~XV_SIM_PORT_MASKED;
	} while (!atomic_compare_exchange_weak(&p->state, &old, new));
	if (old & XV_SIM_PORT_PENDING)
		ring(ev, handle);
}

static int mine(struct xv_sim_events *ev, uint32_t handle, uint32_t port)
{
	return port && port < XV_SIM_MAX_PORTS &&
	       atomic_load(&ev->tab->port[port].handle) == handle;
}

uint32_t xv_sim_event_take(struct xv_sim_events *ev, uint32_t handle,
			   const uint32_t *ports, size_t n, size_t *cursor)
{
	size_t i, k;
	uint32_t port;

	for (i = 0; i < n; i++) {
		k = (*cursor + i) % n;
		port = ports[k];
		if (!mine(ev, handle, port) ||
		    !(atomic_fetch_and(&ev->tab->port[port].state,
				       ~XV_SIM_PORT_QUEUED) & XV_SIM_PORT_QUEUED))
			continue;
		*cursor = k + 1;
		return port;
	}
	return 0;
}

int xv_sim_event_queued(struct xv_sim_events *ev, uint32_t handle,
			const uint32_t *ports, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (mine(ev, handle, ports[i]) &&
		    (atomic_load(&ev->tab->port[ports[i]].state) &
		     XV_SIM_PORT_QUEUED))
			return 1;
	return 0;
}

void xv_sim_event_rearm(struct xv_sim_events *ev, uint32_t handle,
			const uint32_t *ports, size_t n)
{
	if (handle == 0 || handle >= XV_SIM_MAX_HANDLES)
		return;
	/* E4: the datagram is read, then `bell` cleared, then the ports
	 * looked at; pairs with E3 in ring(). */
	atomic_store(&ev->tab->bell[handle], 0);
	if (xv_sim_event_queued(ev, handle, ports, n))
		ring(ev, handle);
}
