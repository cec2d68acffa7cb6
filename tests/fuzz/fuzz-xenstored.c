/*
 * libFuzzer target: the simulator's xenstored fed raw bytes on a real
 * connection, through its public interface only (sim/xenstored.h).
 *
 * Each input gets a fresh store with domains 0 and 1. The first byte picks
 * which domain's socket to speak on (bit 0: dom0 is privileged) and the
 * format of the rest (bit 1):
 * - raw: the byte stream a client sends before closing its half of the
 *   connection, headers and all;
 * - framed: records [u8 type][u8 tx_id][body] separated by the two bytes
 *   FE FF, sent as messages whose header length always matches the body:
 *   one inserted byte changes an operation's arguments instead of breaking
 *   the framing (a length field would need a second, matching mutation).
 * The daemon's event loop is run in-process until it has answered and
 * dropped the connection. Checked: no crash, leak or undefined behaviour
 * (sanitizers), progress within a bounded number of loop turns, and every
 * byte it sends back framed as xenstore messages of at most
 * XENSTORE_PAYLOAD_MAX bytes, ending on a message boundary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#include "fuzz.h"
#include "xenstored.h"

#define FZ_MAX_FDS 16
/* Far more loop turns than any input the store accepts can need. */
#define FZ_MAX_TURNS 20000

static char fz_dir[64];

/* Replies are parsed as they arrive: header bytes, then the body. */
struct framing {
	struct xsd_sockmsg hdr;
	size_t hdr_got;
	size_t body_left;
};

static void frame(struct framing *f, const uint8_t *buf, size_t n)
{
	while (n) {
		size_t k;

		if (f->hdr_got < sizeof(f->hdr)) {
			k = sizeof(f->hdr) - f->hdr_got;
			if (k > n)
				k = n;
			memcpy((uint8_t *)&f->hdr + f->hdr_got, buf, k);
			f->hdr_got += k;
			buf += k;
			n -= k;
			if (f->hdr_got < sizeof(f->hdr))
				return;
			FZ_CHECK(f->hdr.len <= XENSTORE_PAYLOAD_MAX);
			FZ_CHECK(f->hdr.type < XS_TYPE_COUNT ||
				 f->hdr.type == XS_ERROR);
			f->body_left = f->hdr.len;
		}
		k = f->body_left < n ? f->body_left : n;
		f->body_left -= k;
		buf += k;
		n -= k;
		if (f->body_left == 0)
			f->hdr_got = 0;
	}
}

static void remove_dir(void)
{
	/* xv_xsd_free() unlinked the sockets: the directory is empty. */
	rmdir(fz_dir);
}

static const char *sock_path(unsigned int domid)
{
	static char path[2][96];

	snprintf(path[domid], sizeof(path[domid]), "%s/d%u.sock", fz_dir,
		 domid);
	return path[domid];
}

static int dial(unsigned int domid)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	FZ_CHECK(fd >= 0);
	strcpy(addr.sun_path, sock_path(domid));
	FZ_CHECK(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	return fd;
}

/* Turn framed records into wire messages; returns a malloc'd stream. */
static uint8_t *frame_records(const uint8_t *data, size_t size, size_t *out)
{
	/* Every record adds one 16-byte header and drops >= 2 bytes. */
	uint8_t *buf = malloc(size * 9 + 16);
	size_t n = 0, at = 0;
	uint32_t req = 1;

	FZ_CHECK(buf);
	while (at + 2 <= size) {
		struct xsd_sockmsg hdr = {
			.type = data[at], .req_id = req++, .tx_id = data[at + 1],
		};
		size_t end = at + 2, len;

		while (end < size &&
		       !(data[end] == 0xfe && end + 1 < size &&
			 data[end + 1] == 0xff))
			end++;
		len = end - at - 2;
		if (len > XENSTORE_PAYLOAD_MAX)
			len = XENSTORE_PAYLOAD_MAX;
		hdr.len = (uint32_t)len;
		memcpy(buf + n, &hdr, sizeof(hdr));
		memcpy(buf + n + sizeof(hdr), data + at + 2, len);
		n += sizeof(hdr) + len;
		at = end + 2;
	}
	*out = n;
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct framing f = { .hdr_got = 0 };
	struct pollfd fds[FZ_MAX_FDS + 1];
	struct xv_xsd *xsd;
	uint8_t *framed = NULL;
	unsigned int domid, turn;
	size_t sent = 0;
	bool eof = false, shut = false;
	int fd;

	if (!fz_dir[0]) {
		strcpy(fz_dir, "/tmp/xv-fuzz-xsd-XXXXXX");
		FZ_CHECK(mkdtemp(fz_dir));
		atexit(remove_dir);
	}
	if (size == 0)
		return 0;
	domid = data[0] & 1;
	if (data[0] & 2) {
		framed = frame_records(data + 1, size - 1, &size);
		data = framed;
	} else {
		data++;
		size--;
	}

	FZ_CHECK(xv_xsd_new(&xsd, NULL) == 0);
	FZ_CHECK(xv_xsd_domain_introduce(xsd, 0, "Domain-0", sock_path(0)) == 0);
	FZ_CHECK(xv_xsd_domain_introduce(xsd, 1, "one", sock_path(1)) == 0);
	fd = dial(domid);

	for (turn = 0; !eof; turn++) {
		uint8_t buf[8192];
		size_t n;
		ssize_t r;

		FZ_CHECK(turn < FZ_MAX_TURNS);
		if (sent < size) {
			r = send(fd, data + sent, size - sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r > 0)
				sent += (size_t)r;
			/* A dropped connection refuses the rest: fine. */
			else if (r < 0 && errno != EAGAIN)
				sent = size;
		}
		if (sent == size && !shut) {
			shutdown(fd, SHUT_WR);
			shut = true;
		}
		n = xv_xsd_pollfds(xsd, fds, FZ_MAX_FDS);
		if (poll(fds, n, 1) > 0)
			xv_xsd_dispatch(xsd, fds, n);
		for (;;) {
			r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r > 0) {
				frame(&f, buf, (size_t)r);
				continue;
			}
			if (r == 0 || (errno != EAGAIN && errno != EINTR))
				eof = true;
			break;
		}
	}
	/* Every reply complete: nothing cut off mid-message. */
	FZ_CHECK(f.hdr_got == 0);
	close(fd);
	xv_xsd_free(xsd);
	free(framed);
	return 0;
}
