/*
 * agent.c: the agent protocol codec (agent.h): frame encoders, the
 * incremental frame parser and the payload decoders. No I/O and no state
 * outside the caller's structs, so ringvm, ringvm-init, the unit tests and
 * the fuzzer all drive the same code.
 */
#include <errno.h>
#include <string.h>

#include "agent.h"

/* Signals a Linux process can die of: 1.._NSIG-1, where _NSIG is 65. */
#define AGENT_SIG_MAX 64

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

const char *agent_type_name(uint8_t type)
{
	switch (type) {
	case AGENT_HELLO: return "HELLO";
	case AGENT_STDOUT: return "STDOUT";
	case AGENT_STDERR: return "STDERR";
	case AGENT_EXIT: return "EXIT";
	case AGENT_ERROR: return "ERROR";
	case AGENT_EXEC: return "EXEC";
	case AGENT_STDIN: return "STDIN";
	case AGENT_STDIN_EOF: return "STDIN_EOF";
	case AGENT_WINCH: return "WINCH";
	}
	return "?";
}

/*
 * agent_len_range: the payload sizes `type` allows, in [*min, *max].
 * Returns 0, or -1 for an unknown type. HELLO only needs its version field
 * here: agent_decode_hello tells a version mismatch from a bad frame.
 */
static int agent_len_range(uint8_t type, uint32_t *min, uint32_t *max)
{
	*max = AGENT_MAX_PAYLOAD;
	switch (type) {
	case AGENT_HELLO: *min = 4; break;
	case AGENT_STDOUT: case AGENT_STDERR: case AGENT_STDIN: *min = 1; break;
	case AGENT_EXIT: *min = *max = AGENT_EXIT_LEN; break;
	case AGENT_ERROR: *min = 5; break;
	case AGENT_EXEC: *min = AGENT_EXEC_FIXED_LEN; break;
	case AGENT_STDIN_EOF: *min = *max = 0; break;
	case AGENT_WINCH: *min = *max = AGENT_WINCH_LEN; break;
	default: return -1;
	}
	return 0;
}

void agent_parser_init(struct agent_parser *p, enum agent_dir dir)
{
	p->dir = dir;
	p->err = 0;
	p->hdr_have = 0;
	p->have = 0;
	p->type = 0;
	p->len = 0;
}

/* agent_check_hdr: validate p->hdr (complete); 0 or -EPROTO. */
static int agent_check_hdr(struct agent_parser *p)
{
	uint32_t min, max;
	int to_guest;

	p->type = p->hdr[0];
	p->len = get32(p->hdr + 4);
	if (agent_len_range(p->type, &min, &max))
		return -EPROTO;
	/* A message travelling the wrong way is as bad as an unknown one. */
	to_guest = (p->type & AGENT_TO_GUEST) != 0;
	if (to_guest != (p->dir == AGENT_DIR_TO_GUEST))
		return -EPROTO;
	if (p->hdr[1] | p->hdr[2] | p->hdr[3])
		return -EPROTO;
	/* Checked before a byte of payload is stored: the buffer is bounded. */
	if (p->len < min || p->len > max)
		return -EPROTO;
	return 0;
}

int agent_parse(struct agent_parser *p, const uint8_t **data, size_t *len,
    struct agent_msg *msg)
{
	if (p->err)
		return p->err;
	while (*len) {
		if (p->hdr_have < AGENT_HDR_LEN) {
			size_t take = AGENT_HDR_LEN - p->hdr_have;

			if (take > *len)
				take = *len;
			memcpy(p->hdr + p->hdr_have, *data, take);
			p->hdr_have += (uint32_t)take;
			*data += take;
			*len -= take;
			if (p->hdr_have < AGENT_HDR_LEN)
				return 0;
			if (agent_check_hdr(p)) {
				p->err = -EPROTO;
				return p->err;
			}
			p->have = 0;
		} else {
			size_t take = p->len - p->have;

			if (take > *len)
				take = *len;
			memcpy(p->payload + p->have, *data, take);
			p->have += (uint32_t)take;
			*data += take;
			*len -= take;
		}
		if (p->have == p->len)
			break;
	}
	if (p->hdr_have < AGENT_HDR_LEN || p->have < p->len)
		return 0;
	msg->type = p->type;
	msg->len = p->len;
	msg->payload = p->payload;
	p->hdr_have = 0;		/* the next call starts a new frame */
	p->have = 0;
	return 1;
}

/* agent_frame: write the header of a `plen`-byte frame of `type`; checks cap. */
static ssize_t agent_frame(void *buf, size_t cap, uint8_t type, size_t plen)
{
	uint8_t *b = buf;

	if (plen > AGENT_MAX_PAYLOAD || cap < AGENT_HDR_LEN || cap - AGENT_HDR_LEN < plen)
		return -E2BIG;
	b[0] = type;
	b[1] = b[2] = b[3] = 0;
	put32(b + 4, (uint32_t)plen);
	return (ssize_t)(AGENT_HDR_LEN + plen);
}

