/* The per-test simulator fixture (test-sim.h). */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test-sim.h"
/* The control protocol's message layout and ops: the fixture enrols the
 * processes it starts, as `xvchan-sim exec` does. */
#include "../../sim/proto.h"

static char sim_dir[128];
static pid_t daemon_pid;

const char *xv_test_sim_exe(void)
{
	const char *exe = getenv("XVCHAN_SIM_EXE");

	ck_assert_msg(exe && *exe,
		      "XVCHAN_SIM_EXE unset: run through meson test (sim_test_env)");
	return exe;
}

const char *xv_test_sim_dir(void)
{
	return sim_dir;
}

/* Run xvchan-sim with @args (NULL-terminated after the command word) and
 * return its exit status. */
static int run_sim(char *const args[])
{
	char *argv[16];
	pid_t pid;
	int i, status;

	argv[0] = (char *)xv_test_sim_exe();
	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* One request on a fresh tool connection to the daemon; returns the
 * reply's error (0 or a negative errno), or connect()'s: a test may have
 * killed the daemon to see what domains do without it. */
static int ctl_request(uint32_t op, uint32_t arg0, uint32_t arg1)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xv_sim_msg msg = {
		.op = XV_SIM_HELLO,
		.arg = { XV_SIM_PROTO_VERSION, XV_SIM_DOMID_TOOL,
			 (uint32_t)getpid() },
	};
	struct xv_sim_msg rep;
	int fd, i, err;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s/" XV_SIM_CTL_NAME,
		 sim_dir);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(send(fd, &msg, sizeof(msg), MSG_NOSIGNAL),
				 (ssize_t)sizeof(msg));
		/* Neither reply carries data: the header is all of it. */
		ck_assert_int_eq(recv(fd, &rep, sizeof(rep), 0),
				 (ssize_t)sizeof(rep));
		ck_assert_uint_eq(rep.op, msg.op);
		if (rep.err)
			break;
		msg = (struct xv_sim_msg){ .op = op, .arg = { arg0, arg1 } };
	}
	close(fd);
	return rep.err;
}

static void join(unsigned int domid, pid_t pid)
{
	ck_assert_int_eq(ctl_request(XV_SIM_DOMAIN_JOIN, domid, (uint32_t)pid),
			 0);
}

static int no_daemon(int err)
{
	return err == -ECONNREFUSED || err == -ENOENT;
}

/* Count @pid as domain @domid's (creating the domain if needed), so that
 * xv_test_sim_destroy() kills it, as exec does for what it runs.  With no
 * daemon there is nothing to destroy: the child finds out for itself. */
static void enrol(unsigned int domid, pid_t pid)
{
	int err = ctl_request(XV_SIM_DOMAIN_CREATE, domid, 0);

	if (no_daemon(err))
		return;
	ck_assert_int_eq(err, 0);
	join(domid, pid);
}

void xv_test_sim_destroy(unsigned int domid)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", domid);
	ck_assert_int_eq(run_sim((char *[]){ "destroy", "--domid", num, NULL }),
			 0);
}

/* The request `xvchan-sim exec` makes first, without exec'ing a program:
 * under ThreadSanitizer an uninstrumented one (true) cannot load the
 * instrumented preload library. */
void xv_test_sim_domain(unsigned int domid)
{
	ck_assert_int_eq(ctl_request(XV_SIM_DOMAIN_CREATE, domid, 0), 0);
}

/* Wait until the daemon accepts on its control socket: it listens only
 * once everything else is set up. */
static void wait_ready(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int i, fd, status;

	/* sim_dir is at most 64 + 20 characters (xv_test_sim_start()). */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s/ctl", sim_dir);
	for (i = 0; i < 1000; i++) {
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(fd, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			return;
		}
		close(fd);
		ck_assert_msg(waitpid(daemon_pid, &status, WNOHANG) == 0,
			      "the simulator daemon exited while starting");
		nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
	}
	ck_abort_msg("the simulator daemon did not start within 5 s");
}

