/* xengntshr_* and xengnttab_* over the simulator: shared pages are memfds
 * the daemon hands to grantees it has checked; several refs map as one
 * contiguous range by placing each run of pages into a reserved range. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xengnttab.h>

#include "preload.h"

/* xengnttab.h makes both handle types this one struct. */
struct xengntdev_handle {
	int fd;
	uint32_t max_grants;	/* 0: no limit set */
	uint32_t mapped;	/* pages mapped through this handle */
};

/* The real handles wrap a device fd; ours wrap /dev/null so that _fd()
 * returns something that fcntl() and close-on-exec questions accept. */
static int null_fd(void)
{
	return open("/dev/null", O_RDWR | O_CLOEXEC);
}

static void *open_handle(size_t size)
{
	int *h = calloc(1, size);
	int err;

	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	xv_sim_lock_take();
	err = xv_sim_connect_locked();
	xv_sim_lock_give();
	if (!err && (*h = null_fd()) < 0)
		err = -errno;
	if (err) {
		free(h);
		errno = -err;
		return NULL;
	}
	return h;
}

xengntshr_handle *xengntshr_open(struct xentoollog_logger *logger,
				 unsigned int open_flags)
{
	return open_handle(sizeof(struct xengntdev_handle));
}

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
				 unsigned int open_flags)
{
	return open_handle(sizeof(struct xengntdev_handle));
}

/* As with the drivers, closing a handle leaves its mappings in place; they
 * end with munmap/unshare or with the process. */
int xengntshr_close(xengntshr_handle *h)
{
	if (!h)
		return 0;
	xv_sim_lock_take();
	xv_sim_mapping_disown(h);
	xv_sim_lock_give();
	close(h->fd);
	free(h);
	return 0;
}

int xengnttab_close(xengnttab_handle *h)
{
	if (!h)
		return 0;
	xv_sim_lock_take();
	xv_sim_mapping_disown(h);
	xv_sim_lock_give();
	close(h->fd);
	free(h);
	return 0;
}

int xengntshr_fd(xengntshr_handle *h)
{
	return h->fd;
}

int xengnttab_fd(xengnttab_handle *h)
{
	return h->fd;
}

static uint32_t notify_flags(uint32_t offset, evtchn_port_t port)
{
	return (offset != (uint32_t)-1 ? XV_SIM_NOTIFY_CLEAR_BYTE : 0) |
	       (port != (evtchn_port_t)-1 ? XV_SIM_NOTIFY_SEND_EVENT : 0);
}

static void *share(xengntshr_handle *h, uint32_t domid, int count,
		   uint32_t *refs, int writable, uint32_t offset,
		   evtchn_port_t port)
{
	struct xv_sim_mapping *m = NULL;
	uint32_t flags = notify_flags(offset, port);
	size_t len;
	char *addr = MAP_FAILED;
	int fd = -1, err;

	if (count <= 0 || (uint32_t)count > XV_SIM_MAX_DATA) {
		errno = EINVAL;
		return NULL;
	}
	len = (size_t)count * XV_PAGE;
	m = calloc(1, sizeof(*m));
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	/* A fresh memfd: its pages read as zero, as new Xen pages do. */
	fd = memfd_create("xvchan-sim-grant", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, (off_t)len) < 0)
		goto fail;
	addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED)
		goto fail;
	xv_sim_lock_take();
	err = xv_sim_connect_locked();
	if (!err) {
		memset(xv_sim_req, 0, sizeof(*xv_sim_req));
		xv_sim_req->op = XV_SIM_GNT_SHARE;
		xv_sim_req->arg[0] = domid;
		xv_sim_req->arg[1] = writable != 0;
		xv_sim_req->arg[2] = offset;
		xv_sim_req->arg[3] = port;
		xv_sim_req->arg[4] = flags;
		xv_sim_req->arg[5] = (uint32_t)count;
		err = xv_sim_call_locked(xv_sim_req, fd, NULL, 0, NULL);
	}
	if (!err && xv_sim_rep->count != (uint32_t)count)
		err = -EPROTO;
	if (err) {
		xv_sim_lock_give();
		errno = -err;
		goto fail;
	}
	memcpy(refs, xv_sim_rep->data, (size_t)count * sizeof(uint32_t));
	*m = (struct xv_sim_mapping){
		.addr = addr, .pages = (size_t)count, .share = 1,
		.share_id = xv_sim_rep->arg[0], .notify_id = xv_sim_rep->arg[1],
		.notify_offset = offset, .notify_port = port,
		.notify_flags = flags, .owner = h,
	};
	xv_sim_mapping_add(m);
	xv_sim_lock_give();
	close(fd);
	return addr;
fail:
	err = errno;
	if (addr != MAP_FAILED)
		xv_sim_real_munmap(addr, len);
	if (fd >= 0)
		close(fd);
	free(m);
	errno = err;
	return NULL;
}

void *xengntshr_share_pages(xengntshr_handle *h, uint32_t domid, int count,
			    uint32_t *refs, int writable)
{
	return share(h, domid, count, refs, writable, (uint32_t)-1,
		     (evtchn_port_t)-1);
}

void *xengntshr_share_page_notify(xengntshr_handle *h, uint32_t domid,
				  uint32_t *ref, int writable,
				  uint32_t notify_offset,
				  evtchn_port_t notify_port)
{
	return share(h, domid, 1, ref, writable, notify_offset, notify_port);
}

/* Unshare is munmap for the drivers too: the grant ends with the mapping. */
int xengntshr_unshare(xengntshr_handle *h, void *start, uint32_t count)
{
	return munmap(start, (size_t)count * XV_PAGE);
}

