/* The test's simulator as a tool sees it: the xvchan-sim command line
 * and the daemon's control socket (sim/proto.h). */
#ifndef XV_TEST_SIM_DAEMON_H
#define XV_TEST_SIM_DAEMON_H

#include "proto.h"

/* What the last sim_run() printed, stdout and stderr together,
 * NUL-terminated (cut at the array's size). */
extern char sim_out[8192];

/* Run xvchan-sim with @args (NULL-terminated, at most 30); its output
 * lands in sim_out.  Returns the exit status; ck_assert()s that it
 * exited. */
int sim_run(const char *const args[]);

#define SIM(...) sim_run((const char *const[]){ __VA_ARGS__, NULL })

/* A fresh connection to the daemon's control socket, nothing said yet. */
int sim_ctl_connect(void);

/* Send @req on @fd, return the reply's error (the reply must echo the
 * op).  A domain's HELLO reply carries the event table: recv() drops
 * it. */
int sim_ctl_call(int fd, const struct xv_sim_msg *req);

#endif
