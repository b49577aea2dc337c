/*
 * agent.h: the codec for the agent protocol (agent_proto.h), without any
 * I/O: encoders write whole frames into a caller's buffer, an incremental
 * parser turns a byte stream into messages, decoders check and unpack one
 * message's payload. ringvm (host side) and ringvm-init (guest side) link
 * the same src/agent.c.
 */
#ifndef RINGVM_AGENT_H
#define RINGVM_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent_proto.h"

/* Which messages a parser accepts: those travelling towards its owner. */
enum agent_dir {
	AGENT_DIR_TO_HOST = 0,		/* ringvm parses guest->host messages */
	AGENT_DIR_TO_GUEST = 1,		/* ringvm-init parses host->guest ones */
};

/* One parsed message. `payload` has `len` bytes. */
struct agent_msg {
	uint8_t type;			/* enum agent_type */
	uint32_t len;
	const uint8_t *payload;
};

/*
 * struct agent_parser: incremental frame parser state. It owns a payload
 * buffer of AGENT_MAX_PAYLOAD bytes, so a parser is about 64 KiB: allocate
 * it with its owner, not on a small stack.
 */
struct agent_parser {
	enum agent_dir dir;
	int err;			/* 0, or -EPROTO once a bad frame was seen */
	uint32_t hdr_have;		/* header bytes gathered */
	uint32_t have;			/* payload bytes gathered */
	uint8_t hdr[AGENT_HDR_LEN];
	uint8_t type;			/* of the frame being gathered */
	uint32_t len;
	uint8_t payload[AGENT_MAX_PAYLOAD];
};

/* The EXEC request, as encoded and as decoded. */
struct agent_exec {
	uint32_t flags;			/* AGENT_EXEC_* */
	uint32_t uid, gid;
	uint16_t rows, cols;
	uint32_t argc, envc;
	const char *hostname;
	const char *cwd;
	const char *const *argv;	/* argc strings; decoded: NULL-terminated */
	const char *const *envp;	/* envc strings; decoded: NULL-terminated */
};

struct agent_hello {
	uint32_t version;
	uint64_t boot_ns;
};

struct agent_exit {
	int32_t status;			/* 0..255, or -1 when killed by a signal */
	int32_t signal;			/* or 0 */
};

struct agent_error {
	uint32_t code;			/* AGENT_ERR_* */
	const char *msg;		/* NUL-terminated, inside the payload */
};

/*
 * agent_parser_init: make `p` empty, accepting messages that travel in
 * direction `dir`.
 */
void agent_parser_init(struct agent_parser *p, enum agent_dir dir);

/*
 * agent_parse: consume bytes from *data (*len of them) until one whole
 * message is gathered or the input ends. Advances *data and *len past what
 * it consumed, so the caller calls it again with the rest.
 * Returns 1 with *msg set when a message is complete (msg->payload stays
 * valid until the next agent_parse call on `p`), 0 when all input was
 * consumed without completing one, or -EPROTO for a bad frame (unknown
 * type, wrong direction, reserved bits set, len over AGENT_MAX_PAYLOAD or
 * not allowed for the type). A header is checked as soon as its 8 bytes
 * are in, before any payload is buffered. -EPROTO is sticky.
 */
int agent_parse(struct agent_parser *p, const uint8_t **data, size_t *len,
    struct agent_msg *msg);

/*
 * agent_encode_*: write one whole frame (header and payload) at buf, which
 * has `cap` bytes. Each returns the frame's length, -E2BIG when it does not
 * fit in `cap` or its payload would exceed AGENT_MAX_PAYLOAD, or -EINVAL
 * for arguments the protocol does not allow (named per function).
 */

/* -EINVAL: argc 0, a NULL string, or unknown flags. */
ssize_t agent_encode_exec(void *buf, size_t cap, const struct agent_exec *e);

/* -EINVAL: data_len 0. */
ssize_t agent_encode_stdin(void *buf, size_t cap, const void *data, size_t data_len);

ssize_t agent_encode_stdin_eof(void *buf, size_t cap);

ssize_t agent_encode_winch(void *buf, size_t cap, uint16_t rows, uint16_t cols);

ssize_t agent_encode_hello(void *buf, size_t cap, uint64_t boot_ns);

/* -EINVAL: type not AGENT_STDOUT or AGENT_STDERR, or data_len 0. */
ssize_t agent_encode_output(void *buf, size_t cap, uint8_t type, const void *data,
    size_t data_len);

/* -EINVAL: status outside -1..255, or signal set with status not -1. */
ssize_t agent_encode_exit(void *buf, size_t cap, int32_t status, int32_t signal);

/* `msg` is cut (not refused) to fit AGENT_MAX_PAYLOAD. */
ssize_t agent_encode_error(void *buf, size_t cap, uint32_t code, const char *msg);

/*
 * agent_decode_exec: check an EXEC message completely and unpack it into
 * *e, whose strings point into m->payload. `vec` receives argv, a NULL,
 * env, a NULL (e->argv and e->envp point into it); it needs
 * argc + envc + 2 entries (AGENT_EXEC_MAX_VEC always suffices).
 * Returns 0; -EPROTO for a malformed EXEC (wrong type, short fixed part,
 * unknown flags, argc 0, more strings counted than bytes could hold, a
 * string without its NUL, bytes after the last string), with *why set to
 * a static sentence naming the fault; -E2BIG when vec is too short.
 */
int agent_decode_exec(const struct agent_msg *m, struct agent_exec *e,
    const char **vec, size_t vec_len, const char **why);

/* agent_decode_winch: 0 and rows/cols, or -EPROTO. */
int agent_decode_winch(const struct agent_msg *m, uint16_t *rows, uint16_t *cols);

/*
 * agent_decode_hello: 0; -EPROTONOSUPPORT when the guest speaks another
 * version (h->version says which); -EPROTO when malformed.
 */
int agent_decode_hello(const struct agent_msg *m, struct agent_hello *h);

/* agent_decode_exit: 0, or -EPROTO (also for status/signal out of range). */
int agent_decode_exit(const struct agent_msg *m, struct agent_exit *x);

/* agent_decode_error: 0, or -EPROTO (message not one NUL-terminated string). */
int agent_decode_error(const struct agent_msg *m, struct agent_error *er);

/* agent_type_name: "HELLO", "EXEC"... or "?" for an unknown type. */
const char *agent_type_name(uint8_t type);

#endif
