/* What the simulator does when a domain's process dies: what Xen's drivers
 * do when its device files close (unmap notifications, ports, grants). */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "chan.h"
#include "event.h"
#include "test-common.h"
#include "test-sim.h"

/* This test process is dom1, the survivor. */
static xenevtchn_handle *ev;
static xengntshr_handle *gs;
static xengnttab_handle *gt;

static void setup(void)
{
	xv_test_sim_start();
	ck_assert_int_eq(setenv("XVCHAN_SIM_DOMID", "1", 1), 0);
	ev = xenevtchn_open(NULL, 0);
	gs = xengntshr_open(NULL, 0);
	gt = xengnttab_open(NULL, 0);
	ck_assert_ptr_nonnull(ev);
	ck_assert_ptr_nonnull(gs);
	ck_assert_ptr_nonnull(gt);
}

static void teardown(void)
{
	xenevtchn_close(ev);
	xengntshr_close(gs);
	xengnttab_close(gt);
	xv_test_sim_stop();
}

/* dom2 child: bind to our @port, map @ref with an unmap notification at
 * byte 100 on that channel, set the byte, report, then hang; with @fork_first
 * it also leaves a grandchild holding copies of everything. */
static pid_t mapper(struct xv_chan *up, uint32_t ref, int port, int fork_first)
{
	pid_t pid = xv_test_fork_domain(2);
	xenevtchn_handle *h;
	xengnttab_handle *t;
	unsigned char *p;
	int lport;

	if (pid)
		return pid;
	h = xenevtchn_open(NULL, 0);
	t = xengnttab_open(NULL, 0);
	CHILD_ASSERT(h && t);
	lport = xenevtchn_bind_interdomain(h, 1, (evtchn_port_t)port);
	CHILD_ASSERT(lport > 0);
	p = xengnttab_map_grant_ref_notify(t, 1, ref, PROT_READ | PROT_WRITE,
					   100, (evtchn_port_t)lport);
	CHILD_ASSERT(p);
	p[100] = 1;
	if (fork_first) {
		pid_t grandchild = fork();

		CHILD_ASSERT(grandchild >= 0);
		if (grandchild == 0) {
			/* Lives past its parent with the inherited fds. */
			sleep(30);
			_exit(0);
		}
		xv_chan_put(up, (uint32_t)grandchild);
	}
	xv_chan_put(up, 1);
	for (;;)
		pause();
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A page shared writable with dom2 (its ref in *ref) and a port left
 * for dom2 to bind (*port): what a mapper child needs. */
static unsigned char *share_with_dom2(uint32_t *ref, int *port)
{
	unsigned char *page = xengntshr_share_pages(gs, 2, 1, ref, 1);

	ck_assert_ptr_nonnull(page);
	*port = xenevtchn_bind_unbound_port(ev, 2);
	ck_assert_int_gt(*port, 0);
	return page;
}

static void killed_mapper_notifies(int fork_first)
{
	struct xv_chan up;
	unsigned char *page;
	uint32_t ref;
	pid_t pid, grandchild = 0;
	double start;
	int port;

	xv_chan_open(&up);
	page = share_with_dom2(&ref, &port);
	pid = mapper(&up, ref, port, fork_first);
	if (fork_first)
		grandchild = (pid_t)xv_chan_get(&up);
	ck_assert_uint_eq(xv_chan_get(&up), 1);
	ck_assert_uint_eq(page[100], 1);
	ck_assert(!xv_readable(xenevtchn_fd(ev), 0));

	start = now_ms();
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	/* Promised within 100 ms; asserted loosely against a slow machine. */
	ck_assert(xv_readable(xenevtchn_fd(ev), 5000));
	ck_assert_double_lt(now_ms() - start, 5000);
	ck_assert_int_eq(xenevtchn_pending(ev), port);
	ck_assert_uint_eq(page[100], 0);
	ck_assert_int_eq(xv_test_wait(pid, 5000), 128 + SIGKILL);
	/* Not our child, so not ours to reap: init does. */
	if (grandchild)
		ck_assert_int_eq(kill(grandchild, SIGKILL), 0);
	/* Its port went with it: ours waits for dom2 again and a new dom2
	 * process can bind it. */
	ck_assert_int_eq(xenevtchn_notify(ev, (evtchn_port_t)port), 0);
	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		xenevtchn_handle *h = xenevtchn_open(NULL, 0);

		CHILD_ASSERT(h);
		CHILD_ASSERT(xenevtchn_bind_interdomain(h, 1, (evtchn_port_t)port) > 0);
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
}

START_TEST(test_killed_mapper_clears_the_byte_and_raises_the_event)
{
	killed_mapper_notifies(0);
}
END_TEST

START_TEST(test_a_forked_child_does_not_keep_a_dead_process_alive)
{
	killed_mapper_notifies(1);
}
END_TEST

START_TEST(test_killed_sharer_notifies_and_releases_its_grants)
{
	struct xv_chan up;
	unsigned char *p;
	uint32_t ref;
	pid_t pid;
	int port;

	xv_chan_open(&up);
	port = xenevtchn_bind_unbound_port(ev, 2);
	ck_assert_int_gt(port, 0);
	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		xenevtchn_handle *h = xenevtchn_open(NULL, 0);
		xengntshr_handle *s = xengntshr_open(NULL, 0);
		unsigned char *q;
		uint32_t r;
		int lport;

		CHILD_ASSERT(h && s);
		lport = xenevtchn_bind_interdomain(h, 1, (evtchn_port_t)port);
		CHILD_ASSERT(lport > 0);
		q = xengntshr_share_page_notify(s, 1, &r, 1, 10,
						(evtchn_port_t)lport);
		CHILD_ASSERT(q);
		memset(q, 0x66, PAGE);
		xv_chan_put(&up, r);
		for (;;)
			pause();
	}
	ref = xv_chan_get(&up);
	p = xengnttab_map_grant_ref(gt, 2, ref, PROT_READ | PROT_WRITE);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p[10], 0x66);

	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert(xv_readable(xenevtchn_fd(ev), 5000));
	ck_assert_int_eq(xenevtchn_pending(ev), port);
	ck_assert_uint_eq(p[10], 0);
	/* The page lives on in our mapping; the grant does not. */
	ck_assert_uint_eq(p[11], 0x66);
	ck_assert_uint_eq(p[PAGE - 1], 0x66);
	errno = 0;
	ck_assert_ptr_null(xengnttab_map_grant_ref(gt, 2, ref, PROT_READ));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(xengnttab_unmap(gt, p, 1), 0);
	ck_assert_int_eq(xv_test_wait(pid, 5000), 128 + SIGKILL);
}
END_TEST

