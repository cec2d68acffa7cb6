/* The in-process xenstored used by every tests/xenstored file. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xsd-fixture.h"

#define MAX_FDS 256

static struct {
	struct xv_xsd *xsd;
	pthread_t thread;
	pthread_mutex_t lock;
	int wake[2];
	char dir[64];
	char sock[8][128];
} fix = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *loop(void *arg)
{
	struct pollfd fds[MAX_FDS];

	(void)arg;
	for (;;) {
		size_t n;

		pthread_mutex_lock(&fix.lock);
		n = xv_xsd_pollfds(fix.xsd, fds + 1, MAX_FDS - 1);
		pthread_mutex_unlock(&fix.lock);
		fds[0] = (struct pollfd){ .fd = fix.wake[0], .events = POLLIN };
		if (poll(fds, n + 1, -1) < 0)
			continue;
		if (fds[0].revents) {
			char c = 0;

			if (read(fix.wake[0], &c, 1) == 1 && c == 'q')
				return NULL;
		}
		pthread_mutex_lock(&fix.lock);
		xv_xsd_dispatch(fix.xsd, fds + 1, n);
		pthread_mutex_unlock(&fix.lock);
	}
}

static void wake(char c)
{
	ck_assert_int_eq(write(fix.wake[1], &c, 1), 1);
}

const char *xsd_fix_sock(unsigned int domid)
{
	ck_assert_uint_lt(domid, 8);
	snprintf(fix.sock[domid], sizeof(fix.sock[domid]), "%s/dom%u.sock",
		 fix.dir, domid);
	return fix.sock[domid];
}

void xsd_fix_start_quota(const struct xv_xsd_quota *quota)
{
	static const char *const names[] = { "Domain-0", "one", "two" };

	strcpy(fix.dir, "/tmp/xv-xsd-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fix.dir));
	ck_assert_int_eq(xv_xsd_new(&fix.xsd, quota), 0);
	for (unsigned int d = 0; d < 3; d++)
		ck_assert_int_eq(xv_xsd_domain_introduce(fix.xsd, d, names[d],
							 xsd_fix_sock(d)), 0);
	ck_assert_int_eq(pipe2(fix.wake, O_CLOEXEC), 0);
	ck_assert_int_eq(pthread_create(&fix.thread, NULL, loop, NULL), 0);
}

void xsd_fix_start(void)
{
	xsd_fix_start_quota(NULL);
}

void xsd_fix_stop(void)
{
	if (!fix.xsd)
		return;
	wake('q');
	pthread_join(fix.thread, NULL);
	close(fix.wake[0]);
	close(fix.wake[1]);
	xv_xsd_free(fix.xsd);
	fix.xsd = NULL;
	/* xv_xsd_free() unlinked the sockets: the directory is empty. */
	ck_assert_int_eq(rmdir(fix.dir), 0);
}

struct xs_handle *xsd_fix_open(unsigned int domid)
{
	struct xs_handle *h;

	/* libxenstore reads XENSTORED_PATH in xs_open() itself. */
	ck_assert_int_eq(setenv("XENSTORED_PATH", xsd_fix_sock(domid), 1), 0);
	h = xs_open(0);
	ck_assert_ptr_nonnull(h);
	return h;
}

int xsd_fix_introduce(unsigned int domid, const char *name)
{
	int err;

	pthread_mutex_lock(&fix.lock);
	err = xv_xsd_domain_introduce(fix.xsd, domid, name,
				      xsd_fix_sock(domid));
	pthread_mutex_unlock(&fix.lock);
	wake('w');
	return err;
}

int xsd_fix_release(unsigned int domid)
{
	int err;

	pthread_mutex_lock(&fix.lock);
	err = xv_xsd_domain_release(fix.xsd, domid);
	pthread_mutex_unlock(&fix.lock);
	wake('w');
	return err;
}

pid_t xsd_fix_fork(void)
{
	pid_t pid;

	pthread_mutex_lock(&fix.lock);
	pid = fork();
	/* In the child too: the copy is locked by its only thread. */
	pthread_mutex_unlock(&fix.lock);
	return pid;
}

void xsd_fix_fail_commits(int n)
{
	pthread_mutex_lock(&fix.lock);
	xv_xsd_fail_commits(fix.xsd, n);
	pthread_mutex_unlock(&fix.lock);
}

size_t xsd_fix_connections(unsigned int domid)
{
	size_t n;

	pthread_mutex_lock(&fix.lock);
	n = xv_xsd_domain_connections(fix.xsd, domid);
	pthread_mutex_unlock(&fix.lock);
	return n;
}

bool xsd_fix_event(struct xs_handle *h, int ms, char ***vec)
{
	for (int waited = 0; waited <= ms; waited += 5) {
		*vec = xs_check_watch(h);
		if (*vec)
			return true;
		ck_assert_int_eq(errno, EAGAIN);
		usleep(5000);
	}
	return false;
}

int xsd_fix_raw(unsigned int domid)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	strcpy(addr.sun_path, xsd_fix_sock(domid));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
			 0);
	return fd;
}
