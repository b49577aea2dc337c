/*
 * fuzz_agent.c: the agent protocol codec (src/agent.c) against arbitrary
 * bytes from either side. The first input byte picks the direction and a
 * seed for cutting the rest into pieces; the rest is the stream.
 *
 * Invariants:
 * - the parser gives the same messages (type, length, payload) and fails
 *   at the same point whether the stream arrives whole or in pieces;
 *   it never consumes bytes after an error and never buffers more than
 *   AGENT_MAX_PAYLOAD;
 * - every message it gives travels the parser's direction and has a
 *   payload size its type allows;
 * - whatever a decoder accepts re-encodes to the very same frame (EXEC,
 *   HELLO, EXIT, ERROR, WINCH), so nothing is accepted that the encoder
 *   would not produce;
 * - the EXEC decoder also runs on the raw input as a payload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

#define CHECK(c) do { if (!(c)) fail(#c, __LINE__); } while (0)
#define MAX_MSGS 64

static void fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_agent: invariant broken at line %d: %s\n", line, what);
	abort();
}

/* What one parse of the stream produced. */
struct trace {
	int n;
	uint8_t type[MAX_MSGS];
	uint32_t len[MAX_MSGS];
	uint32_t sum[MAX_MSGS];
	size_t end;		/* stream offset where it stopped */
	int err;
};

static uint32_t sum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* reencode: a decoded message must encode back to the same bytes. */
static void reencode(const struct agent_msg *m)
{
	static uint8_t buf[AGENT_MAX_FRAME];
	static const char *vec[AGENT_EXEC_MAX_VEC];
	struct agent_exec e;
	struct agent_hello h;
	struct agent_exit x;
	struct agent_error er;
	uint16_t rows, cols;
	const char *why = NULL;
	ssize_t n = -1;

	switch (m->type) {
	case AGENT_EXEC:
		if (agent_decode_exec(m, &e, vec, AGENT_EXEC_MAX_VEC, &why)) {
			CHECK(why != NULL);
			return;
		}
		n = agent_encode_exec(buf, sizeof(buf), &e);
		break;
	case AGENT_HELLO:
		if (agent_decode_hello(m, &h))
			return;
		n = agent_encode_hello(buf, sizeof(buf), h.boot_ns);
		break;
	case AGENT_EXIT:
		if (agent_decode_exit(m, &x))
			return;
		n = agent_encode_exit(buf, sizeof(buf), x.status, x.signal);
		break;
	case AGENT_ERROR:
		if (agent_decode_error(m, &er))
			return;
		n = agent_encode_error(buf, sizeof(buf), er.code, er.msg);
		break;
	case AGENT_WINCH:
		CHECK(agent_decode_winch(m, &rows, &cols) == 0);
		n = agent_encode_winch(buf, sizeof(buf), rows, cols);
		break;
	default:
		return;
	}
	CHECK(n == (ssize_t)(AGENT_HDR_LEN + m->len));
	CHECK(buf[0] == m->type);
	CHECK(!memcmp(buf + AGENT_HDR_LEN, m->payload, m->len));
}

/* run: parse data in pieces chosen by `seed` (0: whole). */
static void run(struct agent_parser *p, enum agent_dir dir, const uint8_t *data, size_t size,
    uint32_t seed, struct trace *t)
{
	size_t pos = 0;

	agent_parser_init(p, dir);
	memset(t, 0, sizeof(*t));
	while (pos < size && !t->err) {
		size_t piece = size - pos;
		const uint8_t *d = data + pos;
		struct agent_msg m;
		size_t left;
		int r;

		if (seed) {
			seed = seed * 1103515245u + 12345u;
			piece = 1 + (seed >> 16) % (piece < 97 ? piece : 97);
		}
		left = piece;
		while ((r = agent_parse(p, &d, &left, &m)) == 1) {
			CHECK(m.len <= AGENT_MAX_PAYLOAD);
			CHECK(((m.type & AGENT_TO_GUEST) != 0) == (dir == AGENT_DIR_TO_GUEST));
			CHECK(strcmp(agent_type_name(m.type), "?"));
			if (t->n < MAX_MSGS) {
				t->type[t->n] = m.type;
				t->len[t->n] = m.len;
				t->sum[t->n] = sum(m.payload, m.len);
			}
			t->n++;
			reencode(&m);
		}
		if (r < 0) {
			t->err = r;
			CHECK(r == -EPROTO);
			/* Sticky, and nothing more consumed. */
			CHECK(agent_parse(p, &d, &left, &m) == -EPROTO);
		}
		pos += piece - left;
		if (!t->err)
			CHECK(left == 0);
	}
	t->end = pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct agent_parser p;
	static const char *vec[AGENT_EXEC_MAX_VEC];
	struct trace whole, cut;
	struct agent_exec e;
	struct agent_msg m;
	enum agent_dir dir;
	const char *why;

	if (size < 1)
		return 0;
	dir = data[0] & 1 ? AGENT_DIR_TO_GUEST : AGENT_DIR_TO_HOST;
	run(&p, dir, data + 1, size - 1, 0, &whole);
	run(&p, dir, data + 1, size - 1, data[0] | 1u, &cut);
	CHECK(whole.n == cut.n && whole.err == cut.err);
	CHECK(whole.end == cut.end);
	for (int i = 0; i < whole.n && i < MAX_MSGS; i++)
		CHECK(whole.type[i] == cut.type[i] && whole.len[i] == cut.len[i] &&
		    whole.sum[i] == cut.sum[i]);

	/* The EXEC decoder on the raw bytes, with no frame around them. */
	m.type = AGENT_EXEC;
	m.len = (uint32_t)(size - 1 < AGENT_MAX_PAYLOAD ? size - 1 : AGENT_MAX_PAYLOAD);
	m.payload = data + 1;
	why = NULL;
	if (agent_decode_exec(&m, &e, vec, AGENT_EXEC_MAX_VEC, &why) == 0) {
		CHECK(e.argc >= 1 && e.argv[e.argc] == NULL && e.envp[e.envc] == NULL);
		reencode(&m);
	} else {
		CHECK(why != NULL);
	}
	return 0;
}
