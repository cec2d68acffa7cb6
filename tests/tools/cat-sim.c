/* The simulator the xvchan-cat tests each start (cat-sim.h). */
#define _GNU_SOURCE

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cat-sim.h"
#include "run.h"
#include "test-common.h"

static char simdir[64];
static char dir[64];
static int wait_ms;
static bool started;

/* A failed assertion ends the test's process without cat_sim_stop(); the
 * processes then die with it (xv_run_spawn()), only the directories stay
 * behind. */
void cat_sim_stop(void)
{
	char *stop[] = { (char *)xv_run_exe("XVCHAN_SIM"), (char *)"stop",
			 NULL };
	char *rm[] = { (char *)"/bin/rm", (char *)"-rf", dir, simdir, NULL };

	if (!started)
		return;
	started = false;
	xv_run_quiet(stop, wait_ms);
	xv_run_kill_all();
	xv_run_quiet(rm, wait_ms);
}

/* The daemon runs in the foreground as this process's child, so that it
 * dies with it (`start` would detach it); it serves once `status` says
 * so. */
void cat_sim_start(const char *tag, int timeout_ms)
{
	char *daemon[] = { (char *)xv_run_exe("XVCHAN_SIM"), (char *)"daemon",
			   NULL };
	char *status[] = { daemon[0], (char *)"status", NULL };
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	char ctl[sizeof(simdir) + 8];
	int tries, log;

	wait_ms = timeout_ms;
	snprintf(simdir, sizeof(simdir), "/tmp/xv-test-%s-sim-XXXXXX", tag);
	snprintf(dir, sizeof(dir), "/tmp/xv-test-%s-XXXXXX", tag);
	ck_assert_ptr_nonnull(mkdtemp(simdir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(setenv("XVCHAN_SIM_DIR", simdir, 1), 0);
	started = true;
	log = xv_run_file(dir, "sim-log");
	xv_run_spawn(daemon, -1, log, log);
	/* `status` only once the control socket exists: earlier, its probe
	 * of the daemon's lock can make the starting daemon believe another
	 * one runs. */
	snprintf(ctl, sizeof(ctl), "%s/ctl", simdir);
	for (tries = 0; tries < 1000; tries++) {
		if (access(ctl, F_OK) == 0 &&
		    xv_run_quiet(status, wait_ms) == 0) {
			close(log);
			return;
		}
		nanosleep(&nap, NULL);
	}
	ck_abort_msg("the simulator did not start: %s",
		     xv_run_read_all(log, NULL));
}

int cat_sim_file(const char *name)
{
	return xv_run_file(dir, name);
}

pid_t cat_sim_spawn(unsigned int domid, const char *exe_var,
		    const char *const *args, int in, int out, int err)
{
	char *argv[32], domstr[16];
	size_t n = 0;

	snprintf(domstr, sizeof(domstr), "%u", domid);
	argv[n++] = (char *)xv_run_exe("XVCHAN_SIM");
	argv[n++] = (char *)"exec";
	argv[n++] = (char *)"--domid";
	argv[n++] = domstr;
	argv[n++] = (char *)"--";
	argv[n++] = (char *)xv_run_exe(exe_var);
	for (; *args && n < 31; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	return xv_run_spawn(argv, in, out, err);
}
