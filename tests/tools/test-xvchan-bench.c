/*
 * xvchan-bench: its command line, and a --smoke run on its own private
 * simulator whose JSON must be well-formed and hold one complete, sane
 * record for every transport and every test.
 */
#define _GNU_SOURCE

#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "test-common.h"

#define WAIT_MS 100000

static const char *const transports[] = {
	"xvchan", "xvchan-nospin", "libxenvchan", "socketpair", "pipe",
};
static const char *const tests[] = { "stream", "pingpong", "connect", "idle" };

#define NT (sizeof(transports) / sizeof(transports[0]))
#define NTEST (sizeof(tests) / sizeof(tests[0]))

static char dir[] = "/tmp/xv-test-bench-XXXXXX";

static void dir_make(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void dir_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Run xvchan-bench with @args (NULL-terminated); stdout and stderr into
 * *out and *err.  Returns the exit status. */
static int bench_run(const char *const *args, char **out, char **err)
{
	return xv_run_capture("XVCHAN_BENCH", args, dir, WAIT_MS, out, err);
}

/* The smoke run's rounds (idle runs in the first only); odd, so that
 * "behind" and "ahead" never count alike. */
#define ROUNDS 3

/* One JSON record, as far as the checks need it. */
struct record {
	char transport[32], test[32], unit[8];
	double msg_size, ring_size, median, min, max, p99, cpu_s, ratio;
	double round_medians[ROUNDS + 1];
	int nround_medians, rounds, behind, reps;
	int has_p99, has_ratio, has_behind, ok;
	unsigned int seen;	/* bit per entry of required[] */
};

/* Every record has these, each of its own kind (none may be null). */
static const char *const required[] = {
	"transport", "test", "unit", "ok", "msg_size", "ring_size", "median",
	"min", "max", "cpu_s", "rounds", "round_medians",
};
#define NREQ (sizeof(required) / sizeof(required[0]))

/*
 * A strict little JSON reader for what the bench writes: an array of flat
 * objects whose values are strings, numbers, true, false or null.  Any
 * other shape fails the test.
 */
struct parser {
	const char *p;
};

static void ws(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static void expect(struct parser *ps, char c)
{
	ws(ps);
	ck_assert_msg(*ps->p == c, "JSON: expected '%c' at '%.20s'", c, ps->p);
	ps->p++;
}

static void string(struct parser *ps, char *out, size_t len)
{
	size_t n = 0;

	expect(ps, '"');
	while (*ps->p && *ps->p != '"') {
		ck_assert_msg(*ps->p != '\\' && (unsigned char)*ps->p >= 0x20,
			      "JSON: unexpected escape or control character");
		ck_assert_uint_lt(n + 1, len);
		out[n++] = *ps->p++;
	}
	out[n] = '\0';
	expect(ps, '"');
}

/* A value: returns 1 for a number (in *num), 2 for a string (in @s), 3 for
 * true, 4 for false, 0 for null. */
static int value(struct parser *ps, double *num, char *s, size_t len)
{
	char *end;

	ws(ps);
	if (*ps->p == '"') {
		string(ps, s, len);
		return 2;
	}
	if (!strncmp(ps->p, "true", 4)) {
		ps->p += 4;
		return 3;
	}
	if (!strncmp(ps->p, "false", 5)) {
		ps->p += 5;
		return 4;
	}
	if (!strncmp(ps->p, "null", 4)) {
		ps->p += 4;
		return 0;
	}
	/* JSON numbers: no leading '+', no hex, no inf or nan. */
	ck_assert_msg(*ps->p == '-' || isdigit((unsigned char)*ps->p),
		      "JSON: bad value at '%.20s'", ps->p);
	*num = strtod(ps->p, &end);
	ck_assert_ptr_ne(end, ps->p);
	ck_assert(isfinite(*num));
	ps->p = end;
	return 1;
}

/* An array of numbers, into @r->round_medians. */
static void numbers(struct parser *ps, struct record *r)
{
	expect(ps, '[');
	ws(ps);
	if (*ps->p == ']') {
		ps->p++;
		return;
	}
	for (;;) {
		char s[8];

		ck_assert_int_lt(r->nround_medians, ROUNDS + 1);
		ck_assert_int_eq(value(ps, &r->round_medians[r->nround_medians],
				       s, sizeof(s)), 1);
		r->nround_medians++;
		ws(ps);
		if (*ps->p != ',')
			break;
		ps->p++;
	}
	expect(ps, ']');
}

/* A name the bench wrote, into a field that must hold it whole. */
static void copy_name(char *out, size_t len, const char *s)
{
	size_t n = strlen(s);

	ck_assert_msg(n < len, "JSON: '%s' is too long", s);
	memcpy(out, s, n + 1);
}

static void object(struct parser *ps, struct record *r)
{
	memset(r, 0, sizeof(*r));
	expect(ps, '{');
	for (;;) {
		char key[32], s[64] = "";
		double num = NAN;
		int kind;
		size_t i;

		string(ps, key, sizeof(key));
		expect(ps, ':');
		ws(ps);
		if (!strcmp(key, "round_medians") && *ps->p == '[') {
			numbers(ps, r);
			kind = 6;	/* an array */
		} else {
			kind = value(ps, &num, s, sizeof(s));
		}
		for (i = 0; i < NREQ; i++)
			if (!strcmp(key, required[i]) && kind != 0) {
				ck_assert_msg(!(r->seen & (1u << i)),
					      "JSON: %s twice", key);
				r->seen |= 1u << i;
			}
		if (!strcmp(key, "transport") && kind == 2)
			copy_name(r->transport, sizeof(r->transport), s);
		else if (!strcmp(key, "test") && kind == 2)
			copy_name(r->test, sizeof(r->test), s);
		else if (!strcmp(key, "unit") && kind == 2)
			copy_name(r->unit, sizeof(r->unit), s);
		else if (!strcmp(key, "ok"))
			r->ok = kind == 3;
		else if (kind == 1 && !strcmp(key, "msg_size"))
			r->msg_size = num;
		else if (kind == 1 && !strcmp(key, "ring_size"))
			r->ring_size = num;
		else if (kind == 1 && !strcmp(key, "median"))
			r->median = num;
		else if (kind == 1 && !strcmp(key, "min"))
			r->min = num;
		else if (kind == 1 && !strcmp(key, "max"))
			r->max = num;
		else if (kind == 1 && !strcmp(key, "cpu_s"))
			r->cpu_s = num;
		else if (kind == 1 && !strcmp(key, "rounds"))
			r->rounds = (int)num;
		else if (kind == 1 && !strcmp(key, "reps"))
			r->reps = (int)num;
		else if (kind == 1 && !strcmp(key, "rounds_behind_libxenvchan")) {
			r->behind = (int)num;
			r->has_behind = 1;
		}
		else if (kind == 1 && !strcmp(key, "p99")) {
			r->p99 = num;
			r->has_p99 = 1;
		} else if (kind == 1 && !strcmp(key, "ratio_vs_libxenvchan")) {
			r->ratio = num;
			r->has_ratio = 1;
		}
		ws(ps);
		if (*ps->p != ',')
			break;
		ps->p++;
	}
	expect(ps, '}');
}

/* Parse the whole file; returns the number of records put in @r. */
static size_t parse(const char *text, struct record *r, size_t max)
{
	struct parser ps = { text };
	size_t n = 0;

	expect(&ps, '[');
	ws(&ps);
	if (*ps.p == ']') {
		ps.p++;
	} else {
		for (;;) {
			ck_assert_uint_lt(n, max);
			object(&ps, &r[n++]);
			ws(&ps);
			if (*ps.p != ',')
				break;
			ps.p++;
		}
		expect(&ps, ']');
	}
	ws(&ps);
	ck_assert_msg(*ps.p == '\0', "JSON: trailing text '%.20s'", ps.p);
	return n;
}

static void check_record(const struct record *r)
{
	int vchan_lib = !strcmp(r->transport, "xvchan") ||
			!strcmp(r->transport, "xvchan-nospin");

	ck_assert_msg(r->ok, "%s %s failed", r->transport, r->test);
	ck_assert_msg(r->seen == (1u << NREQ) - 1,
		      "%s %s: required fields missing (seen %#x)",
		      r->transport, r->test, r->seen);
	ck_assert(r->min > 0 && r->min <= r->median && r->median <= r->max);
	ck_assert(r->cpu_s >= 0);
	if (!strcmp(r->test, "stream")) {
		ck_assert_str_eq(r->unit, "B/s");
		ck_assert(r->msg_size == 4096 && r->ring_size == 4096);
		/* Bytes per second: 4 KiB messages move far more than 1 KB/s
		 * anywhere this runs. */
		ck_assert(r->median > 1e3);
		ck_assert(r->cpu_s > 0);
	} else {
		ck_assert_str_eq(r->unit, "s");
		ck_assert(r->median < 10);
	}
	if (!strcmp(r->test, "pingpong")) {
		ck_assert(r->msg_size == 64);
		ck_assert(r->has_p99 && r->p99 >= r->median);
		ck_assert(r->cpu_s > 0);
	}
	if (strcmp(r->test, "idle") != 0)
		ck_assert_msg(r->has_ratio == vchan_lib,
			      "%s %s: ratio to libxenvchan %s", r->transport,
			      r->test, r->has_ratio ? "unexpected" : "missing");
	if (r->has_ratio)
		ck_assert(r->ratio > 0);
	/* A median per round, each inside the cell's range. */
	ck_assert_int_eq(r->rounds, strcmp(r->test, "idle") ? ROUNDS : 1);
	ck_assert_int_eq(r->nround_medians, r->rounds);
	for (int i = 0; i < r->rounds; i++)
		ck_assert(r->round_medians[i] >= r->min &&
			  r->round_medians[i] <= r->max);
	ck_assert_int_eq(r->has_behind, r->has_ratio);
}

/* @r (xvchan or xvchan-nospin) against libxenvchan's record @lx of the same
 * test: the rounds it was behind in, counted again from the medians. */
static void check_behind(const struct record *r, const struct record *lx)
{
	int behind = 0;

	for (int i = 0; i < r->rounds; i++)
		behind += !strcmp(r->test, "stream") ?
			  r->round_medians[i] < lx->round_medians[i] :
			  r->round_medians[i] > lx->round_medians[i];
	ck_assert_msg(r->behind == behind, "%s %s: behind in %d rounds, "
		      "the medians say %d", r->transport, r->test, r->behind,
		      behind);
}

START_TEST(test_smoke_run_writes_one_complete_record_per_transport_and_test)
{
	char json[64], *out, *err, *text;
	struct record rec[64];
	const char *args[] = { "--smoke", "--rounds", "3", "--json", json,
			       NULL };
	size_t n, i, t, k;
	int fd;

	snprintf(json, sizeof(json), "%s/out.json", dir);
	ck_assert_int_eq(bench_run(args, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "Stream throughput"));
	ck_assert_ptr_nonnull(strstr(out, "Ping-pong"));
	ck_assert_ptr_nonnull(strstr(out, "Targets"));
	/* Progress goes to stderr, never into the table. */
	ck_assert_ptr_null(strstr(out, "..."));
	ck_assert_ptr_nonnull(strstr(err, "stream   xvchan "));

	fd = open(json, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	text = xv_run_read_all(fd, NULL);
	close(fd);
	n = parse(text, rec, 64);
	ck_assert_uint_eq(n, NT * NTEST);
	for (t = 0; t < NT; t++)
		for (k = 0; k < NTEST; k++) {
			int found = 0;

			for (i = 0; i < n; i++)
				if (!strcmp(rec[i].transport, transports[t]) &&
				    !strcmp(rec[i].test, tests[k])) {
					found++;
					check_record(&rec[i]);
				}
			ck_assert_msg(found == 1, "%s %s: %d records",
				      transports[t], tests[k], found);
		}
	for (i = 0; i < n; i++)
		for (k = 0; k < n && rec[i].has_behind; k++)
			if (!strcmp(rec[k].transport, "libxenvchan") &&
			    !strcmp(rec[k].test, rec[i].test))
				check_behind(&rec[i], &rec[k]);
	free(text);
	free(out);
	free(err);
}
END_TEST

/* A --smoke run with @args after "--smoke --json FILE" (NULL-terminated,
 * at most 8); its records into @rec (at most @max), their number
 * returned. */
static size_t smoke_records(const char *const *args, struct record *rec,
			    size_t max)
{
	char json[64], *out, *err, *text;
	const char *argv[12] = { "--smoke", "--json", json };
	size_t n = 3, got;
	int fd;

	snprintf(json, sizeof(json), "%s/out.json", dir);
	for (; *args && n < 11; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	ck_assert_msg(bench_run(argv, &out, &err) == 0, "bench failed: %s",
		      err);
	fd = open(json, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	text = xv_run_read_all(fd, NULL);
	close(fd);
	got = parse(text, rec, max);
	free(text);
	free(out);
	free(err);
	return got;
}

/* --smoke's default list has the idle test; an explicit --tests is the
 * whole list, also with --smoke. */
START_TEST(test_smoke_runs_only_the_tests_given)
{
	const char *args[] = { "--tests", "stream", "--transports", "pipe",
			       NULL };
	struct record rec[8];

	ck_assert_uint_eq(smoke_records(args, rec, 8), 1);
	ck_assert_str_eq(rec[0].transport, "pipe");
	ck_assert_str_eq(rec[0].test, "stream");
	ck_assert(rec[0].ok);
}
END_TEST

/* --reps is the number of timed repetitions, also when --rounds does not
 * divide it: 4 over 3 rounds is 2 + 1 + 1, not 2 in each. */
START_TEST(test_reps_are_exact_over_uneven_rounds)
{
	const char *args[] = { "--tests", "stream,connect", "--transports",
			       "pipe", "--reps", "4", "--rounds", "3", NULL };
	struct record rec[8];
	size_t i;

	ck_assert_uint_eq(smoke_records(args, rec, 8), 2);
	for (i = 0; i < 2; i++) {
		ck_assert_msg(rec[i].ok, "%s failed", rec[i].test);
		ck_assert_msg(rec[i].reps == 4, "%s: %d repetitions",
			      rec[i].test, rec[i].reps);
		ck_assert_int_eq(rec[i].rounds, 3);
	}
}
END_TEST

START_TEST(test_help_prints_usage_and_exits_zero)
{
	const char *args[] = { "--help", NULL };
	char *out, *err;

	ck_assert_int_eq(bench_run(args, &out, &err), 0);
	ck_assert_ptr_eq(strstr(out, "Usage: xvchan-bench"), out);
	ck_assert_ptr_nonnull(strstr(out, "--json FILE"));
	ck_assert_str_eq(err, "");
	free(out);
	free(err);
}
END_TEST

START_TEST(test_bad_options_exit_two_with_a_message)
{
	static const char *const bad[][10] = {
		{ "--frobnicate", NULL, NULL },
		{ "--reps", "0", NULL },
		{ "--reps", "101", NULL },
		{ "--transports", "xvchan,carrier-pigeon", NULL },
		{ "--tests", "stream,sleep", NULL },
		{ "--quick", "--smoke", NULL },
		/* Cheap should it ever run: one second, one transport. */
		{ "--idle", "--tests", "stream", "--transports", "pipe",
		  "--idle-seconds", "1", NULL },
		{ "--json", NULL, NULL },
		{ "--ring-size", "3000", NULL },
		{ "--msg-size", "0", NULL },
		/* Cheap should it ever run: --smoke, one test, one transport. */
		{ "--smoke", "--tests", "stream", "--transports", "pipe",
		  "--reps", "2", "--rounds", "3" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out, *err;

		ck_assert_int_eq(bench_run(bad[i], &out, &err), 2);
		ck_assert_str_eq(out, "");
		ck_assert_ptr_eq(strstr(err, "xvchan-bench: "), err);
		free(out);
		free(err);
	}
}
END_TEST

/* An empty list would run nothing: refused, saying which option. */
START_TEST(test_empty_lists_are_refused_with_the_reason)
{
	static const char *const bad[][3] = {
		{ "--transports", "", NULL },
		{ "--tests", ",,", NULL },
	};
	static const char *const says[] = {
		"xvchan-bench: empty list for --transports\n"
		"Try 'xvchan-bench --help'.\n",
		"xvchan-bench: empty list for --tests\n"
		"Try 'xvchan-bench --help'.\n",
	};
	size_t i;

	for (i = 0; i < 2; i++) {
		char *out, *err;

		ck_assert_int_eq(bench_run(bad[i], &out, &err), 2);
		ck_assert_str_eq(out, "");
		ck_assert_str_eq(err, says[i]);
		free(out);
		free(err);
	}
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("xvchan-bench");
	TCase *tc = tcase_create("bench");

	tcase_add_checked_fixture(tc, dir_make, dir_remove);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_help_prints_usage_and_exits_zero);
	tcase_add_test(tc, test_bad_options_exit_two_with_a_message);
	tcase_add_test(tc, test_empty_lists_are_refused_with_the_reason);
	tcase_add_test(tc, test_smoke_run_writes_one_complete_record_per_transport_and_test);
	tcase_add_test(tc, test_smoke_runs_only_the_tests_given);
	tcase_add_test(tc, test_reps_are_exact_over_uneven_rounds);
	suite_add_tcase(s, tc);
	return s;
}
