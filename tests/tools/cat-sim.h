/* A simulator of its own for each xvchan-cat test (test-xvchan-cat.c,
 * test-xvchan-cat-interop.c), and programs run in its domains. */
#ifndef XV_TEST_CAT_SIM_H
#define XV_TEST_CAT_SIM_H

#include <sys/types.h>

/* Make a state directory /tmp/xv-test-@tag-sim-XXXXXX for the simulator
 * and a scratch one /tmp/xv-test-@tag-XXXXXX, and start the daemon there;
 * returns once it serves.  @timeout_ms bounds each command run to start and
 * to stop it.  Fails the test if the daemon does not start. */
void cat_sim_start(const char *tag, int timeout_ms);

/* Stop the simulator and everything the test started, and remove both
 * directories.  A checked fixture's teardown: nothing to do if
 * cat_sim_start() did not get as far as the daemon. */
void cat_sim_stop(void);

/* A fresh file @name in the scratch directory, for a program's stdio:
 * xv_run_file() there. */
int cat_sim_file(const char *name);

/* The program named by environment variable @exe_var as domain @domid,
 * through `xvchan-sim exec`, with @args (NULL-terminated) and stdio on
 * @in, @out, @err as xv_run_spawn() takes them.  Returns the pid. */
pid_t cat_sim_spawn(unsigned int domid, const char *exe_var,
		    const char *const *args, int in, int out, int err);

#endif
