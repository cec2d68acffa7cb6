/* xenstored permissions: owners, per-domain grants, inheritance on
 * creation, dom0's privilege and what a denied domain may learn. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-common.h"
#include "xsd-fixture.h"

static void assert_perms(struct xs_handle *h, const char *path,
			 const struct xs_permissions *want, unsigned int n)
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

START_TEST(test_domain_home_is_dom0_owned_and_readable_by_the_domain)
{
	struct xs_handle *h0 = xsd_fix_open(0);
	static const struct xs_permissions home[] = {
		{ 0, XS_PERM_NONE }, { 1, XS_PERM_READ },
	};
	static const struct xs_permissions data[] = { { 1, XS_PERM_NONE } };

	assert_perms(h0, "/local/domain/1", home, 2);
	assert_perms(h0, "/local/domain/1/domid", home, 2);
	assert_perms(h0, "/local/domain/1/data", data, 1);
	xs_close(h0);
}
END_TEST

START_TEST(test_guest_creates_nodes_it_owns_with_inherited_grants)
{
	struct xs_handle *h0 = xsd_fix_open(0);
	struct xs_handle *h1 = xsd_fix_open(1);
	struct xs_permissions grant[] = {
		{ 1, XS_PERM_NONE }, { 2, XS_PERM_READ },
	};
	static const struct xs_permissions want[] = {
		{ 1, XS_PERM_NONE }, { 2, XS_PERM_READ },
	};

	ck_assert(xs_mkdir(h1, XBT_NULL, "data/shared"));
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/shared", grant, 2));
	ck_assert(xs_write(h1, XBT_NULL, "data/shared/a/b", "x", 1));
	assert_perms(h1, "data/shared/a", want, 2);
	assert_perms(h1, "data/shared/a/b", want, 2);
	xs_close(h1);
	xs_close(h0);
}
END_TEST

START_TEST(test_dom0_created_node_keeps_the_parent_owner)
{
	struct xs_handle *h0 = xsd_fix_open(0);
	static const struct xs_permissions want[] = { { 1, XS_PERM_NONE } };

	/* xenstored gives a new node to its creator only for guests. */
	ck_assert(xs_write(h0, XBT_NULL, "/local/domain/1/data/by0", "", 0));
	assert_perms(h0, "/local/domain/1/data/by0", want, 1);
	xs_close(h0);
}
END_TEST

START_TEST(test_other_domain_cannot_read_or_write_a_private_node)
{
	struct xs_handle *h1 = xsd_fix_open(1);
	struct xs_handle *h2 = xsd_fix_open(2);
	unsigned int len, num;

	ck_assert(xs_write(h1, XBT_NULL, "data/secret", "s", 1));
	XSD_FAILS(xs_read(h2, XBT_NULL, "/local/domain/1/data/secret", &len),
		  EACCES);
	XSD_FAILS(xs_write(h2, XBT_NULL, "/local/domain/1/data/secret", "x", 1),
		  EACCES);
	XSD_FAILS(xs_directory(h2, XBT_NULL, "/local/domain/1/data", &num),
		  EACCES);
	XSD_FAILS(xs_rm(h2, XBT_NULL, "/local/domain/1/data/secret"), EACCES);
	xs_close(h2);
	xs_close(h1);
}
END_TEST

START_TEST(test_missing_node_under_unreadable_parent_is_eacces)
{
	struct xs_handle *h2 = xsd_fix_open(2);
	unsigned int len;

	/* ENOENT would tell dom2 what does not exist in dom1's area. */
	XSD_FAILS(xs_read(h2, XBT_NULL, "/local/domain/1/data/none", &len),
		  EACCES);
	XSD_FAILS(xs_write(h2, XBT_NULL, "/local/domain/1/data/new", "", 0),
		  EACCES);
	XSD_FAILS(xs_write(h2, XBT_NULL, "/tool/new", "", 0), EACCES);
	/* Right under the root, which is dom0's alone. */
	XSD_FAILS(xs_read(h2, XBT_NULL, "/nothing", &len), EACCES);
	xs_close(h2);
	h2 = xsd_fix_open(0);
	XSD_FAILS(xs_read(h2, XBT_NULL, "/nothing", &len), ENOENT);
	xs_close(h2);
}
END_TEST

