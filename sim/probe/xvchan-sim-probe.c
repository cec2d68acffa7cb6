/*
 * xvchan-sim-probe: measures what the simulator costs and holds, for the
 * figures in sim/README.md.  Run it inside a simulated domain:
 *
 *   xvchan-sim exec --domid 1 -- xvchan-sim-probe latency [ROUNDS]
 *   xvchan-sim exec --domid 1 -- xvchan-sim-probe capacity [PORTS] [GRANTS]
 *   xvchan-sim exec --domid N -- xvchan-sim-probe touch
 *   xvchan-sim exec --domid 1 -- xvchan-sim-probe death [ROUNDS]
 *
 * latency: one-way event-channel notify latency between this domain and
 * domain 2 (a forked child that becomes domain 2; the domain must exist),
 * from a ping-pong, next to the same ping-pong over two pipes.
 * capacity: binds PORTS (1000) event channels and shares GRANTS (1024,
 * what Linux's gntalloc lends a domain) pages from this one domain, and
 * says how long it took; past the limit the shares fail with ENOSPC.
 * touch: binds one port, shares one page and writes one xenstore node, so a
 * script can show many domains working at once (sim/probe/figures).
 * death: a forked domain 2 maps a page of ours with an unmap notification
 * and is SIGKILLed; how long until the notification's event arrives (the
 * simulator promises 100 ms).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#define PEER_DOMID 2

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void die(const char *what)
{
	fprintf(stderr, "xvchan-sim-probe: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Wait for one event on @xce and re-enable it. */
static void wait_event(xenevtchn_handle *xce)
{
	xenevtchn_port_or_error_t port = xenevtchn_pending(xce);

	if (port < 0 || xenevtchn_unmask(xce, (evtchn_port_t)port) < 0)
		die("pending");
}

static void report(const char *name, double *rtt_us, int rounds)
{
	qsort(rtt_us, (size_t)rounds, sizeof(*rtt_us), cmp_double);
	printf("%-28s one-way p50 %7.2f us  p99 %7.2f us  (%d round trips)\n",
	       name, rtt_us[rounds / 2] / 2, rtt_us[rounds * 99 / 100] / 2, rounds);
}

static int latency(int rounds)
{
	double *rtt = calloc((size_t)rounds, sizeof(*rtt));
	int to_child[2], to_parent[2];
	xenevtchn_handle *xce;
	xenevtchn_port_or_error_t port;
	char ready;
	char domid[16];
	pid_t pid;

	if (!rtt || pipe(to_child) || pipe(to_parent))
		die("setup");

	/* The pipe reference first: the same ping-pong, no simulator. */
	pid = fork();
	if (pid == 0) {
		char b;

		for (int i = 0; i < rounds; i++)
			if (read(to_child[0], &b, 1) != 1 || write(to_parent[1], &b, 1) != 1)
				_exit(1);
		_exit(0);
	}
	for (int i = 0; i < rounds; i++) {
		char b = 'x';
		double t0 = now_us();

		if (write(to_child[1], &b, 1) != 1 || read(to_parent[0], &b, 1) != 1)
			die("pipe ping-pong");
		rtt[i] = now_us() - t0;
	}
	waitpid(pid, NULL, 0);
	report("pipe wake-up", rtt, rounds);

	xce = xenevtchn_open(NULL, 0);
	if (!xce)
		die("xenevtchn_open");
	port = xenevtchn_bind_unbound_port(xce, PEER_DOMID);
	if (port < 0)
		die("bind_unbound_port");
	pid = fork();
	if (pid == 0) {
		/* Become domain 2: the preload connects on the first open. */
		snprintf(domid, sizeof(domid), "%d", PEER_DOMID);
		setenv("XVCHAN_SIM_DOMID", domid, 1);
		xenevtchn_handle *peer = xenevtchn_open(NULL, 0);
		xenevtchn_port_or_error_t local;

		if (!peer)
			die("child xenevtchn_open");
		local = xenevtchn_bind_interdomain(peer, 1, (evtchn_port_t)port);
		if (local < 0)
			die("bind_interdomain (does domain 2 exist?)");
		if (write(to_parent[1], "r", 1) != 1)
			_exit(1);
		for (int i = 0; i < rounds; i++) {
			wait_event(peer);
			xenevtchn_notify(peer, (evtchn_port_t)local);
		}
		_exit(0);
	}
	if (read(to_parent[0], &ready, 1) != 1)
		die("child did not bind");
	for (int i = 0; i < rounds; i++) {
		double t0 = now_us();

		xenevtchn_notify(xce, (evtchn_port_t)port);
		wait_event(xce);
		rtt[i] = now_us() - t0;
	}
	waitpid(pid, NULL, 0);
	report("event channel, dom1 <-> dom2", rtt, rounds);
	xenevtchn_close(xce);
	free(rtt);
	return 0;
}