START_TEST(test_exit_without_closing_notifies_too)
{
	struct xv_chan up;
	unsigned char *page;
	uint32_t ref;
	pid_t pid;
	int port;

	xv_chan_open(&up);
	page = share_with_dom2(&ref, &port);
	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		xenevtchn_handle *h = xenevtchn_open(NULL, 0);
		xengnttab_handle *t = xengnttab_open(NULL, 0);
		unsigned char *p;
		int lport;

		CHILD_ASSERT(h && t);
		lport = xenevtchn_bind_interdomain(h, 1, (evtchn_port_t)port);
		p = xengnttab_map_grant_ref_notify(t, 1, ref,
						   PROT_READ | PROT_WRITE, 4095,
						   (evtchn_port_t)lport);
		CHILD_ASSERT(p);
		p[4095] = 9;
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
	ck_assert(xv_readable(xenevtchn_fd(ev), 5000));
	ck_assert_int_eq(xenevtchn_pending(ev), port);
	ck_assert_uint_eq(page[4095], 0);
}
END_TEST

/* This process's view of the event table (mapped after HELLO). */
static struct xv_sim_evtab *own_evtab(void)
{
	char line[512];
	unsigned long start = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "/memfd:xvchan-sim-events") &&
		    sscanf(line, "%lx-", &start) == 1)
			break;
	fclose(f);
	return (struct xv_sim_evtab *)start;
}

/* In a dom2 child: bind to our @port and do the first half of a notify on
 * it, the port marked queued and our handle's bell rung with this pid,
 * without sending the datagram. */
