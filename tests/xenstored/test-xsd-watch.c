/* xenstored watches: the initial event, prefix matching, tokens, relative
 * paths, removal of an ancestor, permissions on delivery, and the special
 * @introduceDomain / @releaseDomain watches. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-common.h"
#include "xsd-fixture.h"

/* Next event must be exactly (@path, @token). */
static void expect(struct xs_handle *h, const char *path, const char *token)
{
	char **vec;

	ck_assert_msg(xsd_fix_event(h, 2000, &vec), "no event for %s", path);
	ck_assert_str_eq(vec[XS_WATCH_PATH], path);
	ck_assert_str_eq(vec[XS_WATCH_TOKEN], token);
	free(vec);
}

/* No event may come within a short grace period. */
static void expect_none(struct xs_handle *h)
{
	char **vec = NULL;
	bool got = xsd_fix_event(h, 100, &vec);

	ck_assert_msg(!got, "unexpected event %s %s", got ? vec[0] : "",
		      got ? vec[1] : "");
}

/* Watch @path with @token and take the event a new watch fires at once. */
static void watched(struct xs_handle *h, const char *path, const char *token)
{
	ck_assert(xs_watch(h, path, token));
	expect(h, path, token);
}

START_TEST(test_watch_fires_once_at_registration)
{
	struct xs_handle *h = xsd_fix_open(0);

	ck_assert(xs_watch(h, "/tool/w", "tok"));
	expect(h, "/tool/w", "tok");
	expect_none(h);
	xs_close(h);
}
END_TEST

START_TEST(test_watch_fires_for_the_node_and_descendants_only)
{
	struct xs_handle *h = xsd_fix_open(0);

	watched(h, "/tool/w", "t1");
	ck_assert(xs_write(h, XBT_NULL, "/tool/w", "", 0));
	expect(h, "/tool/w", "t1");
	ck_assert(xs_write(h, XBT_NULL, "/tool/w/a/b", "1", 1));
	expect(h, "/tool/w/a/b", "t1");
	/* Component-wise: /tool/wx is not under /tool/w. */
	ck_assert(xs_write(h, XBT_NULL, "/tool/wx", "1", 1));
	ck_assert(xs_write(h, XBT_NULL, "/tool", "1", 1));
	expect_none(h);
	xs_close(h);
}
END_TEST

START_TEST(test_each_watch_gets_its_own_token)
{
	struct xs_handle *h = xsd_fix_open(0);
	char **vec;
	bool seen_a = false, seen_b = false;

	watched(h, "/tool", "A");
	watched(h, "/tool/x", "B");
	XSD_FAILS(xs_watch(h, "/tool/x", "B"), EEXIST);
	ck_assert(xs_write(h, XBT_NULL, "/tool/x", "", 0));
	for (int i = 0; i < 2; i++) {
		ck_assert(xsd_fix_event(h, 2000, &vec));
		ck_assert_str_eq(vec[XS_WATCH_PATH], "/tool/x");
		if (!strcmp(vec[XS_WATCH_TOKEN], "A"))
			seen_a = true;
		if (!strcmp(vec[XS_WATCH_TOKEN], "B"))
			seen_b = true;
		free(vec);
	}
	ck_assert(seen_a && seen_b);
	ck_assert(xs_unwatch(h, "/tool/x", "B"));
	XSD_FAILS(xs_unwatch(h, "/tool/x", "B"), ENOENT);
	ck_assert(xs_write(h, XBT_NULL, "/tool/x", "", 0));
	expect(h, "/tool/x", "A");
	expect_none(h);
	xs_close(h);
}
END_TEST

START_TEST(test_relative_watch_reports_relative_paths)
{
	struct xs_handle *h1 = xsd_fix_open(1);
	struct xs_handle *h0 = xsd_fix_open(0);

	watched(h1, "data/vchan", "rel");
	ck_assert(xs_write(h0, XBT_NULL, "/local/domain/1/data/vchan/2/p",
			   "", 0));
	expect(h1, "data/vchan/2/p", "rel");
	watched(h1, "/local/domain/1/data", "abs");
	xs_close(h0);
	xs_close(h1);
}
END_TEST

