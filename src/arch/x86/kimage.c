/*
 * kimage.c: find, bound and unpack the compressed vmlinux inside a bzImage
 * (kimage.h), with Debian's decompression libraries. The decoders are the
 * distribution's, maintained and fuzzed upstream; ringvm writes none. Each
 * one gets the whole input and an output buffer one byte larger than the
 * trailer's size, so "the stream wants to write more than it should" is
 * seen as a full buffer, however the library reports it.
 */
#include <bzlib.h>
#include <elf.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "kimage.h"
#include "log.h"

/* Setup header fields (Linux Documentation/arch/x86/boot.rst). */
#define KIMAGE_SETUP_SECTS	0x1f1
#define KIMAGE_HDRS		0x202	/* "HdrS" */
#define KIMAGE_VERSION		0x206
#define KIMAGE_PAYLOAD_OFF	0x248	/* protocol 2.08+ */
#define KIMAGE_PAYLOAD_LEN	0x24c
#define KIMAGE_HDR_END		0x250

/* liblzma's memory limit: the kernel's xz uses a 32 MiB dictionary. */
#define KIMAGE_LZMA_MEMLIMIT	(256ull << 20)
/* The legacy lz4 frame: 8 MiB of output per block at most (lz4 -l). */
#define KIMAGE_LZ4_MAGIC	0x184c2102u
#define KIMAGE_LZ4_BLOCK	(8u << 20)

/* What a decoder did: the bytes written, and why it stopped when it failed. */
struct kimage_dec {
	const uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t cap;		/* out_len + 1: reaching it means "too much" */
	size_t produced;
	const char *why;	/* "truncated", "corrupt", ... on failure */
	int errnum;		/* ENOMEM for the library's allocation failures */
};

