/*
 * image.c (arm64): the arm64 Linux Image header, checked against its file
 * before anything is loaded: the magic, the endianness, text_offset and
 * image_size, and, since the header holds no file size, the PE/COFF
 * headers of a kernel with the EFI stub, whose sections must lie inside the
 * file (a truncated Image is refused, not booted). Pure: no file, no KVM,
 * so a unit test and a fuzz target run it on any host.
 * Reference: Documentation/arch/arm64/booting.rst; the PE/COFF format.
 *
 * Exported (contract in image.h): image_parse.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "image.h"

#define IMAGE_HEAD_LEN 64		/* the Image header */
#define IMAGE_PE_MAX_SECTIONS 96
#define IMAGE_MAGIC 0x644d5241u		/* "ARM\x64" at 0x38 */
#define IMAGE_FLAG_BE (1u << 0)		/* flags bit 0: big-endian kernel */
#define IMAGE_OLD_TEXT_OFFSET 0x80000u	/* image_size 0 (before 3.17): this offset */
#define IMAGE_2M (2ull << 20)

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/*
 * image_pe_end: a kernel with the EFI stub (Debian's) is also a PE/COFF
 * file: "MZ" at 0, the PE header's offset at 0x3c, and a section table
 * saying where each section's bytes lie in the file. The Image header has
 * no file size, so this is how a truncated Image is told apart: the end of
 * the last section's bytes, or 0 when the file has no PE headers. The head
 * holds `n` bytes (IMAGE_READ_LEN, 4 KiB, where Linux's PE headers always
 * are); a table beyond them (or beyond the file) is refused as truncation
 * too: UINT64_MAX.
 */
static uint64_t image_pe_end(const uint8_t *h, size_t n)
{
	uint64_t pe, tab, end = 0;
	unsigned nsec;

	if (n < IMAGE_HEAD_LEN || h[0] != 'M' || h[1] != 'Z')
		return 0;
	pe = rd32(h + 0x3c);
	if (pe > n - 24 || memcmp(h + pe, "PE\0\0", 4))
		return pe > n - 24 ? UINT64_MAX : 0;
	nsec = rd16(h + pe + 6);
	tab = pe + 24 + rd16(h + pe + 20);
	if (nsec > IMAGE_PE_MAX_SECTIONS || tab + 40ull * nsec > n)
		return UINT64_MAX;
	for (unsigned i = 0; i < nsec; i++) {
		const uint8_t *sec = h + tab + 40ull * i;
		uint64_t e = (uint64_t)rd32(sec + 20) + rd32(sec + 16);	/* PointerToRawData + SizeOfRawData */

		if (e > end)
			end = e;
	}
	return end;
}

int image_parse(const uint8_t *h, size_t n, uint64_t size, struct image_info *out, char *why,
    size_t len)
{
	uint64_t pe_end;

	if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) {
		snprintf(why, len, "is gzip-compressed (an Image.gz): ringvm boots the "
		    "uncompressed Image; unpack it with gunzip");
		return -1;
	}
	if (n < IMAGE_HEAD_LEN || size < IMAGE_HEAD_LEN) {
		snprintf(why, len, "is too small to be a kernel (%" PRIu64 " bytes)", size);
		return -1;
	}
	if (rd32(h + 0x38) != IMAGE_MAGIC) {
		snprintf(why, len, "is not an arm64 Image (no ARM\\x64 magic at 0x38)");
		return -1;
	}
	out->text_offset = rd64(h + 0x08);
	out->image_size = rd64(h + 0x10);
	if (rd64(h + 0x18) & IMAGE_FLAG_BE) {
		snprintf(why, len, "is a big-endian kernel; ringvm runs little-endian guests");
		return -1;
	}
	if (out->image_size == 0) {
		/* Before 3.17: no size; the whole file, at the old fixed offset. */
		out->text_offset = IMAGE_OLD_TEXT_OFFSET;
		out->image_size = size;
	}
	if (out->text_offset >= IMAGE_2M || (out->text_offset & 0xfff)) {
		snprintf(why, len, "asks for text_offset %#" PRIx64 " (must be page aligned, "
		    "below 2 MiB)", out->text_offset);
		return -1;
	}
	/* image_size covers the file's text and data plus bss: never less than the file. */
	if (out->image_size < size) {
		snprintf(why, len, "says its image is %" PRIu64 " bytes, but the file has %" PRIu64,
		    out->image_size, size);
		return -1;
	}
	if (out->image_size > IMAGE_MAX) {
		snprintf(why, len, "says its image is %" PRIu64 " bytes, more than guest RAM can "
		    "hold (512 GiB)", out->image_size);
		return -1;
	}
	pe_end = image_pe_end(h, n);
	if (pe_end > size) {
		if (pe_end == UINT64_MAX)
			snprintf(why, len, "is truncated: its PE headers end past its %" PRIu64
			    " bytes", size);
		else
			snprintf(why, len, "is truncated: its PE sections end at byte %" PRIu64
			    ", the file has %" PRIu64, pe_end, size);
		return -1;
	}
	return 0;
}

