/* Shared by every test file: the suite hook each file defines. */
#ifndef XV_TEST_COMMON_H
#define XV_TEST_COMMON_H

#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>

/* Each test file defines this and builds its whole Suite in it. */
Suite *xv_test_suite(void);

/* Entries of directory @dir now, "." and ".." left out. */
static inline int xv_test_dir_entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Threads of this process now (/proc/self/task): for the tests that a
 * call starts none, or leaves none behind. */
static inline int xv_test_thread_count(void)
{
	return xv_test_dir_entries("/proc/self/task");
}

/* CPU time this process has used, user + system, in ms. Also for forked
 * sides, where a Check assertion would not report: getrusage() on
 * RUSAGE_SELF cannot fail, and if it did the abort would. */
static inline int64_t xv_test_cpu_ms(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		abort();
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* Descriptors open in this process now, not counting the listing's own:
 * for the tests that a call holds or leaks none. */
static inline int xv_test_fd_count(void)
{
	return xv_test_dir_entries("/proc/self/fd") - 1;
}

#endif
