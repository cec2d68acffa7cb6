/* xvchan-cat's command line: --help, and refusals with exit status 2 and a
 * message, all before any Xen interface is touched. */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "test-common.h"

static char dir[] = "/tmp/xv-test-cat-args-XXXXXX";

static void dir_make(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void dir_remove(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/out", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/err", dir);
	unlink(path);
	rmdir(dir);
}

/* Run xvchan-cat with @args (NULL-terminated); stdout and stderr into
 * *out and *err.  Returns the exit status. */
static int cat_run(const char *const *args, char **out, char **err)
{
	/* No simulator and no xenstore: a refusal must come before both. */
	unsetenv("XENSTORED_PATH");
	return xv_run_capture("XVCHAN_CAT", args, dir, 10000, out, err);
}

START_TEST(test_help_exits_zero_with_man_page_sections)
{
	static const char *const sections[] = {
		"NAME\n", "SYNOPSIS\n", "DESCRIPTION\n", "OPTIONS\n",
		"EXIT STATUS\n", "EXAMPLES\n",
		"xvchan-sim exec --domid 1 -- xvchan-cat -l 2 myport",
		"--read-size", "--write-size", "--path",
	};
	const char *args[] = { "--help", NULL };
	char *out, *err;
	size_t i;

	ck_assert_int_eq(cat_run(args, &out, &err), 0);
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		ck_assert_msg(strstr(out, sections[i]), "--help lacks \"%s\"",
			      sections[i]);
	ck_assert_str_eq(err, "");
	free(out);
	free(err);
	args[0] = "-h";
	ck_assert_int_eq(cat_run(args, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "SYNOPSIS\n"));
	free(out);
	free(err);
}
END_TEST

/* Each refused command line and a word its message must contain. */
static const struct {
	const char *args[6];
	const char *says;
} refused[] = {
	{ { NULL }, "missing DOMID" },
	{ { "1", NULL }, "missing PORT" },
	{ { "abc", "p", NULL }, "'abc' is not a decimal number" },
	{ { "-1", "p", NULL }, "invalid option" },
	{ { "01", "p", NULL }, "'01' is not a decimal number" },
	{ { "32752", "p", NULL }, "'32752' out of range" },
	{ { "99999999999", "p", NULL }, "out of range" },
	{ { "1", "bad/port", NULL }, "must match [a-zA-Z0-9_-]+" },
	{ { "1", "", NULL }, "must match" },
	{ { "1", "p", "extra", NULL }, "unexpected argument 'extra'" },
	{ { "--read-size", "4K", "1", "p", NULL }, "need -l" },
	{ { "-l", "--read-size", "0", "1", "p", NULL }, "out of range" },
	{ { "-l", "--write-size", "2M", "1", "p", NULL }, "out of range" },
	{ { "-l", "--read-size", "4KB", "1", "p", NULL }, "not a size" },
	{ { "-l", "--write-size", "-4", "1", "p", NULL }, "not a size" },
	{ { "--path", "a//b", "1", NULL }, "not a valid xenstore path" },
	{ { "--path", "data/v", "1", "p", NULL }, "--path replaces PORT" },
	{ { "--connect-timeout", "soon", "1", "p", NULL }, "milliseconds" },
	{ { "-t", "99999999999", "1", "p", NULL },
	  "'99999999999' is out of range (0 to 2147483647)" },
	{ { "--bogus", "1", "p", NULL }, "unrecognized option" },
};

START_TEST(test_bad_command_line_exits_two_with_message)
{
	char *out, *err;

	ck_assert_msg(cat_run(refused[_i].args, &out, &err) == 2,
		      "case %d not refused with 2", _i);
	ck_assert_msg(strstr(err, refused[_i].says),
		      "case %d: stderr \"%s\" lacks \"%s\"", _i, err,
		      refused[_i].says);
	ck_assert_msg(strstr(err, "--help"), "case %d: no hint at --help",
		      _i);
	ck_assert_str_eq(out, "");
	free(out);
	free(err);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xvchan-cat-args");
	TCase *tc = tcase_create("args");

	tcase_add_checked_fixture(tc, dir_make, dir_remove);
	tcase_add_test(tc, test_help_exits_zero_with_man_page_sections);
	tcase_add_loop_test(tc, test_bad_command_line_exits_two_with_message,
			    0, (int)(sizeof(refused) / sizeof(refused[0])));
	suite_add_tcase(s, tc);
	return s;
}
