/* xenstored per-domain quotas: nodes, watches, transactions and value
 * size, with the errors xenstored gives, and dom0 exempt. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xsd-fixture.h"

static void start_small(void)
{
	static const struct xv_xsd_quota q = {
		.nodes = 10, .watches = 3, .transactions = 2, .entry_size = 16,
	};

	xsd_fix_start_quota(&q);
}

START_TEST(test_default_quota_is_xenstoreds)
{
	struct xv_xsd_quota q;

	xv_xsd_quota_default(&q);
	ck_assert_uint_eq(q.nodes, 1000);
	ck_assert_uint_eq(q.watches, 128);
	ck_assert_uint_eq(q.transactions, 10);
	ck_assert_uint_eq(q.entry_size, 2048);
}
END_TEST

START_TEST(test_node_quota_counts_owned_nodes_and_frees_on_rm)
{
	struct xs_handle *h = xsd_fix_open(1);
	char path[64];
	unsigned int len;

	/* dom1 already owns its "data" node: 9 more fit in 10. */
	for (int i = 0; i < 9; i++) {
		snprintf(path, sizeof(path), "data/n%d", i);
		ck_assert_msg(xs_write(h, XBT_NULL, path, "", 0), "%s", path);
	}
	XSD_FAILS(xs_write(h, XBT_NULL, "data/n9", "", 0), ENOSPC);
	/* Writing an existing node creates nothing. */
	ck_assert(xs_write(h, XBT_NULL, "data/n0", "v", 1));
	ck_assert(xs_rm(h, XBT_NULL, "data/n0"));
	/* One free slot does not fit a two-node deep write... */
	XSD_FAILS(xs_write(h, XBT_NULL, "data/a/b", "", 0), ENOSPC);
	/* ...and nothing of it was left behind. */
	XSD_FAILS(xs_read(h, XBT_NULL, "data/a", &len), ENOENT);
	ck_assert(xs_write(h, XBT_NULL, "data/a", "", 0));
	xs_close(h);
}
END_TEST

START_TEST(test_node_quota_holds_inside_a_transaction)
{
	struct xs_handle *h = xsd_fix_open(2);
	xs_transaction_t t = xs_transaction_start(h);
	char path[64];

	for (int i = 0; i < 9; i++) {
		snprintf(path, sizeof(path), "data/t%d", i);
		ck_assert(xs_write(h, t, path, "", 0));
	}
	XSD_FAILS(xs_write(h, t, "data/t9", "", 0), ENOSPC);
	ck_assert(xs_transaction_end(h, t, false));
	XSD_FAILS(xs_write(h, XBT_NULL, "data/after", "", 0), ENOSPC);
	xs_close(h);
}
END_TEST

START_TEST(test_dom0_is_exempt_from_quotas)
{
	struct xs_handle *h = xsd_fix_open(0);
	char path[64];
	static char big[1024];
	xs_transaction_t t[3];

	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "/tool/z%d", i);
		ck_assert(xs_write(h, XBT_NULL, path, big, sizeof(big)));
	}
	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/tool/z%d", i);
		ck_assert(xs_watch(h, path, "t"));
	}
	for (int i = 0; i < 3; i++) {
		t[i] = xs_transaction_start(h);
		ck_assert_uint_ne(t[i], XBT_NULL);
	}
	for (int i = 0; i < 3; i++)
		ck_assert(xs_transaction_end(h, t[i], true));
	xs_close(h);
}
END_TEST

START_TEST(test_watch_quota_is_e2big)
{
	struct xs_handle *h = xsd_fix_open(1);

	ck_assert(xs_watch(h, "data/a", "1"));
	ck_assert(xs_watch(h, "data/b", "2"));
	ck_assert(xs_watch(h, "data/c", "3"));
	XSD_FAILS(xs_watch(h, "data/d", "4"), E2BIG);
	ck_assert(xs_unwatch(h, "data/a", "1"));
	ck_assert(xs_watch(h, "data/d", "4"));
	xs_close(h);
}
END_TEST

/* C xenstored 4.17 refuses a transaction only when the connection already
 * holds more than the quota (do_transaction_start: '>'), so quota 2 lets
 * three be open and the fourth fails; on Xen a guest gets 11 of 10. */
START_TEST(test_transaction_quota_is_enospc)
{
	struct xs_handle *h = xsd_fix_open(1);
	xs_transaction_t a, b, c, d;

	a = xs_transaction_start(h);
	b = xs_transaction_start(h);
	c = xs_transaction_start(h);
	ck_assert_uint_ne(a, XBT_NULL);
	ck_assert_uint_ne(b, XBT_NULL);
	ck_assert_uint_ne(c, XBT_NULL);
	errno = 0;
	d = xs_transaction_start(h);
	ck_assert_uint_eq(d, XBT_NULL);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert(xs_transaction_end(h, a, true));
	d = xs_transaction_start(h);
	ck_assert_uint_ne(d, XBT_NULL);
	ck_assert(xs_transaction_end(h, b, true));
	ck_assert(xs_transaction_end(h, c, true));
	ck_assert(xs_transaction_end(h, d, true));
	xs_close(h);
}
END_TEST

/* The count tests/xen/test-xen-xenstore-guest.c measures on Xen 4.17. */
START_TEST(test_a_guest_gets_eleven_transactions_by_default)
{
	struct xs_handle *h = xsd_fix_open(1);
	xs_transaction_t t[11];

	for (int i = 0; i < 11; i++) {
		t[i] = xs_transaction_start(h);
		ck_assert_msg(t[i] != XBT_NULL, "transaction %d", i + 1);
	}
	XSD_FAILS(xs_transaction_start(h), ENOSPC);
	for (int i = 0; i < 11; i++)
		ck_assert(xs_transaction_end(h, t[i], false));
	xs_close(h);
}
END_TEST

START_TEST(test_value_over_entry_size_is_enospc)
{
	struct xs_handle *h = xsd_fix_open(1);
	static const char v[17] = "0123456789abcdef";

	ck_assert(xs_write(h, XBT_NULL, "data/v", v, 16));
	XSD_FAILS(xs_write(h, XBT_NULL, "data/v", v, 17), ENOSPC);
	XSD_FAILS(xs_write(h, XBT_NULL, "data/w", v, 17), ENOSPC);
	xs_close(h);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xsd-quota");
	TCase *tc = tcase_create("quota");
	TCase *def = tcase_create("defaults");
	TCase *dstore = tcase_create("default-store");

	tcase_add_test(def, test_default_quota_is_xenstoreds);
	suite_add_tcase(s, def);
	tcase_add_checked_fixture(dstore, xsd_fix_start, xsd_fix_stop);
	tcase_set_timeout(dstore, 10);
	tcase_add_test(dstore, test_a_guest_gets_eleven_transactions_by_default);
	suite_add_tcase(s, dstore);
	tcase_add_checked_fixture(tc, start_small, xsd_fix_stop);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_node_quota_counts_owned_nodes_and_frees_on_rm);
	tcase_add_test(tc, test_node_quota_holds_inside_a_transaction);
	tcase_add_test(tc, test_dom0_is_exempt_from_quotas);
	tcase_add_test(tc, test_watch_quota_is_e2big);
	tcase_add_test(tc, test_transaction_quota_is_enospc);
	tcase_add_test(tc, test_value_over_entry_size_is_enospc);
	suite_add_tcase(s, tc);
	return s;
}
