/*
 * Soak: vchan sessions one after another until a time bound (30 s, or
 * XVCHAN_SOAK_SECONDS), each with random ring sizes, random amounts in
 * both directions at once (a reader thread and a writer per side), random
 * write sizes, and a random ending: both half-close; one side closes
 * without reading what comes; or one side is SIGKILLed at a random moment.
 *
 * Exactly once and in order: every byte read is checked against its
 * stream offset (pattern.h). Every acknowledged byte arrives: a writer
 * publishes, after each xvchan_write() returns, how many bytes it has had
 * accepted; the peer must read at least that many before its end of
 * stream, and all of them if the writer was not killed.
 */
#include "flow-test.h"
#include "fault-sim.h"

#include <stdatomic.h>

#define SOAK_DEFAULT_SECONDS 30
/* A stuck transfer fails the session instead of hanging the test. */
#define SOAK_IO_TIMEOUT_MS 10000

enum soak_end {
	END_HALF_CLOSE,		/* both write, shut down, read to EOF */
	END_CLOSE_EARLY,	/* side 0 writes, then closes unread */
	END_KILL,		/* side `victim` is killed mid-way */
	END_COUNT
};

/* Shared with the children (MAP_SHARED): side 0 is the server. */
struct soak_side {
	_Atomic uint64_t acked;		/* bytes xvchan_write() accepted */
	_Atomic uint64_t received;	/* bytes read and verified */
	_Atomic int write_end;		/* 0 or the error that stopped it */
	_Atomic int eof;		/* read returned 0 */
	_Atomic int up;			/* connected */
};

struct soak_session {
	unsigned int index;
	enum soak_end end;
	unsigned int victim;
	unsigned int kill_after_us;
	size_t rings[2];
	uint64_t total[2];		/* bytes each side means to send */
	uint64_t seed[2];		/* stream each side sends */
	uint64_t chunk_seed;
	char port[32];
	struct soak_side side[2];
};

struct soak_reader {
	struct xvchan *x;
	struct soak_session *s;
	unsigned int me;
};

static void *ss_reader(void *arg)
{
	struct soak_reader *r = arg;
	struct soak_side *me = &r->s->side[r->me];
	uint64_t seed = r->s->seed[!r->me];
	static _Thread_local unsigned char buf[70000];
	uint64_t off = 0;

	for (;;) {
		ssize_t n = xvchan_read(r->x, buf, sizeof(buf));

		if (n == 0)
			break;
		FT_ASSERT(n > 0);
		FT_EQ(xv_pattern_check(seed, off, buf, (size_t)n), n);
		off += (uint64_t)n;
		atomic_store(&me->received, off);
	}
	atomic_store(&me->eof, 1);
	return NULL;
}

/* Write this side's stream in random pieces; returns 0 or the error. */
static int ss_write_all(struct xvchan *x, struct soak_session *s,
			unsigned int me)
{
	static unsigned char buf[70000];
	uint64_t rng = s->chunk_seed ^ me, off = 0;

	while (off < s->total[me]) {
		size_t len = 1 + (size_t)fs_below(&rng, sizeof(buf));
		ssize_t n;

		if (len > s->total[me] - off)
			len = (size_t)(s->total[me] - off);
		xv_pattern_fill(s->seed[me], off, buf, len);
		n = xvchan_write(x, buf, len);
		if (n < 0)
			return (int)n;
		FT_EQ(n, len);
		off += len;
		atomic_store(&s->side[me].acked, off);
	}
	return 0;
}

static void ss_side(struct soak_session *s, unsigned int me)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	struct soak_reader r = { .s = s, .me = me };
	pthread_t reader;
	int err;

	ft_config(&cfg, 0);
	cfg.io_timeout_ms = SOAK_IO_TIMEOUT_MS;
	if (me == 0)
		FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, s->port, s->rings[0],
				    s->rings[1], &cfg), 0);
	else
		FT_EQ(xvchan_client(&x, FT_SERVER_DOM, s->port, &cfg), 0);
	r.x = x;
	atomic_store(&s->side[me].up, 1);
	if (s->end == END_CLOSE_EARLY && me == 0) {
		/* Write, then close without reading: close shuts down,
		 * drains and discards what the peer still sends. */
		err = ss_write_all(x, s, me);
		atomic_store(&s->side[me].write_end, err);
		FT_EQ(err, 0);
		FT_EQ(xvchan_close(x), 0);
		_exit(0);
	}
	FT_EQ(pthread_create(&reader, NULL, ss_reader, &r), 0);
	err = ss_write_all(x, s, me);
	atomic_store(&s->side[me].write_end, err);
	FT_EQ(xvchan_shutdown(x), 0);
	FT_EQ(pthread_join(reader, NULL), 0);
	FT_EQ(xvchan_close(x), 0);
	_exit(0);
}

