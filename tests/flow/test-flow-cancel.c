/*
 * cancel_fd: a descriptor the caller makes readable to end an endpoint's
 * blocking waits with -ECANCELED. The server waiting for its client (and
 * its xenstore entry then removed), the client waiting for its server,
 * a read and a write asleep in two threads of one endpoint, close waiting
 * for its peer; a signalfd as the descriptor; calls that need no sleep
 * going on regardless; non-blocking mode not looking at it; bad values
 * refused at set-up.
 */
#include "flow-test.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <xenstore.h>

/*
 * libxenstore's commit, interposed for this test program and the domains
 * it forks (the library's call resolves to the executable's definition
 * first): while ft_failing_commits is not 0 (-1: all), a commit is
 * aborted and fails with EAGAIN, as xenstored ends a transaction that
 * conflicted with another writer. ft_failed_commits counts them.
 */
static int ft_failing_commits, ft_failed_commits;

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
	bool (*real)(struct xs_handle *, xs_transaction_t, bool) =
		(bool (*)(struct xs_handle *, xs_transaction_t, bool))
		dlsym(RTLD_NEXT, "xs_transaction_end");

	FT_ASSERT(real != NULL);
	if (abort || !ft_failing_commits)
		return real(h, t, abort);
	if (ft_failing_commits > 0)
		ft_failing_commits--;
	ft_failed_commits++;
	real(h, t, true);
	errno = EAGAIN;
	return false;
}

/* Makes @fd readable after @ms, from a thread of its own: the call under
 * test must already be asleep by then, and only the descriptor can wake
 * it (every other wait in these tests is unbounded or far longer). */
struct ft_later {
	int fd;
	int ms;
	pthread_t thread;
};

static void *ft_later_main(void *arg)
{
	struct ft_later *l = arg;
	uint64_t one = 1;

	usleep((useconds_t)l->ms * 1000);
	FT_EQ(write(l->fd, &one, sizeof(one)), sizeof(one));
	return NULL;
}

static void ft_cancel_later(struct ft_later *l, int fd, int ms)
{
	l->fd = fd;
	l->ms = ms;
	FT_EQ(pthread_create(&l->thread, NULL, ft_later_main, l), 0);
}

static void ft_join(struct ft_later *l)
{
	FT_EQ(pthread_join(l->thread, NULL), 0);
}

static int ft_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	FT_ASSERT(fd >= 0);
	return fd;
}

/* The defaults of flow-test.h, no connect timeout, and @cancel_fd. */
static void ft_cancel_config(struct xvchan_config *cfg, int cancel_fd)
{
	ft_config(cfg, 0);
	cfg->connect_timeout_ms = -1;
	cfg->cancel_fd = cancel_fd;
}

static void lonely_server(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	struct ft_later later;
	int efd = ft_eventfd();

	(void)arg;
	ft_cancel_config(&cfg, efd);
	ft_cancel_later(&later, efd, 200);
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "cancel-srv", 4096, 4096, &cfg),
	      -ECANCELED);
	FT_ASSERT(x == NULL);
	ft_join(&later);
	/* Its entry went with it: the same port can be served again
	 * (a left-over entry is -EADDRINUSE). */
	ft_config(&cfg, XVCHAN_NONBLOCK);
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "cancel-srv", 4096, 4096, &cfg),
	      0);
	FT_EQ(xvchan_close(x), 0);
	close(efd);
}

START_TEST(test_cancel_ends_a_server_waiting_for_its_client)
{
	FT_RUN_SIDE(FT_SERVER_DOM, lonely_server, NULL, FT_WAIT_MS);
}
END_TEST

static void lonely_client(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	struct ft_later later;
	int efd = ft_eventfd();

	(void)arg;
	ft_cancel_config(&cfg, efd);
	ft_cancel_later(&later, efd, 200);
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "cancel-none", &cfg),
	      -ECANCELED);
	FT_ASSERT(x == NULL);
	ft_join(&later);
	/* A non-blocking client waits for its server all the same, and
	 * the descriptor (still readable) ends that wait too. */
	cfg.flags = XVCHAN_NONBLOCK;
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "cancel-none", &cfg),
	      -ECANCELED);
	FT_ASSERT(x == NULL);
	close(efd);
}

START_TEST(test_cancel_ends_a_client_waiting_for_its_server)
{
	FT_RUN_SIDE(FT_CLIENT_DOM, lonely_client, NULL, FT_WAIT_MS);
}
END_TEST

/*
 * Both threads of one client asleep: the reader for data that never comes,
 * the writer for room in a ring its peer never reads. One write to the
 * eventfd ends both; then close, whose peer has not closed, ends at once
 * too (its timeout is 20 s). The peer still sees every byte that went in,
 * then the end.
 */
#define FT_RING 4096
#define FT_TRIED (3 * FT_RING)

