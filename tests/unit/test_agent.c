/*
 * test_agent.c: the agent protocol codec (src/agent.c): EXEC round trip
 * and every malformed EXEC, the frame parser over arbitrary byte splits,
 * its refusals (oversized, unknown, misdirected, short or long payloads),
 * and the other encoders and decoders.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "unit.h"

static struct unit u = { .file = "agent" };

/* A raw frame with any header fields, for what the encoders refuse to make. */
static size_t raw(uint8_t *buf, uint8_t type, uint8_t rsv, uint32_t len, const void *pl,
    size_t pl_len)
{
	buf[0] = type;
	buf[1] = rsv;
	buf[2] = buf[3] = 0;
	for (int i = 0; i < 4; i++)
		buf[4 + i] = (uint8_t)(len >> (8 * i));
	if (pl_len)
		memcpy(buf + 8, pl, pl_len);
	return 8 + pl_len;
}

/* parse_one: feed buf whole to a fresh parser; its result and the message. */
static int parse_one(struct agent_parser *p, enum agent_dir dir, const uint8_t *buf,
    size_t len, struct agent_msg *m)
{
	agent_parser_init(p, dir);
	return agent_parse(p, &buf, &len, m);
}

static const char *const argv_ok[] = { "sh", "-c", "echo \"hi\"; exit 3", "" };
static const char *const env_ok[] = { "A=1", "EMPTY=", "PATH=/bin" };

static struct agent_exec exec_ok(void)
{
	return (struct agent_exec){ .flags = AGENT_EXEC_TTY | AGENT_EXEC_NET_USER,
	    .uid = 1000, .gid = 100, .rows = 24, .cols = 80, .argc = 4, .envc = 3,
	    .hostname = "box", .cwd = "/work", .argv = argv_ok, .envp = env_ok };
}

static void test_exec_round_trip(struct agent_parser *p, uint8_t *buf)
{
	struct agent_exec in = exec_ok(), out;
	static const char *vec[AGENT_EXEC_MAX_VEC];
	struct agent_msg m;
	const char *why = NULL;
	ssize_t n = agent_encode_exec(buf, AGENT_MAX_FRAME, &in);
	bool same;

	UNIT_OK(&u, n > 0 && parse_one(p, AGENT_DIR_TO_GUEST, buf, (size_t)n, &m) == 1 &&
	    m.type == AGENT_EXEC && m.len == (size_t)n - AGENT_HDR_LEN, "EXEC: encoded frame parses");
	UNIT_OK(&u, agent_decode_exec(&m, &out, vec, AGENT_EXEC_MAX_VEC, &why) == 0, "EXEC: decodes");
	same = out.flags == in.flags && out.uid == 1000 && out.gid == 100 && out.rows == 24 &&
	    out.cols == 80 && out.argc == 4 && out.envc == 3 && !strcmp(out.hostname, "box") &&
	    !strcmp(out.cwd, "/work") && !out.argv[4] && !out.envp[3];
	for (int i = 0; same && i < 4; i++)
		same = !strcmp(out.argv[i], argv_ok[i]);
	for (int i = 0; same && i < 3; i++)
		same = !strcmp(out.envp[i], env_ok[i]);
	UNIT_OK(&u, same, "EXEC: every field and string survives the round trip");
	UNIT_OK(&u, agent_decode_exec(&m, &out, vec, 8, &why) == -E2BIG,
	    "EXEC: a vector shorter than argc + envc + 2 is refused");

	in.envc = 0;
	in.envp = NULL;
	n = agent_encode_exec(buf, AGENT_MAX_FRAME, &in);
	UNIT_OK(&u, n > 0 && parse_one(p, AGENT_DIR_TO_GUEST, buf, (size_t)n, &m) == 1 &&
	    agent_decode_exec(&m, &out, vec, AGENT_EXEC_MAX_VEC, &why) == 0 && out.envc == 0 &&
	    out.envp[0] == NULL, "EXEC: envc 0 round trip");
	UNIT_OK(&u, agent_encode_exec(buf, (size_t)n, &in) == n &&
	    agent_encode_exec(buf, (size_t)n - 1, &in) == -E2BIG, "EXEC: exact fit, one byte short");
}

