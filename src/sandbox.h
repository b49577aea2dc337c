/*
 * sandbox.h: ringvm's seccomp filters, one allow-list per kind of thread.
 *
 * Setup runs unconfined. At its end every thread loads the filter of its
 * kind and keeps it until the process exits: each vCPU thread before its
 * first KVM_RUN, the loop thread (main) before it handles the first exit.
 * A system call outside the thread's list, or with arguments the list
 * does not allow, raises SIGSYS; the handler restores the terminal, writes
 * one line naming the thread and the call, and exits with
 * RV_EXIT_SANDBOX (159, 128 + SIGSYS, as a shell reports a process the
 * kernel killed for a bad system call). docs/SECURITY.md lists the rules;
 * tests/unit/test_sandbox.c keeps that list and the tables in
 * src/sandbox_rules.c equal.
 *
 * Why a SIGSYS handler rather than SECCOMP_RET_KILL_PROCESS: a killed
 * process can say nothing, so the user would see only "Bad system call"
 * from the shell and a terminal left in raw mode; the audit record that
 * names the call reaches only root's audit log. The handler runs under the
 * same filter (it may only restore the terminal, write and exit) and
 * cannot be replaced: rt_sigaction is on no list.
 */
#ifndef RINGVM_SANDBOX_H
#define RINGVM_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>
#include <termios.h>

#include "landlock.h"
#include "log.h"

#define RV_EXIT_SANDBOX 159	/* 128 + SIGSYS: a thread broke its allow-list */

enum sandbox_thread {
	SANDBOX_LOOP,		/* the loop thread: devices, backends, console, disks */
	SANDBOX_VCPU,		/* a vCPU thread: KVM_RUN and the hand-off */
	SANDBOX_NR_THREADS
};

/*
 * One allowed system call, or one allowed form of it: every argument
 * comparison must hold (libseccomp's AND). A datum of SANDBOX_SELF_PID
 * becomes ringvm's pid, SANDBOX_SIG_KICK the vCPU kick (SIGRTMIN is not a
 * constant), SANDBOX_HANDOFF_FD the loop's hand-off eventfd.
 */
#define SANDBOX_MAX_ARGS 3
#define SANDBOX_SELF_PID 0x7fff0001u
#define SANDBOX_SIG_KICK 0x7fff0003u
#define SANDBOX_HANDOFF_FD 0x7fff0004u

struct sandbox_arg {
	unsigned arg;		/* 0..5 */
	int op;			/* enum scmp_compare */
	uint64_t a, b;		/* datum (and mask for SCMP_CMP_MASKED_EQ: a = mask, b = value) */
};

struct sandbox_rule {
	const char *name;	/* the system call, as docs/SECURITY.md names it */
	unsigned nargs;
	struct sandbox_arg args[SANDBOX_MAX_ARGS];
	const char *doc;	/* the arguments allowed, in docs/SECURITY.md's words; "" for any */
	bool files;		/* only when a device reads files after setup (sandbox_arm) */
};

/* The rule tables (src/sandbox_rules.c), each ended by a NULL name. */
extern const struct sandbox_rule *const sandbox_rules[SANDBOX_NR_THREADS];
#if defined(__SANITIZE_ADDRESS__)
/* Added to every thread's list in sanitizer builds only (docs/SECURITY.md). */
extern const struct sandbox_rule sandbox_sanitizer_rules[];
#endif
extern const char *const sandbox_thread_names[SANDBOX_NR_THREADS];

/* Names for the SIGSYS report, looked up at setup: the handler may not allocate. */
#define SANDBOX_NAMES_MAX 512		/* system call numbers covered */
#define SANDBOX_NAME_LEN 24

struct sandbox {
	bool on;
	struct sock_fprog prog[SANDBOX_NR_THREADS];
	char (*names)[SANDBOX_NAME_LEN];
	int tty_fd;			/* the terminal to restore on a violation, or -1 */
	struct termios tty;
	struct landlock landlock;	/* no filesystem access once entered */
	const char *trigger;		/* test builds: RINGVM_TEST_SANDBOX */
	int handoff_fd;			/* the loop's hand-off eventfd; set before sandbox_arm */
};

/*
 * sandbox_prepare: set no_new_privs (always: ringvm never gains
 * privileges through exec) and, when `on`, note the terminal's state, look
 * up the system call names and install the SIGSYS handler. First thing in
 * setup, before any thread exists. Returns 0 or -errno with the reason in err.
 */
int sandbox_prepare(struct sandbox *sb, bool on, struct rv_err *err);

/*
 * sandbox_arm: build the filters from the tables and the Landlock ruleset,
 * once the devices exist and before the vCPU threads: `paths` are the `n`
 * files devices read after setup (vm->runtime_paths); with none, the
 * rules marked `files` are left out and Landlock grants nothing. A no-op
 * when the sandbox is off. Returns 0 or -errno with the reason in err.
 */
int sandbox_arm(struct sandbox *sb, const char *const *paths, unsigned n, struct rv_err *err);

/*
 * sandbox_enter: restrict the calling thread to no filesystem access
 * (Landlock, when the kernel has it) and load the seccomp filter for
 * thread kind `t`; from here on neither can be lifted. A no-op when the
 * sandbox is off. Returns 0 or -errno.
 */
int sandbox_enter(struct sandbox *sb, enum sandbox_thread t);

/* sandbox_free: release the filters (the loaded ones stay in force). */
void sandbox_free(struct sandbox *sb);

/*
 * sandbox_build: compile thread kind `t`'s table (with the rules marked
 * `files` when `files`, and `handoff_fd` for SANDBOX_HANDOFF_FD) into a BPF
 * program in *prog (malloc'd filter). For sandbox_arm and the unit test.
 * Returns 0 or -errno.
 */
int sandbox_build(enum sandbox_thread t, bool files, int handoff_fd, struct sock_fprog *prog);

#endif