static int kimage_bad(struct rv_err *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

const char *kimage_fmt_name(enum kimage_fmt fmt)
{
	static const char *const names[] = {
		[KIMAGE_UNKNOWN] = "unknown", [KIMAGE_GZIP] = "gzip", [KIMAGE_XZ] = "xz",
		[KIMAGE_ZSTD] = "zstd", [KIMAGE_LZ4] = "lz4", [KIMAGE_LZMA] = "lzma",
		[KIMAGE_BZIP2] = "bzip2",
	};

	return (unsigned)fmt < sizeof(names) / sizeof(names[0]) ? names[fmt] : "unknown";
}

enum kimage_fmt kimage_sniff(const uint8_t *p, size_t len)
{
	/* The magics the kernel's own decompressors (and extract-vmlinux) look for. */
	static const struct { uint8_t magic[6]; size_t len; enum kimage_fmt fmt; } m[] = {
		{ { 0x1f, 0x8b }, 2, KIMAGE_GZIP },
		{ { 0xfd, '7', 'z', 'X', 'Z', 0x00 }, 6, KIMAGE_XZ },
		{ { 0x28, 0xb5, 0x2f, 0xfd }, 4, KIMAGE_ZSTD },
		{ { 0x02, 0x21, 0x4c, 0x18 }, 4, KIMAGE_LZ4 },
		{ { 0x5d, 0x00, 0x00 }, 3, KIMAGE_LZMA },
		{ { 'B', 'Z', 'h' }, 3, KIMAGE_BZIP2 },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (len >= m[i].len && !memcmp(p, m[i].magic, m[i].len))
			return m[i].fmt;
	return KIMAGE_UNKNOWN;
}

int kimage_payload(const uint8_t *bz, size_t bz_len, struct kimage_payload *p,
    struct rv_err *err)
{
	uint64_t pm, off, len;

	if (bz_len < KIMAGE_HDR_END || memcmp(bz + KIMAGE_HDRS, "HdrS", 4))
		return kimage_bad(err, -ENOEXEC, "not a bzImage (no HdrS setup header)");
	if (le16(bz + KIMAGE_VERSION) < 0x208)
		return kimage_bad(err, -ENOEXEC,
		    "boot protocol %u.%02u has no payload fields (2.08 or later needed)",
		    bz[KIMAGE_VERSION + 1], bz[KIMAGE_VERSION]);
	/* Widened to 64 bits: none of these sums can wrap. */
	pm = ((uint64_t)(bz[KIMAGE_SETUP_SECTS] ? bz[KIMAGE_SETUP_SECTS] : 4) + 1) * 512;
	off = le32(bz + KIMAGE_PAYLOAD_OFF);
	len = le32(bz + KIMAGE_PAYLOAD_LEN);
	if (pm + off + len > bz_len)
		return kimage_bad(err, -ENOEXEC,
		    "payload (offset %llu, %llu bytes) lies outside the %zu-byte file",
		    (unsigned long long)(pm + off), (unsigned long long)len, bz_len);
	/* A magic (2 bytes at least) and the 4-byte size trailer. */
	if (len < 6)
		return kimage_bad(err, -ENOEXEC, "payload of %llu bytes is too short",
		    (unsigned long long)len);
	p->data = bz + pm + off;
	p->len = len - 4;
	p->out_len = le32(p->data + p->len);
	p->fmt = kimage_sniff(p->data, p->len);
	if (p->fmt == KIMAGE_UNKNOWN)
		return kimage_bad(err, -ENOEXEC,
		    "payload compression not recognised (magic %02x %02x %02x %02x; lzo is not supported)",
		    p->data[0], p->data[1], p->len > 2 ? p->data[2] : 0, p->len > 3 ? p->data[3] : 0);
	return 0;
}

/* gzip through zlib (16 + MAX_WBITS: a gzip wrapper, nothing else). */
static int kimage_gzip(struct kimage_dec *d)
{
	z_stream z = { 0 };
	int r;

	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return d->errnum = ENOMEM, d->why = "zlib cannot start", -1;
	z.next_in = (Bytef *)d->in;	/* zlib does not write its input */
	z.avail_in = (uInt)d->in_len;	/* both below 4 GiB: KIMAGE_MAX_FILE, KIMAGE_MAX_OUT */
	z.next_out = d->out;
	z.avail_out = (uInt)d->cap;
	do
		r = inflate(&z, Z_FINISH);
	while (r == Z_OK && z.avail_out && z.avail_in);
	d->produced = z.total_out;
	inflateEnd(&z);
	if (r == Z_STREAM_END)
		return 0;
	if (r == Z_MEM_ERROR)
		d->errnum = ENOMEM;
	d->why = r != Z_OK && r != Z_BUF_ERROR ? "corrupt" : !z.avail_out ? "too big" : "truncated";
	return -1;
}

/* xz (.xz streams) and lzma (lzma_alone, .lzma) through liblzma. */
static int kimage_lzma(struct kimage_dec *d, bool alone)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r;

	r = alone ? lzma_alone_decoder(&s, KIMAGE_LZMA_MEMLIMIT) :
	    lzma_stream_decoder(&s, KIMAGE_LZMA_MEMLIMIT, 0);
	if (r != LZMA_OK)
		return d->errnum = ENOMEM, d->why = "liblzma cannot start", -1;
	s.next_in = d->in;
	s.avail_in = d->in_len;
	s.next_out = d->out;
	s.avail_out = d->cap;
	do
		r = lzma_code(&s, LZMA_FINISH);
	while (r == LZMA_OK && s.avail_out);
	d->produced = s.total_out;
	lzma_end(&s);
	switch (r) {
	case LZMA_STREAM_END: return 0;
	case LZMA_MEM_ERROR: d->errnum = ENOMEM; d->why = "out of memory"; break;
	case LZMA_MEMLIMIT_ERROR: d->why = "needs more than 256 MiB of decoder memory"; break;
	case LZMA_BUF_ERROR: case LZMA_OK: d->why = !s.avail_out ? "too big" : "truncated"; break;
	default: d->why = "corrupt"; break;
	}
	return -1;
}

/* zstd through libzstd's streaming decoder (window up to its default 2^27). */
static int kimage_zstd(struct kimage_dec *d)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	ZSTD_inBuffer in = { d->in, d->in_len, 0 };
	ZSTD_outBuffer out = { d->out, d->cap, 0 };
	size_t r = 1;

	if (!z)
		return d->errnum = ENOMEM, d->why = "libzstd cannot start", -1;
	while (r) {
		size_t in_pos = in.pos, out_pos = out.pos;

		r = ZSTD_decompressStream(z, &out, &in);
		if (ZSTD_isError(r) || out.pos == out.size)
			break;
		/* No progress with all input given: the frame is cut short. */
		if (r && in.pos == in_pos && out.pos == out_pos)
			break;
	}
	d->produced = out.pos;
	ZSTD_freeDCtx(z);
	if (!r)
		return 0;
	d->why = ZSTD_isError(r) ? (ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ?
	    (d->errnum = ENOMEM, "out of memory") : "corrupt") :
	    out.pos == out.size ? "too big" : "truncated";
	return -1;
}

