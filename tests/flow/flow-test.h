/*
 * Helpers for the flow tests on the simulator: every test forks a server
 * (domain 1) and a client (domain 2), each running one side of the test,
 * a function. A child cannot report through Check, so a side checks with
 * FT_ASSERT() and FT_EQ() (message on stderr, non-zero exit) and the
 * Check process asserts exit status 0; the helpers for the Check process
 * come last.
 */
#ifndef XV_TEST_FLOW_TEST_H
#define XV_TEST_FLOW_TEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"
#include "test-common.h"
#include "test-sim.h"
#include "xvchan.h"

#define FT_SERVER_DOM 1u
#define FT_CLIENT_DOM 2u
/* Generous: a loaded 2-core machine runs four helpers' tests at once. */
#define FT_WAIT_MS 20000

#define FT_ASSERT(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: child %d: failed: %s\n",\
				__FILE__, __LINE__, (int)getpid(), #cond);\
			_exit(100);					\
		}							\
	} while (0)

#define FT_EQ(a, b)							\
	do {								\
		long long ft_a_ = (long long)(a);			\
		long long ft_b_ = (long long)(b);			\
		if (ft_a_ != ft_b_) {					\
			fprintf(stderr, "%s:%d: child %d: %s == %lld, "	\
				"expected %s == %lld\n", __FILE__,	\
				__LINE__, (int)getpid(), #a, ft_a_, #b,	\
				ft_b_);					\
			_exit(101);					\
		}							\
	} while (0)

static inline void ft_config(struct xvchan_config *cfg, unsigned int flags)
{
	xvchan_config_init(cfg);
	cfg->flags = flags;
	cfg->connect_timeout_ms = FT_WAIT_MS;
	cfg->close_timeout_ms = FT_WAIT_MS;
}

static inline struct xvchan *ft_server(const char *port, size_t rs, size_t ws,
				       unsigned int flags)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, flags);
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, port, rs, ws, &cfg), 0);
	FT_ASSERT(x != NULL);
	return x;
}

static inline struct xvchan *ft_client(const char *port, unsigned int flags)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	ft_config(&cfg, flags);
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, port, &cfg), 0);
	FT_ASSERT(x != NULL);
	return x;
}

/* Write @total bytes of stream @seed in chunks of varying size. */
static inline void ft_write_pattern(struct xvchan *x, uint64_t seed,
				    size_t total)
{
	static const size_t chunks[] = { 1, 7, 1000, 4096, 65537, 3 };
	unsigned char *buf = malloc(65537);
	size_t off = 0;
	unsigned int i = 0;

	FT_ASSERT(buf != NULL);
	while (off < total) {
		size_t n = chunks[i++ % 6];

		if (n > total - off)
			n = total - off;
		xv_pattern_fill(seed, off, buf, n);
		FT_EQ(xvchan_write(x, buf, n), n);
		off += n;
	}
	free(buf);
}

/* Read exactly @total bytes of stream @seed, checking every byte. */
static inline void ft_read_pattern(struct xvchan *x, uint64_t seed,
				   size_t total)
{
	unsigned char *buf = malloc(40000);
	size_t off = 0;

	FT_ASSERT(buf != NULL);
	while (off < total) {
		size_t want = total - off < 40000 ? total - off : 40000;
		ssize_t n = xvchan_read(x, buf, want);

		FT_ASSERT(n > 0);
		FT_EQ(xv_pattern_check(seed, off, buf, (size_t)n), n);
		off += (size_t)n;
	}
	free(buf);
}

static inline void ft_expect_eof(struct xvchan *x)
{
	char c;

	FT_EQ(xvchan_read(x, &c, 1), 0);
	/* End of stream is sticky. */
	FT_EQ(xvchan_read(x, &c, 1), 0);
}

/* xvchan_describe() of @x contains @what; else the whole description goes
 * to stderr with the failure. */
static inline void ft_expect_described(struct xvchan *x, const char *what)
{
	char d[1024];

	FT_ASSERT(xvchan_describe(x, d, sizeof(d)) > 0);
	if (!strstr(d, what)) {
		fprintf(stderr, "no \"%s\" in %s\n", what, d);
		FT_ASSERT(0);
	}
}

/* Write the whole stream @seed, then close cleanly. */
static inline void ft_write_and_close(struct xvchan *x, uint64_t seed,
				      size_t total)
{
	ft_write_pattern(x, seed, total);
	FT_EQ(xvchan_close(x), 0);
}

