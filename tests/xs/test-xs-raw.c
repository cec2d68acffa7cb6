/*
 * xs/raw.c: watches and XS_IS_DOMAIN_INTRODUCED spoken directly on a
 * xenstore descriptor.  Against the simulator's xenstored run in-process
 * (tests/xenstored's fixture: domains 0..3, released between two of the
 * store's rounds as the toolstack's destroy would),
 * and against a scripted xenstored on a Unix socket for what a real one
 * never sends: partial messages, bad lengths, wrong replies, an end in
 * the middle of a request.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenstore.h>

#include "test-common.h"
#include "xs-internal.h"
#include "xsd-fixture.h"

#define KEY "/local/domain/0/data/raw-key"

/* The fixture's domains 0, 1 and 2, and 3. */
static void xsd_start(void)
{
	xsd_fix_start();
	ck_assert_int_eq(xsd_fix_introduce(3, "dom3"), 0);
}

static struct xv_xs_raw *raw_as(unsigned int domid)
{
	struct xv_xs_raw *r = NULL;

	ck_assert_int_eq(xv_xs_raw_open(&r, xsd_fix_sock(domid), NULL), 0);
	ck_assert_ptr_nonnull(r);
	return r;
}

/* A libxenstore connection of dom0, to write the watched key with; the
 * environment stays pointed at dom0's socket. */
static struct xs_handle *writer(void)
{
	ck_assert_int_eq(setenv("XENSTORED_PATH", xsd_fix_sock(0), 1), 0);
	return xsd_fix_open(0);
}

static void write_key(struct xs_handle *h, const char *val)
{
	ck_assert(xs_write(h, XBT_NULL, KEY, val, (unsigned int)strlen(val)));
}

static int readable_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms);
}

/* Drain until @want events were taken or none came for 2 s. */
static int drain_events(struct xv_xs_raw *r, int want)
{
	int got = 0;

	while (got < want && readable_within(xv_xs_raw_fd(r), 2000) == 1) {
		int n = xv_xs_raw_drain(r);

		ck_assert_int_ge(n, 0);
		got += n;
	}
	return got;
}

START_TEST(test_a_watch_fires_at_once_then_once_per_write)
{
	struct xs_handle *h = writer();
	struct xv_xs_raw *r = raw_as(0);
	int fd = xv_xs_raw_fd(r);

	write_key(h, "0");
	ck_assert_int_eq(xv_xs_raw_watch(r, KEY, "tok"), 0);
	/* The first event comes after the reply and is left in the
	 * descriptor, which says so. */
	ck_assert_int_eq(readable_within(fd, 2000), 1);
	ck_assert_int_eq(xv_xs_raw_drain(r), 1);
	ck_assert_int_eq(readable_within(fd, 0), 0);
	ck_assert_int_eq(xv_xs_raw_drain(r), 0);
	write_key(h, "1");
	ck_assert_int_eq(drain_events(r, 1), 1);
	write_key(h, "2");
	write_key(h, "3");
	write_key(h, "4");
	ck_assert_int_eq(drain_events(r, 3), 3);
	ck_assert_int_eq(readable_within(fd, 200), 0);
	ck_assert_int_eq(xv_xs_raw_drain(r), 0);
	xv_xs_raw_close(r);
	xs_close(h);
}
END_TEST

START_TEST(test_dom0_hears_which_domains_are_introduced)
{
	struct xv_xs_raw *r = raw_as(0);

	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 0), 1);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 2), 1);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 77), 0);
	ck_assert_int_eq(xsd_fix_release(2), 0);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 2), 0);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 3), 1);
	xv_xs_raw_close(r);
}
END_TEST

START_TEST(test_a_guest_is_refused_the_question_and_the_connection_lives)
{
	struct xv_xs_raw *r = raw_as(1);

	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 2), -EACCES);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 1), -EACCES);
	/* An error reply ends no connection. */
	ck_assert_int_eq(xv_xs_raw_watch(r, "@releaseDomain", "t"), 0);
	ck_assert_int_eq(drain_events(r, 1), 1);
	xv_xs_raw_close(r);
}
END_TEST

START_TEST(test_the_release_watch_fires_for_dom0_once_per_release)
{
	struct xv_xs_raw *r = raw_as(0);

	ck_assert_int_eq(xv_xs_raw_watch(r, "@releaseDomain", "t"), 0);
	ck_assert_int_eq(drain_events(r, 1), 1);
	ck_assert_int_eq(xsd_fix_release(1), 0);
	ck_assert_int_eq(xsd_fix_release(3), 0);
	ck_assert_int_eq(drain_events(r, 2), 2);
	ck_assert_int_eq(readable_within(xv_xs_raw_fd(r), 200), 0);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 1), 0);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 3), 0);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 2), 1);
	xv_xs_raw_close(r);
}
END_TEST

