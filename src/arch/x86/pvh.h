/*
 * pvh.h (x86): ELF kernels (vmlinux) booted through the PVH entry point:
 * the file checks, the segment loader and hvm_start_info, kept apart from
 * boot.c so tests and fuzzers can drive them from any file descriptor.
 * References: Xen's xen/include/public/arch-x86/hvm/start_info.h (the
 * structures and the entry state), xen/include/public/elfnote.h
 * (XEN_ELFNOTE_PHYS32_ENTRY), Linux arch/x86/platform/pvh/.
 */
#ifndef RINGVM_X86_PVH_H
#define RINGVM_X86_PVH_H

#include <stddef.h>
#include <stdint.h>

#include <asm/bootparam.h>

#include "arch_types.h"
#include "gmem.h"

#define PVH_PHNUM_MAX	64		/* program headers pvh_parse reads */
#define PVH_NOTES_MAX	0x10000u	/* bytes of one PT_NOTE segment it reads */
#define PVH_ELFNOTE_PHYS32_ENTRY 18	/* Xen's note type for the PVH entry */
#define PVH_START_MAGIC	0x336ec578u	/* hvm_start_info.magic */
/* Linux x86's COMMAND_LINE_SIZE is 2048: a PVH kernel copies at most that, NUL included. */
#define PVH_CMDLINE_SIZE 2047u

/*
 * struct pvh_start_info: Xen's struct hvm_start_info, version 1 (with the
 * memory map), as the kernel finds it at %ebx. All addresses guest-physical.
 */
struct pvh_start_info {
	uint32_t magic;			/* PVH_START_MAGIC */
	uint32_t version;		/* 1: memmap_* below are valid */
	uint32_t flags;			/* SIF_*: 0 */
	uint32_t nr_modules;		/* entries at modlist_paddr */
	uint64_t modlist_paddr;		/* struct pvh_modlist_entry[] */
	uint64_t cmdline_paddr;		/* NUL-terminated kernel command line */
	uint64_t rsdp_paddr;		/* ACPI RSDP */
	uint64_t memmap_paddr;		/* struct pvh_memmap_entry[] */
	uint32_t memmap_entries;
	uint32_t reserved;		/* 0 */
};

/* struct pvh_modlist_entry: Xen's hvm_modlist_entry: the initrd. */
struct pvh_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;		/* 0: none */
	uint64_t reserved;
};

/* struct pvh_memmap_entry: Xen's hvm_memmap_table_entry; types are e820's. */
struct pvh_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/* Where pvh_write_info puts the module list and the memory map, from X86_PVH_INFO_GPA. */
#define PVH_MODLIST_OFF	64u
#define PVH_MEMMAP_OFF	128u
#define PVH_INFO_SIZE	4096u	/* one page for all three */

/*
 * pvh_parse: check the ELF64 x86-64 executable of `file_size` bytes read
 * from `fd` (any readable descriptor: a file, a memfd, a cache's copy)
 * and fill the kernel fields of `a`: form X86_KERNEL_PVH, the PT_LOAD
 * segments, the PVH entry point, kernel_gpa and init_size (the lowest
 * segment and the span of all of them, for the initrd placement and the
 * RAM check), initrd_addr_max and cmdline_size. Every field that sizes or
 * places something is checked against the file size, the segments against
 * low RAM (1 MiB to the 3 GiB hole: below 1 MiB is ringvm's) and each
 * other, all sums for overflow. Returns 0, or -1 with a one-line reason in
 * `err` (to follow "kernel 'NAME' ").
 */
int pvh_parse(int fd, uint64_t file_size, struct arch_vm *a, char *err, size_t errlen);

/*
 * pvh_load: copy the segments pvh_parse accepted from `fd` into guest
 * memory and zero each one's part beyond its file bytes (bss). Returns 0,
 * or -errno of gmem_fill_from_fd (-EIO: the file shrank) / -EFAULT.
 */
int pvh_load(const struct gmem *gm, int fd, const struct arch_vm *a);

/*
 * pvh_write_info: write hvm_start_info at X86_PVH_INFO_GPA, with the
 * memory map `map` (`n` e820 entries), the command line at `cmdline_gpa`,
 * the initrd of `a` as the one module (none when a->initrd_size is 0) and
 * a->rsdp_gpa. Returns 0, or -EFAULT when it does not fit in guest memory,
 * -E2BIG when the map does not fit in its page.
 */
int pvh_write_info(const struct gmem *gm, const struct arch_vm *a,
    const struct boot_e820_entry *map, unsigned n, uint64_t cmdline_gpa);

#endif
