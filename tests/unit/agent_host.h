/*
 * agent_host.h: a test double of ringvm's side of the agent protocol. It
 * starts `ringvm-init --agent-fd N` on one end of a socketpair and drives
 * a session the way ringvm will: read HELLO, send EXEC, stream stdin,
 * collect STDOUT/STDERR, take EXIT or ERROR, reap the agent.
 */
#ifndef RINGVM_AGENT_HOST_H
#define RINGVM_AGENT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent.h"

/* A growing byte buffer for what the command printed (capped at 64 MiB). */
struct ahost_buf {
	uint8_t *data;
	size_t len, cap;
};

struct ahost {
	pid_t pid;			/* the agent */
	int fd;				/* our end of the socketpair, non-blocking */
	int log_fd;			/* a memfd holding the agent's stderr */
	int agent_status;		/* its wait status, once reaped */
	struct agent_parser parser;	/* guest->host */
	struct agent_hello hello;
	struct ahost_buf out, err;	/* STDOUT and STDERR payloads */
	bool got_exit, got_error;
	struct agent_exit exit;
	uint32_t error_code;
	char error_msg[512];
	bool proto_fault;		/* the agent sent something invalid */
	struct ahost_buf tx;		/* frames queued for the agent; tx_off sent */
	size_t tx_off;
	const uint8_t *in_data;		/* stdin still to frame */
	size_t in_len;
	bool in_eof;			/* send STDIN_EOF after in_data */
	/* Called after each output frame; may queue frames (not from scratch,
	 * which holds unparsed input then). `step` is its state. */
	void (*on_output)(struct ahost *h);
	int step;
	bool stop;			/* set by on_output: ahost_run returns -ECANCELED */
	uint8_t scratch[AGENT_MAX_FRAME];	/* one frame being encoded or read */
};

/*
 * ahost_start: allocate and start an agent from `bin` in test mode and
 * read its HELLO. NULL on failure (with a reason on stderr).
 */
struct ahost *ahost_start(const char *bin);

/* ahost_queue: append one encoded frame (length n from an agent_encode_*). */
void ahost_queue(struct ahost *h, const void *frame, ssize_t n);

/* ahost_exec: queue the EXEC for `e`. */
void ahost_exec(struct ahost *h, const struct agent_exec *e);

/* ahost_stdin: stream `len` bytes as STDIN frames, then STDIN_EOF if `eof`. */
void ahost_stdin(struct ahost *h, const void *data, size_t len, bool eof);

/*
 * ahost_run: move bytes until EXIT or ERROR arrived, or the agent closed
 * the connection, then reap the agent (killing it after `timeout_ms`).
 * Returns 0 when the session ended with EXIT or ERROR, -ETIMEDOUT, 
 * -ECONNRESET when the connection ended without either, -EPROTO for a bad
 * frame, or -ECANCELED (agent left running) when on_output set `stop`.
 */
int ahost_run(struct ahost *h, int timeout_ms);

/* ahost_wait: reap the agent (killed after timeout_ms); its wait status or -1. */
int ahost_wait(struct ahost *h, int timeout_ms);

/*
 * ahost_clean: true unless the agent's stderr holds a sanitizer report
 * (an ASan finding exits 1, like a session that ended in ERROR).
 */
bool ahost_clean(struct ahost *h);

/* ahost_free: close, kill if still running, and free (AHOST_VERBOSE=1: print its stderr). */
void ahost_free(struct ahost *h);

/* ahost_has: does `b` contain the string `s`? */
bool ahost_has(const struct ahost_buf *b, const char *s);

#endif
