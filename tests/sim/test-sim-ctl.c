/* The daemon's control socket against clients that break the protocol:
 * each gets an error or loses its connection, and the daemon serves on. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "sim-daemon.h"
#include "test-common.h"
#include "test-sim.h"

/* The daemon still serves a real domain program. */
static void still_serving(void)
{
	/* A silent command: our stdout is the TAP stream. */
	pid_t pid = xv_test_spawn(1, (char *[]){ "xenstore-write", "data/alive",
						 "yes", NULL });

	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
}

START_TEST(test_a_short_message_drops_the_connection)
{
	int fd = sim_ctl_connect();
	char buf[64];

	ck_assert_int_eq(send(fd, "abc", 3, 0), 3);
	ck_assert_int_eq(recv(fd, buf, sizeof(buf), 0), 0);
	close(fd);
	still_serving();
}
END_TEST

START_TEST(test_a_count_beyond_the_message_drops_the_connection)
{
	struct xv_sim_msg req = { .op = XV_SIM_DOMAIN_LIST, .count = 5 };
	int fd = sim_ctl_connect();
	char buf[64];

	ck_assert_int_eq(send(fd, &req, sizeof(req), 0), sizeof(req));
	ck_assert_int_eq(recv(fd, buf, sizeof(buf), 0), 0);
	close(fd);
	still_serving();
}
END_TEST

START_TEST(test_requests_before_hello_are_refused)
{
	struct xv_sim_msg req = { .op = XV_SIM_EVT_OPEN };
	int fd = sim_ctl_connect();

	ck_assert_int_eq(sim_ctl_call(fd, &req), -EPROTO);
	req.op = 999;
	ck_assert_int_eq(sim_ctl_call(fd, &req), -EPROTO);
	close(fd);
	still_serving();
}
END_TEST

START_TEST(test_hello_checks_version_and_domain)
{
	struct xv_sim_msg req = { .op = XV_SIM_HELLO };
	int fd = sim_ctl_connect();

	req.arg[0] = XV_SIM_PROTO_VERSION + 1;
	req.arg[1] = 1;
	ck_assert_int_eq(sim_ctl_call(fd, &req), -EPROTONOSUPPORT);
	req.arg[0] = XV_SIM_PROTO_VERSION;
	req.arg[1] = 9;		/* never created */
	ck_assert_int_eq(sim_ctl_call(fd, &req), -ESRCH);
	req.arg[1] = 0x7ff0;	/* not a domain id */
	ck_assert_int_eq(sim_ctl_call(fd, &req), -ESRCH);
	close(fd);
	still_serving();
}
END_TEST

START_TEST(test_a_tool_connection_holds_no_resources)
{
	struct xv_sim_msg req = { .op = XV_SIM_HELLO };
	int fd = sim_ctl_connect();

	req.arg[0] = XV_SIM_PROTO_VERSION;
	req.arg[1] = 0xffffffffu;
	ck_assert_int_eq(sim_ctl_call(fd, &req), 0);
	ck_assert_int_eq(sim_ctl_call(fd, &req), -EPROTO);	/* HELLO twice */
	memset(&req, 0, sizeof(req));
	req.op = XV_SIM_EVT_OPEN;
	ck_assert_int_eq(sim_ctl_call(fd, &req), -EPERM);
	req.op = XV_SIM_GNT_UNSHARE;
	ck_assert_int_eq(sim_ctl_call(fd, &req), -EPERM);
	req.op = XV_SIM_DOMAIN_CREATE;
	req.arg[0] = 0x7ff0;
	ck_assert_int_eq(sim_ctl_call(fd, &req), -EINVAL);
	req.arg[0] = 7;
	ck_assert_int_eq(sim_ctl_call(fd, &req), 0);
	close(fd);
	still_serving();
}
END_TEST