static void ss_describe(const struct soak_session *s, char *buf, size_t len)
{
	static const char *const ends[] = { "half-close", "close-early",
					    "kill" };

	snprintf(buf, len, "session %u (%s): %s victim %u after %u us, "
		 "rings %zu/%zu, totals %llu/%llu", s->index, s->port,
		 ends[s->end], s->victim, s->kill_after_us, s->rings[0],
		 s->rings[1], (unsigned long long)s->total[0],
		 (unsigned long long)s->total[1]);
}

static void ss_run(struct soak_session *s, struct xs_handle *xs)
{
	char what[200], path[128];
	pid_t pid[2];
	unsigned int i;
	int status[2];

	ss_describe(s, what, sizeof(what));
	for (i = 0; i < 2; i++) {
		pid[i] = xv_test_fork_domain(i == 0 ? FT_SERVER_DOM :
					     FT_CLIENT_DOM);
		if (pid[i] == 0)
			ss_side(s, i);
	}
	if (s->end == END_KILL) {
		/* Kill mid-transfer, not before the rendezvous (a client
		 * would wait for a server that never publishes). */
		int64_t limit = fs_now_ns() + (int64_t)FT_WAIT_MS * 1000000;

		while (!(atomic_load(&s->side[0].up) &&
			 atomic_load(&s->side[1].up)) && fs_now_ns() < limit)
			fs_sleep_us(500);
		fs_sleep_us(s->kill_after_us);
		ck_assert_int_eq(kill(pid[s->victim], SIGKILL), 0);
	}
	for (i = 0; i < 2; i++)
		status[i] = xv_test_wait(pid[i], 3 * SOAK_IO_TIMEOUT_MS);
	for (i = 0; i < 2; i++) {
		struct soak_side *me = &s->side[i];
		bool killed = s->end == END_KILL && s->victim == i;
		bool peer_killed = s->end == END_KILL && s->victim != i;

		/* A victim that finished before the kill exits 0. */
		ck_assert_msg(status[i] == 0 ||
			      (killed && status[i] == 128 + SIGKILL),
			      "%s: side %u ended with %d", what, i, status[i]);
		if (killed || (s->end == END_CLOSE_EARLY && i == 0))
			continue;
		/* The survivor read to its end of stream. */
		ck_assert_msg(atomic_load(&me->eof), "%s: side %u saw no EOF",
			      what, i);
		if (s->end == END_CLOSE_EARLY) {
			/* Its writes went to a closer that discards them. */
			ck_assert_msg(atomic_load(&me->write_end) == 0 ||
				      atomic_load(&me->write_end) == -EPIPE,
				      "%s: write ended with %d", what,
				      atomic_load(&me->write_end));
		} else if (!peer_killed) {
			ck_assert_msg(atomic_load(&me->write_end) == 0,
				      "%s: side %u write ended with %d", what,
				      i, atomic_load(&me->write_end));
		}
	}
	for (i = 0; i < 2; i++) {
		uint64_t sent = atomic_load(&s->side[i].acked);
		uint64_t got = atomic_load(&s->side[!i].received);
		bool reader_gone = (s->end == END_KILL && s->victim != i) ||
				   (s->end == END_CLOSE_EARLY && i == 1);
		bool writer_killed = s->end == END_KILL && s->victim == i;

		if (reader_gone)
			continue;
		/* Acknowledged bytes all arrived; a killed writer may have
		 * put part of its last write in the ring unacknowledged. */
		ck_assert_msg(got >= sent, "%s: side %u acked %llu, peer got "
			      "%llu", what, i, (unsigned long long)sent,
			      (unsigned long long)got);
		if (!writer_killed)
			ck_assert_msg(got == s->total[i], "%s: side %u sent "
				      "%llu of %llu, peer got %llu", what, i,
				      (unsigned long long)sent,
				      (unsigned long long)s->total[i],
				      (unsigned long long)got);
	}
	snprintf(path, sizeof(path), "/local/domain/1/data/vchan/2/%s",
		 s->port);
	if (s->end == END_KILL && s->victim == 0 && status[0] != 0) {
		/* A killed server's rendezvous stays, as on Xen; the
		 * toolstack's cleanup is dom0's. */
		ck_assert_msg(xs_rm(xs, XBT_NULL, "/local/domain/1/data/vchan"),
			      "%s: rm", what);
	}
	ck_assert_msg(fs_xs_exists(xs, path) == 0, "%s: path left", what);
}