START_TEST(test_read_grant_lets_the_peer_read_but_not_write)
{
	struct xs_handle *h1 = xsd_fix_open(1);
	struct xs_handle *h2 = xsd_fix_open(2);
	struct xs_permissions grant[] = {
		{ 1, XS_PERM_NONE }, { 2, XS_PERM_READ },
	};
	unsigned int len;
	char *v;

	ck_assert(xs_write(h1, XBT_NULL, "data/ring-ref", "8", 1));
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/ring-ref", grant, 2));
	v = xs_read(h2, XBT_NULL, "/local/domain/1/data/ring-ref", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 1);
	ck_assert_mem_eq(v, "8", 1);
	free(v);
	XSD_FAILS(xs_write(h2, XBT_NULL, "/local/domain/1/data/ring-ref",
			   "9", 1), EACCES);
	xs_close(h2);
	xs_close(h1);
}
END_TEST

START_TEST(test_default_entry_applies_to_unlisted_domains)
{
	struct xs_handle *h1 = xsd_fix_open(1);
	struct xs_handle *h2 = xsd_fix_open(2);
	struct xs_permissions p[] = {
		{ 1, XS_PERM_READ | XS_PERM_WRITE }, { 2, XS_PERM_NONE },
	};
	struct xs_permissions open_all[] = {
		{ 1, XS_PERM_READ | XS_PERM_WRITE },
	};
	unsigned int len;
	char *v;

	ck_assert(xs_write(h1, XBT_NULL, "data/pub", "p", 1));
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/pub", open_all, 1));
	ck_assert(xs_write(h2, XBT_NULL, "/local/domain/1/data/pub", "q", 1));
	/* An explicit entry wins over the default: dom2 is shut out. */
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/pub", p, 2));
	XSD_FAILS(xs_read(h2, XBT_NULL, "/local/domain/1/data/pub", &len),
		  EACCES);
	v = xs_read(h1, XBT_NULL, "data/pub", &len);
	ck_assert_mem_eq(v, "q", 1);
	free(v);
	xs_close(h2);
	xs_close(h1);
}
END_TEST

START_TEST(test_dom0_reads_and_writes_everything)
{
	struct xs_handle *h0 = xsd_fix_open(0);
	struct xs_handle *h1 = xsd_fix_open(1);
	unsigned int len;
	char *v;

	ck_assert(xs_write(h1, XBT_NULL, "data/mine", "1", 1));
	v = xs_read(h0, XBT_NULL, "/local/domain/1/data/mine", &len);
	ck_assert_mem_eq(v, "1", 1);
	free(v);
	ck_assert(xs_write(h0, XBT_NULL, "/local/domain/1/data/mine", "0", 1));
	ck_assert(xs_rm(h0, XBT_NULL, "/local/domain/1/data/mine"));
	xs_close(h1);
	xs_close(h0);
}
END_TEST

START_TEST(test_guest_cannot_give_a_node_away_or_chmod_others)
{
	struct xs_handle *h1 = xsd_fix_open(1);
	struct xs_handle *h0 = xsd_fix_open(0);
	struct xs_permissions to2[] = { { 2, XS_PERM_NONE } };
	struct xs_permissions mine[] = { { 1, XS_PERM_READ } };
	struct xs_permissions six[6] = {
		{ 1, 0 }, { 2, 1 }, { 3, 1 }, { 4, 1 }, { 5, 1 }, { 6, 1 },
	};
	static const struct xs_permissions want[] = { { 2, XS_PERM_NONE } };

	ck_assert(xs_write(h1, XBT_NULL, "data/x", "", 0));
	XSD_FAILS(xs_set_permissions(h1, XBT_NULL, "data/x", to2, 1), EPERM);
	/* Readable (via home's r1) but not its own: not the owner. */
	XSD_FAILS(xs_set_permissions(h1, XBT_NULL, "domid", mine, 1), EACCES);
	XSD_FAILS(xs_set_permissions(h1, XBT_NULL, "data/x", six, 6), ENOSPC);
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/x", six, 5));
	/* dom0 may hand it over. */
	ck_assert(xs_set_permissions(h0, XBT_NULL, "/local/domain/1/data/x",
				     to2, 1));
	assert_perms(h0, "/local/domain/1/data/x", want, 1);
	xs_close(h0);
	xs_close(h1);
}
END_TEST

