/*
 * test_pvh.c: the x86 ELF/PVH loader (src/arch/x86/pvh.c) against built ELF
 * files: the ELF header, program header and note checks (HOSTILE.md H2 for
 * ELF kernels), segment overlap and placement, the entry point, truncated
 * files; then the segments and hvm_start_info it writes into guest memory,
 * alone and through arch_boot_check / arch_boot_load (the form picked from
 * the content, the initrd as a module, ringvm's appended archive).
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch.h"
#include "boot.h"
#include "config.h"
#include "gmem.h"
#include "log.h"
#include "pci.h"
#include "pvh.h"
#include "vm.h"
#include "unit.h"

#define MIB (1ull << 20)
#define FILE_LEN 0x5000u	/* the good image's size */
#define SEG0_OFF 0x1000u	/* text: 0x2000 file bytes at 16 MiB, 0x3000 in memory */
#define SEG1_OFF 0x3000u	/* data: 0x1000 bytes at 17 MiB */
#define NOTE_OFF 0x400u
#define ENTRY 0x1000100u

static struct unit u = { .file = "pvh" };
static uint8_t img[FILE_LEN];

static Elf64_Ehdr *eh(void) { return (Elf64_Ehdr *)img; }
static Elf64_Phdr *ph(unsigned i) { return (Elf64_Phdr *)(img + 64) + i; }

/* note: one ELF note at `off` (4-byte aligned); returns the bytes it took. */
static size_t note(size_t off, const char *name, uint32_t namesz, uint32_t type,
    const void *desc, uint32_t descsz)
{
	uint32_t hdr[3] = { namesz, descsz, type };
	size_t n = (namesz + 3u) & ~3u;

	memcpy(img + off, hdr, sizeof(hdr));
	memcpy(img + off + 12, name, namesz);
	memcpy(img + off + 12 + n, desc, descsz);
	return 12 + n + ((descsz + 3u) & ~3u);
}

/*
 * mkgood: an x86-64 ET_EXEC with three program headers: text at 16 MiB
 * (with 0x1000 bytes of bss), data at 17 MiB, and a PT_NOTE holding a GNU
 * note, then Xen's PHYS32_ENTRY with an 8-byte descriptor, as Linux writes it.
 */
static void mkgood(void)
{
	uint64_t entry = ENTRY;
	size_t n;

	memset(img, 0, sizeof(img));
	memcpy(eh()->e_ident, ELFMAG, SELFMAG);
	eh()->e_ident[EI_CLASS] = ELFCLASS64;
	eh()->e_ident[EI_DATA] = ELFDATA2LSB;
	eh()->e_ident[EI_VERSION] = EV_CURRENT;
	eh()->e_type = ET_EXEC;
	eh()->e_machine = EM_X86_64;
	eh()->e_version = EV_CURRENT;
	eh()->e_entry = 0x1000000;
	eh()->e_phoff = 64;
	eh()->e_ehsize = 64;
	eh()->e_phentsize = sizeof(Elf64_Phdr);
	eh()->e_phnum = 3;
	*ph(0) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = SEG0_OFF, .p_vaddr = 0xffffffff81000000,
	    .p_paddr = 16 * MIB, .p_filesz = 0x2000, .p_memsz = 0x3000, .p_align = 0x1000 };
	*ph(1) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = SEG1_OFF, .p_vaddr = 0,
	    .p_paddr = 17 * MIB, .p_filesz = 0x1000, .p_memsz = 0x1000, .p_align = 0x1000 };
	n = note(NOTE_OFF, "GNU", 4, 3, "0123456789abcdefghij", 20);
	n += note(NOTE_OFF + n, "Xen", 4, PVH_ELFNOTE_PHYS32_ENTRY, &entry, 8);
	*ph(2) = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_filesz = n, .p_align = 4 };
	for (size_t i = SEG0_OFF; i < FILE_LEN; i++)
		img[i] = (uint8_t)(i * 7 + 3);
}

