/* Message framing of the control protocol (proto.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

int xv_sim_send(int sock, const struct xv_sim_msg *msg, const int *fds,
		size_t nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * XV_SIM_MAX_FDS)];
	} control;
	struct iovec iov = {
		.iov_base = (void *)msg,
		.iov_len = sizeof(*msg) + msg->count * sizeof(uint32_t),
	};
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (msg->count > XV_SIM_MAX_DATA || nfds > XV_SIM_MAX_FDS)
		return -E2BIG;
	if (nfds) {
		struct cmsghdr *cm;

		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == iov.iov_len ? 0 : -EPROTO;
}

int xv_sim_recv(int sock, struct xv_sim_msg *msg, int *fds, size_t maxfds,
		size_t *nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * XV_SIM_MAX_FDS)];
	} control;
	struct iovec iov = { .iov_base = msg, .iov_len = XV_SIM_MSG_MAX };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cm;
	size_t got = 0;
	ssize_t n;
	int err = 0;

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t i, k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (got < maxfds)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	if (nfds)
		*nfds = got;
	if (n == 0)
		err = -ECONNRESET;
	else if ((size_t)n < sizeof(*msg) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
		 msg->count > XV_SIM_MAX_DATA ||
		 (size_t)n != sizeof(*msg) + msg->count * sizeof(uint32_t))
		err = -EPROTO;
	if (err) {
		while (got)
			close(fds[--got]);
		if (nfds)
			*nfds = 0;
	}
	return err;
}

int xv_sim_state_dir(char *buf, size_t size)
{
	const char *env = getenv(XV_SIM_ENV_DIR);
	int n;

	if (env && *env)
		n = snprintf(buf, size, "%s", env);
	else if ((env = getenv("XDG_RUNTIME_DIR")) && *env)
		n = snprintf(buf, size, "%s/xvchan-sim", env);
	else
		n = snprintf(buf, size, "/tmp/xvchan-sim-%u", (unsigned)getuid());
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
