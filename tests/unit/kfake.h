/*
 * kfake.h: fake kernels for the kimage and kcache tests: a small x86-64
 * ELF, compressed in each bzImage payload format by the library itself,
 * and wrapped in a minimal bzImage setup header. Failures of the helpers
 * abort the test: they are the test's, not the code's.
 */
#ifndef RINGVM_KFAKE_H
#define RINGVM_KFAKE_H

#include <stddef.h>
#include <stdint.h>

#include "kimage.h"

/* A compressed stream or file, malloc'ed. */
struct kfake_buf {
	uint8_t *p;
	size_t len;
};

/* kfake_elf: `len` bytes (at least 256) starting with an ELF64 x86-64 header; `seed` varies them. */
struct kfake_buf kfake_elf(size_t len, unsigned seed);

/* kfake_compress: `in` compressed as `fmt` would be in a bzImage payload (no trailer). */
struct kfake_buf kfake_compress(enum kimage_fmt fmt, const uint8_t *in, size_t len);

/*
 * kfake_bzimage: a bzImage (setup_sects 1, protocol 2.15) whose payload is
 * `stream` followed by the trailer `out_len` (little-endian u32).
 */
struct kfake_buf kfake_bzimage(const struct kfake_buf *stream, uint32_t out_len);

/*
 * kfake_vmlinuz: the path of Debian's kernel for the tests that use the
 * real one: $RINGVM_TEST_VMLINUZ, else the last /boot/vmlinuz-* by name
 * (the bed's kernel, tests/bed/common.sh). Returns 0, or -1 when none.
 */
int kfake_vmlinuz(char *path, size_t len);

/* kfake_free: free a buffer's bytes. */
void kfake_free(struct kfake_buf *b);

#endif
