/* Event channels on the simulator: pollable fds, blocking pending, and the
 * latch/coalesce/unmask rules of Xen's evtchn driver. */
#define _GNU_SOURCE
/* First: it sets the Xen interface version (port-status.h). */
#include "port-status.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xenevtchn.h>

#include "chan.h"
#include "event.h"
#include "proto.h"
#include "test-common.h"
#include "test-sim.h"

static xenevtchn_handle *h1, *h2;

/* This test process is dom1; a second handle in it is the peer. */
static void setup(void)
{
	xv_test_sim_start();
	ck_assert_int_eq(setenv("XVCHAN_SIM_DOMID", "1", 1), 0);
	/* A guest's hypercalls go through, as with Linux's
	 * xen_privcmd.unrestricted=1 (the status tests below). */
	ck_assert_int_eq(setenv("XVCHAN_SIM_PRIVCMD", "unrestricted", 1), 0);
	h1 = xenevtchn_open(NULL, 0);
	h2 = xenevtchn_open(NULL, 0);
	ck_assert_ptr_nonnull(h1);
	ck_assert_ptr_nonnull(h2);
}

static void teardown(void)
{
	ck_assert_int_eq(xenevtchn_close(h1), 0);
	ck_assert_int_eq(xenevtchn_close(h2), 0);
	xv_test_sim_stop();
}

/* Connect a port of h1 with a port of h2 (both dom1). */
static void pair(int *p1, int *p2)
{
	*p1 = xenevtchn_bind_unbound_port(h1, 1);
	ck_assert_int_gt(*p1, 0);
	*p2 = xenevtchn_bind_interdomain(h2, 1, (evtchn_port_t)*p1);
	ck_assert_int_gt(*p2, 0);
	ck_assert_int_ne(*p1, *p2);
}

/* One event for @p1 arrives on h1, and nothing after it. */
static void assert_one_event(int p1)
{
	ck_assert(xv_readable(xenevtchn_fd(h1), 5000));
	ck_assert_int_eq(xenevtchn_pending(h1), p1);
	ck_assert(!xv_readable(xenevtchn_fd(h1), 50));
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

START_TEST(test_fd_is_pollable_and_pending_returns_the_port)
{
	int p1, p2;

	pair(&p1, &p2);
	ck_assert(!xv_readable(xenevtchn_fd(h1), 0));
	ck_assert_int_eq(xenevtchn_notify(h2, (evtchn_port_t)p2), 0);
	ck_assert(xv_readable(xenevtchn_fd(h1), 5000));
	ck_assert_int_eq(xenevtchn_pending(h1), p1);
	ck_assert(!xv_readable(xenevtchn_fd(h1), 0));
	ck_assert_int_eq(xenevtchn_unmask(h1, (evtchn_port_t)p1), 0);
	ck_assert(!xv_readable(xenevtchn_fd(h1), 50));
	/* The other direction too. */
	ck_assert_int_eq(xenevtchn_notify(h1, (evtchn_port_t)p1), 0);
	ck_assert(xv_readable(xenevtchn_fd(h2), 5000));
	ck_assert_int_eq(xenevtchn_pending(h2), p2);
	ck_assert(!xv_readable(xenevtchn_fd(h1), 0));
}
END_TEST

START_TEST(test_pending_blocks_until_another_domain_notifies)
{
	struct xv_chan go;
	double start;
	pid_t pid;
	int p1;

	xv_chan_open(&go);
	p1 = xenevtchn_bind_unbound_port(h1, 2);
	ck_assert_int_gt(p1, 0);
	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		xenevtchn_handle *h = xenevtchn_open(NULL, 0);
		int p;

		if (!h)
			_exit(2);
		p = xenevtchn_bind_interdomain(h, 1, (evtchn_port_t)p1);
		if (p <= 0)
			_exit(3);
		xv_chan_put(&go, 1);
		usleep(200 * 1000);
		_exit(xenevtchn_notify(h, (evtchn_port_t)p) == 0 ? 0 : 4);
	}
	ck_assert_uint_eq(xv_chan_get(&go), 1);
	start = now_ms();
	ck_assert_int_eq(xenevtchn_pending(h1), p1);
	ck_assert_double_ge(now_ms() - start, 150);
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
}
END_TEST

