/*
 * init.h: the parts of ringvm-init, the guest agent that runs as PID 1 of
 * a `ringvm -- COMMAND` guest (guest/ringvm-init.c is its main). One
 * section per file; each file's functions carry its name as their prefix.
 * Functions return 0 or -errno unless they say otherwise, and print their
 * own one-line diagnostics through init_log.
 */
#ifndef RINGVM_INIT_H
#define RINGVM_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent.h"

/* --- init_log.c: one-line diagnostics on stderr (the console as PID 1) --- */

/* init_log: print "ringvm-init: <message>" and a newline. */
void init_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* init_warn: as init_log, with ": <strerror(errno)>" appended. */
void init_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* init_log_console: make fds 0, 1, 2 the console when they are not open. */
void init_log_console(void);

/* --- init_mount.c: the early file systems --- */

/*
 * init_mount_mkdirs: create `path` and its missing parents with `mode`
 * (mkdir -p). 0 when it exists as a directory afterwards, or -errno.
 */
int init_mount_mkdirs(const char *path, mode_t mode);

/*
 * init_mount_early: mount /proc, /sys, /dev (devtmpfs), /dev/pts (a new
 * instance, ptmxmode 0666), /dev/shm, /tmp and /run (tmpfs), creating the
 * mount points; a target that is already a mount of that type is kept.
 * Returns 0 when /proc and /dev are usable, else -errno (the rest only warn).
 */
int init_mount_early(void);

/* --- init_root.c: the optional root image (ringvm.root=) --- */

/*
 * init_root_switch: when the kernel command line (/proc/cmdline) names
 * ringvm.root=/dev/vdX (and optionally ringvm.rootfstype=ext4|squashfs|erofs),
 * mount it read-only under a tmpfs-backed overlay, move /proc, /sys, /dev,
 * /run and /tmp into it and make it the root. Returns 0 when done or not
 * asked for, -errno when asked for and it failed (the early mounts are
 * left where they were; the failure was logged).
 */
int init_root_switch(void);

/* --- init_modules.c: kernel modules listed in a file --- */

/*
 * init_modules_load: load each module named (one absolute path per line;
 * blank lines and lines starting with '#' skipped) in `list_path`, in
 * order, with finit_module(2) (compressed .ko.xz/.ko.zst/.ko.gz files with
 * MODULE_INIT_COMPRESSED_FILE). EEXIST counts as loaded; other failures are
 * logged and loading goes on. Returns the number that failed, 0 when the
 * list is absent, or -errno when the list cannot be read.
 */
int init_modules_load(const char *list_path);

/* --- init_net.c: interfaces without an `ip` binary --- */

/* init_net_lo: bring the loopback interface up. */
int init_net_lo(void);

/*
 * init_net_user: configure eth0 for ringvm's user network: AGENT_NET_ADDR
 * /AGENT_NET_PREFIX, up, default route via AGENT_NET_GATEWAY, and
 * /etc/resolv.conf naming AGENT_NET_DNS. Waits up to 2 s for eth0 to
 * appear. On failure returns -errno with a sentence in err.
 */
int init_net_user(char *err, size_t err_len);

/* --- init_vsock.c: the connection to ringvm --- */

/*
 * init_vsock_connect: connect to the host's agent port (AGENT_HOST_CID,
 * AGENT_PORT), retrying every 10 ms for up to `timeout_ms` (the vsock
 * device may be probed a little after init starts). Returns the connected
 * socket (O_CLOEXEC) or -errno of the last attempt.
 */
int init_vsock_connect(unsigned timeout_ms);

/* --- init_pty.c: a pseudo-terminal pair from /dev/ptmx --- */

/*
 * init_pty_open: open a new pty: *master (non-blocking) and *slave, both
 * O_CLOEXEC, window size rows x cols unless either is 0.
 */
int init_pty_open(int *master, int *slave, uint16_t rows, uint16_t cols);

/* init_pty_winsize: set the window size of the terminal on `fd`. */
int init_pty_winsize(int fd, uint16_t rows, uint16_t cols);

/* init_pty_eof_char: the EOF character (VEOF) of the terminal on `fd`; ^D if unknown. */
uint8_t init_pty_eof_char(int fd);

/* --- init_spawn.c: starting the command --- */

/* The running command and the agent's ends of its stdio. */
struct init_child {
	pid_t pid;
	bool tty;
	int in_fd;		/* its stdin: a pipe, or the pty master */
	int out_fd;		/* its stdout: a pipe, or the pty master */
	int err_fd;		/* its stderr: a pipe, or -1 with a tty */
};

/*
 * init_spawn: fork the command of `e` in a new session: stdio on pipes (or
 * on a new pty with AGENT_EXEC_TTY), credentials, cwd and environment as
 * given (AGENT_DEFAULT_ENV when envc is 0), the file looked up on the
 * command's PATH. Waits until the command was exec'd or failed.
 * Returns 0 with *c filled (parent fds non-blocking, O_CLOEXEC), or an
 * AGENT_ERR_* code (> 0) with a sentence in err; the failed child is reaped
 * by the caller's SIGCHLD handling.
 */
int init_spawn(const struct agent_exec *e, struct init_child *c, char *err,
    size_t err_len);

/* init_spawn_close: close the agent's ends in *c (each once; tty shares one). */
void init_spawn_close(struct init_child *c);

/* --- init_session.c: one command's session over the agent protocol --- */

/*
 * init_session_run: speak the agent protocol on `fd` (a connected stream):
 * HELLO, EXEC, run the command with its stdio relayed, then EXIT (after
 * sync()) or ERROR. `sigfd` is a signalfd for SIGCHLD (blocked by the
 * caller); every child that ends is reaped, only the command's status is
 * reported. `prepare`, when not NULL, runs with `ctx` and the validated
 * EXEC before the command starts (main's hostname and network set-up) and
 * returns 0 or an AGENT_ERR_* code with a sentence in err.
 * Returns 0 after EXIT was sent, 1 after ERROR was sent, -errno when the
 * host went away or broke the protocol (the command is then killed; for a
 * protocol fault, -EPROTO, ERROR 125 was sent too).
 */
struct init_prepare {
	int (*fn)(void *ctx, const struct agent_exec *e, char *err, size_t err_len);
	void *ctx;
};

int init_session_run(int fd, int sigfd, const struct init_prepare *prepare);

#endif
