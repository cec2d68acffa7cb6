/*
 * xvchan-sim: start, stop and inspect a simulated Xen host, and run
 * programs as its domains.  The daemon is this same binary (`start` forks
 * it; `daemon` runs it in the foreground).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hv/hv.h"
#include "proto.h"

#ifndef XV_SIM_PRELOAD_INSTALLED
#error "the build defines XV_SIM_PRELOAD_INSTALLED"
#endif

#define PRELOAD_NAME "libxvchan-sim-preload.so"

static const char usage[] =
"Usage: xvchan-sim start | stop | status | stats\n"
"       xvchan-sim exec --domid N [--] COMMAND [ARG...]\n"
"       xvchan-sim destroy --domid N\n"
"       xvchan-sim daemon\n"
"       xvchan-sim --help\n"
"\n"
"A user-space Xen for hosts without Xen: one daemon per simulated host\n"
"plays the hypervisor (domain table, grant tables, event channels) and runs\n"
"a xenstored; programs run as its domains with a preload library that\n"
"provides libxengnttab's and libxenevtchn's functions.  Unmodified programs\n"
"built on libxenvchan, libxenstore or xenstore-utils work under it.\n"
"\n"
"Commands:\n"
"  start     Start the daemon in the background and return once it serves.\n"
"            Dom0 exists from the start.  A state directory left by a\n"
"            daemon that died is detected (its lock is free) and reused.\n"
"  stop      Ask the daemon to exit and wait until it has.\n"
"  status    Print the daemon's pid, state directory and domains.\n"
"            Exit status 0 if it runs, 3 if it does not.\n"
"  stats     Print what each domain holds: a header line, then one line\n"
"            per domain: its id, its event-channel ports and the grant\n"
"            refs it has granted.\n"
"  exec      Run COMMAND as domain N (0 = dom0, privileged; the domain is\n"
"            created if needed), with XVCHAN_SIM_DIR, XVCHAN_SIM_DOMID,\n"
"            XENSTORED_PATH (that domain's xenstore socket) and LD_PRELOAD\n"
"            (the preload library) set.  COMMAND must be dynamically linked.\n"
"            The exit status is COMMAND's, or as a shell's: 127 if it\n"
"            is not found, 126 if it is found but cannot be executed.\n"
"            COMMAND's process counts as domain N's (see destroy).\n"
"  destroy   Destroy domain N (1 to 32751) as `xl destroy` does on Xen,\n"
"            and return once all of it is done:\n"
"            - every process of the domain is killed with SIGKILL: those\n"
"              exec runs as N (not their children, unless these hold a\n"
"              simulator handle or a xenstore connection as N themselves),\n"
"              and any process holding a simulator handle or a xenstore\n"
"              connection as N;\n"
"            - none of their death actions happen: no unmap notification\n"
"              of a grant N shared or mapped fires (the byte is not\n"
"              cleared, no event is sent); N's event channels close\n"
"              without an event, and their remote ends stay bound but\n"
"              unbound from N (notifying them succeeds, delivers nothing);\n"
"            - N's grant refs end; pages other domains have mapped stay\n"
"              mapped and readable until those unmap them;\n"
"            - in xenstore, N's connections and watches go,\n"
"              /local/domain/N (and every node N owns) is removed, and\n"
"              @releaseDomain fires; N is no longer introduced.\n"
"            Dom0 cannot be destroyed.  A later `exec --domid N` creates a\n"
"            new domain N.  Exit status 1 if there is no domain N.\n"
"  daemon    Run the daemon in the foreground (for debugging and tests).\n"
"\n"
"Options:\n"
"  --domid N   domain to run as: 0 to 32751\n"
"  -h, --help  print this help\n"
"\n"
"Environment:\n"
"  XVCHAN_SIM_DIR      state directory (control socket, lock with the\n"
"                      daemon's pid, xenstore sockets).  Default:\n"
"                      $XDG_RUNTIME_DIR/xvchan-sim, else /tmp/xvchan-sim-UID.\n"
"  XVCHAN_SIM_PRELOAD  preload library for exec.  Default: " PRELOAD_NAME "\n"
"                      in preload/ beside this executable if there (the\n"
"                      build tree), else\n"
"                      " XV_SIM_PRELOAD_INSTALLED ".\n"
"                      Its path may not contain a space or a colon\n"
"                      (LD_PRELOAD splits there): exec refuses it.\n"
"  XVCHAN_SIM_PRIVCMD  \"unrestricted\": a guest may make the one hypercall\n"
"                      modelled (EVTCHNOP_status), as a Linux guest loaded\n"
"                      with xen_privcmd.unrestricted=1.  Default: a guest's\n"
"                      hypercalls fail with EPERM, as Linux's privcmd\n"
"                      refuses them in a domU; dom0's always work.\n"
"\n"
"Files (in the state directory):\n"
"  ctl                 control socket (one connection per process)\n"
"  lock                held by the daemon for its life; holds its pid\n"
"  xenstore/N          domain N's xenstore socket (XENSTORED_PATH)\n"
"  log                 the daemon's messages, one line per process that\n"
"                      died holding grants or event channels, one per\n"
"                      destroyed domain\n"
"\n"
"Exit status: 0 on success, 1 on an error (daemon not running, bad\n"
"domain id, no such domain, ...), 2 on bad usage (an unknown option, a\n"
"missing --domid), 3 from status when not running.\n"
"\n"
"Examples:\n"
"  xvchan-sim start\n"
"  xvchan-sim exec --domid 1 -- xenstore-write data/hello world\n"
"  xvchan-sim exec --domid 0 -- xenstore-ls -p /local/domain/1\n"
"  xvchan-sim exec --domid 1 -- xvchan-cat -l 2 myport &\n"
"  xvchan-sim exec --domid 2 -- xvchan-cat 1 myport < file\n"
"  xvchan-sim destroy --domid 1    # the dom2 side sees its peer vanish\n"
"  xvchan-sim stop\n";

static char dir[256];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("xvchan-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void path_in_dir(char *buf, size_t size, const char *name)
{
	if (snprintf(buf, size, "%s/%s", dir, name) >= (int)size)
		die("state directory path too long: %s", dir);
}

/* Open the lock; returns its fd with *held set if we now hold it, i.e. no
 * daemon is alive.  *pid is the pid written in it, 0 if none. */
