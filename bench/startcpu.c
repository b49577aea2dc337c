/*
 * startcpu.c: what starting a VM costs the VMM's process, for bench/start:
 * runs COMMAND (a VMM booting a guest that powers off at once) and prints
 * its CPU time (user + system, all threads, from wait4's rusage: exec to
 * exit, so set-up, the guest's first exits and teardown; guest time counts
 * as user time, which for the tiny guest is a few instructions but for a
 * firmware, e.g. QEMU -M pc's SeaBIOS, is its whole run), its wall time and
 * its peak RSS.
 *
 * usage: startcpu COMMAND [ARG...]
 * prints: "cpu_us=U wall_us=W maxrss_kib=M status=S"
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long sc_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	long long t0;
	int status = 0;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: startcpu COMMAND [ARG...]\n");
		return 2;
	}
	t0 = sc_now_us();
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* The guest's output is not what is measured. */
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 1;
	}
	printf("cpu_us=%lld wall_us=%lld maxrss_kib=%ld status=%d\n",
	    (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
	    (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec,
	    sc_now_us() - t0, ru.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
