/*
 * ringvm-init.c: main of ringvm-init, the guest agent behind
 * `ringvm [options] -- COMMAND [ARG...]`.
 *
 * As PID 1 of the guest it mounts the early file systems, loads the
 * modules listed in /ringvm/modules, switches to a root image when the
 * kernel command line asks (ringvm.root=), brings lo up, connects to
 * ringvm over vsock, runs one command session (init_session.c) and powers
 * the guest off, whatever happened: PID 1 must never exit.
 *
 * Not as PID 1, `ringvm-init --agent-fd N` (test mode) runs one session
 * over the already connected fd N and nothing else: no mounts, modules,
 * network, hostname or power-off. It exits 0 after sending EXIT, 1 after
 * ERROR or a failed session, 2 for a bad command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "init.h"

#define INIT_MODULES_LIST "/ringvm/modules"
#define INIT_CONNECT_MS 60000		/* how long to wait for ringvm's vsock (a loaded host is slow) */
#define INIT_LINGER_MS 5000		/* how long the last frame may take to reach ringvm */

/* What the PID 1 path learned before the session, for init_prepare_guest. */
struct init_boot {
	int root_err;			/* init_root_switch's result */
};

/* init_poweroff: flush and power the guest off; never returns. */
__attribute__((noreturn))
static void init_poweroff(void)
{
	sync();
	reboot(RB_POWER_OFF);
	init_warn("power-off failed");
	for (;;)
		pause();
}

/*
 * init_prepare_guest: the EXEC-dependent set-up a real guest needs before
 * the command: report a failed root switch, set the hostname, configure
 * the user network. 0 or AGENT_ERR_AGENT with a sentence in err.
 */
static int init_prepare_guest(void *ctx, const struct agent_exec *e, char *err,
    size_t err_len)
{
	const struct init_boot *boot = ctx;

	if (boot->root_err) {
		snprintf(err, err_len, "the root image (ringvm.root=) could not be mounted: %s "
		    "(details on the console)", strerror(-boot->root_err));
		return AGENT_ERR_AGENT;
	}
	if (e->hostname[0] && sethostname(e->hostname, strlen(e->hostname)) < 0) {
		snprintf(err, err_len, "hostname %.64s: %s", e->hostname, strerror(errno));
		return AGENT_ERR_AGENT;
	}
	if ((e->flags & AGENT_EXEC_NET_USER) && init_net_user(err, err_len))
		return AGENT_ERR_AGENT;
	return 0;
}

/*
 * init_linger: after EXIT or ERROR, wait (at most `ms`) for ringvm to close
 * the connection before powering off. Powering off at once can lose the
 * last frame: the guest's vsock may still hold it when the machine stops,
 * and ringvm would see the session end without a status.
 */
static void init_linger(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];

	shutdown(fd, SHUT_WR);
	while (poll(&p, 1, ms) > 0 && read(fd, buf, sizeof(buf)) > 0)
		;
}

/* init_pid1: the whole life of the guest's init. */
__attribute__((noreturn))
static void init_pid1(int sigfd)
{
	struct init_boot boot = { 0 };
	struct init_prepare prep = { init_prepare_guest, &boot };
	int fd, r;

	if (init_mount_early())
		init_log("the early mounts failed; trying on");
	init_log_console();
	/* vsock is a module in Debian's kernel: load before connecting. */
	init_modules_load(INIT_MODULES_LIST);
	boot.root_err = init_root_switch();
	if ((r = init_net_lo())) {
		errno = -r;
		init_warn("bringing lo up");
	}
	fd = init_vsock_connect(INIT_CONNECT_MS);
	if (fd < 0) {
		init_log("cannot reach ringvm on vsock CID %d port %d: %s; powering off",
		    AGENT_HOST_CID, AGENT_PORT, strerror(-fd));
		init_poweroff();
	}
	init_session_run(fd, sigfd, &prep);
	init_linger(fd, INIT_LINGER_MS);
	close(fd);
	init_poweroff();
}

/* init_parse_fd: the N of --agent-fd N: a decimal fd > 2 that is open; -1 if not. */
static int init_parse_fd(const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || v > 65535 || fcntl((int)v, F_GETFD) < 0)
		return -1;
	return (int)v;
}

int main(int argc, char **argv)
{
	sigset_t mask;
	int agent_fd = -1, sigfd, r;
	bool pid1 = getpid() == 1;

	/* As PID 1 the kernel hands us its unknown command-line words: ignore them. */
	if (!pid1) {
		if (argc == 3 && !strcmp(argv[1], "--agent-fd"))
			agent_fd = init_parse_fd(argv[2]);
		if (agent_fd < 0) {
			fprintf(stderr, "usage: ringvm-init --agent-fd N   (test mode; as PID 1 it takes no arguments)\n");
			return 2;
		}
	}
	/* SIGCHLD arrives through the signalfd; SIGPIPE becomes EPIPE. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGPIPE);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigdelset(&mask, SIGPIPE);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		init_warn("signalfd");
		if (pid1)
			init_poweroff();
		return 1;
	}
	if (pid1)
		init_pid1(sigfd);
	/* The command must not inherit the connection. */
	fcntl(agent_fd, F_SETFD, FD_CLOEXEC);
	r = init_session_run(agent_fd, sigfd, NULL);
	return r == 0 ? 0 : 1;
}
