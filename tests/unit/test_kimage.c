/*
 * test_kimage.c: the bzImage payload finder and unpacker
 * (src/arch/x86/kimage.c): each of the six formats, made by its own
 * library here, unpacks to the bytes compressed; bad header fields, unknown magic, truncated and
 * corrupt streams, bombs and non-ELF output are refused with one line;
 * and Debian's own vmlinuz (when /boot has one) unpacks to an ELF that
 * carries the PVH entry note (Xen, XEN_ELFNOTE_PHYS32_ENTRY = 18).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kfake.h"
#include "kimage.h"
#include "log.h"
#include "unit.h"

static struct unit u = { .file = "test_kimage" };

static const enum kimage_fmt fmts[] = {
	KIMAGE_GZIP, KIMAGE_XZ, KIMAGE_ZSTD, KIMAGE_LZ4, KIMAGE_LZMA, KIMAGE_BZIP2,
};
#define NR_FMTS (sizeof(fmts) / sizeof(fmts[0]))

/* unpack: payload + unpack of a whole bzImage; 0 or -errno, err filled. */
static int unpack(const struct kfake_buf *bz, uint64_t max_out, uint8_t **out, size_t *len,
    struct rv_err *err)
{
	struct kimage_payload p;
	int r = kimage_payload(bz->p, bz->len, &p, err);

	return r ? r : kimage_unpack(&p, max_out, out, len, err);
}

/* one_line: a refusal's message is one non-empty line. */
static int one_line(const struct rv_err *e)
{
	return e->msg[0] && !strchr(e->msg, '\n');
}

static void test_formats(void)
{
	struct kfake_buf elf = kfake_elf(300000, 1);
	char name[512];

	for (size_t i = 0; i < NR_FMTS; i++) {
		struct kfake_buf s = kfake_compress(fmts[i], elf.p, elf.len);
		struct kfake_buf bz = kfake_bzimage(&s, (uint32_t)elf.len);
		struct kimage_payload p;
		struct rv_err err = { 0 };
		uint8_t *out = NULL;
		size_t len = 0;
		int r;

		snprintf(name, sizeof(name), "%s: the magic is recognised", kimage_fmt_name(fmts[i]));
		UNIT_OK(&u, !kimage_payload(bz.p, bz.len, &p, &err) && p.fmt == fmts[i] &&
		    p.out_len == elf.len && p.len == s.len, name);
		r = unpack(&bz, KIMAGE_MAX_OUT, &out, &len, &err);
		snprintf(name, sizeof(name), "%s: unpacks to the bytes compressed", kimage_fmt_name(fmts[i]));
		UNIT_OK(&u, !r && len == elf.len && !memcmp(out, elf.p, len), name);
		if (r)
			printf("# %s\n", err.msg);
		kimage_free(out, len);

		/* Cut short: the stream loses its second half, the trailer stays. */
		{
			struct kfake_buf half = { s.p, s.len / 2 };
			struct kfake_buf bz2 = kfake_bzimage(&half, (uint32_t)elf.len);

			out = NULL;
			r = unpack(&bz2, KIMAGE_MAX_OUT, &out, &len, &err);
			snprintf(name, sizeof(name), "%s: a truncated stream is refused (%s)",
			    kimage_fmt_name(fmts[i]), r ? err.msg : "accepted");
			UNIT_OK(&u, r && !out && err.status == RV_EXIT_BADFILE && one_line(&err), name);
			kfake_free(&bz2);
		}
		/* A trailer that lies: one byte less (a bomb's shape) and one byte more. */
		{
			struct kfake_buf less = kfake_bzimage(&s, (uint32_t)elf.len - 1);
			struct kfake_buf more = kfake_bzimage(&s, (uint32_t)elf.len + 1);

			out = NULL;
			r = unpack(&less, KIMAGE_MAX_OUT, &out, &len, &err);
			snprintf(name, sizeof(name), "%s: output past the trailer's size is refused (%s)",
			    kimage_fmt_name(fmts[i]), r ? err.msg : "accepted");
			UNIT_OK(&u, r == -EFBIG && !out && strstr(err.msg, "more than") && one_line(&err), name);
			r = unpack(&more, KIMAGE_MAX_OUT, &out, &len, &err);
			snprintf(name, sizeof(name), "%s: output short of the trailer's size is refused",
			    kimage_fmt_name(fmts[i]));
			UNIT_OK(&u, r && !out && one_line(&err), name);
			kfake_free(&less);
			kfake_free(&more);
		}
		/* Corrupt: flip bytes in the middle of the stream. */
		{
			struct kfake_buf c = { malloc(s.len), s.len };
			struct kfake_buf bz3;

			memcpy(c.p, s.p, s.len);
			for (size_t j = s.len / 3; j < s.len / 3 + 16 && j < s.len; j++)
				c.p[j] ^= 0x5a;
			bz3 = kfake_bzimage(&c, (uint32_t)elf.len);
			out = NULL;
			r = unpack(&bz3, KIMAGE_MAX_OUT, &out, &len, &err);
			if (!r) {
				/* Some formats carry no checksum: the output must still differ or fail. */
				r = len != elf.len || memcmp(out, elf.p, len) ? -1 : 0;
				kimage_free(out, len);
				out = NULL;
			}
			snprintf(name, sizeof(name), "%s: a corrupt stream is refused or differs",
			    kimage_fmt_name(fmts[i]));
			UNIT_OK(&u, r, name);
			kfake_free(&c);
			kfake_free(&bz3);
		}
		kfake_free(&bz);
		kfake_free(&s);
	}
	kfake_free(&elf);
}