/* memfd: a descriptor holding the first `len` bytes of img. */
static int memfd(size_t len)
{
	int fd = memfd_create("pvh", MFD_CLOEXEC);

	if (fd < 0 || write(fd, img, len) != (ssize_t)len)
		abort();
	return fd;
}

/* parse: pvh_parse on img cut to `len` bytes (0: all), the file claiming `claim` (0: len). */
static int parse(size_t len, uint64_t claim, struct arch_vm *a, char *err, size_t errlen)
{
	int fd, r;

	len = len ? len : FILE_LEN;
	fd = memfd(len);
	memset(a, 0, sizeof(*a));
	err[0] = '\0';
	r = pvh_parse(fd, claim ? claim : len, a, err, errlen);
	close(fd);
	return r;
}

/* refused: the current img is refused with exactly `msg`. */
static int refused(size_t len, const char *msg)
{
	struct arch_vm a;
	char err[256];

	if (parse(len, 0, &a, err, sizeof(err)) != -1 || strcmp(err, msg)) {
		printf("# got '%s'\n#   want '%s'\n", err, msg);
		return 0;
	}
	return 1;
}

static void test_good(void)
{
	struct arch_vm a;
	char err[256];

	mkgood();
	UNIT_OK(&u, parse(0, 0, &a, err, sizeof(err)) == 0, "good ELF parses");
	UNIT_OK(&u, a.form == X86_KERNEL_PVH && a.pvh_entry == ENTRY && a.pvh_nr_segs == 2 &&
	    a.kernel_size == FILE_LEN, "form, entry, two segments, file size");
	UNIT_OK(&u, a.pvh_seg[0].off == SEG0_OFF && a.pvh_seg[0].filesz == 0x2000 &&
	    a.pvh_seg[0].gpa == 16 * MIB && a.pvh_seg[0].memsz == 0x3000 &&
	    a.pvh_seg[1].gpa == 17 * MIB, "segments at their physical addresses, not p_vaddr");
	UNIT_OK(&u, a.kernel_gpa == 16 * MIB && a.init_size == MIB + 0x1000,
	    "footprint: lowest segment to the highest end");
	UNIT_OK(&u, a.cmdline_size == PVH_CMDLINE_SIZE && a.initrd_addr_max == 0xbfffffff,
	    "command line and initrd limits");

	mkgood();
	{
		uint32_t e4 = ENTRY + 0x10;

		/* A 4-byte descriptor, as non-Linux PVH kernels write it; also an 8-aligned segment. */
		ph(2)->p_filesz = note(NOTE_OFF, "Xen", 4, PVH_ELFNOTE_PHYS32_ENTRY, &e4, 4);
	}
	UNIT_OK(&u, parse(0, 0, &a, err, sizeof(err)) == 0 && a.pvh_entry == ENTRY + 0x10,
	    "4-byte entry descriptor");
	mkgood();
	ph(1)->p_memsz = ph(1)->p_filesz = 0;
	ph(1)->p_paddr = 0;
	UNIT_OK(&u, parse(0, 0, &a, err, sizeof(err)) == 0 && a.pvh_nr_segs == 1,
	    "an empty PT_LOAD loads nothing, wherever it points");
	mkgood();
	ph(1)->p_paddr = 16 * MIB + 0x3000;
	UNIT_OK(&u, parse(0, 0, &a, err, sizeof(err)) == 0, "segments touching end to start");
	mkgood();
	ph(1)->p_paddr = 0xc0000000 - 0x1000;
	UNIT_OK(&u, parse(0, 0, &a, err, sizeof(err)) == 0, "a segment ending at the hole");
	mkgood();
	UNIT_OK(&u, parse(0, FILE_LEN + 100, &a, err, sizeof(err)) == 0 &&
	    a.kernel_size == FILE_LEN + 100, "file longer than its segments");
}

