/*
 * The real C xenstored as a PV domU sees it, through libxenstore on
 * /dev/xen/xenbus: the guest-side rules of tests/xenstored/ (permissions,
 * quotas, transactions, watches) that the simulator's store copies, with
 * the simulator's expected values where Xen agrees and Xen's, named as a
 * difference in docs/xen.md, where it does not. dom0's nodes play the
 * other domain's; the "spy" and "release" tests need the dom0 halves of
 * xs_guest_view and xs_guest_release in tests/xen/guest.sh to act while
 * they wait.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
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
	/* A failed test's teardown does not run (the forked test exits):
	 * clear what it left, or its nodes count against the next one's
	 * quotas. */
	xs_rm(h, XBT_NULL, "data/xv-x");
}

static void teardown(void)
{
	xs_rm(h, XBT_NULL, "data/xv-x");
	xs_close(h);
}

/* Next watch event within @ms into @vec (freed by the caller). */
static bool event(int ms, char ***vec)
{
	struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };

	ck_assert_int_ge(p.fd, 0);
	for (;;) {
		*vec = xs_check_watch(h);
		if (*vec)
			return true;
		ck_assert_int_eq(errno, EAGAIN);
		if (poll(&p, 1, ms) <= 0)
			return false;
	}
}

static void expect(const char *path, const char *token)
{
	char **vec;

	ck_assert_msg(event(5000, &vec), "no event for %s", path);
	ck_assert_str_eq(vec[XS_WATCH_PATH], path);
	ck_assert_str_eq(vec[XS_WATCH_TOKEN], token);
	free(vec);
}

static void expect_none(int ms)
{
	char **vec = NULL;
	bool got = event(ms, &vec);

	ck_assert_msg(!got, "unexpected event %s %s", got ? vec[0] : "",
		      got ? vec[1] : "");
}