/* A bomb: 64 MiB of zeros compresses to almost nothing; every bound must hold. */
static void test_bomb(void)
{
	size_t big = 64u << 20;
	uint8_t *zeros = calloc(1, big);
	char name[512];

	struct kfake_buf head = kfake_elf(256, 2);

	memcpy(zeros, head.p, head.len);	/* an ELF, so only the bound can refuse it */
	kfake_free(&head);
	for (size_t i = 0; i < NR_FMTS; i++) {
		struct kfake_buf s = kfake_compress(fmts[i], zeros, big);
		struct kfake_buf small = kfake_bzimage(&s, 1u << 20);
		struct kfake_buf honest = kfake_bzimage(&s, (uint32_t)big);
		struct rv_err err;
		uint8_t *out = NULL;
		size_t len;
		int r;

		r = unpack(&small, KIMAGE_MAX_OUT, &out, &len, &err);
		snprintf(name, sizeof(name), "%s bomb: 64 MiB out, trailer 1 MiB: refused (%s)",
		    kimage_fmt_name(fmts[i]), r ? err.msg : "accepted");
		UNIT_OK(&u, r == -EFBIG && !out && one_line(&err), name);
		r = unpack(&honest, 16u << 20, &out, &len, &err);
		snprintf(name, sizeof(name), "%s bomb: trailer over the absolute bound: refused (%s)",
		    kimage_fmt_name(fmts[i]), r ? err.msg : "accepted");
		UNIT_OK(&u, r == -EFBIG && !out && one_line(&err), name);
		kfake_free(&s);
		kfake_free(&small);
		kfake_free(&honest);
	}
	{
		struct kfake_buf s = kfake_compress(KIMAGE_GZIP, zeros, 4096);
		struct kfake_buf bz = kfake_bzimage(&s, 0xffffffffu);
		struct rv_err err;
		uint8_t *out = NULL;
		size_t len;

		UNIT_OK(&u, unpack(&bz, KIMAGE_MAX_OUT, &out, &len, &err) == -EFBIG && !out,
		    "a trailer of 4 GiB is over KIMAGE_MAX_OUT: refused before any allocation");
		kfake_free(&s);
		kfake_free(&bz);
	}
	free(zeros);
}

