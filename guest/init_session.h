/*
 * init_session.h: the state of one agent session, private to
 * init_session.c (the protocol's phases: HELLO, EXEC, the end) and
 * init_relay.c (the poll loop relaying the command's stdio).
 */
#ifndef RINGVM_INIT_SESSION_H
#define RINGVM_INIT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "init.h"

#define INIT_SESSION_RX (16 * 1024)	/* socket bytes read per read() */
#define INIT_SESSION_CHUNK (32 * 1024)	/* output bytes per STDOUT/STDERR frame */
/* Two output frames in flight: one being sent, one being filled. */
#define INIT_SESSION_OUT_CAP (2 * (AGENT_HDR_LEN + INIT_SESSION_CHUNK))
#define INIT_SESSION_ERR_LEN 512	/* longest ERROR text */

/*
 * struct init_session: everything a session holds; no other state exists.
 * Bounded: the host can make the agent hold at most one parsed frame, one
 * read buffer and INIT_SESSION_OUT_CAP bytes of output; beyond that the
 * agent stops reading the side that is ahead (back-pressure).
 */
struct init_session {
	int fd;				/* the connection to ringvm, non-blocking */
	int sigfd;			/* the SIGCHLD signalfd, non-blocking */
	struct agent_parser parser;	/* host->guest frames */
	uint8_t rx[INIT_SESSION_RX];	/* read from fd; rx_len bytes at rx_off unparsed */
	size_t rx_off, rx_len;
	uint8_t out[INIT_SESSION_OUT_CAP];	/* frames queued for fd */
	size_t out_off, out_len;
	uint8_t chunk[INIT_SESSION_CHUNK];	/* one read of the command's output */
	struct init_child child;	/* fds are -1 once closed */
	int tty_master;			/* the pty master after its EIO, or -1 */
	const uint8_t *in_data;		/* STDIN bytes not yet written (in parser's buffer) */
	size_t in_len;
	bool in_eof;			/* STDIN_EOF received */
	bool eof_pending;		/* ... but stdin data before it is still pending */
	uint8_t eof_char;		/* tty mode: the byte STDIN_EOF types */
	bool exited;			/* the command was reaped */
	int wstatus;			/* its wait status */
	bool exit_queued;		/* EXIT is in `out` */
	const char *vec[AGENT_EXEC_MAX_VEC];	/* EXEC's argv and env pointers */
	char err[INIT_SESSION_ERR_LEN];
};

/*
 * init_session_queue: append the frame an agent_encode_* call returned
 * (its length `n`, or -errno) to s->out, which the caller made room for.
 * Returns 0 or that -errno.
 */
int init_session_queue(struct init_session *s, ssize_t n);

/* init_session_room: free bytes at the end of s->out, compacting first. */
size_t init_session_room(struct init_session *s);

/*
 * init_session_flush: write what s->out holds without blocking.
 * Returns 0 (possibly with bytes left), or -errno when the host is gone.
 */
int init_session_flush(struct init_session *s);

/* init_session_reap: reap every ended child; note the command's status. */
void init_session_reap(struct init_session *s);

/*
 * init_relay_run: relay the running command's stdio until it exited, its
 * output reached end of file and EXIT (after sync()) was sent.
 * Returns 0, -EPROTO when the host broke the protocol (ERROR 125 is queued),
 * or another -errno when the connection failed.
 */
int init_relay_run(struct init_session *s);

#endif
