/* The daemon's control socket against clients that break the protocol:
 * each gets an error or loses its connection, and the daemon serves on. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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

static int open_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

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
	before = open_fds(daemon);
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
	for (i = 0; i < 200 && open_fds(daemon) > before; i++)
		usleep(10 * 1000);
	ck_assert_int_le(open_fds(daemon), before);
	close(first);
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
	suite_add_tcase(s, tc);
	return s;
}
