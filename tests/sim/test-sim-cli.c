/* The xvchan-sim command: exec with xenstore-utils, and its errors. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "sim-daemon.h"
#include "test-common.h"
#include "test-sim.h"

START_TEST(test_exec_runs_xenstore_utils_as_dom0_and_domus)
{
	ck_assert_int_eq(SIM("exec", "--domid", "1", "--", "xenstore-write",
			     "data/greeting", "hello"), 0);
	ck_assert_int_eq(SIM("exec", "--domid", "0", "--", "xenstore-read",
			     "/local/domain/1/data/greeting"), 0);
	ck_assert_str_eq(sim_out, "hello\n");
	ck_assert_int_eq(SIM("exec", "--domid", "1", "xenstore-read",
			     "data/greeting"), 0);
	ck_assert_str_eq(sim_out, "hello\n");
	/* dom2 may not read dom1's node. */
	ck_assert_int_ne(SIM("exec", "--domid", "2", "--", "xenstore-read",
			     "/local/domain/1/data/greeting"), 0);
	ck_assert_ptr_nonnull(strstr(sim_out, "couldn't read path"));
	/* A new domain appears on first use, with its domid node. */
	ck_assert_int_eq(SIM("exec", "--domid=5", "--", "xenstore-read",
			     "domid"), 0);
	ck_assert_str_eq(sim_out, "5\n");
	ck_assert_int_eq(SIM("exec", "--domid", "0", "--", "xenstore-ls",
			     "/local/domain/5"), 0);
	ck_assert_ptr_nonnull(strstr(sim_out, "domid = \"5\""));
	ck_assert_int_eq(SIM("status"), 0);
	ck_assert_ptr_nonnull(strstr(sim_out, "domains: 0 1 2 5\n"));
}
END_TEST

START_TEST(test_exec_sets_the_domain_environment)
{
	static char expect[3 * PATH_MAX + 64];
	char dir[PATH_MAX], exe_dir[PATH_MAX];

	ck_assert_ptr_nonnull(realpath(xv_test_sim_dir(), dir));
	ck_assert_ptr_nonnull(realpath(xv_test_sim_exe(), exe_dir));
	*strrchr(exe_dir, '/') = '\0';
	/* Without the override, the build tree's preload/ is found beside
	 * the executable. */
	unsetenv("XVCHAN_SIM_PRELOAD");
	unsetenv("LD_PRELOAD");
	ck_assert_int_eq(SIM("exec", "--domid", "7", "--", "sh", "-c",
			     "echo $XVCHAN_SIM_DIR $XVCHAN_SIM_DOMID $XENSTORED_PATH $LD_PRELOAD"), 0);
	snprintf(expect, sizeof(expect),
		 "%s 7 %s/xenstore/7 %s/preload/libxvchan-sim-preload.so\n",
		 dir, dir, exe_dir);
	ck_assert_str_eq(sim_out, expect);
	/* A caller's own LD_PRELOAD is kept, after ours. */
	setenv("LD_PRELOAD", "libc.so.6", 1);
	ck_assert_int_eq(SIM("exec", "--domid", "7", "--", "sh", "-c",
			     "echo $LD_PRELOAD"), 0);
	snprintf(expect, sizeof(expect),
		 "%s/preload/libxvchan-sim-preload.so:libc.so.6\n", exe_dir);
	ck_assert_str_eq(sim_out, expect);
}
END_TEST

/* As a shell: 127 for a program not found, 126 for one found but not
 * executable, and --help says so. */
START_TEST(test_exec_reports_a_missing_program)
{
	char path[] = "/tmp/xvchan-test-noexec-XXXXXX";
	int fd;

	ck_assert_int_eq(SIM("exec", "--domid", "1", "--",
			     "/nonexistent/program"), 127);
	ck_assert_ptr_nonnull(strstr(sim_out, "cannot run /nonexistent/program"));
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(SIM("exec", "--domid", "1", "--", path), 126);
	ck_assert_ptr_nonnull(strstr(sim_out, "Permission denied"));
	unlink(path);
	ck_assert_int_eq(SIM("--help"), 0);
	ck_assert_ptr_nonnull(strstr(sim_out, "127 if it\n"
				     "            is not found, 126 if it is "
				     "found but cannot be executed."));
}
END_TEST

START_TEST(test_bad_domids_are_refused)
{
	static const char *const bad[] = { "32752", "-1", "abc", "1x", "",
					    "99999999999" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(SIM("exec", "--domid", bad[i], "--", "true"), 1);
		ck_assert_ptr_nonnull(strstr(sim_out, "bad domid"));
	}
	ck_assert_int_eq(SIM("exec", "--domid", "32751", "--", "true"), 0);
	ck_assert_int_eq(SIM("exec", "--", "true"), 2);
	ck_assert_int_eq(SIM("exec", "--domid", "1"), 2);
	/* A missing value is not an unknown option. */
	ck_assert_int_eq(SIM("exec", "--domid"), 2);
	ck_assert_ptr_nonnull(strstr(sim_out, "xvchan-sim: exec: --domid needs "
				     "a value (0 to 32751)\n"));
	ck_assert_int_eq(SIM("destroy", "--domid"), 2);
	ck_assert_ptr_nonnull(strstr(sim_out, "xvchan-sim: destroy: --domid "
				     "needs a value"));
}
END_TEST

