/* Grant tables on the simulator: Xen's checks and mapping semantics. */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "chan.h"
#include "test-common.h"
#include "test-sim.h"

static int all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* dom1 shares one page filled with @fill to @grantee and reports its ref,
 * then waits for a word on @go before exiting. */
static pid_t sharer(struct xv_chan *out, struct xv_chan *go, uint32_t grantee,
		    int writable, unsigned char fill)
{
	pid_t pid = xv_test_fork_domain(1);
	xengntshr_handle *gs;
	unsigned char *p;
	uint32_t ref;

	if (pid)
		return pid;
	gs = xengntshr_open(NULL, 0);
	CHILD_ASSERT(gs);
	p = xengntshr_share_pages(gs, grantee, 1, &ref, writable);
	CHILD_ASSERT(p);
	memset(p, fill, PAGE);
	xv_chan_put(out, ref);
	xv_chan_get(go);
	_exit(0);
}

START_TEST(test_grant_functions_resolve_to_the_simulator)
{
	void *sym = dlsym(RTLD_DEFAULT, "xengnttab_open");
	Dl_info info;

	ck_assert_ptr_nonnull(sym);
	ck_assert_int_ne(dladdr(sym, &info), 0);
	ck_assert_ptr_nonnull(strstr(info.dli_fname, "libxvchan-sim-preload.so"));
	sym = dlsym(RTLD_DEFAULT, "munmap");
	ck_assert_int_ne(dladdr(sym, &info), 0);
	ck_assert_ptr_nonnull(strstr(info.dli_fname, "libxvchan-sim-preload.so"));
}
END_TEST

START_TEST(test_map_by_a_domain_other_than_the_grantee_is_refused)
{
	struct xv_chan refs, go;
	pid_t owner, pid;
	uint32_t ref;

	xv_chan_open(&refs);
	xv_chan_open(&go);
	owner = sharer(&refs, &go, 2, 1, 0x5a);
	ref = xv_chan_get(&refs);
	ck_assert_uint_ne(ref, 0);

	/* Not even dom0 maps a grant made to someone else. */
	pid = xv_test_fork_domain(0);
	if (pid == 0) {
		xengnttab_handle *gt = xengnttab_open(NULL, 0);

		CHILD_ASSERT(gt);
		CHILD_FAILS(xengnttab_map_grant_ref(gt, 1, ref, PROT_READ),
			    EINVAL);
		/* Nor does the grantee with the wrong granting domain. */
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);

	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		xengnttab_handle *gt = xengnttab_open(NULL, 0);
		unsigned char *p;

		CHILD_ASSERT(gt);
		CHILD_FAILS(xengnttab_map_grant_ref(gt, 0, ref, PROT_READ),
			    EINVAL);
		p = xengnttab_map_grant_ref(gt, 1, ref, PROT_READ);
		CHILD_ASSERT(p);
		CHILD_ASSERT(all_bytes(p, PAGE, 0x5a));
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
	xv_chan_put(&go, 1);
	ck_assert_int_eq(xv_test_wait(owner, 10000), 0);
}
END_TEST

START_TEST(test_read_only_grant_cannot_be_written)
{
	struct xv_chan refs, go, ok;
	pid_t owner, pid;
	uint32_t ref;

	xv_chan_open(&refs);
	xv_chan_open(&go);
	xv_chan_open(&ok);
	owner = sharer(&refs, &go, 2, 0, 0x33);
	ref = xv_chan_get(&refs);

	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		xengnttab_handle *gt = xengnttab_open(NULL, 0);
		unsigned char *p;

		CHILD_ASSERT(gt);
		CHILD_FAILS(xengnttab_map_grant_ref(gt, 1, ref,
						    PROT_READ | PROT_WRITE),
			    EINVAL);
		p = xengnttab_map_grant_ref(gt, 1, ref, PROT_READ);
		CHILD_ASSERT(p);
		CHILD_ASSERT(all_bytes(p, PAGE, 0x33));
		errno = 0;
		CHILD_ASSERT(mprotect(p, PAGE, PROT_READ | PROT_WRITE) == -1);
		CHILD_ASSERT(errno == EACCES);
		xv_chan_put(&ok, 1);
		p[10] = 1;	/* must kill us */
		_exit(0);
	}
	ck_assert_uint_eq(xv_chan_get(&ok), 1);
	ck_assert_int_eq(xv_test_wait(pid, 10000), 128 + SIGSEGV);
	xv_chan_put(&go, 1);
	ck_assert_int_eq(xv_test_wait(owner, 10000), 0);
}
END_TEST