START_TEST(test_rm_of_an_ancestor_fires_watches_below_it)
{
	struct xs_handle *h = xsd_fix_open(0);
	char **vec;
	int deep = 0, top = 0;

	ck_assert(xs_write(h, XBT_NULL, "/tool/t/a/b", "1", 1));
	watched(h, "/tool/t/a/b", "deep");
	watched(h, "/tool/t", "top");
	ck_assert(xs_rm(h, XBT_NULL, "/tool/t"));
	/* "top" hears the removed path; "deep" hears its own node go. */
	while (xsd_fix_event(h, 300, &vec)) {
		if (!strcmp(vec[1], "deep")) {
			ck_assert_str_eq(vec[0], "/tool/t/a/b");
			deep++;
		} else {
			ck_assert_str_eq(vec[1], "top");
			ck_assert_str_eq(vec[0], "/tool/t");
			top++;
		}
		free(vec);
	}
	ck_assert_int_eq(deep, 1);
	ck_assert_int_eq(top, 1);
	xs_close(h);
}
END_TEST

START_TEST(test_events_only_reach_domains_that_may_read_the_node)
{
	struct xs_handle *h1 = xsd_fix_open(1);
	struct xs_handle *h2 = xsd_fix_open(2);
	struct xs_permissions grant[] = {
		{ 1, XS_PERM_NONE }, { 2, XS_PERM_READ },
	};

	/* dom2 may watch anything, but hears only what it may read. */
	watched(h2, "/local/domain/1/data", "spy");
	ck_assert(xs_write(h1, XBT_NULL, "data/private/x", "1", 1));
	expect_none(h2);
	ck_assert(xs_write(h1, XBT_NULL, "data/shared", "", 0));
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/shared", grant, 2));
	expect(h2, "/local/domain/1/data/shared", "spy");
	ck_assert(xs_write(h1, XBT_NULL, "data/shared", "2", 1));
	expect(h2, "/local/domain/1/data/shared", "spy");
	xs_close(h2);
	xs_close(h1);
}
END_TEST

START_TEST(test_dom0_watch_on_root_sees_guest_writes)
{
	struct xs_handle *h0 = xsd_fix_open(0);
	struct xs_handle *h2 = xsd_fix_open(2);

	watched(h0, "/", "all");
	ck_assert(xs_write(h2, XBT_NULL, "data/z", "", 0));
	expect(h0, "/local/domain/2/data/z", "all");
	xs_close(h2);
	xs_close(h0);
}
END_TEST

START_TEST(test_introduce_and_release_fire_the_special_watches)
{
	struct xs_handle *h0 = xsd_fix_open(0);
	struct xs_handle *h1 = xsd_fix_open(1);
	struct xs_handle *h5;
	unsigned int len;
	char *v;

	watched(h0, "@introduceDomain", "in");
	watched(h0, "@releaseDomain", "out");
	/* A guest may set the watch; without a grant it hears nothing. */
	watched(h1, "@releaseDomain", "g");
	watched(h0, "/local/domain/5", "home");

	ck_assert_int_eq(xsd_fix_introduce(5, "five"), 0);
	ck_assert_int_eq(xsd_fix_introduce(5, "again"), -EEXIST);
	expect(h0, "/local/domain/5", "home");
	expect(h0, "/local/domain/5/domid", "home");
	expect(h0, "/local/domain/5/name", "home");
	expect(h0, "/local/domain/5/data", "home");
	expect(h0, "@introduceDomain", "in");
	h5 = xsd_fix_open(5);
	v = xs_read(h5, XBT_NULL, "domid", &len);
	ck_assert_str_eq(v, "5");
	free(v);
	ck_assert(xs_write(h5, XBT_NULL, "data/x", "1", 1));
	expect(h0, "/local/domain/5/data/x", "home");

	ck_assert_int_eq(xsd_fix_release(5), 0);
	ck_assert_int_eq(xsd_fix_release(5), -ENOENT);
	expect(h0, "/local/domain/5", "home");
	expect(h0, "@releaseDomain", "out");
	expect_none(h1);
	ck_assert_ptr_null(xs_read(h0, XBT_NULL, "/local/domain/5", &len));
	ck_assert_int_eq(errno, ENOENT);
	/* The released domain's connection is closed. */
	ck_assert_ptr_null(xs_read(h5, XBT_NULL, "domid", &len));
	xs_close(h5);
	xs_close(h1);
	xs_close(h0);
}
END_TEST

START_TEST(test_introduce_keeps_what_dom0_prepared_in_the_home)
{
	struct xs_handle *h0 = xsd_fix_open(0);
	struct xs_handle *h6;
	unsigned int len, num;
	struct xs_permissions *p;
	char *v;

	ck_assert(xs_write(h0, XBT_NULL, "/local/domain/6/device/vif", "0",
			   1));
	ck_assert_int_eq(xsd_fix_introduce(6, "six"), 0);
	h6 = xsd_fix_open(6);
	v = xs_read(h0, XBT_NULL, "/local/domain/6/device/vif", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "0");
	free(v);
	/* Created with /local/domain's "n0", and introduce changes only the
	 * home itself: as on Xen, the toolstack sets such nodes' perms. */
	XSD_FAILS(xs_read(h6, XBT_NULL, "device/vif", &len), EACCES);
	p = xs_get_permissions(h0, XBT_NULL, "/local/domain/6", &num);
	ck_assert_uint_eq(num, 2);
	ck_assert_uint_eq(p[0].id, 0);
	ck_assert_uint_eq(p[1].id, 6);
	ck_assert_uint_eq(p[1].perms, XS_PERM_READ);
	free(p);
	xs_close(h6);
	xs_close(h0);
}
END_TEST