START_TEST(test_commands_without_a_daemon_say_so)
{
	char empty[] = "/tmp/xvchan-test-empty-XXXXXX";
	const char *dir = xv_test_sim_dir();
	char saved[128];

	snprintf(saved, sizeof(saved), "%s", dir);
	ck_assert_ptr_nonnull(mkdtemp(empty));
	setenv("XVCHAN_SIM_DIR", empty, 1);
	ck_assert_int_eq(SIM("exec", "--domid", "1", "--", "true"), 1);
	ck_assert_ptr_nonnull(strstr(sim_out, "daemon not running"));
	ck_assert_int_eq(SIM("stop"), 1);
	ck_assert_ptr_nonnull(strstr(sim_out, "daemon not running"));
	ck_assert_int_eq(SIM("status"), 3);
	ck_assert_ptr_nonnull(strstr(sim_out, "not running"));
	setenv("XVCHAN_SIM_DIR", saved, 1);
	snprintf(saved, sizeof(saved), "%s/lock", empty);
	unlink(saved);
	ck_assert_int_eq(rmdir(empty), 0);
}
END_TEST

START_TEST(test_start_twice_is_refused)
{
	ck_assert_int_eq(SIM("start"), 1);
	ck_assert_ptr_nonnull(strstr(sim_out, "already running"));
}
END_TEST

/* Wait until the daemon's lock is free, i.e. it is really gone. */
static void wait_lock_free(const char *lock)
{
	int i, fd = open(lock, O_RDWR);

	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 500 && flock(fd, LOCK_EX | LOCK_NB) < 0; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	ck_assert_int_lt(i, 500);
	close(fd);
}

/* The running daemon's pid, from its lock file, whose path goes to
 * @lock. */