static int lock_open(int *held, pid_t *pid)
{
	char path[300], buf[32];
	ssize_t n;
	int fd;

	path_in_dir(path, sizeof(path), XV_SIM_LOCK_NAME);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	*held = flock(fd, LOCK_EX | LOCK_NB) == 0;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	*pid = (pid_t)atoi(buf);
	return fd;
}

/* Connect to the daemon as a tool; exits with a clear message if none. */
static int ctl_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xv_sim_msg msg = { .op = XV_SIM_HELLO };
	struct xv_sim_msg *rep = malloc(XV_SIM_MSG_MAX);
	int fd, held, lock, err;
	pid_t pid;

	if (!rep)
		die("out of memory");
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/" XV_SIM_CTL_NAME, dir) >=
	    (int)sizeof(sa.sun_path))
		die("state directory path too long: %s", dir);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		lock = lock_open(&held, &pid);
		if (lock >= 0 && held && pid > 0)
			die("daemon not running: %s holds the state of a daemon (pid %d) that died; `xvchan-sim start` recovers it",
			    dir, (int)pid);
		if (lock < 0 || held)
			die("daemon not running (no simulator in %s); start one with `xvchan-sim start`",
			    dir);
		die("cannot reach the daemon (pid %d) at %s: %s", (int)pid,
		    sa.sun_path, strerror(err));
	}
	msg.arg[0] = XV_SIM_PROTO_VERSION;
	msg.arg[1] = XV_HV_TOOL;
	msg.arg[2] = (uint32_t)getpid();
	if ((err = xv_sim_send(fd, &msg, NULL, 0)) ||
	    (err = xv_sim_recv(fd, rep, NULL, 0, NULL)) || (err = rep->err))
		die("daemon refused the connection: %s", strerror(-err));
	free(rep);
	return fd;
}

static int ctl_call(int fd, struct xv_sim_msg *msg, struct xv_sim_msg *rep)
{
	int err = xv_sim_send(fd, msg, NULL, 0);

	if (!err)
		err = xv_sim_recv(fd, rep, NULL, 0, NULL);
	return err ? err : rep->err;
}