START_TEST(test_both_grant_allows_read_and_write)
{
	struct xs_handle *h1 = xsd_fix_open(1);
	struct xs_handle *h2 = xsd_fix_open(2);
	struct xs_permissions p[] = {
		{ 1, XS_PERM_NONE }, { 2, XS_PERM_READ | XS_PERM_WRITE },
	};
	unsigned int len;
	char *v;

	ck_assert(xs_write(h1, XBT_NULL, "data/both", "", 0));
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/both", p, 2));
	ck_assert(xs_write(h2, XBT_NULL, "/local/domain/1/data/both", "w", 1));
	v = xs_read(h2, XBT_NULL, "/local/domain/1/data/both", &len);
	ck_assert_mem_eq(v, "w", 1);
	free(v);
	/*
	 * A child dom2 creates is dom2's, with dom1's list inherited: the
	 * owner entry becomes n2, so dom1, unlisted, falls to "n" (as with
	 * xenstored, whose construct_node() only swaps the owner).
	 */
	ck_assert(xs_write(h2, XBT_NULL, "/local/domain/1/data/both/c", "",
			   0));
	{
		static const struct xs_permissions want[] = {
			{ 2, XS_PERM_NONE },
			{ 2, XS_PERM_READ | XS_PERM_WRITE },
		};
		struct xs_handle *h0 = xsd_fix_open(0);

		assert_perms(h0, "/local/domain/1/data/both/c", want, 2);
		xs_close(h0);
	}
	XSD_FAILS(xs_read(h1, XBT_NULL, "data/both/c", &len), EACCES);
	xs_close(h2);
	xs_close(h1);
}
END_TEST

/*
 * xenstored 4.17 stops honouring the entries of a domain once it is gone
 * (its generation check), so a new domain given the same id does not
 * inherit what the old one was granted.
 */
START_TEST(test_a_new_domain_does_not_inherit_a_released_ones_grant)
{
	struct xs_handle *h0 = xsd_fix_open(0), *h1 = xsd_fix_open(1);
	struct xs_handle *h2 = xsd_fix_open(2);
	struct xs_permissions grant[] = {
		{ 1, XS_PERM_NONE }, { 2, XS_PERM_READ },
	};
	static const struct xs_permissions left[] = { { 1, XS_PERM_NONE } };
	unsigned int len;
	char *v;

	ck_assert(xs_write(h1, XBT_NULL, "data/shared", "x", 1));
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/shared", grant, 2));
	v = xs_read(h2, XBT_NULL, "/local/domain/1/data/shared", &len);
	ck_assert_ptr_nonnull(v);
	free(v);
	xs_close(h2);
	ck_assert_int_eq(xsd_fix_release(2), 0);
	ck_assert_int_eq(xsd_fix_introduce(2, "two again"), 0);
	h2 = xsd_fix_open(2);
	XSD_FAILS(xs_read(h2, XBT_NULL, "/local/domain/1/data/shared", &len),
		  EACCES);
	assert_perms(h0, "/local/domain/1/data/shared", left, 1);
	/* Granted again, to the domain that exists now, it reads. */
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/shared", grant, 2));
	v = xs_read(h2, XBT_NULL, "/local/domain/1/data/shared", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "x");
	free(v);
	xs_close(h2);
	xs_close(h1);
	xs_close(h0);
}
END_TEST

/* A transaction that copied the node while the old domain lived must not
 * write its grant back when it commits after the release. */