struct ft_reader {
	struct xvchan *x;
	ssize_t rc;
};

static void *ft_reader_main(void *arg)
{
	struct ft_reader *r = arg;
	char c;

	r->rc = xvchan_read(r->x, &c, 1);
	return NULL;
}

static void both_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_server("cancel-both", FT_RING, FT_RING, 0);

	/* Not a byte read until the client is done. */
	ft_await(p->up[0]);
	ft_read_pattern(x, 5, FT_RING);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

static void both_client(void *arg)
{
	struct ft_pipes *p = arg;
	unsigned char *buf = malloc(FT_TRIED);
	struct xvchan_config cfg;
	struct ft_reader reader;
	struct ft_later later;
	struct xvchan *x = NULL;
	pthread_t rt;
	int efd = ft_eventfd();

	FT_ASSERT(buf != NULL);
	ft_cancel_config(&cfg, efd);
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "cancel-both", &cfg), 0);
	reader.x = x;
	FT_EQ(pthread_create(&rt, NULL, ft_reader_main, &reader), 0);
	ft_cancel_later(&later, efd, 300);
	/* The ring takes FT_RING bytes, then the writer sleeps for room. */
	xv_pattern_fill(5, 0, buf, FT_TRIED);
	FT_EQ(xvchan_write(x, buf, FT_TRIED), -ECANCELED);
	FT_EQ(pthread_join(rt, NULL), 0);
	FT_EQ(reader.rc, -ECANCELED);
	ft_join(&later);
	/* Still readable: every wait ends so, until it is drained. */
	FT_EQ(xvchan_read(x, buf, 1), -ECANCELED);
	FT_EQ(xvchan_close(x), -ECANCELED);
	ft_signal(p->up[1]);
	free(buf);
	close(efd);
}

START_TEST(test_cancel_ends_a_read_and_a_write_asleep_in_two_threads)
{
	FT_RUN_PIPED_PAIR(both_server, both_client, FT_WAIT_MS);
}
END_TEST

/* The use the header suggests: a signal ends the waits through a
 * signalfd, with the signal blocked. */
static void *ft_raise_later(void *arg)
{
	(void)arg;
	usleep(200 * 1000);
	FT_EQ(kill(getpid(), SIGUSR1), 0);
	return NULL;
}

static void signalled_server(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	struct signalfd_siginfo si;
	pthread_t t;
	sigset_t set;
	int sfd;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	/* Before the thread: it inherits the mask. Unblocked, SIGUSR1
	 * would kill this process, and the test would fail. */
	FT_EQ(pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	FT_ASSERT(sfd >= 0);
	ft_cancel_config(&cfg, sfd);
	FT_EQ(pthread_create(&t, NULL, ft_raise_later, NULL), 0);
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "cancel-sig", 4096, 4096, &cfg),
	      -ECANCELED);
	FT_EQ(pthread_join(t, NULL), 0);
	/* The signal is still there, for the caller to take. */
	FT_EQ(read(sfd, &si, sizeof(si)), sizeof(si));
	FT_EQ(si.ssi_signo, SIGUSR1);
	close(sfd);
}

START_TEST(test_a_signalfd_cancels_on_a_blocked_signal)
{
	FT_RUN_SIDE(FT_SERVER_DOM, signalled_server, NULL, FT_WAIT_MS);
}
END_TEST

/*
 * A readable cancel_fd only replaces sleeps: bytes in the ring are read,
 * room is written, the peer's end of stream is seen, a published server
 * is joined. And it stays the caller's: the endpoint never drains it.
 */
static void ft_make_readable(int efd)
{
	uint64_t one = 1;

	FT_EQ(write(efd, &one, sizeof(one)), sizeof(one));
}

static void ft_expect_readable(int efd)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };

	FT_EQ(poll(&p, 1, 0), 1);
}

static void progress_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan *x = ft_server("cancel-go", 4096, 4096, 0);

	ft_await(p->down[0]);
	ft_write_pattern(x, 6, 1000);
	FT_EQ(xvchan_shutdown(x), 0);
	ft_signal(p->up[1]);
	ft_read_pattern(x, 7, 3000);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
}

static void progress_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	int efd = ft_eventfd();

	ft_cancel_config(&cfg, efd);
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "cancel-go", &cfg), 0);
	ft_make_readable(efd);
	ft_signal(p->down[1]);
	ft_await(p->up[0]);
	ft_read_pattern(x, 6, 1000);
	ft_expect_eof(x);
	ft_write_pattern(x, 7, 3000);
	/* The peer has shut down: nothing to wait for, a clean close. */
	FT_EQ(xvchan_close(x), 0);
	ft_expect_readable(efd);
	close(efd);
}

START_TEST(test_calls_that_need_no_sleep_ignore_a_readable_cancel_fd)
{
	FT_RUN_PIPED_PAIR(progress_server, progress_client, FT_WAIT_MS);
}
END_TEST

