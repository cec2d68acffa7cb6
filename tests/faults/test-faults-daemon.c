/*
 * The simulator's daemon SIGKILLed. It plays the hypervisor and xenstored,
 * but only for set-up: the data path and event delivery go process to
 * process. So what is connected keeps streaming and closes cleanly; what
 * needs the daemon (a new endpoint) fails at once with a clear error; a
 * restarted daemon (`xvchan-sim start` on the same directory) serves new
 * connections. One thing is lost while it is down: nobody runs the unmap
 * notifications of a process that dies, so its peer only learns of the
 * death from its own io timeout.
 */
#include "flow-test.h"
#include "fault-sim.h"

#include <sys/file.h>
#include <sys/wait.h>

/* Whether the daemon's lock is free, i.e. no daemon holds it. */
static bool fd_lock_free(void)
{
	char path[300];
	bool free_now;
	int fd;

	snprintf(path, sizeof(path), "%s/lock", xv_test_sim_dir());
	fd = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	free_now = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return free_now;
}

static void fd_kill_daemon(void)
{
	pid_t pid = fs_daemon_pid();

	ck_assert_int_gt(pid, 1);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	/* Its lock goes with its last descriptor: a zombie that nobody
	 * reaps yet holds none. */
	for (int i = 0; i < 2000 && !fd_lock_free(); i++)
		fs_sleep_us(1000);
	ck_assert(fd_lock_free());
}

static void fd_start_daemon(void)
{
	char *argv[] = { (char *)xv_test_sim_exe(), "start", NULL };
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "xvchan-sim start on the same directory failed");
}

static const size_t fd_stream_total = 4u << 20;

static void fd_stream_server(void *arg)
{
	int *up = arg;
	struct xvchan *x = ft_server("daemon-stream", 4096, 4096, 0);

	ft_signal(up[1]);
	ft_write_and_close(x, 21, fd_stream_total);
}

static void fd_stream_client(void *arg)
{
	int *up = arg;
	struct xvchan *x = ft_client("daemon-stream", 0);

	ft_signal(up[1]);
	/* The server's close shut its side down first. */
	ft_read_to_eof_and_close(x, 21, fd_stream_total);
}

START_TEST(test_connected_endpoints_keep_streaming_when_the_daemon_dies)
{
	pid_t srv, cli;
	int up[2];

	FT_PIPE(up);
	srv = ft_fork_side(FT_SERVER_DOM, fd_stream_server, up);
	cli = ft_fork_side(FT_CLIENT_DOM, fd_stream_client, up);
	ck_assert_int_eq(read(up[0], (char[2]){ 0 }, 1), 1);
	ck_assert_int_eq(read(up[0], (char[2]){ 0 }, 1), 1);
	/* Mid-stream: 4 MiB through a 4 KiB ring takes many turns. */
	fd_kill_daemon();
	FT_WAIT_PAIR(srv, cli, FT_WAIT_MS);
	ft_close_pipe(up);
	fd_start_daemon();
}
END_TEST

static void fd_dead_side(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	int64_t t = fs_now_ns();

	ft_config(&cfg, 0);
	/* xenstored's socket is still there but nobody listens:
	 * connect()'s error, passed through. */
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "daemon-dead", 4096, 4096,
			    &cfg), -ECONNREFUSED);
	FT_EQ(xvchan_client(&x, FT_CLIENT_DOM, "daemon-dead", &cfg),
	      -ECONNREFUSED);
	FT_ASSERT(x == NULL);
	FT_ASSERT(fs_now_ns() - t < 1000 * 1000000ll);
}

START_TEST(test_new_endpoints_fail_at_once_while_the_daemon_is_dead)
{
	pid_t pid;

	fd_kill_daemon();
	pid = ft_fork_side(FT_SERVER_DOM, fd_dead_side, NULL);
	ck_assert_int_eq(xv_test_wait(pid, FT_WAIT_MS), 0);
	fd_start_daemon();
}
END_TEST

static void fd_again_server(void *arg)
{
	struct xvchan *x = ft_server("daemon-again", 4096, 65536, 0);

	ft_write_pattern(x, 22, 300000);
	ft_read_pattern(x, 23, 5000);
	FT_EQ(xvchan_close(x), 0);
}

static void fd_again_client(void *arg)
{
	struct xvchan *x = ft_client("daemon-again", 0);

	ft_read_pattern(x, 22, 300000);
	ft_write_pattern(x, 23, 5000);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

START_TEST(test_a_restarted_daemon_serves_new_connections)
{
	fd_kill_daemon();
	fd_start_daemon();
	/* A new daemon knows only dom0, like a rebooted host. */
	xv_test_sim_domain(FT_SERVER_DOM);
	xv_test_sim_domain(FT_CLIENT_DOM);
	FT_RUN_PAIR(fd_again_server, fd_again_client, NULL, FT_WAIT_MS);
}
END_TEST

static void fd_orphan_server(void *arg)
{
	int *up = arg;
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	char c;
	int64_t t;

	ft_config(&cfg, 0);
	cfg.io_timeout_ms = 500;
	cfg.close_timeout_ms = 200;
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "daemon-orphan", 4096, 4096,
			    &cfg), 0);
	ft_signal(up[1]);
	t = fs_now_ns();
	FT_EQ(xvchan_read(x, &c, 1), -ETIMEDOUT);
	FT_ASSERT(fs_now_ns() - t >= 500 * 1000000ll);
	/* The dead client's live byte was never cleared. */
	FT_EQ(xvchan_close(x), -ETIMEDOUT);
}

static void fd_orphan_client(void *arg)
{
	int *up = arg;

	(void)ft_client("daemon-orphan", 0);
	ft_signal(up[1]);
	ft_sleep_until_killed();
}

START_TEST(test_a_death_while_the_daemon_is_down_ends_in_the_io_timeout)
{
	pid_t srv, cli;
	int up[2];

	FT_PIPE(up);
	srv = ft_fork_side(FT_SERVER_DOM, fd_orphan_server, up);
	cli = ft_fork_side(FT_CLIENT_DOM, fd_orphan_client, up);
	ck_assert_int_eq(read(up[0], (char[2]){ 0 }, 1), 1);
	ck_assert_int_eq(read(up[0], (char[2]){ 0 }, 1), 1);
	fd_kill_daemon();
	FT_KILL(cli);
	ck_assert_int_eq(xv_test_wait(srv, FT_WAIT_MS), 0);
	ft_close_pipe(up);
	fd_start_daemon();
}
END_TEST

static void fd_setup(void)
{
	xv_test_sim_start();
}

static void fd_teardown(void)
{
	xv_test_sim_stop();
}

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("faults-daemon");
	TCase *tc = tcase_create("daemon");

	tcase_add_checked_fixture(tc, fd_setup, fd_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		test_connected_endpoints_keep_streaming_when_the_daemon_dies);
	tcase_add_test(tc,
		test_new_endpoints_fail_at_once_while_the_daemon_is_dead);
	tcase_add_test(tc, test_a_restarted_daemon_serves_new_connections);
	tcase_add_test(tc,
		test_a_death_while_the_daemon_is_down_ends_in_the_io_timeout);
	suite_add_tcase(s, tc);
	return s;
}
