/* The preload library's connection to the daemon, its registry of grant
 * mappings, and the munmap interposer that keeps that registry honest. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "preload.h"

pthread_mutex_t xv_sim_lock = PTHREAD_MUTEX_INITIALIZER;
struct xv_sim_events xv_sim_ev;
struct xv_sim_msg *xv_sim_req, *xv_sim_rep;

/* Set while this thread holds xv_sim_lock: glibc may munmap() inside
 * free() (a thread arena shrinking), and that must not take it again. */
static _Thread_local int holding;

static int ctl = -1;
static pid_t ctl_pid;
/* Which simulator and domain the connection speaks for. */
static char ctl_dir[256];
static uint32_t ctl_domid;
static struct xv_sim_mapping *mappings;
/* Lets munmap skip the lock when this process has no grant mapping. */
static atomic_size_t nmappings;

void xv_sim_lock_take(void)
{
	pthread_mutex_lock(&xv_sim_lock);
	holding = 1;
}

void xv_sim_lock_give(void)
{
	holding = 0;
	pthread_mutex_unlock(&xv_sim_lock);
}

int xv_sim_real_munmap(void *addr, size_t len)
{
	return (int)syscall(SYS_munmap, addr, len);
}

/* After fork the child must not speak on its parent's connection, nor keep
 * it open (the daemon would never see the parent die); its inherited
 * handles and mappings are the parent's, as with Xen's drivers. */
static void atfork_child(void)
{
	struct xv_sim_mapping *m, *next;

	if (ctl >= 0)
		close(ctl);
	ctl = -1;
	for (m = mappings; m; m = next) {
		next = m->next;
		free(m);
	}
	mappings = NULL;
	atomic_store(&nmappings, 0);
	pthread_mutex_init(&xv_sim_lock, NULL);
	holding = 0;
}

__attribute__((constructor)) static void preload_init(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

static int parse_domid(const char *s, uint32_t *domid)
{
	char *end;
	unsigned long v;

	if (!s || !*s)
		return -ENOENT;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > XV_SIM_MAX_DOMID)
		return -EINVAL;
	*domid = (uint32_t)v;
	return 0;
}

static int hello(int fd, uint32_t domid)
{
	struct xv_sim_msg msg = { .op = XV_SIM_HELLO };
	void *tab;
	size_t n;
	int tabfd, err;

	msg.arg[0] = XV_SIM_PROTO_VERSION;
	msg.arg[1] = domid;
	msg.arg[2] = (uint32_t)getpid();
	err = xv_sim_send(fd, &msg, NULL, 0);
	if (!err)
		err = xv_sim_recv(fd, xv_sim_rep, &tabfd, 1, &n);
	if (err)
		return err;
	if (xv_sim_rep->err) {
		if (n)
			close(tabfd);
		return xv_sim_rep->err;
	}
	if (n != 1)
		return -EPROTO;
	tab = mmap(NULL, sizeof(struct xv_sim_evtab), PROT_READ | PROT_WRITE,
		   MAP_SHARED, tabfd, 0);
	err = tab == MAP_FAILED ? -errno : 0;
	close(tabfd);
	if (err)
		return err;
	if (xv_sim_ev.tab)
		xv_sim_real_munmap(xv_sim_ev.tab, sizeof(struct xv_sim_evtab));
	xv_sim_ev.tab = tab;
	xv_sim_ev.instance = xv_sim_rep->arg[0] |
			     ((uint64_t)xv_sim_rep->arg[1] << 32);
	return 0;
}

int xv_sim_connect_locked(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *dir = getenv(XV_SIM_ENV_DIR);
	int live = ctl >= 0 && ctl_pid == getpid();
	uint32_t domid;
	int fd, err;

	if (!dir || !*dir) {
		/* What opening /dev/xen/... says off Xen. */
		return live ? 0 : -ENOENT;
	}
	err = parse_domid(getenv(XV_SIM_ENV_DOMID), &domid);
	if (err)
		return live ? 0 : err;
	/* A process that moves to another simulator or domain (a test
	 * runner without fork mode does) gets a connection to match. */
	if (live && ctl_domid == domid && !strcmp(ctl_dir, dir))
		return 0;
	if (strlen(dir) >= sizeof(ctl_dir))
		return -ENAMETOOLONG;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path),
			     "%s/" XV_SIM_CTL_NAME, dir) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	if (!xv_sim_req)
		xv_sim_req = malloc(XV_SIM_MSG_MAX);
	if (!xv_sim_rep)
		xv_sim_rep = malloc(XV_SIM_MSG_MAX);
	if (!xv_sim_req || !xv_sim_rep)
		return -ENOMEM;
	err = xv_sim_events_open(&xv_sim_ev);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = hello(fd, domid);
	if (err) {
		close(fd);
		return err;
	}
	if (ctl >= 0)
		close(ctl);
	ctl = fd;
	ctl_pid = getpid();
	ctl_domid = domid;
	strcpy(ctl_dir, dir);
	return 0;
}