START_TEST(test_a_transaction_cannot_write_a_released_domains_grant_back)
{
	struct xs_handle *h1 = xsd_fix_open(1), *h2;
	struct xs_permissions grant[] = {
		{ 1, XS_PERM_NONE }, { 2, XS_PERM_READ },
	};
	xs_transaction_t t;
	unsigned int len;
	char *v;

	ck_assert(xs_write(h1, XBT_NULL, "data/shared", "x", 1));
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/shared", grant, 2));
	t = xs_transaction_start(h1);
	ck_assert(t != XBT_NULL);
	v = xs_read(h1, t, "data/shared", &len);
	ck_assert_ptr_nonnull(v);
	free(v);
	ck_assert_int_eq(xsd_fix_release(2), 0);
	ck_assert_int_eq(xsd_fix_introduce(2, "two again"), 0);
	ck_assert(xs_write(h1, t, "data/shared", "y", 1));
	XSD_FAILS(xs_transaction_end(h1, t, false), EAGAIN);
	h2 = xsd_fix_open(2);
	XSD_FAILS(xs_read(h2, XBT_NULL, "/local/domain/1/data/shared", &len),
		  EACCES);
	xs_close(h2);
	xs_close(h1);
}
END_TEST

/*
 * Not as on Xen, where xenstored ignores an entry naming a domain the
 * hypervisor does not know when the permissions are set: the simulator
 * creates a domain only when something runs in it (xvchan-sim exec), and
 * a server may publish for a client domain that has not started yet.
 */
START_TEST(test_a_grant_to_a_domain_not_there_yet_works_once_it_is)
{
	struct xs_handle *h1 = xsd_fix_open(1), *h7;
	struct xs_permissions grant[] = {
		{ 1, XS_PERM_NONE }, { 7, XS_PERM_READ },
	};
	unsigned int len;
	char *v;

	ck_assert(xs_write(h1, XBT_NULL, "data/early", "x", 1));
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/early", grant, 2));
	ck_assert_int_eq(xsd_fix_introduce(7, "seven"), 0);
	h7 = xsd_fix_open(7);
	v = xs_read(h7, XBT_NULL, "/local/domain/1/data/early", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "x");
	free(v);
	xs_close(h7);
	xs_close(h1);
}
END_TEST

START_TEST(test_bad_permission_strings_are_einval)
{
	struct xs_handle *h0 = xsd_fix_open(0);
	int fd = xsd_fix_raw(0);
	static const char body[] = "/tool\0x1";
	struct xsd_sockmsg hdr = {
		.type = XS_SET_PERMS, .req_id = 5, .len = sizeof(body),
	};
	char reply[64];

	ck_assert_int_eq(write(fd, &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_int_eq(write(fd, body, sizeof(body)), sizeof(body));
	ck_assert_int_eq(read(fd, &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_uint_eq(hdr.type, XS_ERROR);
	ck_assert_uint_eq(hdr.req_id, 5);
	ck_assert_uint_eq(hdr.len, 7);
	ck_assert_int_eq(read(fd, reply, hdr.len), 7);
	ck_assert_str_eq(reply, "EINVAL");
	close(fd);
	xs_close(h0);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xsd-perms");
	TCase *tc = tcase_create("perms");

	tcase_add_checked_fixture(tc, xsd_fix_start, xsd_fix_stop);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_domain_home_is_dom0_owned_and_readable_by_the_domain);
	tcase_add_test(tc, test_guest_creates_nodes_it_owns_with_inherited_grants);
	tcase_add_test(tc, test_dom0_created_node_keeps_the_parent_owner);
	tcase_add_test(tc, test_other_domain_cannot_read_or_write_a_private_node);
	tcase_add_test(tc, test_missing_node_under_unreadable_parent_is_eacces);
	tcase_add_test(tc, test_read_grant_lets_the_peer_read_but_not_write);
	tcase_add_test(tc, test_default_entry_applies_to_unlisted_domains);
	tcase_add_test(tc, test_dom0_reads_and_writes_everything);
	tcase_add_test(tc, test_guest_cannot_give_a_node_away_or_chmod_others);
	tcase_add_test(tc, test_both_grant_allows_read_and_write);
	tcase_add_test(tc, test_bad_permission_strings_are_einval);
	tcase_add_test(tc, test_a_new_domain_does_not_inherit_a_released_ones_grant);
	tcase_add_test(tc, test_a_transaction_cannot_write_a_released_domains_grant_back);
	tcase_add_test(tc, test_a_grant_to_a_domain_not_there_yet_works_once_it_is);
	suite_add_tcase(s, tc);
	return s;
}