static void test_exec_encode_refusals(uint8_t *buf)
{
	struct agent_exec e = exec_ok();
	char *big = malloc(AGENT_MAX_PAYLOAD);
	const char *bigv[1] = { big };

	e.argc = 0;
	UNIT_OK(&u, agent_encode_exec(buf, AGENT_MAX_FRAME, &e) == -EINVAL, "encode EXEC: argc 0 refused");
	e = exec_ok();
	e.flags = 0x80;
	UNIT_OK(&u, agent_encode_exec(buf, AGENT_MAX_FRAME, &e) == -EINVAL, "encode EXEC: unknown flag refused");
	e = exec_ok();
	e.cwd = NULL;
	UNIT_OK(&u, agent_encode_exec(buf, AGENT_MAX_FRAME, &e) == -EINVAL, "encode EXEC: NULL string refused");
	memset(big, 'x', AGENT_MAX_PAYLOAD - 1);
	big[AGENT_MAX_PAYLOAD - 1] = '\0';
	e = exec_ok();
	e.argc = 1;
	e.argv = bigv;
	UNIT_OK(&u, agent_encode_exec(buf, AGENT_MAX_FRAME, &e) == -E2BIG,
	    "encode EXEC: payload over 64 KiB refused");
	free(big);
}

/* exec_payload: the fixed part of an EXEC with these counts, then `tail`. */
static uint32_t exec_payload(uint8_t *pl, uint32_t flags, uint32_t argc, uint32_t envc,
    const char *tail, size_t tail_len)
{
	memset(pl, 0, AGENT_EXEC_FIXED_LEN);
	memcpy(pl, &flags, 4);	/* the tests run on little-endian x86-64 */
	memcpy(pl + 16, &argc, 4);
	memcpy(pl + 20, &envc, 4);
	memcpy(pl + AGENT_EXEC_FIXED_LEN, tail, tail_len);
	return (uint32_t)(AGENT_EXEC_FIXED_LEN + tail_len);
}

static void test_exec_malformed(void)
{
	static const struct {
		uint32_t flags, argc, envc;
		const char *tail;
		size_t tail_len;
		const char *name;
	} bad[] = {
		{ 0, 0, 0, "h\0/\0", 4, "argc 0" },
		{ 4, 1, 0, "h\0/\0a\0", 6, "unknown flag 4" },
		{ 0, 2, 0, "h\0/\0a\0", 6, "argc counts one string too many" },
		{ 0, 1, 1, "h\0/\0a\0", 6, "envc counts one string too many" },
		{ 0, 0xffffffffu, 0, "h\0/\0a\0", 6, "argc 2^32-1" },
		{ 0, 0x80000000u, 0x80000000u, "h\0/\0a\0", 6, "argc + envc wrap 32 bits" },
		{ 0, 1, 0, "h\0/\0abc", 7, "last string without its NUL" },
		{ 0, 1, 0, "h\0/\0a\0zz", 8, "trailing bytes after the last string" },
		{ 0, 1, 0, "h\0/\0a\0\0", 7, "one trailing NUL" },
		{ 0, 1, 0, "h\0/", 3, "cwd without its NUL, no argv" },
	};
	static uint8_t pl[256];
	static const char *vec[AGENT_EXEC_MAX_VEC];
	struct agent_exec e;
	struct agent_msg m = { .type = AGENT_EXEC, .payload = pl };
	const char *why;
	char name[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m.len = exec_payload(pl, bad[i].flags, bad[i].argc, bad[i].envc, bad[i].tail,
		    bad[i].tail_len);
		why = NULL;
		snprintf(name, sizeof(name), "decode EXEC refuses %s", bad[i].name);
		UNIT_OK(&u, agent_decode_exec(&m, &e, vec, AGENT_EXEC_MAX_VEC, &why) == -EPROTO &&
		    why && strstr(why, "EXEC"), name);
	}
	m.len = AGENT_EXEC_FIXED_LEN - 1;
	UNIT_OK(&u, agent_decode_exec(&m, &e, vec, AGENT_EXEC_MAX_VEC, &why) == -EPROTO,
	    "decode EXEC refuses a short fixed part");
	m.len = exec_payload(pl, 0, 1, 0, "\0\0a\0", 4);
	UNIT_OK(&u, agent_decode_exec(&m, &e, vec, AGENT_EXEC_MAX_VEC, &why) == 0 &&
	    !strcmp(e.argv[0], "a") && !e.hostname[0] && !e.cwd[0],
	    "decode EXEC takes the smallest valid one (empty hostname and cwd)");
	m.type = AGENT_STDIN;
	UNIT_OK(&u, agent_decode_exec(&m, &e, vec, AGENT_EXEC_MAX_VEC, &why) == -EPROTO,
	    "decode EXEC refuses another type");
}

