/* A domain destroy (`xvchan-sim destroy`, Xen's `xl destroy`): the domain's
 * processes die without any of their death actions, xenstore releases it.
 * The opposite, a plain death running them all, is test-sim-death.c's
 * test_killed_mapper_clears_the_byte_and_raises_the_event and
 * test_killed_sharer_notifies_and_releases_its_grants. */
#define _GNU_SOURCE
/* First: it sets the Xen interface version (port-status.h). */
#include "port-status.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "chan.h"
#include "sim-daemon.h"
#include "test-common.h"
#include "test-sim.h"

/* The domain destroyed; 1 and 2 exist from the fixture, 3 is made for it. */
#define VICTIM 3

/* This test process is dom0, the survivor: the toolstack's domain. */
static xenevtchn_handle *ev;
static xengntshr_handle *gs;
static xengnttab_handle *gt;
static struct xs_handle *xs;

static void setup(void)
{
	char path[256];

	xv_test_sim_start();
	snprintf(path, sizeof(path), "%s/xenstore/0", xv_test_sim_dir());
	ck_assert_int_eq(setenv("XVCHAN_SIM_DOMID", "0", 1), 0);
	ck_assert_int_eq(setenv("XENSTORED_PATH", path, 1), 0);
	ev = xenevtchn_open(NULL, 0);
	gs = xengntshr_open(NULL, 0);
	gt = xengnttab_open(NULL, 0);
	xs = xs_open(0);
	ck_assert_ptr_nonnull(ev);
	ck_assert_ptr_nonnull(gs);
	ck_assert_ptr_nonnull(gt);
	ck_assert_ptr_nonnull(xs);
}

static void teardown(void)
{
	xs_close(xs);
	xenevtchn_close(ev);
	xengntshr_close(gs);
	xengnttab_close(gt);
	xv_test_sim_stop();
}

/*
 * A vchan's two directions of death notice, both armed: the victim shares
 * a page with dom0 with an unmap notification (clear byte 10, event on
 * its port), like a vchan server, and maps dom0's page with one (byte
 * 100), like a vchan client.  Both bytes are 1, the page reads 0x5a
 * elsewhere.
 */
struct victim {
	pid_t pid;
	int port;		/* dom0's end of the channel */
	uint32_t ref;		/* the victim's grant to dom0 */
	unsigned char *theirs;	/* dom0's mapping of it */
	unsigned char *ours;	/* dom0's page, mapped by the victim */
	uint32_t our_ref;
};

static void victim_start(struct victim *v)
{
	struct xv_chan up;

	xv_chan_open(&up);
	v->ours = xengntshr_share_pages(gs, VICTIM, 1, &v->our_ref, 1);
	ck_assert_ptr_nonnull(v->ours);
	v->port = xenevtchn_bind_unbound_port(ev, VICTIM);
	ck_assert_int_gt(v->port, 0);
	v->pid = xv_test_fork_domain(VICTIM);
	if (v->pid == 0) {
		xenevtchn_handle *h = xenevtchn_open(NULL, 0);
		xengntshr_handle *s = xengntshr_open(NULL, 0);
		xengnttab_handle *t = xengnttab_open(NULL, 0);
		unsigned char *q, *m;
		uint32_t r;
		int lport;

		CHILD_ASSERT(h && s && t);
		lport = xenevtchn_bind_interdomain(h, 0, (evtchn_port_t)v->port);
		CHILD_ASSERT(lport > 0);
		q = xengntshr_share_page_notify(s, 0, &r, 1, 10,
						(evtchn_port_t)lport);
		CHILD_ASSERT(q);
		memset(q, 0x5a, PAGE);
		q[10] = 1;
		m = xengnttab_map_grant_ref_notify(t, 0, v->our_ref,
						   PROT_READ | PROT_WRITE, 100,
						   (evtchn_port_t)lport);
		CHILD_ASSERT(m);
		m[100] = 1;
		xv_chan_put(&up, r);
		for (;;)
			pause();
	}
	v->ref = xv_chan_get(&up);
	close(up.rd);
	close(up.wr);
	v->theirs = xengnttab_map_grant_ref(gt, VICTIM, v->ref,
					    PROT_READ | PROT_WRITE);
	ck_assert_ptr_nonnull(v->theirs);
	ck_assert_uint_eq(v->theirs[10], 1);
	ck_assert_uint_eq(v->ours[100], 1);
	ck_assert(!xv_readable(xenevtchn_fd(ev), 0));
}