static void test_ehdr(void)
{
	mkgood();
	UNIT_OK(&u, refused(63, "is too small to be an ELF kernel (63 bytes)"), "63-byte file");
	img[3] = 'X';
	UNIT_OK(&u, refused(0, "is not an ELF file"), "bad magic");
	mkgood();
	eh()->e_ident[EI_CLASS] = ELFCLASS32;
	UNIT_OK(&u, refused(0, "is a 32-bit ELF file; ringvm boots 64-bit x86 kernels"), "ELFCLASS32");
	eh()->e_ident[EI_CLASS] = 7;
	UNIT_OK(&u, refused(0, "has an unknown ELF class (7)"),
	    "unknown class");
	mkgood();
	eh()->e_ident[EI_DATA] = ELFDATA2MSB;
	UNIT_OK(&u, refused(0, "is not a little-endian ELF file"), "big-endian");
	mkgood();
	eh()->e_ident[EI_VERSION] = 2;
	UNIT_OK(&u, refused(0, "has a bad ELF version (2)"), "ident version 2");
	mkgood();
	eh()->e_version = 0;
	UNIT_OK(&u, refused(0, "has a bad ELF version (1)"), "e_version 0");
	mkgood();
	eh()->e_machine = EM_AARCH64;
	UNIT_OK(&u, refused(0, "is an ELF file for machine 183, not x86-64"), "arm64 ELF");
	mkgood();
	eh()->e_machine = EM_386;
	UNIT_OK(&u, refused(0, "is an ELF file for machine 3, not x86-64"), "i386 machine");
	mkgood();
	eh()->e_type = ET_DYN;
	UNIT_OK(&u, refused(0, "is not an ELF executable (type 3)"), "ET_DYN (a program)");
	eh()->e_type = ET_REL;
	UNIT_OK(&u, refused(0, "is not an ELF executable (type 1)"), "ET_REL (an object)");
	mkgood();
	eh()->e_phentsize = 32;
	UNIT_OK(&u, refused(0, "has ELF program headers of 32 bytes, not 56"), "phentsize 32");
	mkgood();
	eh()->e_phnum = 0;
	UNIT_OK(&u, refused(0, "has 0 ELF program headers (1 to 64 allowed)"), "phnum 0");
	eh()->e_phnum = 65;
	UNIT_OK(&u, refused(0, "has 65 ELF program headers (1 to 64 allowed)"), "phnum 65");
	eh()->e_phnum = 0xffff;
	UNIT_OK(&u, refused(0, "has 65535 ELF program headers (1 to 64 allowed)"), "phnum PN_XNUM");
	mkgood();
	eh()->e_phoff = FILE_LEN - 100;
	UNIT_OK(&u, refused(0, "is truncated: its program headers at 0x4f9c end past the file "
	    "(20480 bytes)"), "program headers past the end");
	eh()->e_phoff = UINT64_MAX - 8;
	UNIT_OK(&u, refused(0, "is truncated: its program headers at 0xfffffffffffffff7 end past "
	    "the file (20480 bytes)"), "phoff + size wraps");
	mkgood();
	UNIT_OK(&u, refused(64 + 56, "is truncated: its program headers at 0x40 end past the file "
	    "(120 bytes)"), "file cut inside the program headers");
}