/* Nodes under @path (itself included) that this domain owns. */
static unsigned int owned_below(const char *path)
{
	struct xs_permissions *p;
	unsigned int num = 0, n = 0, i;
	char **dir, sub[256];

	p = xs_get_permissions(h, XBT_NULL, path, &num);
	if (p && num > 0 && p[0].id == (unsigned int)atoi(self))
		n++;
	free(p);
	dir = xs_directory(h, XBT_NULL, path, &num);
	for (i = 0; dir && i < num; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", path, dir[i]);
		n += owned_below(sub);
	}
	free(dir);
	return n;
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

/*
 * xenstored's default node quota is 1000 per domain, counted by owner;
 * libxl already gave the guest some nodes of its home (data/, console/,
 * ...). Every other node it can own lies under its home. The nodes go in
 * ten directories: one directory's child names may not pass the entry
 * size quota (below).
 */
START_TEST(test_node_quota_is_1000_owned_nodes_then_enospc)
{
	char home[64], path[64];
	unsigned int owned, made = 0, len, g;

	snprintf(home, sizeof(home), "/local/domain/%s", self);
	owned = owned_below(home);
	ck_assert_uint_gt(owned, 0);
	for (g = 0; g < 10; g++) {
		snprintf(path, sizeof(path), "data/xv-x/%u", g);
		ck_assert(xs_write(h, XBT_NULL, path, "", 0));
	}
	for (;;) {
		snprintf(path, sizeof(path), "data/xv-x/%u/%u", made % 10, made);
		errno = 0;
		if (!xs_write(h, XBT_NULL, path, "", 0))
			break;
		ck_assert_uint_lt(++made, 1001);
	}
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_msg(owned + 11 + made == 1000, "%u owned before, 11 + %u made",
		      owned, made);
	/* Rewriting an existing node creates nothing. */
	ck_assert(xs_write(h, XBT_NULL, "data/xv-x/0/0", "v", 1));
	ck_assert(xs_rm(h, XBT_NULL, "data/xv-x/0/0"));
	/* One free slot does not fit a two-node deep write, and nothing of
	 * it is left behind. */
	errno = 0;
	ck_assert(!xs_write(h, XBT_NULL, "data/xv-x/a/b", "", 0));
	ck_assert_int_eq(errno, ENOSPC);
	errno = 0;
	ck_assert_ptr_null(xs_read(h, XBT_NULL, "data/xv-x/a", &len));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert(xs_write(h, XBT_NULL, "data/xv-x/a", "", 0));
}
END_TEST

/*
 * The entry size quota (2048) holds for the whole node record as
 * xenstored stores it: a 24-byte header, 8 bytes per permission, the
 * value and the NUL-terminated child names, under 2048. So a node with
 * one permission holds a value of at most 2015 bytes...
 */
START_TEST(test_entry_size_quota_counts_the_whole_record)
{
	static char v[4000];
	unsigned int lo = 0, hi = sizeof(v);

	/* Largest writable length by bisection: lo works, hi does not. */
	while (hi - lo > 1) {
		unsigned int mid = (lo + hi) / 2;

		errno = 0;
		if (xs_write(h, XBT_NULL, "data/xv-x", v, mid)) {
			lo = mid;
		} else {
			ck_assert_int_eq(errno, ENOSPC);
			hi = mid;
		}
	}
	ck_assert_uint_eq(lo, 2015);
}
END_TEST

/* ... and at most 2015 bytes of child names: 403 four-letter ones. */
START_TEST(test_child_names_count_against_the_entry_size)
{
	char path[64];
	unsigned int n = 0, num;
	char **dir;

	ck_assert(xs_write(h, XBT_NULL, "data/xv-x", "", 0));
	for (;;) {
		snprintf(path, sizeof(path), "data/xv-x/c%03u", n);
		errno = 0;
		if (!xs_write(h, XBT_NULL, path, "", 0))
			break;
		ck_assert_uint_lt(++n, 1000);
	}
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_uint_eq(n, 403);
	dir = xs_directory(h, XBT_NULL, "data/xv-x", &num);
	ck_assert_uint_eq(num, 403);
	free(dir);
}
END_TEST

/* xenstored refuses a transaction only when a connection already has
 * more than the quota (10) open: the 12th fails. */
START_TEST(test_transaction_quota_is_enospc)
{
	xs_transaction_t t[13];
	int n = 0;

	for (;;) {
		errno = 0;
		t[n] = xs_transaction_start(h);
		if (t[n] == XBT_NULL)
			break;
		ck_assert_int_lt(++n, 13);
	}
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(n, 11);
	ck_assert(xs_transaction_end(h, t[0], true));
	t[0] = xs_transaction_start(h);
	ck_assert_uint_ne(t[0], XBT_NULL);
	while (n-- > 0)
		ck_assert(xs_transaction_end(h, t[n], true));
}
END_TEST

/*
 * 128 watches per domain; the guest kernel's own (control/shutdown,
 * memory/target, device, ...) count too, so the guest gets fewer, and how
 * many fewer is the kernel's business. The kernel fails the write() of the
 * refused XS_WATCH with E2BIG instead of answering with an error message,
 * and the libxenstore handle is broken after it (a failed write leaves it
 * out of step, and it drops its connection): its next request fails, and
 * a guest must open a new handle.
 */
START_TEST(test_watch_quota_is_e2big)
{
	char path[64], tok[16];
	int n = 0;

	for (;;) {
		snprintf(path, sizeof(path), "data/xv-x/w%d", n);
		snprintf(tok, sizeof(tok), "%d", n);
		errno = 0;
		if (!xs_watch(h, path, tok))
			break;
		ck_assert_int_lt(++n, 130);
	}
	ck_assert_int_eq(errno, E2BIG);
	fprintf(stderr, "E2BIG after %d watches of this handle\n", n);
	ck_assert_int_gt(n, 100);
	ck_assert_int_le(n, 128);
	ck_assert(!xs_unwatch(h, "data/xv-x/w0", "0"));
	/* Closing the file drops its watches in the kernel and xenstored. */
	xs_close(h);
	h = xs_open(0);
	ck_assert_ptr_nonnull(h);
	ck_assert(xs_watch(h, "data/xv-x/again", "a"));
}
END_TEST

START_TEST(test_transaction_is_private_until_commit_and_abort_drops_it)
{
	xs_transaction_t t;
	unsigned int len;
	char *v;

	ck_assert(xs_write(h, XBT_NULL, "data/xv-x/k", "old", 3));
	t = xs_transaction_start(h);
	ck_assert_uint_ne(t, XBT_NULL);
	ck_assert(xs_write(h, t, "data/xv-x/k", "new", 3));
	ck_assert(xs_write(h, t, "data/xv-x/n/deep", "d", 1));
	v = xs_read(h, XBT_NULL, "data/xv-x/k", &len);
	ck_assert_str_eq(v, "old");
	free(v);
	errno = 0;
	ck_assert_ptr_null(xs_read(h, XBT_NULL, "data/xv-x/n/deep", &len));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert(xs_transaction_end(h, t, false));
	v = xs_read(h, XBT_NULL, "data/xv-x/n/deep", &len);
	ck_assert_str_eq(v, "d");
	free(v);
	t = xs_transaction_start(h);
	ck_assert(xs_rm(h, t, "data/xv-x/n"));
	ck_assert(xs_transaction_end(h, t, true));
	v = xs_read(h, XBT_NULL, "data/xv-x/n/deep", &len);
	ck_assert_str_eq(v, "d");
	free(v);
	/* The id is gone after the end. */
	errno = 0;
	ck_assert(!xs_transaction_end(h, t, false));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_conflicting_commit_fails_with_eagain_and_a_retry_works)
{
	xs_transaction_t t;
	unsigned int len;
	char *v;

	ck_assert(xs_write(h, XBT_NULL, "data/xv-x/c", "0", 1));
	t = xs_transaction_start(h);
	v = xs_read(h, t, "data/xv-x/c", &len);
	free(v);
	ck_assert(xs_write(h, t, "data/xv-x/c", "a", 1));
	ck_assert(xs_write(h, XBT_NULL, "data/xv-x/c", "b", 1));
	errno = 0;
	ck_assert(!xs_transaction_end(h, t, false));
	ck_assert_int_eq(errno, EAGAIN);
	v = xs_read(h, XBT_NULL, "data/xv-x/c", &len);
	ck_assert_str_eq(v, "b");
	free(v);
	t = xs_transaction_start(h);
	ck_assert(xs_write(h, t, "data/xv-x/c", "a", 1));
	ck_assert(xs_transaction_end(h, t, false));
	v = xs_read(h, XBT_NULL, "data/xv-x/c", &len);
	ck_assert_str_eq(v, "a");
	free(v);
}
END_TEST

START_TEST(test_watch_fires_at_registration_then_for_its_subtree_only)
{
	char path[64];
	int seen = 0;

	ck_assert(xs_watch(h, "data/xv-x/w", "rel"));
	expect("data/xv-x/w", "rel");
	snprintf(path, sizeof(path), "/local/domain/%s/data/xv-x/w", self);
	ck_assert(xs_watch(h, path, "abs"));
	expect(path, "abs");
	expect_none(300);
	ck_assert(xs_write(h, XBT_NULL, "data/xv-x/w/a/b", "1", 1));
	/* Each watch reports the path the way it was set: relative or not. */
	strcat(path, "/a/b");
	for (int i = 0; i < 2; i++) {
		char **vec;
		bool rel;

		ck_assert(event(5000, &vec));
		rel = !strcmp(vec[XS_WATCH_TOKEN], "rel");
		ck_assert_str_eq(vec[XS_WATCH_TOKEN], rel ? "rel" : "abs");
		ck_assert_str_eq(vec[XS_WATCH_PATH],
				 rel ? "data/xv-x/w/a/b" : path);
		seen |= rel ? 1 : 2;
		free(vec);
	}
	ck_assert_int_eq(seen, 3);
	/* Component-wise: xv-x/wx is not under xv-x/w. */
	ck_assert(xs_write(h, XBT_NULL, "data/xv-x/wx", "1", 1));
	ck_assert(xs_write(h, XBT_NULL, "data/xv-x", "1", 1));
	expect_none(300);
}
END_TEST

/*
 * The guest's kernel, not xenstored, answers these: /dev/xen/xenbus
 * registers every watch of a file under a token of its own, so a second
 * identical watch is a second watch (xenstored's EEXIST cannot happen),
 * and an unwatch the kernel does not know is answered "OK".
 */
START_TEST(test_duplicate_watch_and_unknown_unwatch_through_the_kernel)
{
	ck_assert(xs_watch(h, "data/xv-x/d", "d"));
	expect("data/xv-x/d", "d");
	ck_assert(xs_watch(h, "data/xv-x/d", "d"));
	expect("data/xv-x/d", "d");
	ck_assert(xs_write(h, XBT_NULL, "data/xv-x/d", "1", 1));
	expect("data/xv-x/d", "d");
	expect("data/xv-x/d", "d");
	expect_none(300);
	ck_assert(xs_unwatch(h, "data/xv-x/none", "n"));
}
END_TEST

/* Events until the one for @last; their paths, space separated. */
static void events_until(const char *last, int ms, char *out, size_t len)
{
	char **vec;
	size_t n = 0;

	out[0] = '\0';
	while (event(ms, &vec)) {
		bool end = !strcmp(vec[XS_WATCH_PATH], last);

		n += (size_t)snprintf(out + n, len - n, "%s%s %s", n ? " " : "",
				      vec[XS_WATCH_TOKEN], vec[XS_WATCH_PATH]);
		free(vec);
		ck_assert_uint_lt(n, len);
		if (end)
			return;
	}
	ck_abort_msg("no event for %s; got: %s", last, out);
}

#define SPY "/local/domain/0/data/xv-spy"

/*
 * A guest may watch another domain's nodes; it hears a change when it may
 * read the node (with the permissions before or after the change) or its
 * parent. dom0 (guest.sh, xs_guest_view) acts once data/xv-spy-ready
 * exists: private p/private, then shared made readable by this guest,
 * then shared/h created (readable), made private, written, and shared/end.
 */
START_TEST(test_guest_hears_only_what_it_may_read_of_another_domain)
{
	char got[1024];

	ck_assert(xs_watch(h, SPY, "spy"));
	expect(SPY, "spy");
	ck_assert(xs_write(h, XBT_NULL, "data/xv-spy-ready", "1", 1));
	events_until(SPY "/shared/end", 120000, got, sizeof(got));
	ck_assert_str_eq(got, "spy " SPY "/shared spy " SPY "/shared/h "
			 "spy " SPY "/shared/h spy " SPY "/shared/h "
			 "spy " SPY "/shared/end");
}
END_TEST

/* @releaseDomain as a guest: it may set the watch and gets the initial
 * event... */
START_TEST(test_guest_may_watch_release_domain)
{
	ck_assert(xs_watch(h, "@releaseDomain", "rel"));
	expect("@releaseDomain", "rel");
	expect_none(300);
}
END_TEST

/* ... but may not grant itself read on the special node: xenstored
 * answers a guest ENOENT there (the simulator: EACCES). */
START_TEST(test_guest_cannot_grant_itself_release_domain)
{
	struct xs_permissions p[] = { { 0, XS_PERM_NONE },
				      { (unsigned int)atoi(self), XS_PERM_READ } };

	errno = 0;
	ck_assert(!xs_set_permissions(h, XBT_NULL, "@releaseDomain", p, 2));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/*
 * ... and hears a domain's death only once dom0 grants it read on
 * @releaseDomain. dom0 (guest.sh, xs_guest_release) kills a paused
 * domain, writes shared/mark1, grants, kills another and writes
 * shared/mark2.
 */
START_TEST(test_guest_hears_release_domain_only_when_granted)
{
	char got[1024];

	ck_assert(xs_watch(h, "@releaseDomain", "rel"));
	expect("@releaseDomain", "rel");
	ck_assert(xs_watch(h, SPY "/shared", "mark"));
	expect(SPY "/shared", "mark");
	ck_assert(xs_write(h, XBT_NULL, "data/xv-release-ready", "1", 1));
	events_until(SPY "/shared/mark1", 180000, got, sizeof(got));
	ck_assert_str_eq(got, "mark " SPY "/shared/mark1");
	events_until(SPY "/shared/mark2", 180000, got, sizeof(got));
	ck_assert_str_eq(got, "rel @releaseDomain mark " SPY "/shared/mark2");
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xen-xenstore-guest");
	TCase *tc = tcase_create("guest");
	TCase *rel = tcase_create("release");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 150);
	tcase_add_test(tc, test_another_domains_private_node_cannot_be_read_written_or_removed);
	tcase_add_test(tc, test_missing_node_under_unreadable_parent_is_eacces);
	tcase_add_test(tc, test_guest_owns_the_nodes_it_creates);
	tcase_add_test(tc, test_guest_cannot_give_a_node_away_or_chmod_others);
	tcase_add_test(tc, test_transaction_is_private_until_commit_and_abort_drops_it);
	tcase_add_test(tc, test_conflicting_commit_fails_with_eagain_and_a_retry_works);
	tcase_add_test(tc, test_watch_fires_at_registration_then_for_its_subtree_only);
	tcase_add_test(tc, test_duplicate_watch_and_unknown_unwatch_through_the_kernel);
	/* dom0's half of xs_guest_view acts for this one. */
	tcase_add_test(tc, test_guest_hears_only_what_it_may_read_of_another_domain);
	tcase_add_test(tc, test_entry_size_quota_counts_the_whole_record);
	tcase_add_test(tc, test_child_names_count_against_the_entry_size);
	tcase_add_test(tc, test_transaction_quota_is_enospc);
	tcase_add_test(tc, test_watch_quota_is_e2big);
	tcase_add_test(tc, test_node_quota_is_1000_owned_nodes_then_enospc);
	suite_add_tcase(s, tc);
	/* Only when asked (CK_RUN_CASE=release, test xs_guest_release):
	 * dom0 builds and destroys two domains for the last test, and a run
	 * with the first two in the default set stalled (docs/xen.md). */
	tcase_add_checked_fixture(rel, setup, teardown);
	tcase_set_timeout(rel, 400);
	tcase_add_test(rel, test_guest_may_watch_release_domain);
	tcase_add_test(rel, test_guest_cannot_grant_itself_release_domain);
	tcase_add_test(rel, test_guest_hears_release_domain_only_when_granted);
	suite_add_tcase(s, rel);
	return s;
}