/* Place the pages the daemon granted into one reserved range. */
static char *place(uint32_t count, int prot, const int *fds, size_t nfds,
		   const uint32_t *where)
{
	size_t len = (size_t)count * XV_PAGE;
	char *base;
	uint32_t i = 0;

	base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	while (i < count) {
		uint32_t fdi = where[2 * i], page = where[2 * i + 1], run = 1;

		if (fdi >= nfds)
			goto fail_proto;
		while (i + run < count && where[2 * (i + run)] == fdi &&
		       where[2 * (i + run) + 1] == page + run)
			run++;
		if (mmap(base + (size_t)i * XV_PAGE, (size_t)run * XV_PAGE, prot,
			 MAP_SHARED | MAP_FIXED, fds[fdi],
			 (off_t)page * XV_PAGE) == MAP_FAILED)
			goto fail;
		i += run;
	}
	return base;
fail_proto:
	errno = EPROTO;
fail:
	i = (uint32_t)errno;
	xv_sim_real_munmap(base, len);
	errno = (int)i;
	return NULL;
}

static void *map(xengnttab_handle *h, uint32_t count, const uint32_t *domids,
		 uint32_t domid, const uint32_t *refs, int prot,
		 uint32_t offset, evtchn_port_t port)
{
	struct xv_sim_mapping *m;
	uint32_t flags = notify_flags(offset, port), i, notify_id = 0;
	int fds[XV_SIM_MAX_FDS];
	size_t nfds = 0, k;
	char *addr = NULL;
	int err;

	if (count == 0 || count > XV_SIM_MAX_DATA / 2) {
		errno = EINVAL;
		return NULL;
	}
	if (h->max_grants && h->mapped + count > h->max_grants) {
		errno = ENOMEM;	/* gntdev's answer past its limit */
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	xv_sim_lock_take();
	err = xv_sim_connect_locked();
	if (!err) {
		memset(xv_sim_req, 0, sizeof(*xv_sim_req));
		xv_sim_req->op = XV_SIM_GNT_MAP;
		xv_sim_req->arg[0] = (prot & PROT_WRITE) != 0;
		xv_sim_req->arg[1] = offset;
		xv_sim_req->arg[2] = port;
		xv_sim_req->arg[3] = flags;
		for (i = 0; i < count; i++) {
			xv_sim_req->data[2 * i] = domids ? domids[i] : domid;
			xv_sim_req->data[2 * i + 1] = refs[i];
		}
		xv_sim_req->count = 2 * count;
		err = xv_sim_call_locked(xv_sim_req, -1, fds, XV_SIM_MAX_FDS, &nfds);
	}
	if (!err)
		notify_id = xv_sim_rep->arg[0];
	if (!err && xv_sim_rep->count != 2 * count)
		err = -EPROTO;
	if (!err) {
		addr = place(count, prot, fds, nfds, xv_sim_rep->data);
		if (!addr)
			err = -errno;
	}
	for (k = 0; k < nfds; k++)
		close(fds[k]);
	if (err) {
		/* The daemon registered the notification with the map. */
		if (notify_id) {
			memset(xv_sim_req, 0, sizeof(*xv_sim_req));
			xv_sim_req->op = XV_SIM_NOTIFY_DROP;
			xv_sim_req->arg[0] = notify_id;
			xv_sim_call_locked(xv_sim_req, -1, NULL, 0, NULL);
		}
		xv_sim_lock_give();
		free(m);
		errno = -err;
		return NULL;
	}
	*m = (struct xv_sim_mapping){
		.addr = addr, .pages = count, .notify_id = notify_id,
		.notify_offset = offset, .notify_port = port,
		.notify_flags = flags, .owner = h, .owner_mapped = &h->mapped,
	};
	h->mapped += count;
	xv_sim_mapping_add(m);
	xv_sim_lock_give();
	return addr;
}

void *xengnttab_map_grant_ref(xengnttab_handle *h, uint32_t domid,
			      uint32_t ref, int prot)
{
	return map(h, 1, NULL, domid, &ref, prot, (uint32_t)-1,
		   (evtchn_port_t)-1);
}

void *xengnttab_map_grant_refs(xengnttab_handle *h, uint32_t count,
			       uint32_t *domids, uint32_t *refs, int prot)
{
	return map(h, count, domids, 0, refs, prot, (uint32_t)-1,
		   (evtchn_port_t)-1);
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *h, uint32_t count,
				      uint32_t domid, uint32_t *refs, int prot)
{
	return map(h, count, NULL, domid, refs, prot, (uint32_t)-1,
		   (evtchn_port_t)-1);
}

void *xengnttab_map_grant_ref_notify(xengnttab_handle *h, uint32_t domid,
				     uint32_t ref, int prot,
				     uint32_t notify_offset,
				     evtchn_port_t notify_port)
{
	return map(h, 1, NULL, domid, &ref, prot, notify_offset, notify_port);
}

int xengnttab_unmap(xengnttab_handle *h, void *start, uint32_t count)
{
	struct xv_sim_mapping *m;

	xv_sim_lock_take();
	m = xv_sim_mapping_at(start);
	if (!m || m->share || m->pages != count) {
		xv_sim_lock_give();
		errno = EINVAL;
		return -1;
	}
	xv_sim_mapping_end_locked(start, (size_t)count * XV_PAGE);
	xv_sim_lock_give();
	return xv_sim_real_munmap(start, (size_t)count * XV_PAGE);
}

int xengnttab_set_max_grants(xengnttab_handle *h, uint32_t nr_grants)
{
	h->max_grants = nr_grants;
	return 0;
}
