/* image.h (arm64): the Image header's checks (image.c). */
#ifndef RINGVM_ARM64_IMAGE_H
#define RINGVM_ARM64_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_READ_LEN 4096	/* what image_parse wants of the file's start: header and PE headers */
#define IMAGE_MAX (1ull << 39)	/* the largest image_size taken: ARM64_RAM_MAX */

struct image_info {
	uint64_t text_offset;	/* where above a 2 MiB aligned base the kernel goes */
	uint64_t image_size;	/* bytes it needs from there, bss included */
};

/*
 * image_parse: check the first `n` bytes of a kernel file of `size` bytes
 * (n = min(size, IMAGE_READ_LEN)) as an arm64 Image: its header against
 * the file, and its PE headers when it has them. Fills *out and returns
 * 0, or returns -1 with a one-line reason in `why` ("is not an arm64
 * Image (...)"), to follow the file's name.
 */
int image_parse(const uint8_t *h, size_t n, uint64_t size, struct image_info *out, char *why,
    size_t len);

#endif
