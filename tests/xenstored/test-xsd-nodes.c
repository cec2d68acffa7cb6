/* xenstored nodes through libxenstore: read, write, mkdir, rm, directory,
 * relative paths, domain paths and the size and name limits. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xsd-fixture.h"

START_TEST(test_write_then_read_returns_the_exact_bytes)
{
	struct xs_handle *h = xsd_fix_open(0);
	static const char data[] = { 'a', 0, 'b', (char)0xff };
	unsigned int len = 99;
	char *v;

	ck_assert(xs_write(h, XBT_NULL, "/tool/x", data, sizeof(data)));
	v = xs_read(h, XBT_NULL, "/tool/x", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, sizeof(data));
	ck_assert_mem_eq(v, data, sizeof(data));
	free(v);
	ck_assert(xs_write(h, XBT_NULL, "/tool/x", "", 0));
	v = xs_read(h, XBT_NULL, "/tool/x", &len);
	ck_assert_uint_eq(len, 0);
	free(v);
	xs_close(h);
}
END_TEST

START_TEST(test_read_of_missing_node_is_enoent)
{
	struct xs_handle *h = xsd_fix_open(0);
	unsigned int len;

	XSD_FAILS(xs_read(h, XBT_NULL, "/tool/nothing", &len), ENOENT);
	xs_close(h);
}
END_TEST

START_TEST(test_deep_write_creates_missing_parents_empty)
{
	struct xs_handle *h = xsd_fix_open(0);
	unsigned int len = 99, num = 0;
	char *v;
	char **dir;

	ck_assert(xs_write(h, XBT_NULL, "/tool/a/b/c", "v", 1));
	v = xs_read(h, XBT_NULL, "/tool/a/b", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 0);
	free(v);
	dir = xs_directory(h, XBT_NULL, "/tool/a", &num);
	ck_assert_uint_eq(num, 1);
	ck_assert_str_eq(dir[0], "b");
	free(dir);
	xs_close(h);
}
END_TEST

START_TEST(test_directory_lists_children_in_creation_order)
{
	struct xs_handle *h = xsd_fix_open(0);
	unsigned int num = 0;
	char **dir;

	ck_assert(xs_write(h, XBT_NULL, "/tool/d/zz", "", 0));
	ck_assert(xs_mkdir(h, XBT_NULL, "/tool/d/aa"));
	ck_assert(xs_write(h, XBT_NULL, "/tool/d/mm", "1", 1));
	dir = xs_directory(h, XBT_NULL, "/tool/d", &num);
	ck_assert_uint_eq(num, 3);
	ck_assert_str_eq(dir[0], "zz");
	ck_assert_str_eq(dir[1], "aa");
	ck_assert_str_eq(dir[2], "mm");
	free(dir);
	dir = xs_directory(h, XBT_NULL, "/tool/d/zz", &num);
	ck_assert_ptr_nonnull(dir);
	ck_assert_uint_eq(num, 0);
	free(dir);
	xs_close(h);
}
END_TEST

START_TEST(test_directory_too_big_for_one_reply_comes_in_parts)
{
	struct xs_handle *h = xsd_fix_open(0);
	char path[128];
	unsigned int num = 0;
	char **dir;

	/* 300 names of 20 bytes: 6300 bytes, over XENSTORE_PAYLOAD_MAX. */
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/tool/big/child-%013d", i);
		ck_assert(xs_write(h, XBT_NULL, path, "", 0));
	}
	dir = xs_directory(h, XBT_NULL, "/tool/big", &num);
	ck_assert_ptr_nonnull(dir);
	ck_assert_uint_eq(num, 300);
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "child-%013d", i);
		ck_assert_str_eq(dir[i], path);
	}
	free(dir);
	xs_close(h);
}
END_TEST