START_TEST(test_granted_guest_hears_release_domain)
{
	struct xs_handle *h0 = xsd_fix_open(0);
	struct xs_handle *h1 = xsd_fix_open(1);
	struct xs_permissions p[] = { { 0, XS_PERM_NONE }, { 1, XS_PERM_READ } };
	unsigned int num = 0;
	struct xs_permissions *got;

	ck_assert(xs_set_permissions(h0, XBT_NULL, "@releaseDomain", p, 2));
	got = xs_get_permissions(h0, XBT_NULL, "@releaseDomain", &num);
	ck_assert_uint_eq(num, 2);
	ck_assert_uint_eq(got[1].id, 1);
	ck_assert_uint_eq(got[1].perms, XS_PERM_READ);
	free(got);
	XSD_FAILS(xs_set_permissions(h1, XBT_NULL, "@releaseDomain", p, 2),
		  EACCES);
	watched(h1, "@releaseDomain", "g");
	ck_assert_int_eq(xsd_fix_release(2), 0);
	expect(h1, "@releaseDomain", "g");
	xs_close(h1);
	xs_close(h0);
}
END_TEST

/* As for nodes (test-xsd-perms.c), and as xenstored 4.17 does for these
 * two: a released domain's entries go, and an owner it was becomes dom0,
 * so a new domain with its id inherits neither. */
START_TEST(test_release_takes_the_domains_entries_off_the_special_nodes)
{
	struct xs_handle *h0 = xsd_fix_open(0);
	struct xs_permissions rel[] = {
		{ 0, XS_PERM_NONE }, { 2, XS_PERM_READ }, { 1, XS_PERM_READ },
	};
	struct xs_permissions intro[] = { { 2, XS_PERM_NONE } };
	struct xs_permissions *got;
	unsigned int num = 0;

	ck_assert(xs_set_permissions(h0, XBT_NULL, "@releaseDomain", rel, 3));
	ck_assert(xs_set_permissions(h0, XBT_NULL, "@introduceDomain", intro,
				     1));
	ck_assert_int_eq(xsd_fix_release(2), 0);
	ck_assert_int_eq(xsd_fix_introduce(2, "two again"), 0);
	got = xs_get_permissions(h0, XBT_NULL, "@releaseDomain", &num);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(num, 2);
	ck_assert_uint_eq(got[0].id, 0);
	ck_assert_uint_eq(got[1].id, 1);
	ck_assert_uint_eq(got[1].perms, XS_PERM_READ);
	free(got);
	got = xs_get_permissions(h0, XBT_NULL, "@introduceDomain", &num);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(num, 1);
	ck_assert_uint_eq(got[0].id, 0);
	ck_assert_uint_eq(got[0].perms, XS_PERM_NONE);
	free(got);
	xs_close(h0);
}
END_TEST

/* xenstored 4.17's set_perms_special(): write and owner both, not write
 * alone; so a domain granted write may not hand the node to itself. */
START_TEST(test_special_node_perms_need_write_and_ownership)
{
	struct xs_handle *h0 = xsd_fix_open(0), *h1 = xsd_fix_open(1);
	struct xs_permissions w1[] = { { 0, XS_PERM_NONE }, { 1, XS_PERM_WRITE } };
	struct xs_permissions own1[] = { { 1, XS_PERM_NONE } };
	struct xs_permissions *got;
	unsigned int num = 0;

	ck_assert(xs_set_permissions(h0, XBT_NULL, "@releaseDomain", w1, 2));
	XSD_FAILS(xs_set_permissions(h1, XBT_NULL, "@releaseDomain", own1, 1),
		  EACCES);
	got = xs_get_permissions(h0, XBT_NULL, "@releaseDomain", &num);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(num, 2);
	ck_assert_uint_eq(got[0].id, 0);
	free(got);
	/* Its owner may. */
	ck_assert(xs_set_permissions(h0, XBT_NULL, "@releaseDomain", own1, 1));
	ck_assert(xs_set_permissions(h1, XBT_NULL, "@releaseDomain", w1, 2));
	xs_close(h1);
	xs_close(h0);
}
END_TEST