/* agent_add_len: *sum += strlen(s) + 1, capped; -1 once over the payload limit. */
static int agent_add_len(size_t *sum, const char *s)
{
	if (!s)
		return -1;
	*sum += strnlen(s, AGENT_MAX_PAYLOAD + 1) + 1;
	return *sum > AGENT_MAX_PAYLOAD ? -1 : 0;
}

ssize_t agent_encode_exec(void *buf, size_t cap, const struct agent_exec *e)
{
	size_t plen = AGENT_EXEC_FIXED_LEN;
	uint8_t *p;
	ssize_t n;

	if (!e->argc || (e->flags & ~AGENT_EXEC_FLAGS) || !e->hostname || !e->cwd ||
	    !e->argv || (e->envc && !e->envp))
		return -EINVAL;
	/* Each string adds at least 1 byte: counts past the limit fail early. */
	if (e->argc > AGENT_MAX_PAYLOAD || e->envc > AGENT_MAX_PAYLOAD)
		return -E2BIG;
	for (uint32_t i = 0; i < e->argc; i++)
		if (!e->argv[i])
			return -EINVAL;
	for (uint32_t i = 0; i < e->envc; i++)
		if (!e->envp[i])
			return -EINVAL;
	if (agent_add_len(&plen, e->hostname) || agent_add_len(&plen, e->cwd))
		return -E2BIG;
	for (uint32_t i = 0; i < e->argc; i++)
		if (agent_add_len(&plen, e->argv[i]))
			return -E2BIG;
	for (uint32_t i = 0; i < e->envc; i++)
		if (agent_add_len(&plen, e->envp[i]))
			return -E2BIG;
	n = agent_frame(buf, cap, AGENT_EXEC, plen);
	if (n < 0)
		return n;
	p = (uint8_t *)buf + AGENT_HDR_LEN;
	put32(p, e->flags);
	put32(p + 4, e->uid);
	put32(p + 8, e->gid);
	put16(p + 12, e->rows);
	put16(p + 14, e->cols);
	put32(p + 16, e->argc);
	put32(p + 20, e->envc);
	p += AGENT_EXEC_FIXED_LEN;
	for (uint32_t i = 0; i < 2 + e->argc + e->envc; i++) {
		const char *s = i == 0 ? e->hostname : i == 1 ? e->cwd :
		    i < 2 + e->argc ? e->argv[i - 2] : e->envp[i - 2 - e->argc];
		size_t l = strlen(s) + 1;

		memcpy(p, s, l);
		p += l;
	}
	return n;
}

/* agent_encode_data: a frame of `type` carrying data_len >= 1 bytes. */
static ssize_t agent_encode_data(void *buf, size_t cap, uint8_t type, const void *data,
    size_t data_len)
{
	ssize_t n;

	if (!data_len)
		return -EINVAL;
	n = agent_frame(buf, cap, type, data_len);
	if (n >= 0)
		memcpy((uint8_t *)buf + AGENT_HDR_LEN, data, data_len);
	return n;
}

ssize_t agent_encode_stdin(void *buf, size_t cap, const void *data, size_t data_len)
{
	return agent_encode_data(buf, cap, AGENT_STDIN, data, data_len);
}

ssize_t agent_encode_output(void *buf, size_t cap, uint8_t type, const void *data,
    size_t data_len)
{
	if (type != AGENT_STDOUT && type != AGENT_STDERR)
		return -EINVAL;
	return agent_encode_data(buf, cap, type, data, data_len);
}

ssize_t agent_encode_stdin_eof(void *buf, size_t cap)
{
	return agent_frame(buf, cap, AGENT_STDIN_EOF, 0);
}

ssize_t agent_encode_winch(void *buf, size_t cap, uint16_t rows, uint16_t cols)
{
	ssize_t n = agent_frame(buf, cap, AGENT_WINCH, AGENT_WINCH_LEN);

	if (n >= 0) {
		put16((uint8_t *)buf + AGENT_HDR_LEN, rows);
		put16((uint8_t *)buf + AGENT_HDR_LEN + 2, cols);
	}
	return n;
}

ssize_t agent_encode_hello(void *buf, size_t cap, uint64_t boot_ns)
{
	ssize_t n = agent_frame(buf, cap, AGENT_HELLO, AGENT_HELLO_LEN);

	if (n >= 0) {
		put32((uint8_t *)buf + AGENT_HDR_LEN, AGENT_VERSION);
		put64((uint8_t *)buf + AGENT_HDR_LEN + 4, boot_ns);
	}
	return n;
}

/* agent_exit_valid: status 0..255 with signal 0, or -1 with a real signal. */
static int agent_exit_valid(int32_t status, int32_t signal)
{
	if (status >= 0 && status <= 255)
		return signal == 0;
	return status == -1 && signal >= 1 && signal <= AGENT_SIG_MAX;
}

