/*
 * The real C xenstored as a PV domU sees it, through libxenstore on
 * /dev/xen/xenbus: the guest-side permission rules that
 * tests/xenstored/test-xsd-perms.c checks on the simulator's store, with
 * the same expected errors. dom0's nodes play the other domain's.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "test-common.h"

static struct xs_handle *h;
static char self[16];

static void setup(void)
{
	unsigned int len;
	char *v;

	h = xs_open(0);
	ck_assert_ptr_nonnull(h);
	v = xs_read(h, XBT_NULL, "domid", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_gt(atoi(v), 0);
	snprintf(self, sizeof(self), "%s", v);
	free(v);
}

static void teardown(void)
{
	xs_rm(h, XBT_NULL, "data/xv-x");
	xs_close(h);
}

START_TEST(test_another_domains_private_node_cannot_be_read_written_or_removed)
{
	unsigned int len, num;

	errno = 0;
	ck_assert_ptr_null(xs_read(h, XBT_NULL, "/local/domain/0/domid", &len));
	ck_assert_int_eq(errno, EACCES);
	errno = 0;
	ck_assert(!xs_write(h, XBT_NULL, "/local/domain/0/domid", "x", 1));
	ck_assert_int_eq(errno, EACCES);
	errno = 0;
	ck_assert_ptr_null(xs_directory(h, XBT_NULL, "/local/domain/0", &num));
	ck_assert_int_eq(errno, EACCES);
	errno = 0;
	ck_assert(!xs_rm(h, XBT_NULL, "/local/domain/0/domid"));
	ck_assert_int_eq(errno, EACCES);
}
END_TEST

START_TEST(test_missing_node_under_unreadable_parent_is_eacces)
{
	unsigned int len;

	errno = 0;
	ck_assert_ptr_null(xs_read(h, XBT_NULL, "/local/domain/0/data/none",
				   &len));
	ck_assert_int_eq(errno, EACCES);
	errno = 0;
	ck_assert(!xs_write(h, XBT_NULL, "/local/domain/0/data/new", "", 0));
	ck_assert_int_eq(errno, EACCES);
	errno = 0;
	ck_assert(!xs_write(h, XBT_NULL, "/tool/new", "", 0));
	ck_assert_int_eq(errno, EACCES);
}
END_TEST

START_TEST(test_guest_owns_the_nodes_it_creates)
{
	struct xs_permissions *p;
	unsigned int num = 0;

	ck_assert(xs_write(h, XBT_NULL, "data/xv-x/a", "1", 1));
	p = xs_get_permissions(h, XBT_NULL, "data/xv-x/a", &num);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(num, 1);
	ck_assert_uint_eq(p[0].id, (unsigned int)atoi(self));
	ck_assert_uint_eq(p[0].perms, XS_PERM_NONE);
	free(p);
}
END_TEST

START_TEST(test_guest_cannot_give_a_node_away_or_chmod_others)
{
	struct xs_permissions to0[] = { { 0, XS_PERM_NONE } };
	struct xs_permissions mine[] = { { (unsigned int)atoi(self), XS_PERM_READ } };

	ck_assert(xs_write(h, XBT_NULL, "data/xv-x", "", 0));
	errno = 0;
	ck_assert(!xs_set_permissions(h, XBT_NULL, "data/xv-x", to0, 1));
	ck_assert_int_eq(errno, EPERM);
	/* Readable (the home grants read) but not its own. */
	errno = 0;
	ck_assert(!xs_set_permissions(h, XBT_NULL, "domid", mine, 1));
	ck_assert_int_eq(errno, EACCES);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xen-xenstore-guest");
	TCase *tc = tcase_create("guest");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_another_domains_private_node_cannot_be_read_written_or_removed);
	tcase_add_test(tc, test_missing_node_under_unreadable_parent_is_eacces);
	tcase_add_test(tc, test_guest_owns_the_nodes_it_creates);
	tcase_add_test(tc, test_guest_cannot_give_a_node_away_or_chmod_others);
	suite_add_tcase(s, tc);
	return s;
}