START_TEST(test_a_domain_cannot_touch_another_processes_handles)
{
	struct xv_sim_msg req = { .op = XV_SIM_HELLO };
	struct xv_sim_msg rep;
	int a = sim_ctl_connect(), b = sim_ctl_connect(), fd;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	uint32_t handle;

	req.arg[0] = XV_SIM_PROTO_VERSION;
	req.arg[1] = 1;
	for (fd = a; ; fd = b) {
		ck_assert_int_eq(send(fd, &req, sizeof(req), 0), sizeof(req));
		mh.msg_controllen = sizeof(cbuf);
		ck_assert_int_eq(recvmsg(fd, &mh, 0), sizeof(rep));
		ck_assert_int_eq(rep.err, 0);
		/* The event table came along: close our copy. */
		ck_assert_int_eq(mh.msg_controllen, CMSG_SPACE(sizeof(int)));
		memcpy(&handle, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
		close((int)handle);
		if (fd == b)
			break;
	}
	memset(&req, 0, sizeof(req));
	req.op = XV_SIM_EVT_OPEN;
	ck_assert_int_eq(send(a, &req, sizeof(req), 0), sizeof(req));
	ck_assert_int_eq(recv(a, &rep, sizeof(rep), 0), sizeof(rep));
	ck_assert_int_eq(rep.err, 0);
	handle = rep.arg[0];
	ck_assert_uint_ne(handle, 0);
	/* Same domain, other process: the handle is not b's. */
	req.op = XV_SIM_EVT_BIND_UNBOUND;
	req.arg[0] = handle;
	req.arg[1] = 2;
	ck_assert_int_eq(sim_ctl_call(b, &req), -EBADF);
	req.op = XV_SIM_EVT_CLOSE;
	ck_assert_int_eq(sim_ctl_call(b, &req), -EBADF);
	ck_assert_int_eq(sim_ctl_call(a, &req), 0);
	ck_assert_int_eq(sim_ctl_call(a, &req), -EBADF);
	close(a);
	close(b);
	still_serving();
}
END_TEST

/* HELLO as domain 1 on @fd; the event table's descriptor, and the
 * daemon's pid, from the reply. */
static int hello_as_domain(int fd, pid_t *daemon)
{
	struct xv_sim_msg req = { .op = XV_SIM_HELLO }, rep;
	int tab = -1;
	size_t n = 0;

	req.arg[0] = XV_SIM_PROTO_VERSION;
	req.arg[1] = 1;
	ck_assert_int_eq(xv_sim_send(fd, &req, NULL, 0), 0);
	ck_assert_int_eq(xv_sim_recv(fd, &rep, &tab, 1, &n), 0);
	ck_assert_int_eq(rep.err, 0);
	ck_assert_uint_eq(n, 1);
	if (daemon)
		*daemon = (pid_t)rep.arg[2];
	return tab;
}

/* Every domain gets the event table read-write: it may scribble on the
 * words, but not truncate the daemon's mapping away (SIGBUS). */
START_TEST(test_the_event_table_cannot_be_truncated)
{
	int fd = sim_ctl_connect(), tab = hello_as_domain(fd, NULL);
	struct xv_sim_msg req = { .op = XV_SIM_EVT_OPEN };

	ck_assert_int_lt(ftruncate(tab, 0), 0);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_lt(ftruncate(tab, 1 << 30), 0);
	/* The daemon writes the table on open: it is still there. */
	ck_assert_int_eq(sim_ctl_call(fd, &req), 0);
	close(tab);
	close(fd);
	still_serving();
}
END_TEST

/* Descriptors sent along with a request that takes none are closed, not
 * kept: the daemon's table cannot be filled by a domain that repeats. */
START_TEST(test_stray_descriptors_are_not_kept)
{
	struct xv_sim_msg req = { .op = XV_SIM_DOMAIN_LIST };
	int first = sim_ctl_connect(), tab, before, i;
	pid_t daemon;

	tab = hello_as_domain(first, &daemon);
	close(tab);
	/* What a domain's program leaves in the daemon (its member entry),
	 * counted in before as after. */
	still_serving();
	before = xv_test_open_fds(daemon);
	for (i = 0; i < 20; i++) {
		int fd = sim_ctl_connect(), two[2] = { -1, -1 };
		struct xv_sim_msg rep;
		size_t n = 0;

		close(hello_as_domain(fd, NULL));
		ck_assert_int_eq(pipe(two), 0);
		ck_assert_int_eq(xv_sim_send(fd, &req, two, 2), 0);
		/* Refused: the connection goes. */
		ck_assert_int_lt(xv_sim_recv(fd, &rep, NULL, 0, &n), 0);
		close(two[0]);
		close(two[1]);
		close(fd);
	}
	still_serving();
	/* The daemon closes a dropped connection when it next looks: give
	 * it a moment; twenty kept descriptors would stay. */
	for (i = 0; i < 200 && xv_test_open_fds(daemon) > before; i++)
		usleep(10 * 1000);
	ck_assert_int_le(xv_test_open_fds(daemon), before);
	close(first);
}
END_TEST

/* HELLO as a tool on @fd: the daemon's pid, 0 if the daemon closed the
 * connection instead, or -1 if no answer came within 2 s. */
static pid_t tool_hello(int fd)
{
	struct xv_sim_msg req = {
		.op = XV_SIM_HELLO,
		.arg = { XV_SIM_PROTO_VERSION, XV_SIM_DOMID_TOOL,
			 (uint32_t)getpid() },
	}, rep;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	/* Refused before or after our send: either way no reply. */
	if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req))
		return 0;
	if (poll(&p, 1, 2000) != 1)
		return -1;
	n = recv(fd, &rep, sizeof(rep), 0);
	if (n <= 0)
		return 0;
	ck_assert_int_eq(n, sizeof(rep));
	ck_assert_int_eq(rep.err, 0);
	return (pid_t)rep.arg[2];
}

