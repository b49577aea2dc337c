/*
 * test_arm64_image.c: the arm64 Image checks (src/arch/arm64/image.c) on
 * the host, with headers built here: a good Image with and without PE
 * headers, a pre-3.17 one, and each rule of booting.rst broken alone, plus
 * the PE truncation checks (headers past the read, sections past the file).
 * With Debian's arm64 kernel present (install-deps unpacks it for the arm64
 * bed), its real header passes too and a cut copy of it does not.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arch/arm64/image.h"
#include "unit.h"

static struct unit u = { .file = "arm64_image" };

static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

/*
 * good: a header of an Image of `size` bytes needing `image_size`, with
 * (pe) the EFI stub's PE headers: two sections whose bytes end at `pe_end`.
 */
static void good(uint8_t *h, uint64_t image_size, int pe, uint32_t pe_end)
{
	memset(h, 0, IMAGE_READ_LEN);
	wr64(h + 0x08, 0);			/* text_offset */
	wr64(h + 0x10, image_size);
	wr64(h + 0x18, 0xa);			/* little-endian, 4K pages, anywhere */
	memcpy(h + 0x38, "ARM\x64", 4);
	if (!pe)
		return;
	h[0] = 'M';
	h[1] = 'Z';
	wr32(h + 0x3c, 0x40);
	memcpy(h + 0x40, "PE\0\0", 4);
	wr16(h + 0x40 + 4, 0xaa64);		/* Machine: arm64 */
	wr16(h + 0x40 + 6, 2);			/* NumberOfSections */
	wr16(h + 0x40 + 20, 0xa0);		/* SizeOfOptionalHeader */
	/* Sections at 0x40 + 24 + 0xa0 = 0xf8: .text, then .data ending at pe_end. */
	wr32(h + 0xf8 + 16, 0x10000);		/* SizeOfRawData */
	wr32(h + 0xf8 + 20, 0x1000);		/* PointerToRawData */
	wr32(h + 0x120 + 16, pe_end - 0x11000);
	wr32(h + 0x120 + 20, 0x11000);
}

/* parse: image_parse on h; its reason in `why`, or "" on success. */
static int parse(const uint8_t *h, size_t n, uint64_t size, struct image_info *i, char *why)
{
	why[0] = '\0';
	return image_parse(h, n, size, i, why, 256);
}

#define BAD(h, n, size, want, what) do { \
	char why_[256]; \
	struct image_info i_; \
	if (!UNIT_OK(&u, parse((h), (n), (size), &i_, why_) == -1 && strstr(why_, (want)), (what))) \
		printf("#   got '%s', want '%s'\n", why_, (want)); \
} while (0)

/* test_debian: the real Image's first 4 KiB, whole and cut (when it is there). */
static void test_debian(void)
{
	const char *dir = "/usr/local/lib/ringvm-bed/arm64/boot";
	static uint8_t h[IMAGE_READ_LEN];
	struct image_info i;
	char path[512], why[256];
	struct dirent *e;
	DIR *d = opendir(dir);
	off_t size;
	ssize_t n;
	int fd = -1;

	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "vmlinuz-", 8)) {
			snprintf(path, sizeof(path), "%s/%.400s", dir, e->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			break;
		}
	if (d)
		closedir(d);
	/* install-deps unpacks it for the arm64 bed: its absence is a failure. */
	if (!UNIT_OK(&u, fd >= 0, "Debian's arm64 kernel is unpacked under /usr/local/lib/ringvm-bed/arm64"))
		return;
	size = lseek(fd, 0, SEEK_END);
	n = pread(fd, h, sizeof(h), 0);
	close(fd);
	UNIT_OK(&u, n == (ssize_t)sizeof(h) && parse(h, sizeof(h), (uint64_t)size, &i, why) == 0 &&
	    i.image_size >= (uint64_t)size, "Debian's arm64 Image passes, image_size covering the file");
	BAD(h, sizeof(h), (uint64_t)size / 2, "is truncated: its PE sections end at byte",
	    "Debian's arm64 Image cut in half is truncated (its PE sections)");
}