/* Run the daemon here; @ready gets "ok" or an error message once set up. */
static int run_daemon(int ready)
{
	struct xv_hv hv;
	const char *what = "";
	char msg[400], pid[32];
	int held, lock, err, i;
	pid_t old;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(msg, sizeof(msg), "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	lock = lock_open(&held, &old);
	/* A lock held with no pid in it is `status` or `stop` probing it
	 * (lock_open() takes it for a moment), or a daemon that has not yet
	 * written its pid: both are over within a second. */
	for (i = 0; lock >= 0 && !held && old <= 0 && i < 100; i++) {
		close(lock);
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 },
			  NULL);
		lock = lock_open(&held, &old);
	}
	if (lock < 0) {
		snprintf(msg, sizeof(msg), "cannot open the lock in %s: %s", dir,
			 strerror(-lock));
		goto fail;
	}
	if (!held) {
		snprintf(msg, sizeof(msg), "already running (pid %d) in %s",
			 (int)old, dir);
		goto fail;
	}
	if (old > 0)
		fprintf(stderr, "xvchan-sim: recovering the state left in %s by a daemon (pid %d) that died\n",
			dir, (int)old);
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(lock, 0) < 0 || pwrite(lock, pid, strlen(pid), 0) < 0) {
		snprintf(msg, sizeof(msg), "cannot write the pid: %s", strerror(errno));
		goto fail;
	}
	signal(SIGPIPE, SIG_IGN);
	err = xv_hv_init(&hv, dir, &what);
	if (err) {
		snprintf(msg, sizeof(msg), "cannot set up the %s in %s: %s", what,
			 dir, strerror(-err));
		xv_hv_exit(&hv);
		goto fail;
	}
	if (ready >= 0) {
		if (write(ready, "ok", 2) != 2)
			err = -errno;
		close(ready);
	}
	err = xv_hv_run(&hv);
	xv_hv_exit(&hv);
	/* The lock stays, empty: the next start sees a clean stop. */
	if (ftruncate(lock, 0) < 0)
		err = err ? err : -errno;
	return err ? 1 : 0;
fail:
	if (ready >= 0) {
		if (write(ready, msg, strlen(msg)) < 0)
			fprintf(stderr, "xvchan-sim: %s\n", msg);
	} else {
		fprintf(stderr, "xvchan-sim: %s\n", msg);
	}
	return 1;
}

static int cmd_start(void)
{
	char buf[400];
	int p[2], devnull;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		char log[300];
		int logfd;

		close(p[0]);
		setsid();
		/* Nothing may keep the caller's stdout/stderr open: a caller
		 * reading them to EOF would wait for the daemon's exit. */
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			die("cannot create %s: %s", dir, strerror(errno));
		path_in_dir(log, sizeof(log), "log");
		logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (logfd >= 0) {
			dup2(logfd, 2);
			close(logfd);
		}
		devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			if (devnull > 2)
				close(devnull);
		}
		/* Nor any other inherited descriptor, e.g. a pipe a test reads
		 * to EOF: keep only the readiness pipe, as fd 3. */
		if (dup2(p[1], 3) < 0)
			_exit(1);
		close_range(4, ~0u, 0);
		/* exit(), not _exit(): the daemon's atexit work (LeakSanitizer
		 * in a sanitizer build) must run; no stdio is buffered yet. */
		exit(run_daemon(3));
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	if (strcmp(buf, "ok") != 0)
		die("%s", n > 0 ? buf : "the daemon died while starting");
	return 0;
}

