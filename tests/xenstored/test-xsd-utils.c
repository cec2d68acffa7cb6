/* Debian's xenstore-utils binaries against the store, through
 * XENSTORED_PATH, as a user at a shell would use them. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-common.h"
#include "xsd-fixture.h"

struct child {
	pid_t pid;
	int out;
};

static struct child spawn(unsigned int domid, char *const argv[])
{
	struct child c;
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(setenv("XENSTORED_PATH", xsd_fix_sock(domid), 1), 0);
	c.pid = fork();
	ck_assert_int_ge(c.pid, 0);
	if (c.pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	c.out = p[0];
	return c;
}

/* Collect stdout (nul-terminated) and the exit status, within 5 s. */
static int finish(struct child c, char *out, size_t size)
{
	size_t got = 0;
	int status;

	for (;;) {
		struct pollfd p = { .fd = c.out, .events = POLLIN };
		ssize_t r;

		ck_assert_int_eq(poll(&p, 1, 5000), 1);
		r = read(c.out, out + got, size - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	out[got] = '\0';
	close(c.out);
	ck_assert_int_eq(waitpid(c.pid, &status, 0), c.pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int run(unsigned int domid, char *out, size_t size, char *const argv[])
{
	return finish(spawn(domid, argv), out, size);
}

#define RUN(domid, out, ...) \
	run(domid, out, sizeof(out), (char *const[]){ __VA_ARGS__, NULL })

START_TEST(test_write_read_ls_rm_round_trip)
{
	char out[4096];

	ck_assert_int_eq(RUN(0, out, "/usr/bin/xenstore-write",
			     "/tool/u/a", "hello", "/tool/u/b", "world"), 0);
	ck_assert_int_eq(RUN(0, out, "/usr/bin/xenstore-read", "/tool/u/a"),
			 0);
	ck_assert_str_eq(out, "hello\n");
	ck_assert_int_eq(RUN(0, out, "/usr/bin/xenstore-ls", "/tool/u"), 0);
	ck_assert_str_eq(out, "a = \"hello\"\nb = \"world\"\n");
	ck_assert_int_eq(RUN(0, out, "/usr/bin/xenstore-rm", "/tool/u/a"), 0);
	ck_assert_int_eq(RUN(0, out, "/usr/bin/xenstore-ls", "/tool/u"), 0);
	ck_assert_str_eq(out, "b = \"world\"\n");
	ck_assert_int_ne(RUN(0, out, "/usr/bin/xenstore-read", "/tool/u/a"),
			 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_ls_shows_the_tree_nested)
{
	char out[4096];

	ck_assert_int_eq(RUN(0, out, "/usr/bin/xenstore-write",
			     "/tool/t/x/y", "1"), 0);
	ck_assert_int_eq(RUN(0, out, "/usr/bin/xenstore-ls", "/tool/t"), 0);
	ck_assert_str_eq(out, "x = \"\"\n y = \"1\"\n");
}
END_TEST

START_TEST(test_chmod_sets_the_permission_list)
{
	char out[4096];
	struct xs_handle *h;
	struct xs_permissions *p;
	unsigned int num = 0;

	ck_assert_int_eq(RUN(0, out, "/usr/bin/xenstore-write",
			     "/tool/c", "v"), 0);
	ck_assert_int_eq(RUN(0, out, "/usr/bin/xenstore-chmod", "/tool/c",
			     "n1", "r2", "b3"), 0);
	h = xsd_fix_open(0);
	p = xs_get_permissions(h, XBT_NULL, "/tool/c", &num);
	ck_assert_uint_eq(num, 3);
	ck_assert_uint_eq(p[0].id, 1);
	ck_assert_uint_eq(p[0].perms, XS_PERM_NONE);
	ck_assert_uint_eq(p[1].id, 2);
	ck_assert_uint_eq(p[1].perms, XS_PERM_READ);
	ck_assert_uint_eq(p[2].id, 3);
	ck_assert_uint_eq(p[2].perms, XS_PERM_READ | XS_PERM_WRITE);
	free(p);
	xs_close(h);
	/* dom2 got read access, not write. */
	ck_assert_int_eq(RUN(2, out, "/usr/bin/xenstore-read", "/tool/c"), 0);
	ck_assert_str_eq(out, "v\n");
	ck_assert_int_ne(RUN(2, out, "/usr/bin/xenstore-write", "/tool/c",
			     "w"), 0);
}
END_TEST

START_TEST(test_guest_tools_use_relative_paths_and_are_confined)
{
	char out[4096];

	ck_assert_int_eq(RUN(1, out, "/usr/bin/xenstore-read", "domid"), 0);
	ck_assert_str_eq(out, "1\n");
	ck_assert_int_eq(RUN(1, out, "/usr/bin/xenstore-write", "data/k",
			     "from1"), 0);
	ck_assert_int_eq(RUN(0, out, "/usr/bin/xenstore-read",
			     "/local/domain/1/data/k"), 0);
	ck_assert_str_eq(out, "from1\n");
	ck_assert_int_ne(RUN(2, out, "/usr/bin/xenstore-read",
			     "/local/domain/1/data/k"), 0);
	ck_assert_int_ne(RUN(2, out, "/usr/bin/xenstore-rm",
			     "/local/domain/1/data/k"), 0);
	ck_assert_int_eq(RUN(1, out, "/usr/bin/xenstore-rm", "data/k"), 0);
}
END_TEST

START_TEST(test_watch_tool_prints_initial_and_change_events)
{
	char out[4096];
	struct child w;
	struct xs_handle *h = xsd_fix_open(0);

	w = spawn(0, (char *const[]){ "/usr/bin/xenstore-watch", "-n", "2",
				      "/tool/w", NULL });
	/* A write before the tool's watch exists would be missed: its
	 * first output line (the initial event) says the watch is set. */
	for (int i = 0; i < 200; i++) {
		struct pollfd p = { .fd = w.out, .events = POLLIN };

		if (poll(&p, 1, 10) == 1)
			break;
	}
	ck_assert(xs_write(h, XBT_NULL, "/tool/w/x", "1", 1));
	ck_assert_int_eq(finish(w, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/tool/w\n/tool/w/x\n");
	xs_close(h);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xsd-utils");
	TCase *tc = tcase_create("utils");

	tcase_add_checked_fixture(tc, xsd_fix_start, xsd_fix_stop);
	tcase_set_timeout(tc, 15);
	tcase_add_test(tc, test_write_read_ls_rm_round_trip);
	tcase_add_test(tc, test_ls_shows_the_tree_nested);
	tcase_add_test(tc, test_chmod_sets_the_permission_list);
	tcase_add_test(tc, test_guest_tools_use_relative_paths_and_are_confined);
	tcase_add_test(tc, test_watch_tool_prints_initial_and_change_events);
	suite_add_tcase(s, tc);
	return s;
}