/* CPU time the daemon has used, in clock ticks. */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	/* After the command's name, which may hold spaces: field 3 on. */
	p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
				"%*u %*u %lu %lu", &ut, &st), 2);
	return (long)(ut + st);
}

static int highest_fd(pid_t pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	ck_assert_ptr_nonnull(dir);
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.' && atoi(d->d_name) > n)
			n = atoi(d->d_name);
	closedir(dir);
	return n;
}

/* Lower daemon @hv's descriptor limit to @slack above the highest it
 * holds; *old receives the limit to restore. */
static void squeeze(pid_t hv, int slack, struct rlimit *old)
{
	struct rlimit low;

	ck_assert_int_eq(prlimit(hv, RLIMIT_NOFILE, NULL, old), 0);
	low = *old;
	low.rlim_cur = (rlim_t)(highest_fd(hv) + 1 + slack);
	ck_assert_int_eq(prlimit(hv, RLIMIT_NOFILE, &low, NULL), 0);
}

/*
 * A daemon out of descriptors cannot accept: the connection stays
 * pending, poll() says so at once, forever.  It must turn such
 * connections away instead of spinning, and serve again once
 * descriptors are free.
 */
START_TEST(test_a_daemon_out_of_descriptors_refuses_and_recovers)
{
	int fds[32], n, i, refused = 0;
	struct rlimit old;
	pid_t hv;
	long t0;

	fds[0] = sim_ctl_connect();
	hv = tool_hello(fds[0]);
	ck_assert_int_gt(hv, 0);
	squeeze(hv, 4, &old);
	for (n = 1; n < 32 && !refused; n++) {
		pid_t r;

		fds[n] = sim_ctl_connect();
		r = tool_hello(fds[n]);
		ck_assert_int_ge(r, 0);		/* an answer, not a hang */
		refused = r == 0;
	}
	ck_assert(refused);
	/* One more waits in the backlog if the daemon still cannot take
	 * it: nothing must keep the daemon busy meanwhile. */
	fds[n] = sim_ctl_connect();
	t0 = cpu_ticks(hv);
	usleep(500 * 1000);
	ck_assert_int_lt(cpu_ticks(hv) - t0, sysconf(_SC_CLK_TCK) / 10);
	ck_assert_int_eq(tool_hello(fds[n]), 0);
	for (i = 1; i <= n; i++)
		close(fds[i]);
	ck_assert_int_eq(prlimit(hv, RLIMIT_NOFILE, &old, NULL), 0);
	fds[1] = sim_ctl_connect();
	ck_assert_int_eq(tool_hello(fds[1]), hv);
	close(fds[1]);
	close(fds[0]);
	still_serving();
}
END_TEST

/* HELLO as domain 1 on @fd: the reply's error (0: accepted; the event
 * table that comes along is closed), or 1 if the daemon closed the
 * connection instead of answering. */
static int domain_hello_answer(int fd)
{
	struct xv_sim_msg req = {
		.op = XV_SIM_HELLO,
		.arg = { XV_SIM_PROTO_VERSION, 1, (uint32_t)getpid() },
	}, rep;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int tab = -1;
	size_t n = 0;

	if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req))
		return 1;
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	if (xv_sim_recv(fd, &rep, &tab, 1, &n) != 0)
		return 1;
	if (n)
		close(tab);
	return rep.err;
}

/*
 * A domain's process is held by a pidfd, which a destroy kills by. A
 * HELLO the daemon has a descriptor to accept but none left for that
 * pidfd is refused (-EMFILE): accepted, its process could outlive a
 * destroy of its domain. Filled with tool connections (one descriptor
 * each) up to the refusal, then one of them closed, the daemon has
 * exactly the connection's descriptor free.
 */
