/*
 * xs/ against a real xenstore protocol peer: the simulator's xenstored run
 * in-process (a thread drives its poll loop) with one socket per domain,
 * and Debian's unmodified libxenstore pointed at a domain's socket through
 * XENSTORED_PATH.  Domain 1 serves, domain 2 is the client, domain 3 a
 * bystander, domain 0 the privileged inspector.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "test-common.h"
#include "xs.h"
#include "xsd-fixture.h"

/* The fixture's domains 0, 1 and 2, and 3, the bystander. */
static void xsd_start_quota(const struct xv_xsd_quota *quota)
{
	xsd_fix_start_quota(quota);
	ck_assert_int_eq(xsd_fix_introduce(3, "dom3"), 0);
}

static void xsd_start(void)
{
	xsd_start_quota(NULL);
}

/* libxenstore reads XENSTORED_PATH at each xs_open(). */
static void as_domain(unsigned int domid)
{
	ck_assert_int_eq(setenv("XENSTORED_PATH", xsd_fix_sock(domid), 1), 0);
}

static struct xv_xs *open_as(unsigned int domid)
{
	struct xv_xs *xs = NULL;

	as_domain(domid);
	ck_assert_int_eq(xv_xs_open(&xs), 0);
	ck_assert_ptr_nonnull(xs);
	return xs;
}

static char *mirage_path(const char *port)
{
	char *p = NULL;

	ck_assert_int_eq(xv_xs_path_build(&p, 1, 2, port), 0);
	return p;
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 +
	       (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Fork; the child sleeps @ms and speaks as domain 1.  Returns 0 in the
 * child, which ends with _exit() (0 when all went well, as reap() checks);
 * the xenstored thread stays in the parent, the child is just another
 * client of its sockets. */
static pid_t fork_dom1_after(int ms)
{
	pid_t pid = xsd_fix_fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		usleep((useconds_t)ms * 1000);
		as_domain(1);
	}
	return pid;
}

/* Fork a domain 1 that publishes @path for domain 2 after @ms. */
static pid_t publish_later(const char *path, int ms, uint32_t ref,
			   uint32_t port)
{
	pid_t pid = fork_dom1_after(ms);

	if (pid == 0) {
		struct xv_xs *srv;

		if (xv_xs_open(&srv) < 0)
			_exit(10);
		_exit(xv_xs_publish(srv, path, 2, ref, port, -1) == 0 ? 0 : 11);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}

/* xv_xs_lookup() of @path finds @ref and @port. */
static void assert_found(struct xv_xs *cli, const char *path, int timeout_ms,
			 uint32_t ref, uint32_t port)
{
	uint32_t got_ref = 0, got_port = 0;

	ck_assert_int_eq(xv_xs_lookup(cli, path, timeout_ms, -1, &got_ref,
				      &got_port), 0);
	ck_assert_uint_eq(got_ref, ref);
	ck_assert_uint_eq(got_port, port);
}

/* What a server in domain 1 sets on a rendezvous for client domain 2. */
static struct xs_permissions srv1_cli2[2] = {
	{ .id = 1, .perms = XS_PERM_NONE },
	{ .id = 2, .perms = XS_PERM_READ },
};

START_TEST(test_own_domid_is_the_socket_domain)
{
	struct xv_xs *xs1 = open_as(1), *xs2 = open_as(2), *xs0 = open_as(0);
	unsigned int d = 99;

	ck_assert_int_eq(xv_xs_own_domid(xs1, &d), 0);
	ck_assert_uint_eq(d, 1);
	ck_assert_int_eq(xv_xs_own_domid(xs2, &d), 0);
	ck_assert_uint_eq(d, 2);
	ck_assert_int_eq(xv_xs_own_domid(xs0, &d), 0);
	ck_assert_uint_eq(d, 0);
	xv_xs_close(xs0);
	xv_xs_close(xs1);
	xv_xs_close(xs2);
}
END_TEST

START_TEST(test_open_without_xenstored_fails_with_errno)
{
	struct xv_xs *xs = NULL;
	int rc;

	/* Domain 7 was never introduced: nobody listens on its socket. */
	ck_assert_int_eq(setenv("XENSTORED_PATH", xsd_fix_sock(7), 1), 0);
	rc = xv_xs_open(&xs);
	/* libxenstore falls back to /dev/xen/xenbus, absent here too. */
	ck_assert_int_eq(rc, -ENOENT);
	ck_assert_ptr_null(xs);
}
END_TEST

START_TEST(test_client_reads_what_server_published)
{
	struct xv_xs *srv = open_as(1), *cli = open_as(2);
	char *path = mirage_path("p1");

	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 123, 45, -1), 0);
	assert_found(cli, path, 1000, 123, 45);
	free(path);
	xv_xs_close(srv);
	xv_xs_close(cli);
}
END_TEST

START_TEST(test_published_values_are_plain_decimal)
{
	struct xv_xs *srv = open_as(1);
	struct xs_handle *h0 = xsd_fix_open(0);
	char *path = mirage_path("p1"), key[256];
	unsigned int len;
	char *v;

	ck_assert_int_eq(xv_xs_publish(srv, path, 2, UINT32_MAX, 2147483647u,
				       -1), 0);
	snprintf(key, sizeof(key), "%s/ring-ref", path);
	v = xs_read(h0, XBT_NULL, key, &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 10);
	ck_assert_str_eq(v, "4294967295");
	free(v);
	snprintf(key, sizeof(key), "%s/event-channel", path);
	v = xs_read(h0, XBT_NULL, key, &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "2147483647");
	free(v);
	free(path);
	xs_close(h0);
	xv_xs_close(srv);
}
END_TEST

/* Exactly [owner: @owner, others: none; @client: read] on @path and on
 * both keys, as libxenvchan and ocaml-vchan set them on the keys. */