START_TEST(test_release_removes_what_the_domain_still_owns)
{
	struct xs_handle *h0 = xsd_fix_open(0);
	struct xs_handle *h2 = xsd_fix_open(2);
	struct xs_permissions to2[] = { { 2, XS_PERM_NONE } };
	unsigned int len, num;
	char **dir;

	ck_assert(xs_write(h0, XBT_NULL, "/tool/given/kept-by-0", "", 0));
	ck_assert(xs_set_permissions(h0, XBT_NULL, "/tool/given", to2, 1));
	ck_assert(xs_write(h2, XBT_NULL, "/tool/given/by2", "", 0));
	ck_assert(xs_write(h0, XBT_NULL, "/tool/other", "", 0));
	watched(h0, "/tool/given", "g");
	ck_assert_int_eq(xsd_fix_release(2), 0);
	/* Its subtree goes with it, whoever owns the nodes below. */
	expect(h0, "/tool/given", "g");
	XSD_FAILS(xs_read(h0, XBT_NULL, "/tool/given/kept-by-0", &len), ENOENT);
	dir = xs_directory(h0, XBT_NULL, "/tool", &num);
	ck_assert_uint_eq(num, 1);
	ck_assert_str_eq(dir[0], "other");
	free(dir);
	xs_close(h2);
	xs_close(h0);
}
END_TEST

START_TEST(test_reset_watches_drops_every_watch)
{
	struct xs_handle *h = xsd_fix_open(0);
	int fd = xsd_fix_raw(0);
	struct xsd_sockmsg hdr = { .type = XS_WATCH, .req_id = 1, .len = 8 };
	char buf[64];

	ck_assert_int_eq(write(fd, &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_int_eq(write(fd, "/tool\0t", 8), 8);
	/* Reply then the initial event. */
	ck_assert_int_eq(read(fd, &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_uint_eq(hdr.type, XS_WATCH);
	ck_assert_int_eq(read(fd, buf, hdr.len), 3);
	ck_assert_int_eq(read(fd, &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_uint_eq(hdr.type, XS_WATCH_EVENT);
	ck_assert_uint_eq(hdr.len, 8);
	ck_assert_int_eq(read(fd, buf, hdr.len), 8);
	ck_assert_mem_eq(buf, "/tool\0t", 8);
	hdr = (struct xsd_sockmsg){ .type = XS_RESET_WATCHES, .req_id = 2 };
	ck_assert_int_eq(write(fd, &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_int_eq(read(fd, &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_uint_eq(hdr.type, XS_RESET_WATCHES);
	ck_assert_uint_eq(hdr.req_id, 2);
	ck_assert_int_eq(read(fd, buf, hdr.len), 3);
	ck_assert_str_eq(buf, "OK");
	/* A write now brings no event: the next message is the reply to a
	 * read sent after it. */
	ck_assert(xs_write(h, XBT_NULL, "/tool/after", "", 0));
	hdr = (struct xsd_sockmsg){ .type = XS_READ, .req_id = 3, .len = 6 };
	ck_assert_int_eq(write(fd, &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_int_eq(write(fd, "/tool", 6), 6);
	ck_assert_int_eq(read(fd, &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_uint_eq(hdr.type, XS_READ);
	ck_assert_uint_eq(hdr.req_id, 3);
	close(fd);
	xs_close(h);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xsd-watch");
	TCase *tc = tcase_create("watch");

	tcase_add_checked_fixture(tc, xsd_fix_start, xsd_fix_stop);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_watch_fires_once_at_registration);
	tcase_add_test(tc, test_watch_fires_for_the_node_and_descendants_only);
	tcase_add_test(tc, test_each_watch_gets_its_own_token);
	tcase_add_test(tc, test_relative_watch_reports_relative_paths);
	tcase_add_test(tc, test_rm_of_an_ancestor_fires_watches_below_it);
	tcase_add_test(tc, test_events_only_reach_domains_that_may_read_the_node);
	tcase_add_test(tc, test_dom0_watch_on_root_sees_guest_writes);
	tcase_add_test(tc, test_introduce_and_release_fire_the_special_watches);
	tcase_add_test(tc, test_introduce_keeps_what_dom0_prepared_in_the_home);
	tcase_add_test(tc, test_granted_guest_hears_release_domain);
	tcase_add_test(tc, test_release_removes_what_the_domain_still_owns);
	tcase_add_test(tc, test_special_node_perms_need_write_and_ownership);
	tcase_add_test(tc, test_release_takes_the_domains_entries_off_the_special_nodes);
	tcase_add_test(tc, test_reset_watches_drops_every_watch);
	suite_add_tcase(s, tc);
	return s;
}
