/* xenstored transactions: private views, commit, abort, EAGAIN on
 * conflict, and watch events only on commit. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-common.h"
#include "xsd-fixture.h"

static char *read_str(struct xs_handle *h, xs_transaction_t t,
		      const char *path)
{
	unsigned int len;

	return xs_read(h, t, path, &len);
}

/* @path reads as @want through @t. */
static void assert_value(struct xs_handle *h, xs_transaction_t t,
			 const char *path, const char *want)
{
	char *v = read_str(h, t, path);

	ck_assert_str_eq(v, want);
	free(v);
}

START_TEST(test_writes_in_a_transaction_are_private_until_commit)
{
	struct xs_handle *a = xsd_fix_open(0);
	struct xs_handle *b = xsd_fix_open(0);
	xs_transaction_t t;

	ck_assert(xs_write(a, XBT_NULL, "/tool/k", "old", 3));
	t = xs_transaction_start(a);
	ck_assert_uint_ne(t, XBT_NULL);
	ck_assert(xs_write(a, t, "/tool/k", "new", 3));
	ck_assert(xs_write(a, t, "/tool/n/deep", "d", 1));
	assert_value(a, t, "/tool/k", "new");
	assert_value(b, XBT_NULL, "/tool/k", "old");
	XSD_FAILS(read_str(b, XBT_NULL, "/tool/n/deep"), ENOENT);
	ck_assert(xs_transaction_end(a, t, false));
	assert_value(b, XBT_NULL, "/tool/k", "new");
	assert_value(b, XBT_NULL, "/tool/n/deep", "d");
	xs_close(b);
	xs_close(a);
}
END_TEST

START_TEST(test_abort_discards_every_change)
{
	struct xs_handle *h = xsd_fix_open(0);
	xs_transaction_t t;
	unsigned int num;
	char **dir;

	ck_assert(xs_write(h, XBT_NULL, "/tool/keep/x", "1", 1));
	t = xs_transaction_start(h);
	ck_assert(xs_rm(h, t, "/tool/keep"));
	ck_assert(xs_write(h, t, "/tool/gone", "1", 1));
	XSD_FAILS(read_str(h, t, "/tool/keep/x"), ENOENT);
	ck_assert(xs_transaction_end(h, t, true));
	assert_value(h, XBT_NULL, "/tool/keep/x", "1");
	dir = xs_directory(h, XBT_NULL, "/tool", &num);
	ck_assert_uint_eq(num, 1);
	ck_assert_str_eq(dir[0], "keep");
	free(dir);
	/* The id is gone after the end. */
	XSD_FAILS(xs_transaction_end(h, t, false), ENOENT);
	xs_close(h);
}
END_TEST

START_TEST(test_conflicting_commit_fails_with_eagain)
{
	struct xs_handle *a = xsd_fix_open(0);
	struct xs_handle *b = xsd_fix_open(0);
	xs_transaction_t t;

	ck_assert(xs_write(a, XBT_NULL, "/tool/c", "0", 1));
	t = xs_transaction_start(a);
	free(read_str(a, t, "/tool/c"));
	ck_assert(xs_write(a, t, "/tool/c", "a", 1));
	ck_assert(xs_write(b, XBT_NULL, "/tool/c", "b", 1));
	XSD_FAILS(xs_transaction_end(a, t, false), EAGAIN);
	assert_value(b, XBT_NULL, "/tool/c", "b");
	xs_close(b);
	xs_close(a);
}
END_TEST

START_TEST(test_read_only_dependency_conflicts_too)
{
	struct xs_handle *a = xsd_fix_open(0);
	struct xs_handle *b = xsd_fix_open(0);
	xs_transaction_t t;

	ck_assert(xs_write(a, XBT_NULL, "/tool/src", "1", 1));
	t = xs_transaction_start(a);
	free(read_str(a, t, "/tool/src"));
	ck_assert(xs_write(a, t, "/tool/dst", "1", 1));
	ck_assert(xs_rm(b, XBT_NULL, "/tool/src"));
	XSD_FAILS(xs_transaction_end(a, t, false), EAGAIN);
	XSD_FAILS(read_str(b, XBT_NULL, "/tool/dst"), ENOENT);
	xs_close(b);
	xs_close(a);
}
END_TEST

START_TEST(test_unrelated_changes_do_not_conflict)
{
	struct xs_handle *a = xsd_fix_open(0);
	struct xs_handle *b = xsd_fix_open(0);
	xs_transaction_t t;

	ck_assert(xs_write(a, XBT_NULL, "/tool/p/x", "1", 1));
	ck_assert(xs_write(a, XBT_NULL, "/tool/q", "1", 1));
	t = xs_transaction_start(a);
	ck_assert(xs_write(a, t, "/tool/p/x", "2", 1));
	ck_assert(xs_write(b, XBT_NULL, "/tool/q", "3", 1));
	ck_assert(xs_transaction_end(a, t, false));
	assert_value(b, XBT_NULL, "/tool/p/x", "2");
	xs_close(b);
	xs_close(a);
}
END_TEST