static void drop_locked(void)
{
	if (ctl >= 0 && ctl_pid == getpid())
		close(ctl);
	ctl = -1;
}

int xv_sim_call_locked(struct xv_sim_msg *req, int fd_out,
		       int *fds_in, size_t max_in, size_t *n_in)
{
	int attempt, err = 0;

	/* A daemon restarted in the same directory: its predecessor's
	 * connection is dead, and one fresh attempt is what it takes. */
	for (attempt = 0; attempt < 2; attempt++) {
		err = xv_sim_connect_locked();
		if (err)
			return err;
		err = xv_sim_send(ctl, req, &fd_out, fd_out >= 0 ? 1 : 0);
		if (!err)
			err = xv_sim_recv(ctl, xv_sim_rep, fds_in, max_in, n_in);
		if (!err && xv_sim_rep->op != req->op)
			err = -EPROTO;
		if (!err)
			return xv_sim_rep->err;
		drop_locked();
		if (err != -EPIPE && err != -ECONNRESET && err != -ENOTCONN)
			break;
	}
	return err;
}

void xv_sim_mapping_add(struct xv_sim_mapping *m)
{
	m->next = mappings;
	mappings = m;
	atomic_fetch_add(&nmappings, 1);
}

void xv_sim_mapping_disown(void *owner)
{
	struct xv_sim_mapping *m;

	for (m = mappings; m; m = m->next) {
		if (m->owner == owner) {
			m->owner = NULL;
			m->owner_mapped = NULL;
		}
	}
}

struct xv_sim_mapping *xv_sim_mapping_at(void *addr)
{
	struct xv_sim_mapping *m;

	for (m = mappings; m; m = m->next)
		if (m->addr == addr)
			return m;
	return NULL;
}

static void end_one(struct xv_sim_mapping *m)
{
	struct xv_sim_msg *req = xv_sim_req;

	if (m->owner_mapped)
		*m->owner_mapped -= (uint32_t)m->pages;
	if (m->notify_flags & XV_SIM_NOTIFY_CLEAR_BYTE)
		m->addr[m->notify_offset] = 0;
	if ((m->notify_flags & XV_SIM_NOTIFY_SEND_EVENT) &&
	    m->notify_port < XV_SIM_MAX_PORTS)
		xv_sim_event_raise(&xv_sim_ev,
			atomic_load(&xv_sim_ev.tab->port[m->notify_port].remote));
	/* Only the process that made the mapping speaks for it: a forked
	 * child's copy is dropped from its registry at fork. */
	memset(req, 0, sizeof(*req));
	if (m->share) {
		req->op = XV_SIM_GNT_UNSHARE;
		req->arg[0] = m->share_id;
	} else if (m->notify_id) {
		req->op = XV_SIM_NOTIFY_DROP;
		req->arg[0] = m->notify_id;
	} else {
		return;
	}
	xv_sim_call_locked(req, -1, NULL, 0, NULL);
}

void xv_sim_mapping_end_locked(char *addr, size_t len)
{
	struct xv_sim_mapping **pp = &mappings, *m;

	while ((m = *pp)) {
		if (m->addr < addr + len && addr < m->addr + m->pages * XV_PAGE) {
			*pp = m->next;
			atomic_fetch_sub(&nmappings, 1);
			end_one(m);
			free(m);
		} else {
			pp = &m->next;
		}
	}
}

/* Debian's libxenvchan frees multi-page rings with plain munmap(): the
 * grant bookkeeping (and any unmap notification) must follow. */
int munmap(void *addr, size_t len)
{
	/* Our own unmaps under the lock are never of grant mappings. */
	if (atomic_load(&nmappings) && !holding) {
		int saved = errno;

		xv_sim_lock_take();
		xv_sim_mapping_end_locked(addr, len);
		xv_sim_lock_give();
		errno = saved;
	}
	return xv_sim_real_munmap(addr, len);
}

int xv_sim_call_args(uint32_t op, uint32_t a0, uint32_t a1, uint32_t a2,
		     uint32_t rep[3])
{
	int err;

	xv_sim_lock_take();
	err = xv_sim_connect_locked();
	if (!err) {
		memset(xv_sim_req, 0, sizeof(*xv_sim_req));
		xv_sim_req->op = op;
		xv_sim_req->arg[0] = a0;
		xv_sim_req->arg[1] = a1;
		xv_sim_req->arg[2] = a2;
		err = xv_sim_call_locked(xv_sim_req, -1, NULL, 0, NULL);
	}
	if (!err)
		memcpy(rep, xv_sim_rep->arg, 3 * sizeof(rep[0]));
	xv_sim_lock_give();
	return err;
}