/*
 * An event already in the descriptor when a request is sent is read on
 * the way to the reply: the descriptor goes quiet, the count keeps it.
 */
START_TEST(test_an_event_read_while_a_reply_is_awaited_is_kept)
{
	struct xs_handle *h = writer();
	struct xv_xs_raw *r = raw_as(0);
	int fd = xv_xs_raw_fd(r);

	ck_assert_int_eq(xv_xs_raw_watch(r, KEY, "tok"), 0);
	ck_assert_int_eq(drain_events(r, 1), 1);
	write_key(h, "a");
	ck_assert_int_eq(readable_within(fd, 2000), 1);
	ck_assert(!xv_xs_raw_pending(r));
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 3), 1);
	ck_assert(xv_xs_raw_pending(r));
	ck_assert_int_eq(readable_within(fd, 0), 0);
	ck_assert_int_eq(xv_xs_raw_drain(r), 1);
	ck_assert(!xv_xs_raw_pending(r));
	/* Before an XS_WATCH reply too; that watch's own first event
	 * follows its reply and stays in the descriptor. */
	write_key(h, "b");
	ck_assert_int_eq(readable_within(fd, 2000), 1);
	ck_assert_int_eq(xv_xs_raw_watch(r, "@releaseDomain", "t2"), 0);
	ck_assert(xv_xs_raw_pending(r));
	ck_assert_int_eq(readable_within(fd, 2000), 1);
	ck_assert_int_eq(xv_xs_raw_drain(r), 2);
	ck_assert_int_eq(readable_within(fd, 0), 0);
	xv_xs_raw_close(r);
	xs_close(h);
}
END_TEST

START_TEST(test_a_lost_xenstored_is_a_reset_on_every_call)
{
	struct xv_xs_raw *r = raw_as(0);
	int fd = xv_xs_raw_fd(r);

	ck_assert_int_eq(xv_xs_raw_watch(r, "@releaseDomain", "t"), 0);
	ck_assert_int_eq(drain_events(r, 1), 1);
	xsd_fix_stop();
	/* The end wakes a poller: no liveness timer needed. */
	ck_assert_int_eq(readable_within(fd, 2000), 1);
	ck_assert_int_eq(xv_xs_raw_drain(r), -ECONNRESET);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 0), -ECONNRESET);
	ck_assert_int_eq(xv_xs_raw_watch(r, "@releaseDomain", "u"), -ECONNRESET);
	ck_assert_int_eq(xv_xs_raw_drain(r), -ECONNRESET);
	xv_xs_raw_close(r);
}
END_TEST

/* Publish the keys of the path after 100 ms, in one transaction. */
static void *publish_later(void *arg)
{
	struct xs_handle *h = arg;
	xs_transaction_t t;
	bool ok;

	usleep(100 * 1000);
	t = xs_transaction_start(h);
	ok = t != XBT_NULL &&
	     xs_write(h, t, "/local/domain/0/data/rawlk/ring-ref", "91", 2) &&
	     xs_write(h, t, "/local/domain/0/data/rawlk/event-channel", "92",
		      2) &&
	     xs_transaction_end(h, t, false);
	return ok ? NULL : (void *)1;
}

/*
 * A lookup that waits starts no thread; its watching connection stays until the handle is closed or the next lookup that
 * watches, and goes where the handle went, whatever the environment says
 * by then.
 */
