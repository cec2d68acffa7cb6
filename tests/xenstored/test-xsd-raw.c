/* xenstored against raw bytes on its socket: unknown types, malformed,
 * truncated and oversized messages, garbage and clients that never read;
 * each gets an error reply or loses its connection, and the store keeps
 * serving everybody else. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test-common.h"
#include "xsd-fixture.h"

static void send_msg(int fd, uint32_t type, uint32_t req_id, uint32_t tx_id,
		     const void *body, uint32_t len)
{
	struct xsd_sockmsg hdr = {
		.type = type, .req_id = req_id, .tx_id = tx_id, .len = len,
	};

	ck_assert_int_eq(send(fd, &hdr, sizeof(hdr), MSG_NOSIGNAL),
			 sizeof(hdr));
	if (len)
		ck_assert_int_eq(send(fd, body, len, MSG_NOSIGNAL), len);
}

/* Read exactly @len bytes within 2 s; returns bytes read (less on EOF). */
static size_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		ck_assert_int_eq(poll(&p, 1, 2000), 1);
		r = read(fd, (char *)buf + got, len - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static void recv_msg(int fd, struct xsd_sockmsg *hdr, char *body)
{
	ck_assert_uint_eq(read_full(fd, hdr, sizeof(*hdr)), sizeof(*hdr));
	ck_assert_uint_le(hdr->len, XENSTORE_PAYLOAD_MAX);
	ck_assert_uint_eq(read_full(fd, body, hdr->len), hdr->len);
	body[hdr->len] = '\0';
}

/* Start a transaction with request @req_id; returns its id. */
static uint32_t start_txn(int fd, uint32_t req_id)
{
	struct xsd_sockmsg hdr;
	char body[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t id;

	send_msg(fd, XS_TRANSACTION_START, req_id, 0, "", 1);
	recv_msg(fd, &hdr, body);
	ck_assert_uint_eq(hdr.type, XS_TRANSACTION_START);
	id = (uint32_t)strtoul(body, NULL, 10);
	ck_assert_uint_ne(id, 0);
	return id;
}

static void expect_error(int fd, uint32_t req_id, const char *name)
{
	struct xsd_sockmsg hdr;
	char body[XENSTORE_PAYLOAD_MAX + 1];

	recv_msg(fd, &hdr, body);
	ck_assert_uint_eq(hdr.type, XS_ERROR);
	ck_assert_uint_eq(hdr.req_id, req_id);
	ck_assert_uint_eq(hdr.len, strlen(name) + 1);
	ck_assert_str_eq(body, name);
}

/* The peer closed: EOF (after whatever was already queued) in 2 s. */
static void expect_dropped(int fd)
{
	char buf[65536];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		ck_assert_int_eq(poll(&p, 1, 2000), 1);
		r = read(fd, buf, sizeof(buf));
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return;
		ck_assert_int_gt(r, 0);
	}
}

/* Another client still gets a correct answer. */
static void expect_store_serves(void)
{
	struct xs_handle *h = xsd_fix_open(0);
	unsigned int len;
	char *v = xs_read(h, XBT_NULL, "/local/domain/1/domid", &len);

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "1");
	free(v);
	xs_close(h);
}

START_TEST(test_unknown_types_get_enosys_and_the_connection_lives)
{
	int fd = xsd_fix_raw(1);
	struct xsd_sockmsg hdr;
	char body[XENSTORE_PAYLOAD_MAX + 1];
	static const uint32_t types[] = {
		XS_TYPE_COUNT, 999, XS_INVALID, 0xffffffffu, XS_WATCH_EVENT,
		XS_ERROR, XS_SET_TARGET + 1,
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		send_msg(fd, types[i], (uint32_t)(100 + i), 0, "x", 2);
		expect_error(fd, (uint32_t)(100 + i), "ENOSYS");
	}
	/* Toolstack requests are not a guest's to make. */
	send_msg(fd, XS_INTRODUCE, 7, 0, "3\0" "1\0" "1", 6);
	expect_error(fd, 7, "EACCES");
	send_msg(fd, XS_IS_DOMAIN_INTRODUCED, 9, 0, "1", 2);
	expect_error(fd, 9, "EACCES");
	/* Privilege is checked before the transaction id. */
	send_msg(fd, XS_CONTROL, 10, 4242, "x", 2);
	expect_error(fd, 10, "EACCES");
	send_msg(fd, XS_READ, 8, 0, "domid", 6);
	recv_msg(fd, &hdr, body);
	ck_assert_uint_eq(hdr.type, XS_READ);
	ck_assert_uint_eq(hdr.req_id, 8);
	ck_assert_uint_eq(hdr.len, 1);
	ck_assert_str_eq(body, "1");
	close(fd);
}
END_TEST