static void assert_rendezvous_perms(struct xs_handle *h0, const char *path,
				    unsigned int owner, unsigned int client)
{
	static const char *const nodes[] = { "", "/ring-ref", "/event-channel" };
	size_t i;

	for (i = 0; i < 3; i++) {
		struct xs_permissions *perms;
		unsigned int n;
		char node[256];

		snprintf(node, sizeof(node), "%s%s", path, nodes[i]);
		perms = xs_get_permissions(h0, XBT_NULL, node, &n);
		ck_assert_msg(perms != NULL, "no perms on %s", node);
		ck_assert_msg(n == 2, "%u perms on %s", n, node);
		ck_assert_uint_eq(perms[0].id, owner);
		ck_assert_int_eq(perms[0].perms, XS_PERM_NONE);
		ck_assert_uint_eq(perms[1].id, client);
		ck_assert_int_eq(perms[1].perms, XS_PERM_READ);
		free(perms);
	}
}

START_TEST(test_perms_are_owner_server_and_client_read)
{
	struct xv_xs *srv = open_as(1);
	struct xs_handle *h0 = xsd_fix_open(0);
	char *path = mirage_path("p1");

	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 7, 8, -1), 0);
	assert_rendezvous_perms(h0, path, 1, 2);
	free(path);
	xs_close(h0);
	xv_xs_close(srv);
}
END_TEST

/* Dom0 creating a node does not become its owner in xenstored (the parent's
 * owner stays): the keys are still dom0's because the directory is. */
START_TEST(test_perms_of_a_dom0_server_name_dom0_as_owner)
{
	struct xv_xs *srv = open_as(0);
	struct xs_handle *h0 = xsd_fix_open(0);
	struct xs_permissions dom1s[1] = { { .id = 1, .perms = XS_PERM_NONE } };
	char *path = NULL;

	ck_assert_int_eq(xv_xs_path_build(&path, 0, 2, "p0"), 0);
	/* A parent owned by another domain, which a key inheriting its
	 * owner verbatim would show. */
	ck_assert(xs_mkdir(h0, XBT_NULL, "/local/domain/0/data/vchan/2"));
	ck_assert(xs_set_permissions(h0, XBT_NULL,
				     "/local/domain/0/data/vchan/2", dom1s, 1));
	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 7, 8, -1), 0);
	assert_rendezvous_perms(h0, path, 0, 2);
	free(path);
	xs_close(h0);
	xv_xs_close(srv);
}
END_TEST

/* A parent readable by everyone and writable by a third domain passes
 * nothing of that on to the rendezvous. */
START_TEST(test_perms_ignore_a_permissive_parent)
{
	struct xv_xs *srv = open_as(1);
	struct xs_handle *h0 = xsd_fix_open(0), *h1 = xsd_fix_open(1), *h3 = xsd_fix_open(3);
	struct xs_permissions open_dir[2] = {
		{ .id = 1, .perms = XS_PERM_READ },
		{ .id = 3, .perms = XS_PERM_WRITE },
	};
	char *path = mirage_path("p1"), key[256];
	unsigned int len;

	ck_assert(xs_mkdir(h1, XBT_NULL, "data/vchan/2"));
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/vchan/2", open_dir,
				     2));
	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 7, 8, -1), 0);
	assert_rendezvous_perms(h0, path, 1, 2);
	snprintf(key, sizeof(key), "%s/ring-ref", path);
	errno = 0;
	ck_assert_ptr_null(xs_read(h3, XBT_NULL, key, &len));
	ck_assert_int_eq(errno, EACCES);
	free(path);
	xs_close(h0);
	xs_close(h1);
	xs_close(h3);
	xv_xs_close(srv);
}
END_TEST

START_TEST(test_client_domain_can_read_and_others_cannot)
{
	struct xv_xs *srv = open_as(1), *other = open_as(3);
	struct xs_handle *h2 = xsd_fix_open(2), *h3 = xsd_fix_open(3);
	char *path = mirage_path("p1"), key[256];
	uint32_t ref = 5, port = 6;
	unsigned int len;
	char *v;

	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 11, 12, -1), 0);
	snprintf(key, sizeof(key), "%s/ring-ref", path);
	v = xs_read(h2, XBT_NULL, key, &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "11");
	free(v);
	errno = 0;
	ck_assert_ptr_null(xs_read(h3, XBT_NULL, key, &len));
	ck_assert_int_eq(errno, EACCES);
	/* Domain 3 cannot write there either. */
	ck_assert(!xs_write(h3, XBT_NULL, key, "1", 1));
	ck_assert_int_eq(errno, EACCES);
	/* To xs/ in domain 3 the rendezvous is simply never there. */
	ck_assert_int_eq(xv_xs_lookup(other, path, 100, -1, &ref, &port),
			 -ETIMEDOUT);
	ck_assert_uint_eq(ref, 5);
	ck_assert_uint_eq(port, 6);
	free(path);
	xs_close(h2);
	xs_close(h3);
	xv_xs_close(srv);
	xv_xs_close(other);
}
END_TEST

START_TEST(test_publish_refuses_existing_path)
{
	struct xv_xs *srv = open_as(1), *cli = open_as(2);
	char *path = mirage_path("busy");

	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 21, 22, -1), 0);
	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 31, 32, -1), -EADDRINUSE);
	assert_found(cli, path, 0, 21, 22);
	free(path);
	xv_xs_close(srv);
	xv_xs_close(cli);
}
END_TEST

START_TEST(test_publish_refuses_bad_path_and_foreign_home)
{
	struct xv_xs *srv = open_as(1);

	ck_assert_int_eq(xv_xs_publish(srv, "bad path", 2, 1, 1, -1), -EINVAL);
	ck_assert_int_eq(xv_xs_publish(srv, NULL, 2, 1, 1, -1), -EINVAL);
	/* Domain 2's home is not domain 1's to write. */
	ck_assert_int_eq(xv_xs_publish(srv, "/local/domain/2/data/x", 2, 1, 1,
				       -1), -EACCES);
	xv_xs_close(srv);
}
END_TEST

START_TEST(test_explicit_relative_path_resolves_under_server_home)
{
	struct xv_xs *srv = open_as(1), *cli = open_as(2);

	ck_assert_int_eq(xv_xs_publish(srv, "data/explicit-vchan", 2, 77, 78, -1),
			 0);
	assert_found(cli, "/local/domain/1/data/explicit-vchan", 0, 77, 78);
	xv_xs_close(srv);
	xv_xs_close(cli);
}
END_TEST