static void half_ring(int port)
{
	xenevtchn_handle *c = xenevtchn_open(NULL, 0);
	struct xv_sim_evtab *tab;
	uint32_t h;

	CHILD_ASSERT(c != NULL);
	CHILD_ASSERT(xenevtchn_bind_interdomain(c, 1, (evtchn_port_t)port) > 0);
	tab = own_evtab();
	CHILD_ASSERT(tab != NULL);
	h = atomic_load(&tab->port[port].handle);
	CHILD_ASSERT(h != 0 && h < XV_SIM_MAX_HANDLES);
	atomic_fetch_or(&tab->port[port].state,
			XV_SIM_PORT_MASKED | XV_SIM_PORT_QUEUED);
	atomic_store(&tab->bell[h], (uint32_t)getpid());
}

/* A SIGKILL can land between the two halves of a notify: the port marked
 * queued and the handle's bell rung with the notifier's pid, but no
 * datagram sent.  The child does exactly that half and dies. */
START_TEST(test_a_notifier_killed_mid_ring_does_not_silence_the_handle)
{
	int p1 = xenevtchn_bind_unbound_port(ev, 2);
	pid_t pid;

	ck_assert_int_gt(p1, 0);
	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		half_ring(p1);
		raise(SIGKILL);
		_exit(1);
	}
	ck_assert_int_eq(xv_test_wait(pid, 5000), 128 + SIGKILL);
	ck_assert(xv_readable(xenevtchn_fd(ev), 5000));
	ck_assert_int_eq(xenevtchn_pending(ev), p1);
	ck_assert(!xv_readable(xenevtchn_fd(ev), 50));
}
END_TEST

/* A live notifier that rings a bell a dying one left rung must not make
 * the bell its own: the dying one's repair would then not find it, and
 * the handle would stay silent for as long as the live one lives. */
START_TEST(test_a_live_notifier_does_not_hide_a_dead_ringers_bell)
{
	int p1 = xenevtchn_bind_unbound_port(ev, 2);
	int p2 = xenevtchn_bind_unbound_port(ev, 2);
	struct xv_chan up;
	pid_t dying, live;

	ck_assert_int_gt(p1, 0);
	ck_assert_int_gt(p2, 0);
	xv_chan_open(&up);
	dying = xv_test_fork_domain(2);
	if (dying == 0) {
		half_ring(p1);
		xv_chan_put(&up, 1);
		for (;;)
			pause();
	}
	ck_assert_uint_eq(xv_chan_get(&up), 1);
	live = xv_test_fork_domain(2);
	if (live == 0) {
		xenevtchn_handle *c = xenevtchn_open(NULL, 0);
		int lport;

		CHILD_ASSERT(c != NULL);
		lport = xenevtchn_bind_interdomain(c, 1, (evtchn_port_t)p2);
		CHILD_ASSERT(lport > 0);
		CHILD_ASSERT(xenevtchn_notify(c, (evtchn_port_t)lport) == 0);
		xv_chan_put(&up, 2);
		for (;;)
			pause();
	}
	ck_assert_uint_eq(xv_chan_get(&up), 2);
	/* The bell was rung: the live notifier sent nothing. */
	ck_assert(!xv_readable(xenevtchn_fd(ev), 0));
	ck_assert_int_eq(kill(dying, SIGKILL), 0);
	ck_assert_int_eq(xv_test_wait(dying, 5000), 128 + SIGKILL);
	ck_assert(xv_readable(xenevtchn_fd(ev), 5000));
	ck_assert_int_eq(kill(live, SIGKILL), 0);
	ck_assert_int_eq(xv_test_wait(live, 5000), 128 + SIGKILL);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("sim-death");
	TCase *tc = tcase_create("death");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_killed_mapper_clears_the_byte_and_raises_the_event);
	tcase_add_test(tc, test_a_forked_child_does_not_keep_a_dead_process_alive);
	tcase_add_test(tc, test_killed_sharer_notifies_and_releases_its_grants);
	tcase_add_test(tc, test_exit_without_closing_notifies_too);
	tcase_add_test(tc, test_a_notifier_killed_mid_ring_does_not_silence_the_handle);
	tcase_add_test(tc, test_a_live_notifier_does_not_hide_a_dead_ringers_bell);
	suite_add_tcase(s, tc);
	return s;
}