START_TEST(test_a_waiting_lookup_starts_no_thread_and_keeps_one_descriptor)
{
	struct xs_handle *pub_h = writer();
	struct xv_xs *xs;
	pthread_t pub;
	uint32_t ref = 0, port = 0;
	void *res = (void *)2;
	struct xv_xs_raw *w;
	int threads;

	ck_assert_int_eq(xv_xs_open(&xs), 0);
	ck_assert_int_eq(setenv("XENSTORED_PATH", "/nonexistent", 1), 0);
	threads = xv_test_thread_count();
	ck_assert_int_eq(pthread_create(&pub, NULL, publish_later, pub_h), 0);
	ck_assert_int_eq(xv_xs_lookup(xs, "/local/domain/0/data/rawlk", 5000, -1,
				      &ref, &port), 0);
	ck_assert_int_eq(pthread_join(pub, &res), 0);
	ck_assert_ptr_null(res);
	ck_assert_uint_eq(ref, 91);
	ck_assert_uint_eq(port, 92);
	ck_assert_int_eq(xv_test_thread_count(), threads);
	w = xs->watcher;
	ck_assert_ptr_nonnull(w);
	/* Found at once: no watch, the last one's watcher stays; a lookup
	 * that watched and failed keeps none. */
	ck_assert_int_eq(xv_xs_lookup(xs, "/local/domain/0/data/rawlk", 0, -1,
				      &ref, &port), 0);
	ck_assert_ptr_eq(xs->watcher, w);
	ck_assert_int_eq(xv_xs_lookup(xs, "/local/domain/0/data/none", 100, -1,
				      &ref, &port), -ETIMEDOUT);
	ck_assert_ptr_null(xs->watcher);
	ck_assert_int_eq(xv_test_thread_count(), threads);
	xv_xs_close(xs);
	xs_close(pub_h);
}
END_TEST

static void *stop_later(void *arg)
{
	(void)arg;
	usleep(100 * 1000);
	xsd_fix_stop();
	return NULL;
}

static int64_t ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)(t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * A lookup waiting for ever hears xenstored go from its watcher's end of
 * file, not from the once-a-second look (1000 ms) it needed while the
 * watch was libxenstore's.
 */
START_TEST(test_a_waiting_lookup_ends_at_once_when_xenstored_goes)
{
	struct xv_xs *xs;
	struct timespec t0;
	pthread_t stopper;
	uint32_t ref = 0, port = 0;
	int rc;

	ck_assert_int_eq(setenv("XENSTORED_PATH", xsd_fix_sock(0), 1), 0);
	ck_assert_int_eq(xv_xs_open(&xs), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(pthread_create(&stopper, NULL, stop_later, NULL), 0);
	rc = xv_xs_lookup(xs, "/local/domain/0/data/never", -1, -1, &ref, &port);
	ck_assert_int_eq(pthread_join(stopper, NULL), 0);
	ck_assert_int_eq(rc, -ECONNRESET);
	ck_assert_int_lt(ms_since(&t0), 900);
	/* A later lookup fails the same way, at its first read. */
	ck_assert_int_eq(xv_xs_lookup(xs, "/local/domain/0/data/never", 100, -1,
				      &ref, &port), -ECONNRESET);
	xv_xs_close(xs);
}
END_TEST

/* ---- A scripted xenstored on a Unix socket ---- */

static char fake_dir[] = "/tmp/xv-test-xsfake-XXXXXX";
static char fake_path[128];
static int fake_listen = -1;

static void fake_start(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	strcpy(fake_dir, "/tmp/xv-test-xsfake-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fake_dir));
	snprintf(fake_path, sizeof(fake_path), "%s/socket", fake_dir);
	strcpy(a.sun_path, fake_path);
	fake_listen = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fake_listen, 0);
	ck_assert_int_eq(bind(fake_listen, (struct sockaddr *)&a, sizeof(a)),
			 0);
	ck_assert_int_eq(listen(fake_listen, 4), 0);
}

static void fake_stop(void)
{
	close(fake_listen);
	unlink(fake_path);
	rmdir(fake_dir);
}

/* A raw connection to the fake, and the fake's side of it. */
static struct xv_xs_raw *fake_conn(int *srv)
{
	struct xv_xs_raw *r = NULL;

	ck_assert_int_eq(xv_xs_raw_open(&r, fake_path, NULL), 0);
	*srv = accept(fake_listen, NULL, NULL);
	ck_assert_int_ge(*srv, 0);
	return r;
}

/* Append a message to @buf at *@off. */
static void put_msg(unsigned char *buf, size_t *off, uint32_t type,
		    uint32_t req_id, const void *payload, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = req_id, .len = len };

	memcpy(buf + *off, &h, sizeof(h));
	memcpy(buf + *off + sizeof(h), payload, len);
	*off += sizeof(h) + len;
}

struct dribble {
	int fd;
	const unsigned char *buf;
	size_t len;
	bool close_after;
};

/* Send a byte at a time, so that the reader sees partial messages. */
static void *dribble_out(void *arg)
{
	struct dribble *d = arg;
	size_t i;

	for (i = 0; i < d->len; i++) {
		if (write(d->fd, d->buf + i, 1) != 1)
			return (void *)1;
		usleep(200);
	}
	if (d->close_after)
		close(d->fd);
	return NULL;
}

/* Read the client's request: its header, checked, and its payload. */
static void expect_request(int srv, uint32_t type, uint32_t req_id,
			   const char *payload, uint32_t len)
{
	struct xsd_sockmsg h;
	char body[64];

	ck_assert_int_eq(read(srv, &h, sizeof(h)), sizeof(h));
	ck_assert_uint_eq(h.type, type);
	ck_assert_uint_eq(h.req_id, req_id);
	ck_assert_uint_eq(h.tx_id, 0);
	ck_assert_uint_eq(h.len, len);
	ck_assert_int_eq(read(srv, body, len), (ssize_t)len);
	ck_assert_mem_eq(body, payload, len);
}

START_TEST(test_partial_messages_make_whole_events_and_replies)
{
	static unsigned char buf[256];
	struct dribble d = { .buf = buf };
	struct xv_xs_raw *r = fake_conn(&d.fd);
	pthread_t t;
	size_t off = 0;

	put_msg(buf, &off, XS_WATCH_EVENT, 0, "/a\0tok", 7);
	put_msg(buf, &off, XS_WATCH_EVENT, 0, "/a\0tok", 7);
	put_msg(buf, &off, XS_IS_DOMAIN_INTRODUCED, 1, "F", 2);
	put_msg(buf, &off, XS_WATCH_EVENT, 0, "/a\0tok", 7);
	d.len = off;
	ck_assert_int_eq(pthread_create(&t, NULL, dribble_out, &d), 0);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 5), 0);
	expect_request(d.fd, XS_IS_DOMAIN_INTRODUCED, 1, "5", 2);
	pthread_join(t, NULL);
	/* The two before the reply were counted, the one after waits. */
	ck_assert(xv_xs_raw_pending(r));
	ck_assert_int_eq(readable_within(xv_xs_raw_fd(r), 0), 1);
	ck_assert_int_eq(xv_xs_raw_drain(r), 3);
	ck_assert_int_eq(xv_xs_raw_drain(r), 0);
	xv_xs_raw_close(r);
	close(d.fd);
}
END_TEST

