/*
 * The survivor of a kill frees everything: the endpoint program
 * (tests/interop/xvchan-peer, XVCHAN_PEER_EXE) runs under valgrind's
 * memcheck (VALGRIND) with definite and indirect leaks as errors; its peer
 * is SIGKILLed once the transfer is through; the survivor must notice,
 * close and exit cleanly. (The preload's own per-process buffers stay
 * reachable, as any library's process-wide state does.) Uninitialised
 * value checks are off here: the preload sends uninitialised words to the
 * daemon (sim/preload/gnttab.c share(), see the faults report), which is
 * not what this test is about.
 */
#include "flow-test.h"
#include "fault-sim.h"

#include <sys/stat.h>

static const char *fl_env(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v && *v, "%s unset: run through meson test", name);
	return v;
}

/* Wait for @path to exist (the victim's --done-file). */
static void fl_wait_file(const char *path, int timeout_ms)
{
	int64_t end = fs_now_ns() + (int64_t)timeout_ms * 1000000;
	struct stat st;

	while (stat(path, &st) != 0) {
		ck_assert_msg(fs_now_ns() < end, "%s never appeared", path);
		fs_sleep_us(5000);
	}
}

static void fl_round(bool survivor_is_server, const char *name)
{
	const char *peer = fl_env("XVCHAN_PEER_EXE");
	const char *valgrind = fl_env("VALGRIND");
	char path[64], done[300];
	pid_t survivor, victim;
	int ports, grants;

	snprintf(path, sizeof(path), "/local/domain/1/data/%s", name);
	snprintf(done, sizeof(done), "%s/%s.done", xv_test_sim_dir(), name);
	{
		char *argv[] = {
			(char *)valgrind, "-q", "--undef-value-errors=no",
			"--leak-check=full",
			"--errors-for-leak-kinds=definite,indirect",
			"--error-exitcode=99", (char *)peer,
			survivor_is_server ? "--server" : "--client",
			"--domid", survivor_is_server ? "2" : "1",
			"--path", path, "--send", "100000",
			"--after", "wait-peer", "--timeout", "60", NULL
		};

		survivor = xv_test_spawn(survivor_is_server ? 1 : 2, argv);
	}
	{
		char *argv[] = {
			(char *)peer, survivor_is_server ? "--client" :
							   "--server",
			"--domid", survivor_is_server ? "1" : "2",
			"--path", path, "--rx-seed", "1", "--expect",
			"100000", "--done-file", done, "--after", "hang",
			NULL
		};

		victim = xv_test_spawn(survivor_is_server ? 2 : 1, argv);
	}
	fl_wait_file(done, 60000);
	ck_assert_int_eq(kill(victim, SIGKILL), 0);
	ck_assert_int_eq(xv_test_wait(victim, FT_WAIT_MS), 128 + SIGKILL);
	ck_assert_int_eq(xv_test_wait(survivor, 60000), 0);
	ck_assert_msg(fs_sim_settle(0, 0, 2000, &ports, &grants) == 0,
		      "the simulator still holds %d ports, %d grant objects",
		      ports, grants);
}

START_TEST(test_a_server_that_survives_a_kill_frees_everything)
{
	fl_round(true, "leak-server");
}
END_TEST

START_TEST(test_a_client_that_survives_a_kill_frees_everything)
{
	fl_round(false, "leak-client");
}
END_TEST

static void fl_setup(void)
{
	xv_test_sim_start();
}

static void fl_teardown(void)
{
	xv_test_sim_stop();
}

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("faults-leak");
	TCase *tc = tcase_create("leak");

	tcase_add_checked_fixture(tc, fl_setup, fl_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_a_server_that_survives_a_kill_frees_everything);
	tcase_add_test(tc, test_a_client_that_survives_a_kill_frees_everything);
	suite_add_tcase(s, tc);
	return s;
}
