/* log.h: diagnostics on stderr, in the three error regimes ringvm uses. */
#ifndef RINGVM_LOG_H
#define RINGVM_LOG_H

#include <stdbool.h>

/*
 * Exit statuses of the ringvm process. They are the runner contract and are
 * listed in man/ringvm.1 (EXIT STATUS); change both together.
 */
enum rv_exit {
	RV_EXIT_POWEROFF = 0,	/* the guest powered off */
	RV_EXIT_FAILURE = 1,	/* a host-side failure (KVM, memory, I/O) */
	RV_EXIT_USAGE = 2,	/* bad command line */
	RV_EXIT_BADFILE = 3,	/* bad kernel, initrd or disk file */
	RV_EXIT_REBOOT = 4,	/* the guest rebooted (reset) */
	RV_EXIT_PANIC = 5,	/* the guest kernel panicked (pvpanic) */
	RV_EXIT_VCPU = 6,	/* a vCPU failed (internal error, bad state) */
	RV_EXIT_SIGNAL = 128,	/* + signal number: host signal or console quit */
};

/* log_warn: print "ringvm: <message>: <strerror(errno)>" on stderr. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* log_warnx: print "ringvm: <message>" on stderr. */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * struct rv_err: a setup failure on its way to the one place that reports
 * it (main): the exit status it calls for and a one-line message. Setup
 * functions fill it with rv_fail and return -errno; they never exit.
 */
struct rv_err {
	int status;
	char msg[384];
};

/*
 * rv_fail: fill `e` with `status` and "<message>: <strerror(errnum)>" (no
 * errno text when errnum is 0). Returns -errnum, or -EINVAL when errnum
 * is 0, for the caller to return.
 */
int rv_fail(struct rv_err *e, int status, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * die: setup failure. Print "ringvm: <message>: <strerror(errno)>" and exit
 * with `status`. Only main calls it, to report a struct rv_err or its own
 * failure, before the console is put in raw mode; setup code returns
 * -errno with a struct rv_err, runtime code returns -errno.
 */
_Noreturn void die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* diex: as die, without the errno text. */
_Noreturn void diex(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * struct log_once: a per-site latch for guest-triggered messages. A guest
 * can reach a fault path millions of times (HOSTILE.md S2); it gets one line
 * per episode and a counter, never a log flood. An episode ends when the
 * owner re-arms the latch (a device reset: a new driver instance); a guest
 * that faults and resets in a loop still gets at most LOG_GUEST_BURST lines
 * per site every LOG_GUEST_WINDOW_S seconds, and the next line allowed says
 * how many were held back.
 */
#define LOG_GUEST_BURST 5
#define LOG_GUEST_WINDOW_S 60

struct log_once {
	bool said;			/* this episode has had its line */
	unsigned long count;		/* events, over the site's life */
	unsigned lines;			/* lines printed in the current window */
	long window;			/* its start, CLOCK_MONOTONIC seconds */
	unsigned long held;		/* episodes not logged for the rate limit */
};

/*
 * log_guest: count the event; print the message when it is the first of
 * its episode and the site's rate allows.
 */
void log_guest(struct log_once *once, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* log_guest_rearm: a new episode: the next log_guest may print again. */
void log_guest_rearm(struct log_once *once);

#endif