START_TEST(test_malformed_arguments_get_einval)
{
	int fd = xsd_fix_raw(0);
	struct xsd_sockmsg hdr;
	char body[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t id;

	/* No terminating nul. */
	send_msg(fd, XS_READ, 1, 0, "/tool", 5);
	expect_error(fd, 1, "EINVAL");
	/* Two strings where one is expected. */
	send_msg(fd, XS_READ, 2, 0, "/tool\0/x", 9);
	expect_error(fd, 2, "EINVAL");
	/* Empty payloads. */
	send_msg(fd, XS_READ, 3, 0, NULL, 0);
	expect_error(fd, 3, "EINVAL");
	send_msg(fd, XS_WRITE, 4, 0, "/tool/no-nul", 12);
	expect_error(fd, 4, "EINVAL");
	send_msg(fd, XS_WATCH, 5, 0, "/tool", 6);
	expect_error(fd, 5, "EINVAL");
	send_msg(fd, XS_TRANSACTION_END, 6, 0, "T", 2);
	expect_error(fd, 6, "ENOENT");
	send_msg(fd, XS_GET_DOMAIN_PATH, 7, 0, "x1", 3);
	expect_error(fd, 7, "EINVAL");
	send_msg(fd, XS_DIRECTORY_PART, 8, 0, "/tool\0z", 8);
	expect_error(fd, 8, "EINVAL");
	/* Unknown transaction, then a nested start. */
	send_msg(fd, XS_TRANSACTION_START, 9, 77, "", 1);
	expect_error(fd, 9, "ENOENT");
	id = start_txn(fd, 10);
	send_msg(fd, XS_TRANSACTION_START, 11, id, "", 1);
	expect_error(fd, 11, "EBUSY");
	/* WATCH ignores the transaction id, as in xenstored. */
	send_msg(fd, XS_WATCH, 12, 999, "/tool\0w", 8);
	recv_msg(fd, &hdr, body);
	ck_assert_uint_eq(hdr.type, XS_WATCH);
	ck_assert_uint_eq(hdr.req_id, 12);
	close(fd);
	expect_store_serves();
}
END_TEST

START_TEST(test_largest_permission_lists_round_trip_or_get_einval)
{
	int fd = xsd_fix_raw(0);
	struct xsd_sockmsg hdr;
	static char body[XENSTORE_PAYLOAD_MAX];
	char reply[XENSTORE_PAYLOAD_MAX + 1];
	size_t len = 6;

	/* "/tool" then 1363 x "r7": 6 + 4089 bytes, all in one payload. */
	memcpy(body, "/tool", 6);
	while (len + 3 <= sizeof(body)) {
		memcpy(body + len, "r7", 3);
		len += 3;
	}
	send_msg(fd, XS_SET_PERMS, 1, 0, body, (uint32_t)len);
	recv_msg(fd, &hdr, reply);
	ck_assert_uint_eq(hdr.type, XS_SET_PERMS);
	send_msg(fd, XS_GET_PERMS, 2, 0, "/tool", 6);
	recv_msg(fd, &hdr, reply);
	ck_assert_uint_eq(hdr.type, XS_GET_PERMS);
	ck_assert_uint_eq(hdr.len, len - 6);
	ck_assert_mem_eq(reply, body + 6, len - 6);
	/* Thousands of empty strings are no permission list. */
	memset(body + 6, 0, sizeof(body) - 6);
	send_msg(fd, XS_SET_PERMS, 3, 0, body, sizeof(body));
	expect_error(fd, 3, "EINVAL");
	close(fd);
}
END_TEST

START_TEST(test_pipelined_requests_are_answered_in_order)
{
	int fd = xsd_fix_raw(0);
	struct xsd_sockmsg hdr;
	char body[XENSTORE_PAYLOAD_MAX + 1];
	char burst[3 * (sizeof(hdr) + 8)];
	size_t off = 0;

	for (uint32_t i = 0; i < 3; i++) {
		hdr = (struct xsd_sockmsg){ .type = XS_WRITE, .req_id = 40 + i,
					    .len = 8 };
		memcpy(burst + off, &hdr, sizeof(hdr));
		memcpy(burst + off + sizeof(hdr), "/tool/p", 8);
		off += sizeof(hdr) + 8;
	}
	ck_assert_int_eq(write(fd, burst, off), off);
	for (uint32_t i = 0; i < 3; i++) {
		recv_msg(fd, &hdr, body);
		ck_assert_uint_eq(hdr.type, XS_WRITE);
		ck_assert_uint_eq(hdr.req_id, 40 + i);
		ck_assert_str_eq(body, "OK");
	}
	close(fd);
}
END_TEST

START_TEST(test_oversized_length_drops_the_connection)
{
	int fd = xsd_fix_raw(2);
	struct xsd_sockmsg hdr = {
		.type = XS_WRITE, .req_id = 1, .len = XENSTORE_PAYLOAD_MAX + 1,
	};

	ck_assert_int_eq(write(fd, &hdr, sizeof(hdr)), sizeof(hdr));
	expect_dropped(fd);
	close(fd);
	fd = xsd_fix_raw(2);
	hdr.len = 0xffffffffu;
	ck_assert_int_eq(write(fd, &hdr, sizeof(hdr)), sizeof(hdr));
	expect_dropped(fd);
	close(fd);
	expect_store_serves();
}
END_TEST

START_TEST(test_payload_at_the_limit_is_served)
{
	int fd = xsd_fix_raw(0);
	static char body[XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg hdr;
	char reply[XENSTORE_PAYLOAD_MAX + 1];

	memcpy(body, "/tool/full", 11);
	memset(body + 11, 'f', sizeof(body) - 11);
	send_msg(fd, XS_WRITE, 1, 0, body, sizeof(body));
	recv_msg(fd, &hdr, reply);
	ck_assert_uint_eq(hdr.type, XS_WRITE);
	send_msg(fd, XS_READ, 2, 0, "/tool/full", 11);
	recv_msg(fd, &hdr, reply);
	ck_assert_uint_eq(hdr.type, XS_READ);
	ck_assert_uint_eq(hdr.len, sizeof(body) - 11);
	ck_assert_mem_eq(reply, body + 11, hdr.len);
	close(fd);
}
END_TEST

START_TEST(test_truncated_messages_do_not_stall_the_store)
{
	struct xsd_sockmsg hdr = { .type = XS_WRITE, .req_id = 1, .len = 100 };
	int half_hdr = xsd_fix_raw(1);
	int half_body = xsd_fix_raw(1);

	/* Half a header and half a body, left hanging, then closed. */
	ck_assert_int_eq(write(half_hdr, &hdr, 8), 8);
	ck_assert_int_eq(write(half_body, &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_int_eq(write(half_body, "data/x\0abc", 10), 10);
	expect_store_serves();
	close(half_hdr);
	close(half_body);
	expect_store_serves();
}
END_TEST

START_TEST(test_garbage_gets_errors_or_a_drop)
{
	int fd = xsd_fix_raw(1);
	unsigned char junk[4096];
	unsigned int seed = 12345;
	char buf[65536];
	bool closed = false;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)rand_r(&seed);
	ck_assert_int_eq(send(fd, junk, sizeof(junk), MSG_NOSIGNAL),
			 sizeof(junk));
	shutdown(fd, SHUT_WR);
	/* Whatever comes back, the server must end this stream. */
	while (!closed) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		ck_assert_int_eq(poll(&p, 1, 2000), 1);
		r = read(fd, buf, sizeof(buf));
		closed = r == 0 || (r < 0 && errno == ECONNRESET);
	}
	close(fd);
	expect_store_serves();
}
END_TEST

START_TEST(test_client_that_never_reads_is_dropped_not_waited_for)
{
	struct xs_handle *h = xsd_fix_open(0);
	int lazy = xsd_fix_raw(0);
	static char body[2 + 4000];

	/* A watch on "/" with a 4000-byte token: every write sends the lazy
	 * client about 4 KiB it will never read. */
	memcpy(body, "/", 2);
	memset(body + 2, 't', sizeof(body) - 3);
	body[sizeof(body) - 1] = '\0';
	send_msg(lazy, XS_WATCH, 1, 0, body, sizeof(body));
	for (int i = 0; i < 600; i++)
		ck_assert(xs_write(h, XBT_NULL, "/tool/spam", "", 0));
	/* 2.4 MB of events cannot all be queued: the client is gone. */
	expect_dropped(lazy);
	close(lazy);
	xs_close(h);
	expect_store_serves();
}
END_TEST

/* A node "/tool/<@fill x @n>" written by dom0 through libxenstore. */
static void write_tool_node(struct xs_handle *h, char fill, size_t n)
{
	char path[128] = "/tool/";

	ck_assert_uint_lt(6 + n, sizeof(path));
	memset(path + 6, fill, n);
	path[6 + n] = '\0';
	ck_assert(xs_write(h, XBT_NULL, path, "", 0));
}

/*
 * An event longer than the protocol allows (path, token and their NULs
 * over XENSTORE_PAYLOAD_MAX) would break the stream for its reader:
 * libxenstore drops the connection with E2BIG.  xenstored 4.17's
 * send_event() drops such an event; one byte shorter still goes out.
 */
START_TEST(test_an_event_too_long_for_the_protocol_is_dropped)
{
	struct xs_handle *h = xsd_fix_open(0);
	int fd = xsd_fix_raw(0);
	static char body[2 + 4000 + 1];
	char reply[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg hdr;

	memcpy(body, "/", 2);
	memset(body + 2, 't', 4000);
	body[sizeof(body) - 1] = '\0';
	send_msg(fd, XS_WATCH, 1, 0, body, sizeof(body));
	recv_msg(fd, &hdr, reply);
	ck_assert_uint_eq(hdr.type, XS_WATCH);
	recv_msg(fd, &hdr, reply);
	ck_assert_uint_eq(hdr.type, XS_WATCH_EVENT);
	/* 6 + 89 bytes of path, its NUL and 4001 of token: 4097. */
	write_tool_node(h, 'l', 89);
	/* 4096: the most the protocol carries. */
	write_tool_node(h, 's', 88);
	send_msg(fd, XS_READ, 2, 0, "/tool", 6);
	/* recv_msg() fails on a message over XENSTORE_PAYLOAD_MAX. */
	recv_msg(fd, &hdr, reply);
	ck_assert_uint_eq(hdr.type, XS_WATCH_EVENT);
	ck_assert_uint_eq(hdr.len, XENSTORE_PAYLOAD_MAX);
	ck_assert_uint_eq(reply[6], 's');
	/* The connection goes on: the read's reply comes next. */
	recv_msg(fd, &hdr, reply);
	ck_assert_uint_eq(hdr.type, XS_READ);
	ck_assert_uint_eq(hdr.req_id, 2);
	close(fd);
	xs_close(h);
}
END_TEST

START_TEST(test_closing_with_open_transactions_and_watches_is_clean)
{
	int fd = xsd_fix_raw(1);
	struct xsd_sockmsg hdr;
	char body[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t id;

	id = start_txn(fd, 1);
	send_msg(fd, XS_WRITE, 2, id, "data/t\0v", 8);
	recv_msg(fd, &hdr, body);
	ck_assert_uint_eq(hdr.type, XS_WRITE);
	ck_assert_uint_eq(hdr.tx_id, id);
	send_msg(fd, XS_WATCH, 3, 0, "data\0w", 7);
	recv_msg(fd, &hdr, body);
	ck_assert_uint_eq(hdr.type, XS_WATCH);
	close(fd);
	expect_store_serves();
	{
		struct xs_handle *h = xsd_fix_open(1);
		unsigned int len;

		XSD_FAILS(xs_read(h, XBT_NULL, "data/t", &len), ENOENT);
		xs_close(h);
	}
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xsd-raw");
	TCase *tc = tcase_create("raw");

	tcase_add_checked_fixture(tc, xsd_fix_start, xsd_fix_stop);
	tcase_set_timeout(tc, 15);
	tcase_add_test(tc, test_unknown_types_get_enosys_and_the_connection_lives);
	tcase_add_test(tc, test_malformed_arguments_get_einval);
	tcase_add_test(tc, test_largest_permission_lists_round_trip_or_get_einval);
	tcase_add_test(tc, test_pipelined_requests_are_answered_in_order);
	tcase_add_test(tc, test_oversized_length_drops_the_connection);
	tcase_add_test(tc, test_payload_at_the_limit_is_served);
	tcase_add_test(tc, test_truncated_messages_do_not_stall_the_store);
	tcase_add_test(tc, test_garbage_gets_errors_or_a_drop);
	tcase_add_test(tc, test_client_that_never_reads_is_dropped_not_waited_for);
	tcase_add_test(tc, test_closing_with_open_transactions_and_watches_is_clean);
	tcase_add_test(tc, test_an_event_too_long_for_the_protocol_is_dropped);
	suite_add_tcase(s, tc);
	return s;
}
