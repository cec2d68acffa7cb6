/*
 * Domain destroy, as `xl destroy` on Xen: the domain's processes are
 * killed without running anything (no kernel runs in a destroyed domain),
 * so none of the actions a dying process's drivers would take happen.
 * What Xen leaves behind, the simulator leaves too: the live byte the
 * domain's unmap notification would have cleared, the remote ends of its
 * event channels (unbound, so notifying them delivers nothing), and its
 * pages in other domains' mappings.  The toolstack's part is xenstore's:
 * the domain's connections and watches go, /local/domain/<N> goes, and
 * @releaseDomain fires.
 *
 * The daemon knows a domain's processes three ways: the control
 * connections that said HELLO as the domain, the xenstore connections on
 * its socket (both by SO_PEERCRED), and the processes enrolled with
 * XV_SIM_DOMAIN_JOIN (exec and the test fixture enrol the processes they
 * start).  It holds each as a pidfd, so that a kill never lands on a
 * process that took over a dead one's pid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "hv.h"
#include "xenstored.h"

/* How long the processes may take to die after SIGKILL: they need no
 * cooperation, so only one stuck in the kernel takes more than a moment. */
#define DEATH_TIMEOUT_MS 5000

/* Drop the members whose processes have exited; keeps the list to the
 * living however many processes exec starts over the daemon's life. */
static void members_prune(struct xv_hv *hv)
{
	struct xv_hv_member **pp = &hv->members;

	while (*pp) {
		struct xv_hv_member *m = *pp;
		struct pollfd p = { .fd = m->pidfd, .events = POLLIN };

		if (poll(&p, 1, 0) == 1) {
			*pp = m->next;
			close(m->pidfd);
			free(m);
		} else {
			pp = &m->next;
		}
	}
}

int xv_hv_domain_join(struct xv_hv *hv, unsigned int domid, uint32_t pid)
{
	struct xv_hv_member *m;
	int fd;

	if (domid > XV_SIM_MAX_DOMID || !hv->domain[domid])
		return -ESRCH;
	if (pid == 0 || pid > INT32_MAX || (pid_t)pid == getpid())
		return -EINVAL;
	/* Dom0 is never destroyed: nothing to remember. */
	if (domid == 0)
		return 0;
	members_prune(hv);
	/* After the prune every member is alive, so a pid names the same
	 * process: exec enrols itself after xv_test_spawn enrolled it, and
	 * each pidfd held costs a descriptor. */
	for (m = hv->members; m; m = m->next)
		if (m->pid == (pid_t)pid && m->domid == domid)
			return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	fd = pidfd_open((pid_t)pid, 0);
	if (fd < 0) {
		int err = -errno;

		free(m);
		return err;
	}
	m->pidfd = fd;
	m->pid = (pid_t)pid;
	m->domid = domid;
	m->next = hv->members;
	hv->members = m;
	return 0;
}

void xv_hv_members_free(struct xv_hv *hv)
{
	while (hv->members) {
		struct xv_hv_member *m = hv->members;

		hv->members = m->next;
		close(m->pidfd);
		free(m);
	}
}

/* A growable list of pidfds, borrowed from their holders. */
struct victims {
	struct pollfd *p;
	size_t n, cap;
};

static int victims_add(struct victims *v, int pidfd)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 16;
		struct pollfd *p = realloc(v->p, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		v->p = p;
		v->cap = cap;
	}
	v->p[v->n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	return 0;
}

static int victims_collect(struct xv_hv *hv, unsigned int domid,
			   struct victims *v)
{
	struct xv_hv_conn *c;
	struct xv_hv_member *m;
	size_t n, i;
	int *fds;
	int err = 0;

