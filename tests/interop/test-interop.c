/*
 * Interop on the simulator: Debian's unmodified libxenvchan against itself
 * (the simulator is faithful), against xvchan in both roles, and xvchan
 * against itself, through the same peer command line; every ring size and
 * two asymmetric pairs; every way a peer can leave; a packet writer.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test-common.h"
#include "test-sim.h"

#define SERVER_DOMID 1
#define CLIENT_DOMID 2
#define STREAM_BYTES (64u << 20)

/* The two implementations, each a peer program built beside this test. */
enum impl { LIBXENVCHAN, XVCHAN, XVCHAN_THREADS };
static const char *const impl_program[] = {
	[LIBXENVCHAN] = "xenvchan-peer",
	[XVCHAN] = "xvchan-peer",
	[XVCHAN_THREADS] = "xvchan-peer",
};
static const char *const impl_name[] = {
	[LIBXENVCHAN] = "libxenvchan",
	[XVCHAN] = "xvchan (poll loop)",
	[XVCHAN_THREADS] = "xvchan (blocking, two threads)",
};

static char program_dir[PATH_MAX];

static void setup(void)
{
	ssize_t n = readlink("/proc/self/exe", program_dir, sizeof(program_dir) - 1);

	ck_assert_int_gt(n, 0);
	program_dir[n] = '\0';
	*strrchr(program_dir, '/') = '\0';
	xv_test_sim_start();
}

static void teardown(void)
{
	xv_test_sim_stop();
}