ssize_t agent_encode_exit(void *buf, size_t cap, int32_t status, int32_t signal)
{
	ssize_t n;

	if (!agent_exit_valid(status, signal))
		return -EINVAL;
	n = agent_frame(buf, cap, AGENT_EXIT, AGENT_EXIT_LEN);
	if (n >= 0) {
		put32((uint8_t *)buf + AGENT_HDR_LEN, (uint32_t)status);
		put32((uint8_t *)buf + AGENT_HDR_LEN + 4, (uint32_t)signal);
	}
	return n;
}

ssize_t agent_encode_error(void *buf, size_t cap, uint32_t code, const char *msg)
{
	size_t mlen = strnlen(msg, AGENT_MAX_PAYLOAD - 5);
	ssize_t n = agent_frame(buf, cap, AGENT_ERROR, 4 + mlen + 1);

	if (n >= 0) {
		uint8_t *p = (uint8_t *)buf + AGENT_HDR_LEN;

		put32(p, code);
		memcpy(p + 4, msg, mlen);
		p[4 + mlen] = '\0';
	}
	return n;
}

/* agent_fail: set *why and return -EPROTO (agent_decode_exec's faults). */
static int agent_fail(const char **why, const char *text)
{
	if (why)
		*why = text;
	return -EPROTO;
}

int agent_decode_exec(const struct agent_msg *m, struct agent_exec *e,
    const char **vec, size_t vec_len, const char **why)
{
	const uint8_t *p = m->payload, *end = m->payload + m->len;
	uint64_t nstr;

	if (m->type != AGENT_EXEC)
		return agent_fail(why, "EXEC expected");
	if (m->len < AGENT_EXEC_FIXED_LEN || m->len > AGENT_MAX_PAYLOAD)
		return agent_fail(why, "EXEC shorter than its fixed fields");
	e->flags = get32(p);
	e->uid = get32(p + 4);
	e->gid = get32(p + 8);
	e->rows = get16(p + 12);
	e->cols = get16(p + 14);
	e->argc = get32(p + 16);
	e->envc = get32(p + 20);
	if (e->flags & ~AGENT_EXEC_FLAGS)
		return agent_fail(why, "EXEC has unknown flags");
	if (!e->argc)
		return agent_fail(why, "EXEC has argc 0");
	/* 64-bit sum: two u32 counts cannot wrap it. Each string needs its NUL. */
	nstr = 2 + (uint64_t)e->argc + e->envc;
	if (nstr > m->len - AGENT_EXEC_FIXED_LEN)
		return agent_fail(why, "EXEC counts more strings than its bytes can hold");
	if (nstr > vec_len)
		return -E2BIG;
	p += AGENT_EXEC_FIXED_LEN;
	for (uint64_t i = 0; i < nstr; i++) {
		const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));
		size_t slot = i < 2 ? 0 : i < 2 + e->argc ? i - 2 : i - 1;

		if (!nul)
			return agent_fail(why, "EXEC has fewer NUL-terminated strings than argc + envc + 2");
		if (i == 0)
			e->hostname = (const char *)p;
		else if (i == 1)
			e->cwd = (const char *)p;
		else
			vec[slot] = (const char *)p;
		p = nul + 1;
	}
	if (p != end)
		return agent_fail(why, "EXEC has bytes after its last string");
	vec[e->argc] = NULL;
	vec[e->argc + 1 + e->envc] = NULL;
	e->argv = vec;
	e->envp = vec + e->argc + 1;
	return 0;
}

int agent_decode_winch(const struct agent_msg *m, uint16_t *rows, uint16_t *cols)
{
	if (m->type != AGENT_WINCH || m->len != AGENT_WINCH_LEN)
		return -EPROTO;
	*rows = get16(m->payload);
	*cols = get16(m->payload + 2);
	return 0;
}

int agent_decode_hello(const struct agent_msg *m, struct agent_hello *h)
{
	if (m->type != AGENT_HELLO || m->len < 4)
		return -EPROTO;
	h->version = get32(m->payload);
	if (h->version != AGENT_VERSION)
		return -EPROTONOSUPPORT;
	if (m->len != AGENT_HELLO_LEN)
		return -EPROTO;
	h->boot_ns = get64(m->payload + 4);
	return 0;
}

int agent_decode_exit(const struct agent_msg *m, struct agent_exit *x)
{
	if (m->type != AGENT_EXIT || m->len != AGENT_EXIT_LEN)
		return -EPROTO;
	x->status = (int32_t)get32(m->payload);
	x->signal = (int32_t)get32(m->payload + 4);
	return agent_exit_valid(x->status, x->signal) ? 0 : -EPROTO;
}

int agent_decode_error(const struct agent_msg *m, struct agent_error *er)
{
	if (m->type != AGENT_ERROR || m->len < 5 || m->len > AGENT_MAX_PAYLOAD)
		return -EPROTO;
	/* Exactly one string: its only NUL is the last byte. */
	if (m->payload[m->len - 1] != '\0' ||
	    memchr(m->payload + 4, '\0', m->len - 4) != m->payload + m->len - 1)
		return -EPROTO;
	er->code = get32(m->payload);
	er->msg = (const char *)m->payload + 4;
	return 0;
}