void xv_test_sim_start(void)
{
	const char *tmp = getenv("TMPDIR");
	pid_t parent = getpid();

	snprintf(sim_dir, sizeof(sim_dir), "%s/xvchan-test-XXXXXX",
		 tmp && *tmp && strlen(tmp) < 64 ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(sim_dir));
	ck_assert_int_eq(setenv("XVCHAN_SIM_DIR", sim_dir, 1), 0);
	/* The daemon is our child and dies with us: a failing test skips
	 * its teardown, and must not leave a daemon behind. */
	daemon_pid = fork();
	ck_assert_int_ge(daemon_pid, 0);
	if (daemon_pid == 0) {
		char log[160];
		int fd;

		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(1);
		/* Where `start` puts it too: show_log() reads it. */
		snprintf(log, sizeof(log), "%s/log", sim_dir);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(1);
		close(fd);
		execl(xv_test_sim_exe(), "xvchan-sim", "daemon", (char *)NULL);
		_exit(127);
	}
	wait_ready();
	xv_test_sim_domain(1);
	xv_test_sim_domain(2);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

/* The daemon's log, on the test's stderr; returns whether a sanitizer
 * reported in it (the daemon's own report would otherwise go unseen). */
static int show_log(void)
{
	char path[160], line[512];
	int bad = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/log", sim_dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		fputs(line, stderr);
		if (strstr(line, "Sanitizer") || strstr(line, "runtime error:"))
			bad = 1;
	}
	fclose(f);
	return bad;
}

void xv_test_sim_stop(void)
{
	int status, bad;

	if (!sim_dir[0])
		return;
	status = run_sim((char *[]){ "stop", NULL });
	/* Our daemon, unless a test replaced it with a started one. */
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = 0;
	}
	bad = show_log();
	nftw(sim_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	sim_dir[0] = '\0';
	unsetenv("XVCHAN_SIM_DIR");
	ck_assert_int_eq(status, 0);
	ck_assert_msg(!bad, "the simulator daemon reported a sanitizer error (log above)");
}

pid_t xv_test_spawn(unsigned int domid, char *const argv[])
{
	char num[16];
	char *args[64];
	pid_t pid;
	int i, n = 0;

	snprintf(num, sizeof(num), "%u", domid);
	args[n++] = (char *)xv_test_sim_exe();
	args[n++] = "exec";
	args[n++] = "--domid";
	args[n++] = num;
	args[n++] = "--";
	for (i = 0; argv[i] && n < 63; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execv(args[0], args);
		_exit(127);
	}
	/* exec enrols itself too, but only once it runs: a destroy right
	 * after this returns must already find it. */
	enrol(domid, pid);
	return pid;
}

pid_t xv_test_fork_domain(unsigned int domid)
{
	char num[16], xs[256];
	pid_t pid;
	int err;

	ck_assert_msg(sim_dir[0], "xv_test_sim_start() first");
	/* Before the fork: the child's first handle needs the domain.  The
	 * fixture's own domains may be asked for with the daemon dead. */
	err = ctl_request(XV_SIM_DOMAIN_CREATE, domid, 0);
	ck_assert_msg(err == 0 || (domid <= 2 && no_daemon(err)),
		      "cannot create domain %u: %s", domid, strerror(-err));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid) {
		/* Unreaped, the child keeps its pid: enrolling it after the
		 * fork cannot name another process. */
		if (err == 0)
			join(domid, pid);
		return pid;
	}
	/* The preload reads these on the child's first handle, libxenstore
	 * on its first xs_open(). */
	snprintf(num, sizeof(num), "%u", domid);
	snprintf(xs, sizeof(xs), "%s/xenstore/%u", sim_dir, domid);
	if (setenv("XVCHAN_SIM_DOMID", num, 1) || setenv("XENSTORED_PATH", xs, 1))
		_exit(126);
	return 0;
}

int xv_test_wait(pid_t pid, int timeout_ms)
{
	struct timespec start, now;
	int status;
	pid_t r;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		ck_assert_int_ge(r, 0);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) :
						   128 + WTERMSIG(status);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000 >= timeout_ms)
			break;
		/* A short sleep keeps the wait cheap without a pidfd. */
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -ETIMEDOUT;
}

int xv_test_open_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}
