/*
 * xs/domain.c against the simulator's xenstored run in-process: the
 * @releaseDomain watch and XS_IS_DOMAIN_INTRODUCED, as dom0 sees them and
 * as a guest does (C xenstored 4.17 rules: privileged).  Domains 0..3
 * exist; the test releases one between two of the store's rounds
 * (xsd_fix_release()), as the toolstack's destroy would.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "test-common.h"
#include "xs.h"
#include "xsd-fixture.h"

/* The fixture's domains 0, 1 and 2, and 3. */
static void xsd_start(void)
{
	xsd_fix_start();
	ck_assert_int_eq(xsd_fix_introduce(3, "dom3"), 0);
}

/* A handle from @open (xv_xs_open or xv_xs_open_domain) speaking as
 * @domid: both read XENSTORED_PATH when they open. */
static struct xv_xs *open_with(int (*open)(struct xv_xs **),
			       unsigned int domid)
{
	struct xv_xs *xs = NULL;

	ck_assert_int_eq(setenv("XENSTORED_PATH", xsd_fix_sock(domid), 1), 0);
	ck_assert_int_eq(open(&xs), 0);
	ck_assert_ptr_nonnull(xs);
	return xs;
}

static struct xv_xs *open_as(unsigned int domid)
{
	return open_with(xv_xs_open, domid);
}

static int readable_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms);
}

/* A new watch fires once at once: take that event out of the way. */
static int watch_and_settle(struct xv_xs *xs)
{
	int fd = xv_xs_domain_watch(xs);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(readable_within(fd, 2000), 1);
	ck_assert_int_eq(xv_xs_watch_drain(xs), 1);
	ck_assert_int_eq(readable_within(fd, 0), 0);
	return fd;
}

/*
 * Drain until @want events were taken or none came for 2 s: a release's
 * reply can overtake libxenstore's reader thread queuing the event.
 */
static int drain_events(struct xv_xs *xs, int fd, int want)
{
	int got = 0;

	while (got < want && readable_within(fd, 2000) == 1) {
		int n = xv_xs_watch_drain(xs);

		ck_assert_int_ge(n, 0);
		got += n;
	}
	return got;
}

START_TEST(test_dom0_hears_a_release_and_the_domain_is_then_gone)
{
	struct xv_xs *xs = open_as(0);
	int fd = watch_and_settle(xs);

	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), 1);
	ck_assert_int_eq(xsd_fix_release(2), 0);
	ck_assert_int_eq(drain_events(xs, fd, 1), 1);
	/* Drained: quiet until the next release. */
	ck_assert_int_eq(readable_within(fd, 0), 0);
	ck_assert_int_eq(xv_xs_watch_drain(xs), 0);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), 0);
	/* Only that one. */
	ck_assert_int_eq(xv_xs_domain_exists(xs, 1), 1);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 3), 1);
	xv_xs_close(xs);
}
END_TEST

START_TEST(test_every_release_fires_again)
{
	struct xv_xs *xs = open_as(0);
	int fd = watch_and_settle(xs);

	ck_assert_int_eq(xsd_fix_release(1), 0);
	ck_assert_int_eq(xsd_fix_release(3), 0);
	ck_assert_int_eq(drain_events(xs, fd, 2), 2);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 1), 0);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 3), 0);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), 1);
	xv_xs_close(xs);
}
END_TEST

START_TEST(test_existing_domains_are_there_and_unknown_ones_are_not)
{
	struct xv_xs *xs = open_as(0);

	/* No watch needed to ask. */
	ck_assert_int_eq(xv_xs_domain_exists(xs, 0), 1);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 1), 1);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 3), 1);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 77), 0);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 0x7FEF), 0);
	/* DOMID_FIRST_RESERVED and above name no domain: never asked. */
	ck_assert_int_eq(xv_xs_domain_exists(xs, 0x7FF0), -EINVAL);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 0xFFFFFFFFu), -EINVAL);
	xv_xs_close(xs);
}
END_TEST

