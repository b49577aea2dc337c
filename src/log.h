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
 * die: setup failure. Print "ringvm: <message>: <strerror(errno)>" and exit
 * with `status`. Only main and the setup paths call it, before the console
 * is put in raw mode; runtime code returns -errno instead.
 */
_Noreturn void die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* diex: as die, without the errno text. */
_Noreturn void diex(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * struct log_once: a per-site latch for guest-triggered messages. A guest
 * can reach a fault path millions of times (HOSTILE.md S2); it gets one line
 * per latch and a counter, never a log flood.
 */
struct log_once {
	bool said;
	unsigned long count;
};

/* log_guest: count the event and print the message the first time only. */
void log_guest(struct log_once *once, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