START_TEST(test_lookup_waits_for_a_later_server)
{
	struct xv_xs *cli = open_as(2);
	char *path = mirage_path("late");
	uint32_t ref = 0, port = 0;
	struct timespec t0;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = publish_later(path, 200, 4242, 17);
	ck_assert_int_eq(xv_xs_lookup(cli, path, 5000, -1, &ref, &port), 0);
	ck_assert_int_ge(elapsed_ms(&t0), 190);
	/* Woken by the watch, not by the once-a-second look. */
	ck_assert_int_lt(elapsed_ms(&t0), 900);
	ck_assert_uint_eq(ref, 4242);
	ck_assert_uint_eq(port, 17);
	reap(pid);
	free(path);
	xv_xs_close(cli);
}
END_TEST

START_TEST(test_lookup_times_out_without_server)
{
	struct xv_xs *cli = open_as(2);
	char *path = mirage_path("nobody");
	uint32_t ref = 5, port = 6;
	struct timespec t0;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(xv_xs_lookup(cli, path, 300, -1, &ref, &port),
			 -ETIMEDOUT);
	ms = elapsed_ms(&t0);
	ck_assert_int_ge(ms, 300);
	ck_assert_int_lt(ms, 2000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(xv_xs_lookup(cli, path, 0, -1, &ref, &port),
			 -ETIMEDOUT);
	ck_assert_int_lt(elapsed_ms(&t0), 1000);
	ck_assert_uint_eq(ref, 5);
	ck_assert_uint_eq(port, 6);
	ck_assert_int_eq(xv_xs_lookup(cli, path, -2, -1, &ref, &port), -EINVAL);
	ck_assert_int_eq(xv_xs_lookup(cli, "a//b", 0, -1, &ref, &port), -EINVAL);
	free(path);
	xv_xs_close(cli);
}
END_TEST

/*
 * A look whose commit fails (the store's fault injection: as if the keys
 * changed under it) is "not yet".  A timeout of 0 makes exactly one: the
 * first lookup fails although a retry would succeed, the second finds
 * the keys.
 */
START_TEST(test_lookup_of_timeout_0_makes_one_try)
{
	struct xv_xs *srv = open_as(1), *cli = open_as(2);
	char *path = mirage_path("once");
	uint32_t ref = 5, port = 6;

	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 123, 45, -1), 0);
	xsd_fix_fail_commits(1);
	ck_assert_int_eq(xv_xs_lookup(cli, path, 0, -1, &ref, &port),
			 -ETIMEDOUT);
	ck_assert_uint_eq(ref, 5);
	assert_found(cli, path, 0, 123, 45);
	free(path);
	xv_xs_close(srv);
	xv_xs_close(cli);
}
END_TEST

/* Looks that conflict every time stop at the timeout: their 32 tries'
 * backoffs alone would take about 0.9 s (rarely under 0.6 s). */
START_TEST(test_lookup_stops_retrying_at_its_timeout)
{
	struct xv_xs *srv = open_as(1), *cli = open_as(2);
	char *path = mirage_path("busy");
	uint32_t ref = 5, port = 6;
	struct timespec t0;
	long ms;

	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 123, 45, -1), 0);
	xsd_fix_fail_commits(-1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(xv_xs_lookup(cli, path, 150, -1, &ref, &port),
			 -ETIMEDOUT);
	ms = elapsed_ms(&t0);
	ck_assert_int_ge(ms, 150);
	ck_assert_int_lt(ms, 550);
	xsd_fix_fail_commits(0);
	assert_found(cli, path, 0, 123, 45);
	free(path);
	xv_xs_close(srv);
	xv_xs_close(cli);
}
END_TEST

/* cancel_fd ends the pause between two tries: without it, the second
 * try would have found the keys. */
START_TEST(test_cancel_fd_ends_a_lookup_between_tries)
{
	struct xv_xs *srv = open_as(1), *cli = open_as(2);
	char *path = mirage_path("stop");
	uint32_t ref = 5, port = 6;
	int efd = eventfd(1, EFD_CLOEXEC);

	ck_assert_int_ge(efd, 0);
	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 123, 45, -1), 0);
	xsd_fix_fail_commits(1);
	ck_assert_int_eq(xv_xs_lookup(cli, path, -1, efd, &ref, &port),
			 -ECANCELED);
	ck_assert_uint_eq(ref, 5);
	close(efd);
	free(path);
	xv_xs_close(srv);
	xv_xs_close(cli);
}
END_TEST

/* A publication whose commit conflicts pauses before its next try, which
 * would succeed: a readable cancel_fd ends the pause instead, a closed
 * one with -EBADF, and nothing of either attempt stays in the store. */
START_TEST(test_cancel_fd_ends_a_publication_between_tries)
{
	struct xv_xs *srv = open_as(1), *cli = open_as(2);
	char *path = mirage_path("unsaid");
	uint32_t ref = 5, port = 6;
	int efd = eventfd(1, EFD_CLOEXEC), closed;

	ck_assert_int_ge(efd, 0);
	xsd_fix_fail_commits(1);
	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 123, 45, efd),
			 -ECANCELED);
	/* High above anything open here: a descriptor opened meanwhile
	 * takes the lowest free number, never this one. */
	closed = fcntl(efd, F_DUPFD_CLOEXEC, 900);
	ck_assert_int_ge(closed, 900);
	close(closed);
	xsd_fix_fail_commits(1);
	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 123, 45, closed), -EBADF);
	xsd_fix_fail_commits(0);
	ck_assert_int_eq(xv_xs_lookup(cli, path, 0, -1, &ref, &port),
			 -ETIMEDOUT);
	/* An unread descriptor changes nothing: the retry commits. */
	ck_assert_int_eq(eventfd_read(efd, &(eventfd_t){ 0 }), 0);
	xsd_fix_fail_commits(1);
	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 123, 45, efd), 0);
	assert_found(cli, path, 0, 123, 45);
	close(efd);
	free(path);
	xv_xs_close(srv);
	xv_xs_close(cli);
}
END_TEST