START_TEST(test_events_latch_while_masked_and_come_back_on_unmask)
{
	int p1, p2, i;

	pair(&p1, &p2);
	ck_assert_int_eq(xenevtchn_notify(h2, (evtchn_port_t)p2), 0);
	ck_assert_int_eq(xenevtchn_pending(h1), p1);
	/* Delivered, so masked until unmask: these only latch. */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(xenevtchn_notify(h2, (evtchn_port_t)p2), 0);
	ck_assert(!xv_readable(xenevtchn_fd(h1), 50));
	ck_assert_int_eq(xenevtchn_unmask(h1, (evtchn_port_t)p1), 0);
	/* Three latched events come back as one. */
	assert_one_event(p1);
	ck_assert_int_eq(xenevtchn_unmask(h1, (evtchn_port_t)p1), 0);
	ck_assert(!xv_readable(xenevtchn_fd(h1), 50));
}
END_TEST

/* Delivery is immediate here, so the first notify is queued (and masks the
 * port) and the next four coalesce into one latched event. */
START_TEST(test_events_coalesce_while_pending)
{
	int p1, p2, i;

	pair(&p1, &p2);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(xenevtchn_notify(h2, (evtchn_port_t)p2), 0);
	assert_one_event(p1);
	ck_assert_int_eq(xenevtchn_unmask(h1, (evtchn_port_t)p1), 0);
	assert_one_event(p1);
	ck_assert_int_eq(xenevtchn_unmask(h1, (evtchn_port_t)p1), 0);
	ck_assert(!xv_readable(xenevtchn_fd(h1), 50));
}
END_TEST

START_TEST(test_notify_on_an_unbound_port_is_ignored)
{
	int p, p1, p2;

	p = xenevtchn_bind_unbound_port(h1, 2);
	ck_assert_int_gt(p, 0);
	ck_assert_int_eq(xenevtchn_notify(h1, (evtchn_port_t)p), 0);
	ck_assert(!xv_readable(xenevtchn_fd(h1), 50));
	ck_assert(!xv_readable(xenevtchn_fd(h2), 0));
	/* A port whose peer closed is unbound again. */
	pair(&p1, &p2);
	ck_assert_int_eq(xenevtchn_unbind(h2, (evtchn_port_t)p2), 0);
	ck_assert_int_eq(xenevtchn_notify(h1, (evtchn_port_t)p1), 0);
	ck_assert(!xv_readable(xenevtchn_fd(h2), 50));
	/* ... and can be bound once more from the domain it waits for. */
	p2 = xenevtchn_bind_interdomain(h2, 1, (evtchn_port_t)p1);
	ck_assert_int_gt(p2, 0);
	ck_assert_int_eq(xenevtchn_notify(h1, (evtchn_port_t)p1), 0);
	ck_assert(xv_readable(xenevtchn_fd(h2), 5000));
	ck_assert_int_eq(xenevtchn_pending(h2), p2);
}
END_TEST