/* Whether the process behind @pidfd has exited, without waiting. */
static int exited(int pidfd)
{
	return xv_readable(pidfd, 0);
}

START_TEST(test_destroy_kills_the_domains_process)
{
	struct victim v;

	victim_start(&v);
	xv_test_sim_destroy(VICTIM);
	/* Already dead, not dying: the command returns after the deaths. */
	ck_assert_int_eq(xv_test_wait(v.pid, 0), 128 + SIGKILL);
}
END_TEST

START_TEST(test_destroy_fires_no_unmap_notification_of_the_domain)
{
	struct victim v;

	victim_start(&v);
	xv_test_sim_destroy(VICTIM);
	ck_assert_int_eq(xv_test_wait(v.pid, 5000), 128 + SIGKILL);
	/* Neither the grant it shared nor the one it mapped: no driver of
	 * a destroyed domain runs. */
	ck_assert_uint_eq(v.theirs[10], 1);
	ck_assert_uint_eq(v.ours[100], 1);
	ck_assert(!xv_readable(xenevtchn_fd(ev), 300));
}
END_TEST

START_TEST(test_pages_the_domain_shared_stay_mapped_with_what_it_wrote)
{
	struct victim v;

	victim_start(&v);
	xv_test_sim_destroy(VICTIM);
	ck_assert_uint_eq(v.theirs[0], 0x5a);
	ck_assert_uint_eq(v.theirs[11], 0x5a);
	ck_assert_uint_eq(v.theirs[PAGE - 1], 0x5a);
	/* The page lives on in our mapping, and is still ours to write. */
	v.theirs[0] = 0xa5;
	ck_assert_uint_eq(v.theirs[0], 0xa5);
	/* The grant itself ended with the domain. */
	errno = 0;
	ck_assert_ptr_null(xengnttab_map_grant_ref(gt, VICTIM, v.ref, PROT_READ));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(xengnttab_unmap(gt, v.theirs, 1), 0);
	ck_assert_int_eq(xv_test_wait(v.pid, 5000), 128 + SIGKILL);
}
END_TEST