static void test_header(void)
{
	struct kfake_buf elf = kfake_elf(4096, 3);
	struct kfake_buf s = kfake_compress(KIMAGE_GZIP, elf.p, elf.len);
	struct kfake_buf bz = kfake_bzimage(&s, (uint32_t)elf.len);
	struct kimage_payload p;
	struct rv_err err;
	uint8_t save[8];

	UNIT_OK(&u, !kimage_payload(bz.p, bz.len, &p, &err), "the fake bzImage is accepted");
	UNIT_OK(&u, kimage_payload(bz.p, 0x24f, &p, &err) && one_line(&err),
	    "a file shorter than the setup header is refused");
	memcpy(save, bz.p + 0x248, 8);
	memcpy(bz.p + 0x248, "\xff\xff\xff\xff", 4);
	UNIT_OK(&u, kimage_payload(bz.p, bz.len, &p, &err) == -ENOEXEC && strstr(err.msg, "outside"),
	    "payload_offset past the end is refused");
	memcpy(bz.p + 0x248, save, 8);
	memcpy(bz.p + 0x24c, "\xff\xff\xff\xff", 4);
	UNIT_OK(&u, kimage_payload(bz.p, bz.len, &p, &err) == -ENOEXEC && strstr(err.msg, "outside"),
	    "payload_length past the end (offset + length wraps 32 bits) is refused");
	memcpy(bz.p + 0x248, save, 8);
	UNIT_OK(&u, kimage_payload(bz.p, bz.len - 1, &p, &err) == -ENOEXEC,
	    "a payload one byte past the end of the file is refused");
	memcpy(bz.p + 0x24c, "\x05\x00\x00\x00", 4);
	UNIT_OK(&u, kimage_payload(bz.p, bz.len, &p, &err) == -ENOEXEC && strstr(err.msg, "short"),
	    "a 5-byte payload is refused");
	memcpy(bz.p + 0x248, save, 8);
	bz.p[0x1f1] = 0;	/* 0 means 4 sectors: the payload moves 1.5 KiB on, past the end */
	UNIT_OK(&u, kimage_payload(bz.p, bz.len, &p, &err) == -ENOEXEC,
	    "setup_sects 0 is read as 4");
	bz.p[0x1f1] = 1;
	bz.p[0x206] = 0x07;
	UNIT_OK(&u, kimage_payload(bz.p, bz.len, &p, &err) == -ENOEXEC && strstr(err.msg, "2.08"),
	    "boot protocol 2.07 (no payload fields) is refused");
	bz.p[0x206] = 0x0f;
	bz.p[0x202] = 'X';
	UNIT_OK(&u, kimage_payload(bz.p, bz.len, &p, &err) == -ENOEXEC && strstr(err.msg, "HdrS"),
	    "no HdrS: refused");
	bz.p[0x202] = 'H';
	/* LZO's magic, and garbage. */
	memcpy(bz.p + 1024 + 0x100, "\x89LZO", 4);
	UNIT_OK(&u, kimage_payload(bz.p, bz.len, &p, &err) == -ENOEXEC &&
	    strstr(err.msg, "not recognised") && one_line(&err), "an unknown magic (lzo) is refused");
	kfake_free(&bz);
	kfake_free(&s);
	kfake_free(&elf);
}

static void test_not_elf(void)
{
	static const char text[] = "this is not a kernel, only text that compresses well well well";
	struct rv_err err;
	uint8_t *out = NULL;
	size_t len;

	for (size_t i = 0; i < NR_FMTS; i++) {
		struct kfake_buf s = kfake_compress(fmts[i], (const uint8_t *)text, sizeof(text));
		struct kfake_buf bz = kfake_bzimage(&s, sizeof(text));
		char name[512];
		int r = unpack(&bz, KIMAGE_MAX_OUT, &out, &len, &err);

		snprintf(name, sizeof(name), "%s: output that is not an ELF is refused",
		    kimage_fmt_name(fmts[i]));
		UNIT_OK(&u, r == -ENOEXEC && !out && strstr(err.msg, "not an ELF"), name);
		kfake_free(&s);
		kfake_free(&bz);
	}
	{
		struct kfake_buf elf = kfake_elf(4096, 4);
		Elf64_Ehdr *eh = (Elf64_Ehdr *)elf.p;

		UNIT_OK(&u, !kimage_check_elf(elf.p, elf.len, &err), "the fake ELF passes the check");
		eh->e_machine = EM_AARCH64;
		UNIT_OK(&u, kimage_check_elf(elf.p, elf.len, &err) == -ENOEXEC, "an arm64 ELF is refused");
		eh->e_machine = EM_X86_64;
		eh->e_phoff = elf.len - 8;
		UNIT_OK(&u, kimage_check_elf(elf.p, elf.len, &err) == -ENOEXEC,
		    "program headers past the end are refused");
		eh->e_phoff = ~0ull;
		UNIT_OK(&u, kimage_check_elf(elf.p, elf.len, &err) == -ENOEXEC,
		    "a program header offset of 2^64-1 is refused");
		kfake_free(&elf);
	}
}