static pid_t daemon_pid(char *lock, size_t len)
{
	char buf[32] = "";
	pid_t pid;
	int fd;

	snprintf(lock, len, "%s/lock", xv_test_sim_dir());
	fd = open(lock, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(read(fd, buf, sizeof(buf) - 1), 0);
	close(fd);
	pid = (pid_t)atoi(buf);
	ck_assert_int_gt(pid, 0);
	return pid;
}

START_TEST(test_a_crashed_daemon_is_reported_and_recovered)
{
	char lock[256];

	ck_assert_int_eq(kill(daemon_pid(lock, sizeof(lock)), SIGKILL), 0);
	wait_lock_free(lock);

	ck_assert_int_eq(SIM("exec", "--domid", "1", "--", "true"), 1);
	ck_assert_ptr_nonnull(strstr(sim_out, "died"));
	ck_assert_int_eq(SIM("status"), 3);
	ck_assert_int_eq(SIM("start"), 0);
	ck_assert_int_eq(SIM("exec", "--domid", "1", "--", "xenstore-read",
			     "domid"), 0);
	ck_assert_str_eq(sim_out, "1\n");
}
END_TEST

START_TEST(test_sigterm_stops_the_daemon_cleanly)
{
	char lock[256], buf[32];
	int fd;

	ck_assert_int_eq(kill(daemon_pid(lock, sizeof(lock)), SIGTERM), 0);
	wait_lock_free(lock);
	/* A clean stop empties the pid: nothing to report as crashed. */
	fd = open(lock, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	ck_assert_int_eq(SIM("exec", "--domid", "1", "--", "true"), 1);
	ck_assert_ptr_null(strstr(sim_out, "died"));
	ck_assert_ptr_nonnull(strstr(sim_out, "daemon not running"));
	ck_assert_int_eq(SIM("start"), 0);
}
END_TEST

/* `status` and `stop` find out whether a daemon lives by taking its lock
 * for a moment: a daemon starting then must not take that for another
 * daemon ("already running (pid 0)"). */
START_TEST(test_start_waits_out_a_status_probing_the_lock)
{
	char lock[256];
	int p[2], fd;
	pid_t pid;
	char c;

	ck_assert_int_eq(SIM("stop"), 0);
	snprintf(lock, sizeof(lock), "%s/lock", xv_test_sim_dir());
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fd = open(lock, O_RDWR);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 ||
		    write(p[1], "h", 1) != 1)
			_exit(1);
		nanosleep(&(struct timespec){ .tv_nsec = 200000000 }, NULL);
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	ck_assert_int_eq(SIM("start"), 0);
	ck_assert_int_eq(xv_test_wait(pid, 5000), 0);
	ck_assert_int_eq(SIM("status"), 0);
	ck_assert_ptr_nonnull(strstr(sim_out, "running: pid"));
}
END_TEST

START_TEST(test_stats_counts_the_ports_and_grants_of_each_domain)
{
	xenevtchn_handle *e;
	xengntshr_handle *g;
	uint32_t refs[3];
	void *pages;

	ck_assert_int_eq(SIM("stats"), 0);
	ck_assert_str_eq(sim_out, "domain ports grants\n0 0 0\n1 0 0\n2 0 0\n");
	ck_assert_int_eq(setenv("XVCHAN_SIM_DOMID", "1", 1), 0);
	e = xenevtchn_open(NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_gt(xenevtchn_bind_unbound_port(e, 2), 0);
	ck_assert_int_gt(xenevtchn_bind_unbound_port(e, 0), 0);
	g = xengntshr_open(NULL, 0);
	ck_assert_ptr_nonnull(g);
	pages = xengntshr_share_pages(g, 2, 3, refs, 1);
	ck_assert_ptr_nonnull(pages);
	ck_assert_int_eq(SIM("stats"), 0);
	ck_assert_str_eq(sim_out, "domain ports grants\n0 0 0\n1 2 3\n2 0 0\n");
	ck_assert_int_eq(xengntshr_unshare(g, pages, 3), 0);
	ck_assert_int_eq(xenevtchn_close(e), 0);
	ck_assert_int_eq(SIM("stats"), 0);
	ck_assert_str_eq(sim_out, "domain ports grants\n0 0 0\n1 0 0\n2 0 0\n");
	ck_assert_int_eq(xengntshr_close(g), 0);
}
END_TEST

START_TEST(test_help_describes_every_command)
{
	ck_assert_int_eq(SIM("--help"), 0);
	ck_assert_ptr_nonnull(strstr(sim_out, "Usage: xvchan-sim"));
	ck_assert_ptr_nonnull(strstr(sim_out, "XVCHAN_SIM_PRELOAD"));
	ck_assert_ptr_nonnull(strstr(sim_out, "exec --domid N"));
	ck_assert_ptr_nonnull(strstr(sim_out, "  stats "));
	ck_assert_int_eq(SIM("frobnicate"), 2);
}
END_TEST

START_TEST(test_a_missing_preload_library_is_reported)
{
	setenv("XVCHAN_SIM_PRELOAD", "/nonexistent/preload.so", 1);
	ck_assert_int_eq(SIM("exec", "--domid", "1", "--", "true"), 1);
	ck_assert_ptr_nonnull(strstr(sim_out, "/nonexistent/preload.so"));
}
END_TEST

/* ld.so splits LD_PRELOAD at spaces and colons: a preload path with one
 * would load nothing, and the program would run on the real Xen
 * libraries.  Refused instead, the preload itself being fine. */
START_TEST(test_a_preload_path_ld_so_would_split_is_refused)
{
	static const char *const names[] = { "with space", "with:colon" };
	char dir[] = "/tmp/xvchan-test-preload-XXXXXX";
	char real[PATH_MAX], link[PATH_MAX + 64], *slash;
	size_t i;

	ck_assert_ptr_nonnull(realpath(xv_test_sim_exe(), real));
	slash = strrchr(real, '/');
	snprintf(slash, sizeof(real) - (size_t)(slash - real),
		 "/preload/libxvchan-sim-preload.so");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < 2; i++) {
		snprintf(link, sizeof(link), "%s/%s.so", dir, names[i]);
		ck_assert_int_eq(symlink(real, link), 0);
		setenv("XVCHAN_SIM_PRELOAD", link, 1);
		ck_assert_int_eq(SIM("exec", "--domid", "1", "--", "true"), 1);
		ck_assert_ptr_nonnull(strstr(sim_out, link));
		ck_assert_ptr_nonnull(strstr(sim_out, "space or a colon"));
		unlink(link);
	}
	unsetenv("XVCHAN_SIM_PRELOAD");
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("sim-cli");
	TCase *tc = tcase_create("cli");

	tcase_add_checked_fixture(tc, xv_test_sim_start, xv_test_sim_stop);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_exec_runs_xenstore_utils_as_dom0_and_domus);
	tcase_add_test(tc, test_exec_sets_the_domain_environment);
	tcase_add_test(tc, test_exec_reports_a_missing_program);
	tcase_add_test(tc, test_bad_domids_are_refused);
	tcase_add_test(tc, test_commands_without_a_daemon_say_so);
	tcase_add_test(tc, test_start_twice_is_refused);
	tcase_add_test(tc, test_a_crashed_daemon_is_reported_and_recovered);
	tcase_add_test(tc, test_sigterm_stops_the_daemon_cleanly);
	tcase_add_test(tc, test_start_waits_out_a_status_probing_the_lock);
	tcase_add_test(tc, test_stats_counts_the_ports_and_grants_of_each_domain);
	tcase_add_test(tc, test_help_describes_every_command);
	tcase_add_test(tc, test_a_missing_preload_library_is_reported);
	tcase_add_test(tc, test_a_preload_path_ld_so_would_split_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
