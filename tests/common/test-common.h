/* Shared by every test file: the suite hook each file defines. */
#ifndef XV_TEST_COMMON_H
#define XV_TEST_COMMON_H

#include <check.h>

/* Each test file defines this and builds its whole Suite in it. */
Suite *xv_test_suite(void);

#endif