static void test_phdrs(void)
{
	char want[200];

	mkgood();
	ph(0)->p_filesz = 0x3001;
	UNIT_OK(&u, refused(0, "program header 0: file size 0x3001 is above its memory size 0x3000"),
	    "filesz > memsz");
	mkgood();
	ph(1)->p_offset = FILE_LEN - 0x800;
	UNIT_OK(&u, refused(0, "is truncated: program header 1 needs 0x1000 bytes at 0x4800, "
	    "file has 20480"), "segment past the end of the file");
	ph(1)->p_offset = UINT64_MAX - 0x10;
	UNIT_OK(&u, refused(0, "is truncated: program header 1 needs 0x1000 bytes at "
	    "0xffffffffffffffef, file has 20480"), "p_offset + p_filesz wraps");
	mkgood();
	UNIT_OK(&u, refused(SEG1_OFF + 0x1000 - 1, "is truncated: program header 1 needs 0x1000 "
	    "bytes at 0x3000, file has 16383"), "file one byte short of its last segment");
	mkgood();
	ph(0)->p_paddr = 0xff000;
	UNIT_OK(&u, refused(0, "program header 0: segment at 0xff000 of 0x3000 bytes lies outside "
	    "low RAM (1 MiB to 3 GiB)"), "segment below 1 MiB (ringvm's tables, ACPI)");
	ph(0)->p_paddr = 0;
	UNIT_OK(&u, refused(0, "program header 0: segment at 0 of 0x3000 bytes lies outside low RAM "
	    "(1 MiB to 3 GiB)"), "segment at 0 (start_info, command line)");
	ph(0)->p_paddr = 0xc0000000 - 0x2000;
	UNIT_OK(&u, refused(0, "program header 0: segment at 0xbfffe000 of 0x3000 bytes lies "
	    "outside low RAM (1 MiB to 3 GiB)"), "segment running into the hole");
	ph(0)->p_paddr = 0x100000000ull;
	UNIT_OK(&u, refused(0, "program header 0: segment at 0x100000000 of 0x3000 bytes lies "
	    "outside low RAM (1 MiB to 3 GiB)"), "segment above 4 GiB");
	ph(0)->p_paddr = UINT64_MAX - 0xfff;
	UNIT_OK(&u, refused(0, "program header 0: segment at 0xfffffffffffff000 of 0x3000 bytes "
	    "lies outside low RAM (1 MiB to 3 GiB)"), "p_paddr + p_memsz wraps");
	mkgood();
	ph(0)->p_memsz = UINT64_MAX;
	UNIT_OK(&u, refused(0, "program header 0: segment at 0x1000000 of 0xffffffffffffffff bytes "
	    "lies outside low RAM (1 MiB to 3 GiB)"), "huge p_memsz");
	mkgood();
	ph(1)->p_paddr = 16 * MIB + 0x2fff;
	UNIT_OK(&u, refused(0, "program header 1: segment at 0x1002fff of 0x1000 bytes overlaps the "
	    "one at 0x1000000"), "segments overlapping by one byte (in the bss)");
	ph(1)->p_paddr = 16 * MIB - 0x800;
	UNIT_OK(&u, refused(0, "program header 1: segment at 0xfff800 of 0x1000 bytes overlaps the "
	    "one at 0x1000000"), "segment overlapping the start of another");
	ph(1)->p_paddr = 16 * MIB + 0x1000;
	ph(1)->p_memsz = ph(1)->p_filesz = 0x100;
	UNIT_OK(&u, refused(0, "program header 1: segment at 0x1001000 of 0x100 bytes overlaps the "
	    "one at 0x1000000"), "segment inside another");
	mkgood();
	ph(0)->p_type = PT_NULL;
	ph(1)->p_type = PT_GNU_STACK;
	UNIT_OK(&u, refused(0, "has no loadable ELF segment"), "no PT_LOAD");
	mkgood();
	eh()->e_phnum = X86_PVH_MAX_SEGS + 2;
	for (unsigned i = 0; i <= X86_PVH_MAX_SEGS; i++)
		*ph(i) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = SEG0_OFF,
		    .p_paddr = 16 * MIB + i * 0x1000ull, .p_filesz = 0x100, .p_memsz = 0x1000 };
	snprintf(want, sizeof(want), "has more than %u loadable segments", X86_PVH_MAX_SEGS);
	UNIT_OK(&u, refused(0, want), "one PT_LOAD more than ringvm keeps");
}