/* A host->guest stream of several frames; fills `want` with the payload sizes. */
static size_t host_stream(uint8_t *buf, uint32_t *want_len, uint8_t *want_type)
{
	static uint8_t data[AGENT_MAX_PAYLOAD];
	struct agent_exec e = exec_ok();
	size_t n = 0;
	ssize_t r;
	int k = 0;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
#define ADD(call, t) do { r = (call); want_type[k] = (t); \
	want_len[k++] = (uint32_t)r - AGENT_HDR_LEN; n += (size_t)r; } while (0)
	ADD(agent_encode_exec(buf + n, AGENT_MAX_FRAME, &e), AGENT_EXEC);
	ADD(agent_encode_stdin(buf + n, AGENT_MAX_FRAME, data, 1), AGENT_STDIN);
	ADD(agent_encode_winch(buf + n, AGENT_MAX_FRAME, 50, 132), AGENT_WINCH);
	ADD(agent_encode_stdin(buf + n, AGENT_MAX_FRAME, data, sizeof(data)), AGENT_STDIN);
	ADD(agent_encode_stdin(buf + n, AGENT_MAX_FRAME, data, 777), AGENT_STDIN);
	ADD(agent_encode_stdin_eof(buf + n, AGENT_MAX_FRAME), AGENT_STDIN_EOF);
#undef ADD
	want_type[k] = 0;
	return n;
}

/* feed: parse `stream` cut at the offsets chosen by `next_cut`; 1 if all messages match. */
static int feed(struct agent_parser *p, const uint8_t *stream, size_t len, const uint32_t *want_len,
    const uint8_t *want_type, size_t (*next_cut)(size_t pos, size_t len, uint32_t *state),
    uint32_t seed)
{
	size_t pos = 0;
	int k = 0;

	agent_parser_init(p, AGENT_DIR_TO_GUEST);
	while (pos < len) {
		size_t cut = next_cut(pos, len, &seed);
		const uint8_t *d = stream + pos;
		size_t left = cut - pos;
		struct agent_msg m;
		int r;

		while ((r = agent_parse(p, &d, &left, &m)) == 1) {
			if (!want_type[k] || m.type != want_type[k] || m.len != want_len[k])
				return 0;
			if (m.type == AGENT_STDIN && m.payload[m.len - 1] != (uint8_t)((m.len - 1) * 7 + 3))
				return 0;
			k++;
		}
		if (r < 0 || left)
			return 0;
		pos = cut;
	}
	return !want_type[k];
}

static size_t cut_bytewise(size_t pos, size_t len, uint32_t *st)
{
	return pos + 1;
}

static size_t cut_random(size_t pos, size_t len, uint32_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 17;
	*st ^= *st << 5;
	/* Mostly small pieces, sometimes large ones. */
	size_t step = 1 + (*st % ((*st & 0x100) ? 70000 : 20));
	return pos + step > len ? len : pos + step;
}

static size_t cut_at_seed(size_t pos, size_t len, uint32_t *st)
{
	return pos < *st ? *st : len;
}

static void test_parser_splits(struct agent_parser *p, uint8_t *stream)
{
	uint32_t want_len[16];
	uint8_t want_type[16];
	size_t len = host_stream(stream, want_len, want_type);
	int ok = 1;

	UNIT_OK(&u, feed(p, stream, len, want_len, want_type, cut_at_seed, (uint32_t)len),
	    "parser: the whole stream at once");
	UNIT_OK(&u, feed(p, stream, len, want_len, want_type, cut_bytewise, 0),
	    "parser: one byte at a time");
	for (uint32_t seed = 1; ok && seed <= 200; seed++)
		ok = feed(p, stream, len, want_len, want_type, cut_random, seed);
	UNIT_OK(&u, ok, "parser: 200 random splittings");
	/* Every two-piece split around the frame boundaries of the first frames. */
	for (uint32_t c = 1; ok && c < 600 && c < len; c++)
		ok = feed(p, stream, len, want_len, want_type, cut_at_seed, c);
	UNIT_OK(&u, ok, "parser: every cut in the first 600 bytes");
}

