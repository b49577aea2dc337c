/*
 * confine.c: the process-wide half of ringvm's confinement (the per-thread
 * half is sandbox.c): inherited file descriptors closed at start, and at
 * the end of setup no core dumps, no capabilities and resource limits cut
 * to what the run needs. docs/SECURITY.md explains each choice.
 *
 * Exported (contracts in confine.h): confine_inherited_fds, confine_process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "confine.h"

int confine_inherited_fds(const int *keep, unsigned n, struct rv_err *err)
{
	unsigned from = 3;

	/* keep[] is sorted by the caller; close the gaps between the kept fds. */
	for (unsigned i = 0; i <= n; i++) {
		unsigned to = i < n ? (unsigned)keep[i] - 1 : ~0u;

		if (i < n && (unsigned)keep[i] < from)
			continue;
		if (to >= from && syscall(SYS_close_range, from, to, 0) < 0)
			return rv_fail(err, RV_EXIT_FAILURE, errno, "close_range(%u, %u)", from, to);
		if (i < n)
			from = (unsigned)keep[i] + 1;
	}
	return 0;
}

/* confine_is_output: `fd` is one the guest's output grows (stdout, stderr, --console). */
static bool confine_is_output(const struct confine_conf *c, int fd)
{
	for (unsigned i = 0; i < c->nr_output; i++)
		if (c->output_fds[i] == fd)
			return true;
	return false;
}

/*
 * confine_fd_note: one open fd for confine_fd_needs: raise *maxfd, and
 * *fsize for a regular file open for writing.
 */
static void confine_fd_note(const struct confine_conf *c, int fd, int fl, int *maxfd,
    rlim_t *fsize)
{
	struct stat st;

	if (fd > *maxfd)
		*maxfd = fd;
	if ((fl & O_ACCMODE) == O_RDONLY || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	if (confine_is_output(c, fd))
		*fsize = RLIM_INFINITY;
	else if (*fsize != RLIM_INFINITY && (rlim_t)st.st_size > *fsize)
		*fsize = (rlim_t)st.st_size;
}

/*
 * confine_fd_list: the open fds from /proc/self/fd: a few system calls
 * however high RLIMIT_NOFILE is (bench/start: probing every number up to
 * a limit of 20,000 with fcntl was half of ringvm's start-up CPU time).
 * Returns 0, or -errno without /proc.
 */
static int confine_fd_list(const struct confine_conf *c, int *maxfd, rlim_t *fsize)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		int fl;

		/* ".", "..", and the directory's own fd, which closes below. */
		if (end == e->d_name || *end || fd < 0 || fd > INT_MAX || fd == dirfd(d))
			continue;
		fl = fcntl((int)fd, F_GETFL);
		if (fl >= 0)
			confine_fd_note(c, (int)fd, fl, maxfd, fsize);
	}
	closedir(d);
	return 0;
}

/*
 * confine_fd_needs: walk the fd table once: the highest open fd, and the
 * largest file ringvm may write (a disk: writes stay inside it), or
 * RLIM_INFINITY when a regular file takes the guest's output (the user
 * bounds that with --output-limit, not ringvm). Without /proc, probe
 * every fd number below RLIMIT_NOFILE.
 */
static void confine_fd_needs(const struct confine_conf *c, int *maxfd, rlim_t *fsize)
{
	struct rlimit nofile;
	int limit;

	*maxfd = 2;
	*fsize = 0;
	if (!confine_fd_list(c, maxfd, fsize))
		return;
	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0 || nofile.rlim_cur > 65536)
		nofile.rlim_cur = 65536;
	limit = (int)nofile.rlim_cur;
	for (int fd = 0; fd < limit; fd++) {
		int fl = fcntl(fd, F_GETFL);

		if (fl >= 0)
			confine_fd_note(c, fd, fl, maxfd, fsize);
	}
}

/* confine_set: lower both limits of `res` to `v`; never raises. Returns 0 or -errno. */
static int confine_set(int res, rlim_t v)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) < 0)
		return -errno;
	if (rl.rlim_max != RLIM_INFINITY && v > rl.rlim_max)
		v = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = v;
	return setrlimit(res, &rl) < 0 ? -errno : 0;
}

/*
 * confine_drop_caps: as root (or with file capabilities), give up every
 * capability now that what needed them (TAP, ports below 1024) is open:
 * the bounding set first (it needs CAP_SETPCAP), then the ambient set,
 * then effective, permitted and inheritable. Returns 0 or -errno.
 */
static int confine_drop_caps(struct rv_err *err)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "capget");
	if (!(d[0].permitted | d[1].permitted | d[0].inheritable | d[1].inheritable))
		return 0;
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return rv_fail(err, RV_EXIT_FAILURE, errno, "prctl(PR_CAPBSET_DROP, %d)", cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "capset");
	return 0;
}

int confine_process(const struct confine_conf *c, struct confine_report *rep, struct rv_err *err)
{
	int maxfd, r;
	rlim_t fsize;

	memset(rep, 0, sizeof(*rep));
	/*
	 * No core file: it would hold guest memory and the user's data.
	 * Non-dumpable also keeps other processes of the user from
	 * ptrace-attaching. Left on with --sandbox off, for debugging.
	 */
	if (c->no_dumps) {
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
			return rv_fail(err, RV_EXIT_FAILURE, errno, "prctl(PR_SET_DUMPABLE)");
		if ((r = confine_set(RLIMIT_CORE, 0)))
			return rv_fail(err, RV_EXIT_FAILURE, -r, "setrlimit(RLIMIT_CORE)");
	}
	r = confine_drop_caps(err);
	if (r)
		return r;
	confine_fd_needs(c, &maxfd, &fsize);
	/* Every fd open now, plus what the devices may open later, plus the exit's few. */
	rep->nofile = (rlim_t)maxfd + 1 + c->runtime_fds + CONFINE_SPARE_FDS;
	if ((r = confine_set(RLIMIT_NOFILE, rep->nofile)))
		return rv_fail(err, RV_EXIT_FAILURE, -r, "setrlimit(RLIMIT_NOFILE, %llu)",
		    (unsigned long long)rep->nofile);
	rep->fsize = fsize;
	if ((r = confine_set(RLIMIT_FSIZE, fsize)))
		return rv_fail(err, RV_EXIT_FAILURE, -r, "setrlimit(RLIMIT_FSIZE)");
	return 0;
}