/*
 * lz4 in the legacy frame format the kernel's build writes (lz4 -l): the
 * magic, then blocks of a little-endian u32 compressed size and the block,
 * each unpacking to 8 MiB at most; a repeated magic starts another stream.
 */
static int kimage_lz4(struct kimage_dec *d)
{
	size_t pos = 4;		/* the magic, checked by kimage_sniff */

	d->produced = 0;
	while (pos < d->in_len) {
		uint32_t csize;
		size_t room = d->cap - d->produced;
		int n;

		if (d->in_len - pos < 4)
			return d->why = "truncated", -1;
		csize = le32(d->in + pos);
		pos += 4;
		if (csize == KIMAGE_LZ4_MAGIC)
			continue;
		if (!csize || csize > (uint32_t)LZ4_compressBound(KIMAGE_LZ4_BLOCK))
			return d->why = "corrupt", -1;
		if (csize > d->in_len - pos)
			return d->why = "truncated", -1;
		if (room > KIMAGE_LZ4_BLOCK)
			room = KIMAGE_LZ4_BLOCK;
		/* LZ4_decompress_safe never writes past `room`, whatever the block says. */
		n = LZ4_decompress_safe((const char *)d->in + pos, (char *)d->out + d->produced,
		    (int)csize, (int)room);
		/*
		 * Short of room (the trailer's bound is near): is the block
		 * corrupt, or does it unpack past the bound? Decoding only
		 * `room` bytes of it tells.
		 */
		if (n < 0 && room < KIMAGE_LZ4_BLOCK)
			n = LZ4_decompress_safe_partial((const char *)d->in + pos,
			    (char *)d->out + d->produced, (int)csize, (int)room, (int)room);
		if (n < 0)
			return d->why = "corrupt", -1;
		d->produced += (size_t)n;
		pos += csize;
		if (d->produced == d->cap)
			return d->why = "too big", -1;
	}
	return 0;
}

/* bzip2 through libbz2. */
static int kimage_bzip2(struct kimage_dec *d)
{
	bz_stream s = { 0 };
	int r;

	if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
		return d->errnum = ENOMEM, d->why = "libbz2 cannot start", -1;
	s.next_in = (char *)d->in;	/* libbz2 does not write its input */
	s.avail_in = (unsigned)d->in_len;
	s.next_out = (char *)d->out;
	s.avail_out = (unsigned)d->cap;
	do
		r = BZ2_bzDecompress(&s);
	while (r == BZ_OK && s.avail_out && s.avail_in);
	d->produced = (size_t)s.total_out_hi32 << 32 | s.total_out_lo32;
	BZ2_bzDecompressEnd(&s);
	if (r == BZ_STREAM_END)
		return 0;
	if (r == BZ_MEM_ERROR)
		d->errnum = ENOMEM;
	d->why = r == BZ_OK ? (!s.avail_out ? "too big" : "truncated") :
	    r == BZ_MEM_ERROR ? "out of memory" : "corrupt";
	return -1;
}