/*
 * A blocking server whose publication conflicts at every try would back
 * off between tries for about 2 s, then fail with -EAGAIN: its cancel_fd
 * ends the first pause, after one try, and nothing stays in xenstore. A
 * non-blocking server does not look at it and publishes at its third try.
 */
static void conflicted_server(void *arg)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	int efd = ft_eventfd();

	(void)arg;
	ft_make_readable(efd);
	ft_cancel_config(&cfg, efd);
	ft_failing_commits = -1;
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "cancel-busy", 4096, 4096,
			    &cfg), -ECANCELED);
	FT_ASSERT(x == NULL);
	FT_EQ(ft_failed_commits, 1);
	ft_failing_commits = 2;
	ft_failed_commits = 0;
	cfg.flags = XVCHAN_NONBLOCK;
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "cancel-busy", 4096, 4096,
			    &cfg), 0);
	FT_EQ(ft_failed_commits, 2);
	FT_EQ(xvchan_close(x), 0);
	close(efd);
}

START_TEST(test_cancel_ends_the_retries_of_a_conflicting_publication)
{
	FT_RUN_SIDE(FT_SERVER_DOM, conflicted_server, NULL, FT_WAIT_MS);
}
END_TEST

/* Non-blocking calls never sleep: -EAGAIN, not -ECANCELED. The client
 * (blocking) finds the server published: no wait, no cancel. */
static void nonblock_server(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	int efd = ft_eventfd();
	char c;

	ft_make_readable(efd);
	ft_cancel_config(&cfg, efd);
	cfg.flags = XVCHAN_NONBLOCK;
	FT_EQ(xvchan_server(&x, FT_CLIENT_DOM, "cancel-nb", 4096, 4096, &cfg),
	      0);
	FT_EQ(xvchan_read(x, &c, 1), -EAGAIN);
	ft_signal(p->up[1]);
	ft_await(p->down[0]);
	FT_EQ(xvchan_read(x, &c, 1), -EAGAIN);
	FT_EQ(xvchan_shutdown(x), 0);
	ft_signal(p->up[1]);
	FT_EQ(xvchan_close(x), 0);
	close(efd);
}

static void nonblock_client(void *arg)
{
	struct ft_pipes *p = arg;
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	int efd = ft_eventfd();

	ft_make_readable(efd);
	ft_cancel_config(&cfg, efd);
	ft_await(p->up[0]);
	FT_EQ(xvchan_client(&x, FT_SERVER_DOM, "cancel-nb", &cfg), 0);
	ft_signal(p->down[1]);
	ft_await(p->up[0]);
	ft_expect_eof(x);
	FT_EQ(xvchan_close(x), 0);
	close(efd);
}

START_TEST(test_non_blocking_calls_do_not_look_at_cancel_fd)
{
	FT_RUN_PIPED_PAIR(nonblock_server, nonblock_client, FT_WAIT_MS);
}
END_TEST

/* Refused before anything is set up: no simulator needed for these. */
START_TEST(test_a_bad_cancel_fd_is_refused_at_set_up)
{
	struct xvchan_config cfg;
	struct xvchan *x = NULL;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(close(fd), 0);
	xvchan_config_init(&cfg);
	cfg.cancel_fd = -2;
	ck_assert_int_eq(xvchan_server(&x, 2, "p", 4096, 4096, &cfg), -EINVAL);
	ck_assert_int_eq(xvchan_client(&x, 1, "p", &cfg), -EINVAL);
	/* The number of a descriptor just closed. */
	cfg.cancel_fd = fd;
	ck_assert_int_eq(xvchan_server(&x, 2, "p", 4096, 4096, &cfg), -EBADF);
	ck_assert_int_eq(xvchan_client(&x, 1, "p", &cfg), -EBADF);
	ck_assert_ptr_null(x);
}
END_TEST

Suite *xv_test_suite(void)
{
	Suite *s = suite_create("flow-cancel");
	TCase *tc = ft_sim_tcase("cancel");

	tcase_add_test(tc, test_cancel_ends_a_server_waiting_for_its_client);
	tcase_add_test(tc, test_cancel_ends_a_client_waiting_for_its_server);
	tcase_add_test(tc,
		       test_cancel_ends_the_retries_of_a_conflicting_publication);
	tcase_add_test(tc,
		test_cancel_ends_a_read_and_a_write_asleep_in_two_threads);
	tcase_add_test(tc, test_a_signalfd_cancels_on_a_blocked_signal);
	tcase_add_test(tc,
		test_calls_that_need_no_sleep_ignore_a_readable_cancel_fd);
	tcase_add_test(tc, test_non_blocking_calls_do_not_look_at_cancel_fd);
	tcase_add_test(tc, test_a_bad_cancel_fd_is_refused_at_set_up);
	suite_add_tcase(s, tc);
	return s;
}
