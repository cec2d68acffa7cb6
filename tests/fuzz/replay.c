/*
 * Corpus replay: runs every file of a fuzz target's corpus through the
 * target once, so any build (gcc too, no libFuzzer) keeps the corpus
 * passing. XV_FUZZ_CORPUS names the directory (set by meson).
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "test-common.h"

static size_t replay_file(const char *dir, const char *name)
{
	char path[4096];
	unsigned char *buf;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_ge(len, 0);
	rewind(f);
	/* Exactly the file's size, so ASan sees any read past the input. */
	buf = malloc(len ? (size_t)len : 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	ck_assert_int_eq(LLVMFuzzerTestOneInput(buf, (size_t)len), 0);
	free(buf);
	return 1;
}

START_TEST(test_every_corpus_input_keeps_the_invariants)
{
	const char *dir = getenv("XV_FUZZ_CORPUS");
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	ck_assert_msg(dir && *dir, "XV_FUZZ_CORPUS unset: run through meson");
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n += replay_file(dir, e->d_name);
	closedir(d);
	/* An empty corpus would make this test pass without testing. */
	ck_assert_uint_ge(n, 1);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("fuzz-replay");
	TCase *tc = tcase_create("replay");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_corpus_input_keeps_the_invariants);
	suite_add_tcase(s, tc);
	return s;
}