/* Only ring-ref, as a server that died between two plain writes leaves
 * it: the client keeps waiting rather than using half a rendezvous. */
START_TEST(test_lookup_waits_while_a_key_is_missing)
{
	struct xv_xs *cli = open_as(2);
	struct xs_handle *h1 = xsd_fix_open(1);
	uint32_t ref = 5, port = 6;

	ck_assert(xs_write(h1, XBT_NULL, "data/half/ring-ref", "9", 1));
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/half", srv1_cli2, 2));
	ck_assert(xs_set_permissions(h1, XBT_NULL, "data/half/ring-ref",
				     srv1_cli2, 2));
	ck_assert_int_eq(xv_xs_lookup(cli, "/local/domain/1/data/half", 200, -1,
				      &ref, &port), -ETIMEDOUT);
	ck_assert_uint_eq(ref, 5);
	xs_close(h1);
	xv_xs_close(cli);
}
END_TEST

/* Restart the store with no watch allowed to guests. */
static void restart_without_watches(void)
{
	static struct xv_xsd_quota q;

	xv_xsd_quota_default(&q);
	q.watches = 0;
	xsd_fix_stop();
	xsd_start_quota(&q);
}

/* Keys already there are read without a watch (two round trips fewer, and
 * no libxenstore reader thread); missing ones still need the watch, so a
 * domain that may set none cannot wait. */
START_TEST(test_lookup_of_published_keys_sets_no_watch)
{
	struct xv_xs *srv, *cli;
	char *path = mirage_path("nowatch"), *none = mirage_path("none");
	uint32_t ref = 0, port = 0;

	restart_without_watches();
	srv = open_as(1);
	cli = open_as(2);
	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 61, 62, -1), 0);
	assert_found(cli, path, 1000, 61, 62);
	ck_assert_int_eq(xv_xs_lookup(cli, path, -1, -1, &ref, &port), 0);
	ck_assert_uint_eq(ref, 61);
	/* Looking once needs no watch either. */
	ck_assert_int_eq(xv_xs_lookup(cli, none, 0, -1, &ref, &port),
			 -ETIMEDOUT);
	ck_assert_int_eq(xv_xs_lookup(cli, none, 100, -1, &ref, &port), -E2BIG);
	ck_assert_uint_eq(ref, 61);
	free(path);
	free(none);
	xv_xs_close(srv);
	xv_xs_close(cli);
}
END_TEST

/*
 * Lookups that wait, one after the other on one handle (each replacing
 * the last one's watching connection, a failed one keeping none, one found
 * at once needing none), never start a thread: the watch is a raw
 * connection (xs/raw.c), not libxenstore's, whose reader thread each of
 * them used to start. tests/xs/test-xs-raw.c follows the connection
 * itself.
 */
START_TEST(test_waiting_lookups_one_after_another_start_no_thread)
{
	char *a = mirage_path("wa"), *b = mirage_path("wb");
	char *c = mirage_path("wc");
	uint32_t ref = 0, port = 0;
	struct xv_xs *cli = open_as(2);
	int base = xv_test_thread_count();
	pid_t pid;

	pid = publish_later(a, 100, 81, 1);
	ck_assert_int_eq(xv_xs_lookup(cli, a, 5000, -1, &ref, &port), 0);
	ck_assert_uint_eq(ref, 81);
	reap(pid);
	ck_assert_int_eq(xv_test_thread_count(), base);
	pid = publish_later(b, 100, 82, 1);
	ck_assert_int_eq(xv_xs_lookup(cli, b, 5000, -1, &ref, &port), 0);
	ck_assert_uint_eq(ref, 82);
	reap(pid);
	ck_assert_int_eq(xv_test_thread_count(), base);
	ck_assert_int_eq(xv_xs_lookup(cli, "data/none", 100, -1, &ref, &port),
			 -ETIMEDOUT);
	ck_assert_int_eq(xv_test_thread_count(), base);
	/* Found at once: no watch, no thread. */
	ck_assert_int_eq(xv_xs_lookup(cli, a, 100, -1, &ref, &port), 0);
	ck_assert_uint_eq(ref, 81);
	ck_assert_int_eq(xv_test_thread_count(), base);
	pid = publish_later(c, 100, 83, 1);
	ck_assert_int_eq(xv_xs_lookup(cli, c, 5000, -1, &ref, &port), 0);
	ck_assert_uint_eq(ref, 83);
	reap(pid);
	ck_assert_int_eq(xv_test_thread_count(), base);
	xv_xs_close(cli);
	ck_assert_int_eq(xv_test_thread_count(), base);
	free(a);
	free(b);
	free(c);
}
END_TEST

/*
 * The watch is on event-channel, which every known server writes last.  A
 * server writing it first, outside a transaction, has its ring-ref found
 * by the once-a-second look: late, but found.
 */
START_TEST(test_lookup_finds_keys_written_in_the_other_order)
{
	struct xv_xs *cli = open_as(2);
	uint32_t ref = 0, port = 0;
	struct timespec t0;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork_dom1_after(100);
	if (pid == 0) {
		struct xs_handle *h = xs_open(0);

		if (!h || !xs_mkdir(h, XBT_NULL, "data/rev") ||
		    !xs_set_permissions(h, XBT_NULL, "data/rev", srv1_cli2,
					2) ||
		    !xs_write(h, XBT_NULL, "data/rev/event-channel", "7", 1))
			_exit(10);
		usleep(100 * 1000);
		_exit(xs_write(h, XBT_NULL, "data/rev/ring-ref", "8", 1) ? 0 : 11);
	}
	ck_assert_int_eq(xv_xs_lookup(cli, "/local/domain/1/data/rev", 5000, -1,
				      &ref, &port), 0);
	ck_assert_int_ge(elapsed_ms(&t0), 190);
	ck_assert_int_lt(elapsed_ms(&t0), 2500);
	ck_assert_uint_eq(ref, 8);
	ck_assert_uint_eq(port, 7);
	reap(pid);
	xv_xs_close(cli);
}
END_TEST

