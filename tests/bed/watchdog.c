/*
 * watchdog.c: run a command, pass its output through, and kill its whole
 * process group when it is silent for too long or runs too long. The test
 * bed's outer VM can wedge (BRIEF: soft lockups under emulation); a hang
 * must become a failure with the log tail, never a stuck CI job.
 *
 * usage: watchdog SILENCE_SECONDS TOTAL_SECONDS COMMAND [ARG...]
 * Exit: the command's status, or 124 after a kill.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int pipefd[2], status;
	double silence, total, start, last;
	const char *why = NULL;
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: watchdog SILENCE TOTAL COMMAND [ARG...]\n");
		return 2;
	}
	silence = atof(argv[1]);
	total = atof(argv[2]);
	if (pipe(pipefd) < 0) {
		perror("watchdog: pipe");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("watchdog: fork");
		return 2;
	}
	if (pid == 0) {
		setpgid(0, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		execvp(argv[3], argv + 3);
		perror("watchdog: exec");
		_exit(127);
	}
	setpgid(pid, pid);
	close(pipefd[1]);
	start = last = now();
	for (;;) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		char buf[4096];
		int r = poll(&p, 1, 1000);
		double t = now();

		if (r > 0) {
			ssize_t n = read(pipefd[0], buf, sizeof(buf));

			if (n <= 0)
				break;
			fwrite(buf, 1, (size_t)n, stdout);
			fflush(stdout);
			last = t;
		} else if (r < 0 && errno != EINTR) {
			break;
		}
		if (t - last > silence)
			why = "silent";
		else if (t - start > total)
			why = "running";
		if (why)
			break;
	}
	if (why) {
		kill(-pid, SIGKILL);
		fprintf(stdout, "\nwatchdog: killed '%s' after %.0f s %s\n", argv[3],
		    why[0] == 's' ? silence : total, why[0] == 's' ? "of silence" : "in all");
		fflush(stdout);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (why)
		return 124;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