static unsigned int ss_seconds(void)
{
	const char *env = getenv("XVCHAN_SOAK_SECONDS");
	unsigned long v;

	if (!env || !*env)
		return SOAK_DEFAULT_SECONDS;
	v = strtoul(env, NULL, 10);
	return v > 0 && v < 7 * 24 * 3600 ? (unsigned int)v :
					     SOAK_DEFAULT_SECONDS;
}

START_TEST(test_soak_every_acknowledged_byte_arrives_once_in_order)
{
	static const size_t rings[] = { 1024, 2048, 4096, 16384, 65536,
					1u << 20 };
	static const uint64_t totals[] = { 0, 1, 1000, 70000, 300000,
					   2000000 };
	unsigned int seconds = ss_seconds(), n = 0, ends[END_COUNT] = { 0 };
	int64_t stop = fs_now_ns() + (int64_t)seconds * 1000000000;
	struct xs_handle *xs = fs_xs_dom0();
	uint64_t rng = 0x50a4ull;
	struct soak_session *s;
	int ports, grants;

	ck_assert_ptr_nonnull(xs);
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(s, MAP_FAILED);
	while (fs_now_ns() < stop) {
		memset(s, 0, sizeof(*s));
		s->index = n;
		s->end = (enum soak_end)fs_below(&rng, END_COUNT);
		s->victim = (unsigned int)fs_below(&rng, 2);
		s->kill_after_us = (unsigned int)fs_below(&rng, 30000);
		s->rings[0] = rings[fs_below(&rng, 6)];
		s->rings[1] = rings[fs_below(&rng, 6)];
		s->total[0] = totals[fs_below(&rng, 6)];
		s->total[1] = totals[fs_below(&rng, 6)];
		s->seed[0] = fs_rand(&rng);
		s->seed[1] = fs_rand(&rng);
		s->chunk_seed = fs_rand(&rng);
		snprintf(s->port, sizeof(s->port), "soak-%u", n);
		ss_run(s, xs);
		ends[s->end]++;
		n++;
	}
	fprintf(stderr, "soak: %u sessions in %u s (%u half-close, %u "
		"close-early, %u kill)\n", n, seconds, ends[END_HALF_CLOSE],
		ends[END_CLOSE_EARLY], ends[END_KILL]);
	ck_assert_msg(fs_sim_settle(0, 0, 5000, &ports, &grants) == 0,
		      "the simulator still holds %d ports, %d grant objects",
		      ports, grants);
	ck_assert_uint_gt(n, 0);
	munmap(s, sizeof(*s));
	xs_close(xs);
}
END_TEST

static void ss_setup(void)
{
	xv_test_sim_start();
}

static void ss_teardown(void)
{
	xv_test_sim_stop();
}

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("load-soak");
	TCase *tc = tcase_create("soak");

	tcase_add_checked_fixture(tc, ss_setup, ss_teardown);
	/* The session running when the bound passes may still take its
	 * io timeouts. */
	tcase_set_timeout(tc, (double)ss_seconds() + 6 * SOAK_IO_TIMEOUT_MS / 1000);
	tcase_add_test(tc,
		test_soak_every_acknowledged_byte_arrives_once_in_order);
	suite_add_tcase(s, tc);
	return s;
}
