/*
 * The real C xenstored of Xen 4.17, from dom0, through libxenstore: a
 * focused subset of what tests/xenstored/ checks on the simulator's
 * store (nodes, transactions, watches, and the permissions libxl gives a
 * domU's home, XV_XEN_DOMU), with the same expected values.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "test-common.h"

static struct xs_handle *h;

static void setup(void)
{
	h = xs_open(0);
	ck_assert_ptr_nonnull(h);
	/* Left over only if an earlier test of this run failed midway. */
	xs_rm(h, XBT_NULL, "/tool/xv");
}

static void teardown(void)
{
	xs_rm(h, XBT_NULL, "/tool/xv");
	xs_close(h);
}

static unsigned int domu(void)
{
	const char *s = getenv("XV_XEN_DOMU");

	ck_assert_msg(s && atoi(s) > 0, "XV_XEN_DOMU must name the domU");
	return (unsigned int)atoi(s);
}

START_TEST(test_write_then_read_returns_the_exact_bytes)
{
	static const char data[] = { 'a', 0, 'b', (char)0xff };
	unsigned int len = 99;
	char *v;

	ck_assert(xs_write(h, XBT_NULL, "/tool/xv/x", data, sizeof(data)));
	v = xs_read(h, XBT_NULL, "/tool/xv/x", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, sizeof(data));
	ck_assert_mem_eq(v, data, sizeof(data));
	free(v);
	ck_assert(xs_write(h, XBT_NULL, "/tool/xv/x", "", 0));
	v = xs_read(h, XBT_NULL, "/tool/xv/x", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 0);
	free(v);
	errno = 0;
	ck_assert_ptr_null(xs_read(h, XBT_NULL, "/tool/xv/nothing", &len));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_deep_write_creates_missing_parents_empty)
{
	unsigned int len = 99, num = 0;
	char **dir;
	char *v;

	ck_assert(xs_write(h, XBT_NULL, "/tool/xv/a/b/c", "v", 1));
	v = xs_read(h, XBT_NULL, "/tool/xv/a/b", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 0);
	free(v);
	dir = xs_directory(h, XBT_NULL, "/tool/xv/a", &num);
	ck_assert_uint_eq(num, 1);
	ck_assert_str_eq(dir[0], "b");
	free(dir);
}
END_TEST

START_TEST(test_directory_lists_children_in_creation_order)
{
	unsigned int num = 0;
	char **dir;

	ck_assert(xs_write(h, XBT_NULL, "/tool/xv/d/zz", "", 0));
	ck_assert(xs_mkdir(h, XBT_NULL, "/tool/xv/d/aa"));
	ck_assert(xs_write(h, XBT_NULL, "/tool/xv/d/mm", "1", 1));
	dir = xs_directory(h, XBT_NULL, "/tool/xv/d", &num);
	ck_assert_uint_eq(num, 3);
	ck_assert_str_eq(dir[0], "zz");
	ck_assert_str_eq(dir[1], "aa");
	ck_assert_str_eq(dir[2], "mm");
	free(dir);
}
END_TEST

START_TEST(test_rm_removes_the_subtree_and_needs_the_parent)
{
	unsigned int len;

	ck_assert(xs_write(h, XBT_NULL, "/tool/xv/r/a/b", "1", 1));
	ck_assert(xs_mkdir(h, XBT_NULL, "/tool/xv/m"));
	ck_assert(xs_rm(h, XBT_NULL, "/tool/xv/r"));
	errno = 0;
	ck_assert_ptr_null(xs_read(h, XBT_NULL, "/tool/xv/r/a/b", &len));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert(xs_rm(h, XBT_NULL, "/tool/xv/never"));
	errno = 0;
	ck_assert(!xs_rm(h, XBT_NULL, "/tool/xv/never/deeper"));
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert(!xs_rm(h, XBT_NULL, "/"));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_invalid_path_characters_are_einval)
{
	static const char *const bad[] = {
		"/tool/xv/a b", "/tool/xv/a//b", "/tool/xv/a/",
		"/tool/xv/\xc3\xa9", "/tool/xv/a.b", "@foo",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_msg(!xs_write(h, XBT_NULL, bad[i], "x", 1), "%s", bad[i]);
		ck_assert_int_eq(errno, EINVAL);
	}
	ck_assert(xs_write(h, XBT_NULL, "/tool/xv/A-z_0@9", "x", 1));
}
END_TEST

START_TEST(test_dom0_home_and_domain_paths)
{
	unsigned int len;
	char *v = xs_read(h, XBT_NULL, "name", &len);

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "Domain-0");
	free(v);
	v = xs_read(h, XBT_NULL, "domid", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "0");
	free(v);
	v = xs_get_domain_path(h, 7);
	ck_assert_str_eq(v, "/local/domain/7");
	free(v);
	ck_assert(xs_is_domain_introduced(h, domu()));
	ck_assert(!xs_is_domain_introduced(h, 999));
}
END_TEST