static int cmd_stop(void)
{
	struct xv_sim_msg msg = { .op = XV_SIM_SHUTDOWN };
	struct xv_sim_msg *rep = malloc(XV_SIM_MSG_MAX);
	int fd = ctl_connect(), lock, held, i, err;
	pid_t pid;

	if (!rep)
		die("out of memory");
	err = ctl_call(fd, &msg, rep);
	if (err)
		die("stop refused: %s", strerror(-err));
	free(rep);
	close(fd);
	/* The daemon's lock goes with its exit. */
	for (i = 0; i < 500; i++) {
		lock = lock_open(&held, &pid);
		if (lock >= 0)
			close(lock);
		if (lock < 0 || held)
			return 0;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	die("the daemon (pid %d) did not exit within 5 s", (int)pid);
}

static int cmd_status(void)
{
	struct xv_sim_msg msg = { .op = XV_SIM_DOMAIN_LIST };
	struct xv_sim_msg *rep;
	int lock, held, fd, err;
	uint32_t i;
	pid_t pid;

	lock = lock_open(&held, &pid);
	if (lock < 0 || held) {
		printf("not running (state directory %s)\n", dir);
		return 3;
	}
	rep = malloc(XV_SIM_MSG_MAX);
	if (!rep)
		die("out of memory");
	fd = ctl_connect();
	err = ctl_call(fd, &msg, rep);
	if (err)
		die("status refused: %s", strerror(-err));
	printf("running: pid %u, state directory %s\ndomains:", rep->arg[0], dir);
	for (i = 0; i < rep->count; i++)
		printf(" %u", rep->data[i]);
	putchar('\n');
	free(rep);
	close(fd);
	close(lock);
	return 0;
}

static int cmd_stats(void)
{
	struct xv_sim_msg msg = { .op = XV_SIM_DOMAIN_STATS };
	struct xv_sim_msg *rep = malloc(XV_SIM_MSG_MAX);
	int fd = ctl_connect(), err;
	uint32_t i;

	if (!rep)
		die("out of memory");
	err = ctl_call(fd, &msg, rep);
	if (err)
		die("stats refused: %s", strerror(-err));
	printf("domain ports grants\n");
	for (i = 0; i + 2 < rep->count; i += 3)
		printf("%u %u %u\n", rep->data[i], rep->data[i + 1],
		       rep->data[i + 2]);
	free(rep);
	close(fd);
	return 0;
}

static void find_preload(char *buf, size_t size)
{
	const char *env = getenv("XVCHAN_SIM_PRELOAD");
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		if (access(env, R_OK) < 0)
			die("XVCHAN_SIM_PRELOAD=%s: %s", env, strerror(errno));
		snprintf(buf, size, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (snprintf(buf, size, "%s/preload/" PRELOAD_NAME, exe) < (int)size &&
			    access(buf, R_OK) == 0)
				return;
		}
	}
	snprintf(buf, size, "%s", XV_SIM_PRELOAD_INSTALLED);
	if (access(buf, R_OK) < 0)
		die("preload library %s: %s (set XVCHAN_SIM_PRELOAD)", buf,
		    strerror(errno));
}

static unsigned int parse_domid(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || s[0] == '+' ||
	    v > XV_SIM_MAX_DOMID)
		die("bad domid '%s': expected a number from 0 to %u", s,
		    XV_SIM_MAX_DOMID);
	return (unsigned int)v;
}

/* Parse exec's and destroy's options: --domid N (or --domid=N), then
 * an optional "--".  Returns the index of the first operand, or -1 after
 * printing a usage error. */
static int parse_opts(const char *cmd, int argc, char **argv,
		      unsigned int *domid)
{
	int i, have = 0;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--domid") && i + 1 == argc) {
			fprintf(stderr, "xvchan-sim: %s: --domid needs a value "
				"(0 to %u)\n%s", cmd, XV_SIM_MAX_DOMID, usage);
			return -1;
		} else if (!strcmp(argv[i], "--domid")) {
			*domid = parse_domid(argv[++i]);
			have = 1;
		} else if (!strncmp(argv[i], "--domid=", 8)) {
			*domid = parse_domid(argv[i] + 8);
			have = 1;
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "xvchan-sim: %s: unknown option '%s'\n%s",
				cmd, argv[i], usage);
			return -1;
		} else {
			break;
		}
	}
	if (!have) {
		fprintf(stderr, "xvchan-sim: %s needs --domid N\n%s", cmd, usage);
		return -1;
	}
	return i;
}

