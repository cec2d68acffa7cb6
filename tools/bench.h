/*
 * xvchan-bench: what the orchestrating parent and the two measuring
 * children share.  The parent runs one "job" per cell and transport: two
 * processes (server side and client side), each told what to do by a
 * struct xv_bench_job, each reporting one text line per event on its
 * result descriptor (see bench-child.c for the line formats).
 */
#ifndef XV_BENCH_H
#define XV_BENCH_H

#include <stddef.h>
#include <stdint.h>

enum xv_bench_transport {
	XV_BENCH_XVCHAN,
	XV_BENCH_XVCHAN_NOSPIN,
	XV_BENCH_LIBXENVCHAN,
	XV_BENCH_SOCKETPAIR,
	XV_BENCH_PIPE,
	XV_BENCH_NTRANSPORTS,
};

enum xv_bench_test {
	XV_BENCH_STREAM,
	XV_BENCH_PINGPONG,
	XV_BENCH_CONNECT,
	XV_BENCH_IDLE,
	XV_BENCH_NTESTS,
};

enum xv_bench_role {
	XV_BENCH_SERVER,	/* stream: receives; ping-pong: echoes */
	XV_BENCH_CLIENT,	/* stream: sends; ping-pong: asks */
};

/* Simulated domains of the two sides of a vchan (--xen: both ends are
 * the domain the benchmark runs in). */
#define XV_BENCH_SERVER_DOMID 1u
#define XV_BENCH_CLIENT_DOMID 2u

/* Bytes per ping and per pong. */
#define XV_BENCH_PING_SIZE 64

struct xv_bench_job {
	enum xv_bench_transport transport;
	enum xv_bench_test test;
	enum xv_bench_role role;
	size_t msg;		/* bytes per write (and per read buffer) */
	size_t ring;		/* ring / kernel buffer size asked for */
	int reps;		/* timed repetitions after the untimed one */
	int target_ms;		/* aimed duration of one timed repetition */
	uint64_t first;		/* stream: bytes of the verified first
				 * repetition; ping-pong: its round trips */
	unsigned int cell;	/* unique per job: names ports and paths */
	int idle_ms;		/* idle: how long the reader stays blocked */
	int spin_us;		/* xvchan: spin budget; -1 = the default */
	unsigned int srv_dom, cli_dom;	/* the vchan's server and client */
	int res_fd;		/* result lines go here */
	int sync_in, sync_out;	/* a pipe each way between the two sides */
	int data_in, data_out;	/* socketpair / pipe: the data descriptors */
};

extern const char *const xv_bench_transport_names[XV_BENCH_NTRANSPORTS];
extern const char *const xv_bench_test_names[XV_BENCH_NTESTS];

/* One side of a job; returns the process exit status (0 on success). */
int xv_bench_child(const struct xv_bench_job *job);

/* The job as one argument for `--child`, and back.  Returns 0, or -EINVAL
 * for a string that does not describe a job. */
int xv_bench_job_format(const struct xv_bench_job *job, char *buf,
			size_t len);
int xv_bench_job_parse(const char *s, struct xv_bench_job *job);

/* CLOCK_MONOTONIC in nanoseconds: comparable between processes. */
int64_t xv_bench_now_ns(void);

#endif