/* kimage_bad: a refused file: `err` says why in one line; returns `r`. */
static int kimage_bad(struct rv_err *err, int r, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rv_fail(err, RV_EXIT_BADFILE, 0, "%s", msg);
	return r;
}

void kimage_free(uint8_t *buf, size_t len)
{
	if (buf)
		munmap(buf, len + 1);	/* kimage_unpack mapped the spare byte too */
}

int kimage_unpack(const struct kimage_payload *p, uint64_t max_out, uint8_t **out,
    size_t *out_len, struct rv_err *err)
{
	struct kimage_dec d = { .in = p->data, .in_len = p->len };
	const char *name = kimage_fmt_name(p->fmt);
	int r;

	if (max_out > KIMAGE_MAX_OUT)
		max_out = KIMAGE_MAX_OUT;
	if (!p->out_len || p->out_len > max_out)
		return kimage_bad(err, -EFBIG,
		    "%s payload claims %u unpacked bytes; the bound is 1 to %llu", name,
		    p->out_len, (unsigned long long)max_out);
	if (p->len > KIMAGE_MAX_FILE)
		return kimage_bad(err, -EFBIG, "%s payload of %zu bytes is too big",
		    name, p->len);
	d.cap = (size_t)p->out_len + 1;
	/* Anonymous memory: returned to the system at once by kimage_free. */
	d.out = mmap(NULL, d.cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d.out == MAP_FAILED)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "cannot map %zu bytes to unpack the kernel",
		    d.cap);
	switch (p->fmt) {
	case KIMAGE_GZIP: r = kimage_gzip(&d); break;
	case KIMAGE_XZ: r = kimage_lzma(&d, false); break;
	case KIMAGE_LZMA: r = kimage_lzma(&d, true); break;
	case KIMAGE_ZSTD: r = kimage_zstd(&d); break;
	case KIMAGE_LZ4: r = kimage_lz4(&d); break;
	case KIMAGE_BZIP2: r = kimage_bzip2(&d); break;
	default: r = -1; d.why = "of an unknown format"; break;
	}
	if (!r && d.produced == d.cap)
		r = -1, d.why = "too big";
	if (r && d.errnum == ENOMEM)
		r = rv_fail(err, RV_EXIT_FAILURE, ENOMEM, "cannot unpack the %s kernel", name);
	else if (r && !strcmp(d.why, "too big"))
		r = kimage_bad(err, -EFBIG,
		    "%s payload unpacks to more than the %u bytes its trailer gives: refused",
		    name, p->out_len);
	else if (r)
		r = kimage_bad(err, -EINVAL, "%s payload is %s (after %zu bytes out)",
		    name, d.why, d.produced);
	else if (d.produced != p->out_len)
		r = kimage_bad(err, -EINVAL,
		    "%s payload unpacks to %zu bytes, its trailer says %u", name, d.produced,
		    p->out_len);
	else
		r = kimage_check_elf(d.out, d.produced, err);
	if (r) {
		munmap(d.out, d.cap);
		return r;
	}
	*out = d.out;
	*out_len = d.produced;
	return 0;
}

int kimage_check_elf(const uint8_t *buf, size_t len, struct rv_err *err)
{
	Elf64_Ehdr eh;

	if (len < sizeof(eh))
		return kimage_bad(err, -ENOEXEC, "unpacked kernel is not an ELF file");
	memcpy(&eh, buf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return kimage_bad(err, -ENOEXEC, "unpacked kernel is not an ELF file");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC)
		return kimage_bad(err, -ENOEXEC,
		    "unpacked kernel is not an x86-64 ELF executable (class %u, machine %u, type %u)",
		    eh.e_ident[EI_CLASS], eh.e_machine, eh.e_type);
	/* e_phnum < 2^16 and the entry size is fixed: the product cannot wrap. */
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || !eh.e_phnum || eh.e_phoff > len ||
	    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return kimage_bad(err, -ENOEXEC,
		    "unpacked kernel's program headers lie outside its %zu bytes", len);
	return 0;
}