START_TEST(test_an_end_in_the_middle_of_a_request_is_a_reset)
{
	static unsigned char buf[64];
	struct dribble d = { .buf = buf, .close_after = true };
	struct xv_xs_raw *r = fake_conn(&d.fd);
	pthread_t t;
	size_t off = 0;

	/* Half a reply, then the end. */
	put_msg(buf, &off, XS_IS_DOMAIN_INTRODUCED, 1, "T", 2);
	d.len = off - 3;
	ck_assert_int_eq(pthread_create(&t, NULL, dribble_out, &d), 0);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 5), -ECONNRESET);
	pthread_join(t, NULL);
	ck_assert_int_eq(xv_xs_raw_drain(r), -ECONNRESET);
	xv_xs_raw_close(r);
}
END_TEST

/* Error names map as libxenstore maps them; an unknown one is EINVAL. */
START_TEST(test_error_replies_are_their_errno)
{
	static unsigned char buf[256];
	struct xv_xs_raw *r;
	size_t off = 0;
	int srv;

	r = fake_conn(&srv);
	put_msg(buf, &off, XS_ERROR, 1, "ENOSPC", 7);
	put_msg(buf, &off, XS_ERROR, 2, "E2BIG", 6);
	put_msg(buf, &off, XS_ERROR, 3, "EWHATEVER", 10);
	put_msg(buf, &off, XS_WATCH, 4, "OK", 3);
	put_msg(buf, &off, XS_IS_DOMAIN_INTRODUCED, 5, "T", 2);
	ck_assert_int_eq(write(srv, buf, off), (ssize_t)off);
	ck_assert_int_eq(xv_xs_raw_watch(r, "/p", "t"), -ENOSPC);
	ck_assert_int_eq(xv_xs_raw_watch(r, "/p", "t"), -E2BIG);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 1), -EINVAL);
	ck_assert_int_eq(xv_xs_raw_watch(r, "/p", "t"), 0);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 1), 1);
	expect_request(srv, XS_WATCH, 1, "/p\0t", 5);
	xv_xs_raw_close(r);
	close(srv);
}
END_TEST

struct bad_case {
	uint32_t type, req_id, len;
	const char *payload;
};