START_TEST(test_several_refs_map_as_one_contiguous_range)
{
	struct xv_chan refs, go;
	pid_t owner, pid;
	uint32_t r[3];
	int i;

	xv_chan_open(&refs);
	xv_chan_open(&go);
	owner = xv_test_fork_domain(1);
	if (owner == 0) {
		xengntshr_handle *gs = xengntshr_open(NULL, 0);
		unsigned char *a, *b;

		CHILD_ASSERT(gs);
		/* Two shares, so the range spans two objects. */
		a = xengntshr_share_pages(gs, 2, 2, r, 1);
		b = xengntshr_share_pages(gs, 2, 1, r + 2, 1);
		CHILD_ASSERT(a && b);
		memset(a, 0x10, PAGE);
		memset(a + PAGE, 0x11, PAGE);
		memset(b, 0x20, PAGE);
		for (i = 0; i < 3; i++)
			xv_chan_put(&refs, r[i]);
		xv_chan_get(&go);
		/* dom2 wrote through its mapping of a's second page. */
		CHILD_ASSERT(a[PAGE + 5] == 0x77);
		CHILD_ASSERT(xengntshr_unshare(gs, a, 2) == 0);
		CHILD_ASSERT(xengntshr_unshare(gs, b, 1) == 0);
		_exit(0);
	}
	for (i = 0; i < 3; i++)
		r[i] = xv_chan_get(&refs);

	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		xengnttab_handle *gt = xengnttab_open(NULL, 0);
		uint32_t doms[3] = { 1, 1, 1 }, order[3] = { r[2], r[0], r[1] };
		uint32_t two[2] = { r[1], r[2] };
		unsigned char *p, *q;

		CHILD_ASSERT(gt);
		p = xengnttab_map_grant_refs(gt, 3, doms, order,
					     PROT_READ | PROT_WRITE);
		CHILD_ASSERT(p);
		CHILD_ASSERT(all_bytes(p, PAGE, 0x20));
		CHILD_ASSERT(all_bytes(p + PAGE, PAGE, 0x10));
		CHILD_ASSERT(all_bytes(p + 2 * PAGE, PAGE, 0x11));
		p[2 * PAGE + 5] = 0x77;
		q = xengnttab_map_domain_grant_refs(gt, 2, 1, two, PROT_READ);
		CHILD_ASSERT(q);
		CHILD_ASSERT(q[5] == 0x77 && q[6] == 0x11);
		CHILD_ASSERT(all_bytes(q + PAGE, PAGE, 0x20));
		CHILD_ASSERT(xengnttab_unmap(gt, q, 2) == 0);
		CHILD_ASSERT(xengnttab_unmap(gt, p, 3) == 0);
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
	xv_chan_put(&go, 1);
	ck_assert_int_eq(xv_test_wait(owner, 10000), 0);
}
END_TEST

START_TEST(test_one_range_may_mix_granting_domains)
{
	struct xv_chan refs, go;
	pid_t a, b, pid;
	uint32_t ra, rb;

	xv_chan_open(&refs);
	xv_chan_open(&go);
	a = sharer(&refs, &go, 2, 1, 0xa1);
	ra = xv_chan_get(&refs);
	/* A second granter, domain 3. */
	b = xv_test_fork_domain(3);
	if (b == 0) {
		xengntshr_handle *gs = xengntshr_open(NULL, 0);
		unsigned char *p;
		uint32_t ref;

		CHILD_ASSERT(gs);
		p = xengntshr_share_pages(gs, 2, 1, &ref, 0);
		CHILD_ASSERT(p);
		memset(p, 0xb3, PAGE);
		xv_chan_put(&refs, ref);
		xv_chan_get(&go);
		_exit(0);
	}
	rb = xv_chan_get(&refs);
	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		xengnttab_handle *gt = xengnttab_open(NULL, 0);
		uint32_t doms[3] = { 3, 1, 1 }, r[3] = { rb, ra, ra };
		uint32_t wrong[2] = { 3, 2 }, rr[2] = { rb, rb };
		unsigned char *p;

		CHILD_ASSERT(gt);
		p = xengnttab_map_grant_refs(gt, 3, doms, r, PROT_READ);
		CHILD_ASSERT(p);
		CHILD_ASSERT(all_bytes(p, PAGE, 0xb3));
		CHILD_ASSERT(all_bytes(p + PAGE, 2 * PAGE, 0xa1));
		/* dom3's page is read-only: a writable range is refused whole. */
		CHILD_FAILS(xengnttab_map_grant_refs(gt, 3, doms, r,
						     PROT_READ | PROT_WRITE),
			    EINVAL);
		/* Refs are per granting domain: dom2 granted nothing, so the
		 * second entry fails, and with it the whole map. */
		CHILD_FAILS(xengnttab_map_grant_refs(gt, 2, wrong, rr,
						     PROT_READ),
			    EINVAL);
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
	xv_chan_put(&go, 1);
	xv_chan_put(&go, 1);
	ck_assert_int_eq(xv_test_wait(a, 10000), 0);
	ck_assert_int_eq(xv_test_wait(b, 10000), 0);
}
END_TEST