static const char *const bad_values[] = {
	"", "abc", "-1", "+5", " 12", "12 ", "12\n", "0x10", "012", "0",
	"4294967296", "99999999999",
};

/* Forge rendezvous values as a hostile server would, readable by dom2. */
static void forge(struct xs_handle *h1, const char *dirname,
		  const char *ring_ref, const char *event_channel)
{
	char node[128];

	snprintf(node, sizeof(node), "%s/ring-ref", dirname);
	ck_assert(xs_write(h1, XBT_NULL, node, ring_ref, strlen(ring_ref)));
	ck_assert(xs_set_permissions(h1, XBT_NULL, node, srv1_cli2, 2));
	snprintf(node, sizeof(node), "%s/event-channel", dirname);
	ck_assert(xs_write(h1, XBT_NULL, node, event_channel,
			   strlen(event_channel)));
	ck_assert(xs_set_permissions(h1, XBT_NULL, node, srv1_cli2, 2));
	ck_assert(xs_set_permissions(h1, XBT_NULL, dirname, srv1_cli2, 2));
}

START_TEST(test_lookup_refuses_garbage_ring_ref)
{
	struct xv_xs *cli = open_as(2);
	struct xs_handle *h1 = xsd_fix_open(1);
	uint32_t ref = 5, port = 6;
	char rel[64], abs[96];

	snprintf(rel, sizeof(rel), "data/bad%d", _i);
	snprintf(abs, sizeof(abs), "/local/domain/1/%s", rel);
	forge(h1, rel, bad_values[_i], "3");
	ck_assert_msg(xv_xs_lookup(cli, abs, 1000, -1, &ref, &port) == -EPROTO,
		      "ring-ref \"%s\" accepted", bad_values[_i]);
	ck_assert_uint_eq(ref, 5);
	ck_assert_uint_eq(port, 6);
	xs_close(h1);
	xv_xs_close(cli);
}
END_TEST

START_TEST(test_lookup_refuses_garbage_event_channel)
{
	struct xv_xs *cli = open_as(2);
	struct xs_handle *h1 = xsd_fix_open(1);
	uint32_t ref = 5, port = 6;

	forge(h1, "data/bad-port", "3", bad_values[_i]);
	ck_assert_msg(xv_xs_lookup(cli, "/local/domain/1/data/bad-port", 1000,
				   -1, &ref, &port) == -EPROTO,
		      "event-channel \"%s\" accepted", bad_values[_i]);
	ck_assert_uint_eq(ref, 5);
	ck_assert_uint_eq(port, 6);
	xs_close(h1);
	xv_xs_close(cli);
}
END_TEST

/* libxenevtchn hands ports around as int: one above INT32_MAX is no port. */
START_TEST(test_lookup_refuses_event_channel_beyond_int)
{
	struct xv_xs *cli = open_as(2);
	struct xs_handle *h1 = xsd_fix_open(1);
	uint32_t ref = 5, port = 6;

	forge(h1, "data/big-port", "3", "2147483648");
	ck_assert_int_eq(xv_xs_lookup(cli, "/local/domain/1/data/big-port", 1000,
				      -1, &ref, &port), -EPROTO);
	ck_assert_uint_eq(port, 6);
	xs_close(h1);
	xv_xs_close(cli);
}
END_TEST

START_TEST(test_unpublish_removes_the_whole_path)
{
	struct xv_xs *srv = open_as(1);
	struct xs_handle *h0 = xsd_fix_open(0), *h1 = xsd_fix_open(1);
	char *path = mirage_path("gone"), extra[256];
	unsigned int len;
	char *v;

	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 1, 2, -1), 0);
	/* Something extra under the path goes too. */
	snprintf(extra, sizeof(extra), "%s/extra/deep", path);
	ck_assert(xs_write(h1, XBT_NULL, extra, "x", 1));
	ck_assert_int_eq(xv_xs_unpublish(srv, path), 0);
	errno = 0;
	ck_assert_ptr_null(xs_read(h0, XBT_NULL, path, &len));
	ck_assert_int_eq(errno, ENOENT);
	/* The per-client directory left empty goes with it, as in
	 * ocaml-vchan; the vchan directory stays. */
	errno = 0;
	ck_assert_ptr_null(xs_read(h0, XBT_NULL, "/local/domain/1/data/vchan/2",
				   &len));
	ck_assert_int_eq(errno, ENOENT);
	v = xs_read(h0, XBT_NULL, "/local/domain/1/data/vchan", &len);
	ck_assert_ptr_nonnull(v);
	free(v);
	ck_assert_int_eq(xv_xs_unpublish(srv, path), -ENOENT);
	/* And the path can be published again. */
	ck_assert_int_eq(xv_xs_publish(srv, path, 2, 3, 4, -1), 0);
	free(path);
	xs_close(h0);
	xs_close(h1);
	xv_xs_close(srv);
}
END_TEST

START_TEST(test_unpublish_keeps_client_dir_with_other_ports)
{
	struct xv_xs *srv = open_as(1), *cli = open_as(2);
	char *a = mirage_path("a"), *b = mirage_path("b");

	ck_assert_int_eq(xv_xs_publish(srv, a, 2, 1, 2, -1), 0);
	ck_assert_int_eq(xv_xs_publish(srv, b, 2, 3, 4, -1), 0);
	ck_assert_int_eq(xv_xs_unpublish(srv, a), 0);
	assert_found(cli, b, 0, 3, 4);
	free(a);
	free(b);
	xv_xs_close(srv);
	xv_xs_close(cli);
}
END_TEST

/* A per-client directory made by the toolstack (owned by dom0, readable
 * by no one else) is not the server's to tidy: the path goes, it stays. */