/* Each ends the connection with -EPROTO, for good. */
static const struct bad_case bad_cases[] = {
	/* Longer than any xenstored may send. */
	{ XS_IS_DOMAIN_INTRODUCED, 1, XENSTORE_PAYLOAD_MAX + 1, "" },
	/* The reply to another request. */
	{ XS_IS_DOMAIN_INTRODUCED, 7, 2, "T" },
	/* A reply of another type. */
	{ XS_READ, 1, 2, "T" },
	/* Neither T nor F. */
	{ XS_IS_DOMAIN_INTRODUCED, 1, 2, "X" },
	{ XS_IS_DOMAIN_INTRODUCED, 1, 2, "TT" },
	{ XS_IS_DOMAIN_INTRODUCED, 1, 0, "" },
	/* An error name without its NUL. */
	{ XS_ERROR, 1, 6, "EACCES" },
};

START_TEST(test_a_malformed_reply_is_a_protocol_error_for_good)
{
	const struct bad_case *c = &bad_cases[_i];
	struct xsd_sockmsg h = { .type = c->type, .req_id = c->req_id,
				 .len = c->len };
	unsigned char buf[64];
	struct xv_xs_raw *r;
	size_t n = sizeof(h);
	int srv;

	r = fake_conn(&srv);
	memcpy(buf, &h, sizeof(h));
	if (c->len <= 8) {
		memcpy(buf + n, c->payload, c->len);
		n += c->len;
	}
	ck_assert_int_eq(write(srv, buf, n), (ssize_t)n);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 1), -EPROTO);
	ck_assert_int_eq(xv_xs_raw_drain(r), -EPROTO);
	ck_assert_int_eq(xv_xs_raw_domain_introduced(r, 1), -EPROTO);
	xv_xs_raw_close(r);
	close(srv);
}
END_TEST

START_TEST(test_an_unasked_reply_in_a_drain_is_a_protocol_error)
{
	unsigned char buf[64];
	struct xv_xs_raw *r;
	size_t off = 0;
	int srv;

	r = fake_conn(&srv);
	put_msg(buf, &off, XS_WATCH_EVENT, 0, "/a\0t", 5);
	put_msg(buf, &off, XS_WATCH, 0, "OK", 3);
	ck_assert_int_eq(write(srv, buf, off), (ssize_t)off);
	ck_assert_int_eq(xv_xs_raw_drain(r), -EPROTO);
	ck_assert_int_eq(xv_xs_raw_drain(r), -EPROTO);
	xv_xs_raw_close(r);
	close(srv);
}
END_TEST

/* libxenstore 4.17's xs_open(0): $XENSTORED_PATH, else the socket under
 * $XENSTORED_RUNDIR; what is not there fails with its errno. */
START_TEST(test_open_goes_where_xs_open_goes)
{
	struct xv_xs_raw *r = NULL;
	int srv;

	ck_assert_int_eq(xv_xs_raw_open(&r, "/nonexistent/x", NULL), -ENOENT);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(xv_xs_raw_open(&r, NULL, fake_dir), 0);
	srv = accept(fake_listen, NULL, NULL);
	ck_assert_int_ge(srv, 0);
	xv_xs_raw_close(r);
	close(srv);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xs-raw");
	TCase *tc = tcase_create("sim");
	TCase *fk = tcase_create("fake");

	tcase_add_checked_fixture(tc, xsd_start, xsd_fix_stop);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_a_watch_fires_at_once_then_once_per_write);
	tcase_add_test(tc, test_dom0_hears_which_domains_are_introduced);
	tcase_add_test(tc,
		test_a_guest_is_refused_the_question_and_the_connection_lives);
	tcase_add_test(tc, test_the_release_watch_fires_for_dom0_once_per_release);
	tcase_add_test(tc, test_an_event_read_while_a_reply_is_awaited_is_kept);
	tcase_add_test(tc, test_a_lost_xenstored_is_a_reset_on_every_call);
	tcase_add_test(tc,
		test_a_waiting_lookup_starts_no_thread_and_keeps_one_descriptor);
	tcase_add_test(tc,
		test_a_waiting_lookup_ends_at_once_when_xenstored_goes);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(fk, fake_start, fake_stop);
	tcase_set_timeout(fk, 20);
	tcase_add_test(fk, test_partial_messages_make_whole_events_and_replies);
	tcase_add_test(fk, test_an_end_in_the_middle_of_a_request_is_a_reset);
	tcase_add_test(fk, test_error_replies_are_their_errno);
	tcase_add_loop_test(fk, test_a_malformed_reply_is_a_protocol_error_for_good,
			    0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(fk, test_an_unasked_reply_in_a_drain_is_a_protocol_error);
	tcase_add_test(fk, test_open_goes_where_xs_open_goes);
	suite_add_tcase(s, fk);
	return s;
}
