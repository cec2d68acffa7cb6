/* Two threads per direction over one in-memory page: ordering and wake-ups. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>

#include "atomic.h"
#include "pattern.h"
#include "ring-fixture.h"
#include "test-common.h"

/*
 * Stand-in for one side's event channel: an event count. A waiter reads the
 * count before arming and sleeps only until it changes, so, like a latched
 * Xen event, a notify sent between arming and sleeping is not lost. It can
 * serve two waiters (that side's reader and writer) at once.
 */
struct event {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t count;
};

static void event_init(struct event *ev)
{
	pthread_mutex_init(&ev->lock, NULL);
	pthread_cond_init(&ev->cond, NULL);
	ev->count = 0;
}

static uint64_t event_count(struct event *ev)
{
	uint64_t c;

	pthread_mutex_lock(&ev->lock);
	c = ev->count;
	pthread_mutex_unlock(&ev->lock);
	return c;
}

static void event_notify(struct event *ev)
{
	pthread_mutex_lock(&ev->lock);
	ev->count++;
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->lock);
}

/* Returns false when nothing came for 20 s: a lost wake-up. */
static bool event_wait(struct event *ev, uint64_t seen)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	pthread_mutex_lock(&ev->lock);
	while (ev->count == seen && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&ev->cond, &ev->lock, &until);
	pthread_mutex_unlock(&ev->lock);
	return rc != ETIMEDOUT || ev->count != seen;
}

static struct xv_fx fx;
static struct event srv_ev, cli_ev;

struct worker {
	struct xv_ring_endpoint *ep;
	struct event *own_ev, *peer_ev;
	uint64_t seed, total, rng;
	uint32_t max_chunk;
	/* results */
	uint64_t done, sleeps, kicks, bad_at;
	bool lost_wakeup, corrupt;
	int64_t err;
};

static uint32_t chunk_size(struct worker *w)
{
	w->rng = xv_pattern_mix(w->rng);
	return (uint32_t)(w->rng % w->max_chunk) + 1;
}

/* Sleep until kicked; false on a lost wake-up or a broken ring. */
static bool sleep_until(struct worker *w, bool readable)
{
	uint64_t seen = event_count(w->own_ev);
	bool kick = false;
	int64_t n = readable ? xv_ring_arm_readable(w->ep, &kick)
			     : xv_ring_arm_writable(w->ep);

	/* A reader that arms publishes the room it held back first: the
	 * writer may be asleep waiting for it. */
	if (kick) {
		w->kicks++;
		event_notify(w->peer_ev);
	}
	if (n < 0) {
		w->err = n;
		return false;
	}
	if (n > 0)
		return true;
	w->sleeps++;
	if (!event_wait(w->own_ev, seen)) {
		w->lost_wakeup = true;
		return false;
	}
	return true;
}