START_TEST(test_mkdir_of_existing_node_keeps_its_value)
{
	struct xs_handle *h = xsd_fix_open(0);
	unsigned int len;
	char *v;

	ck_assert(xs_write(h, XBT_NULL, "/tool/m", "keep", 4));
	ck_assert(xs_mkdir(h, XBT_NULL, "/tool/m"));
	v = xs_read(h, XBT_NULL, "/tool/m", &len);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(v, "keep", 4);
	free(v);
	xs_close(h);
}
END_TEST

START_TEST(test_rm_removes_the_whole_subtree)
{
	struct xs_handle *h = xsd_fix_open(0);
	unsigned int len, num = 9;
	char **dir;

	ck_assert(xs_write(h, XBT_NULL, "/tool/r/a/b", "1", 1));
	ck_assert(xs_write(h, XBT_NULL, "/tool/r/c", "2", 1));
	ck_assert(xs_write(h, XBT_NULL, "/tool/keep", "3", 1));
	ck_assert(xs_rm(h, XBT_NULL, "/tool/r"));
	XSD_FAILS(xs_read(h, XBT_NULL, "/tool/r/a/b", &len), ENOENT);
	XSD_FAILS(xs_read(h, XBT_NULL, "/tool/r", &len), ENOENT);
	dir = xs_directory(h, XBT_NULL, "/tool", &num);
	ck_assert_uint_eq(num, 1);
	ck_assert_str_eq(dir[0], "keep");
	free(dir);
	/* Re-creating finds no stale children. */
	ck_assert(xs_mkdir(h, XBT_NULL, "/tool/r"));
	dir = xs_directory(h, XBT_NULL, "/tool/r", &num);
	ck_assert_uint_eq(num, 0);
	free(dir);
	xs_close(h);
}
END_TEST

START_TEST(test_rm_of_missing_node_succeeds_only_if_parent_exists)
{
	struct xs_handle *h = xsd_fix_open(0);

	ck_assert(xs_rm(h, XBT_NULL, "/tool/never"));
	XSD_FAILS(xs_rm(h, XBT_NULL, "/tool/never/deeper"), ENOENT);
	XSD_FAILS(xs_rm(h, XBT_NULL, "/"), EINVAL);
	xs_close(h);
}
END_TEST

