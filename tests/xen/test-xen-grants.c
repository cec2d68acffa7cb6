/*
 * Grant tables on a real Xen, in dom0: the behaviours that
 * tests/sim/test-sim-grants.c checks on the simulator, so a difference
 * between the two shows up here (docs/xen.md lists the known ones).
 * dom0 grants to itself, which Xen allows; XV_XEN_DOMU names a running
 * domU for the checks that need a grantee other than us.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "test-common.h"

#define PAGE 4096
#define SELF 0

static xengntshr_handle *gs;
static xengnttab_handle *gt;

static void setup(void)
{
	gs = xengntshr_open(NULL, 0);
	gt = xengnttab_open(NULL, 0);
	ck_assert_ptr_nonnull(gs);
	ck_assert_ptr_nonnull(gt);
}

static void teardown(void)
{
	xengnttab_close(gt);
	xengntshr_close(gs);
}

static uint32_t domu(void)
{
	const char *s = getenv("XV_XEN_DOMU");

	ck_assert_msg(s && atoi(s) > 0, "XV_XEN_DOMU must name the domU");
	return (uint32_t)atoi(s);
}

static int all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

START_TEST(test_map_by_a_domain_other_than_the_grantee_is_refused)
{
	unsigned char *p, *q;
	uint32_t ref;

	p = xengntshr_share_pages(gs, domu(), 1, &ref, 1);
	ck_assert_ptr_nonnull(p);
	memset(p, 0x5a, PAGE);
	/* Not even dom0 maps a grant made to someone else. */
	errno = 0;
	q = xengnttab_map_grant_ref(gt, SELF, ref, PROT_READ);
	ck_assert_ptr_null(q);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(xengntshr_unshare(gs, p, 1), 0);
}
END_TEST

/* Xen, unlike the simulator, lets mprotect() add PROT_WRITE to a
 * read-only grant mapping; the write itself still faults. */
START_TEST(test_read_only_grant_cannot_be_written)
{
	unsigned char *p, *q;
	uint32_t ref;
	pid_t pid;
	int status;

	p = xengntshr_share_pages(gs, SELF, 1, &ref, 0);
	ck_assert_ptr_nonnull(p);
	memset(p, 0x33, PAGE);
	errno = 0;
	q = xengnttab_map_grant_ref(gt, SELF, ref, PROT_READ | PROT_WRITE);
	ck_assert_ptr_null(q);
	ck_assert_int_eq(errno, EINVAL);
	q = xengnttab_map_grant_ref(gt, SELF, ref, PROT_READ);
	ck_assert_ptr_nonnull(q);
	ck_assert(all_bytes(q, PAGE, 0x33));
	ck_assert_int_eq(mprotect(q, PAGE, PROT_READ | PROT_WRITE), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		q[10] = 1;	/* must kill the child */
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGSEGV);
	ck_assert_uint_eq(p[10], 0x33);
	ck_assert_int_eq(xengnttab_unmap(gt, q, 1), 0);
	ck_assert_int_eq(xengntshr_unshare(gs, p, 1), 0);
}
END_TEST

START_TEST(test_several_refs_map_as_one_contiguous_range)
{
	uint32_t r[3], doms[3] = { SELF, SELF, SELF }, order[3], two[2];
	unsigned char *a, *b, *p, *q;

	/* Two shares, so the range spans two objects. */
	a = xengntshr_share_pages(gs, SELF, 2, r, 1);
	b = xengntshr_share_pages(gs, SELF, 1, r + 2, 1);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	memset(a, 0x10, PAGE);
	memset(a + PAGE, 0x11, PAGE);
	memset(b, 0x20, PAGE);
	order[0] = r[2];
	order[1] = r[0];
	order[2] = r[1];
	p = xengnttab_map_grant_refs(gt, 3, doms, order, PROT_READ | PROT_WRITE);
	ck_assert_ptr_nonnull(p);
	ck_assert(all_bytes(p, PAGE, 0x20));
	ck_assert(all_bytes(p + PAGE, PAGE, 0x10));
	ck_assert(all_bytes(p + 2 * PAGE, PAGE, 0x11));
	p[2 * PAGE + 5] = 0x77;
	ck_assert_uint_eq(a[PAGE + 5], 0x77);
	two[0] = r[1];
	two[1] = r[2];
	q = xengnttab_map_domain_grant_refs(gt, 2, SELF, two, PROT_READ);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(q[5], 0x77);
	ck_assert_uint_eq(q[6], 0x11);
	ck_assert(all_bytes(q + PAGE, PAGE, 0x20));
	ck_assert_int_eq(xengnttab_unmap(gt, q, 2), 0);
	ck_assert_int_eq(xengnttab_unmap(gt, p, 3), 0);
	ck_assert_int_eq(xengntshr_unshare(gs, a, 2), 0);
	ck_assert_int_eq(xengntshr_unshare(gs, b, 1), 0);
}
END_TEST

START_TEST(test_new_pages_are_zero_filled)
{
	uint32_t refs[4];
	unsigned char *p, *q;

	p = xengntshr_share_pages(gs, SELF, 4, refs, 1);
	ck_assert_ptr_nonnull(p);
	ck_assert(all_bytes(p, 4 * PAGE, 0));
	q = xengnttab_map_domain_grant_refs(gt, 4, SELF, refs, PROT_READ);
	ck_assert_ptr_nonnull(q);
	ck_assert(all_bytes(q, 4 * PAGE, 0));
	memset(p, 0xff, 4 * PAGE);
	ck_assert_uint_eq(q[3 * PAGE], 0xff);
	ck_assert_int_eq(xengnttab_unmap(gt, q, 4), 0);
	ck_assert_int_eq(xengntshr_unshare(gs, p, 4), 0);
	/* A page shared again after being dirtied is fresh. */
	p = xengntshr_share_pages(gs, SELF, 4, refs, 1);
	ck_assert_ptr_nonnull(p);
	ck_assert(all_bytes(p, 4 * PAGE, 0));
	ck_assert_int_eq(xengntshr_unshare(gs, p, 4), 0);
}
END_TEST

