/*
 * xvchan-cat end to end on the simulator: two xvchan-cat processes, one
 * per simulated domain (started with `xvchan-sim exec`), fed from files
 * and pipes.  Domain 1 serves, domain 2 connects.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cat-sim.h"
#include "pattern.h"
#include "run.h"
#include "test-common.h"

#define WAIT_MS 20000

/*
 * The stopping signals as a shell leaves them to a program it starts:
 * not ignored, not blocked.  A test run started under nohup (SIGHUP
 * ignored, inherited by every child) would otherwise hand xvchan-cat an
 * ignored SIGHUP, which it rightly leaves alone
 * (test_an_ignored_signal_stays_ignored).
 */
static void default_stopping_signals(void)
{
	static const int stopping[] = { SIGHUP, SIGINT, SIGTERM };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(stopping) / sizeof(stopping[0]); i++) {
		ck_assert_int_eq(sigaction(stopping[i], &dfl, NULL), 0);
		sigaddset(&set, stopping[i]);
	}
	ck_assert_int_eq(sigprocmask(SIG_UNBLOCK, &set, NULL), 0);
}

static void sim_start(void)
{
	default_stopping_signals();
	cat_sim_start("cat", WAIT_MS);
}

/* xvchan-cat as domain @domid with @args (NULL-terminated). */
static pid_t cat_spawn(unsigned int domid, const char *const *args, int in,
		       int out, int err)
{
	return cat_sim_spawn(domid, "XVCHAN_CAT", args, in, out, err);
}

/* A file of @len pattern bytes of stream @seed, positioned at 0. */
static int pattern_file(const char *name, uint64_t seed, size_t len)
{
	int fd = cat_sim_file(name);
	unsigned char *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	xv_pattern_fill(seed, 0, buf, len);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	free(buf);
	return fd;
}

static void assert_pattern(int fd, uint64_t seed, size_t want)
{
	size_t len;
	unsigned char *got = (unsigned char *)xv_run_read_all(fd, &len);

	ck_assert_uint_eq(len, want);
	ck_assert_uint_eq(xv_pattern_check(seed, 0, got, len), len);
	free(got);
}

/* Read @fd (a pipe) to its end, bounded by @timeout_ms; NUL-terminated. */
static char *read_to_eof(int fd, int timeout_ms)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		ck_assert_msg(poll(&p, 1, timeout_ms) == 1,
			      "no end of stream within %d ms", timeout_ms);
		n = read(fd, buf + len, cap - len - 1);
		ck_assert_int_ge(n, 0);
		if (n == 0)
			break;
		len += (size_t)n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	buf[len] = '\0';
	return buf;
}

/* The server in domain 1 has published @port for client domain 2. */
static void wait_published(const char *port)
{
	char path[128];
	char *argv[] = { (char *)xv_run_exe("XVCHAN_SIM"), (char *)"exec",
			 (char *)"--domid", (char *)"0", (char *)"--",
			 (char *)"xenstore-read", path, NULL };
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	int tries;

	snprintf(path, sizeof(path),
		 "/local/domain/1/data/vchan/2/%s/event-channel", port);
	for (tries = 0; tries < 500; tries++) {
		if (xv_run_wait(xv_run_spawn(argv, -1, -1, -1), WAIT_MS) == 0)
			return;
		nanosleep(&nap, NULL);
	}
	ck_abort_msg("server never published %s", path);
}

/* Both directions at once, with default rings and with small ones that
 * wrap many times. */
