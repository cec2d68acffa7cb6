/* The one Check runner: every test executable links this with its suite. */
#include <check.h>
#include <stdlib.h>

#include "test-common.h"

int main(void)
{
	SRunner *runner = srunner_create(xv_test_suite());
	int failed;

	/* TAP on stdout lets `meson test -v` name every Check test. */
	srunner_set_tap(runner, "-");
	srunner_run_all(runner, CK_SILENT);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