/* Read the whole stream @seed, then its end, then close cleanly. */
static inline void ft_read_to_eof_and_close(struct xvchan *x,
					    uint64_t seed, size_t total)
{
	ft_read_pattern(x, seed, total);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

/* A victim's last act: wait for the test to kill it (or its domain). */
static inline void __attribute__((noreturn)) ft_sleep_until_killed(void)
{
	pause();
	_exit(0);
}

/* A pipe to order steps between processes: one byte = one step. */
static inline void ft_signal(int fd)
{
	char c = 's';

	FT_EQ(write(fd, &c, 1), 1);
}

static inline void ft_await(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	FT_EQ(poll(&p, 1, FT_WAIT_MS), 1);
	FT_EQ(read(fd, &c, 1), 1);
}

/* A test's two pipes, for its sides to share through their argument. */
struct ft_pipes {
	int up[2];
	int down[2];
};

/* A side's turn is over: tell the other side (up) and wait for its
 * answer (down). */
static inline void ft_signal_and_await(struct ft_pipes *p)
{
	ft_signal(p->up[1]);
	ft_await(p->down[0]);
}

/*
 * The Check process's side. Its failures are Check failures, not exit
 * codes; macros, so that a failure (and Check's last-checkpoint report)
 * names the test's own line.
 */
#define FT_PIPE(p) ck_assert_int_eq(pipe(p), 0)

#define FT_PIPES(p)							\
	do {								\
		FT_PIPE((p).up);					\
		FT_PIPE((p).down);					\
	} while (0)

static inline void ft_close_pipe(int p[2])
{
	close(p[0]);
	close(p[1]);
}

static inline void ft_close_pipes(struct ft_pipes *p)
{
	ft_close_pipe(p->up);
	ft_close_pipe(p->down);
}

/* ft_await() for the Check process. */
#define FT_AWAIT_PARENT(rfd)						\
	do {								\
		struct pollfd ft_p_ = { .fd = (rfd), .events = POLLIN };\
		char ft_c_;						\
									\
		ck_assert_int_eq(poll(&ft_p_, 1, FT_WAIT_MS), 1);	\
		ck_assert_int_eq(read((rfd), &ft_c_, 1), 1);		\
	} while (0)

/* Both sides passed every check: server first, as they were forked. */
#define FT_WAIT_PAIR(srv, cli, timeout_ms)				\
	do {								\
		ck_assert_int_eq(xv_test_wait((srv), (timeout_ms)), 0);	\
		ck_assert_int_eq(xv_test_wait((cli), (timeout_ms)), 0);	\
	} while (0)

/* SIGKILL a child, which must die of exactly that. */
#define FT_KILL(pid)							\
	do {								\
		ck_assert_int_eq(kill((pid), SIGKILL), 0);		\
		ck_assert_int_eq(xv_test_wait((pid), FT_WAIT_MS),	\
				 128 + SIGKILL);			\
	} while (0)

/* Fork simulated domain @domid to run one side of a test: a side that
 * returns has passed every check and exits 0. */
static inline pid_t ft_fork_side(unsigned int domid, void (*side)(void *),
				 void *arg)
{
	pid_t pid = xv_test_fork_domain(domid);

	if (pid == 0) {
		side(arg);
		_exit(0);
	}
	return pid;
}

/* A test of one side alone: @side as domain @domid, given @arg, passing
 * within @timeout_ms. */
#define FT_RUN_SIDE(domid, side, arg, timeout_ms)			\
	ck_assert_int_eq(xv_test_wait(ft_fork_side((domid), (side), (arg)),\
				      (timeout_ms)), 0)

/* The usual test: @server as domain 1, then @client as domain 2, each
 * given @arg, both passing within @timeout_ms. */
#define FT_RUN_PAIR(server, client, arg, timeout_ms)			\
	do {								\
		pid_t ft_srv_ = ft_fork_side(FT_SERVER_DOM, (server), (arg));\
		pid_t ft_cli_ = ft_fork_side(FT_CLIENT_DOM, (client), (arg));\
									\
		FT_WAIT_PAIR(ft_srv_, ft_cli_, (timeout_ms));		\
	} while (0)

/* FT_RUN_PAIR() for sides that order their steps through the pipes, made
 * for them and closed after them: their argument is the struct ft_pipes. */
#define FT_RUN_PIPED_PAIR(server, client, timeout_ms)			\
	do {								\
		struct ft_pipes ft_pipes_;				\
									\
		FT_PIPES(ft_pipes_);					\
		FT_RUN_PAIR((server), (client), &ft_pipes_, (timeout_ms));\
		ft_close_pipes(&ft_pipes_);				\
	} while (0)

/* Every forking test case: one private simulator for all its tests,
 * and room for the slowest test on a loaded machine. */
static inline TCase *ft_sim_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, xv_test_sim_start, xv_test_sim_stop);
	tcase_set_timeout(tc, 60);
	return tc;
}

#endif