static void test_notes(void)
{
	uint64_t e8;
	uint32_t e4;

	mkgood();
	ph(2)->p_type = PT_NULL;
	UNIT_OK(&u, refused(0, "has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); build the kernel "
	    "with CONFIG_PVH"), "no PT_NOTE");
	mkgood();
	e8 = ENTRY;
	ph(2)->p_filesz = note(NOTE_OFF, "XEN", 4, PVH_ELFNOTE_PHYS32_ENTRY, &e8, 8);
	UNIT_OK(&u, refused(0, "has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); build the kernel "
	    "with CONFIG_PVH"), "note named XEN, not Xen");
	ph(2)->p_filesz = note(NOTE_OFF, "Xen", 3, PVH_ELFNOTE_PHYS32_ENTRY, &e8, 8);
	UNIT_OK(&u, refused(0, "has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); build the kernel "
	    "with CONFIG_PVH"), "name without its NUL");
	ph(2)->p_filesz = note(NOTE_OFF, "Xen", 4, 17, &e8, 8);
	UNIT_OK(&u, refused(0, "has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); build the kernel "
	    "with CONFIG_PVH"), "another Xen note type only");
	mkgood();
	e4 = ENTRY;
	ph(2)->p_filesz = note(NOTE_OFF, "Xen", 4, PVH_ELFNOTE_PHYS32_ENTRY, &e4, 2);
	UNIT_OK(&u, refused(0, "has a bad PVH entry note (2-byte descriptor; 4 or 8 expected)"),
	    "short descriptor");
	ph(2)->p_filesz = note(NOTE_OFF, "Xen", 4, PVH_ELFNOTE_PHYS32_ENTRY, "0123456789ab", 12);
	UNIT_OK(&u, refused(0, "has a bad PVH entry note (12-byte descriptor; 4 or 8 expected)"),
	    "12-byte descriptor");
	e8 = 0x100000000ull | ENTRY;
	ph(2)->p_filesz = note(NOTE_OFF, "Xen", 4, PVH_ELFNOTE_PHYS32_ENTRY, &e8, 8);
	UNIT_OK(&u, refused(0, "has its PVH entry point at 0x101000100, above 4 GiB"),
	    "entry above 4 GiB");
	e8 = 16 * MIB + 0x2000;
	ph(2)->p_filesz = note(NOTE_OFF, "Xen", 4, PVH_ELFNOTE_PHYS32_ENTRY, &e8, 8);
	UNIT_OK(&u, refused(0, "has its PVH entry point 0x1002000 outside its loaded segments"),
	    "entry in the bss (no file bytes)");
	e8 = 0x800000;
	ph(2)->p_filesz = note(NOTE_OFF, "Xen", 4, PVH_ELFNOTE_PHYS32_ENTRY, &e8, 8);
	UNIT_OK(&u, refused(0, "has its PVH entry point 0x800000 outside its loaded segments"),
	    "entry below every segment");
	e8 = 17 * MIB + 0x1000;
	ph(2)->p_filesz = note(NOTE_OFF, "Xen", 4, PVH_ELFNOTE_PHYS32_ENTRY, &e8, 8);
	UNIT_OK(&u, refused(0, "has its PVH entry point 0x1101000 outside its loaded segments"),
	    "entry one past the last segment's end");
	e8 = 17 * MIB + 0xfff;
	ph(2)->p_filesz = note(NOTE_OFF, "Xen", 4, PVH_ELFNOTE_PHYS32_ENTRY, &e8, 8);
	{
		struct arch_vm a;
		char err[256];

		UNIT_OK(&u, parse(0, 0, &a, err, sizeof(err)) == 0 && a.pvh_entry == 17 * MIB + 0xfff,
		    "entry at a segment's last file byte is fine");
	}

	/* Malformed notes: sizes that run past the segment. */
	mkgood();
	{
		uint32_t hdr[3] = { 0xfffffff0u, 8, PVH_ELFNOTE_PHYS32_ENTRY };

		memcpy(img + NOTE_OFF, hdr, sizeof(hdr));
		UNIT_OK(&u, refused(0, "program header 2: malformed ELF note at offset 0"),
		    "name size near 4 GiB");
		hdr[0] = 4;
		hdr[1] = 0xffffffffu;
		memcpy(img + NOTE_OFF, hdr, sizeof(hdr));
		UNIT_OK(&u, refused(0, "program header 2: malformed ELF note at offset 0"),
		    "descriptor size 4 GiB - 1 (padding must not wrap)");
	}
	mkgood();
	ph(2)->p_filesz -= 4;
	UNIT_OK(&u, refused(0, "program header 2: malformed ELF note at offset 0x24"),
	    "last note cut short by the segment");
	mkgood();
	ph(2)->p_filesz = PVH_NOTES_MAX + 1;
	UNIT_OK(&u, refused(0, "is truncated: program header 2 needs 0x10001 bytes at 0x400, file "
	    "has 20480"), "note segment past the end of the file");
	{
		struct arch_vm a;
		char err[256];

		UNIT_OK(&u, parse(0, 1 << 20, &a, err, sizeof(err)) == -1 &&
		    !strcmp(err, "program header 2: note segment of 65537 bytes is larger than 65536"),
		    "note segment larger than PVH_NOTES_MAX");
	}
	mkgood();
	ph(2)->p_offset = UINT64_MAX - 4;
	UNIT_OK(&u, refused(0, "is truncated: program header 2 needs 0x3c bytes at "
	    "0xfffffffffffffffb, file has 20480"), "note offset wraps");
	/* A file that claims more bytes than the descriptor holds: a read comes up short. */
	{
		struct arch_vm a;
		char err[256];

		mkgood();
		ph(1)->p_offset = FILE_LEN;
		ph(2)->p_offset = FILE_LEN + 0x100;
		UNIT_OK(&u, parse(0, FILE_LEN + 0x2000, &a, err, sizeof(err)) == -1 &&
		    !strcmp(err, "cannot be read (program header 2's notes)"),
		    "file shorter than it claimed: a clean refusal");
	}
}

