/* runner_result.h: --result FILE, one JSON object describing the run (runner_result.c). */
#ifndef RINGVM_RUNNER_RESULT_H
#define RINGVM_RUNNER_RESULT_H

#include <stddef.h>

struct runner;

/*
 * runner_result_json: the run as one JSON object and a newline, into buf
 * (len bytes): status, signal, cause (null when none), timed_out,
 * stdout_bytes, stderr_bytes, truncated, wall_s, boot_to_agent_s (null
 * when the agent never connected). Returns the length, or -ENOSPC.
 */
int runner_result_json(const struct runner *r, char *buf, size_t len);

/* runner_result_write: runner_result_json into `fd` (opened, empty). Returns 0 or -errno. */
int runner_result_write(const struct runner *r, int fd);

#endif
