/* tools/common: the number spellings every tool accepts and refuses. */
#include <errno.h>
#include <stdint.h>

#include "common.h"
#include "test-common.h"

START_TEST(test_domid_accepts_plain_decimal_in_range)
{
	unsigned int d = 99;

	ck_assert_int_eq(xv_tool_parse_domid("0", &d), 0);
	ck_assert_uint_eq(d, 0);
	ck_assert_int_eq(xv_tool_parse_domid("2", &d), 0);
	ck_assert_uint_eq(d, 2);
	ck_assert_int_eq(xv_tool_parse_domid("32751", &d), 0);
	ck_assert_uint_eq(d, 32751);
}
END_TEST

START_TEST(test_domid_refuses_reserved_and_huge_as_range)
{
	unsigned int d = 99;

	ck_assert_int_eq(xv_tool_parse_domid("32752", &d), -ERANGE);
	ck_assert_int_eq(xv_tool_parse_domid("65535", &d), -ERANGE);
	ck_assert_int_eq(xv_tool_parse_domid("4294967298", &d), -ERANGE);
	ck_assert_int_eq(xv_tool_parse_domid("99999999999999999999999", &d),
			 -ERANGE);
	ck_assert_uint_eq(d, 99);
}
END_TEST

START_TEST(test_domid_refuses_other_spellings_as_syntax)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "01", "0x1", "1K", "one", "1.0",
	};
	unsigned int d = 99;
	size_t i;

	ck_assert_int_eq(xv_tool_parse_domid(NULL, &d), -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(xv_tool_parse_domid(bad[i], &d) == -EINVAL,
			      "domid \"%s\" not refused as syntax", bad[i]);
	ck_assert_uint_eq(d, 99);
}
END_TEST

START_TEST(test_size_accepts_suffixes_k_and_m)
{
	size_t v = 0;

	ck_assert_int_eq(xv_tool_parse_size("4096", 1, SIZE_MAX, &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(xv_tool_parse_size("64K", 1, SIZE_MAX, &v), 0);
	ck_assert_uint_eq(v, 65536);
	ck_assert_int_eq(xv_tool_parse_size("2k", 1, SIZE_MAX, &v), 0);
	ck_assert_uint_eq(v, 2048);
	ck_assert_int_eq(xv_tool_parse_size("1M", 1, SIZE_MAX, &v), 0);
	ck_assert_uint_eq(v, 1048576);
	ck_assert_int_eq(xv_tool_parse_size("3m", 1, SIZE_MAX, &v), 0);
	ck_assert_uint_eq(v, 3145728);
}
END_TEST

START_TEST(test_size_range_is_inclusive_and_checked_after_suffix)
{
	size_t v = 7;

	ck_assert_int_eq(xv_tool_parse_size("1", 1, 1048576, &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(xv_tool_parse_size("1024K", 1, 1048576, &v), 0);
	ck_assert_uint_eq(v, 1048576);
	v = 7;
	ck_assert_int_eq(xv_tool_parse_size("0", 1, 1048576, &v), -ERANGE);
	ck_assert_int_eq(xv_tool_parse_size("1025K", 1, 1048576, &v),
			 -ERANGE);
	ck_assert_int_eq(xv_tool_parse_size("2M", 1, 1048576, &v), -ERANGE);
	/* Multiplying by the suffix must not wrap into range. */
	ck_assert_int_eq(xv_tool_parse_size("17592186044416M", 1, SIZE_MAX,
					     &v), -ERANGE);
	ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(test_size_refuses_other_spellings_as_syntax)
{
	static const char *const bad[] = {
		"", "K", "-1", "+4", " 4", "4 ", "4KB", "4Ki", "4G", "0x10",
		"1.5M", "010", "4KK",
	};
	size_t v = 7;
	size_t i;

	ck_assert_int_eq(xv_tool_parse_size(NULL, 0, SIZE_MAX, &v), -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(xv_tool_parse_size(bad[i], 0, SIZE_MAX, &v) ==
			      -EINVAL, "size \"%s\" not refused as syntax",
			      bad[i]);
	ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(test_uint_parses_milliseconds_strictly)
{
	unsigned long v = 7;

	ck_assert_int_eq(xv_tool_parse_uint("0", 100, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(xv_tool_parse_uint("100", 100, &v), 0);
	ck_assert_uint_eq(v, 100);
	ck_assert_int_eq(xv_tool_parse_uint("101", 100, &v), -ERANGE);
	ck_assert_int_eq(xv_tool_parse_uint("1K", 100000, &v), -EINVAL);
	ck_assert_int_eq(xv_tool_parse_uint("-1", 100, &v), -EINVAL);
	ck_assert_int_eq(xv_tool_parse_uint("", 100, &v), -EINVAL);
	ck_assert_uint_eq(v, 100);
}
END_TEST

START_TEST(test_tool_name_is_basename_of_argv0)
{
	xv_tool_set_name("/usr/local/bin/xvchan-cat");
	ck_assert_str_eq(xv_tool_name(), "xvchan-cat");
	xv_tool_set_name("plain");
	ck_assert_str_eq(xv_tool_name(), "plain");
	/* An empty argv[0] keeps the name already set. */
	xv_tool_set_name("");
	ck_assert_str_eq(xv_tool_name(), "plain");
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("tool-parse");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_domid_accepts_plain_decimal_in_range);
	tcase_add_test(tc, test_domid_refuses_reserved_and_huge_as_range);
	tcase_add_test(tc, test_domid_refuses_other_spellings_as_syntax);
	tcase_add_test(tc, test_size_accepts_suffixes_k_and_m);
	tcase_add_test(tc, test_size_range_is_inclusive_and_checked_after_suffix);
	tcase_add_test(tc, test_size_refuses_other_spellings_as_syntax);
	tcase_add_test(tc, test_uint_parses_milliseconds_strictly);
	tcase_add_test(tc, test_tool_name_is_basename_of_argv0);
	suite_add_tcase(s, tc);
	return s;
}
