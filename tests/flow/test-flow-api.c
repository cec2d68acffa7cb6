/*
 * The flow API's checks that need no Xen at all: configuration defaults,
 * arguments refused before any grant, event channel or xenstore call, and
 * the message of every error code the API returns.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "test-common.h"
#include "xvchan.h"

START_TEST(test_config_init_sets_documented_defaults)
{
	struct xvchan_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	xvchan_config_init(&cfg);
	ck_assert_uint_eq(cfg.flags, 0);
	ck_assert_int_eq(cfg.connect_timeout_ms, -1);
	ck_assert_int_eq(cfg.close_timeout_ms, 5000);
	ck_assert_int_eq(cfg.io_timeout_ms, -1);
	ck_assert_uint_eq(cfg.spin_us, 200);
	ck_assert_ptr_null(cfg.path);
	ck_assert_int_eq(cfg.cancel_fd, -1);
	for (size_t i = 0; i < sizeof(cfg.reserved) / sizeof(cfg.reserved[0]);
	     i++)
		ck_assert_uint_eq(cfg.reserved[i], 0);
}
END_TEST

/*
 * The struct is passed by callers compiled against an older header: its
 * size and its fields' places are the ABI. A change here must be made on
 * purpose (a new option takes reserved space; anything else is a soname
 * bump). The numbers are those of LP64 (x86-64, arm64).
 */
#if UINTPTR_MAX == UINT64_MAX && UINT_MAX == UINT32_MAX
START_TEST(test_config_layout_is_fixed_on_lp64)
{
	ck_assert_uint_eq(sizeof(struct xvchan_config), 88);
	ck_assert_uint_eq(offsetof(struct xvchan_config, flags), 0);
	ck_assert_uint_eq(offsetof(struct xvchan_config, connect_timeout_ms),
			  4);
	ck_assert_uint_eq(offsetof(struct xvchan_config, close_timeout_ms), 8);
	ck_assert_uint_eq(offsetof(struct xvchan_config, io_timeout_ms), 12);
	ck_assert_uint_eq(offsetof(struct xvchan_config, spin_us), 16);
	ck_assert_uint_eq(offsetof(struct xvchan_config, path), 24);
	ck_assert_uint_eq(offsetof(struct xvchan_config, cancel_fd), 32);
	ck_assert_uint_eq(offsetof(struct xvchan_config, reserved), 40);
}
END_TEST
#endif

/* Refused before anything is opened or published, for either role, in
 * each reserved word. */
START_TEST(test_nonzero_reserved_config_words_are_refused)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	size_t i;

	for (i = 0; i < sizeof(cfg.reserved) / sizeof(cfg.reserved[0]); i++) {
		xvchan_config_init(&cfg);
		cfg.reserved[i] = 1;
		ck_assert_int_eq(xvchan_client(&x, 1, "p", &cfg), -EINVAL);
		ck_assert_int_eq(xvchan_server(&x, 2, "p", 1024, 1024, &cfg),
				 -EINVAL);
	}
	ck_assert_ptr_null(x);
}
END_TEST

START_TEST(test_server_refuses_bad_ring_sizes)
{
	struct xvchan *x = (struct xvchan *)&x;

	ck_assert_int_eq(xvchan_server(&x, 2, "p", 0, 1024, NULL), -EINVAL);
	ck_assert_int_eq(xvchan_server(&x, 2, "p", 1024, 0, NULL), -EINVAL);
	ck_assert_int_eq(xvchan_server(&x, 2, "p", XVCHAN_RING_MAX + 1, 1024,
				       NULL), -EINVAL);
	ck_assert_int_eq(xvchan_server(&x, 2, "p", 1024, SIZE_MAX, NULL),
			 -EINVAL);
	/* The out parameter is untouched on error. */
	ck_assert_ptr_eq(x, (struct xvchan *)&x);
}
END_TEST

START_TEST(test_server_and_client_refuse_bad_port_names)
{
	static const char *const bad[] = {
		"", "a/b", "a b", "port.1", "caf\xc3\xa9", "x:y", "@watch",
	};
	struct xvchan *x = NULL;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(xvchan_server(&x, 2, bad[i], 1024, 1024,
					       NULL), -EINVAL);
		ck_assert_int_eq(xvchan_client(&x, 1, bad[i], NULL), -EINVAL);
	}
	ck_assert_int_eq(xvchan_server(&x, 2, NULL, 1024, 1024, NULL),
			 -EINVAL);
	ck_assert_int_eq(xvchan_client(&x, 1, NULL, NULL), -EINVAL);
	ck_assert_ptr_null(x);
}
END_TEST

START_TEST(test_port_name_longer_than_the_xenstore_limit_is_refused)
{
	static char port[4096];
	struct xvchan *x = NULL;

	memset(port, 'a', sizeof(port) - 1);
	ck_assert_int_eq(xvchan_client(&x, 1, port, NULL), -EINVAL);
	ck_assert_int_eq(xvchan_server(&x, 2, port, 1024, 1024, NULL),
			 -EINVAL);
}
END_TEST