static pid_t spawn_peer(enum impl impl, unsigned int domid, char **args)
{
	char program[PATH_MAX + 32];
	char *argv[40] = { program };
	int i = 1;

	snprintf(program, sizeof(program), "%s/%s", program_dir, impl_program[impl]);
	ck_assert_int_eq(access(program, X_OK), 0);
	if (impl == XVCHAN_THREADS)
		argv[i++] = "--threads";
	for (char **a = args; *a; a++) {
		ck_assert_int_lt(i, 39);
		argv[i++] = *a;
	}
	argv[i] = NULL;
	return xv_test_spawn(domid, argv);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#define SERVER_PATH "/local/domain/1/data/vchan-interop"

struct stream_case {
	enum impl server, client;
	size_t read_size, write_size; /* the server's */
};

#define EVERY_SIZE(s, c) \
	{ s, c, 1024, 1024 }, { s, c, 2048, 2048 }, { s, c, 4096, 4096 }, \
	{ s, c, 65536, 65536 }, { s, c, 1u << 20, 1u << 20 }, \
	{ s, c, 1024, 1u << 20 }, { s, c, 65536, 4096 }

static const struct stream_case stream_cases[] = {
	/* libxenvchan at both ends: the simulator is faithful. */
	EVERY_SIZE(LIBXENVCHAN, LIBXENVCHAN),
	/* xvchan against libxenvchan, in both roles. */
	EVERY_SIZE(XVCHAN, LIBXENVCHAN),
	EVERY_SIZE(LIBXENVCHAN, XVCHAN),
	{ XVCHAN_THREADS, LIBXENVCHAN, 65536, 65536 },
	{ LIBXENVCHAN, XVCHAN_THREADS, 65536, 65536 },
	/* And xvchan at both ends, for the same promise. */
	EVERY_SIZE(XVCHAN, XVCHAN_THREADS),
};

START_TEST(test_64mib_stream_both_ways_verified)
{
	const struct stream_case *c = &stream_cases[_i];
	char rsize[32], wsize[32], bytes[32];
	pid_t server, client;

	snprintf(rsize, sizeof(rsize), "%zu", c->read_size);
	snprintf(wsize, sizeof(wsize), "%zu", c->write_size);
	snprintf(bytes, sizeof(bytes), "%u", STREAM_BYTES);
	fprintf(stderr, "stream: %s server (read %s, write %s) <-> %s client\n",
		impl_name[c->server], rsize, wsize, impl_name[c->client]);
	server = spawn_peer(c->server, SERVER_DOMID, (char *[]){
		"--server", "--domid", "2", "--path", SERVER_PATH,
		"--read-size", rsize, "--write-size", wsize,
		"--send", bytes, "--expect", bytes,
		"--tx-seed", "11", "--rx-seed", "22", NULL });
	client = spawn_peer(c->client, CLIENT_DOMID, (char *[]){
		"--client", "--domid", "1", "--path", SERVER_PATH,
		"--send", bytes, "--expect", bytes,
		"--tx-seed", "22", "--rx-seed", "11", NULL });
	ck_assert_int_eq(xv_test_wait(client, 240000), 0);
	ck_assert_int_eq(xv_test_wait(server, 240000), 0);
}
END_TEST

/* How the leaving side goes: its program's --after, or killed. */
enum departure { BY_CLOSE, BY_EXIT, BY_SIGKILL };
static const char *const departure_after[] = {
	[BY_CLOSE] = "close", [BY_EXIT] = "exit", [BY_SIGKILL] = "hang",
};

struct departure_case {
	enum impl leaver, stayer;
	int leaver_is_server;
	enum departure how;
};

#define EVERY_DEPARTURE(l, s) \
	{ l, s, 1, BY_CLOSE }, { l, s, 1, BY_EXIT }, { l, s, 1, BY_SIGKILL }, \
	{ l, s, 0, BY_CLOSE }, { l, s, 0, BY_EXIT }, { l, s, 0, BY_SIGKILL }

static const struct departure_case departure_cases[] = {
	EVERY_DEPARTURE(LIBXENVCHAN, LIBXENVCHAN),
	EVERY_DEPARTURE(LIBXENVCHAN, XVCHAN),
	EVERY_DEPARTURE(XVCHAN, LIBXENVCHAN),
	EVERY_DEPARTURE(XVCHAN, XVCHAN),
};

/* The leaver streams 1 MiB and goes; the stayer must see every byte, then
 * the departure (it exits 0 only after reading end of stream). */
START_TEST(test_peer_departure_is_seen)
{
	const struct departure_case *c = &departure_cases[_i];
	unsigned int leaver_dom = c->leaver_is_server ? SERVER_DOMID : CLIENT_DOMID;
	unsigned int stayer_dom = c->leaver_is_server ? CLIENT_DOMID : SERVER_DOMID;
	char leaver_peer[8], stayer_peer[8], done[PATH_MAX];
	char *leaver_role = c->leaver_is_server ? "--server" : "--client";
	char *stayer_role = c->leaver_is_server ? "--client" : "--server";
	pid_t leaver, stayer;
	struct stat st;
	double t0;

	fprintf(stderr, "departure: %s %s leaves by %s, %s stays\n", impl_name[c->leaver],
		leaver_role + 2, departure_after[c->how], impl_name[c->stayer]);
	snprintf(leaver_peer, sizeof(leaver_peer), "%u", stayer_dom);
	snprintf(stayer_peer, sizeof(stayer_peer), "%u", leaver_dom);
	snprintf(done, sizeof(done), "%s/leaver-done", xv_test_sim_dir());
	leaver = spawn_peer(c->leaver, leaver_dom, (char *[]){
		leaver_role, "--domid", leaver_peer, "--path", SERVER_PATH,
		"--send", "1048576", "--tx-seed", "5",
		"--after", (char *)departure_after[c->how], "--done-file", done, NULL });
	stayer = spawn_peer(c->stayer, stayer_dom, (char *[]){
		stayer_role, "--domid", stayer_peer, "--path", SERVER_PATH,
		"--expect", "1048576", "--rx-seed", "5", "--after", "wait-peer",
		"--timeout", "60", NULL });

	if (c->how == BY_SIGKILL) {
		t0 = now_s();
		while (stat(done, &st) != 0 && now_s() - t0 < 60)
			usleep(5000);
		ck_assert_msg(stat(done, &st) == 0, "the leaver never finished its transfer");
		ck_assert_int_eq(kill(leaver, SIGKILL), 0);
		ck_assert_int_eq(xv_test_wait(leaver, 10000), 128 + SIGKILL);
	} else {
		ck_assert_int_eq(xv_test_wait(leaver, 60000), 0);
	}
	ck_assert_int_eq(xv_test_wait(stayer, 30000), 0);
}
END_TEST

/*
 * A packet writer against xvchan's batched cons. libxenvchan_send() sends
 * a 4000-byte chunk whole or not at all, into a 4096-byte ring. The xvchan
 * reader takes each in reads of 3000 (a quarter ring or more: published)
 * and 1000 (under a quarter: held back), so the writer's room for the next
 * packet is only given back by the reader's next look, which finds the
 * ring empty; that look must also wake the writer, who asked for it. A
 * lost wake-up there costs the libxenvchan peer its 200 ms poll per packet:
 * 64 packets would outlast its 5 s timeout, where they take milliseconds.
 * The reader's spin budget is 2 s: a spinning reader must see the request
 * while it spins, not only when it stops spinning and arms.
 */
static const enum impl packet_readers[] = { XVCHAN, XVCHAN_THREADS };

START_TEST(test_packet_writer_gets_the_room_held_back)
{
	enum impl reader = packet_readers[_i];
	pid_t server, client;

	fprintf(stderr, "packets: %s server reads, libxenvchan client sends\n",
		impl_name[reader]);
	server = spawn_peer(reader, SERVER_DOMID, (char *[]){
		"--server", "--domid", "2", "--path", SERVER_PATH,
		"--read-size", "4096", "--expect", "256000", "--chunk", "3000",
		"--rx-seed", "7", "--spin-us", "2000000", "--timeout", "30",
		NULL });
	client = spawn_peer(LIBXENVCHAN, CLIENT_DOMID, (char *[]){
		"--client", "--domid", "1", "--path", SERVER_PATH,
		"--send", "256000", "--chunk", "4000", "--packets",
		"--tx-seed", "7", "--timeout", "5", NULL });
	ck_assert_int_eq(xv_test_wait(client, 60000), 0);
	ck_assert_int_eq(xv_test_wait(server, 60000), 0);
}
END_TEST

#define N_ELEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("interop");
	TCase *stream = tcase_create("stream");
	TCase *departure = tcase_create("departure");
	TCase *packets = tcase_create("packets");

	tcase_add_checked_fixture(stream, setup, teardown);
	tcase_set_timeout(stream, 300);
	tcase_add_loop_test(stream, test_64mib_stream_both_ways_verified, 0,
			    N_ELEMS(stream_cases));
	suite_add_tcase(s, stream);

	tcase_add_checked_fixture(departure, setup, teardown);
	tcase_set_timeout(departure, 120);
	tcase_add_loop_test(departure, test_peer_departure_is_seen, 0,
			    N_ELEMS(departure_cases));
	suite_add_tcase(s, departure);

	tcase_add_checked_fixture(packets, setup, teardown);
	tcase_set_timeout(packets, 120);
	tcase_add_loop_test(packets, test_packet_writer_gets_the_room_held_back,
			    0, N_ELEMS(packet_readers));
	suite_add_tcase(s, packets);
	return s;
}
