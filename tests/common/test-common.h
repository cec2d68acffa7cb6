/* Shared by every test file: the suite hook each file defines. */
#ifndef XV_TEST_COMMON_H
#define XV_TEST_COMMON_H

#include <check.h>
#include <dirent.h>

/* Each test file defines this and builds its whole Suite in it. */
Suite *xv_test_suite(void);

/* Threads of this process now (/proc/self/task): for the tests that a
 * call starts none, or leaves none behind. */
static inline int xv_test_thread_count(void)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

#endif