START_TEST(test_out_of_range_domids_are_refused)
{
	struct xvchan *x = NULL;

	ck_assert_int_eq(xvchan_server(&x, XVCHAN_DOMID_MAX + 1, "p", 1024,
				       1024, NULL), -EINVAL);
	ck_assert_int_eq(xvchan_server(&x, 0x7ff2 /* DOMID_SELF */, "p",
				       1024, 1024, NULL), -EINVAL);
	ck_assert_int_eq(xvchan_client(&x, XVCHAN_DOMID_MAX + 1, "p", NULL),
			 -EINVAL);
	ck_assert_int_eq(xvchan_client(&x, UINT32_MAX, "p", NULL), -EINVAL);
}
END_TEST

START_TEST(test_unknown_flags_and_bad_explicit_paths_are_refused)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;

	xvchan_config_init(&cfg);
	cfg.flags = 1u << 7;
	ck_assert_int_eq(xvchan_client(&x, 1, "p", &cfg), -EINVAL);
	ck_assert_int_eq(xvchan_server(&x, 2, "p", 1024, 1024, &cfg),
			 -EINVAL);
	xvchan_config_init(&cfg);
	cfg.path = "/local/domain/1/data//x";
	ck_assert_int_eq(xvchan_client(&x, 1, NULL, &cfg), -EINVAL);
	cfg.path = "";
	ck_assert_int_eq(xvchan_server(&x, 2, NULL, 1024, 1024, &cfg),
			 -EINVAL);
}
END_TEST

START_TEST(test_null_arguments_are_refused)
{
	char buf[8];
	size_t r;

	ck_assert_int_eq(xvchan_server(NULL, 2, "p", 1024, 1024, NULL),
			 -EINVAL);
	ck_assert_int_eq(xvchan_client(NULL, 1, "p", NULL), -EINVAL);
	ck_assert_int_eq(xvchan_read(NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(xvchan_write(NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(xvchan_writev(NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(xvchan_shutdown(NULL), -EINVAL);
	ck_assert_int_eq(xvchan_fd(NULL), -EINVAL);
	ck_assert_int_eq(xvchan_ring_sizes(NULL, &r, &r), -EINVAL);
	ck_assert_int_eq(xvchan_describe(NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(xvchan_close(NULL), 0);
}
END_TEST

START_TEST(test_strerror_words_every_api_code_for_vchan)
{
	static const struct {
		int err;
		const char *text;
	} table[] = {
		{ 0, "success" },
		{ -EINVAL, "invalid argument (port name, domid, ring size, "
			   "buffer or flag)" },
		{ -ENOMEM, "out of memory" },
		{ -ETIMEDOUT, "timed out waiting for the vchan peer" },
		{ -EADDRINUSE, "vchan port already published in xenstore" },
		{ -ECONNREFUSED, "vchan server is not waiting for a client" },
		{ -EAGAIN, "vchan would block (poll its fd and retry), or xenstore kept conflicting (retry later)" },
		{ -ECANCELED, "vchan wait cancelled through cancel_fd" },
		{ -EBADF, "bad file descriptor (cancel_fd not open?)" },
		{ -EPIPE, "peer closed the vchan" },
		{ -ESHUTDOWN, "vchan already shut down for writing on this "
			      "side" },
		{ -EPROTO, "peer violated the vchan protocol" },
		{ -EACCES, "permission denied by xenstore or the grant "
			   "table" },
		{ -ENOENT, "Xen interface or xenstore entry not found" },
		{ -ENODEV, "Xen device not available on this host" },
		{ -ENXIO, "Xen device not available on this host" },
		{ -ENOSPC, "out of grant or event-channel resources" },
		{ -EMFILE, "too many open files for event channel or "
			   "grants" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		ck_assert_str_eq(xvchan_strerror(table[i].err),
				 table[i].text);
		/* A positive code reads as its negation. */
		ck_assert_str_eq(xvchan_strerror(-table[i].err),
				 table[i].text);
	}
}
END_TEST

START_TEST(test_strerror_falls_back_to_libc_for_other_codes)
{
	ck_assert_str_eq(xvchan_strerror(-EXDEV), strerror(EXDEV));
	ck_assert_ptr_nonnull(xvchan_strerror(-100000));
	ck_assert_ptr_nonnull(xvchan_strerror(INT32_MIN + 1));
	/* The one code without a negation. */
	ck_assert_str_eq(xvchan_strerror(INT_MIN), "unknown error");
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("flow-api");
	TCase *tc = tcase_create("api");

	tcase_add_test(tc, test_config_init_sets_documented_defaults);
#if UINTPTR_MAX == UINT64_MAX && UINT_MAX == UINT32_MAX
	tcase_add_test(tc, test_config_layout_is_fixed_on_lp64);
#endif
	tcase_add_test(tc, test_nonzero_reserved_config_words_are_refused);
	tcase_add_test(tc, test_server_refuses_bad_ring_sizes);
	tcase_add_test(tc, test_server_and_client_refuse_bad_port_names);
	tcase_add_test(tc,
		test_port_name_longer_than_the_xenstore_limit_is_refused);
	tcase_add_test(tc, test_out_of_range_domids_are_refused);
	tcase_add_test(tc,
		test_unknown_flags_and_bad_explicit_paths_are_refused);
	tcase_add_test(tc, test_null_arguments_are_refused);
	tcase_add_test(tc, test_strerror_words_every_api_code_for_vchan);
	tcase_add_test(tc, test_strerror_falls_back_to_libc_for_other_codes);
	suite_add_tcase(s, tc);
	return s;
}
