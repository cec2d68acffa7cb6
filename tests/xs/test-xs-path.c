/* xs/ without xenstore: port and path rules, path building, number parsing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xs-internal.h"

/* A string of @n copies of @c, malloc'd. */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

START_TEST(test_port_accepts_mirage_characters)
{
	ck_assert_int_eq(xv_xs_port_check("a"), 0);
	ck_assert_int_eq(xv_xs_port_check("my_port-2"), 0);
	ck_assert_int_eq(xv_xs_port_check("ABCxyz0189_-"), 0);
}
END_TEST

START_TEST(test_port_rejects_anything_else)
{
	static const char *const bad[] = {
		"", "a/b", "a.b", "a b", "@a", "x\n", "p\xc3\xa9", "a:b",
	};
	size_t i;

	ck_assert_int_eq(xv_xs_port_check(NULL), -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(xv_xs_port_check(bad[i]) == -EINVAL,
			      "port \"%s\" accepted", bad[i]);
}
END_TEST

START_TEST(test_port_length_limit_is_exact)
{
	char *ok = repeat('p', XV_XS_PORT_MAX);
	char *long1 = repeat('p', XV_XS_PORT_MAX + 1);

	ck_assert_int_eq(xv_xs_port_check(ok), 0);
	ck_assert_int_eq(xv_xs_port_check(long1), -EINVAL);
	free(ok);
	free(long1);
}
END_TEST

START_TEST(test_path_build_follows_mirage_convention)
{
	char *p = NULL;

	ck_assert_int_eq(xv_xs_path_build(&p, 1, 2, "myport"), 0);
	ck_assert_str_eq(p, "/local/domain/1/data/vchan/2/myport");
	free(p);
	ck_assert_int_eq(xv_xs_path_build(&p, 0, 32751, "x"), 0);
	ck_assert_str_eq(p, "/local/domain/0/data/vchan/32751/x");
	free(p);
}
END_TEST

START_TEST(test_path_build_never_truncates_longest_port)
{
	char *port = repeat('z', XV_XS_PORT_MAX);
	char *p = NULL;
	size_t want = strlen("/local/domain/32751/data/vchan/32751/")
		      + XV_XS_PORT_MAX;

	ck_assert_int_eq(xv_xs_path_build(&p, 32751, 32751, port), 0);
	ck_assert_uint_eq(strlen(p), want);
	ck_assert_str_eq(p + want - XV_XS_PORT_MAX, port);
	/* The longest built path is still a valid explicit path. */
	ck_assert_int_eq(xv_xs_path_check(p), 0);
	free(p);
	free(port);
}
END_TEST

START_TEST(test_path_build_rejects_reserved_domids)
{
	char *p = (char *)"untouched";

	ck_assert_int_eq(xv_xs_path_build(&p, 0x7FF0, 2, "x"), -EINVAL);
	ck_assert_int_eq(xv_xs_path_build(&p, 1, 0x7FF0, "x"), -EINVAL);
	ck_assert_int_eq(xv_xs_path_build(&p, UINT32_MAX, 2, "x"), -EINVAL);
	ck_assert_str_eq(p, "untouched");
}
END_TEST

START_TEST(test_path_build_rejects_bad_port_and_leaves_out_alone)
{
	char *p = (char *)"untouched";

	ck_assert_int_eq(xv_xs_path_build(&p, 1, 2, "bad/port"), -EINVAL);
	ck_assert_int_eq(xv_xs_path_build(&p, 1, 2, ""), -EINVAL);
	ck_assert_int_eq(xv_xs_path_build(&p, 1, 2, NULL), -EINVAL);
	ck_assert_str_eq(p, "untouched");
}
END_TEST

START_TEST(test_path_check_accepts_absolute_and_relative)
{
	ck_assert_int_eq(xv_xs_path_check("/local/domain/1/data/vchan/2/p"), 0);
	ck_assert_int_eq(xv_xs_path_check("data/vchan/test"), 0);
	ck_assert_int_eq(xv_xs_path_check("/tool/x@y_z-1"), 0);
}
END_TEST

START_TEST(test_path_check_rejects_malformed)
{
	static const char *const bad[] = {
		"", "/", "@introduceDomain", "/a/", "a//b", "//a", "/a b",
		"/a.b", "/a\tb", "/a:b", "data/",
	};
	size_t i;

	ck_assert_int_eq(xv_xs_path_check(NULL), -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(xv_xs_path_check(bad[i]) == -EINVAL,
			      "path \"%s\" accepted", bad[i]);
}
END_TEST

/* xenstored counts 2048 bytes from after /local/domain/<N>/, or from the
 * start for any other path; our longest key adds 14 ("/event-channel"). */
START_TEST(test_path_check_length_matches_xenstored_count)
{
	const char *home = "/local/domain/12345/";
	size_t room = 2048 - strlen("/event-channel");
	char *tail_ok = repeat('a', room);
	char *tail_long = repeat('a', room + 1);
	char *p = malloc(strlen(home) + room + 2);

	ck_assert_ptr_nonnull(p);
	strcpy(p, home);
	strcat(p, tail_ok);
	ck_assert_int_eq(xv_xs_path_check(p), 0);
	strcpy(p, home);
	strcat(p, tail_long);
	ck_assert_int_eq(xv_xs_path_check(p), -EINVAL);
	/* Relative paths and other absolute ones count whole. */
	ck_assert_int_eq(xv_xs_path_check(tail_ok), 0);
	ck_assert_int_eq(xv_xs_path_check(tail_long), -EINVAL);
	tail_ok[0] = '/';
	ck_assert_int_eq(xv_xs_path_check(tail_ok), 0);
	tail_long[0] = '/';
	ck_assert_int_eq(xv_xs_path_check(tail_long), -EINVAL);
	/* A six-digit "domid" is no home for xenstored's %5u. */
	free(p);
	p = malloc(strlen("/local/domain/123456/") + room + 1);
	ck_assert_ptr_nonnull(p);
	strcpy(p, "/local/domain/123456/");
	strcat(p, tail_ok + 1);
	ck_assert_int_eq(xv_xs_path_check(p), -EINVAL);
	free(p);
	free(tail_ok);
	free(tail_long);
}
END_TEST

START_TEST(test_mirage_shape_is_recognised_exactly)
{
	ck_assert(xv_xs_path_is_mirage("/local/domain/1/data/vchan/2/p"));
	ck_assert(xv_xs_path_is_mirage("/local/domain/0/data/vchan/0/a-b_c"));
	ck_assert(!xv_xs_path_is_mirage("/local/domain/1/data/vchan/2"));
	ck_assert(!xv_xs_path_is_mirage("/local/domain/1/data/vchan/2/p/q"));
	ck_assert(!xv_xs_path_is_mirage("/local/domain/01/data/vchan/2/p"));
	ck_assert(!xv_xs_path_is_mirage("/local/domain/1/data/vchan/x/p"));
	ck_assert(!xv_xs_path_is_mirage("/local/domain/1/data/other/2/p"));
	ck_assert(!xv_xs_path_is_mirage("local/domain/1/data/vchan/2/p"));
	ck_assert(!xv_xs_path_is_mirage("/local/domain/4294967296/data/vchan/2/p"));
}
END_TEST

START_TEST(test_decimal_parse_accepts_strict_decimal_in_range)
{
	uint32_t v = 0;

	ck_assert_int_eq(xv_xs_decimal_parse("0", 1, 0, 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(xv_xs_decimal_parse("4294967295", 10, 1, UINT32_MAX,
					      &v), 0);
	ck_assert_uint_eq(v, UINT32_MAX);
	/* Only @len bytes count: what follows is not looked at. */
	ck_assert_int_eq(xv_xs_decimal_parse("42xyz", 2, 1, 100, &v), 0);
	ck_assert_uint_eq(v, 42);
}
END_TEST

START_TEST(test_decimal_parse_rejects_garbage_and_out_of_range)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "01", "0x10", "1e3", "abc",
		"4294967296", "99999999999", "12a",
	};
	uint32_t v = 7;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(xv_xs_decimal_parse(bad[i], strlen(bad[i]), 0,
						  UINT32_MAX, &v) == -EPROTO,
			      "\"%s\" accepted", bad[i]);
	/* A NUL inside the value is garbage too. */
	ck_assert_int_eq(xv_xs_decimal_parse("1\0002", 3, 0, 1000, &v),
			 -EPROTO);
	ck_assert_int_eq(xv_xs_decimal_parse("0", 1, 1, 10, &v), -EPROTO);
	ck_assert_int_eq(xv_xs_decimal_parse("11", 2, 1, 10, &v), -EPROTO);
	ck_assert_uint_eq(v, 7);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xs-path");
	TCase *tc = tcase_create("path");

	tcase_add_test(tc, test_port_accepts_mirage_characters);
	tcase_add_test(tc, test_port_rejects_anything_else);
	tcase_add_test(tc, test_port_length_limit_is_exact);
	tcase_add_test(tc, test_path_build_follows_mirage_convention);
	tcase_add_test(tc, test_path_build_never_truncates_longest_port);
	tcase_add_test(tc, test_path_build_rejects_reserved_domids);
	tcase_add_test(tc, test_path_build_rejects_bad_port_and_leaves_out_alone);
	tcase_add_test(tc, test_path_check_accepts_absolute_and_relative);
	tcase_add_test(tc, test_path_check_rejects_malformed);
	tcase_add_test(tc, test_path_check_length_matches_xenstored_count);
	tcase_add_test(tc, test_mirage_shape_is_recognised_exactly);
	tcase_add_test(tc, test_decimal_parse_accepts_strict_decimal_in_range);
	tcase_add_test(tc, test_decimal_parse_rejects_garbage_and_out_of_range);
	suite_add_tcase(s, tc);
	return s;
}