static void both_ways(const char *const *srv_args, size_t a_len, size_t b_len)
{
	const char *cli_args[] = { "1", "files", NULL };
	int a = pattern_file("a", 11, a_len), b = pattern_file("b", 22, b_len);
	int srv_out = cat_sim_file("srv-out");
	int cli_out = cat_sim_file("cli-out");
	int srv_err = cat_sim_file("srv-err");
	int cli_err = cat_sim_file("cli-err");
	pid_t srv, cli;
	int s, c;

	srv = cat_spawn(1, srv_args, a, srv_out, srv_err);
	cli = cat_spawn(2, cli_args, b, cli_out, cli_err);
	s = xv_run_wait(srv, WAIT_MS);
	c = xv_run_wait(cli, WAIT_MS);
	ck_assert_msg(s == 0, "server exit %d: %s", s,
		      xv_run_read_all(srv_err, NULL));
	ck_assert_msg(c == 0, "client exit %d: %s", c,
		      xv_run_read_all(cli_err, NULL));
	assert_pattern(cli_out, 11, a_len);
	assert_pattern(srv_out, 22, b_len);
}

START_TEST(test_files_cross_in_both_directions)
{
	const char *srv_args[] = { "-l", "2", "files", NULL };

	both_ways(srv_args, 300 * 1024, 200 * 1024 + 7);
}
END_TEST

START_TEST(test_files_cross_through_small_rings)
{
	const char *srv_args[] = { "-l", "--read-size", "1K", "--write-size",
				   "4K", "2", "files", NULL };

	both_ways(srv_args, 100 * 1024 + 3, 64 * 1024 + 1);
}
END_TEST

START_TEST(test_empty_input_still_ends_cleanly)
{
	const char *srv_args[] = { "-l", "2", "files", NULL };

	both_ways(srv_args, 0, 0);
}
END_TEST

/*
 * The client sends a question from a file, and its stdin ends there.  The
 * server, whose stdin is a pipe opened with @srv_in_flags and empty until
 * then, passes the question on; the answer written to that pipe afterwards
 * still reaches the client, and both exit 0.
 */
static void question_then_answer(const char *port, int srv_in_flags)
{
	const char *srv_args[] = { "-l", "2", port, NULL };
	const char *cli_args[] = { "1", port, NULL };
	int srv_in[2], srv_out[2], q = cat_sim_file("q");
	int cli_out = cat_sim_file("cli-out");
	int srv_err = cat_sim_file("srv-err");
	char *seen, *got;
	pid_t srv, cli;
	int st;

	ck_assert_int_eq(write(q, "question\n", 9), 9);
	ck_assert_int_eq(lseek(q, 0, SEEK_SET), 0);
	ck_assert_int_eq(pipe2(srv_in, O_CLOEXEC | srv_in_flags), 0);
	ck_assert_int_eq(pipe2(srv_out, O_CLOEXEC), 0);
	srv = cat_spawn(1, srv_args, srv_in[0], srv_out[1], srv_err);
	close(srv_in[0]);
	close(srv_out[1]);
	cli = cat_spawn(2, cli_args, q, cli_out, -1);
	seen = read_to_eof(srv_out[0], 10000);
	ck_assert_str_eq(seen, "question\n");
	/* The client is still there, waiting for the answer. */
	ck_assert_int_eq(waitpid(cli, NULL, WNOHANG), 0);
	ck_assert_int_eq(write(srv_in[1], "answer\n", 7), 7);
	close(srv_in[1]);
	st = xv_run_wait(srv, WAIT_MS);
	ck_assert_msg(st == 0, "server exit %d: %s", st,
		      xv_run_read_all(srv_err, NULL));
	ck_assert_int_eq(xv_run_wait(cli, WAIT_MS), 0);
	got = xv_run_read_all(cli_out, NULL);
	ck_assert_str_eq(got, "answer\n");
	free(seen);
	free(got);
	close(srv_out[0]);
}

/* The client's stdin ends; the server sees the end of the stream while
 * its own stdin is still open, and its answer still reaches the client. */
START_TEST(test_stdin_eof_half_closes_and_peer_can_answer)
{
	question_then_answer("qa", 0);
}
END_TEST

/* A non-blocking stdin (O_NONBLOCK on a description shared with the
 * caller) is waited for like a blocking one: the server sends what
 * arrives on it later, not an error for the moment it had nothing. */
