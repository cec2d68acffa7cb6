/* The daemon's event loop, control connections and domain table. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hv.h"
#include "xenstored.h"

static int xs_socket_path(const struct xv_hv *hv, unsigned int domid,
			  char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/" XV_SIM_XS_DIR "/%u", hv->dir, domid);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int xv_hv_domain_create(struct xv_hv *hv, unsigned int domid, int *created)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char name[32];
	int err;

	*created = 0;
	if (domid > XV_SIM_MAX_DOMID)
		return -EINVAL;
	if (hv->domain[domid])
		return 0;
	err = xs_socket_path(hv, domid, path, sizeof(path));
	if (err)
		return err;
	/* A socket file left by a daemon that crashed would make bind fail. */
	unlink(path);
	if (domid == 0)
		snprintf(name, sizeof(name), "Domain-0");
	else
		snprintf(name, sizeof(name), "dom%u", domid);
	err = xv_xsd_domain_introduce(hv->xsd, domid, name, path);
	if (err)
		return err;
	hv->domain[domid] = 1;
	*created = 1;
	return 0;
}

static int listen_ctl(struct xv_hv *hv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n, fd;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/" XV_SIM_CTL_NAME,
		     hv->dir);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 128) < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	hv->ctl_fd = fd;
	return 0;
}

