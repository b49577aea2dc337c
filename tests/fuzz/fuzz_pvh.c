/*
 * fuzz_pvh.c: the x86 ELF/PVH checks and loader (src/arch/x86/pvh.c,
 * HOSTILE.md H2 for ELF kernels) on raw bytes, read from a memfd as
 * arch_boot_check hands it any descriptor. When the parse succeeds and the
 * segments fit in 64 MiB of guest RAM, pvh_load and pvh_write_info run too.
 *
 * Input: an 8-byte prefix, then the kernel file.
 *   byte 0   bit 0: the file claims `extra` more bytes than the descriptor
 *            holds (a file that shrank, or a lying size); bit 1: load
 *   4..7     extra
 *
 * Invariants: a refusal has a one-line reason; an acceptance means the ELF
 * header is a little-endian x86-64 ET_EXEC with 1..64 program headers
 * inside the file; every kept segment has its file bytes inside the file,
 * filesz <= memsz, lies in [1 MiB, 3 GiB) without wrapping and overlaps no
 * other; the entry point lies in some segment's file bytes; the footprint
 * spans all segments. A load copies exactly the file bytes and zeroes the
 * rest of each segment, and the start info carries the magic and the map.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch.h"
#include "pvh.h"

#define RAM (64ull << 20)
#define PRE 8

#define CHECK(c) do { if (!(c)) fail(#c, __LINE__); } while (0)

static void fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_pvh: invariant broken at line %d: %s\n", line, what);
	abort();
}

static struct gmem gm;

static bool reason_ok(const char *err)
{
	size_t n = strnlen(err, 256);

	return n > 0 && n < 256 && !memchr(err, '\n', n);
}

/* check_accepted: what an accepted file must be, from its own bytes. */
static void check_accepted(const uint8_t *file, size_t file_len, uint64_t file_size,
    const struct arch_vm *a)
{
	Elf64_Ehdr eh;
	uint64_t lo = UINT64_MAX, hi = 0;
	bool inside = false;

	CHECK(file_len >= sizeof(eh));
	memcpy(&eh, file, sizeof(eh));
	CHECK(!memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	    eh.e_ident[EI_DATA] == ELFDATA2LSB && eh.e_machine == EM_X86_64 &&
	    eh.e_type == ET_EXEC && eh.e_phentsize == sizeof(Elf64_Phdr));
	CHECK(eh.e_phnum >= 1 && eh.e_phnum <= PVH_PHNUM_MAX);
	CHECK(eh.e_phoff <= file_size && eh.e_phnum * sizeof(Elf64_Phdr) <= file_size - eh.e_phoff);
	CHECK(a->form == X86_KERNEL_PVH && a->kernel_size == file_size);
	CHECK(a->pvh_nr_segs >= 1 && a->pvh_nr_segs <= X86_PVH_MAX_SEGS);
	for (unsigned i = 0; i < a->pvh_nr_segs; i++) {
		const struct x86_pvh_seg *s = &a->pvh_seg[i];

		CHECK(s->filesz <= s->memsz && s->memsz > 0);
		CHECK(s->off <= file_size && s->filesz <= file_size - s->off);
		CHECK(s->gpa >= 0x100000 && s->gpa < X86_MMIO_HOLE_GPA &&
		    s->memsz <= X86_MMIO_HOLE_GPA - s->gpa);
		for (unsigned j = 0; j < i; j++)
			CHECK(s->gpa + s->memsz <= a->pvh_seg[j].gpa ||
			    a->pvh_seg[j].gpa + a->pvh_seg[j].memsz <= s->gpa);
		if (a->pvh_entry >= s->gpa && a->pvh_entry - s->gpa < s->filesz)
			inside = true;
		lo = s->gpa < lo ? s->gpa : lo;
		hi = s->gpa + s->memsz > hi ? s->gpa + s->memsz : hi;
	}
	CHECK(inside);
	CHECK(a->kernel_gpa == lo && a->init_size == hi - lo);
	CHECK(a->cmdline_size == PVH_CMDLINE_SIZE);
}

/* try_load: pvh_load and pvh_write_info into 64 MiB of RAM. */
static void try_load(const uint8_t *file, int fd, struct arch_vm *a)
{
	static const struct boot_e820_entry map[3] = {
		{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x60400, 2 }, { 0x100000, RAM - 0x100000, 1 },
	};
	struct pvh_start_info si;

	if (a->kernel_gpa + a->init_size > RAM)
		return;
	/* Poison RAM where segments go, so the zeroing is seen. */
	for (unsigned i = 0; i < a->pvh_nr_segs; i++)
		memset(gmem_ptr(&gm, a->pvh_seg[i].gpa, a->pvh_seg[i].memsz), 0xa5, a->pvh_seg[i].memsz);
	CHECK(pvh_load(&gm, fd, a) == 0);
	for (unsigned i = 0; i < a->pvh_nr_segs; i++) {
		const struct x86_pvh_seg *s = &a->pvh_seg[i];
		const uint8_t *p = gmem_ptr(&gm, s->gpa, s->memsz);

		CHECK(!memcmp(p, file + s->off, s->filesz));
		for (uint64_t k = s->filesz; k < s->memsz; k++)
			CHECK(p[k] == 0);
	}
	a->initrd_size = 0;
	a->rsdp_gpa = 0xe0000;
	CHECK(pvh_write_info(&gm, a, map, 3, X86_CMDLINE_GPA) == 0);
	CHECK(gmem_read(&gm, X86_PVH_INFO_GPA, &si, sizeof(si)) == 0);
	CHECK(si.magic == PVH_START_MAGIC && si.version == 1 && si.memmap_entries == 3 &&
	    si.nr_modules == 0 && si.cmdline_paddr == X86_CMDLINE_GPA);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pre[PRE] = { 0 };
	const uint8_t *file = size > PRE ? data + PRE : data;
	size_t file_len = size > PRE ? size - PRE : 0;
	uint64_t file_size;
	struct arch_vm a;
	char err[256];
	int fd;

	if (!gm.nr_regions) {
		uint64_t base = 0, limit = RAM;

		if (gmem_init(&gm, RAM, &base, &limit, 1))
			abort();
	}
	memcpy(pre, data, size < PRE ? size : PRE);
	file_size = file_len;
	if (pre[0] & 1)
		file_size += (uint64_t)pre[4] | (uint64_t)pre[5] << 8 | (uint64_t)pre[6] << 16 |
		    (uint64_t)pre[7] << 24;
	fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0 || (file_len && write(fd, file, file_len) != (ssize_t)file_len))
		abort();
	memset(&a, 0x5a, sizeof(a));
	err[0] = 0;
	if (pvh_parse(fd, file_size, &a, err, sizeof(err))) {
		CHECK(reason_ok(err));
	} else {
		check_accepted(file, file_len, file_size, &a);
		if ((pre[0] & 2) && file_size == file_len)
			try_load(file, fd, &a);
	}
	close(fd);
	return 0;
}
