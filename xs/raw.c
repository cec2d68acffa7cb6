/*
 * A xenstore connection spoken to directly, for watches: libxenstore
 * starts a reader thread on a handle's first watch, after which every
 * event costs two thread wake-ups and closing the handle cancels and joins
 * that thread.  Here the caller's own poll() on the descriptor is the only
 * wait.  One request is outstanding at a time; replies and watch events
 * share the descriptor, so the events read before a reply are counted for
 * the next drain, and nothing after a reply is read with it.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "xs-internal.h"

#define HDR sizeof(struct xsd_sockmsg)
/* Event counts are only informative: saturate, never wrap. */
#define EVENTS_MAX 1000000

struct xv_xs_raw {
	int fd;
	bool is_socket;
	/* Once set, the connection is done: every call returns it. */
	int err;
	uint32_t req_id;
	int events;		/* read but not yet reported by a drain */
	size_t have;		/* bytes of the message in buf so far */
	unsigned char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
};

/* libxenstore 4.17's xs_open(0) decides by stat(): a socket is
 * connected to, anything else (the xenbus device) opened read-write. */
static int open_one(const char *where, bool *is_socket)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (stat(where, &st) != 0)
		return -errno;
	*is_socket = S_ISSOCK(st.st_mode);
	if (!*is_socket) {
		fd = open(where, O_RDWR | O_CLOEXEC | O_NONBLOCK);
		return fd < 0 ? -errno : fd;
	}
	if (strlen(where) >= sizeof(addr.sun_path))
		return -EINVAL;
	memcpy(addr.sun_path, where, strlen(where) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Blocking connect: a local socket either takes us or refuses. */
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

int xv_xs_raw_open(struct xv_xs_raw **out, const char *xsd_path,
		   const char *rundir)
{
	char sock[PATH_MAX];
	struct xv_xs_raw *r;
	bool is_socket = false;
	int fd;

	/* The daemon's socket first, then the kernel's device: the order
	 * of xs_open(0).  XENSTORED_PATH names both when set. */
	if (xsd_path) {
		fd = open_one(xsd_path, &is_socket);
	} else {
		if (snprintf(sock, sizeof(sock), "%s/socket",
			     rundir ? rundir : "/var/run/xenstored") >=
		    (int)sizeof(sock))
			fd = -ENAMETOOLONG;
		else
			fd = open_one(sock, &is_socket);
		if (fd < 0)
			fd = open_one(access("/dev/xen/xenbus", F_OK) == 0 ?
				      "/dev/xen/xenbus" : "/proc/xen/xenbus",
				      &is_socket);
	}
	if (fd < 0)
		return fd;
	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	r->fd = fd;
	r->is_socket = is_socket;
	*out = r;
	return 0;
}

void xv_xs_raw_close(struct xv_xs_raw *r)
{
	if (!r)
		return;
	close(r->fd);
	free(r);
}

int xv_xs_raw_fd(const struct xv_xs_raw *r)
{
	return r->fd;
}

bool xv_xs_raw_pending(const struct xv_xs_raw *r)
{
	return r->events > 0;
}

static int fail(struct xv_xs_raw *r, int err)
{
	if (!r->err)
		r->err = err;
	return r->err;
}

/*
 * Read the rest of the message buf holds the start of, without blocking
 * and never past its end: what follows stays in the descriptor and keeps
 * it readable (xenstored sends a new watch's first event right after the
 * XS_WATCH reply).  1: bytes came, 0: none (EAGAIN), or the connection's
 * error: -EPROTO for a length no xenstored may send, after which the
 * stream cannot be followed.
 */
static int fill(struct xv_xs_raw *r)
{
	size_t want = HDR;
	ssize_t n;

	if (r->have >= HDR) {
		struct xsd_sockmsg hdr;

		memcpy(&hdr, r->buf, HDR);
		if (hdr.len > XENSTORE_PAYLOAD_MAX)
			return fail(r, -EPROTO);
		want = HDR + hdr.len;
	}
	do
		n = read(r->fd, r->buf + r->have, want - r->have);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		r->have += (size_t)n;
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	/* End of file: xenstored closed its side. */
	if (n == 0 || errno == ECONNRESET || errno == EPIPE)
		return fail(r, -ECONNRESET);
	return fail(r, -errno);
}

/* If buf holds a whole message, copy its header to @hdr and return 1;
 * 0 if more bytes are needed (fill() checked the length). */
static int whole(const struct xv_xs_raw *r, struct xsd_sockmsg *hdr)
{
	if (r->have < HDR)
		return 0;
	memcpy(hdr, r->buf, HDR);
	return r->have == HDR + hdr->len;
}

static void count_event(struct xv_xs_raw *r)
{
	if (r->events < EVENTS_MAX)
		r->events++;
}

int xv_xs_raw_drain(struct xv_xs_raw *r)
{
	struct xsd_sockmsg hdr;
	int rc, n;

	if (r->err)
		return r->err;
	while ((rc = fill(r)) == 1) {
		if (!whole(r, &hdr))
			continue;
		/* Only watch events come unasked. */
		if (hdr.type != XS_WATCH_EVENT)
			return fail(r, -EPROTO);
		count_event(r);
		r->have = 0;
	}
	if (rc < 0)
		return rc;
	n = r->events;
	r->events = 0;
	return n;
}

/* The whole request at once, waiting while a socket's buffer is full;
 * a socket's peer gone must not raise SIGPIPE in the caller. */
static int send_all(struct xv_xs_raw *r, const void *msg, size_t len)
{
	const unsigned char *p = msg;
	ssize_t n;

	while (len > 0) {
		if (r->is_socket)
			n = send(r->fd, p, len, MSG_NOSIGNAL);
		else
			n = write(r->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = r->fd, .events = POLLOUT };

			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return fail(r, -errno);
			continue;
		}
		if (n < 0)
			return fail(r, errno == EPIPE || errno == ECONNRESET ?
					       -ECONNRESET : -errno);
		if (n == 0)
			return fail(r, -ECONNRESET);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* xenstored's error names, as libxenstore maps them: an unknown one is
 * EINVAL. */
static int error_of(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || memchr(name, '\0', len) == NULL)
		return -EPROTO;
	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (strcmp(name, xsd_errors[i].errstring) == 0)
			return -xsd_errors[i].errnum;
	return -EINVAL;
}

/*
 * Send one request of @type with @payload and wait for its reply, whose
 * payload (at most @cap bytes) is copied to @out with its length in
 * *@out_len.  Watch events read on the way are counted, not lost.
 * Returns 0, the -errno of an XS_ERROR reply, or the connection's error.
 */
static int request(struct xv_xs_raw *r, uint32_t type, const void *payload,
		   size_t len, char *out, size_t cap, size_t *out_len)
{
	unsigned char msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg hdr = { .type = type, .len = (uint32_t)len };
	int rc;

	if (r->err)
		return r->err;
	if (len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	hdr.req_id = ++r->req_id;
	memcpy(msg, &hdr, HDR);
	memcpy(msg + HDR, payload, len);
	rc = send_all(r, msg, HDR + len);
	if (rc < 0)
		return rc;
	for (;;) {
		struct xsd_sockmsg got;
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };

		rc = fill(r);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			/* No timeout: xenstored answers every request, and
			 * its end is an end of file here. */
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return fail(r, -errno);
			continue;
		}
		if (!whole(r, &got))
			continue;
		r->have = 0;
		if (got.type == XS_WATCH_EVENT) {
			count_event(r);
			continue;
		}
		/* One request at a time: anything else is its reply, or
		 * the stream is not one we can follow. */
		if ((got.type != type && got.type != XS_ERROR) ||
		    got.req_id != hdr.req_id)
			return fail(r, -EPROTO);
		if (got.type == XS_ERROR) {
			rc = error_of((const char *)r->buf + HDR, got.len);
			return rc == -EPROTO ? fail(r, rc) : rc;
		}
		if (got.len > cap)
			return fail(r, -EPROTO);
		memcpy(out, r->buf + HDR, got.len);
		*out_len = got.len;
		return 0;
	}
}

int xv_xs_raw_watch(struct xv_xs_raw *r, const char *path, const char *token)
{
	char msg[XENSTORE_PAYLOAD_MAX];
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1, len;
	char ok[8];

	if (pl + tl > sizeof(msg))
		return -E2BIG;
	memcpy(msg, path, pl);
	memcpy(msg + pl, token, tl);
	return request(r, XS_WATCH, msg, pl + tl, ok, sizeof(ok), &len);
}

int xv_xs_raw_domain_introduced(struct xv_xs_raw *r, unsigned int domid)
{
	char arg[16], ans[4];
	size_t len;
	int rc;

	rc = snprintf(arg, sizeof(arg), "%u", domid);
	rc = request(r, XS_IS_DOMAIN_INTRODUCED, arg, (size_t)rc + 1, ans,
		     sizeof(ans), &len);
	if (rc < 0)
		return rc;
	/* "T" or "F", with or without its NUL: nothing else is an answer,
	 * and a failure must never read as "gone". */
	if ((len == 2 && ans[1] != '\0') || len < 1 || len > 2 ||
	    (ans[0] != 'T' && ans[0] != 'F'))
		return fail(r, -EPROTO);
	return ans[0] == 'T';
}