START_TEST(test_unpublish_leaves_a_foreign_client_dir)
{
	struct xv_xs *srv = open_as(1);
	struct xs_handle *h0 = xsd_fix_open(0);
	struct xs_permissions mine[1] = { { .id = 1, .perms = XS_PERM_NONE } };
	struct xs_permissions dom0s[1] = { { .id = 0, .perms = XS_PERM_NONE } };
	char *path = mirage_path("foreign");
	unsigned int len;
	char *v;

	ck_assert(xs_mkdir(h0, XBT_NULL, path));
	ck_assert(xs_set_permissions(h0, XBT_NULL, path, mine, 1));
	ck_assert(xs_set_permissions(h0, XBT_NULL,
				     "/local/domain/1/data/vchan/2", dom0s, 1));
	/* Publishing needs the path absent; unpublish is what is tested. */
	ck_assert_int_eq(xv_xs_unpublish(srv, path), 0);
	errno = 0;
	ck_assert_ptr_null(xs_read(h0, XBT_NULL, path, &len));
	ck_assert_int_eq(errno, ENOENT);
	v = xs_read(h0, XBT_NULL, "/local/domain/1/data/vchan/2", &len);
	ck_assert_ptr_nonnull(v);
	free(v);
	free(path);
	xs_close(h0);
	xv_xs_close(srv);
}
END_TEST

/* Listed but not the server's to remove: the path goes, the directory
 * stays, although empty. */
START_TEST(test_unpublish_leaves_a_listable_foreign_client_dir)
{
	struct xv_xs *srv = open_as(1);
	struct xs_handle *h0 = xsd_fix_open(0);
	struct xs_permissions mine[1] = { { .id = 1, .perms = XS_PERM_NONE } };
	struct xs_permissions dom0s[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = 1, .perms = XS_PERM_READ },
	};
	char *path = mirage_path("listable");
	unsigned int len, n = 99;
	char *v, **names;

	ck_assert(xs_mkdir(h0, XBT_NULL, path));
	ck_assert(xs_set_permissions(h0, XBT_NULL, path, mine, 1));
	ck_assert(xs_set_permissions(h0, XBT_NULL,
				     "/local/domain/1/data/vchan/2", dom0s, 2));
	ck_assert_int_eq(xv_xs_unpublish(srv, path), 0);
	errno = 0;
	ck_assert_ptr_null(xs_read(h0, XBT_NULL, path, &len));
	ck_assert_int_eq(errno, ENOENT);
	v = xs_read(h0, XBT_NULL, "/local/domain/1/data/vchan/2", &len);
	ck_assert_ptr_nonnull(v);
	free(v);
	names = xs_directory(h0, XBT_NULL, "/local/domain/1/data/vchan/2", &n);
	ck_assert_ptr_nonnull(names);
	ck_assert_uint_eq(n, 0);
	free(names);
	free(path);
	xs_close(h0);
	xv_xs_close(srv);
}
END_TEST

/* A port never published is -ENOENT, and its neighbours stay. */
START_TEST(test_unpublish_of_an_absent_port_changes_nothing)
{
	struct xv_xs *srv = open_as(1), *cli = open_as(2);
	char *a = mirage_path("a"), *b = mirage_path("b");

	ck_assert_int_eq(xv_xs_unpublish(srv, b), -ENOENT);
	ck_assert_int_eq(xv_xs_publish(srv, a, 2, 1, 2, -1), 0);
	ck_assert_int_eq(xv_xs_unpublish(srv, b), -ENOENT);
	assert_found(cli, a, 0, 1, 2);
	ck_assert_int_eq(xv_xs_unpublish(srv, "/local/domain/1/data/none"),
			 -ENOENT);
	free(a);
	free(b);
	xv_xs_close(srv);
	xv_xs_close(cli);
}
END_TEST

/* An explicit path's parent may be the domain's "data" node, which a guest
 * could never recreate: it stays even when left empty. */
START_TEST(test_unpublish_explicit_path_keeps_its_parent)
{
	struct xv_xs *srv = open_as(1);
	struct xs_handle *h0 = xsd_fix_open(0);
	unsigned int len;
	char *v;

	ck_assert_int_eq(xv_xs_publish(srv, "/local/domain/1/data/solo", 2, 1,
				       2, -1), 0);
	ck_assert_int_eq(xv_xs_unpublish(srv, "/local/domain/1/data/solo"), 0);
	v = xs_read(h0, XBT_NULL, "/local/domain/1/data", &len);
	ck_assert_ptr_nonnull(v);
	free(v);
	ck_assert_int_eq(xv_xs_unpublish(srv, "bad path"), -EINVAL);
	xs_close(h0);
	xv_xs_close(srv);
}
END_TEST

/* The id of a transaction started and ended now, as dom0. */
static unsigned int next_txn_id(void)
{
	struct xs_handle *h0 = xsd_fix_open(0);
	xs_transaction_t t = xs_transaction_start(h0);

	ck_assert(t != XBT_NULL);
	ck_assert(xs_transaction_end(h0, t, true));
	xs_close(h0);
	return (unsigned int)t;
}

/*
 * Publishers racing under one client directory make xenstored end some of
 * their transactions with EAGAIN (each creates a child of the same node);
 * the bounded retry must see every one of them through.  The simulator
 * numbers transactions one after the other, for all connections, so
 * the ids before and after the race tell how many were started: more
 * than one per publication means some were retried.
 */
/* One racing publisher: ROUNDS ports of its own, on its own handle. */
struct racer {
	struct xv_xs *srv;
	pthread_barrier_t *start;
	int i;
	int rc;		/* 0, or the first failure */
};

enum { RACERS = 8, ROUNDS = 10 };

static void *race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->start);
	for (int round = 0; round < ROUNDS && !r->rc; round++) {
		char port[32], *path = NULL;

		snprintf(port, sizeof(port), "race%d-%d", r->i, round);
		r->rc = xv_xs_path_build(&path, 1, 2, port);
		if (!r->rc)
			r->rc = xv_xs_publish(r->srv, path, 2,
					      (uint32_t)(r->i + 1),
					      (uint32_t)(round + 1), -1);
		free(path);
	}
	return NULL;
}

