/*
 * kimage.h: the vmlinux inside an x86 bzImage. A bzImage carries the kernel
 * as a compressed, stripped ELF (its "payload"); kimage finds the payload
 * through the setup header, decompresses it with Debian's libraries (zlib,
 * liblzma, libzstd, liblz4, libbz2) under a hard output bound, and checks
 * that the result is an x86-64 ELF. The PVH loader boots that ELF; the
 * kernel cache (src/kcache.c) keeps it between runs.
 *
 * The kernel image format is the architecture's (arm64's Image.gz is
 * another): the generic cache calls these kimage_* functions, and a port
 * provides its own src/arch/<arch>/kimage.c with the same interface.
 */
#ifndef RINGVM_KIMAGE_H
#define RINGVM_KIMAGE_H

#include <stddef.h>
#include <stdint.h>

struct rv_err;

/*
 * The most any payload may unpack to, whatever its trailer says: a Debian
 * 6.1 vmlinux is 66 MB; a decompression bomb stops here (or sooner, at the
 * trailer's size).
 */
#define KIMAGE_MAX_OUT (512ull << 20)
/* The largest bzImage file read (Debian's is 8 MB). */
#define KIMAGE_MAX_FILE (256ull << 20)

/* The compression formats Linux can build a bzImage with (LZO excepted). */
enum kimage_fmt {
	KIMAGE_UNKNOWN,
	KIMAGE_GZIP,
	KIMAGE_XZ,
	KIMAGE_ZSTD,
	KIMAGE_LZ4,	/* the legacy frame format (lz4 -l), as the kernel builds it */
	KIMAGE_LZMA,	/* lzma_alone (.lzma) */
	KIMAGE_BZIP2,
};

/* A payload located inside a bzImage; `data` points into the caller's bytes. */
struct kimage_payload {
	const uint8_t *data;	/* the compressed stream, trailer excluded */
	size_t len;
	uint32_t out_len;	/* the trailer: the unpacked size the kernel's build recorded */
	enum kimage_fmt fmt;
};

/* kimage_fmt_name: "gzip", "xz", ... ("unknown" for KIMAGE_UNKNOWN). */
const char *kimage_fmt_name(enum kimage_fmt fmt);

/*
 * kimage_sniff: the format whose magic starts `p` (`len` bytes), or
 * KIMAGE_UNKNOWN.
 */
enum kimage_fmt kimage_sniff(const uint8_t *p, size_t len);

/*
 * kimage_payload: locate the payload of the bzImage `bz` (`bz_len` bytes):
 * setup_sects (0x1f1; 0 means 4) gives the protected-mode code's offset,
 * (setup_sects + 1) * 512; payload_offset (0x248) and payload_length
 * (0x24c) are relative to it. Every field is checked against the file
 * (boot protocol 2.08 or later, payload inside the file, at least 5 bytes,
 * a known magic). The payload's last 4 bytes are the unpacked size
 * (little-endian), as arch/x86/boot/compressed's Makefile appends it.
 * Returns 0, or -errno with `err` filled (status RV_EXIT_BADFILE).
 */
int kimage_payload(const uint8_t *bz, size_t bz_len, struct kimage_payload *p,
    struct rv_err *err);

/*
 * kimage_unpack: decompress `p` into a fresh buffer of p->out_len bytes
 * (anonymous memory; free it with kimage_free). The output may not exceed
 * p->out_len nor `max_out` (KIMAGE_MAX_OUT or less): a stream that would
 * write more is refused as soon as it tries (a decompression bomb costs at
 * most that much memory), and one that ends short, is truncated or is
 * corrupt is refused too. The result must start with an ELF64 x86-64
 * header whose program headers lie inside it.
 * Returns 0 with *out and *out_len set, or -errno with `err` filled
 * (RV_EXIT_BADFILE for a bad stream, RV_EXIT_FAILURE for no memory).
 */
int kimage_unpack(const struct kimage_payload *p, uint64_t max_out, uint8_t **out,
    size_t *out_len, struct rv_err *err);

/* kimage_free: release kimage_unpack's buffer (NULL is ignored). */
void kimage_free(uint8_t *buf, size_t len);

/*
 * kimage_check_elf: `buf` (`len` bytes) starts with an ELF64 little-endian
 * x86-64 executable header, and its program header table lies inside
 * `len`. Returns 0, or -ENOEXEC with `err` filled (RV_EXIT_BADFILE).
 */
int kimage_check_elf(const uint8_t *buf, size_t len, struct rv_err *err);

#endif
