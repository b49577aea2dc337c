/* kfake.c: fake kernels for the kimage and kcache tests (kfake.h). */
#include <bzlib.h>
#include <dirent.h>
#include <elf.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "kfake.h"

static void kfake_die(const char *what)
{
	fprintf(stderr, "kfake: %s failed\n", what);
	abort();
}

static void *kfake_alloc(size_t len)
{
	void *p = calloc(1, len ? len : 1);

	if (!p)
		kfake_die("calloc");
	return p;
}

struct kfake_buf kfake_elf(size_t len, unsigned seed)
{
	struct kfake_buf b = { kfake_alloc(len), len };
	Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
	    .e_entry = 0x1000000, .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
	    .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1 };
	Elf64_Phdr ph = { .p_type = PT_LOAD, .p_offset = 0, .p_vaddr = 0x1000000,
	    .p_paddr = 0x1000000, .p_filesz = len, .p_memsz = len, .p_align = 0x1000 };
	uint32_t x = seed * 2654435761u + 1;

	if (len < 256)
		kfake_die("kfake_elf size");
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(b.p, &eh, sizeof(eh));
	memcpy(b.p + sizeof(eh), &ph, sizeof(ph));
	/* Compressible like code: words from a small alphabet, with the seed's noise. */
	for (size_t i = 256; i < len; i++) {
		x = x * 1103515245u + 12345u;
		b.p[i] = (x >> 16) % 7 ? (uint8_t)("kernel text "[i % 12]) : (uint8_t)(x >> 24);
	}
	return b;
}

static struct kfake_buf kfake_gzip(const uint8_t *in, size_t len)
{
	z_stream z = { 0 };
	struct kfake_buf b;

	if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		kfake_die("deflateInit2");
	b.len = deflateBound(&z, len);
	b.p = kfake_alloc(b.len);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = b.p;
	z.avail_out = (uInt)b.len;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		kfake_die("deflate");
	b.len = z.total_out;
	deflateEnd(&z);
	return b;
}

static struct kfake_buf kfake_lzma(const uint8_t *in, size_t len, int alone)
{
	struct kfake_buf b = { NULL, len + len / 2 + 4096 };
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_options_lzma opt;

	b.p = kfake_alloc(b.len);
	lzma_lzma_preset(&opt, 6);
	if ((alone ? lzma_alone_encoder(&s, &opt) :
	    lzma_easy_encoder(&s, 6, LZMA_CHECK_CRC32)) != LZMA_OK)
		kfake_die("lzma encoder");
	s.next_in = in;
	s.avail_in = len;
	s.next_out = b.p;
	s.avail_out = b.len;
	while (1) {
		lzma_ret r = lzma_code(&s, LZMA_FINISH);

		if (r == LZMA_STREAM_END)
			break;
		if (r != LZMA_OK)
			kfake_die("lzma_code");
	}
	b.len = s.total_out;
	lzma_end(&s);
	return b;
}

static struct kfake_buf kfake_zstd(const uint8_t *in, size_t len)
{
	struct kfake_buf b = { NULL, ZSTD_compressBound(len) };

	b.p = kfake_alloc(b.len);
	b.len = ZSTD_compress(b.p, b.len, in, len, 19);
	if (ZSTD_isError(b.len))
		kfake_die("ZSTD_compress");
	return b;
}

/* The legacy lz4 frame (lz4 -l): magic, then [u32 size][block] per 8 MiB. */
static struct kfake_buf kfake_lz4(const uint8_t *in, size_t len)
{
	const size_t block = 8u << 20;
	size_t nblocks = len / block + 1, pos = 4;
	struct kfake_buf b = { NULL, 4 + nblocks * (4 + (size_t)LZ4_compressBound((int)block)) };

	b.p = kfake_alloc(b.len);
	memcpy(b.p, "\x02\x21\x4c\x18", 4);
	for (size_t off = 0; off < len; off += block) {
		size_t n = len - off < block ? len - off : block;
		int c = LZ4_compress_default((const char *)in + off, (char *)b.p + pos + 4, (int)n,
		    LZ4_compressBound((int)block));

		if (c <= 0)
			kfake_die("LZ4_compress_default");
		b.p[pos] = (uint8_t)c;
		b.p[pos + 1] = (uint8_t)(c >> 8);
		b.p[pos + 2] = (uint8_t)(c >> 16);
		b.p[pos + 3] = (uint8_t)(c >> 24);
		pos += 4 + (size_t)c;
	}
	b.len = pos;
	return b;
}

static struct kfake_buf kfake_bzip2(const uint8_t *in, size_t len)
{
	struct kfake_buf b = { NULL, len + len / 100 + 600 };
	unsigned out;

	b.p = kfake_alloc(b.len);
	out = (unsigned)b.len;
	if (BZ2_bzBuffToBuffCompress((char *)b.p, &out, (char *)in, (unsigned)len, 9, 0, 0) != BZ_OK)
		kfake_die("BZ2_bzBuffToBuffCompress");
	b.len = out;
	return b;
}

struct kfake_buf kfake_compress(enum kimage_fmt fmt, const uint8_t *in, size_t len)
{
	switch (fmt) {
	case KIMAGE_GZIP: return kfake_gzip(in, len);
	case KIMAGE_XZ: return kfake_lzma(in, len, 0);
	case KIMAGE_LZMA: return kfake_lzma(in, len, 1);
	case KIMAGE_ZSTD: return kfake_zstd(in, len);
	case KIMAGE_LZ4: return kfake_lz4(in, len);
	case KIMAGE_BZIP2: return kfake_bzip2(in, len);
	default: kfake_die("kfake_compress format");
	}
	return (struct kfake_buf){ 0 };
}

struct kfake_buf kfake_bzimage(const struct kfake_buf *stream, uint32_t out_len)
{
	const size_t pm = 2 * 512, off = 0x100;	/* setup_sects 1; payload 0x100 into the code */
	struct kfake_buf b = { NULL, pm + off + stream->len + 4 };
	uint32_t plen = (uint32_t)stream->len + 4;

	b.p = kfake_alloc(b.len);
	b.p[0x1f1] = 1;
	memcpy(b.p + 0x1fe, "\x55\xaa", 2);
	memcpy(b.p + 0x202, "HdrS", 4);
	b.p[0x206] = 0x0f;
	b.p[0x207] = 0x02;
	memcpy(b.p + 0x248, &(uint32_t){ (uint32_t)off }, 4);
	memcpy(b.p + 0x24c, &plen, 4);
	memcpy(b.p + pm + off, stream->p, stream->len);
	memcpy(b.p + pm + off + stream->len, &out_len, 4);
	return b;
}

void kfake_free(struct kfake_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

int kfake_vmlinuz(char *path, size_t len)
{
	const char *env = getenv("RINGVM_TEST_VMLINUZ");
	char best[256] = "";
	struct dirent *de;
	DIR *d;

	if (env && *env)
		return snprintf(path, len, "%s", env) < (int)len ? 0 : -1;
	d = opendir("/boot");
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vmlinuz-", 8) && strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", de->d_name);
	closedir(d);
	return best[0] && snprintf(path, len, "/boot/%s", best) < (int)len ? 0 : -1;
}