START_TEST(test_concurrent_publishers_all_succeed)
{
	struct xv_xs *cli = open_as(2);
	struct racer racers[RACERS];
	pthread_t threads[RACERS];
	pthread_barrier_t start;
	unsigned int first, started;
	int i;

	/* Threads, not processes: see churn(). */
	for (i = 0; i < RACERS; i++)
		racers[i] = (struct racer){ .srv = open_as(1), .i = i };
	first = next_txn_id();
	/* All connected before any publishes, so that they race. */
	ck_assert_int_eq(pthread_barrier_init(&start, NULL, RACERS), 0);
	for (i = 0; i < RACERS; i++) {
		racers[i].start = &start;
		ck_assert_int_eq(pthread_create(&threads[i], NULL, race,
						&racers[i]), 0);
	}
	for (i = 0; i < RACERS; i++) {
		ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
		ck_assert_msg(racers[i].rc == 0, "publisher %d: %s", i,
			      strerror(-racers[i].rc));
		xv_xs_close(racers[i].srv);
	}
	pthread_barrier_destroy(&start);
	started = next_txn_id() - first - 1;
	ck_assert_uint_ge(started, RACERS * ROUNDS);
	ck_assert_msg(started > RACERS * ROUNDS, "no publication was retried");
	for (i = 0; i < RACERS; i++) {
		char port[32], *path;

		snprintf(port, sizeof(port), "race%d-%d", i, ROUNDS - 1);
		path = mirage_path(port);
		assert_found(cli, path, 0, (uint32_t)(i + 1), ROUNDS);
		free(path);
	}
	xv_xs_close(cli);
}
END_TEST

START_TEST(test_own_domid_refuses_a_malformed_domid_node)
{
	struct xs_handle *h0 = xsd_fix_open(0);
	struct xv_xs *xs1;
	unsigned int d = 99;

	/* Only the toolstack can write it; a broken one must not make a
	 * server publish under another domain's home. */
	ck_assert(xs_write(h0, XBT_NULL, "/local/domain/1/domid", "1x", 2));
	xs1 = open_as(1);
	ck_assert_int_eq(xv_xs_own_domid(xs1, &d), -EPROTO);
	ck_assert_int_eq(xv_xs_publish(xs1, "data/p", 2, 1, 1, -1), -EPROTO);
	ck_assert(xs_write(h0, XBT_NULL, "/local/domain/1/domid", "32752", 5));
	ck_assert_int_eq(xv_xs_own_domid(xs1, &d), -EPROTO);
	ck_assert_uint_eq(d, 99);
	xv_xs_close(xs1);
	xs_close(h0);
}
END_TEST

/*
 * ocaml-vchan's server sets permissions on the two keys only, so the
 * directory it creates inherits "data"'s (unreadable to the client), and
 * writes them in a transaction.  A client waiting on its watch must still
 * be woken and read them.
 */
START_TEST(test_lookup_finds_a_mirage_style_publication)
{
	struct xv_xs *cli = open_as(2);
	char *path = mirage_path("mirage");
	uint32_t ref = 0, port = 0;
	struct timespec t0;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork_dom1_after(200);
	if (pid == 0) {
		static const char *const keys[] = { "ring-ref", "event-channel" };
		static const char *const vals[] = { "1234", "56" };
		struct xs_handle *h = xs_open(0);
		xs_transaction_t t;
		int i;

		if (!h)
			_exit(10);
		t = xs_transaction_start(h);
		for (i = 0; i < 2; i++) {
			char node[128];

			snprintf(node, sizeof(node), "%s/%s", path, keys[i]);
			if (!xs_write(h, t, node, vals[i], strlen(vals[i])) ||
			    !xs_set_permissions(h, t, node, srv1_cli2, 2))
				_exit(11);
		}
		_exit(xs_transaction_end(h, t, false) ? 0 : 12);
	}
	ck_assert_int_eq(xv_xs_lookup(cli, path, 5000, -1, &ref, &port), 0);
	/* The watch fired although the directory is not the client's to
	 * read: xenstored checks the key that changed. */
	ck_assert_int_lt(elapsed_ms(&t0), 900);
	ck_assert_uint_eq(ref, 1234);
	ck_assert_uint_eq(port, 56);
	reap(pid);
	free(path);
	xv_xs_close(cli);
}
END_TEST

/*
 * A server in domain 1 publishing and removing one path over and over,
 * each publication with ring-ref == event-channel, until @stop; its number
 * @k makes its values its own.  Publications of several servers take
 * turns (the path taken is -EADDRINUSE, gone is -ENOENT).
 *
 * Threads, not forked processes: under ASan (clang 14), a child forked
 * while another thread of this process held one of the allocator's locks
 * waits for it for ever, at whatever later malloc() or free() needs it
 * (seen here: a churning child stuck in a futex wait inside free(), even
 * with every fork made while the store's thread was outside the store).
 */
struct churner {
	struct xv_xs *srv;
	const char *path;
	int k;
	const int *stop;
	int rc;		/* 0, or the first unexpected failure */
};

static void *churn(void *arg)
{
	struct churner *c = arg;

	for (uint32_t i = (uint32_t)c->k + 1;
	     !__atomic_load_n(c->stop, __ATOMIC_RELAXED); i += 16) {
		int rc = xv_xs_publish(c->srv, c->path, 2, i, i, -1);

		if (rc < 0 && rc != -EADDRINUSE) {
			c->rc = rc;
			break;
		}
		rc = xv_xs_unpublish(c->srv, c->path);
		if (rc < 0 && rc != -ENOENT) {
			c->rc = rc;
			break;
		}
	}
	return NULL;
}

/*
 * Every publication has ring-ref == event-channel: a lookup that reads
 * the two keys apart takes ring-ref from one publication and
 * event-channel from the next when the path is removed and published
 * again in between, and reports that pair as found.  Four servers keep
 * the path changing (and the client off the CPU) often enough that this
 * happens within the two seconds.
 */