/* gntalloc keeps an unshared page, and its grant, while a mapping lives:
 * on Xen the ref can even be mapped again then (the simulator refuses). */
START_TEST(test_page_stays_while_mapped_after_unshare)
{
	unsigned char *p, *q, *again;
	uint32_t ref;

	p = xengntshr_share_pages(gs, SELF, 1, &ref, 1);
	ck_assert_ptr_nonnull(p);
	memset(p, 0x42, PAGE);
	q = xengnttab_map_grant_ref(gt, SELF, ref, PROT_READ | PROT_WRITE);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(xengntshr_unshare(gs, p, 1), 0);
	ck_assert(all_bytes(q, PAGE, 0x42));
	q[0] = 7;
	ck_assert_uint_eq(q[0], 7);
	again = xengnttab_map_grant_ref(gt, SELF, ref, PROT_READ);
	ck_assert_ptr_nonnull(again);
	ck_assert_uint_eq(again[0], 7);
	ck_assert_uint_eq(again[1], 0x42);
	ck_assert_int_eq(xengnttab_unmap(gt, again, 1), 0);
	ck_assert_int_eq(xengnttab_unmap(gt, q, 1), 0);
}
END_TEST

START_TEST(test_ref_zero_is_never_handed_out)
{
	static uint32_t refs[164];
	static void *pages[100];
	void *bulk;
	int i, j;

	for (i = 0; i < 100; i++) {
		pages[i] = xengntshr_share_pages(gs, SELF, 1, &refs[i], 1);
		ck_assert_ptr_nonnull(pages[i]);
	}
	bulk = xengntshr_share_pages(gs, SELF, 64, refs + 100, 0);
	ck_assert_ptr_nonnull(bulk);
	for (i = 0; i < 164; i++) {
		ck_assert_uint_ne(refs[i], 0);
		for (j = 0; j < i; j++)
			ck_assert_uint_ne(refs[i], refs[j]);
	}
	errno = 0;
	ck_assert_ptr_null(xengnttab_map_grant_ref(gt, SELF, 0, PROT_READ));
	ck_assert_int_eq(errno, EINVAL);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(xengntshr_unshare(gs, pages[i], 1), 0);
	ck_assert_int_eq(xengntshr_unshare(gs, bulk, 64), 0);
}
END_TEST

static int readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1;
}

/* Debian's libxenvchan ends ring mappings with munmap() and then closes
 * its gntdev handle. Linux 6.1's gntdev (PV, page-table mode) clears the
 * byte at munmap() but sends the event only when the map itself goes, at
 * the handle's close (or the process's death); the simulator does both at
 * munmap(). */
START_TEST(test_unmap_notification_fires_when_the_gntdev_handle_closes)
{
	xenevtchn_handle *srv = xenevtchn_open(NULL, 0);
	xenevtchn_handle *cli = xenevtchn_open(NULL, 0);
	xengnttab_handle *mapper = xengnttab_open(NULL, 0);
	unsigned char *p, *q;
	int sport, cport;
	uint32_t ref;

	ck_assert_ptr_nonnull(srv);
	ck_assert_ptr_nonnull(cli);
	ck_assert_ptr_nonnull(mapper);
	p = xengntshr_share_pages(gs, SELF, 1, &ref, 1);
	ck_assert_ptr_nonnull(p);
	sport = xenevtchn_bind_unbound_port(srv, SELF);
	ck_assert_int_gt(sport, 0);
	cport = xenevtchn_bind_interdomain(cli, SELF, (evtchn_port_t)sport);
	ck_assert_int_gt(cport, 0);
	q = xengnttab_map_grant_ref_notify(mapper, SELF, ref,
					   PROT_READ | PROT_WRITE, 64,
					   (evtchn_port_t)cport);
	ck_assert_ptr_nonnull(q);
	q[64] = 1;
	ck_assert_uint_eq(p[64], 1);
	ck_assert(!readable(xenevtchn_fd(srv), 0));
	ck_assert_int_eq(munmap(q, PAGE), 0);
	ck_assert_uint_eq(p[64], 0);
	ck_assert(!readable(xenevtchn_fd(srv), 500));
	ck_assert_int_eq(xengnttab_close(mapper), 0);
	ck_assert(readable(xenevtchn_fd(srv), 10000));
	ck_assert_int_eq(xenevtchn_pending(srv), sport);
	ck_assert_int_eq(xengntshr_unshare(gs, p, 1), 0);
	xenevtchn_close(cli);
	xenevtchn_close(srv);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xen-grants");
	TCase *tc = tcase_create("grants");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_map_by_a_domain_other_than_the_grantee_is_refused);
	tcase_add_test(tc, test_read_only_grant_cannot_be_written);
	tcase_add_test(tc, test_several_refs_map_as_one_contiguous_range);
	tcase_add_test(tc, test_new_pages_are_zero_filled);
	tcase_add_test(tc, test_page_stays_while_mapped_after_unshare);
	tcase_add_test(tc, test_ref_zero_is_never_handed_out);
	tcase_add_test(tc, test_unmap_notification_fires_when_the_gntdev_handle_closes);
	suite_add_tcase(s, tc);
	return s;
}
