/* The daemon-facing side of the simulator's xenstored: store creation,
 * domain introduction errors, and the pollfds / dispatch contract, driven
 * by hand in one thread. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#include "test-common.h"
#include "xenstored.h"

static char dir[64];
static struct xv_xsd *xsd;

static void setup(void)
{
	strcpy(dir, "/tmp/xv-xsd-loop-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(xv_xsd_new(&xsd, NULL), 0);
}

static void teardown(void)
{
	xv_xsd_free(xsd);
	ck_assert_int_eq(rmdir(dir), 0);
}

static const char *sock(const char *name)
{
	static char path[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
	return path[i];
}

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	strcpy(addr.sun_path, path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
			 0);
	return fd;
}

/* One loop turn: poll (at most @ms) and dispatch. */
static size_t turn(int ms)
{
	struct pollfd fds[64];
	size_t n = xv_xsd_pollfds(xsd, fds, 64);

	ck_assert_uint_eq(n, xv_xsd_nfds(xsd));
	ck_assert_int_ge(poll(fds, n, ms), 0);
	xv_xsd_dispatch(xsd, fds, n);
	return n;
}

START_TEST(test_introduce_listens_and_release_unlinks_the_socket)
{
	struct stat st;

	ck_assert_int_eq(xv_xsd_domain_introduce(xsd, 3, "x", sock("d3")), 0);
	ck_assert_int_eq(stat(sock("d3"), &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(xv_xsd_nfds(xsd), 1);
	ck_assert_int_eq(xv_xsd_domain_release(xsd, 3), 0);
	ck_assert_int_eq(stat(sock("d3"), &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(xv_xsd_nfds(xsd), 0);
	ck_assert_int_eq(xv_xsd_domain_release(xsd, 3), -ENOENT);
}
END_TEST

START_TEST(test_introduce_errors_leave_no_domain_behind)
{
	char longpath[200];

	ck_assert_int_eq(xv_xsd_domain_introduce(xsd, 1, "a", sock("d1")), 0);
	ck_assert_int_eq(xv_xsd_domain_introduce(xsd, 1, "a", sock("other")),
			 -EEXIST);
	/* Someone else's socket file is not taken over. */
	ck_assert_int_eq(xv_xsd_domain_introduce(xsd, 2, "b", sock("d1")),
			 -EADDRINUSE);
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_eq(xv_xsd_domain_introduce(xsd, 2, "b", longpath),
			 -ENAMETOOLONG);
	ck_assert_int_eq(xv_xsd_domain_introduce(xsd, 2, "b",
						 "/nonexistent-dir/s"),
			 -ENOENT);
	ck_assert_uint_eq(xv_xsd_nfds(xsd), 1);
	ck_assert_int_eq(xv_xsd_domain_release(xsd, 2), -ENOENT);
	/* The failed id is free to use. */
	ck_assert_int_eq(xv_xsd_domain_introduce(xsd, 2, "b", sock("d2")), 0);
}
END_TEST

START_TEST(test_dispatch_accepts_answers_and_forgets_closed_clients)
{
	struct xsd_sockmsg hdr = { .type = XS_READ, .req_id = 9, .len = 6 };
	char buf[64];
	int fd;

	ck_assert_int_eq(xv_xsd_domain_introduce(xsd, 4, "four", sock("d4")),
			 0);
	fd = connect_to(sock("d4"));
	turn(1000);
	ck_assert_uint_eq(xv_xsd_nfds(xsd), 2);
	ck_assert_int_eq(write(fd, &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_int_eq(write(fd, "domid", 6), 6);
	turn(1000);
	ck_assert_int_eq(read(fd, &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_uint_eq(hdr.type, XS_READ);
	ck_assert_uint_eq(hdr.req_id, 9);
	ck_assert_uint_eq(hdr.len, 1);
	ck_assert_int_eq(read(fd, buf, 1), 1);
	ck_assert_int_eq(buf[0], '4');
	close(fd);
	turn(1000);
	ck_assert_uint_eq(xv_xsd_nfds(xsd), 1);
}
END_TEST

START_TEST(test_entries_left_out_for_want_of_room_wait_their_turn)
{
	struct pollfd fds[1];

	ck_assert_int_eq(xv_xsd_domain_introduce(xsd, 1, "a", sock("d1")), 0);
	ck_assert_int_eq(xv_xsd_domain_introduce(xsd, 2, "b", sock("d2")), 0);
	ck_assert_uint_eq(xv_xsd_nfds(xsd), 2);
	ck_assert_uint_eq(xv_xsd_pollfds(xsd, fds, 1), 1);
	ck_assert_int_eq(fds[0].events, POLLIN);
	ck_assert_uint_eq(xv_xsd_pollfds(xsd, fds, 0), 0);
}
END_TEST

START_TEST(test_release_between_poll_and_dispatch_is_safe)
{
	struct pollfd fds[8];
	size_t n;
	int fd;

	ck_assert_int_eq(xv_xsd_domain_introduce(xsd, 1, "a", sock("d1")), 0);
	fd = connect_to(sock("d1"));
	turn(1000);
	ck_assert_int_eq(write(fd, "garbage-bytes-xx", 16), 16);
	n = xv_xsd_pollfds(xsd, fds, 8);
	ck_assert_int_eq(poll(fds, n, 1000), 1);
	/* The daemon may release a domain after poll, before dispatch. */
	ck_assert_int_eq(xv_xsd_domain_release(xsd, 1), 0);
	ck_assert_int_eq(xv_xsd_domain_introduce(xsd, 1, "a", sock("d1")), 0);
	xv_xsd_dispatch(xsd, fds, n);
	ck_assert_uint_eq(xv_xsd_nfds(xsd), 1);
	close(fd);
}
END_TEST

START_TEST(test_adopted_socketpair_speaks_for_its_domain)
{
	struct xsd_sockmsg hdr = { .type = XS_READ, .req_id = 3, .len = 6 };
	char buf[8];
	int sv[2];

	ck_assert_int_eq(xv_xsd_domain_introduce(xsd, 6, "six", sock("d6")),
			 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	ck_assert_int_eq(xv_xsd_adopt_fd(xsd, 7, sv[1]), -ENOENT);
	/* The store closed its end even so. */
	ck_assert_int_eq(read(sv[0], buf, 1), 0);
	close(sv[0]);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	ck_assert_int_eq(xv_xsd_adopt_fd(xsd, 6, sv[1]), 0);
	ck_assert_uint_eq(xv_xsd_nfds(xsd), 2);
	ck_assert_int_eq(write(sv[0], &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_int_eq(write(sv[0], "domid", 6), 6);
	turn(1000);
	ck_assert_int_eq(read(sv[0], &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_uint_eq(hdr.type, XS_READ);
	ck_assert_uint_eq(hdr.len, 1);
	ck_assert_int_eq(read(sv[0], buf, 1), 1);
	ck_assert_int_eq(buf[0], '6');
	/* Released with its domain. */
	ck_assert_int_eq(xv_xsd_domain_release(xsd, 6), 0);
	ck_assert_int_eq(read(sv[0], buf, 1), 0);
	close(sv[0]);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xsd-loop");
	TCase *tc = tcase_create("loop");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_introduce_listens_and_release_unlinks_the_socket);
	tcase_add_test(tc, test_introduce_errors_leave_no_domain_behind);
	tcase_add_test(tc, test_dispatch_accepts_answers_and_forgets_closed_clients);
	tcase_add_test(tc, test_entries_left_out_for_want_of_room_wait_their_turn);
	tcase_add_test(tc, test_release_between_poll_and_dispatch_is_safe);
	tcase_add_test(tc, test_adopted_socketpair_speaks_for_its_domain);
	suite_add_tcase(s, tc);
	return s;
}