START_TEST(test_lookup_never_mixes_two_publications)
{
	enum { SERVERS = 4, MS = 2000 };
	char *path = mirage_path("churn");
	struct churner churners[SERVERS];
	pthread_t threads[SERVERS];
	unsigned int found = 0, mixed = 0;
	struct xv_xs *cli;
	struct timespec t0;
	int k, rc, stop = 0;

	for (k = 0; k < SERVERS; k++)
		churners[k] = (struct churner){
			.srv = open_as(1), .path = path, .k = k, .stop = &stop,
		};
	cli = open_as(2);
	for (k = 0; k < SERVERS; k++)
		ck_assert_int_eq(pthread_create(&threads[k], NULL, churn,
						&churners[k]), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (elapsed_ms(&t0) < MS) {
		uint32_t ref = 0, port = 0;

		rc = xv_xs_lookup(cli, path, 0, -1, &ref, &port);
		if (rc != 0 && rc != -ETIMEDOUT)
			break;
		if (rc == 0) {
			found++;
			mixed += ref != port;
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (k = 0; k < SERVERS; k++) {
		ck_assert_int_eq(pthread_join(threads[k], NULL), 0);
		ck_assert_msg(churners[k].rc == 0, "server %d: %s", k,
			      strerror(-churners[k].rc));
		xv_xs_close(churners[k].srv);
	}
	ck_assert_msg(rc == 0 || rc == -ETIMEDOUT, "lookup: %s",
		      strerror(-rc));
	ck_assert_msg(mixed == 0, "%u of %u lookups mixed two publications",
		      mixed, found);
	/* Not a test of an empty path. */
	ck_assert_uint_gt(found, 0);
	free(path);
	xv_xs_close(cli);
}
END_TEST

static void *stop_xsd_later(void *arg)
{
	usleep(200 * 1000);
	xsd_fix_stop();
	return NULL;
}

/* xenstored going away must end a waiting lookup with its error, not
 * leave it waiting (for ever, without a timeout). */
START_TEST(test_lookup_fails_when_xenstored_goes_away)
{
	struct xv_xs *cli = open_as(2);
	char *path = mirage_path("orphan");
	uint32_t ref = 5, port = 6;
	struct timespec t0;
	pthread_t t;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(pthread_create(&t, NULL, stop_xsd_later, NULL), 0);
	rc = xv_xs_lookup(cli, path, -1, -1, &ref, &port);
	ck_assert_int_eq(rc, -ECONNRESET);
	ck_assert_int_lt(elapsed_ms(&t0), 2500);
	ck_assert_uint_eq(ref, 5);
	pthread_join(t, NULL);
	/* The handle stays broken: every later call fails the same way. */
	ck_assert_int_eq(xv_xs_publish(cli, path, 1, 1, 1, -1), -ECONNRESET);
	free(path);
	xv_xs_close(cli);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xs-rendezvous");
	TCase *tc = tcase_create("rendezvous");
	int nbad = (int)(sizeof(bad_values) / sizeof(bad_values[0]));

	tcase_add_checked_fixture(tc, xsd_start, xsd_fix_stop);
	/* Room for a loaded machine, as the flow tests have.  (The one
	 * test once seen past 20 s under ASan, never_mixes, was a child
	 * hung in free(), forked while the store's thread allocated: see
	 * xsd_fix_fork().) */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_own_domid_is_the_socket_domain);
	tcase_add_test(tc, test_open_without_xenstored_fails_with_errno);
	tcase_add_test(tc, test_client_reads_what_server_published);
	tcase_add_test(tc, test_published_values_are_plain_decimal);
	tcase_add_test(tc, test_perms_are_owner_server_and_client_read);
	tcase_add_test(tc, test_perms_of_a_dom0_server_name_dom0_as_owner);
	tcase_add_test(tc, test_perms_ignore_a_permissive_parent);
	tcase_add_test(tc, test_client_domain_can_read_and_others_cannot);
	tcase_add_test(tc, test_publish_refuses_existing_path);
	tcase_add_test(tc, test_publish_refuses_bad_path_and_foreign_home);
	tcase_add_test(tc, test_explicit_relative_path_resolves_under_server_home);
	tcase_add_test(tc, test_lookup_waits_for_a_later_server);
	tcase_add_test(tc, test_lookup_times_out_without_server);
	tcase_add_test(tc, test_lookup_waits_while_a_key_is_missing);
	tcase_add_test(tc, test_lookup_of_timeout_0_makes_one_try);
	tcase_add_test(tc, test_lookup_stops_retrying_at_its_timeout);
	tcase_add_test(tc, test_cancel_fd_ends_a_lookup_between_tries);
	tcase_add_test(tc, test_cancel_fd_ends_a_publication_between_tries);
	tcase_add_test(tc, test_lookup_of_published_keys_sets_no_watch);
	tcase_add_test(tc, test_waiting_lookups_one_after_another_start_no_thread);
	tcase_add_test(tc, test_lookup_finds_keys_written_in_the_other_order);
	tcase_add_loop_test(tc, test_lookup_refuses_garbage_ring_ref, 0, nbad);
	tcase_add_loop_test(tc, test_lookup_refuses_garbage_event_channel, 0,
			    nbad);
	tcase_add_test(tc, test_lookup_refuses_event_channel_beyond_int);
	tcase_add_test(tc, test_concurrent_publishers_all_succeed);
	tcase_add_test(tc, test_own_domid_refuses_a_malformed_domid_node);
	tcase_add_test(tc, test_lookup_finds_a_mirage_style_publication);
	tcase_add_test(tc, test_lookup_never_mixes_two_publications);
	tcase_add_test(tc, test_lookup_fails_when_xenstored_goes_away);
	tcase_add_test(tc, test_unpublish_removes_the_whole_path);
	tcase_add_test(tc, test_unpublish_keeps_client_dir_with_other_ports);
	tcase_add_test(tc, test_unpublish_explicit_path_keeps_its_parent);
	tcase_add_test(tc, test_unpublish_leaves_a_foreign_client_dir);
	tcase_add_test(tc, test_unpublish_leaves_a_listable_foreign_client_dir);
	tcase_add_test(tc, test_unpublish_of_an_absent_port_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}