START_TEST(test_a_domain_hello_without_room_for_its_pidfd_is_refused)
{
	int fds[64], n, tries, rc = 1;
	struct rlimit old;
	pid_t hv, r;

	fds[0] = sim_ctl_connect();
	hv = tool_hello(fds[0]);
	ck_assert_int_gt(hv, 0);
	squeeze(hv, 4, &old);
	for (n = 1, r = 1; n < 64 && r; n++) {
		fds[n] = sim_ctl_connect();
		r = tool_hello(fds[n]);
		ck_assert_int_ge(r, 0);
	}
	ck_assert_int_eq(r, 0);
	close(fds[--n]);	/* the refused one */
	close(fds[--n]);	/* its descriptor goes back to the daemon */
	/* Until the daemon has seen that close, it refuses at accept. */
	for (tries = 0; tries < 100 && rc == 1; tries++) {
		int fd = sim_ctl_connect();

		rc = domain_hello_answer(fd);
		close(fd);
		if (rc == 1)
			usleep(20 * 1000);
	}
	ck_assert_int_eq(rc, -EMFILE);
	while (n > 1)
		close(fds[--n]);
	ck_assert_int_eq(prlimit(hv, RLIMIT_NOFILE, &old, NULL), 0);
	close(fds[0]);
	still_serving();
}
END_TEST

static int xs_connect(unsigned int domid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/xenstore/%u",
		 xv_test_sim_dir(), domid);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* An XS_READ on @fd: 1 if the store answered, 0 if it closed the
 * connection instead, -1 if nothing came within 2 s. */
static int xs_probe(int fd)
{
	struct {
		struct xsd_sockmsg h;
		char path[6];
	} req = { { .type = XS_READ, .len = 6 }, "domid" };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[64];

	if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req))
		return 0;
	if (poll(&p, 1, 2000) != 1)
		return -1;
	return recv(fd, buf, sizeof(buf), 0) > 0;
}

/* The same for the xenstored's sockets.  Each connection costs two
 * descriptors (it and the pidfd a destroy kills by): with one slack more
 * or less, the daemon runs out at the accept or at the pidfd. */
START_TEST(test_a_xenstored_out_of_descriptors_refuses_and_recovers)
{
	int fds[64], ctl = sim_ctl_connect(), slack, n, i, refused;
	struct rlimit old;
	pid_t hv = tool_hello(ctl);
	long t0;

	ck_assert_int_gt(hv, 0);
	for (slack = 4; slack <= 5; slack++) {
		squeeze(hv, slack, &old);
		for (n = 0, refused = 0; n < 63 && !refused; n++) {
			int r;

			fds[n] = xs_connect(1);
			r = xs_probe(fds[n]);
			ck_assert_int_ge(r, 0);	/* an answer, not a hang */
			refused = r == 0;
		}
		ck_assert(refused);
		fds[n] = xs_connect(1);
		t0 = cpu_ticks(hv);
		usleep(300 * 1000);
		ck_assert_int_lt(cpu_ticks(hv) - t0, sysconf(_SC_CLK_TCK) / 10);
		ck_assert_int_eq(xs_probe(fds[n]), 0);
		for (i = 0; i <= n; i++)
			close(fds[i]);
		ck_assert_int_eq(prlimit(hv, RLIMIT_NOFILE, &old, NULL), 0);
		fds[0] = xs_connect(1);
		ck_assert_int_eq(xs_probe(fds[0]), 1);
		close(fds[0]);
	}
	close(ctl);
	still_serving();
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("sim-ctl");
	TCase *tc = tcase_create("ctl");

	tcase_add_checked_fixture(tc, xv_test_sim_start, xv_test_sim_stop);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_a_short_message_drops_the_connection);
	tcase_add_test(tc, test_a_count_beyond_the_message_drops_the_connection);
	tcase_add_test(tc, test_requests_before_hello_are_refused);
	tcase_add_test(tc, test_hello_checks_version_and_domain);
	tcase_add_test(tc, test_a_tool_connection_holds_no_resources);
	tcase_add_test(tc, test_a_domain_cannot_touch_another_processes_handles);
	tcase_add_test(tc, test_the_event_table_cannot_be_truncated);
	tcase_add_test(tc, test_stray_descriptors_are_not_kept);
	tcase_add_test(tc, test_a_daemon_out_of_descriptors_refuses_and_recovers);
	tcase_add_test(tc, test_a_xenstored_out_of_descriptors_refuses_and_recovers);
	tcase_add_test(tc,
		test_a_domain_hello_without_room_for_its_pidfd_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