static void *producer(void *arg)
{
	struct worker *w = arg;
	static _Thread_local unsigned char buf[3 << 20];

	while (w->done < w->total) {
		uint64_t want = w->total - w->done;
		uint32_t n = chunk_size(w);
		int64_t r;
		bool kick;

		if (n > want)
			n = (uint32_t)want;
		xv_pattern_fill(w->seed, w->done, buf, n);
		r = xv_ring_send(w->ep, buf, n, &kick);
		if (r < 0) {
			w->err = r;
			break;
		}
		if (kick) {
			w->kicks++;
			event_notify(w->peer_ev);
		}
		w->done += (uint64_t)r;
		if (r == 0 && !sleep_until(w, false))
			break;
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct worker *w = arg;
	static _Thread_local unsigned char buf[3 << 20];

	while (w->done < w->total) {
		uint32_t n = chunk_size(w);
		int64_t r;
		size_t bad;
		bool kick;

		r = xv_ring_recv(w->ep, buf, n, &kick);
		if (r < 0) {
			w->err = r;
			break;
		}
		if (kick) {
			w->kicks++;
			event_notify(w->peer_ev);
		}
		bad = xv_pattern_check(w->seed, w->done, buf, (size_t)r);
		if (bad != (size_t)r) {
			w->corrupt = true;
			w->bad_at = w->done + bad;
			break;
		}
		w->done += (uint64_t)r;
		if (r == 0 && !sleep_until(w, true))
			break;
	}
	/* A reader that leaves publishes what it took last. */
	if (xv_ring_flush_consumed(w->ep)) {
		w->kicks++;
		event_notify(w->peer_ev);
	}
	return NULL;
}

static void worker_init(struct worker *w, struct xv_ring_endpoint *ep,
			bool server, uint64_t seed, uint64_t total,
			uint32_t max_chunk)
{
	*w = (struct worker){
		.ep = ep,
		.own_ev = server ? &srv_ev : &cli_ev,
		.peer_ev = server ? &cli_ev : &srv_ev,
		.seed = seed, .total = total, .rng = seed * 31 + 7,
		.max_chunk = max_chunk,
	};
}

static void worker_assert(const struct worker *w, const char *what)
{
	ck_assert_msg(!w->lost_wakeup, "%s: lost wake-up after %llu bytes",
		      what, (unsigned long long)w->done);
	ck_assert_msg(!w->corrupt, "%s: stream corrupt at byte %llu", what,
		      (unsigned long long)w->bad_at);
	ck_assert_msg(w->err == 0, "%s: error %lld", what, (long long)w->err);
	ck_assert_uint_eq(w->done, w->total);
}

static void setup(void)
{
	event_init(&srv_ev);
	event_init(&cli_ev);
}

/* 8 layouts x 2 directions x 4 MiB = 64 MiB, ring sizes 1 KiB .. 1 MiB. */
static const unsigned int orders[][2] = {
	{ 10, 11 }, { 11, 10 }, { 12, 11 }, { 11, 13 }, { 14, 15 },
	{ 16, 12 }, { 18, 19 }, { 20, 20 },
};

START_TEST(test_both_directions_stream_intact_under_two_threads_each)
{
	unsigned int lo = orders[_i][0], ro = orders[_i][1];
	const uint64_t total = 4u << 20;
	struct worker up_w, up_r, down_w, down_r;
	pthread_t t[4];

	/* Indices start near 2^32 so the wrap is crossed under load. */
	xv_fx_setup(&fx, lo, ro, UINT32_MAX - 5000);
	/* Chunks up to 1.5x the ring: full rings and partial writes. */
	worker_init(&up_w, &fx.cli, false, 100 + _i, total,
		    (3u << lo) / 2);
	worker_init(&up_r, &fx.srv, true, 100 + _i, total, (3u << lo) / 2);
	worker_init(&down_w, &fx.srv, true, 200 + _i, total,
		    (3u << ro) / 2);
	worker_init(&down_r, &fx.cli, false, 200 + _i, total,
		    (3u << ro) / 2);
	/* The readers get a different chunk sequence than the writers. */
	up_r.rng ^= 0xabcdef;
	down_r.rng ^= 0x123456;

	ck_assert_int_eq(pthread_create(&t[0], NULL, producer, &up_w), 0);
	ck_assert_int_eq(pthread_create(&t[1], NULL, consumer, &up_r), 0);
	ck_assert_int_eq(pthread_create(&t[2], NULL, producer, &down_w), 0);
	ck_assert_int_eq(pthread_create(&t[3], NULL, consumer, &down_r), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);

	worker_assert(&up_w, "client writer");
	worker_assert(&up_r, "server reader");
	worker_assert(&down_w, "server writer");
	worker_assert(&down_r, "client reader");
	ck_assert_uint_eq(fx.page->left.prod,
			  (uint32_t)(UINT32_MAX - 5000 + total));
	ck_assert_uint_eq(fx.page->right.cons,
			  (uint32_t)(UINT32_MAX - 5000 + total));
}
END_TEST

/* Receive exactly one byte, sleeping through the handshake when empty. */
static bool recv_one(struct worker *w, unsigned char *byte)
{
	for (;;) {
		bool kick;
		int64_t r = xv_ring_recv(w->ep, byte, 1, &kick);

		if (r < 0) {
			w->err = r;
			return false;
		}
		if (kick) {
			w->kicks++;
			event_notify(w->peer_ev);
		}
		if (r == 1)
			return true;
		if (!sleep_until(w, true))
			return false;
	}
}

/* Ping-pong: each side sends one byte, then waits for the other's reply. */
static void *pingpong(void *arg)
{
	struct worker *w = arg;
	bool serve = w->seed != 0;	/* the server answers, client starts */

	while (w->done < w->total) {
		unsigned char in, out = (unsigned char)w->done;
		bool kick;
		int64_t r;

		if (serve) {
			if (!recv_one(w, &in))
				break;
			if (in != out) {
				w->corrupt = true;
				w->bad_at = w->done;
				break;
			}
		}
		r = xv_ring_send(w->ep, &out, 1, &kick);
		if (r != 1) {
			w->err = r < 0 ? r : -ENOSPC;
			break;
		}
		if (kick) {
			w->kicks++;
			event_notify(w->peer_ev);
		}
		if (!serve) {
			if (!recv_one(w, &in))
				break;
			if (in != out) {
				w->corrupt = true;
				w->bad_at = w->done;
				break;
			}
		}
		w->done++;
	}
	if (xv_ring_flush_consumed(w->ep)) {
		w->kicks++;
		event_notify(w->peer_ev);
	}
	return NULL;
}

/*
 * Ping-pong of single bytes: each reader finds its ring empty almost every
 * time, so nearly every byte goes through arm (N1) -> sleep -> kick (N2).
 * A single lost wake-up stalls both sides and fails the 20 s wait.
 */
START_TEST(test_ping_pong_never_loses_a_wake_up)
{
	const uint64_t total = 20000;
	struct worker cli_w, srv_w;
	pthread_t t[2];

	xv_fx_setup(&fx, 10, 11, UINT32_MAX - 10000);
	worker_init(&cli_w, &fx.cli, false, 0, total, 1);
	worker_init(&srv_w, &fx.srv, true, 1, total, 1);
	ck_assert_int_eq(pthread_create(&t[0], NULL, pingpong, &cli_w), 0);
	ck_assert_int_eq(pthread_create(&t[1], NULL, pingpong, &srv_w), 0);
	ck_assert_int_eq(pthread_join(t[0], NULL), 0);
	ck_assert_int_eq(pthread_join(t[1], NULL), 0);
	worker_assert(&cli_w, "client");
	worker_assert(&srv_w, "server");
	/* The handshake was really exercised, on both sides. */
	ck_assert_uint_gt(cli_w.sleeps, 0);
	ck_assert_uint_gt(srv_w.sleeps, 0);
	ck_assert_uint_gt(cli_w.kicks, 0);
	ck_assert_uint_gt(srv_w.kicks, 0);
	ck_assert_uint_eq(fx.page->left.cons,
			  (uint32_t)(UINT32_MAX - 10000 + total));
}
END_TEST

/*
 * The N1/N2 litmus test. Each round, both threads leave a barrier at the
 * same moment; the reader arms on an empty ring while the writer publishes
 * one byte. Allowed: the reader sees the byte, or the writer sees the bit,
 * or both. Forbidden: neither (the reader would sleep, nobody would kick).
 * Rounds are lock-step, so the two critical sections overlap as tightly as
 * the machine allows. The per-round barriers use the ring's own atomics.
 * On x86, dropping the N2 fence in take_kick() fails this in about half of
 * the runs (store->load reordering); the N1 side's locked RMW is itself a
 * full barrier there, so only a weaker machine can catch a missing N1 fence.
 */
#define RACE_ROUNDS 100000u

static struct {
	uint32_t reader_at, writer_at;		/* round entered */
	uint32_t reader_done, writer_done;	/* round finished */
	uint8_t writer_kicked[RACE_ROUNDS];
} race;

static void race_wait(const uint32_t *other, uint32_t round)
{
	unsigned int spins = 0;

	/* Acquire: pairs with the other thread's release in race_post(). */
	while (xv_atomic_load_acquire_u32(other) < round)
		if (++spins % 256 == 0)
			sched_yield();	/* 2 cores, shared: let the peer run */
}

static void race_post(uint32_t *mine, uint32_t round)
{
	xv_atomic_store_release_u32(mine, round);
}

static void *race_writer(void *arg)
{
	struct worker *w = arg;

	for (uint32_t i = 1; i <= RACE_ROUNDS; i++) {
		unsigned char b = (unsigned char)i;
		bool kick;

		race_post(&race.writer_at, i);
		race_wait(&race.reader_at, i);
		/* A varying head start for the reader sweeps the window. */
		for (uint64_t d = xv_pattern_mix(i) % 600; d > 0; d--)
			(void)xv_atomic_load_relaxed_u32(&race.reader_at);
		if (xv_ring_send(w->ep, &b, 1, &kick) != 1) {
			w->err = -ENOSPC;
			break;
		}
		race.writer_kicked[i - 1] = kick;
		race_post(&race.writer_done, i);
		race_wait(&race.reader_done, i);
	}
	return NULL;
}

static void *race_reader(void *arg)
{
	struct worker *w = arg;

	for (uint32_t i = 1; i <= RACE_ROUNDS; i++) {
		unsigned char b;
		int64_t seen;
		bool kick;

		race_post(&race.reader_at, i);
		race_wait(&race.writer_at, i);
		seen = xv_ring_arm_readable(w->ep, &kick);
		race_wait(&race.writer_done, i);
		if (seen < 0) {
			w->err = seen;
			break;
		}
		if (seen == 0 && !race.writer_kicked[i - 1]) {
			w->lost_wakeup = true;
			w->done = i;
			break;
		}
		if (xv_ring_recv(w->ep, &b, 1, &kick) != 1 ||
		    b != (unsigned char)i) {
			w->corrupt = true;
			w->bad_at = i;
			break;
		}
		/* Un-arm for the next round, as a woken sleeper would be. */
		xv_atomic_fetch_and_u8(w->ep->arm_byte,
				       (uint8_t)~XV_WIRE_NOTIFY_WRITE);
		race_post(&race.reader_done, i);
	}
	/* Let a writer stuck at a barrier finish. */
	race_post(&race.reader_at, RACE_ROUNDS);
	race_post(&race.reader_done, RACE_ROUNDS);
	return NULL;
}

START_TEST(test_arm_racing_a_publish_never_both_miss)
{
	struct worker r, w;
	pthread_t t[2];

	memset(&race, 0, sizeof(race));
	xv_fx_setup(&fx, 10, 11, 0);
	worker_init(&w, &fx.srv, true, 500, RACE_ROUNDS, 1);
	worker_init(&r, &fx.cli, false, 500, RACE_ROUNDS, 1);
	ck_assert_int_eq(pthread_create(&t[0], NULL, race_writer, &w), 0);
	ck_assert_int_eq(pthread_create(&t[1], NULL, race_reader, &r), 0);
	ck_assert_int_eq(pthread_join(t[0], NULL), 0);
	ck_assert_int_eq(pthread_join(t[1], NULL), 0);
	ck_assert_msg(!r.lost_wakeup,
		      "round %llu: reader saw no data and writer saw no bit",
		      (unsigned long long)r.done);
	ck_assert(!r.corrupt);
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_eq(fx.page->right.prod, RACE_ROUNDS);
}
END_TEST

/* A 1 KiB ring with large writes: the writer sleeps on a full ring. */
START_TEST(test_writer_sleeping_on_a_full_ring_is_woken)
{
	const uint64_t total = 2u << 20;
	struct worker w, r;
	pthread_t t[2];

	xv_fx_setup(&fx, 10, 11, 0);
	worker_init(&w, &fx.cli, false, 400, total, 4096);
	worker_init(&r, &fx.srv, true, 400, total, 100);
	ck_assert_int_eq(pthread_create(&t[0], NULL, producer, &w), 0);
	ck_assert_int_eq(pthread_create(&t[1], NULL, consumer, &r), 0);
	ck_assert_int_eq(pthread_join(t[0], NULL), 0);
	ck_assert_int_eq(pthread_join(t[1], NULL), 0);
	worker_assert(&w, "writer");
	worker_assert(&r, "reader");
	ck_assert_uint_gt(w.sleeps, 0);
	ck_assert_uint_gt(r.kicks, 0);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("ring-threads");
	TCase *stream = tcase_create("stream");
	TCase *wake = tcase_create("wake");

	tcase_add_checked_fixture(stream, setup, NULL);
	tcase_add_loop_test(stream,
			    test_both_directions_stream_intact_under_two_threads_each,
			    0, sizeof(orders) / sizeof(orders[0]));
	tcase_set_timeout(stream, 120);
	suite_add_tcase(s, stream);

	tcase_add_checked_fixture(wake, setup, NULL);
	tcase_add_test(wake, test_ping_pong_never_loses_a_wake_up);
	tcase_add_test(wake, test_writer_sleeping_on_a_full_ring_is_woken);
	tcase_add_test(wake, test_arm_racing_a_publish_never_both_miss);
	tcase_set_timeout(wake, 60);
	suite_add_tcase(s, wake);
	return s;
}
