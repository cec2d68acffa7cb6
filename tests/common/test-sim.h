/*
 * A private simulator per test: a daemon in a fresh state directory, and
 * helpers to run code or programs as its domains.
 *
 * Test executables get XVCHAN_SIM_EXE and XVCHAN_SIM_PRELOAD from meson's
 * `sim_test_env`.  Those that fork domains (xv_test_fork_domain) must link
 * `sim_preload_dep`, listed before anything that links libxengnttab or
 * libxenevtchn, so that xengnttab_* / xenevtchn_* in the test binary
 * resolve to the simulator (tests/sim/test-sim-grants.c checks this with
 * dladdr()).  sim_preload_dep brings the Xen headers too.
 */
#ifndef XV_TEST_SIM_H
#define XV_TEST_SIM_H

#include <sys/types.h>

/* Start a private simulator in a fresh mkdtemp state dir (sets
 * XVCHAN_SIM_DIR in this process's env) and create domains 0, 1, 2.
 * ck_assert()s on failure. */
void xv_test_sim_start(void);
/* Stop the daemon and remove its state directory. */
void xv_test_sim_stop(void);
const char *xv_test_sim_dir(void);
/* The xvchan-sim executable under test. */
const char *xv_test_sim_exe(void);

/* Create domain @domid if it does not exist yet. */
void xv_test_sim_domain(unsigned int domid);

/* Destroy domain @domid (1 to 32751) as `xl destroy` does, with
 * `xvchan-sim destroy --domid N`: its processes (those started with
 * xv_test_spawn() or xv_test_fork_domain(), and any holding a simulator
 * handle or a xenstore connection as @domid: the caller too, if it does)
 * are SIGKILLed and none of their death actions run (no unmap
 * notification, ports closed without an event), then xenstore releases
 * the domain (@releaseDomain).  Returns once all of that has happened;
 * ck_assert()s that the command exits 0.  The killed children are still
 * the caller's to reap. */
void xv_test_sim_destroy(unsigned int domid);

/* Spawn argv as simulated domain domid (like xvchan-sim exec). Returns pid,
 * already counted as the domain's (xv_test_sim_destroy() kills it).
 * The child inherits stdout, which is the TAP stream: spawn programs that
 * print nothing there (or send their output elsewhere). */
pid_t xv_test_spawn(unsigned int domid, char *const argv[]);

/* Fork a child that is simulated domain domid: returns 0 in the child (env
 * set up so the preload and libxenstore in THIS binary use the sim), the
 * pid in the parent, already counted as the domain's
 * (xv_test_sim_destroy() kills it; its own children are not, unless they
 * hold a handle or xenstore connection).  The domain is created first if
 * needed. */
pid_t xv_test_fork_domain(unsigned int domid);

/* Wait up to timeout_ms: exit status, 128+signal if killed, or -ETIMEDOUT
 * (then the child is SIGKILLed and reaped). */
int xv_test_wait(pid_t pid, int timeout_ms);

/* How many descriptors process @pid has open (/proc/PID/fd). */
int xv_test_open_fds(pid_t pid);

#endif
