/* Helpers to run a tool under test; see run.h. */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "test-common.h"

/* Children not reaped yet, for xv_run_kill_all(). */
#define MAX_CHILDREN 64
static pid_t children[MAX_CHILDREN];

static void child_track(pid_t pid, pid_t replace)
{
	size_t i;

	for (i = 0; i < MAX_CHILDREN; i++) {
		if (children[i] == replace) {
			children[i] = pid;
			return;
		}
	}
}

const char *xv_run_exe(const char *var)
{
	const char *p = getenv(var);

	ck_assert_msg(p && p[0], "%s is not set (run through meson test)", var);
	return p;
}

static void to_fd(int from, int to, int flags)
{
	if (from == XV_RUN_CLOSED)
		return;
	if (from < 0)
		from = open("/dev/null", flags);
	if (from < 0 || dup2(from, to) < 0)
		_exit(126);
}

pid_t xv_run_spawn(char *const argv[], int in, int out, int err)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Its own group, so a test can kill it with every process
		 * it started (a wrapper such as xvchan-sim exec). */
		setpgid(0, 0);
		/* Check ends a failed test's process with _exit(), skipping
		 * any clean-up: whatever it started goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		to_fd(in, STDIN_FILENO, O_RDONLY);
		to_fd(out, STDOUT_FILENO, O_WRONLY);
		to_fd(err, STDERR_FILENO, O_WRONLY);
		/* Last: an earlier close would let /dev/null take its number. */
		if (in == XV_RUN_CLOSED)
			close(STDIN_FILENO);
		if (out == XV_RUN_CLOSED)
			close(STDOUT_FILENO);
		if (err == XV_RUN_CLOSED)
			close(STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	child_track(pid, 0);
	return pid;
}

void xv_run_kill_all(void)
{
	size_t i;

	for (i = 0; i < MAX_CHILDREN; i++) {
		if (children[i] > 0) {
			kill(-children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
	}
}

int xv_run_quiet(char *const argv[], int timeout_ms)
{
	struct timespec nap = { 0, 5 * 1000 * 1000 };
	int status, waited = 0;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		nanosleep(&nap, NULL);
		waited += 5;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int xv_run_wait(pid_t pid, int timeout_ms)
{
	struct timespec nap = { 0, 5 * 1000 * 1000 };
	int status, waited = 0;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		ck_assert_int_ge(r, 0);
		if (r == pid) {
			child_track(0, pid);
			break;
		}
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			child_track(0, pid);
			return -ETIMEDOUT;
		}
		nanosleep(&nap, NULL);
		waited += 5;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int xv_run_file(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "cannot create %s", path);
	return fd;
}

char *xv_run_read_all(int fd, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;

	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	n = pread(fd, buf, (size_t)st.st_size, 0);
	ck_assert_int_eq(n, st.st_size);
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

int xv_run_capture(const char *var, const char *const *args, const char *dir,
		   int timeout_ms, char **out, char **err)
{
	char *argv[16];
	int o = xv_run_file(dir, "out"), e = xv_run_file(dir, "err");
	size_t n = 0;
	int status;

	argv[n++] = (char *)xv_run_exe(var);
	for (; *args && n < 15; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	status = xv_run_wait(xv_run_spawn(argv, -1, o, e), timeout_ms);
	*out = xv_run_read_all(o, NULL);
	*err = xv_run_read_all(e, NULL);
	close(o);
	close(e);
	return status;
}