static void test_parser_refusals(struct agent_parser *p, uint8_t *buf)
{
	static const struct {
		enum agent_dir dir;
		uint8_t type, rsv;
		uint32_t len;
		const char *name;
	} bad[] = {
		{ AGENT_DIR_TO_GUEST, AGENT_STDIN, 0, AGENT_MAX_PAYLOAD + 1, "oversized STDIN" },
		{ AGENT_DIR_TO_HOST, AGENT_STDOUT, 0, 0xffffffffu, "len 2^32-1" },
		{ AGENT_DIR_TO_GUEST, 0x42, 0, 0, "unknown type 0x42" },
		{ AGENT_DIR_TO_GUEST, 0x00, 0, 0, "type 0" },
		{ AGENT_DIR_TO_HOST, 0x80, 0, 0, "type 0x80" },
		{ AGENT_DIR_TO_GUEST, AGENT_STDOUT, 0, 4, "STDOUT sent to the guest" },
		{ AGENT_DIR_TO_HOST, AGENT_EXEC, 0, 30, "EXEC sent to the host" },
		{ AGENT_DIR_TO_GUEST, AGENT_STDIN, 1, 4, "a reserved byte set" },
		{ AGENT_DIR_TO_GUEST, AGENT_STDIN, 0, 0, "empty STDIN" },
		{ AGENT_DIR_TO_GUEST, AGENT_STDIN_EOF, 0, 1, "STDIN_EOF with a payload" },
		{ AGENT_DIR_TO_GUEST, AGENT_WINCH, 0, 3, "short WINCH" },
		{ AGENT_DIR_TO_GUEST, AGENT_EXEC, 0, 23, "short EXEC" },
		{ AGENT_DIR_TO_HOST, AGENT_EXIT, 0, 9, "long EXIT" },
		{ AGENT_DIR_TO_HOST, AGENT_HELLO, 0, 3, "HELLO without a version" },
		{ AGENT_DIR_TO_HOST, AGENT_ERROR, 0, 4, "ERROR without a message" },
	};
	struct agent_msg m;
	char name[128];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Only the header: refused before any payload is buffered. */
		n = raw(buf, bad[i].type, bad[i].rsv, bad[i].len, NULL, 0);
		snprintf(name, sizeof(name), "parser refuses %s from its header", bad[i].name);
		UNIT_OK(&u, parse_one(p, bad[i].dir, buf, n, &m) == -EPROTO, name);
	}
	UNIT_OK(&u, agent_parse(p, &(const uint8_t *){ buf }, &(size_t){ 8 }, &m) == -EPROTO,
	    "parser: an error is sticky");
	n = raw(buf, AGENT_STDIN, 0, AGENT_MAX_PAYLOAD, NULL, 0);
	memset(buf + 8, 0xa5, AGENT_MAX_PAYLOAD);
	UNIT_OK(&u, parse_one(p, AGENT_DIR_TO_GUEST, buf, n + AGENT_MAX_PAYLOAD, &m) == 1 &&
	    m.len == AGENT_MAX_PAYLOAD && m.payload[AGENT_MAX_PAYLOAD - 1] == 0xa5,
	    "parser takes a payload of exactly AGENT_MAX_PAYLOAD");
	UNIT_OK(&u, parse_one(p, AGENT_DIR_TO_GUEST, buf, 7, &m) == 0,
	    "parser: 7 header bytes are not a message yet");
}

