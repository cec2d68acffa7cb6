/*
 * xvchan-sim-probe: figures for the simulator, run against a live daemon
 * ($XVCHAN_SIM_DIR): one-way notify latency between two domains next to a
 * pipe wake-up, 1,000 event channels and 10,000 grants in one domain, and
 * 64 domains at once.  A measuring tool, not a test: it prints numbers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "proto.h"

#define ROUNDS 20000
#define PAGE 4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "xvchan-sim-probe: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Create domain @domid through the control socket. */
static void domain(unsigned int domid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xv_sim_msg *rep = malloc(XV_SIM_MSG_MAX);
	struct xv_sim_msg req = { .op = XV_SIM_HELLO };
	char dir[200];
	int fd, err;

	if (!rep || xv_sim_state_dir(dir, sizeof(dir)))
		fail("state directory");
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%.80s/" XV_SIM_CTL_NAME,
		     dir) >= (int)sizeof(sa.sun_path) || strlen(dir) > 80) {
		errno = ENAMETOOLONG;
		fail("state directory");
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail("no simulator (xvchan-sim start)");
	req.arg[0] = XV_SIM_PROTO_VERSION;
	req.arg[1] = 0xffffffffu;
	err = xv_sim_send(fd, &req, NULL, 0);
	if (!err)
		err = xv_sim_recv(fd, rep, NULL, 0, NULL);
	req = (struct xv_sim_msg){ .op = XV_SIM_DOMAIN_CREATE, .arg = { domid } };
	if (!err)
		err = xv_sim_send(fd, &req, NULL, 0);
	if (!err)
		err = xv_sim_recv(fd, rep, NULL, 0, NULL);
	if (err || rep->err) {
		errno = err ? -err : -rep->err;
		fail("domain create");
	}
	close(fd);
	free(rep);
}

static void become(unsigned int domid)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", domid);
	setenv(XV_SIM_ENV_DOMID, num, 1);
}

static void wait_event(xenevtchn_handle *h)
{
	int port = xenevtchn_pending(h);

	if (port < 0 || xenevtchn_unmask(h, (evtchn_port_t)port) < 0)
		fail("pending");
}

/* Ping-pong @rounds events between domains @a and @b; returns seconds. */
static double evtchn_pingpong(unsigned int a, unsigned int b, int rounds)
{
	xenevtchn_handle *h;
	int p[2], port, peer, i;
	double t;
	pid_t pid;

	if (pipe(p) < 0)
		fail("pipe");
	become(a);
	h = xenevtchn_open(NULL, 0);
	if (!h || (port = xenevtchn_bind_unbound_port(h, b)) < 0)
		fail("bind unbound");
	pid = fork();
	if (pid == 0) {
		xenevtchn_handle *c;

		become(b);
		c = xenevtchn_open(NULL, 0);
		if (!c || (peer = xenevtchn_bind_interdomain(c, a, (evtchn_port_t)port)) < 0)
			fail("bind interdomain");
		if (write(p[1], "x", 1) != 1)
			fail("pipe");
		for (i = 0; i < rounds; i++) {
			wait_event(c);
			xenevtchn_notify(c, (evtchn_port_t)peer);
		}
		_exit(0);
	}
	if (read(p[0], &i, 1) != 1)
		fail("child");
	t = now_s();
	for (i = 0; i < rounds; i++) {
		xenevtchn_notify(h, (evtchn_port_t)port);
		wait_event(h);
	}
	t = now_s() - t;
	waitpid(pid, NULL, 0);
	xenevtchn_close(h);
	close(p[0]);
	close(p[1]);
	return t;
}