/* XSA-115: a guest may set the watch but never hears it, and may not ask. */
START_TEST(test_a_guest_may_not_ask_and_never_hears_a_release)
{
	struct xv_xs *xs = open_as(1);
	int fd = watch_and_settle(xs);
	unsigned int d = 99;

	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), -EACCES);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 1), -EACCES);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 0), -EACCES);
	ck_assert_int_eq(xsd_fix_release(2), 0);
	ck_assert_int_eq(readable_within(fd, 300), 0);
	ck_assert_int_eq(xv_xs_watch_drain(xs), 0);
	/* Still a refusal, never "gone". */
	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), -EACCES);
	/* The handle itself is fine. */
	ck_assert_int_eq(xv_xs_own_domid(xs, &d), 0);
	ck_assert_uint_eq(d, 1);
	xv_xs_close(xs);
}
END_TEST

START_TEST(test_a_lost_xenstored_is_a_failure_not_a_gone_domain)
{
	struct xv_xs *xs = open_as(0);

	(void)watch_and_settle(xs);
	xsd_fix_stop();
	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), -ECONNRESET);
	ck_assert_int_eq(xv_xs_watch_drain(xs), -ECONNRESET);
	xv_xs_close(xs);
}
END_TEST

/* What a dom0 endpoint holds while it watches: one connection, not two. */
START_TEST(test_a_domain_only_handle_watches_on_its_one_connection)
{
	struct xv_xs *xs = open_with(xv_xs_open_domain, 0), *full;
	int fd = watch_and_settle(xs);

	ck_assert_uint_eq(xsd_fix_connections(0), 1);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), 1);
	ck_assert_int_eq(xsd_fix_release(2), 0);
	ck_assert_int_eq(drain_events(xs, fd, 1), 1);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), 0);
	ck_assert_int_eq(xv_xs_domain_exists(xs, 1), 1);
	ck_assert_uint_eq(xsd_fix_connections(0), 1);

	/* A full handle doing the same holds libxenstore's connection as well
	 * as its own raw one: two more, three in all on dom0's socket. */
	full = open_as(0);
	(void)watch_and_settle(full);
	ck_assert_int_eq(xv_xs_domain_exists(full, 1), 1);
	ck_assert_uint_eq(xsd_fix_connections(0), 3);
	xv_xs_close(full);
	xv_xs_close(xs);
}
END_TEST

START_TEST(test_a_domain_only_handle_is_refused_to_a_guest_and_to_no_xenstored)
{
	struct xv_xs *xs = open_with(xv_xs_open_domain, 1), *none = NULL;
	int full;

	ck_assert_int_eq(xv_xs_domain_exists(xs, 2), -EACCES);
	xv_xs_close(xs);
	/* No xenstored there: the same error as a full handle's open. */
	ck_assert_int_eq(setenv("XENSTORED_PATH", "/nonexistent/xs", 1), 0);
	full = xv_xs_open(&none);
	ck_assert_int_lt(full, 0);
	ck_assert_int_eq(xv_xs_open_domain(&none), full);
	ck_assert_ptr_null(none);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xs-domain");
	TCase *tc = tcase_create("domain");

	tcase_add_checked_fixture(tc, xsd_start, xsd_fix_stop);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc,
		test_dom0_hears_a_release_and_the_domain_is_then_gone);
	tcase_add_test(tc, test_every_release_fires_again);
	tcase_add_test(tc,
		test_existing_domains_are_there_and_unknown_ones_are_not);
	tcase_add_test(tc, test_a_guest_may_not_ask_and_never_hears_a_release);
	tcase_add_test(tc, test_a_lost_xenstored_is_a_failure_not_a_gone_domain);
	tcase_add_test(tc,
		test_a_domain_only_handle_watches_on_its_one_connection);
	tcase_add_test(tc,
		test_a_domain_only_handle_is_refused_to_a_guest_and_to_no_xenstored);
	suite_add_tcase(s, tc);
	return s;
}
