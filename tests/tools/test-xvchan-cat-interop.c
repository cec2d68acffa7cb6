/*
 * xvchan-cat against Debian's unmodified libxenvchan (tests/interop's
 * xenvchan-peer) on the simulator, both roles: the rendezvous (keys,
 * permissions, the MirageOS path given explicitly to libxenvchan) and an
 * old peer's end of stream, which has no half-close.
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cat-sim.h"
#include "pattern.h"
#include "run.h"
#include "test-common.h"

/* Longer than the peer's own --timeout, so that it reports how far it got. */
#define WAIT_MS 30000

static void sim_start(void)
{
	cat_sim_start("cati", WAIT_MS);
}

/* @pid exits 0 in time; else the test fails with what it wrote to @err. */
static void assert_exits_zero(pid_t pid, int err, const char *who)
{
	int s = xv_run_wait(pid, WAIT_MS);

	ck_assert_msg(s == 0, "%s exit %d: %s", who, s,
		      xv_run_read_all(err, NULL));
}

/* libxenvchan serves the MirageOS path, which xvchan-cat builds itself
 * from DOMID and PORT; the server sends and closes while the client's
 * stdin is still open. */
START_TEST(test_cat_client_reads_libxenvchan_server_to_its_close)
{
	const char *peer_args[] = { "--server", "--domid", "2", "--path",
				    "/local/domain/1/data/vchan/2/oldsrv",
				    "--read-size", "4096", "--write-size",
				    "8192", "--send", "200000", "--tx-seed",
				    "5", "--after", "close", "--timeout", "20",
				    NULL };
	const char *cat_args[] = { "1", "oldsrv", NULL };
	int hold[2], out = cat_sim_file("out");
	int perr = cat_sim_file("peer-err"), cerr = cat_sim_file("err");
	unsigned char *got;
	pid_t peer, cat;
	size_t len;

	ck_assert_int_eq(pipe2(hold, O_CLOEXEC), 0);
	peer = cat_sim_spawn(1, "XVCHAN_PEER", peer_args, -1, -1, perr);
	cat = cat_sim_spawn(2, "XVCHAN_CAT", cat_args, hold[0], out, cerr);
	close(hold[0]);
	assert_exits_zero(peer, perr, "peer");
	assert_exits_zero(cat, cerr, "xvchan-cat");
	got = (unsigned char *)xv_run_read_all(out, &len);
	ck_assert_uint_eq(len, 200000);
	ck_assert_uint_eq(xv_pattern_check(5, 0, got, len), len);
	free(got);
	close(hold[1]);
}
END_TEST

/* xvchan-cat serves an explicit path; libxenvchan reads everything, sees
 * the end (an old peer's half-close is a close) and leaves. */
START_TEST(test_libxenvchan_client_reads_cat_server_to_its_end)
{
	const char *cat_args[] = { "-l", "--read-size", "1K", "--write-size",
				   "2K", "--path", "data/oldcli", "2", NULL };
	const char *peer_args[] = { "--client", "--domid", "1", "--path",
				    "/local/domain/1/data/oldcli", "--expect",
				    "150000", "--rx-seed", "7", "--after",
				    "wait-peer", "--timeout", "20", NULL };
	int in = cat_sim_file("in"), out = cat_sim_file("out");
	int perr = cat_sim_file("peer-err"), cerr = cat_sim_file("err");
	unsigned char *buf = malloc(150000);
	pid_t peer, cat;
	size_t len;
	char *rest;

	ck_assert_ptr_nonnull(buf);
	xv_pattern_fill(7, 0, buf, 150000);
	ck_assert_int_eq(write(in, buf, 150000), 150000);
	ck_assert_int_eq(lseek(in, 0, SEEK_SET), 0);
	free(buf);
	cat = cat_sim_spawn(1, "XVCHAN_CAT", cat_args, in, out, cerr);
	peer = cat_sim_spawn(2, "XVCHAN_PEER", peer_args, -1, -1, perr);
	assert_exits_zero(peer, perr, "peer");
	assert_exits_zero(cat, cerr, "xvchan-cat");
	rest = xv_run_read_all(out, &len);
	ck_assert_uint_eq(len, 0);
	free(rest);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xvchan-cat-interop");
	TCase *tc = tcase_create("interop");

	tcase_add_checked_fixture(tc, sim_start, cat_sim_stop);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_cat_client_reads_libxenvchan_server_to_its_close);
	tcase_add_test(tc, test_libxenvchan_client_reads_cat_server_to_its_end);
	suite_add_tcase(s, tc);
	return s;
}