static double pipe_pingpong(int rounds)
{
	int ab[2], ba[2], i;
	char c = 0;
	double t;
	pid_t pid;

	if (pipe(ab) < 0 || pipe(ba) < 0)
		fail("pipe");
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < rounds; i++)
			if (read(ab[0], &c, 1) != 1 || write(ba[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	t = now_s();
	for (i = 0; i < rounds; i++)
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			fail("pipe");
	t = now_s() - t;
	waitpid(pid, NULL, 0);
	return t;
}

static void many_channels(int n)
{
	xenevtchn_handle *a, *b;
	int *pa = calloc((size_t)n, sizeof(int)), *pb = calloc((size_t)n, sizeof(int));
	double t0, t1, t2;
	int i;

	become(1);
	a = xenevtchn_open(NULL, 0);
	b = xenevtchn_open(NULL, 0);
	if (!a || !b || !pa || !pb)
		fail("open");
	t0 = now_s();
	for (i = 0; i < n; i++) {
		pa[i] = xenevtchn_bind_unbound_port(a, 1);
		pb[i] = xenevtchn_bind_interdomain(b, 1, (evtchn_port_t)pa[i]);
		if (pa[i] <= 0 || pb[i] <= 0)
			fail("bind");
	}
	t1 = now_s();
	for (i = 0; i < n; i++)
		xenevtchn_notify(b, (evtchn_port_t)pb[i]);
	for (i = 0; i < n; i++)
		wait_event(a);
	t2 = now_s();
	printf("%d event channels in one domain: bound in %.1f ms (%.1f us per pair), all %d delivered in %.1f ms\n",
	       n, (t1 - t0) * 1e3, (t1 - t0) * 1e6 / n, n, (t2 - t1) * 1e3);
	xenevtchn_close(a);
	xenevtchn_close(b);
	free(pa);
	free(pb);
}

static void many_grants(int n)
{
	uint32_t *refs = mmap(NULL, (size_t)n * sizeof(uint32_t),
			      PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int p[2], status;
	double t0, t1;
	pid_t pid, mapper;
	char c;

	if (refs == MAP_FAILED || pipe(p) < 0)
		fail("setup");
	pid = fork();
	if (pid == 0) {
		xengntshr_handle *gs;
		int i;

		become(1);
		gs = xengntshr_open(NULL, 0);
		if (!gs)
			fail("gntshr");
		t0 = now_s();
		for (i = 0; i < n; i++)
			if (!xengntshr_share_pages(gs, 2, 1, &refs[i], 1))
				fail("share");
		printf("%d grants in one domain: shared in %.1f ms (%.1f us each)\n",
		       n, (now_s() - t0) * 1e3, (now_s() - t0) * 1e6 / n);
		fflush(stdout);
		if (write(p[1], "x", 1) != 1)
			fail("pipe");
		pause();
		_exit(0);
	}
	if (read(p[0], &c, 1) != 1)
		fail("sharer");
	/* A fresh process: this one is already connected as dom1. */
	mapper = fork();
	if (mapper == 0) {
		xengnttab_handle *gt;
		int i;

		become(2);
		gt = xengnttab_open(NULL, 0);
		if (!gt)
			fail("gnttab");
		t0 = now_s();
		for (i = 0; i < n; i++)
			if (!xengnttab_map_grant_ref(gt, 1, refs[i], PROT_READ | PROT_WRITE))
				fail("map");
		t1 = now_s();
		printf("%d grants mapped by another domain in %.1f ms (%.1f us each)\n",
		       n, (t1 - t0) * 1e3, (t1 - t0) * 1e6 / n);
		_exit(0);
	}
	waitpid(mapper, &status, 0);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static void many_domains(int n)
{
	pid_t *pids = calloc((size_t)n, sizeof(pid_t));
	int i, ok = 0, status;
	double t;

	if (!pids)
		fail("memory");
	for (i = 0; i < n; i++)
		domain(100 + (unsigned int)i);
	t = now_s();
	/* n/2 pairs of domains ping-pong at once. */
	for (i = 0; i < n / 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			evtchn_pingpong(100 + 2 * (unsigned int)i,
					101 + 2 * (unsigned int)i, 1000);
			_exit(0);
		}
	}
	for (i = 0; i < n / 2; i++)
		if (waitpid(pids[i], &status, 0) == pids[i] &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok++;
	printf("%d domains at once: %d of %d pairs did 1000 round trips each in %.1f ms\n",
	       n, ok, n / 2, (now_s() - t) * 1e3);
	free(pids);
}

int main(int argc, char **argv)
{
	double ev, pp;

	if (argc > 1) {
		fputs("Usage: xvchan-sim-probe   (with a simulator running in $XVCHAN_SIM_DIR)\n"
		      "Prints notify latency next to a pipe, and figures for 1,000 event\n"
		      "channels, 10,000 grants and 64 domains.\n", argc == 2 &&
		      !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	domain(1);
	domain(2);
	ev = evtchn_pingpong(1, 2, ROUNDS);
	pp = pipe_pingpong(ROUNDS);
	printf("one-way wake-up, %d round trips: event channel %.2f us, pipe %.2f us\n",
	       ROUNDS, ev * 1e6 / ROUNDS / 2, pp * 1e6 / ROUNDS / 2);
	many_channels(1000);
	many_grants(10000);
	many_domains(64);
	return 0;
}
