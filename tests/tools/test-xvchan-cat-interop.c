/*
 * xvchan-cat against Debian's unmodified libxenvchan (tests/interop's
 * xenvchan-peer) on the simulator, both roles: the rendezvous (keys,
 * permissions, the MirageOS path given explicitly to libxenvchan) and an
 * old peer's end of stream, which has no half-close.
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"
#include "run.h"
#include "test-common.h"

/* Longer than the peer's own --timeout, so that it reports how far it got. */
#define WAIT_MS 30000

static char simdir[] = "/tmp/xv-test-cati-sim-XXXXXX";
static char dir[] = "/tmp/xv-test-cati-XXXXXX";

static bool started;

/*
 * The teardown: stop the simulator and everything the test started, and
 * remove its files.  A failed assertion ends the test's process without
 * it; the processes then die with it (xv_run_spawn()), only the
 * directories stay behind.
 */
static void sim_cleanup(void)
{
	char *stop[] = { (char *)xv_run_exe("XVCHAN_SIM"), (char *)"stop",
			 NULL };
	char *rm[] = { (char *)"/bin/rm", (char *)"-rf", dir, simdir, NULL };

	if (!started)
		return;
	started = false;
	xv_run_quiet(stop, WAIT_MS);
	xv_run_kill_all();
	xv_run_quiet(rm, WAIT_MS);
}

/* The daemon runs in the foreground as this process's child, so that it
 * dies with it (`start` would detach it); it serves once `status` says
 * so. */
static void sim_start(void)
{
	char *daemon[] = { (char *)xv_run_exe("XVCHAN_SIM"), (char *)"daemon",
			   NULL };
	char *status[] = { daemon[0], (char *)"status", NULL };
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	char ctl[sizeof(simdir) + 8];
	int tries, log;

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
		    xv_run_quiet(status, WAIT_MS) == 0) {
			close(log);
			return;
		}
		nanosleep(&nap, NULL);
	}
	ck_abort_msg("the simulator did not start: %s",
		     xv_run_read_all(log, NULL));
}

/* @exe_var's program as domain @domid with @args (NULL-terminated). */
static pid_t spawn_in(unsigned int domid, const char *exe_var,
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

/* libxenvchan serves the MirageOS path, which xvchan-cat builds itself
 * from DOMID and PORT; the server sends and closes while the client's
 * stdin is still open. */
START_TEST(test_cat_client_reads_libxenvchan_server_to_its_close)
{
	const char *peer_args[] = { "--server", "--domid", "2", "--path",
				    "/local/domain/1/data/vchan/2/oldsrv",
				    "--read-size", "4096", "--write-size",
				    "8192", "--send", "200000", "--tx-seed",
				    "5", "--after", "close", "--timeout", "20",
				    NULL };
	const char *cat_args[] = { "1", "oldsrv", NULL };
	int hold[2], out = xv_run_file(dir, "out");
	int perr = xv_run_file(dir, "peer-err"), cerr = xv_run_file(dir, "err");
	unsigned char *got;
	pid_t peer, cat;
	size_t len;
	int s;

	ck_assert_int_eq(pipe2(hold, O_CLOEXEC), 0);
	peer = spawn_in(1, "XVCHAN_PEER", peer_args, -1, -1, perr);
	cat = spawn_in(2, "XVCHAN_CAT", cat_args, hold[0], out, cerr);
	close(hold[0]);
	s = xv_run_wait(peer, WAIT_MS);
	ck_assert_msg(s == 0, "peer exit %d: %s", s,
		      xv_run_read_all(perr, NULL));
	s = xv_run_wait(cat, WAIT_MS);
	ck_assert_msg(s == 0, "xvchan-cat exit %d: %s", s,
		      xv_run_read_all(cerr, NULL));
	got = (unsigned char *)xv_run_read_all(out, &len);
	ck_assert_uint_eq(len, 200000);
	ck_assert_uint_eq(xv_pattern_check(5, 0, got, len), len);
	free(got);
	close(hold[1]);
}
END_TEST

/* xvchan-cat serves an explicit path; libxenvchan reads everything, sees
 * the end (an old peer's half-close is a close) and leaves. */
START_TEST(test_libxenvchan_client_reads_cat_server_to_its_end)
{
	const char *cat_args[] = { "-l", "--read-size", "1K", "--write-size",
				   "2K", "--path", "data/oldcli", "2", NULL };
	const char *peer_args[] = { "--client", "--domid", "1", "--path",
				    "/local/domain/1/data/oldcli", "--expect",
				    "150000", "--rx-seed", "7", "--after",
				    "wait-peer", "--timeout", "20", NULL };
	int in = xv_run_file(dir, "in"), out = xv_run_file(dir, "out");
	int perr = xv_run_file(dir, "peer-err"), cerr = xv_run_file(dir, "err");
	unsigned char *buf = malloc(150000);
	pid_t peer, cat;
	size_t len;
	char *rest;
	int s;

	ck_assert_ptr_nonnull(buf);
	xv_pattern_fill(7, 0, buf, 150000);
	ck_assert_int_eq(write(in, buf, 150000), 150000);
	ck_assert_int_eq(lseek(in, 0, SEEK_SET), 0);
	free(buf);
	cat = spawn_in(1, "XVCHAN_CAT", cat_args, in, out, cerr);
	peer = spawn_in(2, "XVCHAN_PEER", peer_args, -1, -1, perr);
	s = xv_run_wait(peer, WAIT_MS);
	ck_assert_msg(s == 0, "peer exit %d: %s", s,
		      xv_run_read_all(perr, NULL));
	s = xv_run_wait(cat, WAIT_MS);
	ck_assert_msg(s == 0, "xvchan-cat exit %d: %s", s,
		      xv_run_read_all(cerr, NULL));
	rest = xv_run_read_all(out, &len);
	ck_assert_uint_eq(len, 0);
	free(rest);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xvchan-cat-interop");
	TCase *tc = tcase_create("interop");

	tcase_add_checked_fixture(tc, sim_start, sim_cleanup);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_cat_client_reads_libxenvchan_server_to_its_close);
	tcase_add_test(tc, test_libxenvchan_client_reads_cat_server_to_its_end);
	suite_add_tcase(s, tc);
	return s;
}