	for (c = hv->conns; c && !err; c = c->next)
		if (!c->gone && c->domid == domid && c->pidfd >= 0)
			err = victims_add(v, c->pidfd);
	for (m = hv->members; m && !err; m = m->next)
		if (m->domid == domid)
			err = victims_add(v, m->pidfd);
	if (err)
		return err;
	n = xv_xsd_domain_pidfds(hv->xsd, domid, NULL, 0);
	if (!n)
		return 0;
	fds = calloc(n, sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	xv_xsd_domain_pidfds(hv->xsd, domid, fds, n);
	for (i = 0; i < n && !err; i++)
		err = victims_add(v, fds[i]);
	free(fds);
	return err;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	       (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* SIGKILL every victim and wait until each has exited (its pidfd turns
 * readable); 0 or -ETIMEDOUT.  A process listed twice is harmless. */
static int victims_kill(struct victims *v)
{
	struct timespec t0;
	size_t i, left = 0;
	long spent;

	for (i = 0; i < v->n; i++)
		/* ESRCH: it has exited already, which is all we want. */
		(void)pidfd_send_signal(v->p[i].fd, SIGKILL, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		left = 0;
		for (i = 0; i < v->n; i++) {
			if (v->p[i].fd < 0)
				continue;
			if (v->p[i].revents & (POLLIN | POLLHUP | POLLERR))
				v->p[i].fd = -1;	/* poll skips it now */
			else
				left++;
		}
		spent = ms_since(&t0);
		if (!left || spent >= DEATH_TIMEOUT_MS)
			break;
		if (poll(v->p, v->n, (int)(DEATH_TIMEOUT_MS - spent)) < 0 &&
		    errno != EINTR)
			return -errno;
	}
	return left ? -ETIMEDOUT : 0;
}

int xv_hv_domain_destroy(struct xv_hv *hv, unsigned int domid)
{
	struct victims v = { 0 };
	unsigned int dropped = 0, ports = 0, refs = 0;
	struct xv_hv_conn *c;
	struct xv_hv_member **pp;
	int err;

	if (domid == 0)
		return -EPERM;
	if (domid > XV_SIM_MAX_DOMID || !hv->domain[domid])
		return -ESRCH;
	err = victims_collect(hv, domid, &v);
	if (!err)
		err = victims_kill(&v);
	free(v.p);
	if (err == -ENOMEM)
		return err;
	/* From here on nothing of the domain runs (or, after -ETIMEDOUT, a
	 * process stuck in the kernel will find its connection gone), so
	 * nothing of it can race the release. */
	for (c = hv->conns; c; c = c->next) {
		if (c->gone || c->domid != domid)
			continue;
		dropped += xv_hv_gnt_conn_drop(hv, c);
		ports += xv_hv_evt_conn_gone(hv, c);
		refs += xv_hv_gnt_conn_gone(hv, c);
		/* Not a death action: a notify the process had begun before
		 * the kill (its port queued, its datagram unsent) completes,
		 * as Xen completes a hypercall the domain had made. */
		if (c->pid > 0)
			xv_sim_event_repair(&hv->ev, (uint32_t)c->pid);
		close(c->fd);
		if (c->pidfd >= 0)
			close(c->pidfd);
		c->fd = -1;
		c->pidfd = -1;
		c->gone = 1;
	}
	for (pp = &hv->members; *pp;) {
		struct xv_hv_member *m = *pp;

		if (m->domid == domid) {
			*pp = m->next;
			close(m->pidfd);
			free(m);
		} else {
			pp = &m->next;
		}
	}
	/* Only after the wait: the pidfds of the domain's xenstore
	 * connections were the store's, and the release closes them.  It
	 * fails only if the store never knew the domain. */
	(void)xv_xsd_domain_release(hv->xsd, domid);
	hv->domain[domid] = 0;
	free(hv->gtab[domid].g);
	hv->gtab[domid] = (struct xv_hv_gtab){ 0 };
	fprintf(stderr, "xvchan-sim: dom%u destroyed: %u unmap notification(s) dropped unfired, %u port(s) closed, %u grant(s) released%s\n",
		domid, dropped, ports, refs,
		err == -ETIMEDOUT ? "; a process outlived SIGKILL by 5 s" :
		err ? "; waiting for the deaths failed" : "");
	return err;
}
