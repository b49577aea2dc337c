/*
 * runner_result.c: --result FILE: the command mode's outcome as one JSON
 * object, for the program that started ringvm. A small writer of our own:
 * the object is flat and its one string (the cause) is escaped here.
 *
 * Exported (contracts in runner_result.h): runner_result_json,
 * runner_result_write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "runner.h"
#include "runner_result.h"

/* runner_result_string: `s` as a JSON string (RFC 8259, 7) at out; the bytes written. */
static size_t runner_result_string(char *out, size_t len, const char *s)
{
	size_t n = 0;

	if (len < 3)
		return 0;
	out[n++] = '"';
	for (; *s && n + 8 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, len - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n++] = '"';
	out[n] = '\0';
	return n;
}

int runner_result_json(const struct runner *r, char *buf, size_t len)
{
	char cause[600], boot[32];
	int n;

	if (r->cause[0])
		runner_result_string(cause, sizeof(cause), r->cause);
	else
		snprintf(cause, sizeof(cause), "null");
	if (r->hello)
		snprintf(boot, sizeof(boot), "%.3f", r->t_hello - r->t_start);
	else
		snprintf(boot, sizeof(boot), "null");
	n = snprintf(buf, len, "{\"status\": %d, \"signal\": %d, \"cause\": %s, \"timed_out\": %s, "
	    "\"stdout_bytes\": %llu, \"stderr_bytes\": %llu, \"truncated\": %s, "
	    "\"wall_s\": %.3f, \"boot_to_agent_s\": %s}\n",
	    r->status, r->signal, cause, r->timed_out ? "true" : "false",
	    (unsigned long long)r->out[0].bytes, (unsigned long long)r->out[1].bytes,
	    r->truncated ? "true" : "false", ev_time() - r->t_start, boot);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int runner_result_write(const struct runner *r, int fd)
{
	char buf[1024];
	int n = runner_result_json(r, buf, sizeof(buf));

	if (n < 0)
		return n;
	return write(fd, buf, (size_t)n) == n ? 0 : -EIO;
}