START_TEST(test_two_transactions_creating_siblings_conflict_on_the_parent)
{
	struct xs_handle *a = xsd_fix_open(0);
	struct xs_handle *b = xsd_fix_open(0);
	xs_transaction_t ta, tb;
	unsigned int num;
	char **dir;

	ck_assert(xs_mkdir(a, XBT_NULL, "/tool/dir"));
	ta = xs_transaction_start(a);
	tb = xs_transaction_start(b);
	ck_assert_uint_ne(ta, tb);
	ck_assert(xs_write(a, ta, "/tool/dir/a", "", 0));
	ck_assert(xs_write(b, tb, "/tool/dir/b", "", 0));
	ck_assert(xs_transaction_end(a, ta, false));
	XSD_FAILS(xs_transaction_end(b, tb, false), EAGAIN);
	/* Retrying, as every xenstore client does, succeeds. */
	tb = xs_transaction_start(b);
	ck_assert(xs_write(b, tb, "/tool/dir/b", "", 0));
	ck_assert(xs_transaction_end(b, tb, false));
	dir = xs_directory(a, XBT_NULL, "/tool/dir", &num);
	ck_assert_uint_eq(num, 2);
	ck_assert_str_eq(dir[0], "a");
	ck_assert_str_eq(dir[1], "b");
	free(dir);
	xs_close(b);
	xs_close(a);
}
END_TEST

START_TEST(test_watch_events_fire_on_commit_not_before)
{
	struct xs_handle *w = xsd_fix_open(0);
	struct xs_handle *h = xsd_fix_open(0);
	xs_transaction_t t;
	char **vec;

	ck_assert(xs_watch(w, "/tool/ev", "tok"));
	ck_assert(xsd_fix_event(w, 2000, &vec));
	free(vec);
	t = xs_transaction_start(h);
	ck_assert(xs_write(h, t, "/tool/ev/a", "", 0));
	ck_assert(!xsd_fix_event(w, 100, &vec));
	ck_assert(xs_transaction_end(h, t, false));
	ck_assert(xsd_fix_event(w, 2000, &vec));
	ck_assert_str_eq(vec[0], "/tool/ev/a");
	ck_assert_str_eq(vec[1], "tok");
	free(vec);
	/* An aborted transaction fires nothing. */
	t = xs_transaction_start(h);
	ck_assert(xs_write(h, t, "/tool/ev/b", "", 0));
	ck_assert(xs_transaction_end(h, t, true));
	ck_assert(!xsd_fix_event(w, 100, &vec));
	xs_close(h);
	xs_close(w);
}
END_TEST

START_TEST(test_transaction_respects_permissions_and_relative_paths)
{
	struct xs_handle *h1 = xsd_fix_open(1);
	struct xs_handle *h0 = xsd_fix_open(0);
	xs_transaction_t t;

	t = xs_transaction_start(h1);
	ck_assert(xs_write(h1, t, "data/ring-ref", "42", 2));
	XSD_FAILS(xs_write(h1, t, "/local/domain/2/data/x", "", 0), EACCES);
	ck_assert(xs_transaction_end(h1, t, false));
	assert_value(h0, XBT_NULL, "/local/domain/1/data/ring-ref", "42");
	xs_close(h0);
	xs_close(h1);
}
END_TEST

START_TEST(test_unknown_transaction_id_is_enoent)
{
	struct xs_handle *h = xsd_fix_open(0);

	XSD_FAILS(xs_write(h, 12345, "/tool/x", "", 0), ENOENT);
	xs_close(h);
}
END_TEST

START_TEST(test_transaction_of_another_connection_is_not_usable)
{
	struct xs_handle *a = xsd_fix_open(0);
	struct xs_handle *b = xsd_fix_open(0);
	xs_transaction_t t = xs_transaction_start(a);

	XSD_FAILS(xs_write(b, t, "/tool/x", "", 0), ENOENT);
	ck_assert(xs_transaction_end(a, t, true));
	xs_close(b);
	xs_close(a);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xsd-txn");
	TCase *tc = tcase_create("txn");

	tcase_add_checked_fixture(tc, xsd_fix_start, xsd_fix_stop);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_writes_in_a_transaction_are_private_until_commit);
	tcase_add_test(tc, test_abort_discards_every_change);
	tcase_add_test(tc, test_conflicting_commit_fails_with_eagain);
	tcase_add_test(tc, test_read_only_dependency_conflicts_too);
	tcase_add_test(tc, test_unrelated_changes_do_not_conflict);
	tcase_add_test(tc, test_two_transactions_creating_siblings_conflict_on_the_parent);
	tcase_add_test(tc, test_watch_events_fire_on_commit_not_before);
	tcase_add_test(tc, test_transaction_respects_permissions_and_relative_paths);
	tcase_add_test(tc, test_unknown_transaction_id_is_enoent);
	tcase_add_test(tc, test_transaction_of_another_connection_is_not_usable);
	suite_add_tcase(s, tc);
	return s;
}
