/*
 * runner.h: the command mode, `ringvm [options] -- COMMAND [ARG...]`: the
 * host side of the session with ringvm-init (src/agent_proto.h) over
 * virtio-vsock, the command's stdin, stdout and stderr on ringvm's own,
 * and the exit status, following docker run and timeout(1):
 *
 *   0-255   the command's own status
 *   128+n   a signal n killed the command
 *   124     --timeout expired (what the command printed before is kept)
 *   125     ringvm or the VM failed: bad option or file, guest panic, the
 *           agent never connected or was lost (the cause: one line on stderr)
 *   126     the command is not executable;  127: not found
 *   153     --output-limit exceeded on stdout or stderr (128 + SIGXFSZ, as a
 *           shell reports a process that outgrew its file size limit)
 *
 * runner_boot.c prepares the boot (ringvm's initramfs, the root image);
 * runner.c runs the session on the loop.
 */
#ifndef RINGVM_RUNNER_H
#define RINGVM_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include <ev.h>

#include "agent.h"
#include "hostfd.h"
#include "log.h"

struct vm;
struct rv_config;

#define RUNNER_EXIT_TIMEOUT 124
#define RUNNER_EXIT_FAILED 125
#define RUNNER_EXIT_OUTPUT_LIMIT 153

#define RUNNER_OUT_STREAMS 2		/* stdout, stderr */
#define RUNNER_TOGUEST_MAX (2 * AGENT_MAX_FRAME)	/* frames queued for the guest */

/* One of the command's output streams on its way to ringvm's stdout or stderr. */
struct runner_out {
	struct hostfd fd;
	ev_io watcher;			/* writable, while `pending` waits */
	uint8_t pending[AGENT_MAX_PAYLOAD];
	size_t pending_off, pending_len;
	uint64_t bytes;			/* written, over the run */
	bool dead;			/* the reader went away: the rest is dropped */
};

struct runner {
	struct loop *loop;
	const struct rv_config *cfg;
	int fd;				/* our end of the agent's connection, -1 until it comes */
	int result_fd;			/* --result FILE, opened at setup (nothing opens later), or -1 */
	ev_io rd, wr;			/* that connection */
	struct agent_parser parser;	/* messages from the guest */
	uint8_t rbuf[AGENT_MAX_FRAME];	/* bytes read, parsed in order */
	size_t rbuf_off, rbuf_len;
	uint8_t toguest[RUNNER_TOGUEST_MAX];	/* EXEC, STDIN, STDIN_EOF, WINCH frames */
	size_t toguest_off, toguest_len;
	uint8_t frame[AGENT_MAX_FRAME];	/* scratch for encoding one frame */
	uint8_t inbuf[AGENT_MAX_PAYLOAD];	/* one read of stdin */
	struct hostfd in;		/* the command's stdin: ringvm's */
	ev_io in_watcher;
	bool in_eof, eof_sent;
	struct runner_out out[RUNNER_OUT_STREAMS];
	ev_timer timeout;
	bool tty;			/* stdin is a terminal: the command gets a pty */
	bool saved_termios;
	struct termios termios;		/* the terminal's settings, restored by runner_finish */
	bool hello, exec_sent, ended, truncated, timed_out;
	int status;			/* the run's status once decided, else -1 */
	int signal;			/* the signal that killed the command, or 0 */
	char cause[256];		/* why ringvm failed (status 125), for stderr */
	double t_start, t_hello;	/* ev_time() at start and at HELLO */
	uint64_t guest_boot_ns;		/* the guest's CLOCK_BOOTTIME at HELLO */
};

/*
 * runner_boot_prepare: in command mode (cfg->run.argc > 0), build ringvm's
 * initramfs (ringvm-init, the kernel's modules, busybox when there is no
 * other root), add the --root image as a read-only disk, and set
 * cfg->initrd_extra and cfg->cmdline_extra. Nothing for the VM is open
 * yet. Returns 0 or -errno with the reason in `err`.
 */
int runner_boot_prepare(struct rv_config *cfg, struct rv_err *err);

/* runner_boot_free: release what runner_boot_prepare made. */
void runner_boot_free(struct rv_config *cfg);

/*
 * runner_start: after the devices exist: listen for the agent on the VM's
 * vsock device (AGENT_PORT), take over ringvm's stdin, stdout and stderr,
 * arm --timeout. Returns 0 or -errno with the reason in `err`.
 */
int runner_start(struct runner *r, struct vm *vm, struct rv_err *err);

/*
 * runner_finish: after the loop stopped with `loop_status`: flush what the
 * command printed (bounded wait), print the cause of a failure as one
 * line, write --result, release the fds. Returns ringvm's exit status.
 */
int runner_finish(struct runner *r, int loop_status);

#endif