int main(void)
{
	static uint8_t h[IMAGE_READ_LEN];
	struct image_info i;
	char why[256];

	good(h, 0x2000000, 1, 0x1800000);
	UNIT_OK(&u, parse(h, sizeof(h), 0x1800000, &i, why) == 0 && i.text_offset == 0 &&
	    i.image_size == 0x2000000, "an Image with PE headers whose sections fill the file");
	good(h, 0x2000000, 0, 0);
	UNIT_OK(&u, parse(h, sizeof(h), 0x1800000, &i, why) == 0,
	    "an Image without PE headers (no EFI stub): the header alone");
	good(h, 0x2000000, 0, 0);
	wr64(h + 0x08, 0x80000);
	UNIT_OK(&u, parse(h, sizeof(h), 0x1800000, &i, why) == 0 && i.text_offset == 0x80000,
	    "text_offset 0x80000 is kept");
	good(h, 0, 0, 0);
	wr64(h + 0x08, 0x1234);			/* ignored: image_size 0 means the old fixed layout */
	UNIT_OK(&u, parse(h, sizeof(h), 0x900000, &i, why) == 0 && i.text_offset == 0x80000 &&
	    i.image_size == 0x900000, "image_size 0 (before 3.17): the whole file at 0x80000");

	good(h, 0x2000000, 1, 0x1800000);
	BAD(h, 40, 40, "is too small to be a kernel (40 bytes)", "40 bytes are too small");
	h[0] = 0x1f;
	h[1] = 0x8b;
	BAD(h, sizeof(h), 0x1800000, "is gzip-compressed (an Image.gz)", "gzip is named as such");
	good(h, 0x2000000, 1, 0x1800000);
	h[0x38] = 'X';
	BAD(h, sizeof(h), 0x1800000, "is not an arm64 Image (no ARM\\x64 magic at 0x38)",
	    "no magic: not an Image");
	good(h, 0x2000000, 1, 0x1800000);
	h[0x18] |= 1;
	BAD(h, sizeof(h), 0x1800000, "is a big-endian kernel", "the big-endian flag is refused");
	good(h, 0x2000000, 1, 0x1800000);
	wr64(h + 0x08, 0x80001);
	BAD(h, sizeof(h), 0x1800000, "asks for text_offset 0x80001", "an unaligned text_offset");
	wr64(h + 0x08, 0x200000);
	BAD(h, sizeof(h), 0x1800000, "asks for text_offset 0x200000", "text_offset of 2 MiB");
	wr64(h + 0x08, UINT64_MAX & ~0xfffull);
	BAD(h, sizeof(h), 0x1800000, "asks for text_offset", "text_offset near 2^64 (no wrap)");
	good(h, 0x1000, 1, 0x1800000);
	BAD(h, sizeof(h), 0x1800000, "says its image is 4096 bytes, but the file has 25165824",
	    "image_size below the file size");
	good(h, UINT64_MAX, 1, 0x1800000);
	BAD(h, sizeof(h), 0x1800000, "more than guest RAM can hold", "image_size of 2^64 - 1");

	good(h, 0x2000000, 1, 0x1800000);
	BAD(h, sizeof(h), 0x17fffff, "is truncated: its PE sections end at byte 25165824, the file has 25165823",
	    "one byte short of the PE sections: truncated");
	BAD(h, 100, 100, "is truncated: its PE headers end past its 100 bytes",
	    "a file that ends inside its PE header: truncated");
	BAD(h, 0x140, 0x140, "is truncated: its PE headers end past its 320 bytes",
	    "a file that ends inside its section table: truncated");
	wr32(h + 0x3c, 0xfffffff0);
	BAD(h, sizeof(h), 0x1800000, "its PE headers end past", "a PE offset near 2^32 (no wrap)");
	good(h, 0x2000000, 1, 0x1800000);
	wr16(h + 0x40 + 6, 0xffff);
	BAD(h, sizeof(h), 0x1800000, "its PE headers end past", "65535 sections: refused, not walked");
	good(h, 0x2000000, 1, 0x1800000);
	wr32(h + 0x120 + 16, 0xffffffff);
	wr32(h + 0x120 + 20, 0xffffffff);
	BAD(h, sizeof(h), 0x1800000, "its PE sections end at byte 8589934590",
	    "a section at 2^32 - 1 of 2^32 - 1 bytes: summed in 64 bits");
	good(h, 0x2000000, 1, 0x1800000);
	memcpy(h + 0x40, "NE\0\0", 4);
	UNIT_OK(&u, parse(h, sizeof(h), 0x1800000, &i, why) == 0,
	    "MZ without a PE signature: no PE headers to check (the header alone)");
	test_debian();
	printf("# arm64_image: %u passed, %u failed\n", u.pass, u.fail);
	return unit_done(&u);
}
