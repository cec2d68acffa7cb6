/*
 * xs/txn.c: the retries of a transaction that xenstored keeps refusing,
 * against the simulator's xenstored run in-process.  A body that reads a
 * node and has another connection write it before the commit conflicts on
 * every try, deterministically: how many tries, how long the backoff
 * between them, and what ends it early.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <xenstore.h>

#include "test-common.h"
#include "xs-internal.h"
#include "xsd-fixture.h"

#define NODE "/local/domain/1/data/txn"

struct conflict {
	struct xs_handle *other;	/* dom0, writing outside it */
	unsigned int bodies;		/* times the body ran */
};

/* Read NODE in @t, then change it from elsewhere: the commit fails. */
static int conflicting_body(struct xv_xs *xs, xs_transaction_t t, void *arg)
{
	struct conflict *c = arg;
	char value[16];
	unsigned int len;
	void *v;

	c->bodies++;
	v = xs_read(xs->h, t, NODE, &len);
	if (!v)
		return -EIO;
	free(v);
	snprintf(value, sizeof(value), "%u", c->bodies);
	return xs_write(c->other, XBT_NULL, NODE, value, strlen(value)) ?
	       0 : -EIO;
}

static struct xv_xs *dom1;
static struct conflict conflict;

static void start(void)
{
	xsd_fix_start();
	ck_assert_int_eq(setenv("XENSTORED_PATH", xsd_fix_sock(1), 1), 0);
	ck_assert_int_eq(xv_xs_open(&dom1), 0);
	conflict.other = xsd_fix_open(0);
	conflict.bodies = 0;
	/* The domain's own node, which dom0 may change under it. */
	ck_assert(xs_write(dom1->h, XBT_NULL, NODE, "0", 1));
}

static void stop(void)
{
	xs_close(conflict.other);
	xv_xs_close(dom1);
	xsd_fix_stop();
}

/* The body really conflicts, and without a deadline every try is made. */
START_TEST(test_conflict_on_every_try_makes_all_tries)
{
	ck_assert_int_eq(xv_xs_in_transaction(dom1, -1, -1, conflicting_body,
					      &conflict), -EAGAIN);
	ck_assert_uint_eq(conflict.bodies, XV_XS_TXN_TRIES);
}
END_TEST

/* A body that commits: one try, and the write outside shows. */
static int plain_body(struct xv_xs *xs, xs_transaction_t t, void *arg)
{
	(*(unsigned int *)arg)++;
	return xs_write(xs->h, t, NODE, "done", 4) ? 0 : -EIO;
}

START_TEST(test_a_commit_ends_the_tries_even_past_the_deadline)
{
	unsigned int bodies = 0;
	unsigned int len;
	char *v;

	ck_assert_int_eq(xv_xs_in_transaction(dom1, xv_xs_now_ns() - 1, -1,
					      plain_body, &bodies), 0);
	ck_assert_uint_eq(bodies, 1);
	v = xs_read(conflict.other, XBT_NULL, NODE, &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "done");
	free(v);
}
END_TEST

/* A deadline already passed still gets its one try, and no second. */
START_TEST(test_a_passed_deadline_allows_one_try)
{
	ck_assert_int_eq(xv_xs_in_transaction(dom1, xv_xs_now_ns(), -1,
					      conflicting_body, &conflict),
			 -EAGAIN);
	ck_assert_uint_eq(conflict.bodies, 1);
}
END_TEST

/*
 * Every try conflicts for 150 ms: the tries stop there, not after all
 * their backoffs (about 0.9 s on average for 32 tries, rarely under 0.6).
 * The 450 ms of slack are for a loaded machine, not for the backoff.
 */
START_TEST(test_no_backoff_sleeps_past_the_deadline)
{
	int64_t t0 = xv_xs_now_ns(), deadline = t0 + 150 * 1000000;

	ck_assert_int_eq(xv_xs_in_transaction(dom1, deadline, -1,
					      conflicting_body, &conflict),
			 -EAGAIN);
	ck_assert_int_lt(xv_xs_now_ns() - t0, 600 * 1000000);
	ck_assert_uint_ge(conflict.bodies, 2);
	ck_assert_uint_lt(conflict.bodies, XV_XS_TXN_TRIES);
}
END_TEST

/* A cancel descriptor already readable ends the first backoff. */
START_TEST(test_cancel_fd_ends_the_backoff)
{
	int efd = eventfd(1, EFD_CLOEXEC);

	ck_assert_int_ge(efd, 0);
	ck_assert_int_eq(xv_xs_in_transaction(dom1, -1, efd, conflicting_body,
					      &conflict), -ECANCELED);
	ck_assert_uint_eq(conflict.bodies, 1);
	/* Never read: the caller's to consume. */
	ck_assert_int_eq(eventfd_read(efd, &(eventfd_t){ 0 }), 0);
	close(efd);
}
END_TEST

/* ... and one that is not readable changes nothing. */
START_TEST(test_a_quiet_cancel_fd_lets_every_try_run)
{
	int efd = eventfd(0, EFD_CLOEXEC);

	ck_assert_int_ge(efd, 0);
	ck_assert_int_eq(xv_xs_in_transaction(dom1, -1, efd, conflicting_body,
					      &conflict), -EAGAIN);
	ck_assert_uint_eq(conflict.bodies, XV_XS_TXN_TRIES);
	close(efd);
}
END_TEST

/* A closed cancel descriptor is the caller's bug, said as such. */
START_TEST(test_a_closed_cancel_fd_is_ebadf)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	int fd;

	ck_assert_int_ge(efd, 0);
	/* High above anything open here: a descriptor opened meanwhile
	 * takes the lowest free number, never this one. */
	fd = fcntl(efd, F_DUPFD_CLOEXEC, 900);
	ck_assert_int_ge(fd, 900);
	close(fd);
	close(efd);
	ck_assert_int_eq(xv_xs_in_transaction(dom1, -1, fd, conflicting_body,
					      &conflict), -EBADF);
	ck_assert_uint_eq(conflict.bodies, 1);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xs-txn");
	TCase *tc = tcase_create("txn");

	tcase_add_checked_fixture(tc, start, stop);
	/* 32 tries with their backoffs take about 0.9 s, 2.1 s at most. */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_conflict_on_every_try_makes_all_tries);
	tcase_add_test(tc, test_a_commit_ends_the_tries_even_past_the_deadline);
	tcase_add_test(tc, test_a_passed_deadline_allows_one_try);
	tcase_add_test(tc, test_no_backoff_sleeps_past_the_deadline);
	tcase_add_test(tc, test_cancel_fd_ends_the_backoff);
	tcase_add_test(tc, test_a_quiet_cancel_fd_lets_every_try_run);
	tcase_add_test(tc, test_a_closed_cancel_fd_is_ebadf);
	suite_add_tcase(s, tc);
	return s;
}
