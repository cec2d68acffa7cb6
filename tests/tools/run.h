/* Running a tool under test: spawn with chosen stdio, wait with a bound,
 * read back what it wrote. */
#ifndef XV_TEST_RUN_H
#define XV_TEST_RUN_H

#include <stddef.h>
#include <sys/types.h>

/* Path of an executable from the environment variable @var (set by
 * meson's test()); ck_assert()s that it is set. */
const char *xv_run_exe(const char *var);

/* For xv_run_spawn()'s @in, @out, @err: leave that descriptor closed. */
#define XV_RUN_CLOSED (-2)

/* Start @argv with stdin, stdout and stderr on @in, @out, @err (-1:
 * /dev/null, XV_RUN_CLOSED: closed), in a new process group whose id is the pid, SIGKILLed if
 * the calling process ends first.  Returns the pid; ck_assert()s on
 * failure. */
pid_t xv_run_spawn(char *const argv[], int in, int out, int err);

/* Wait up to @timeout_ms: the exit status, 128+signal if killed, or
 * -ETIMEDOUT (the child is then SIGKILLed and reaped). */
int xv_run_wait(pid_t pid, int timeout_ms);

/* SIGKILL every process group started by xv_run_spawn() in this process
 * and not yet reaped by xv_run_wait(), and reap them.  Never fails: it is
 * what a test's clean-up runs, also after a failed assertion. */
void xv_run_kill_all(void);

/* Run @argv to completion (at most @timeout_ms, then SIGKILL) with stdio
 * on /dev/null, without asserting anything: for clean-up.  Returns the
 * exit status, or -1. */
int xv_run_quiet(char *const argv[], int timeout_ms);

/* Run the program named by environment variable @var with @args
 * (NULL-terminated, at most 14) to completion, at most @timeout_ms, with
 * stdout and stderr in the files "out" and "err" of @dir; their contents
 * in *out and *err (malloc'd).  Returns the status as xv_run_wait(). */
int xv_run_capture(const char *var, const char *const *args, const char *dir,
		   int timeout_ms, char **out, char **err);

/* A fresh file in @dir named @name, opened read-write; returns the fd. */
int xv_run_file(const char *dir, const char *name);

/* The whole content of @fd from offset 0, malloc'd and NUL-terminated;
 * its length in *len if @len is not NULL. */
char *xv_run_read_all(int fd, size_t *len);

#endif
