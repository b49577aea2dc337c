/*
 * fuzz_arm64_image.c: the arm64 Image checks (src/arch/arm64/image.c) on
 * raw bytes, built on any host (the parser needs no arm64 header).
 *
 * Input: an 8-byte prefix, then the file's first bytes.
 *   0..7   how many bytes the whole file claims beyond those given (a file
 *          longer than what was read, as for any real kernel), capped at
 *          2^40
 *
 * Invariants: a refusal has a one-line reason; an acceptance means the
 * file is at least the 64-byte header, has the magic and the little-endian
 * flag, text_offset is page aligned below 2 MiB, image_size covers the
 * file and is at most IMAGE_MAX, and, for a file with a PE signature, the
 * parser read nothing past the bytes it was given (ASan checks that).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_info i;
	char why[256];
	uint64_t extra = 0, file;
	size_t n;
	uint8_t *h;

	if (size < 8)
		return 0;
	memcpy(&extra, data, 8);
	extra &= (1ull << 40) - 1;
	data += 8;
	size -= 8;
	n = size < IMAGE_READ_LEN ? size : IMAGE_READ_LEN;
	file = size + extra;
	/* Exactly n bytes, so that ASan sees any read past them. */
	h = malloc(n ? n : 1);
	if (!h)
		return 0;
	memcpy(h, data, n);
	why[0] = '\0';
	if (image_parse(h, n, file, &i, why, sizeof(why)) == 0) {
		if (file < 64 || memcmp(h + 0x38, "ARM\x64", 4) || (h[0x18] & 1) ||
		    i.text_offset >= (2u << 20) || (i.text_offset & 0xfff) ||
		    i.image_size < file || i.image_size > IMAGE_MAX)
			abort();
	} else if (!why[0] || strchr(why, '\n')) {
		abort();
	}
	free(h);
	return 0;
}
