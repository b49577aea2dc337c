/*
 * boottime.c: time a VMM from process start to the guest's init, and measure
 * the VMM's own memory, the same way for every VMM.
 *
 * usage: boottime INIT_MARKER END_MARKER GUEST_MEM_BYTES COMMAND [ARG...]
 *
 * Starts COMMAND with its output on a pipe, notes when a line containing
 * INIT_MARKER appears (init_ms) and, when END_MARKER appears (the guest is
 * about to power off), reads /proc/PID/smaps and /proc/PID/status: the VMM's
 * own memory is its peak RSS (VmHWM) minus the resident part of guest RAM
 * (mappings at least GUEST_MEM_BYTES long). When the init line carries
 * "uptime=SECONDS" (the guest's /proc/uptime at init), that is kept too, as
 * uptime_ms (-1 without it): the guest's own share of the time to init.
 * Prints one line:
 *   init_ms=N total_ms=N hwm_kib=N guest_rss_kib=N own_kib=N status=N uptime_ms=N
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* guest_rss: resident KiB of the mappings at least `min` bytes long. */
static long guest_rss(pid_t pid, unsigned long long min)
{
	char path[64], line[512];
	unsigned long long lo, hi;
	long rss = 0, kib;
	int big = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			big = hi - lo >= min;
		else if (big && sscanf(line, "Rss: %ld kB", &kib) == 1)
			rss += kib;
	}
	fclose(f);
	return rss;
}

static long status_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	double init_ms = -1, uptime_ms = -1, total_ms;
	long hwm = -1, grss = -1;
	unsigned long long gmem;
	struct timespec t0;
	char line[4096], last[4096] = "";
	int p[2], status;
	FILE *out;
	pid_t pid;

	if (argc < 5) {
		fprintf(stderr, "usage: boottime INIT END GUEST_MEM CMD...\n");
		return 2;
	}
	gmem = strtoull(argv[3], NULL, 0);
	if (pipe(p) < 0)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", 0);

		dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[4], argv + 4);
		_exit(127);
	}
	close(p[1]);
	out = fdopen(p[0], "r");
	while (out && fgets(line, sizeof(line), out)) {
		if (line[0] != '\n' && line[0] != '\r')
			snprintf(last, sizeof(last), "%s", line);
		if (init_ms < 0 && strstr(line, argv[1])) {
			const char *up = strstr(line, "uptime=");

			init_ms = ms_since(&t0);
			if (up)
				uptime_ms = strtod(up + 7, NULL) * 1e3;
		}
		if (hwm < 0 && strstr(line, argv[2])) {
			grss = guest_rss(pid, gmem);
			hwm = status_kib(pid, "VmHWM:");
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	total_ms = ms_since(&t0);
	printf("init_ms=%.0f total_ms=%.0f hwm_kib=%ld guest_rss_kib=%ld own_kib=%ld status=%d "
	    "uptime_ms=%.0f\n", init_ms, total_ms, hwm, grss, hwm >= 0 && grss >= 0 ? hwm - grss : -1,
	    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), uptime_ms);
	/* A failed run says why, so a broken peer is not a silent gap. */
	if (init_ms < 0)
		printf("# no init; last output: %s", last[0] ? last : "(none)\n");
	return 0;
}
