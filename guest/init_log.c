/*
 * init_log.c: ringvm-init's diagnostics. As PID 1 its stderr is the
 * console (/dev/console, the guest's serial port), which ringvm shows to
 * the user; each message is one line so it stands out in a boot log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

/* init_vlog: the shared body; `err` is an errno to append, or 0. */
__attribute__((format(printf, 2, 0)))
static void init_vlog(int err, const char *fmt, va_list ap)
{
	char msg[400], line[512];
	int n;

	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	n = snprintf(line, sizeof(line), "ringvm-init: %s%s%s\n", msg, err ? ": " : "",
	    err ? strerror(err) : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* One write per line: the console is shared with the kernel's output. */
	if (write(2, line, (size_t)n) < 0)
		return;
}

void init_log(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	init_vlog(0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void init_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	init_vlog(saved ? saved : EIO, fmt, ap);
	va_end(ap);
	errno = saved;
}

void init_log_console(void)
{
	int fd;

	/* The kernel opens the console for init only when /dev/console exists
	 * in the initramfs; after devtmpfs is mounted it always does. */
	if (fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}
