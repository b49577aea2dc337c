/*
 * fuzz_kimage.c: the bzImage payload finder and the six decompressors
 * behind it (src/arch/x86/kimage.c) on raw bytes.
 *
 * Input: byte 0 picks the mode.
 *   even  the rest is a bzImage file: kimage_payload, then kimage_unpack
 *   odd   the rest is a payload (stream, then the 4-byte size trailer):
 *         kimage_unpack straight away, which reaches the decoders with no
 *         setup header to get through
 * The unpack bound is 1 MiB here (KIMAGE_MAX_OUT in ringvm), so a bomb is
 * cut short quickly.
 *
 * Invariants: a refusal is one non-empty line with status 3 (or 1 for
 * memory) and no output; an accepted payload lies inside the file; an
 * accepted unpack is exactly the trailer's size, at most the bound, and an
 * x86-64 ELF whose program headers lie inside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kimage.h"
#include "log.h"

#define FUZZ_BOUND (1u << 20)

#define CHECK(c) do { if (!(c)) fail(#c, __LINE__); } while (0)

static void fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_kimage: invariant broken at line %d: %s\n", line, what);
	abort();
}

static void check_refusal(const struct rv_err *err)
{
	CHECK(err->msg[0] && !strchr(err->msg, '\n'));
	CHECK(err->status == RV_EXIT_BADFILE || err->status == RV_EXIT_FAILURE);
}

static void unpack(const struct kimage_payload *p)
{
	struct rv_err err = { 0 };
	uint8_t *out = NULL;
	size_t len = 0;

	if (kimage_unpack(p, FUZZ_BOUND, &out, &len, &err)) {
		CHECK(!out);
		check_refusal(&err);
		return;
	}
	CHECK(out && len == p->out_len && len <= FUZZ_BOUND);
	CHECK(!kimage_check_elf(out, len, &err));
	kimage_free(out, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kimage_payload p = { 0 };
	struct rv_err err = { 0 };

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		size--;
		data++;
		if (size < 5)
			return 0;
		p.data = data;
		p.len = size - 4;
		memcpy(&p.out_len, data + p.len, 4);
		p.fmt = kimage_sniff(p.data, p.len);
		unpack(&p);
		return 0;
	}
	if (kimage_payload(data + 1, size - 1, &p, &err)) {
		check_refusal(&err);
		return 0;
	}
	CHECK(p.data >= data + 1 && p.len + 4 <= size - 1 &&
	    (size_t)(p.data - (data + 1)) <= size - 1 - p.len - 4);
	CHECK(p.fmt != KIMAGE_UNKNOWN);
	unpack(&p);
	return 0;
}