START_TEST(test_non_blocking_stdin_is_waited_for)
{
	question_then_answer("nb", O_NONBLOCK);
}
END_TEST

/* A peer that is gone ends the program although stdin stays open. */
START_TEST(test_peer_gone_ends_program_with_stdin_open)
{
	const char *srv_args[] = { "-l", "2", "gone", NULL };
	const char *cli_args[] = { "1", "gone", NULL };
	int srv_in[2], srv_out[2], cli_in[2];
	char buf[8];
	pid_t srv, cli;

	ck_assert_int_eq(pipe2(srv_in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(srv_out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(cli_in, O_CLOEXEC), 0);
	srv = cat_spawn(1, srv_args, srv_in[0], srv_out[1], -1);
	cli = cat_spawn(2, cli_args, cli_in[0], -1, -1);
	close(srv_in[0]);
	close(srv_out[1]);
	close(cli_in[0]);
	/* Connected once a byte has crossed. */
	ck_assert_int_eq(write(cli_in[1], "ping", 4), 4);
	ck_assert_int_eq(read(srv_out[0], buf, 4), 4);
	ck_assert_int_eq(memcmp(buf, "ping", 4), 0);
	ck_assert_int_eq(kill(-cli, SIGKILL), 0);
	ck_assert_int_eq(xv_run_wait(cli, WAIT_MS), 128 + SIGKILL);
	ck_assert_int_eq(xv_run_wait(srv, 5000), 0);
	/* Its stdout was closed at the end of the stream. */
	ck_assert_int_eq(read(srv_out[0], buf, sizeof(buf)), 0);
	close(srv_in[1]);
	close(srv_out[0]);
	close(cli_in[1]);
}
END_TEST

START_TEST(test_no_server_exits_one_with_message)
{
	const char *cli_args[] = { "--connect-timeout", "300", "1", "nobody",
				   NULL };
	int err = cat_sim_file("err");
	char *msg;

	ck_assert_int_eq(xv_run_wait(cat_spawn(2, cli_args, -1, -1, err),
				     WAIT_MS), 1);
	msg = xv_run_read_all(err, NULL);
	ck_assert_msg(strncmp(msg, "xvchan-cat: cannot connect: ", 28) == 0,
		      "message: %s", msg);
	free(msg);
}
END_TEST

START_TEST(test_port_in_use_exits_one_with_message)
{
	const char *srv_args[] = { "-l", "2", "busy", NULL };
	int hold[2], err = cat_sim_file("err");
	pid_t first;
	char *msg;

	ck_assert_int_eq(pipe2(hold, O_CLOEXEC), 0);
	first = cat_spawn(1, srv_args, hold[0], -1, -1);
	close(hold[0]);
	wait_published("busy");
	ck_assert_int_eq(xv_run_wait(cat_spawn(1, srv_args, -1, -1, err),
				     WAIT_MS), 1);
	msg = xv_run_read_all(err, NULL);
	ck_assert_msg(strncmp(msg, "xvchan-cat: cannot serve: ", 26) == 0,
		      "message: %s", msg);
	ck_assert_msg(strstr(msg, "xenstore-rm"), "no hint: %s", msg);
	kill(-first, SIGKILL);
	xv_run_wait(first, WAIT_MS);
	close(hold[1]);
	free(msg);
}
END_TEST

/* Exit status of `xenstore-read @path` as dom0: 0 if the node exists. */
static int xs_read_status(const char *path)
{
	char *argv[] = { (char *)xv_run_exe("XVCHAN_SIM"), (char *)"exec",
			 (char *)"--domid", (char *)"0", (char *)"--",
			 (char *)"xenstore-read", (char *)path, NULL };

	return xv_run_wait(xv_run_spawn(argv, -1, -1, -1), WAIT_MS);
}

/*
 * A closed standard stream (`>&-`) would be the number the library's
 * xenstore socket gets: the vchan's bytes would become xenstore requests,
 * or its replies data for the peer.  Refused at once, exit 1, before
 * anything is published; the message names the stream (none when stderr
 * is the closed one).
 */
START_TEST(test_closed_standard_stream_is_refused_before_publishing)
{
	static const char *const says[] = {
		"xvchan-cat: standard input is closed (open it on /dev/null "
		"if unused)\n",
		"xvchan-cat: standard output is closed (open it on /dev/null "
		"if unused)\n",
		"",
	};
	const char *srv_args[] = { "-l", "2", "closed", NULL };
	int fds[3] = { -1, -1, cat_sim_file("err") };
	int err = fds[2];
	char *msg;

	fds[_i] = XV_RUN_CLOSED;
	/* Fast: without the check the server would wait for a client. */
	ck_assert_int_eq(xv_run_wait(cat_spawn(1, srv_args, fds[0], fds[1],
					       fds[2]), 5000), 1);
	msg = xv_run_read_all(err, NULL);
	ck_assert_str_eq(msg, says[_i]);
	ck_assert_int_ne(xs_read_status("/local/domain/1/data/vchan/2/closed/"
					"ring-ref"), 0);
	ck_assert_int_ne(xs_read_status("/local/domain/1/data/vchan"), 0);
	free(msg);
}
END_TEST

/*
 * Data that cannot be delivered: the client's stdout is full, so it fails
 * and leaves while the server still has an endless stdin to send, which
 * the server then cannot write.  Both say so and exit 1.
 */
START_TEST(test_undeliverable_data_exits_one_with_message)
{
	const char *srv_args[] = { "-l", "2", "full", NULL };
	const char *cli_args[] = { "1", "full", NULL };
	int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
	int serr = cat_sim_file("srv-err"), cerr = cat_sim_file("err");
	char *smsg, *cmsg;
	pid_t srv, cli;

	ck_assert_int_ge(zero, 0);
	ck_assert_int_ge(full, 0);
	srv = cat_spawn(1, srv_args, zero, -1, serr);
	cli = cat_spawn(2, cli_args, -1, full, cerr);
	ck_assert_int_eq(xv_run_wait(cli, WAIT_MS), 1);
	ck_assert_int_eq(xv_run_wait(srv, WAIT_MS), 1);
	cmsg = xv_run_read_all(cerr, NULL);
	smsg = xv_run_read_all(serr, NULL);
	ck_assert_msg(strncmp(cmsg, "xvchan-cat: stdout: ", 20) == 0,
		      "client said: %s", cmsg);
	ck_assert_msg(strncmp(smsg, "xvchan-cat: write to vchan: ", 28) == 0,
		      "server said: %s", smsg);
	free(cmsg);
	free(smsg);
	close(zero);
	close(full);
}
END_TEST

/*
 * The receiver's stdout goes away after 10 bytes of a 100 MB stream: it
 * fails, and must end the vchan at once rather than take in and drop the
 * rest while closing, so that the sender fails too instead of reporting
 * success for data that went nowhere.
 */
START_TEST(test_receiver_that_cannot_deliver_makes_sender_fail)
{
	const char *srv_args[] = { "-l", "2", "head", NULL };
	const char *cli_args[] = { "1", "head", NULL };
	int big = cat_sim_file("big");
	int serr = cat_sim_file("srv-err"), cerr = cat_sim_file("cli-err");
	int out[2];
	char buf[10], *smsg, *cmsg;
	pid_t srv, cli;
	int s, c;

	/* Sparse: 100 MB of zeros without writing them. */
	ck_assert_int_eq(ftruncate(big, 100 * 1000 * 1000), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	srv = cat_spawn(1, srv_args, big, -1, serr);
	cli = cat_spawn(2, cli_args, -1, out[1], cerr);
	close(out[1]);
	/* As `| head -c 10` does. */
	ck_assert_int_eq(read(out[0], buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(out[0]);
	c = xv_run_wait(cli, WAIT_MS);
	s = xv_run_wait(srv, WAIT_MS);
	cmsg = xv_run_read_all(cerr, NULL);
	smsg = xv_run_read_all(serr, NULL);
	ck_assert_msg(c == 1, "receiver exit %d: %s", c, cmsg);
	ck_assert_msg(s == 1, "sender exit %d: %s", s, smsg);
	ck_assert_str_eq(cmsg, "xvchan-cat: stdout: Broken pipe\n");
	ck_assert_str_eq(smsg, "xvchan-cat: write to vchan: peer closed the "
			 "vchan\n");
	free(cmsg);
	free(smsg);
}
END_TEST

/*
 * SIGINT, SIGTERM and SIGHUP stop a server that waits for its client
 * cleanly: it dies of the signal (a shell sees Ctrl-C), and its xenstore
 * entry is gone, so the next server on that port is not refused.
 */
static const int stopping[] = { SIGINT, SIGTERM, SIGHUP };

START_TEST(test_a_stopping_signal_ends_a_waiting_server_without_a_trace)
{
	const char *srv_args[] = { "-l", "2", "stop", NULL };
	int hold[2];
	pid_t srv;

	ck_assert_int_eq(pipe2(hold, O_CLOEXEC), 0);
	srv = cat_spawn(1, srv_args, hold[0], -1, -1);
	close(hold[0]);
	wait_published("stop");
	ck_assert_int_eq(kill(srv, stopping[_i]), 0);
	ck_assert_int_eq(xv_run_wait(srv, WAIT_MS), 128 + stopping[_i]);
	ck_assert_int_ne(xs_read_status("/local/domain/1/data/vchan/2/stop"),
			 0);
	/* Served again at once. */
	srv = cat_spawn(1, srv_args, -1, -1, -1);
	wait_published("stop");
	ck_assert_int_eq(kill(srv, SIGTERM), 0);
	ck_assert_int_eq(xv_run_wait(srv, WAIT_MS), 128 + SIGTERM);
	close(hold[1]);
}
END_TEST

/*
 * A connected server stopped by a signal closes the vchan: the client sees
 * the end of the stream, and with it the peer gone, and exits 0; the
 * entry is removed, which a server killed outright leaves behind. Both
 * with both directions waiting (stdin open, nothing from the client), and
 * with only stdin left (the client has shut down its direction).
 */
START_TEST(test_a_stopping_signal_closes_a_connected_server)
{
	const char *srv_args[] = { "-l", "2", "sigconn", NULL };
	const char *cli_args[] = { "1", "sigconn", NULL };
	int srv_in[2], srv_out[2], cli_in[2], cli_out[2];
	char buf[8];
	pid_t srv, cli;

	ck_assert_int_eq(pipe2(srv_in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(srv_out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(cli_in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(cli_out, O_CLOEXEC), 0);
	srv = cat_spawn(1, srv_args, srv_in[0], srv_out[1], -1);
	cli = cat_spawn(2, cli_args, cli_in[0], cli_out[1], -1);
	close(srv_in[0]);
	close(srv_out[1]);
	close(cli_in[0]);
	close(cli_out[1]);
	/* Connected once a byte has crossed. */
	ck_assert_int_eq(write(srv_in[1], "ping", 4), 4);
	ck_assert_int_eq(read(cli_out[0], buf, 4), 4);
	ck_assert_int_eq(memcmp(buf, "ping", 4), 0);
	if (_i) {
		/* The server reads the end: it closes its stdout. */
		close(cli_in[1]);
		cli_in[1] = -1;
		ck_assert_int_eq(read(srv_out[0], buf, sizeof(buf)), 0);
	}
	ck_assert_int_eq(kill(srv, SIGINT), 0);
	ck_assert_int_eq(xv_run_wait(srv, WAIT_MS), 128 + SIGINT);
	ck_assert_int_ne(xs_read_status("/local/domain/1/data/vchan/2/"
					"sigconn"), 0);
	ck_assert_int_eq(xv_run_wait(cli, WAIT_MS), 0);
	ck_assert_int_eq(read(cli_out[0], buf, sizeof(buf)), 0);
	close(srv_in[1]);
	close(srv_out[0]);
	if (cli_in[1] >= 0)
		close(cli_in[1]);
	close(cli_out[0]);
}
END_TEST

/* A child that reads pipe @p slowly (4 KiB a millisecond) to its end: a
 * consumer slower than the vchan, so the server's reads always find data
 * and never wait, where the library would see the signal. It says on
 * @started once the first bytes came. */
static pid_t slow_drain(int p[2], int started)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char buf[4096];
		bool said = false;

		close(p[1]);	/* or its end never comes */
		while (read(p[0], buf, sizeof(buf)) > 0) {
			if (!said && write(started, "s", 1) == 1)
				said = true;
			usleep(1000);
		}
		_exit(0);
	}
	return pid;
}

/* Start a server on @port and a client streaming 100 MB into it; the
 * server's stdout is @srv_out, its stdin @srv_in. The client's pid in
 * *cli. */
static pid_t streamed_server(const char *const *srv_args, const char *port,
			     int srv_in, int srv_out, pid_t *cli)
{
	const char *cli_args[] = { "1", port, NULL };
	int big = cat_sim_file("big");
	pid_t srv;

	/* Sparse: 100 MB of zeros without writing them. */
	ck_assert_int_eq(ftruncate(big, 100 * 1000 * 1000), 0);
	srv = cat_spawn(1, srv_args, srv_in, srv_out, -1);
	wait_published(port);
	*cli = cat_spawn(2, cli_args, big, -1, -1);
	return srv;
}

/*
 * The signal while the peer keeps the ring full: the server's reads never
 * wait, so the library's cancel_fd never comes into play, and the program
 * must look at its signals itself. It closes (the entry goes) and dies of
 * the signal; its stdin is open, its stdout slow.
 */
START_TEST(test_a_stopping_signal_ends_a_server_whose_reads_never_wait)
{
	const char *srv_args[] = { "-l", "2", "busy-sig", NULL };
	int hold[2], out[2], started[2];
	pid_t srv, cli, drain;
	char c;

	ck_assert_int_eq(pipe2(hold, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(started, O_CLOEXEC), 0);
	drain = slow_drain(out, started[1]);
	close(out[0]);
	close(started[1]);
	srv = streamed_server(srv_args, "busy-sig", hold[0], out[1], &cli);
	close(hold[0]);
	close(out[1]);
	/* Streaming: the client is connected and the server copying. */
	ck_assert_int_eq(read(started[0], &c, 1), 1);
	close(started[0]);
	ck_assert_int_eq(kill(srv, SIGINT), 0);
	ck_assert_int_eq(xv_run_wait(srv, WAIT_MS), 128 + SIGINT);
	ck_assert_int_ne(xs_read_status("/local/domain/1/data/vchan/2/"
					"busy-sig"), 0);
	/* The client's writes fail once the server is gone. */
	ck_assert_int_eq(xv_run_wait(cli, WAIT_MS), 1);
	ck_assert_int_eq(waitpid(drain, NULL, 0), drain);
	close(hold[1]);
}
END_TEST

/*
 * The signal while the server's stdout takes nothing and its stdin has
 * ended: neither copying thread can look at the signal (the reader is in
 * write(2), the writer is done), so the main thread must. After 2 s it
 * gives up on the reader's last chunk and closes all the same: the entry
 * goes, the client's writes fail, and the server dies of the signal.
 */
START_TEST(test_a_stopping_signal_ends_a_server_whose_stdout_is_stuck)
{
	const char *srv_args[] = { "-l", "2", "stuck-sig", NULL };
	int out[2], full, queued = 0, i;
	pid_t srv, cli;

	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	full = fcntl(out[0], F_GETPIPE_SZ);
	ck_assert_int_gt(full, 0);
	srv = streamed_server(srv_args, "stuck-sig", -1, out[1], &cli);
	close(out[1]);
	/* Stuck once the pipe is full: the reader is then in write(2). */
	for (i = 0; i < WAIT_MS / 10 && queued < full; i++) {
		usleep(10 * 1000);
		ck_assert_int_eq(ioctl(out[0], FIONREAD, &queued), 0);
	}
	ck_assert_int_eq(queued, full);
	ck_assert_int_eq(kill(srv, SIGINT), 0);
	ck_assert_int_eq(xv_run_wait(srv, WAIT_MS), 128 + SIGINT);
	ck_assert_int_ne(xs_read_status("/local/domain/1/data/vchan/2/"
					"stuck-sig"), 0);
	ck_assert_int_eq(xv_run_wait(cli, WAIT_MS), 1);
	close(out[0]);
}
END_TEST

/*
 * A signal ignored when xvchan-cat starts (nohup's SIGHUP, SIGINT for a
 * background job of a script) stays ignored: blocked for the signalfd, it
 * would be queued all the same and stop the program.
 */
START_TEST(test_an_ignored_signal_stays_ignored)
{
	const char *srv_args[] = { "-l", "2", "nohup", NULL };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int hold[2];
	pid_t srv;

	ck_assert_int_eq(pipe2(hold, O_CLOEXEC), 0);
	ck_assert_int_eq(sigaction(SIGHUP, &ign, &old), 0);
	srv = cat_spawn(1, srv_args, hold[0], -1, -1);
	ck_assert_int_eq(sigaction(SIGHUP, &old, NULL), 0);
	close(hold[0]);
	wait_published("nohup");
	ck_assert_int_eq(kill(srv, SIGHUP), 0);
	usleep(300 * 1000);
	/* Still there to die of this one. */
	ck_assert_int_eq(kill(srv, SIGTERM), 0);
	ck_assert_int_eq(xv_run_wait(srv, WAIT_MS), 128 + SIGTERM);
	ck_assert_int_ne(xs_read_status("/local/domain/1/data/vchan/2/nohup"),
			 0);
	close(hold[1]);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xvchan-cat");
	TCase *tc = tcase_create("cat");

	tcase_add_checked_fixture(tc, sim_start, cat_sim_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_files_cross_in_both_directions);
	tcase_add_test(tc, test_files_cross_through_small_rings);
	tcase_add_test(tc, test_empty_input_still_ends_cleanly);
	tcase_add_test(tc, test_stdin_eof_half_closes_and_peer_can_answer);
	tcase_add_test(tc, test_non_blocking_stdin_is_waited_for);
	tcase_add_test(tc, test_peer_gone_ends_program_with_stdin_open);
	tcase_add_test(tc, test_no_server_exits_one_with_message);
	tcase_add_test(tc, test_undeliverable_data_exits_one_with_message);
	tcase_add_test(tc, test_receiver_that_cannot_deliver_makes_sender_fail);
	tcase_add_test(tc, test_port_in_use_exits_one_with_message);
	tcase_add_loop_test(tc,
			    test_closed_standard_stream_is_refused_before_publishing,
			    0, 3);
	tcase_add_loop_test(tc,
			    test_a_stopping_signal_ends_a_waiting_server_without_a_trace,
			    0, 3);
	tcase_add_loop_test(tc, test_a_stopping_signal_closes_a_connected_server,
			    0, 2);
	tcase_add_test(tc,
		test_a_stopping_signal_ends_a_server_whose_reads_never_wait);
	tcase_add_test(tc,
		test_a_stopping_signal_ends_a_server_whose_stdout_is_stuck);
	tcase_add_test(tc, test_an_ignored_signal_stays_ignored);
	suite_add_tcase(s, tc);
	return s;
}