START_TEST(test_ports_of_other_handles_are_refused)
{
	int p1, p2;

	pair(&p1, &p2);
	errno = 0;
	ck_assert_int_eq(xenevtchn_notify(h1, (evtchn_port_t)p2), -1);
	ck_assert_int_eq(errno, ENOTCONN);
	errno = 0;
	ck_assert_int_eq(xenevtchn_notify(h1, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(xenevtchn_unbind(h1, (evtchn_port_t)p2), -1);
	ck_assert_int_eq(errno, ENOTCONN);
	ck_assert_int_eq(xenevtchn_unbind(h2, (evtchn_port_t)p2), 0);
	errno = 0;
	ck_assert_int_eq(xenevtchn_unbind(h2, (evtchn_port_t)p2), -1);
	ck_assert_int_eq(errno, ENOTCONN);
}
END_TEST

START_TEST(test_bind_interdomain_follows_xen_checks)
{
	int p, q;

	/* A port waiting for dom2 cannot be bound from dom1. */
	p = xenevtchn_bind_unbound_port(h1, 2);
	ck_assert_int_gt(p, 0);
	errno = 0;
	ck_assert_int_eq(xenevtchn_bind_interdomain(h2, 1, (evtchn_port_t)p), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(xenevtchn_bind_interdomain(h2, 77, (evtchn_port_t)p), -1);
	ck_assert_int_eq(errno, ESRCH);
	errno = 0;
	ck_assert_int_eq(xenevtchn_bind_interdomain(h2, 1, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* A connected port is no longer available. */
	p = xenevtchn_bind_unbound_port(h1, 1);
	q = xenevtchn_bind_interdomain(h2, 1, (evtchn_port_t)p);
	ck_assert_int_gt(q, 0);
	errno = 0;
	ck_assert_int_eq(xenevtchn_bind_interdomain(h2, 1, (evtchn_port_t)p), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_port_zero_is_never_handed_out)
{
	static int ports[200];
	int i, j;

	for (i = 0; i < 200; i++) {
		ports[i] = xenevtchn_bind_unbound_port(h1, 2);
		ck_assert_int_gt(ports[i], 0);
		for (j = 0; j < i; j++)
			ck_assert_int_ne(ports[i], ports[j]);
	}
}
END_TEST

START_TEST(test_a_port_unbound_while_pending_leaves_the_fd_quiet)
{
	int p1, p2, q1, q2;

	pair(&p1, &p2);
	pair(&q1, &q2);
	ck_assert_int_eq(xenevtchn_notify(h2, (evtchn_port_t)p2), 0);
	ck_assert_int_eq(xenevtchn_notify(h2, (evtchn_port_t)q2), 0);
	ck_assert(xv_readable(xenevtchn_fd(h1), 5000));
	ck_assert_int_eq(xenevtchn_unbind(h1, (evtchn_port_t)p1), 0);
	/* The other port still pending keeps it readable. */
	ck_assert(xv_readable(xenevtchn_fd(h1), 0));
	ck_assert_int_eq(xenevtchn_pending(h1), q1);
	ck_assert(!xv_readable(xenevtchn_fd(h1), 0));
	ck_assert_int_eq(xenevtchn_unmask(h1, (evtchn_port_t)q1), 0);
	ck_assert_int_eq(xenevtchn_notify(h2, (evtchn_port_t)q2), 0);
	ck_assert(xv_readable(xenevtchn_fd(h1), 5000));
	ck_assert_int_eq(xenevtchn_unbind(h1, (evtchn_port_t)q1), 0);
	ck_assert(!xv_readable(xenevtchn_fd(h1), 50));
}
END_TEST

/* More than net.unix.max_dgram_qlen (often 10) ports pending at once. */
START_TEST(test_many_pending_ports_are_all_delivered)
{
	enum { N = 40 };
	int p1[N], p2[N], seen[N] = { 0 }, i, j, port;

	for (i = 0; i < N; i++)
		pair(&p1[i], &p2[i]);
	for (i = 0; i < N; i++)
		ck_assert_int_eq(xenevtchn_notify(h2, (evtchn_port_t)p2[i]), 0);
	for (i = 0; i < N; i++) {
		ck_assert(xv_readable(xenevtchn_fd(h1), 5000));
		port = xenevtchn_pending(h1);
		for (j = 0; j < N && p1[j] != port; j++)
			;
		ck_assert_int_lt(j, N);
		ck_assert_int_eq(seen[j], 0);
		seen[j] = 1;
	}
	ck_assert(!xv_readable(xenevtchn_fd(h1), 50));
}
END_TEST

/* Each event in flight to a handle is a datagram charged to the sending
 * socket until it is read: 1000 handles each with an unread event exceed
 * one socket's send buffer (net.core.wmem_default, about 500 of them), and
 * an event that finds it full must still reach its handle. */
START_TEST(test_an_event_reaches_each_of_1000_handles_none_reading)
{
	enum { N = 1000 };
	static xenevtchn_handle *rx[N];
	static int tx_port[N], rx_port[N];
	struct rlimit rl;
	int i;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 2 * N && rl.rlim_max >= 2 * N) {
		rl.rlim_cur = 2 * N;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	ck_assert_uint_ge(rl.rlim_cur, 2 * N);
	for (i = 0; i < N; i++) {
		rx[i] = xenevtchn_open(NULL, 0);
		ck_assert_ptr_nonnull(rx[i]);
		tx_port[i] = xenevtchn_bind_unbound_port(h2, 1);
		ck_assert_int_gt(tx_port[i], 0);
		rx_port[i] = xenevtchn_bind_interdomain(rx[i], 1,
						(evtchn_port_t)tx_port[i]);
		ck_assert_int_gt(rx_port[i], 0);
	}
	for (i = 0; i < N; i++)
		ck_assert_int_eq(xenevtchn_notify(h2, (evtchn_port_t)tx_port[i]),
				 0);
	for (i = 0; i < N; i++) {
		ck_assert_msg(xv_readable(xenevtchn_fd(rx[i]), 2000),
			      "handle %d of %d never became readable", i, N);
		ck_assert_int_eq(xenevtchn_pending(rx[i]), rx_port[i]);
		ck_assert(!xv_readable(xenevtchn_fd(rx[i]), 0));
	}
	for (i = 0; i < N; i++)
		ck_assert_int_eq(xenevtchn_close(rx[i]), 0);
}
END_TEST

struct waiter {
	xenevtchn_handle *h;
	int expect, got;
};

static void *wait_events(void *arg)
{
	struct waiter *w = arg;

	/* Blocks in pending() while the main thread keeps using the library. */
	while (w->got < w->expect) {
		int port = xenevtchn_pending(w->h);

		if (port <= 0 || xenevtchn_unmask(w->h, (evtchn_port_t)port) < 0)
			break;
		w->got++;
	}
	return NULL;
}

START_TEST(test_pending_in_one_thread_while_another_binds_and_notifies)
{
	enum { N = 20 };
	struct waiter w = { .h = h1, .expect = N };
	int p1[N], p2[N], i;
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, wait_events, &w), 0);
	for (i = 0; i < N; i++) {
		pair(&p1[i], &p2[i]);
		ck_assert_int_eq(xenevtchn_notify(h2, (evtchn_port_t)p2[i]), 0);
		/* Unbinding an idle port must not disturb the waiter. */
		ck_assert_int_eq(xenevtchn_unbind(h2, (evtchn_port_t)p2[i]), 0);
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(w.got, N);
}
END_TEST

/* Off the simulator the preload answers as the real library does without
 * /dev/xen; a bad domid in the environment is refused. */
/* EVTCHNOP_status, the one hypercall the preload models (for flow/'s
 * look at a guest peer's domain): a port's life as Xen reports it. */
START_TEST(test_status_follows_a_port_from_unbound_to_interdomain_and_back)
{
	unsigned int rd = 99, rp = 99;
	int p, p1, p2;

	p = xenevtchn_bind_unbound_port(h1, 2);
	ck_assert_int_gt(p, 0);
	ck_assert_int_eq(xv_port_status(DOMID_SELF, (unsigned int)p, &rd, &rp),
			 EVTCHNSTAT_unbound);
	ck_assert_uint_eq(rd, 2);
	pair(&p1, &p2);
	ck_assert_int_eq(xv_port_status(DOMID_SELF, (unsigned int)p1, &rd, &rp),
			 EVTCHNSTAT_interdomain);
	ck_assert_uint_eq(rd, 1);
	ck_assert_uint_eq(rp, (unsigned int)p2);
	ck_assert_int_eq(xv_port_status(1, (unsigned int)p2, &rd, &rp),
			 EVTCHNSTAT_interdomain);
	ck_assert_uint_eq(rp, (unsigned int)p1);
	/* Closing one end leaves the other unbound, for the closer's
	 * domain to bind again; the closed one is not in use. */
	ck_assert_int_eq(xenevtchn_unbind(h2, (evtchn_port_t)p2), 0);
	rd = 99;
	ck_assert_int_eq(xv_port_status(DOMID_SELF, (unsigned int)p1, &rd, &rp),
			 EVTCHNSTAT_unbound);
	ck_assert_uint_eq(rd, 1);
	ck_assert_int_eq(xv_port_status(DOMID_SELF, (unsigned int)p2, &rd, &rp),
			 EVTCHNSTAT_closed);
}
END_TEST

START_TEST(test_status_of_ports_not_ours_and_of_bad_requests)
{
	xencall_handle *call;
	unsigned int rd, rp;
	pid_t pid;
	int p, fds[2];

	/* Port 0 is reserved: never in use. */
	ck_assert_int_eq(xv_port_status(DOMID_SELF, 0, &rd, &rp),
			 EVTCHNSTAT_closed);
	ck_assert_int_eq(xv_port_status(DOMID_SELF, 1u << 30, &rd, &rp),
			 -EINVAL);
	/* Only dom0 may ask about another domain's ports. */
	ck_assert_int_eq(xv_port_status(2, 1, &rd, &rp), -EPERM);
	/* dom2's port, as dom1 sees its own port of that number. */
	ck_assert_int_eq(pipe(fds), 0);
	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		xenevtchn_handle *h = xenevtchn_open(NULL, 0);
		int q = h ? xenevtchn_bind_unbound_port(h, 1) : -1;

		if (q <= 0 || write(fds[1], &q, sizeof(q)) != sizeof(q))
			_exit(1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(fds[0], &p, sizeof(p)), sizeof(p));
	ck_assert_int_eq(xv_port_status(DOMID_SELF, (unsigned int)p, &rd, &rp),
			 EVTCHNSTAT_closed);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(xv_test_wait(pid, 5000), 128 + SIGKILL);
	close(fds[0]);
	close(fds[1]);
	/* By default a guest's privcmd refuses every hypercall, as Linux's
	 * does in a domU. */
	ck_assert_int_eq(unsetenv("XVCHAN_SIM_PRIVCMD"), 0);
	ck_assert_int_eq(xv_port_status(DOMID_SELF, 0, &rd, &rp), -EPERM);
	ck_assert_int_eq(setenv("XVCHAN_SIM_PRIVCMD", "unrestricted", 1), 0);
	/* No other hypercall is modelled, nor Xen 3.0's numbering. */
	call = xencall_open(NULL, 0);
	ck_assert_ptr_nonnull(call);
	errno = 0;
	ck_assert_int_eq(xencall2(call, __HYPERVISOR_event_channel_op_compat,
				  EVTCHNOP_status, 0), -1);
	ck_assert_int_eq(errno, ENOSYS);
	errno = 0;
	ck_assert_int_eq(xencall2(call, __HYPERVISOR_event_channel_op,
				  EVTCHNOP_alloc_unbound, 0), -1);
	ck_assert_int_eq(errno, ENOSYS);
	ck_assert_int_eq(xencall_close(call), 0);
}
END_TEST

/* The event table as any domain process can map it: a raw HELLO's reply
 * carries it. */
static struct xv_sim_evtab *map_evtab(unsigned int domid)
{
	struct xv_sim_msg req = {
		.op = XV_SIM_HELLO,
		.arg = { XV_SIM_PROTO_VERSION, domid, (uint32_t)getpid() },
	}, rep;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	void *tab;
	int fd, tfd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ctl", xv_test_sim_dir());
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	CHILD_ASSERT(fd >= 0);
	CHILD_ASSERT(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHILD_ASSERT(send(fd, &req, sizeof(req), 0) == sizeof(req));
	CHILD_ASSERT(recvmsg(fd, &mh, 0) == sizeof(rep) && rep.err == 0);
	CHILD_ASSERT(mh.msg_controllen == CMSG_SPACE(sizeof(int)));
	memcpy(&tfd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	tab = mmap(NULL, sizeof(struct xv_sim_evtab), PROT_READ | PROT_WRITE,
		   MAP_SHARED, tfd, 0);
	CHILD_ASSERT(tab != MAP_FAILED);
	return tab;
}

/*
 * The table is writable by every domain process, so the daemon keeps who
 * is connected to whom to itself: a dom2 process that points its own
 * port's `remote`, and one of ours, at our pair must change neither the
 * pair's status nor, on its unbind, unbind our end.
 */
START_TEST(test_another_domain_scribbling_the_table_leaves_our_pair_bound)
{
	unsigned int rd = 99, rp = 99;
	struct xv_chan ch;
	int p1, p2;
	pid_t pid;

	pair(&p1, &p2);
	xv_chan_open(&ch);
	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		xenevtchn_handle *a = xenevtchn_open(NULL, 0);
		xenevtchn_handle *b = xenevtchn_open(NULL, 0);
		struct xv_sim_evtab *tab = map_evtab(2);
		int q1, q2;

		CHILD_ASSERT(a && b);
		q1 = xenevtchn_bind_unbound_port(a, 2);
		CHILD_ASSERT(q1 > 0);
		q2 = xenevtchn_bind_interdomain(b, 2, (evtchn_port_t)q1);
		CHILD_ASSERT(q2 > 0);
		atomic_store(&tab->port[p2].remote, (uint32_t)q2);
		atomic_store(&tab->port[q1].remote, (uint32_t)p1);
		CHILD_ASSERT(xenevtchn_unbind(a, (evtchn_port_t)q1) == 0);
		xv_chan_put(&ch, 1);
		pause();
		_exit(0);
	}
	ck_assert_uint_eq(xv_chan_get(&ch), 1);
	ck_assert_int_eq(xv_port_status(DOMID_SELF, (unsigned int)p1, &rd, &rp),
			 EVTCHNSTAT_interdomain);
	ck_assert_uint_eq(rd, 1);
	ck_assert_uint_eq(rp, (unsigned int)p2);
	ck_assert_int_eq(xv_port_status(DOMID_SELF, (unsigned int)p2, &rd, &rp),
			 EVTCHNSTAT_interdomain);
	ck_assert_uint_eq(rd, 1);
	ck_assert_uint_eq(rp, (unsigned int)p1);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(xv_test_wait(pid, 5000), 128 + SIGKILL);
}
END_TEST

START_TEST(test_open_without_a_simulator_fails_cleanly)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		unsetenv("XVCHAN_SIM_DIR");
		errno = 0;
		if (xenevtchn_open(NULL, 0) || errno != ENOENT)
			_exit(1);
		setenv("XVCHAN_SIM_DIR", xv_test_sim_dir(), 1);
		setenv("XVCHAN_SIM_DOMID", "32752", 1);
		errno = 0;
		if (xenevtchn_open(NULL, 0) || errno != EINVAL)
			_exit(2);
		setenv("XVCHAN_SIM_DOMID", "9", 1);
		errno = 0;
		if (xenevtchn_open(NULL, 0) || errno != ESRCH)
			_exit(3);
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("sim-events");
	TCase *tc = tcase_create("events");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_fd_is_pollable_and_pending_returns_the_port);
	tcase_add_test(tc, test_pending_blocks_until_another_domain_notifies);
	tcase_add_test(tc, test_events_latch_while_masked_and_come_back_on_unmask);
	tcase_add_test(tc, test_events_coalesce_while_pending);
	tcase_add_test(tc, test_notify_on_an_unbound_port_is_ignored);
	tcase_add_test(tc, test_ports_of_other_handles_are_refused);
	tcase_add_test(tc, test_bind_interdomain_follows_xen_checks);
	tcase_add_test(tc, test_port_zero_is_never_handed_out);
	tcase_add_test(tc, test_many_pending_ports_are_all_delivered);
	tcase_add_test(tc, test_a_port_unbound_while_pending_leaves_the_fd_quiet);
	tcase_add_test(tc, test_status_follows_a_port_from_unbound_to_interdomain_and_back);
	tcase_add_test(tc, test_status_of_ports_not_ours_and_of_bad_requests);
	tcase_add_test(tc, test_another_domain_scribbling_the_table_leaves_our_pair_bound);
	tcase_add_test(tc, test_open_without_a_simulator_fails_cleanly);
	tcase_add_test(tc, test_an_event_reaches_each_of_1000_handles_none_reading);
	tcase_add_test(tc, test_pending_in_one_thread_while_another_binds_and_notifies);
	suite_add_tcase(s, tc);
	return s;
}