START_TEST(test_our_end_of_its_channel_stays_bound_and_notifies_nothing)
{
	struct victim v;
	pid_t pid;

	unsigned int rd = 99, rp = 0;

	victim_start(&v);
	ck_assert_int_eq(xv_port_status(DOMID_SELF, (unsigned int)v.port, &rd,
					&rp), EVTCHNSTAT_interdomain);
	ck_assert_uint_eq(rd, VICTIM);
	xv_test_sim_destroy(VICTIM);
	ck_assert_int_eq(xv_test_wait(v.pid, 5000), 128 + SIGKILL);
	/* Only the port's status tells (flow/ asks it for a guest). */
	ck_assert_int_eq(xv_port_status(DOMID_SELF, (unsigned int)v.port, &rd,
					&rp), EVTCHNSTAT_unbound);
	ck_assert_uint_eq(rd, VICTIM);
	/* Xen's evtchn_send() on an unbound port: success, no delivery. */
	ck_assert_int_eq(xenevtchn_notify(ev, (evtchn_port_t)v.port), 0);
	ck_assert(!xv_readable(xenevtchn_fd(ev), 50));
	/* Unbound from the victim's id, as Xen's evtchn_close() leaves it: a
	 * new domain of that id may bind it, and then it carries events. */
	pid = xv_test_fork_domain(VICTIM);
	if (pid == 0) {
		xenevtchn_handle *h = xenevtchn_open(NULL, 0);
		int lport;

		CHILD_ASSERT(h);
		lport = xenevtchn_bind_interdomain(h, 0, (evtchn_port_t)v.port);
		CHILD_ASSERT(lport > 0);
		CHILD_ASSERT(xenevtchn_notify(h, (evtchn_port_t)lport) == 0);
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
	ck_assert(xv_readable(xenevtchn_fd(ev), 5000));
	ck_assert_int_eq(xenevtchn_pending(ev), v.port);
}
END_TEST

/* Waits up to @ms for one event of @h's watches; returns its path, to
 * free, or NULL if none came. */
static char *watch_event(struct xs_handle *h, int ms)
{
	unsigned int n;
	char **vec, *path;

	if (!xv_readable(xs_fileno(h), ms))
		return NULL;
	vec = xs_read_watch(h, &n);
	ck_assert_ptr_nonnull(vec);
	path = strdup(vec[XS_WATCH_PATH]);
	free(vec);
	return path;
}

START_TEST(test_xenstore_releases_the_domain)
{
	struct victim v;
	unsigned int len;
	char *path;
	pid_t pid;

	victim_start(&v);
	ck_assert(xs_watch(xs, "@releaseDomain", "rel"));
	/* The event every watch gets once, on registration. */
	path = watch_event(xs, 5000);
	ck_assert_str_eq(path, "@releaseDomain");
	free(path);
	ck_assert_ptr_null(watch_event(xs, 0));
	ck_assert(xs_is_domain_introduced(xs, VICTIM));
	path = xs_read(xs, XBT_NULL, "/local/domain/3/domid", &len);
	ck_assert_str_eq(path, "3");
	free(path);

	xv_test_sim_destroy(VICTIM);
	path = watch_event(xs, 1000);
	ck_assert_str_eq(path, "@releaseDomain");
	free(path);
	ck_assert(!xs_is_domain_introduced(xs, VICTIM));
	errno = 0;
	ck_assert_ptr_null(xs_read(xs, XBT_NULL, "/local/domain/3", &len));
	ck_assert_int_eq(errno, ENOENT);
	/* A guest may not ask, as with C xenstored 4.17. */
	pid = xv_test_fork_domain(2);
	if (pid == 0) {
		struct xs_handle *g = xs_open(0);

		CHILD_ASSERT(g);
		CHILD_FAILS(xs_is_domain_introduced(g, 1), EACCES);
		_exit(0);
	}
	ck_assert_int_eq(xv_test_wait(pid, 10000), 0);
	ck_assert_int_eq(xv_test_wait(v.pid, 5000), 128 + SIGKILL);
}
END_TEST

/* Grandchildren of a domain process are not enrolled as the domain's: the
 * daemon knows them only by the connections they hold as the domain. */
START_TEST(test_destroy_kills_processes_holding_a_handle_or_xenstore_connection)
{
	struct xv_chan pids, ready;
	pid_t pid, with_handle, with_xs;
	int fd_handle, fd_xs;

	xv_chan_open(&pids);
	xv_chan_open(&ready);
	pid = xv_test_fork_domain(VICTIM);
	if (pid == 0) {
		pid_t a, b;

		a = fork();
		CHILD_ASSERT(a >= 0);
		if (a == 0) {
			CHILD_ASSERT(xenevtchn_open(NULL, 0) != NULL);
			xv_chan_put(&ready, 1);
			for (;;)
				pause();
		}
		b = fork();
		CHILD_ASSERT(b >= 0);
		if (b == 0) {
			struct xs_handle *g = xs_open(0);
			unsigned int len;

			/* A round trip: the store has accepted us. */
			CHILD_ASSERT(g && xs_read(g, XBT_NULL, "domid", &len));
			xv_chan_put(&ready, 2);
			for (;;)
				pause();
		}
		xv_chan_put(&pids, (uint32_t)a);
		xv_chan_put(&pids, (uint32_t)b);
		for (;;)
			pause();
	}
	with_handle = (pid_t)xv_chan_get(&pids);
	with_xs = (pid_t)xv_chan_get(&pids);
	/* Both ready, in either order. */
	ck_assert_uint_eq(xv_chan_get(&ready) + xv_chan_get(&ready), 3);
	fd_handle = pidfd_open(with_handle, 0);
	fd_xs = pidfd_open(with_xs, 0);
	ck_assert_int_ge(fd_handle, 0);
	ck_assert_int_ge(fd_xs, 0);
	ck_assert(!exited(fd_handle));
	ck_assert(!exited(fd_xs));

	xv_test_sim_destroy(VICTIM);
	/* Dead by the time the command returns: it is synchronous. */
	ck_assert(exited(fd_handle));
	ck_assert(exited(fd_xs));
	ck_assert_int_eq(xv_test_wait(pid, 5000), 128 + SIGKILL);
	close(fd_handle);
	close(fd_xs);
}
END_TEST

START_TEST(test_destroy_kills_what_exec_runs_and_spares_other_domains)
{
	char *sleeper[] = { "sleep", "30", NULL };
	pid_t victim, other;
	int fd;

	victim = xv_test_spawn(VICTIM, sleeper);
	other = xv_test_spawn(2, sleeper);
	fd = pidfd_open(other, 0);
	ck_assert_int_ge(fd, 0);
	xv_test_sim_destroy(VICTIM);
	ck_assert_int_eq(xv_test_wait(victim, 5000), 128 + SIGKILL);
	ck_assert(!exited(fd));
	close(fd);
	/* SIGKILL: a child not yet through execv() still runs Check's
	 * SIGTERM handler, which would take our process group with it. */
	ck_assert_int_eq(kill(other, SIGKILL), 0);
	ck_assert_int_eq(xv_test_wait(other, 5000), 128 + SIGKILL);
}
END_TEST

START_TEST(test_destroy_command_errors_and_exit_codes)
{
	ck_assert_int_eq(SIM("destroy"), 2);
	ck_assert_ptr_nonnull(strstr(sim_out, "destroy needs --domid N"));
	ck_assert_int_eq(SIM("destroy", "--domid"), 2);
	ck_assert_int_eq(SIM("destroy", "--force", "--domid", "1"), 2);
	ck_assert_ptr_nonnull(strstr(sim_out, "unknown option '--force'"));
	ck_assert_int_eq(SIM("destroy", "--domid", "1", "extra"), 2);
	ck_assert_ptr_nonnull(strstr(sim_out, "takes no operand"));
	ck_assert_int_eq(SIM("destroy", "--domid", "0"), 1);
	ck_assert_ptr_nonnull(strstr(sim_out, "cannot destroy domain 0"));
	ck_assert_int_eq(SIM("destroy", "--domid", "32752"), 1);
	ck_assert_ptr_nonnull(strstr(sim_out, "bad domid '32752'"));
	ck_assert_int_eq(SIM("destroy", "--domid", "7"), 1);
	ck_assert_str_eq(sim_out,
			 "xvchan-sim: cannot destroy domain 7: no such domain\n");
	/* None of that touched a domain. */
	ck_assert_int_eq(SIM("status"), 0);
	ck_assert_ptr_nonnull(strstr(sim_out, "domains: 0 1 2\n"));

	ck_assert_int_eq(SIM("destroy", "--domid=2"), 0);
	ck_assert_str_eq(sim_out, "");
	ck_assert_int_eq(SIM("status"), 0);
	ck_assert_ptr_nonnull(strstr(sim_out, "domains: 0 1\n"));
	ck_assert_int_eq(SIM("destroy", "--domid", "2"), 1);
	ck_assert_ptr_nonnull(strstr(sim_out, "no such domain"));
	ck_assert_int_eq(SIM("--help"), 0);
	ck_assert_ptr_nonnull(strstr(sim_out, "destroy --domid N"));
}
END_TEST

/* A control connection that said HELLO as @domid (XV_SIM_DOMID_TOOL for
 * a tool). */
static int ctl_as(uint32_t domid)
{
	struct xv_sim_msg req = {
		.op = XV_SIM_HELLO,
		.arg = { XV_SIM_PROTO_VERSION, domid, (uint32_t)getpid() },
	};
	int fd = sim_ctl_connect();

	ck_assert_int_eq(sim_ctl_call(fd, &req), 0);
	return fd;
}

START_TEST(test_the_daemon_lets_only_the_toolstack_destroy)
{
	struct xv_sim_msg req = { .op = XV_SIM_DOMAIN_DESTROY, .arg = { 1 } };
	int guest = ctl_as(2), dom0 = ctl_as(0), tool = ctl_as(XV_SIM_DOMID_TOOL);

	ck_assert_int_eq(sim_ctl_call(guest, &req), -EPERM);
	req.arg[0] = 0;
	ck_assert_int_eq(sim_ctl_call(tool, &req), -EPERM);
	ck_assert_int_eq(sim_ctl_call(dom0, &req), -EPERM);
	req.arg[0] = 7;
	ck_assert_int_eq(sim_ctl_call(tool, &req), -ESRCH);
	req.arg[0] = XV_SIM_MAX_DOMID + 1;
	ck_assert_int_eq(sim_ctl_call(dom0, &req), -ESRCH);
	ck_assert_int_eq(SIM("status"), 0);
	ck_assert_ptr_nonnull(strstr(sim_out, "domains: 0 1 2\n"));
	req.arg[0] = 1;
	ck_assert_int_eq(sim_ctl_call(dom0, &req), 0);
	ck_assert_int_eq(SIM("status"), 0);
	ck_assert_ptr_nonnull(strstr(sim_out, "domains: 0 2\n"));
	close(guest);
	close(dom0);
	close(tool);
}
END_TEST

START_TEST(test_join_checks_domain_and_pid)
{
	struct xv_sim_msg req = { .op = XV_SIM_DOMAIN_JOIN };
	int tool = ctl_as(XV_SIM_DOMID_TOOL);
	pid_t pid;

	req.arg[0] = 7;
	req.arg[1] = (uint32_t)getpid();
	ck_assert_int_eq(sim_ctl_call(tool, &req), -ESRCH);
	req.arg[0] = 1;
	req.arg[1] = 0;
	ck_assert_int_eq(sim_ctl_call(tool, &req), -EINVAL);
	/* A pid that names no process: a reaped child's. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(xv_test_wait(pid, 5000), 0);
	req.arg[1] = (uint32_t)pid;
	ck_assert_int_eq(sim_ctl_call(tool, &req), -ESRCH);
	close(tool);
}
END_TEST

/* The daemon's pid, from a tool's DOMAIN_LIST reply. */
static pid_t daemon_pid(void)
{
	struct xv_sim_msg req = { .op = XV_SIM_DOMAIN_LIST }, *rep;
	int tool = ctl_as(XV_SIM_DOMID_TOOL);
	pid_t pid;

	rep = malloc(XV_SIM_MSG_MAX);
	ck_assert_ptr_nonnull(rep);
	ck_assert_int_eq(send(tool, &req, sizeof(req), 0), sizeof(req));
	ck_assert_int_gt(recv(tool, rep, XV_SIM_MSG_MAX, 0), 0);
	ck_assert_int_eq(rep->err, 0);
	pid = (pid_t)rep->arg[0];
	ck_assert_int_gt(pid, 1);
	free(rep);
	close(tool);
	return pid;
}

/* A guest could otherwise enrol another domain's process, or the user's
 * shell, for a destroy to SIGKILL, make or fill domains, or stop the
 * host's daemon: only exec and the test fixture need these, as tools. */
static pid_t sleeper(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

START_TEST(test_only_the_toolstack_creates_joins_and_shuts_down)
{
	struct xv_sim_msg req = { .op = XV_SIM_DOMAIN_JOIN };
	pid_t other = xv_test_fork_domain(1), bystander;
	int guest, dom0;

	if (other == 0) {
		pause();
		_exit(0);
	}
	/* Forked before the connections, so that neither holds them. */
	bystander = sleeper();
	guest = ctl_as(2);
	dom0 = ctl_as(0);
	req.arg[0] = 2;
	req.arg[1] = (uint32_t)other;
	ck_assert_int_eq(sim_ctl_call(guest, &req), -EPERM);
	req.arg[0] = 1;
	ck_assert_int_eq(sim_ctl_call(guest, &req), -EPERM);
	req.arg[0] = 2;
	req.arg[1] = (uint32_t)bystander;
	ck_assert_int_eq(sim_ctl_call(guest, &req), -EPERM);
	req = (struct xv_sim_msg){ .op = XV_SIM_DOMAIN_CREATE, .arg = { 7 } };
	ck_assert_int_eq(sim_ctl_call(guest, &req), -EPERM);
	req.op = XV_SIM_SHUTDOWN;
	ck_assert_int_eq(sim_ctl_call(guest, &req), -EPERM);
	/* Dom0 is the toolstack's domain. */
	req = (struct xv_sim_msg){ .op = XV_SIM_DOMAIN_CREATE, .arg = { 8 } };
	ck_assert_int_eq(sim_ctl_call(dom0, &req), 0);
	ck_assert_int_eq(SIM("status"), 0);
	ck_assert_ptr_nonnull(strstr(sim_out, "domains: 0 1 2 8\n"));
	/* The guest's connection is ours: it would make us dom2's. */
	close(guest);
	ck_assert_int_eq(SIM("destroy", "--domid", "2"), 0);
	ck_assert_int_eq(waitpid(other, NULL, WNOHANG), 0);
	ck_assert_int_eq(waitpid(bystander, NULL, WNOHANG), 0);
	kill(other, SIGKILL);
	kill(bystander, SIGKILL);
	ck_assert_int_eq(waitpid(other, NULL, 0), other);
	ck_assert_int_eq(waitpid(bystander, NULL, 0), bystander);
	close(dom0);
}
END_TEST

/* Each enrolment holds a pidfd: exec and xv_test_spawn both enrol the
 * same process, and nothing may grow the daemon's descriptors by
 * repeating a request. */
START_TEST(test_joining_a_process_again_opens_nothing)
{
	struct xv_sim_msg req = { .op = XV_SIM_DOMAIN_JOIN, .arg = { 1 } };
	pid_t hv = daemon_pid(), child = sleeper();
	int tool = ctl_as(XV_SIM_DOMID_TOOL), before, i;

	req.arg[1] = (uint32_t)child;
	ck_assert_int_eq(sim_ctl_call(tool, &req), 0);
	before = xv_test_open_fds(hv);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(sim_ctl_call(tool, &req), 0);
	ck_assert_int_eq(xv_test_open_fds(hv), before);
	/* Still enrolled, once: the destroy kills it. */
	ck_assert_int_eq(SIM("destroy", "--domid", "1"), 0);
	ck_assert_int_eq(xv_test_wait(child, 5000), 128 + SIGKILL);
	close(tool);
}
END_TEST

START_TEST(test_a_destroyed_domain_can_be_created_again)
{
	ck_assert_int_eq(SIM("destroy", "--domid", "1"), 0);
	ck_assert_int_eq(SIM("exec", "--domid", "1", "--", "xenstore-read",
			     "domid"), 0);
	ck_assert_str_eq(sim_out, "1\n");
	ck_assert_int_eq(SIM("status"), 0);
	ck_assert_ptr_nonnull(strstr(sim_out, "domains: 0 1 2\n"));
}
END_TEST

START_TEST(test_destroy_without_a_daemon_says_so)
{
	xv_test_sim_stop();
	ck_assert_int_eq(SIM("destroy", "--domid", "1"), 1);
	ck_assert_ptr_nonnull(strstr(sim_out, "daemon not running"));
	/* teardown stops it again: start one for it. */
	xv_test_sim_start();
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("sim-destroy");
	TCase *tc = tcase_create("destroy");
	TCase *cli = tcase_create("command");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_destroy_kills_the_domains_process);
	tcase_add_test(tc, test_destroy_fires_no_unmap_notification_of_the_domain);
	tcase_add_test(tc, test_pages_the_domain_shared_stay_mapped_with_what_it_wrote);
	tcase_add_test(tc, test_our_end_of_its_channel_stays_bound_and_notifies_nothing);
	tcase_add_test(tc, test_xenstore_releases_the_domain);
	tcase_add_test(tc, test_destroy_kills_processes_holding_a_handle_or_xenstore_connection);
	tcase_add_test(tc, test_destroy_kills_what_exec_runs_and_spares_other_domains);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(cli, setup, teardown);
	tcase_set_timeout(cli, 30);
	tcase_add_test(cli, test_destroy_command_errors_and_exit_codes);
	tcase_add_test(cli, test_the_daemon_lets_only_the_toolstack_destroy);
	tcase_add_test(cli, test_join_checks_domain_and_pid);
	tcase_add_test(cli, test_only_the_toolstack_creates_joins_and_shuts_down);
	tcase_add_test(cli, test_joining_a_process_again_opens_nothing);
	tcase_add_test(cli, test_a_destroyed_domain_can_be_created_again);
	tcase_add_test(cli, test_destroy_without_a_daemon_says_so);
	suite_add_tcase(s, cli);
	return s;
}