static void test_small_messages(struct agent_parser *p, uint8_t *buf)
{
	struct agent_msg m;
	struct agent_hello h;
	struct agent_exit x;
	struct agent_error er;
	uint16_t rows, cols;
	static const int32_t exits[][2] = { { 0, 0 }, { 42, 0 }, { 255, 0 }, { -1, 9 }, { -1, 64 } };
	static const int32_t bad_exits[][2] = { { 256, 0 }, { -2, 0 }, { -1, 0 }, { 0, 9 }, { -1, 65 } };
	uint8_t pl[16];
	ssize_t n;
	int ok = 1;

	n = agent_encode_hello(buf, 64, 123456789012345ull);
	UNIT_OK(&u, n == 20 && parse_one(p, AGENT_DIR_TO_HOST, buf, 20, &m) == 1 &&
	    agent_decode_hello(&m, &h) == 0 && h.version == AGENT_VERSION &&
	    h.boot_ns == 123456789012345ull, "HELLO round trip");
	buf[8] = 2;
	UNIT_OK(&u, parse_one(p, AGENT_DIR_TO_HOST, buf, 20, &m) == 1 &&
	    agent_decode_hello(&m, &h) == -EPROTONOSUPPORT && h.version == 2,
	    "HELLO from version 2: -EPROTONOSUPPORT, version reported");
	memset(pl, 0, sizeof(pl));
	pl[0] = 1;
	n = (ssize_t)raw(buf, AGENT_HELLO, 0, 16, pl, 16);
	UNIT_OK(&u, parse_one(p, AGENT_DIR_TO_HOST, buf, (size_t)n, &m) == 1 &&
	    agent_decode_hello(&m, &h) == -EPROTO, "HELLO v1 with a wrong length is refused");

	for (size_t i = 0; i < 5; i++) {
		n = agent_encode_exit(buf, 64, exits[i][0], exits[i][1]);
		ok = ok && n == 16 && parse_one(p, AGENT_DIR_TO_HOST, buf, 16, &m) == 1 &&
		    agent_decode_exit(&m, &x) == 0 && x.status == exits[i][0] && x.signal == exits[i][1];
	}
	UNIT_OK(&u, ok, "EXIT round trips: 0, 42, 255, signal 9, signal 64");
	for (size_t i = 0; i < 5; i++) {
		memcpy(pl, bad_exits[i], 8);
		raw(buf, AGENT_EXIT, 0, 8, pl, 8);
		ok = ok && agent_encode_exit(buf + 100, 64, bad_exits[i][0], bad_exits[i][1]) == -EINVAL &&
		    parse_one(p, AGENT_DIR_TO_HOST, buf, 16, &m) == 1 && agent_decode_exit(&m, &x) == -EPROTO;
	}
	UNIT_OK(&u, ok, "EXIT out of range: refused by the encoder and the decoder");

	n = agent_encode_error(buf, 128, AGENT_ERR_NOTFOUND, "nope: No such file");
	UNIT_OK(&u, n > 0 && parse_one(p, AGENT_DIR_TO_HOST, buf, (size_t)n, &m) == 1 &&
	    agent_decode_error(&m, &er) == 0 && er.code == 127 && !strcmp(er.msg, "nope: No such file"),
	    "ERROR round trip");
	n = (ssize_t)raw(buf, AGENT_ERROR, 0, 8, "\x7f\0\0\0a\0b\0", 8);
	UNIT_OK(&u, parse_one(p, AGENT_DIR_TO_HOST, buf, (size_t)n, &m) == 1 &&
	    agent_decode_error(&m, &er) == -EPROTO, "ERROR with a NUL inside its text is refused");
	n = (ssize_t)raw(buf, AGENT_ERROR, 0, 6, "\x7f\0\0\0ab", 6);
	UNIT_OK(&u, parse_one(p, AGENT_DIR_TO_HOST, buf, (size_t)n, &m) == 1 &&
	    agent_decode_error(&m, &er) == -EPROTO, "ERROR without its NUL is refused");

	n = agent_encode_winch(buf, 64, 33, 101);
	UNIT_OK(&u, n == 12 && parse_one(p, AGENT_DIR_TO_GUEST, buf, 12, &m) == 1 &&
	    agent_decode_winch(&m, &rows, &cols) == 0 && rows == 33 && cols == 101, "WINCH round trip");
	UNIT_OK(&u, agent_encode_stdin_eof(buf, 8) == 8 && agent_encode_stdin_eof(buf, 7) == -E2BIG,
	    "STDIN_EOF is a bare header");
	UNIT_OK(&u, agent_encode_stdin(buf, 64, "x", 0) == -EINVAL &&
	    agent_encode_output(buf, 64, AGENT_STDIN, "x", 1) == -EINVAL &&
	    agent_encode_output(buf, 64, AGENT_STDERR, "x", 1) == 9,
	    "data encoders: empty data and a wrong type refused");
	UNIT_OK(&u, !strcmp(agent_type_name(AGENT_WINCH), "WINCH") && !strcmp(agent_type_name(0x42), "?"),
	    "type names");
}

int main(void)
{
	struct agent_parser *p = malloc(sizeof(*p));
	uint8_t *buf = malloc(8 * AGENT_MAX_FRAME);

	if (!p || !buf)
		return 1;
	test_exec_round_trip(p, buf);
	test_exec_encode_refusals(buf);
	test_exec_malformed();
	test_parser_splits(p, buf);
	test_parser_refusals(p, buf);
	test_small_messages(p, buf);
	free(buf);
	free(p);
	return unit_done(&u);
}