static int capacity(int ports, int grants)
{
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	uint32_t refs[100];
	double t0;
	int i;

	if (!xce || !xgs)
		die("open");
	t0 = now_us();
	for (i = 0; i < ports; i++)
		if (xenevtchn_bind_unbound_port(xce, PEER_DOMID) < 0)
			break;
	printf("%d of %d event channels bound in one domain in %.1f ms%s%s\n", i, ports,
	       (now_us() - t0) / 1e3, i < ports ? ": " : "", i < ports ? strerror(errno) : "");
	t0 = now_us();
	for (i = 0; i < grants; i += 100) {
		int n = grants - i < 100 ? grants - i : 100;

		if (!xengntshr_share_pages(xgs, PEER_DOMID, n, refs, 1))
			break;
	}
	printf("%d of %d pages granted from one domain (shares of 100) in %.1f ms%s%s\n",
	       i < grants ? i : grants, grants, (now_us() - t0) / 1e3,
	       i < grants ? ": " : "", i < grants ? strerror(errno) : "");
	return 0;
}

static int touch(void)
{
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	struct xs_handle *xs = xs_open(0);
	uint32_t ref;

	if (!xce || !xgs || !xs)
		die("open");
	if (xenevtchn_bind_unbound_port(xce, 0) < 0)
		die("bind_unbound_port");
	if (!xengntshr_share_pages(xgs, 0, 1, &ref, 1))
		die("share_pages");
	if (!xs_write(xs, XBT_NULL, "data/probe", "here", 4))
		die("xs_write");
	/* Hold everything until told to go, so all domains coexist. */
	pause();
	return 0;
}

static int death(int rounds)
{
	double *ms = calloc((size_t)rounds, sizeof(*ms));
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	int ready[2];

	if (!ms || !xce || !xgs || pipe(ready))
		die("setup");
	for (int r = 0; r < rounds; r++) {
		xenevtchn_port_or_error_t port;
		unsigned char *page;
		uint32_t ref;
		char domid[16], b;
		double t0;
		pid_t pid;

		page = xengntshr_share_pages(xgs, PEER_DOMID, 1, &ref, 1);
		port = xenevtchn_bind_unbound_port(xce, PEER_DOMID);
		if (!page || port < 0)
			die("share/bind");
		page[0] = 1;
		pid = fork();
		if (pid == 0) {
			xenevtchn_handle *peer;
			xengnttab_handle *xgt;
			xenevtchn_port_or_error_t local;

			snprintf(domid, sizeof(domid), "%d", PEER_DOMID);
			setenv("XVCHAN_SIM_DOMID", domid, 1);
			peer = xenevtchn_open(NULL, 0);
			xgt = xengnttab_open(NULL, 0);
			if (!peer || !xgt)
				die("child open");
			local = xenevtchn_bind_interdomain(peer, 1, (evtchn_port_t)port);
			if (local < 0 ||
			    !xengnttab_map_grant_ref_notify(xgt, 1, ref,
							    PROT_READ | PROT_WRITE, 0,
							    (evtchn_port_t)local))
				die("child bind/map");
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		if (read(ready[0], &b, 1) != 1)
			die("child did not map");
		t0 = now_us();
		kill(pid, SIGKILL);
		wait_event(xce);
		ms[r] = (now_us() - t0) / 1e3;
		waitpid(pid, NULL, 0);
		if (page[0] != 0) {
			errno = EPROTO;
			die("byte not cleared");
		}
		xenevtchn_unbind(xce, (evtchn_port_t)port);
		xengntshr_unshare(xgs, page, 1);
	}
	qsort(ms, (size_t)rounds, sizeof(*ms), cmp_double);
	printf("SIGKILL to unmap-notify event: p50 %.2f ms  max %.2f ms  (%d rounds)\n",
	       ms[rounds / 2], ms[rounds - 1], rounds);
	free(ms);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "latency"))
		return latency(argc > 2 ? atoi(argv[2]) : 20000);
	if (argc >= 2 && !strcmp(argv[1], "capacity"))
		return capacity(argc > 2 ? atoi(argv[2]) : 1000,
				argc > 3 ? atoi(argv[3]) : 1024);
	if (argc == 2 && !strcmp(argv[1], "touch"))
		return touch();
	if (argc >= 2 && !strcmp(argv[1], "death"))
		return death(argc > 2 && atoi(argv[2]) > 0 ? atoi(argv[2]) : 20);
	fputs("Usage: xvchan-sim-probe latency [ROUNDS] | capacity [PORTS] [GRANTS] | touch\n"
	      "       xvchan-sim-probe death [ROUNDS]\n"
	      "Run inside a simulated domain (xvchan-sim exec); see sim/probe/figures.\n",
	      argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
	return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
}
