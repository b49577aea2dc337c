/* log.c: stderr diagnostics: warnings, fatal setup errors, once-only guest faults. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	va_list ap;

	once->count++;
	if (once->said)
		return;
	once->said = true;
	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}
