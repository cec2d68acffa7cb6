/*
 * What the fault, load and soak tests need beyond the flow helpers
 * (tests/flow/flow-test.h): a deterministic random source, a clock shared
 * by every process (CLOCK_MONOTONIC is system-wide, so a child's timestamp
 * can be compared with the parent's), a view of what the simulator still
 * holds, and dom0's view of xenstore.
 *
 * The simulator has no introspection interface: `xvchan-sim status` prints
 * only the daemon's pid and domains. So what it holds is read from outside:
 * - ports: the event table (sim/event.h) is a memfd the daemon keeps open;
 *   the daemon writes a port's `handle` word when it allocates the port and
 *   clears it when it frees it, so bound ports are the non-zero ones;
 * - grants: every shared page lives in a memfd named "xvchan-sim-grant"
 *   that the daemon keeps open while any grant, share or mapping of it
 *   remains, so the daemon's descriptors with that name count the live
 *   grant objects.
 */
#ifndef XV_TEST_FAULT_SIM_H
#define XV_TEST_FAULT_SIM_H

#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "event.h"
#include "test-sim.h"

static inline int64_t fs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void fs_sleep_us(unsigned int us)
{
	struct timespec ts = { .tv_sec = us / 1000000,
			       .tv_nsec = (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* xorshift64*: small, deterministic for a given seed, good enough to pick
 * kill points and sizes. */
static inline uint64_t fs_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform enough in [0, n) for test choices; n > 0. */
static inline uint64_t fs_below(uint64_t *state, uint64_t n)
{
	return fs_rand(state) % n;
}

/* The daemon's pid, from the lock file it writes its pid into. */
static inline pid_t fs_daemon_pid(void)
{
	char path[300], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/lock", xv_test_sim_dir());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}

/*
 * Count the daemon's descriptors whose link target starts with @prefix;
 * if @first_fd is not NULL, it receives one such descriptor number.
 * Returns -1 if the daemon's fd table cannot be read.
 */
static inline int fs_daemon_fds(pid_t pid, const char *prefix, int *first_fd)
{
	char dir[64], target[300];
	struct dirent *d;
	DIR *dp;
	int count = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	dp = opendir(dir);
	if (!dp)
		return -1;
	while ((d = readdir(dp))) {
		ssize_t n;

		if (d->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(dp), d->d_name, target,
			       sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (prefix && strncmp(target, prefix, strlen(prefix)) != 0)
			continue;
		if (first_fd && count == 0)
			*first_fd = atoi(d->d_name);
		count++;
	}
	closedir(dp);
	return count;
}

/* Grant objects (shared pages' memfds) the daemon still holds. */
static inline int fs_sim_grant_objects(void)
{
	return fs_daemon_fds(fs_daemon_pid(), "/memfd:xvchan-sim-grant", NULL);
}

/* Event-channel ports currently allocated in the simulator, or -1. */
static inline int fs_sim_ports(void)
{
	pid_t pid = fs_daemon_pid();
	struct xv_sim_evtab *tab;
	char path[64];
	int fd = -1, tfd, count = 0;
	uint32_t p;

	if (fs_daemon_fds(pid, "/memfd:xvchan-sim-events", &fd) != 1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	tfd = open(path, O_RDONLY | O_CLOEXEC);
	if (tfd < 0)
		return -1;
	tab = mmap(NULL, sizeof(*tab), PROT_READ, MAP_SHARED, tfd, 0);
	close(tfd);
	if (tab == MAP_FAILED)
		return -1;
	for (p = 1; p < XV_SIM_MAX_PORTS; p++)
		if (atomic_load(&tab->port[p].handle) != 0)
			count++;
	munmap(tab, sizeof(*tab));
	return count;
}

/*
 * Wait up to @ms for the simulator to hold exactly @ports ports and
 * @grants grant objects (it learns of a process's exit asynchronously,
 * when its control connection drops). Returns 0, or -1 with the last
 * counts in *got_ports / *got_grants.
 */
static inline int fs_sim_settle(int ports, int grants, int ms,
				int *got_ports, int *got_grants)
{
	int64_t end = fs_now_ns() + (int64_t)ms * 1000000;

	for (;;) {
		*got_ports = fs_sim_ports();
		*got_grants = fs_sim_grant_objects();
		if (*got_ports == ports && *got_grants == grants)
			return 0;
		if (fs_now_ns() > end)
			return -1;
		fs_sleep_us(2000);
	}
}

/* A xenstore connection as dom0 of the test's simulator. */
static inline struct xs_handle *fs_xs_dom0(void)
{
	char xs[300];

	snprintf(xs, sizeof(xs), "%s/xenstore/0", xv_test_sim_dir());
	if (setenv("XENSTORED_PATH", xs, 1))
		return NULL;
	return xs_open(0);
}

/* 1 if @path exists for dom0, 0 if not (ENOENT), -errno otherwise. */
static inline int fs_xs_exists(struct xs_handle *h, const char *path)
{
	unsigned int len;
	char *v;

	errno = 0;
	v = xs_read(h, XBT_NULL, path, &len);
	if (v) {
		free(v);
		return 1;
	}
	return errno == ENOENT ? 0 : -errno;
}

/*
 * Mappings of simulator grant pages in this process: a leaked grant
 * mapping is one of these. (All mappings would not do: the first
 * xenstore watch starts a thread whose stack glibc keeps cached after
 * the thread ends.)
 */
static inline int fs_own_grant_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int count = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		count += strstr(line, "/memfd:xvchan-sim-grant") != NULL;
	fclose(f);
	return count;
}

#endif
