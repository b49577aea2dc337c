/*
 * log.c: stderr diagnostics: warnings, fatal setup errors, and guest faults
 * logged once per episode under a rate limit (log.h).
 *
 * Exported (contracts in log.h): log_warn, log_warnx, rv_fail, die, diex,
 * log_guest, log_guest_rearm.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* vlog: the one formatter; `err` is an errno value or 0 for none. */
static void vlog(int err, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err)
		fprintf(stderr, "ringvm: %s: %s\n", msg, strerror(err));
	else
		fprintf(stderr, "ringvm: %s\n", msg);
}

void log_warn(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(err, fmt, ap);
	va_end(ap);
	errno = err;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

int rv_fail(struct rv_err *e, int status, int errnum, const char *fmt, ...)
{
	char msg[sizeof(e->msg) - 64];	/* room left for the errno text */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->status = status;
	if (errnum)
		snprintf(e->msg, sizeof(e->msg), "%.319s: %.60s", msg, strerror(errnum));
	else
		snprintf(e->msg, sizeof(e->msg), "%s", msg);
	return errnum ? -errnum : -EINVAL;
}

void die(int status, const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(err, fmt, ap);
	va_end(ap);
	exit(status);
}

void diex(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
	exit(status);
}

void log_guest(struct log_once *once, const char *fmt, ...)
{
	struct timespec ts;
	char msg[512];
	va_list ap;

	once->count++;
	if (once->said)
		return;
	once->said = true;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (once->lines == 0 || ts.tv_sec - once->window >= LOG_GUEST_WINDOW_S) {
		once->window = ts.tv_sec;
		once->lines = 0;
	}
	/* A fault-reset loop must not turn one line per episode into a flood. */
	if (once->lines >= LOG_GUEST_BURST) {
		once->held++;
		return;
	}
	once->lines++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (once->held) {
		log_warnx("%s (and %lu earlier episodes not logged)", msg, once->held);
		once->held = 0;
	} else {
		log_warnx("%s", msg);
	}
}

void log_guest_rearm(struct log_once *once)
{
	once->said = false;
}
