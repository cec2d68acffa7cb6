/*
 * Event channels on a real Xen, in dom0: the semantics the simulator
 * promises (sim/README.md, "How it works"), checked on the real thing with a
 * channel from dom0 to itself.
 */
#define _GNU_SOURCE
/* First: it sets the Xen interface version (port-status.h). */
#include "port-status.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <xenevtchn.h>

#include "test-common.h"

#define SELF 0

static xenevtchn_handle *a, *b;
static int pa, pb;	/* a's port and b's, bound to each other */

static void setup(void)
{
	a = xenevtchn_open(NULL, 0);
	b = xenevtchn_open(NULL, 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	pa = xenevtchn_bind_unbound_port(a, SELF);
	ck_assert_int_gt(pa, 0);
	pb = xenevtchn_bind_interdomain(b, SELF, (evtchn_port_t)pa);
	ck_assert_int_gt(pb, 0);
}

static void teardown(void)
{
	xenevtchn_close(b);
	xenevtchn_close(a);
}

static int readable(xenevtchn_handle *h, int timeout_ms)
{
	struct pollfd pfd = { .fd = xenevtchn_fd(h), .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1;
}

START_TEST(test_notify_makes_the_peer_fd_readable_and_pending_names_the_port)
{
	ck_assert(!readable(a, 0));
	ck_assert_int_eq(xenevtchn_notify(b, (evtchn_port_t)pb), 0);
	ck_assert(readable(a, 5000));
	ck_assert_int_eq(xenevtchn_pending(a), pa);
	ck_assert(!readable(a, 0));
	ck_assert_int_eq(xenevtchn_unmask(a, (evtchn_port_t)pa), 0);
	ck_assert(!readable(a, 100));
}
END_TEST

/* Linux's evtchn driver masks a port when it queues its event for the
 * reader, so of several notifies in a row the first is delivered and the
 * rest latch into one more, delivered at unmask: at most two events where
 * the simulator, which counts pending() as the delivery, gives one. */
START_TEST(test_events_coalesce_while_pending)
{
	int events = 0;

	ck_assert_int_eq(xenevtchn_notify(b, (evtchn_port_t)pb), 0);
	ck_assert_int_eq(xenevtchn_notify(b, (evtchn_port_t)pb), 0);
	ck_assert_int_eq(xenevtchn_notify(b, (evtchn_port_t)pb), 0);
	while (readable(a, events ? 200 : 5000)) {
		ck_assert_int_eq(xenevtchn_pending(a), pa);
		ck_assert_int_eq(xenevtchn_unmask(a, (evtchn_port_t)pa), 0);
		events++;
		ck_assert_int_le(events, 2);
	}
	ck_assert_int_ge(events, 1);
}
END_TEST

START_TEST(test_event_while_masked_is_delivered_on_unmask)
{
	ck_assert_int_eq(xenevtchn_notify(b, (evtchn_port_t)pb), 0);
	ck_assert(readable(a, 5000));
	ck_assert_int_eq(xenevtchn_pending(a), pa);
	/* Still masked: this one is latched, not delivered. */
	ck_assert_int_eq(xenevtchn_notify(b, (evtchn_port_t)pb), 0);
	ck_assert(!readable(a, 100));
	ck_assert_int_eq(xenevtchn_unmask(a, (evtchn_port_t)pa), 0);
	ck_assert(readable(a, 5000));
	ck_assert_int_eq(xenevtchn_pending(a), pa);
	ck_assert_int_eq(xenevtchn_unmask(a, (evtchn_port_t)pa), 0);
}
END_TEST

START_TEST(test_both_directions_of_one_channel)
{
	ck_assert_int_eq(xenevtchn_notify(a, (evtchn_port_t)pa), 0);
	ck_assert(readable(b, 5000));
	ck_assert_int_eq(xenevtchn_pending(b), pb);
	ck_assert_int_eq(xenevtchn_unmask(b, (evtchn_port_t)pb), 0);
	ck_assert(!readable(a, 0));
}
END_TEST

START_TEST(test_notify_on_an_unbound_port_is_silently_ignored)
{
	xenevtchn_handle *c = xenevtchn_open(NULL, 0);
	int pc;

	ck_assert_ptr_nonnull(c);
	pc = xenevtchn_bind_unbound_port(c, SELF);
	ck_assert_int_gt(pc, 0);
	ck_assert_int_eq(xenevtchn_notify(c, (evtchn_port_t)pc), 0);
	ck_assert(!readable(c, 100));
	xenevtchn_close(c);
}
END_TEST

START_TEST(test_closing_one_end_leaves_the_other_unbound_and_silent)
{
	/* A dead peer's port closes without any event to the survivor:
	 * vchan learns of the death from the unmap notification only. */
	xenevtchn_close(b);
	b = NULL;
	ck_assert(!readable(a, 200));
	ck_assert_int_eq(xenevtchn_notify(a, (evtchn_port_t)pa), 0);
	ck_assert(!readable(a, 100));
	b = xenevtchn_open(NULL, 0);
	ck_assert_ptr_nonnull(b);
}
END_TEST

/* What flow/ asks when its peer is a guest, whose destroy closes the
 * peer's port without an event: the status of our own. */
START_TEST(test_status_shows_our_end_unbound_once_the_other_closes)
{
	unsigned int rd = 99, rp = 0;

	ck_assert_int_eq(xv_port_status(DOMID_SELF, (unsigned int)pa, &rd, &rp),
			 EVTCHNSTAT_interdomain);
	ck_assert_uint_eq(rd, SELF);
	ck_assert_uint_eq(rp, (unsigned int)pb);
	xenevtchn_close(b);
	b = xenevtchn_open(NULL, 0);
	ck_assert_ptr_nonnull(b);
	rd = 99;
	ck_assert_int_eq(xv_port_status(DOMID_SELF, (unsigned int)pa, &rd, &rp),
			 EVTCHNSTAT_unbound);
	ck_assert_uint_eq(rd, SELF);
	ck_assert_int_eq(xv_port_status(DOMID_SELF, (unsigned int)pb, &rd, &rp),
			 EVTCHNSTAT_closed);
	ck_assert_int_eq(xv_port_status(DOMID_SELF, 0, &rd, &rp),
			 EVTCHNSTAT_closed);
	ck_assert_int_eq(xv_port_status(DOMID_SELF, 1u << 30, &rd, &rp),
			 -EINVAL);
}
END_TEST

START_TEST(test_port_zero_is_never_handed_out)
{
	int ports[32], i;

	for (i = 0; i < 32; i++) {
		ports[i] = xenevtchn_bind_unbound_port(a, SELF);
		ck_assert_int_gt(ports[i], 0);
	}
	for (i = 0; i < 32; i++)
		ck_assert_int_eq(xenevtchn_unbind(a, (evtchn_port_t)ports[i]), 0);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xen-evtchn");
	TCase *tc = tcase_create("evtchn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_notify_makes_the_peer_fd_readable_and_pending_names_the_port);
	tcase_add_test(tc, test_events_coalesce_while_pending);
	tcase_add_test(tc, test_event_while_masked_is_delivered_on_unmask);
	tcase_add_test(tc, test_both_directions_of_one_channel);
	tcase_add_test(tc, test_notify_on_an_unbound_port_is_silently_ignored);
	tcase_add_test(tc, test_closing_one_end_leaves_the_other_unbound_and_silent);
	tcase_add_test(tc, test_status_shows_our_end_unbound_once_the_other_closes);
	tcase_add_test(tc, test_port_zero_is_never_handed_out);
	suite_add_tcase(s, tc);
	return s;
}