START_TEST(test_new_pages_are_zero_filled)
{
	pid_t pid = xv_test_fork_domain(1);

	if (pid == 0) {
		xengntshr_handle *gs = xengntshr_open(NULL, 0);
		xengnttab_handle *gt = xengnttab_open(NULL, 0);
		uint32_t refs[4];
		unsigned char *p, *q;

		CHILD_ASSERT(gs && gt);
		p = xengntshr_share_pages(gs, 1, 4, refs, 1);
		CHILD_ASSERT(p);
		CHILD_ASSERT(all_bytes(p, 4 * PAGE, 0));
		/* Granting to oneself is allowed, as on Xen. */
		q = xengnttab_map_domain_grant_refs(gt, 4, 1, refs, PROT_READ);
		CHILD_ASSERT(q);
		CHILD_ASSERT(all_bytes(q, 4 * PAGE, 0));
		memset(p, 0xff, 4 * PAGE);
		CHILD_ASSERT(q[3 * PAGE] == 0xff);
		CHILD_ASSERT(xengnttab_unmap(gt, q, 4) == 0);
		CHILD_ASSERT(xengntshr_unshare(gs, p, 4) == 0);
		/* A page shared again after being dirtied is fresh. */
		p = xengntshr_share_pages(gs, 1, 4, refs, 1);
		CHILD_ASSERT(p);
		CHILD_ASSERT(all_bytes(p, 4 * PAGE, 0));
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
}
END_TEST

START_TEST(test_page_stays_while_mapped_after_unshare)
{
	struct xv_chan refs, mapped, unshared;
	pid_t owner, pid;
	uint32_t ref;

	xv_chan_open(&refs);
	xv_chan_open(&mapped);
	xv_chan_open(&unshared);
	owner = xv_test_fork_domain(1);
	if (owner == 0) {
		xengntshr_handle *gs = xengntshr_open(NULL, 0);
		unsigned char *p;

		CHILD_ASSERT(gs);
		p = xengntshr_share_pages(gs, 2, 1, &ref, 1);
		CHILD_ASSERT(p);
		memset(p, 0x42, PAGE);
		xv_chan_put(&refs, ref);
		xv_chan_get(&mapped);
		CHILD_ASSERT(xengntshr_unshare(gs, p, 1) == 0);
		xv_chan_put(&unshared, 1);
		_exit(0);
	}
	ref = xv_chan_get(&refs);
	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		xengnttab_handle *gt = xengnttab_open(NULL, 0);
		unsigned char *p;

		CHILD_ASSERT(gt);
		p = xengnttab_map_grant_ref(gt, 1, ref, PROT_READ | PROT_WRITE);
		CHILD_ASSERT(p);
		xv_chan_put(&mapped, 1);
		xv_chan_get(&unshared);
		CHILD_ASSERT(all_bytes(p, PAGE, 0x42));
		p[0] = 7;
		CHILD_ASSERT(p[0] == 7);
		/* The ref itself is gone: no new mapping. */
		CHILD_FAILS(xengnttab_map_grant_ref(gt, 1, ref, PROT_READ),
			    EINVAL);
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
	ck_assert_int_eq(xv_test_wait(owner, 10000), 0);
}
END_TEST

START_TEST(test_ref_zero_is_never_handed_out)
{
	pid_t pid = xv_test_fork_domain(1);

	if (pid == 0) {
		xengntshr_handle *gs = xengntshr_open(NULL, 0);
		xengnttab_handle *gt = xengnttab_open(NULL, 0);
		static uint32_t refs[164];
		int i, j;

		CHILD_ASSERT(gs && gt);
		for (i = 0; i < 100; i++)
			CHILD_ASSERT(xengntshr_share_pages(gs, 2, 1, &refs[i], 1));
		CHILD_ASSERT(xengntshr_share_pages(gs, 2, 64, refs + 100, 0));
		for (i = 0; i < 164; i++) {
			CHILD_ASSERT(refs[i] != 0);
			for (j = 0; j < i; j++)
				CHILD_ASSERT(refs[i] != refs[j]);
		}
		CHILD_FAILS(xengnttab_map_grant_ref(gt, 1, 0, PROT_READ),
			    EINVAL);
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
}
END_TEST

/*
 * As Linux's gntalloc (module parameter limit, 1024): a domain shares at
 * most 1024 pages at once, all its processes together; the next share
 * fails with ENOSPC until some are unshared, and another domain has a
 * budget of its own. On Xen 4.17 a second vchan server with two 1 MiB
 * rings (513 pages each) failed so in the same domain.
 */
#define GNTALLOC_LIMIT 1024
#define CHUNK 64

/* A process of domain @domid shares @pages (a multiple of CHUNK) in
 * CHUNK-page shares, which must all succeed, then one more page, which
 * must fail with ENOSPC if @full. Reports 1 on @out, waits for a word on
 * @go, its own: nonzero unshares the first chunk and reports again. Then
 * waits for a last word before it exits. */
static pid_t budget_sharer(unsigned int domid, int pages, int full,
			   struct xv_chan *out, struct xv_chan *go)
{
	pid_t pid = xv_test_fork_domain(domid);
	static uint32_t refs[GNTALLOC_LIMIT + 1];
	void *first = NULL;
	xengntshr_handle *gs;
	int i;

	if (pid)
		return pid;
	gs = xengntshr_open(NULL, 0);
	CHILD_ASSERT(gs);
	for (i = 0; i < pages; i += CHUNK) {
		void *p = xengntshr_share_pages(gs, 2, CHUNK, refs + i, 1);

		CHILD_ASSERT(p);
		if (!first)
			first = p;
	}
	if (full)
		CHILD_FAILS(xengntshr_share_pages(gs, 2, 1, refs + i, 1),
			    ENOSPC);
	xv_chan_put(out, 1);
	if (xv_chan_get(go)) {
		CHILD_ASSERT(xengntshr_unshare(gs, first, CHUNK) == 0);
		xv_chan_put(out, 1);
	}
	xv_chan_get(go);
	_exit(0);
}

START_TEST(test_a_domain_shares_at_most_1024_pages_at_once)
{
	struct xv_chan out, go_a, go_b, go_c;
	pid_t a, b, c;

	xv_chan_open(&out);
	xv_chan_open(&go_a);
	xv_chan_open(&go_b);
	xv_chan_open(&go_c);
	/* Domain 1's whole budget, in one process. */
	a = budget_sharer(1, GNTALLOC_LIMIT, 1, &out, &go_a);
	ck_assert_uint_eq(xv_chan_get(&out), 1);
	/* Another of its processes has none left; domain 3 has its own. */
	b = budget_sharer(1, 0, 1, &out, &go_b);
	ck_assert_uint_eq(xv_chan_get(&out), 1);
	c = budget_sharer(3, CHUNK, 0, &out, &go_c);
	ck_assert_uint_eq(xv_chan_get(&out), 1);
	xv_chan_put(&go_b, 0);
	xv_chan_put(&go_b, 0);
	ck_assert_int_eq(xv_test_wait(b, 10000), 0);
	xv_chan_put(&go_c, 0);
	xv_chan_put(&go_c, 0);
	ck_assert_int_eq(xv_test_wait(c, 10000), 0);
	/* One chunk back: exactly that much can be shared again. */
	xv_chan_put(&go_a, 1);
	ck_assert_uint_eq(xv_chan_get(&out), 1);
	b = budget_sharer(1, CHUNK, 1, &out, &go_b);
	ck_assert_uint_eq(xv_chan_get(&out), 1);
	xv_chan_put(&go_b, 0);
	xv_chan_put(&go_b, 0);
	xv_chan_put(&go_a, 0);
	ck_assert_int_eq(xv_test_wait(a, 10000), 0);
	ck_assert_int_eq(xv_test_wait(b, 10000), 0);
}
END_TEST

/* Debian's libxenvchan ends ring mappings with munmap(), not unmap. */
START_TEST(test_plain_munmap_fires_the_unmap_notification)
{
	struct xv_chan up, set, go;
	pid_t owner, pid;
	uint32_t ref, port;

	xv_chan_open(&up);
	xv_chan_open(&set);
	xv_chan_open(&go);
	owner = xv_test_fork_domain(1);
	if (owner == 0) {
		xengntshr_handle *gs = xengntshr_open(NULL, 0);
		xenevtchn_handle *ev = xenevtchn_open(NULL, 0);
		unsigned char *p;
		int lport;

		CHILD_ASSERT(gs && ev);
		p = xengntshr_share_pages(gs, 2, 1, &ref, 1);
		lport = xenevtchn_bind_unbound_port(ev, 2);
		CHILD_ASSERT(p && lport > 0);
		xv_chan_put(&up, ref);
		xv_chan_put(&up, (uint32_t)lport);
		xv_chan_get(&set);
		CHILD_ASSERT(p[64] == 1);
		CHILD_ASSERT(!xv_readable(xenevtchn_fd(ev), 0));
		xv_chan_put(&go, 1);
		CHILD_ASSERT(xv_readable(xenevtchn_fd(ev), 10000));
		CHILD_ASSERT(xenevtchn_pending(ev) == lport);
		CHILD_ASSERT(p[64] == 0);
		_exit(0);
	}
	ref = xv_chan_get(&up);
	port = xv_chan_get(&up);
	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		xengnttab_handle *gt = xengnttab_open(NULL, 0);
		xenevtchn_handle *ev = xenevtchn_open(NULL, 0);
		unsigned char *p;
		int lport;

		CHILD_ASSERT(gt && ev);
		lport = xenevtchn_bind_interdomain(ev, 1, port);
		CHILD_ASSERT(lport > 0);
		p = xengnttab_map_grant_ref_notify(gt, 1, ref,
						   PROT_READ | PROT_WRITE, 64,
						   (evtchn_port_t)lport);
		CHILD_ASSERT(p);
		p[64] = 1;
		xv_chan_put(&set, 1);
		xv_chan_get(&go);
		CHILD_ASSERT(munmap(p, PAGE) == 0);
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
	ck_assert_int_eq(xv_test_wait(owner, 10000), 0);
}
END_TEST

START_TEST(test_set_max_grants_limits_a_handle)
{
	pid_t pid = xv_test_fork_domain(1);

	if (pid == 0) {
		xengntshr_handle *gs = xengntshr_open(NULL, 0);
		xengnttab_handle *gt = xengnttab_open(NULL, 0);
		uint32_t refs[3];
		unsigned char *p, *q;

		CHILD_ASSERT(gs && gt);
		CHILD_ASSERT(xengnttab_set_max_grants(gt, 2) == 0);
		CHILD_ASSERT(xengntshr_share_pages(gs, 1, 3, refs, 1));
		CHILD_FAILS(xengnttab_map_domain_grant_refs(gt, 3, 1, refs,
							    PROT_READ),
			    ENOMEM);
		p = xengnttab_map_domain_grant_refs(gt, 2, 1, refs, PROT_READ);
		CHILD_ASSERT(p);
		CHILD_FAILS(xengnttab_map_grant_ref(gt, 1, refs[2], PROT_READ),
			    ENOMEM);
		/* A plain munmap gives the grants back too. */
		CHILD_ASSERT(munmap(p, 2 * PAGE) == 0);
		q = xengnttab_map_domain_grant_refs(gt, 2, 1, refs + 1, PROT_READ);
		CHILD_ASSERT(q);
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("sim-grants");
	TCase *tc = tcase_create("grants");

	tcase_add_checked_fixture(tc, xv_test_sim_start, xv_test_sim_stop);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_grant_functions_resolve_to_the_simulator);
	tcase_add_test(tc, test_map_by_a_domain_other_than_the_grantee_is_refused);
	tcase_add_test(tc, test_read_only_grant_cannot_be_written);
	tcase_add_test(tc, test_several_refs_map_as_one_contiguous_range);
	tcase_add_test(tc, test_one_range_may_mix_granting_domains);
	tcase_add_test(tc, test_new_pages_are_zero_filled);
	tcase_add_test(tc, test_page_stays_while_mapped_after_unshare);
	tcase_add_test(tc, test_ref_zero_is_never_handed_out);
	tcase_add_test(tc, test_plain_munmap_fires_the_unmap_notification);
	tcase_add_test(tc, test_set_max_grants_limits_a_handle);
	tcase_add_test(tc, test_a_domain_shares_at_most_1024_pages_at_once);
	suite_add_tcase(s, tc);
	return s;
}