static int cmd_exec(int argc, char **argv)
{
	struct xv_sim_msg msg = { .op = XV_SIM_DOMAIN_CREATE };
	struct xv_sim_msg *rep;
	char preload[PATH_MAX], xs[PATH_MAX + 32], num[16], abs[PATH_MAX];
	char *ld, *old;
	unsigned int domid = 0;
	int i, fd, err;

	i = parse_opts("exec", argc, argv, &domid);
	if (i < 0)
		return 2;
	if (i >= argc) {
		fprintf(stderr, "xvchan-sim: exec needs --domid N and a command\n%s", usage);
		return 2;
	}
	find_preload(preload, sizeof(preload));
	/* ld.so splits LD_PRELOAD at spaces and colons: such a path would
	 * load nothing, and COMMAND would run on the real Xen libraries. */
	if (strpbrk(preload, " :"))
		die("preload library '%s': LD_PRELOAD cannot hold a path with "
		    "a space or a colon; set XVCHAN_SIM_PRELOAD to one without "
		    "(e.g. a symlink)", preload);
	rep = malloc(XV_SIM_MSG_MAX);
	if (!rep)
		die("out of memory");
	fd = ctl_connect();
	msg.arg[0] = domid;
	err = ctl_call(fd, &msg, rep);
	if (err)
		die("cannot create domain %u: %s", domid, strerror(-err));
	/* The pid stays ours across execvp(): COMMAND is enrolled before it
	 * runs, so a destroy that follows cannot miss it. */
	msg = (struct xv_sim_msg){ .op = XV_SIM_DOMAIN_JOIN,
				   .arg = { domid, (uint32_t)getpid() } };
	err = ctl_call(fd, &msg, rep);
	if (err)
		die("cannot join domain %u: %s", domid, strerror(-err));
	free(rep);
	close(fd);
	if (!realpath(dir, abs))
		die("%s: %s", dir, strerror(errno));
	snprintf(xs, sizeof(xs), "%s/" XV_SIM_XS_DIR "/%u", abs, domid);
	snprintf(num, sizeof(num), "%u", domid);
	old = getenv("LD_PRELOAD");
	if (old && *old) {
		if (asprintf(&ld, "%s:%s", preload, old) < 0)
			die("out of memory");
	} else {
		ld = preload;
	}
	if (setenv(XV_SIM_ENV_DIR, abs, 1) || setenv(XV_SIM_ENV_DOMID, num, 1) ||
	    setenv("XENSTORED_PATH", xs, 1) || setenv("LD_PRELOAD", ld, 1))
		die("setenv: %s", strerror(errno));
	execvp(argv[i], argv + i);
	fprintf(stderr, "xvchan-sim: cannot run %s: %s\n", argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

static int cmd_destroy(int argc, char **argv)
{
	struct xv_sim_msg msg = { .op = XV_SIM_DOMAIN_DESTROY };
	struct xv_sim_msg *rep;
	unsigned int domid = 0;
	int i, fd, err;

	i = parse_opts("destroy", argc, argv, &domid);
	if (i < 0)
		return 2;
	if (i < argc) {
		fprintf(stderr, "xvchan-sim: destroy takes no operand ('%s')\n%s",
			argv[i], usage);
		return 2;
	}
	/* Xen refuses it too: dom0 runs the toolstack. */
	if (domid == 0)
		die("cannot destroy domain 0: it is the control domain");
	rep = malloc(XV_SIM_MSG_MAX);
	if (!rep)
		die("out of memory");
	fd = ctl_connect();
	msg.arg[0] = domid;
	err = ctl_call(fd, &msg, rep);
	if (err == -ESRCH)
		die("cannot destroy domain %u: no such domain", domid);
	if (err == -ETIMEDOUT)
		die("domain %u destroyed, but a process of it outlived SIGKILL by 5 s (stuck in the kernel?)",
		    domid);
	if (err)
		die("cannot destroy domain %u: %s", domid, strerror(-err));
	free(rep);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int err;

	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, stdout);
		return 0;
	}
	err = xv_sim_state_dir(dir, sizeof(dir));
	if (err)
		die("state directory path too long");
	if (!strcmp(argv[1], "start") && argc == 2)
		return cmd_start();
	if (!strcmp(argv[1], "stop") && argc == 2)
		return cmd_stop();
	if (!strcmp(argv[1], "status") && argc == 2)
		return cmd_status();
	if (!strcmp(argv[1], "stats") && argc == 2)
		return cmd_stats();
	if (!strcmp(argv[1], "daemon") && argc == 2)
		return run_daemon(-1);
	if (!strcmp(argv[1], "exec"))
		return cmd_exec(argc - 2, argv + 2);
	if (!strcmp(argv[1], "destroy"))
		return cmd_destroy(argc - 2, argv + 2);
	fprintf(stderr, "xvchan-sim: bad usage\n%s", usage);
	return 2;
}