/* boot_params and hvm_start_info live in fresh guest RAM of `mem` bytes. */
static int ram(struct gmem *gm, uint64_t mem)
{
	uint64_t base[GMEM_MAX_REGIONS], limit[GMEM_MAX_REGIONS];
	unsigned n = arch_mem_layout(mem, base, limit);

	memset(gm, 0, sizeof(*gm));
	return gmem_init(gm, mem, base, limit, n);
}

static void test_load_and_info(void)
{
	static const struct boot_e820_entry map[3] = {
		{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x60400, 2 }, { 0x100000, 63 * MIB, 1 },
	};
	struct pvh_start_info si;
	struct pvh_modlist_entry mod;
	struct pvh_memmap_entry mm[3];
	struct arch_vm a;
	struct gmem gm;
	uint8_t *p;
	char err[256];
	int fd;

	mkgood();
	if (parse(0, 0, &a, err, sizeof(err)) || ram(&gm, 64 * MIB)) {
		UNIT_OK(&u, 0, "setup for the load");
		return;
	}
	/* Leftovers from an earlier boot where the bss goes. */
	memset(gmem_ptr(&gm, 16 * MIB, 0x4000), 0xee, 0x4000);
	fd = memfd(FILE_LEN);
	UNIT_OK(&u, pvh_load(&gm, fd, &a) == 0, "segments load");
	p = gmem_ptr(&gm, 16 * MIB, 0x3000);
	UNIT_OK(&u, !memcmp(p, img + SEG0_OFF, 0x2000), "text copied to its p_paddr");
	UNIT_OK(&u, p[0x2000] == 0 && p[0x2fff] == 0 && !memcmp(p + 0x2000, p + 0x2001, 0xfff),
	    "bss zeroed");
	UNIT_OK(&u, *(uint8_t *)gmem_ptr(&gm, 16 * MIB + 0x3000, 1) == 0xee,
	    "nothing written past the segment's memsz");
	UNIT_OK(&u, !memcmp(gmem_ptr(&gm, 17 * MIB, 0x1000), img + SEG1_OFF, 0x1000),
	    "data copied to its p_paddr");
	close(fd);
	fd = memfd(SEG1_OFF + 0x10);
	UNIT_OK(&u, pvh_load(&gm, fd, &a) == -EIO, "file shrunk after the checks: -EIO");
	close(fd);

	a.initrd_gpa = 60 * MIB;
	a.initrd_size = 12345;
	a.rsdp_gpa = 0xe0000;
	UNIT_OK(&u, pvh_write_info(&gm, &a, map, 3, X86_CMDLINE_GPA) == 0, "start info written");
	gmem_read(&gm, X86_PVH_INFO_GPA, &si, sizeof(si));
	UNIT_OK(&u, si.magic == 0x336ec578 && si.version == 1 && si.flags == 0 && si.reserved == 0,
	    "magic, version 1, no flags");
	UNIT_OK(&u, si.cmdline_paddr == X86_CMDLINE_GPA && si.rsdp_paddr == 0xe0000,
	    "command line and RSDP");
	UNIT_OK(&u, si.nr_modules == 1 && si.modlist_paddr == X86_PVH_INFO_GPA + PVH_MODLIST_OFF,
	    "one module");
	gmem_read(&gm, si.modlist_paddr, &mod, sizeof(mod));
	UNIT_OK(&u, mod.paddr == 60 * MIB && mod.size == 12345 && mod.cmdline_paddr == 0 &&
	    mod.reserved == 0, "the module is the initrd, without a command line");
	UNIT_OK(&u, si.memmap_entries == 3 && si.memmap_paddr == X86_PVH_INFO_GPA + PVH_MEMMAP_OFF,
	    "memory map: 3 entries");
	gmem_read(&gm, si.memmap_paddr, mm, sizeof(mm));
	UNIT_OK(&u, mm[0].addr == 0 && mm[0].size == 0x9fc00 && mm[0].type == 1 &&
	    mm[1].type == 2 && mm[2].addr == 0x100000 && mm[2].size == 63 * MIB && mm[2].type == 1 &&
	    mm[2].reserved == 0, "memory map entries as given");
	UNIT_OK(&u, sizeof(si) == 56 && sizeof(mod) == 32 && sizeof(mm[0]) == 24,
	    "Xen's structure sizes");

	a.initrd_size = 0;
	UNIT_OK(&u, pvh_write_info(&gm, &a, map, 3, X86_CMDLINE_GPA) == 0 &&
	    !gmem_read(&gm, X86_PVH_INFO_GPA, &si, sizeof(si)) && si.nr_modules == 0 &&
	    si.modlist_paddr == 0, "no initrd: no module");
	UNIT_OK(&u, pvh_write_info(&gm, &a, map, 200, X86_CMDLINE_GPA) == -E2BIG,
	    "a map larger than its page is refused");
	gmem_fini(&gm);
}

