/* Talking to the test's simulator as a tool does (sim-daemon.h). */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim-daemon.h"
#include "test-sim.h"

char sim_out[8192];

int sim_run(const char *const args[])
{
	const char *argv[32];
	int p[2], status, i;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	argv[0] = xv_test_sim_exe();
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], sim_out + len,
			 sizeof(sim_out) - 1 - len)) > 0)
		len += (size_t)n;
	sim_out[len] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

int sim_ctl_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ctl", xv_test_sim_dir());
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

int sim_ctl_call(int fd, const struct xv_sim_msg *req)
{
	struct xv_sim_msg rep;

	ck_assert_int_eq(send(fd, req, sizeof(*req), 0), sizeof(*req));
	ck_assert_int_eq(recv(fd, &rep, sizeof(rep), 0), sizeof(rep));
	ck_assert_uint_eq(rep.op, req->op);
	return rep.err;
}