START_TEST(test_relative_paths_resolve_under_the_domain_home)
{
	struct xs_handle *h1 = xsd_fix_open(1);
	struct xs_handle *h0 = xsd_fix_open(0);
	unsigned int len;
	char *v;

	ck_assert(xs_write(h1, XBT_NULL, "data/rel", "r1", 2));
	v = xs_read(h0, XBT_NULL, "/local/domain/1/data/rel", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(v, "r1", 2);
	free(v);
	v = xs_read(h1, XBT_NULL, "domid", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "1");
	free(v);
	v = xs_read(h0, XBT_NULL, "name", &len);
	ck_assert_str_eq(v, "Domain-0");
	free(v);
	xs_close(h0);
	xs_close(h1);
}
END_TEST

START_TEST(test_get_domain_path_names_the_home)
{
	struct xs_handle *h = xsd_fix_open(2);
	char *p = xs_get_domain_path(h, 7);

	ck_assert_str_eq(p, "/local/domain/7");
	free(p);
	xs_close(h);
}
END_TEST

START_TEST(test_is_domain_introduced_answers_for_dom0)
{
	struct xs_handle *h = xsd_fix_open(0);

	ck_assert(xs_is_domain_introduced(h, 1));
	ck_assert(!xs_is_domain_introduced(h, 5));
	xs_close(h);
}
END_TEST

START_TEST(test_invalid_path_characters_are_einval)
{
	struct xs_handle *h = xsd_fix_open(0);
	static const char *const bad[] = {
		"/tool/a b", "/tool/a//b", "/tool/a/", "/tool/\xc3\xa9",
		"/tool/a.b", "@foo",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_msg(!xs_write(h, XBT_NULL, bad[i], "x", 1), "%s",
			      bad[i]);
		ck_assert_int_eq(errno, EINVAL);
	}
	ck_assert(xs_write(h, XBT_NULL, "/tool/A-z_0@9", "x", 1));
	xs_close(h);
}
END_TEST

START_TEST(test_path_length_limits_match_xenstored)
{
	struct xs_handle *h = xsd_fix_open(0);
	char path[XENSTORE_ABS_PATH_MAX + 64];
	size_t home = strlen("/local/domain/1/");

	/* Outside a home: at most XENSTORE_REL_PATH_MAX bytes in all. */
	memset(path, 'a', sizeof(path));
	memcpy(path, "/tool/", 6);
	path[XENSTORE_REL_PATH_MAX] = '\0';
	ck_assert(xs_write(h, XBT_NULL, path, "", 0));
	path[XENSTORE_REL_PATH_MAX] = 'a';
	path[XENSTORE_REL_PATH_MAX + 1] = '\0';
	XSD_FAILS(xs_write(h, XBT_NULL, path, "", 0), EINVAL);
	/* Under /local/domain/<id>/: that much past the prefix. */
	memset(path, 'b', sizeof(path));
	memcpy(path, "/local/domain/1/", home);
	path[home + XENSTORE_REL_PATH_MAX] = '\0';
	ck_assert(xs_write(h, XBT_NULL, path, "", 0));
	path[home + XENSTORE_REL_PATH_MAX] = 'b';
	path[home + XENSTORE_REL_PATH_MAX + 1] = '\0';
	XSD_FAILS(xs_write(h, XBT_NULL, path, "", 0), EINVAL);
	xs_close(h);
}
END_TEST

START_TEST(test_oversized_value_is_rejected_by_the_payload_limit)
{
	struct xs_handle *h = xsd_fix_open(0);
	static char big[XENSTORE_PAYLOAD_MAX];
	unsigned int len;
	char *v;

	memset(big, 'v', sizeof(big));
	/* Path "/tool/v\0" is 8 bytes: 4088 of value fill the payload. */
	ck_assert(xs_write(h, XBT_NULL, "/tool/v", big,
			   XENSTORE_PAYLOAD_MAX - 8));
	v = xs_read(h, XBT_NULL, "/tool/v", &len);
	ck_assert_uint_eq(len, XENSTORE_PAYLOAD_MAX - 8);
	free(v);
	XSD_FAILS(xs_write(h, XBT_NULL, "/tool/v", big,
			   XENSTORE_PAYLOAD_MAX - 7), E2BIG);
	xs_close(h);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xsd-nodes");
	TCase *tc = tcase_create("nodes");

	tcase_add_checked_fixture(tc, xsd_fix_start, xsd_fix_stop);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_write_then_read_returns_the_exact_bytes);
	tcase_add_test(tc, test_read_of_missing_node_is_enoent);
	tcase_add_test(tc, test_deep_write_creates_missing_parents_empty);
	tcase_add_test(tc, test_directory_lists_children_in_creation_order);
	tcase_add_test(tc, test_directory_too_big_for_one_reply_comes_in_parts);
	tcase_add_test(tc, test_mkdir_of_existing_node_keeps_its_value);
	tcase_add_test(tc, test_rm_removes_the_whole_subtree);
	tcase_add_test(tc, test_rm_of_missing_node_succeeds_only_if_parent_exists);
	tcase_add_test(tc, test_relative_paths_resolve_under_the_domain_home);
	tcase_add_test(tc, test_get_domain_path_names_the_home);
	tcase_add_test(tc, test_is_domain_introduced_answers_for_dom0);
	tcase_add_test(tc, test_invalid_path_characters_are_einval);
	tcase_add_test(tc, test_path_length_limits_match_xenstored);
	tcase_add_test(tc, test_oversized_value_is_rejected_by_the_payload_limit);
	suite_add_tcase(s, tc);
	return s;
}