/* Through the hooks: the form comes from the content; the initrd and ringvm's archive follow. */
static void test_hooks(void)
{
	static char dir[] = "/tmp/ringvm-pvh-XXXXXX";
	static const uint8_t extra[] = "ringvm's own archive";
	static uint8_t rd[1001];
	static struct vm vm;
	uint64_t base[GMEM_MAX_REGIONS], limit[GMEM_MAX_REGIONS];
	char kpath[64], rpath[64], cmd[96];
	struct rv_config cfg;
	struct pvh_start_info si;
	struct pvh_modlist_entry mod;
	struct pvh_memmap_entry mm[4];
	struct rv_err e;
	FILE *f;
	unsigned n;

	if (!mkdtemp(dir))
		return;
	/* A name that says bzImage: only the bytes count. */
	snprintf(kpath, sizeof(kpath), "%s/vmlinuz", dir);
	snprintf(rpath, sizeof(rpath), "%s/initrd", dir);
	mkgood();
	f = fopen(kpath, "w");
	if (f) {
		fwrite(img, 1, FILE_LEN, f);
		fclose(f);
	}
	memset(rd, 0x5a, sizeof(rd));
	f = fopen(rpath, "w");
	if (f) {
		fwrite(rd, 1, sizeof(rd), f);
		fclose(f);
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.kernel = kpath;
	cfg.initrd = rpath;
	cfg.append = "quiet pvh=yes";
	cfg.initrd_extra = extra;
	cfg.initrd_extra_len = sizeof(extra);
	cfg.ncpus = 1;
	cfg.mem_size = 64 * MIB;
	memset(&vm, 0, sizeof(vm));
	vm.kvm_fd = vm.vm_fd = -1;
	vm.cfg = &cfg;
	vm.nr_vcpus = 1;
	n = arch_mem_layout(cfg.mem_size, base, limit);
	if (gmem_init(&vm.mem, cfg.mem_size, base, limit, n) ||
	    !UNIT_OK(&u, arch_boot_check(&vm, &cfg, &e) == 0, "arch_boot_check takes the ELF") ||
	    !UNIT_OK(&u, pci_init(&vm, &e) == 0 && arch_boot_load(&vm, &cfg, &e) == 0,
	    "arch_boot_load loads it")) {
		printf("# %s\n", e.msg);
		goto out;
	}
	UNIT_OK(&u, vm.arch.form == X86_KERNEL_PVH && vm.arch.kernel_fd == -1 &&
	    vm.arch.initrd_fd == -1, "PVH form; files closed after loading");
	UNIT_OK(&u, !memcmp(gmem_ptr(&vm.mem, 16 * MIB, 0x2000), img + SEG0_OFF, 0x2000),
	    "segment loaded");
	gmem_read(&vm.mem, X86_PVH_INFO_GPA, &si, sizeof(si));
	gmem_read(&vm.mem, si.modlist_paddr, &mod, sizeof(mod));
	UNIT_OK(&u, si.magic == PVH_START_MAGIC && si.nr_modules == 1 && mod.paddr == vm.arch.initrd_gpa &&
	    mod.size == 1004 + sizeof(extra), "module: the initrd, padded to 4, then ringvm's archive");
	UNIT_OK(&u, mod.paddr >= 17 * MIB && !(mod.paddr & 0xfff) && mod.paddr + mod.size <= 64 * MIB,
	    "initrd above the kernel's segments, inside RAM");
	UNIT_OK(&u, !memcmp(gmem_ptr(&vm.mem, mod.paddr, sizeof(rd)), rd, sizeof(rd)) &&
	    !memcmp(gmem_ptr(&vm.mem, mod.paddr + 1004, sizeof(extra)), extra, sizeof(extra)),
	    "initrd and ringvm's archive bytes in place");
	UNIT_OK(&u, !strcmp(gmem_ptr(&vm.mem, si.cmdline_paddr, 64),
	    "console=ttyS0 sysctl.kernel.panic=-1 quiet pvh=yes"), "command line");
	UNIT_OK(&u, si.rsdp_paddr == vm.arch.rsdp_gpa && si.rsdp_paddr >= 0xe0000 &&
	    si.rsdp_paddr < 0x100000, "RSDP: ringvm's ACPI tables");
	gmem_read(&vm.mem, si.memmap_paddr, mm, sizeof(mm));
	UNIT_OK(&u, si.memmap_entries == 3 && mm[0].addr == 0 && mm[0].size == 0x9fc00 &&
	    mm[0].type == 1 && mm[1].addr == 0x9fc00 && mm[1].type == 2 &&
	    mm[2].addr == 0x100000 && mm[2].size == 63 * MIB && mm[2].type == 1,
	    "memory map: the e820 layout a bzImage gets");
	arch_boot_fini(&vm);
	pci_fini(&vm);
out:
	gmem_fini(&vm.mem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	test_good();
	test_ehdr();
	test_phdrs();
	test_notes();
	test_load_and_info();
	test_hooks();
	return unit_done(&u);
}