START_TEST(test_transaction_is_private_until_commit_and_conflicts_fail)
{
	xs_transaction_t t, u;
	unsigned int len;
	char *v;

	t = xs_transaction_start(h);
	ck_assert_uint_ne(t, XBT_NULL);
	ck_assert(xs_write(h, t, "/tool/xv/t", "in", 2));
	errno = 0;
	ck_assert_ptr_null(xs_read(h, XBT_NULL, "/tool/xv/t", &len));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert(xs_transaction_end(h, t, false));
	v = xs_read(h, XBT_NULL, "/tool/xv/t", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_mem_eq(v, "in", 2);
	free(v);

	t = xs_transaction_start(h);
	ck_assert(xs_write(h, t, "/tool/xv/t", "gone", 4));
	ck_assert(xs_transaction_end(h, t, true));
	v = xs_read(h, XBT_NULL, "/tool/xv/t", &len);
	ck_assert_mem_eq(v, "in", 2);
	free(v);

	t = xs_transaction_start(h);
	u = xs_transaction_start(h);
	v = xs_read(h, t, "/tool/xv/t", &len);
	free(v);
	ck_assert(xs_write(h, t, "/tool/xv/t", "t1", 2));
	ck_assert(xs_write(h, u, "/tool/xv/t", "u1", 2));
	ck_assert(xs_transaction_end(h, u, false));
	errno = 0;
	ck_assert(!xs_transaction_end(h, t, false));
	ck_assert_int_eq(errno, EAGAIN);
	v = xs_read(h, XBT_NULL, "/tool/xv/t", &len);
	ck_assert_mem_eq(v, "u1", 2);
	free(v);
}
END_TEST

/* The next watch event within @ms, or NULL. */
static char **event(int ms)
{
	struct pollfd pfd = { .fd = xs_fileno(h), .events = POLLIN };
	unsigned int num;

	if (poll(&pfd, 1, ms) != 1)
		return NULL;
	return xs_read_watch(h, &num);
}

START_TEST(test_watch_fires_at_registration_then_for_the_subtree_only)
{
	char **ev;

	ck_assert(xs_write(h, XBT_NULL, "/tool/xv/w", "", 0));
	ck_assert(xs_watch(h, "/tool/xv/w", "tok"));
	ev = event(5000);
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(ev[XS_WATCH_PATH], "/tool/xv/w");
	ck_assert_str_eq(ev[XS_WATCH_TOKEN], "tok");
	free(ev);
	ck_assert(xs_write(h, XBT_NULL, "/tool/xv/other", "1", 1));
	ck_assert(xs_write(h, XBT_NULL, "/tool/xv/w/child", "1", 1));
	ev = event(5000);
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(ev[XS_WATCH_PATH], "/tool/xv/w/child");
	free(ev);
	ck_assert_ptr_null(event(200));
	ck_assert(xs_unwatch(h, "/tool/xv/w", "tok"));
}
END_TEST

static void assert_perms(const char *path, const struct xs_permissions *want,
			 unsigned int n)
{
	unsigned int num = 0;
	struct xs_permissions *p = xs_get_permissions(h, XBT_NULL, path, &num);

	ck_assert_msg(p != NULL, "get perms %s: errno %d", path, errno);
	ck_assert_uint_eq(num, n);
	for (unsigned int i = 0; i < n; i++) {
		ck_assert_uint_eq(p[i].id, want[i].id);
		ck_assert_uint_eq(p[i].perms, want[i].perms);
	}
	free(p);
}

START_TEST(test_domu_home_is_dom0_owned_and_data_is_the_domus)
{
	unsigned int d = domu();
	struct xs_permissions home[] = { { 0, XS_PERM_NONE }, { d, XS_PERM_READ } };
	struct xs_permissions data[] = { { d, XS_PERM_NONE } };
	char path[64];

	snprintf(path, sizeof(path), "/local/domain/%u", d);
	assert_perms(path, home, 2);
	snprintf(path, sizeof(path), "/local/domain/%u/domid", d);
	assert_perms(path, home, 2);
	snprintf(path, sizeof(path), "/local/domain/%u/data", d);
	assert_perms(path, data, 1);
	/* xenstored gives a new node to its creator only for guests. */
	snprintf(path, sizeof(path), "/local/domain/%u/data/xv-by0", d);
	ck_assert(xs_write(h, XBT_NULL, path, "", 0));
	assert_perms(path, data, 1);
	ck_assert(xs_rm(h, XBT_NULL, path));
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xen-xenstore");
	TCase *tc = tcase_create("xenstore");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_write_then_read_returns_the_exact_bytes);
	tcase_add_test(tc, test_deep_write_creates_missing_parents_empty);
	tcase_add_test(tc, test_directory_lists_children_in_creation_order);
	tcase_add_test(tc, test_rm_removes_the_subtree_and_needs_the_parent);
	tcase_add_test(tc, test_invalid_path_characters_are_einval);
	tcase_add_test(tc, test_dom0_home_and_domain_paths);
	tcase_add_test(tc, test_transaction_is_private_until_commit_and_conflicts_fail);
	tcase_add_test(tc, test_watch_fires_at_registration_then_for_the_subtree_only);
	tcase_add_test(tc, test_domu_home_is_dom0_owned_and_data_is_the_domus);
	suite_add_tcase(s, tc);
	return s;
}