static int make_evtab(struct xv_hv *hv)
{
	void *tab;
	int fd;

	fd = memfd_create("xvchan-sim-events",
			  MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	/* Every domain's processes get this descriptor read-write (HELLO):
	 * sealed at its size, so that none can truncate the table under
	 * the daemon's mapping, which would kill it (SIGBUS) and everyone
	 * with it. Scribbling on the words stays possible (sim/README.md). */
	if (ftruncate(fd, sizeof(struct xv_sim_evtab)) < 0 ||
	    fcntl(fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	tab = mmap(NULL, sizeof(struct xv_sim_evtab), PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (tab == MAP_FAILED)
		goto fail;
	hv->evtab_fd = fd;
	hv->ev.tab = tab;
	return xv_sim_events_open(&hv->ev);
fail:
	close(fd);
	return -errno;
}

int xv_hv_init(struct xv_hv *hv, const char *dir, const char **what)
{
	struct xv_xsd_quota quota;
	struct rlimit rl;
	char path[300];
	int err, created;

	memset(hv, 0, sizeof(*hv));
	hv->ctl_fd = -1;
	hv->spare_fd = -1;
	hv->evtab_fd = -1;
	hv->next_id = 1;
	if (snprintf(hv->dir, sizeof(hv->dir), "%s", dir) >= (int)sizeof(hv->dir)) {
		*what = "state directory path";
		return -ENAMETOOLONG;
	}
	/* Every share holds a memfd: let a domain share thousands. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	*what = "memory";
	hv->domain = calloc(XV_SIM_MAX_DOMID + 1, 1);
	hv->port = calloc(XV_SIM_MAX_PORTS, sizeof(*hv->port));
	hv->handle = calloc(XV_SIM_MAX_HANDLES, sizeof(*hv->handle));
	hv->gtab = calloc(XV_SIM_MAX_DOMID + 1, sizeof(*hv->gtab));
	if (!hv->domain || !hv->port || !hv->handle || !hv->gtab)
		return -ENOMEM;
	/* Handle socket names carry this, so two simulators never meet. */
	if (getrandom(&hv->instance, sizeof(hv->instance), 0) !=
	    sizeof(hv->instance))
		hv->instance = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
	hv->ev.instance = hv->instance;
	*what = "event table";
	err = make_evtab(hv);
	if (err)
		return err;
	*what = "xenstore directory";
	snprintf(path, sizeof(path), "%s/" XV_SIM_XS_DIR, hv->dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	*what = "xenstored";
	xv_xsd_quota_default(&quota);
	err = xv_xsd_new(&hv->xsd, &quota);
	if (err)
		return err;
	*what = "dom0";
	err = xv_hv_domain_create(hv, 0, &created);
	if (err)
		return err;
	*what = "control socket";
	return listen_ctl(hv);
}

static void conn_free(struct xv_hv *hv, struct xv_hv_conn *c)
{
	struct xv_hv_conn **pp;

	unsigned int fired, ports, refs;

	/* A destroy released it already, and must not fire anything. */
	if (c->gone)
		goto unlink;
	/* Xen's order: notifications may send on the dying ports. */
	fired = xv_hv_gnt_conn_fire(hv, c);
	ports = xv_hv_evt_conn_gone(hv, c);
	refs = xv_hv_gnt_conn_gone(hv, c);
	/* After the notifications: their events may wait on its bells.  Not
	 * for a tool, which has no event table and rings nothing: its pid
	 * may be a live domain process's (exec's, before execvp(); a test's
	 * own), whose bell in flight the repair would clear. */
	if (c->pid > 0 && c->domid != XV_HV_TOOL)
		xv_sim_event_repair(&hv->ev, (uint32_t)c->pid);
	/* The trail of a death, for whoever debugs a peer that went away. */
	if (fired || ports || refs)
		fprintf(stderr, "xvchan-sim: dom%u pid %d gone: %u unmap notification(s) fired, %u port(s) closed, %u grant(s) released\n",
			c->domid, (int)c->pid, fired, ports, refs);
	close(c->fd);
	if (c->pidfd >= 0)
		close(c->pidfd);
unlink:
	for (pp = &hv->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	free(c);
}

static int do_hello(struct xv_hv *hv, struct xv_hv_conn *c,
		    const struct xv_sim_msg *req, struct xv_sim_msg *rep,
		    int *fds, size_t *nfds)
{
	int pidfd = -1;

	if (c->hello)
		return -EPROTO;
	if (req->arg[0] != XV_SIM_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (req->arg[1] != XV_HV_TOOL &&
	    (req->arg[1] > XV_SIM_MAX_DOMID || !hv->domain[req->arg[1]]))
		return -ESRCH;
	if (req->arg[1] != XV_HV_TOOL) {
		struct ucred cred;
		socklen_t len = sizeof(cred);

		/* The kernel's word for who connected, not the HELLO's: a
		 * destroy kills by this, and a pidfd never names a process
		 * that took over a dead one's pid. Without one (out of
		 * descriptors) a destroy could not take the process down:
		 * it is refused, as Xen refuses what it cannot account. */
		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
		    cred.pid > 0 && cred.pid != getpid()) {
			pidfd = pidfd_open(cred.pid, 0);
			if (pidfd < 0)
				return -errno;
		}
	}
	c->hello = 1;
	c->domid = req->arg[1];
	c->pid = (pid_t)req->arg[2];
	c->pidfd = pidfd;
	rep->arg[0] = (uint32_t)hv->instance;
	rep->arg[1] = (uint32_t)(hv->instance >> 32);
	rep->arg[2] = (uint32_t)getpid();
	if (c->domid != XV_HV_TOOL) {
		fds[0] = hv->evtab_fd;
		*nfds = 1;
	}
	return 0;
}

static int do_list(struct xv_hv *hv, struct xv_sim_msg *rep)
{
	unsigned int d;

	rep->arg[0] = (uint32_t)getpid();
	for (d = 0; d <= XV_SIM_MAX_DOMID; d++) {
		if (!hv->domain[d])
			continue;
		if (rep->count == XV_SIM_MAX_DATA)
			return -E2BIG;
		rep->data[rep->count++] = d;
	}
	return 0;
}

/* What each domain holds, for `xvchan-sim stats` (and tests that check
 * that nothing leaks). */
static int do_stats(struct xv_hv *hv, struct xv_sim_msg *rep)
{
	uint32_t *ports = calloc(XV_SIM_MAX_DOMID + 1, sizeof(*ports));
	uint32_t p, r, grants;
	unsigned int d;
	int err = 0;

	if (!ports)
		return -ENOMEM;
	for (p = 1; p < XV_SIM_MAX_PORTS; p++)
		if (hv->port[p].state != XV_HV_PORT_FREE &&
		    hv->port[p].domid <= XV_SIM_MAX_DOMID)
			ports[hv->port[p].domid]++;
	for (d = 0; d <= XV_SIM_MAX_DOMID; d++) {
		if (!hv->domain[d])
			continue;
		if (rep->count + 3 > XV_SIM_MAX_DATA) {
			err = -E2BIG;
			break;
		}
		grants = 0;
		for (r = 1; r < hv->gtab[d].size; r++)
			grants += hv->gtab[d].g[r].obj != NULL;
		rep->data[rep->count++] = d;
		rep->data[rep->count++] = ports[d];
		rep->data[rep->count++] = grants;
	}
	free(ports);
	return err;
}

static int dispatch(struct xv_hv *hv, struct xv_hv_conn *c,
		    const struct xv_sim_msg *req, int memfd,
		    struct xv_sim_msg *rep, int *fds, size_t *nfds)
{
	int created;

	if (req->op != XV_SIM_HELLO && !c->hello)
		return -EPROTO;
	/* A tool connection is not a domain: it may not hold resources. */
	if (c->domid == XV_HV_TOOL && req->op >= XV_SIM_EVT_OPEN &&
	    req->op <= XV_SIM_NOTIFY_DROP)
		return -EPERM;
	/* Only the toolstack makes, enrols into, destroys domains or stops
	 * the host: tools and dom0.  A guest's JOIN would hand a destroy
	 * another domain's process, or any of the user's, to SIGKILL. */
	if ((req->op == XV_SIM_DOMAIN_CREATE || req->op == XV_SIM_SHUTDOWN ||
	     req->op == XV_SIM_DOMAIN_JOIN || req->op == XV_SIM_DOMAIN_DESTROY) &&
	    c->domid != XV_HV_TOOL && c->domid != 0)
		return -EPERM;
	switch (req->op) {
	case XV_SIM_HELLO:
		return do_hello(hv, c, req, rep, fds, nfds);
	case XV_SIM_DOMAIN_CREATE: {
		int err = xv_hv_domain_create(hv, req->arg[0], &created);

		rep->arg[0] = (uint32_t)created;
		return err;
	}
	case XV_SIM_DOMAIN_LIST:
		return do_list(hv, rep);
	case XV_SIM_DOMAIN_STATS:
		return do_stats(hv, rep);
	case XV_SIM_SHUTDOWN:
		hv->stop = 1;
		return 0;
	case XV_SIM_EVT_OPEN:
		return xv_hv_evt_open(hv, c, &rep->arg[0]);
	case XV_SIM_EVT_CLOSE:
		return xv_hv_evt_close(hv, c, req->arg[0]);
	case XV_SIM_EVT_BIND_UNBOUND:
		return xv_hv_evt_bind_unbound(hv, c, req->arg[0], req->arg[1],
					      &rep->arg[0]);
	case XV_SIM_EVT_BIND_INTERDOMAIN:
		return xv_hv_evt_bind_interdomain(hv, c, req->arg[0],
						  req->arg[1], req->arg[2],
						  &rep->arg[0]);
	case XV_SIM_EVT_UNBIND:
		return xv_hv_evt_unbind(hv, c, req->arg[0], req->arg[1]);
	case XV_SIM_EVT_STATUS:
		return xv_hv_evt_status(hv, c, req->arg[0], req->arg[1],
					req->arg[2] != 0, rep);
	case XV_SIM_GNT_SHARE:
		return xv_hv_gnt_share(hv, c, memfd, req, rep);
	case XV_SIM_GNT_UNSHARE:
		return xv_hv_gnt_unshare(hv, c, req->arg[0]);
	case XV_SIM_GNT_MAP:
		return xv_hv_gnt_map(hv, c, req, rep, fds, nfds);
	case XV_SIM_NOTIFY_DROP:
		return xv_hv_notify_drop(hv, c, req->arg[0]);
	case XV_SIM_DOMAIN_JOIN:
		return xv_hv_domain_join(hv, req->arg[0], req->arg[1]);
	case XV_SIM_DOMAIN_DESTROY:
		return xv_hv_domain_destroy(hv, req->arg[0]);
	default:
		return -ENOSYS;
	}
}

/* Serve one request; returns <0 when the connection must be dropped. */
static int serve(struct xv_hv *hv, struct xv_hv_conn *c, struct xv_sim_msg *req,
		 struct xv_sim_msg *rep)
{
	int in[2], out[XV_SIM_MAX_FDS];
	size_t nin = 0, nout = 0, i;
	int err, memfd = -1;

	err = xv_sim_recv(c->fd, req, in, 2, &nin);
	if (err == -EAGAIN)
		return 0;
	if (err)
		return err;
	if (nin > 1 || (nin == 1 && req->op != XV_SIM_GNT_SHARE)) {
		/* Not ours to keep: a request may not leak the daemon's
		 * descriptors away. */
		for (i = 0; i < nin; i++)
			close(in[i]);
		return -EPROTO;
	}
	if (nin == 1)
		memfd = in[0];
	memset(rep, 0, sizeof(*rep));
	rep->op = req->op;
	rep->err = dispatch(hv, c, req, memfd, rep, out, &nout);
	if (rep->err)
		nout = 0;
	err = xv_sim_send(c->fd, rep, out, nout);
	/* A MAP reply carries read-only re-opens made for it alone. */
	for (i = 0; i < nout; i++)
		if (req->op == XV_SIM_GNT_MAP)
			close(out[i]);
	if (memfd >= 0)
		close(memfd);
	return err;
}

/*
 * Out of descriptors, accept4() fails and leaves the connection pending,
 * so ppoll() returns at once, forever: the daemon would spin and serve no
 * one.  Give up the spare descriptor to take the connection and close it,
 * which the client sees as a refusal, then take the spare back.  Returns
 * whether it took one.
 */
static int refuse_one(struct xv_hv *hv)
{
	int fd;

	if (hv->spare_fd < 0)
		return 0;
	close(hv->spare_fd);
	fd = accept4(hv->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	hv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!hv->refusing)
		fprintf(stderr, "xvchan-sim: out of file descriptors: refusing connections\n");
	hv->refusing = 1;
	return fd >= 0;
}

static void accept_conns(struct xv_hv *hv)
{
	for (;;) {
		struct xv_hv_conn *c;
		int fd = accept4(hv->ctl_fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if ((errno == EMFILE || errno == ENFILE) &&
			    refuse_one(hv))
				continue;
			return;
		}
		hv->refusing = 0;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->pidfd = -1;
		c->domid = XV_HV_TOOL;
		c->next = hv->conns;
		hv->conns = c;
	}
}

static volatile sig_atomic_t terminated;

static void on_term(int sig)
{
	terminated = sig;
}

int xv_hv_run(struct xv_hv *hv)
{
	struct sigaction sa = { .sa_handler = on_term };
	sigset_t block, waitmask;
	struct xv_sim_msg *req = malloc(XV_SIM_MSG_MAX);
	struct xv_sim_msg *rep = malloc(XV_SIM_MSG_MAX);
	struct pollfd *pfd = NULL;
	size_t cap = 0;
	int err = 0;

	if (!req || !rep) {
		err = -ENOMEM;
		goto out;
	}
	/* Blocked except inside ppoll(), so a signal can never land between
	 * the loop's check and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!hv->stop && !terminated) {
		struct xv_hv_conn *c, *next;
		size_t nconn = 0, n, nxs, i;

		/* Again if a refusal could not take it back. */
		if (hv->spare_fd < 0)
			hv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		for (c = hv->conns; c; c = c->next)
			nconn++;
		n = 1 + nconn + xv_xsd_nfds(hv->xsd);
		if (n > cap) {
			struct pollfd *p = realloc(pfd, n * sizeof(*p));

			if (!p) {
				err = -ENOMEM;
				break;
			}
			pfd = p;
			cap = n;
		}
		pfd[0] = (struct pollfd){ .fd = hv->ctl_fd, .events = POLLIN };
		i = 1;
		for (c = hv->conns; c; c = c->next)
			pfd[i++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
		nxs = xv_xsd_pollfds(hv->xsd, pfd + i, cap - i);
		if (ppoll(pfd, i + nxs, NULL, &waitmask) < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		xv_xsd_dispatch(hv->xsd, pfd + i, nxs);
		i = 1;
		for (c = hv->conns; c; c = next) {
			short re = pfd[i++].revents;

			next = c->next;
			if (c->gone) {
				conn_free(hv, c);
				continue;
			}
			if (!re)
				continue;
			if ((re & POLLIN) && serve(hv, c, req, rep) == 0)
				continue;
			conn_free(hv, c);
		}
		if (pfd[0].revents & POLLIN)
			accept_conns(hv);
	}
out:
	free(pfd);
	free(req);
	free(rep);
	return err;
}

void xv_hv_exit(struct xv_hv *hv)
{
	char path[300];
	unsigned int d;

	while (hv->conns)
		conn_free(hv, hv->conns);
	xv_hv_members_free(hv);
	if (hv->xsd)
		xv_xsd_free(hv->xsd);
	if (hv->ctl_fd >= 0) {
		snprintf(path, sizeof(path), "%s/" XV_SIM_CTL_NAME, hv->dir);
		unlink(path);
		close(hv->ctl_fd);
	}
	for (d = 0; hv->domain && d <= XV_SIM_MAX_DOMID; d++) {
		if (!hv->domain[d])
			continue;
		if (xs_socket_path(hv, d, path, sizeof(path)) == 0)
			unlink(path);
	}
	snprintf(path, sizeof(path), "%s/" XV_SIM_XS_DIR, hv->dir);
	rmdir(path);
	xv_sim_events_close(&hv->ev);
	if (hv->spare_fd >= 0)
		close(hv->spare_fd);
	if (hv->evtab_fd >= 0)
		close(hv->evtab_fd);
	for (d = 0; hv->gtab && d <= XV_SIM_MAX_DOMID; d++)
		free(hv->gtab[d].g);
	free(hv->gtab);
	free(hv->handle);
	free(hv->port);
	free(hv->domain);
}