/* has_pvh_note: a PT_NOTE holds the note ("Xen", XEN_ELFNOTE_PHYS32_ENTRY). */
static int has_pvh_note(const uint8_t *elf, size_t len)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(elf + eh->e_phoff + i * sizeof(*ph));
		size_t pos, end;

		if (ph->p_type != PT_NOTE || ph->p_offset > len || ph->p_filesz > len - ph->p_offset)
			continue;
		pos = ph->p_offset;
		end = pos + ph->p_filesz;
		while (end - pos >= sizeof(Elf64_Nhdr)) {
			const Elf64_Nhdr *n = (const Elf64_Nhdr *)(elf + pos);
			size_t name = (n->n_namesz + 3) & ~3u, desc = (n->n_descsz + 3) & ~3u;

			if (name + desc > end - pos - sizeof(*n))
				break;
			if (n->n_namesz == 4 && !memcmp(elf + pos + sizeof(*n), "Xen", 4) &&
			    n->n_type == 18)
				return 1;
			pos += sizeof(*n) + name + desc;
		}
	}
	return 0;
}

static void test_debian_kernel(void)
{
	char path[256], name[1024];
	struct kimage_payload p;
	struct rv_err err;
	struct timespec t0, t1;
	struct stat st;
	uint8_t *out = NULL;
	size_t len = 0;
	void *map;
	int fd, r;

	if (kfake_vmlinuz(path, sizeof(path)) || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		/* scripts/install-deps.sh installs linux-image-amd64: no kernel is a broken setup. */
		UNIT_OK(&u, 0, "Debian's vmlinuz: no readable /boot/vmlinuz-* "
		    "(scripts/install-deps.sh installs linux-image-amd64)");
		return;
	}
	fstat(fd, &st);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		UNIT_OK(&u, 0, "Debian's vmlinuz can be mapped");
		return;
	}
	r = kimage_payload(map, (size_t)st.st_size, &p, &err);
	snprintf(name, sizeof(name), "%s: payload found (%s, %zu bytes, %u unpacked)", path,
	    kimage_fmt_name(p.fmt), r ? 0 : p.len, r ? 0 : p.out_len);
	UNIT_OK(&u, !r, name);
	if (!r) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = kimage_unpack(&p, KIMAGE_MAX_OUT, &out, &len, &err);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		snprintf(name, sizeof(name), "%s unpacks to an x86-64 ELF%s%s", path, r ? ": " : "",
		    r ? err.msg : "");
		UNIT_OK(&u, !r, name);
		if (!r)
			printf("# %s: %s unpack of %zu bytes in %.0f ms\n", path, kimage_fmt_name(p.fmt),
			    len, (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
		UNIT_OK(&u, !r && has_pvh_note(out, len),
		    "its PT_NOTE has the PVH entry (Xen note, type 18, XEN_ELFNOTE_PHYS32_ENTRY)");
		kimage_free(out, len);
	}
	munmap(map, (size_t)st.st_size);
}

int main(void)
{
	test_header();
	test_formats();
	test_bomb();
	test_not_elf();
	test_debian_kernel();
	return unit_done(&u);
}
