/*
 * pvh.c (x86): ELF vmlinux kernels booted through the PVH entry point: the
 * ELF header, program header and note checks, the segment loader, and the
 * hvm_start_info the kernel reads at its 32-bit entry.
 * References: xen/include/public/arch-x86/hvm/start_info.h,
 * xen/include/public/elfnote.h, the ELF-64 object file format.
 *
 * Exported: pvh_parse, pvh_load, pvh_write_info (pvh.h). Calls gmem only.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pvh.h"

#define PVH_LOW_RAM_GPA	0x100000ull	/* below 1 MiB: ringvm's GDT, page tables, ACPI, ... */

/* pvh_pread: exactly `len` bytes at `off`; -1 on a short read or an error. */
static int pvh_pread(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* pvh_check_ehdr: the ELF header of a little-endian 64-bit x86-64 executable. */
static int pvh_check_ehdr(const Elf64_Ehdr *eh, uint64_t file_size, char *err, size_t errlen)
{
	uint64_t ph_end;

	if (eh->e_ident[EI_CLASS] == ELFCLASS32) {
		snprintf(err, errlen, "is a 32-bit ELF file; ringvm boots 64-bit x86 kernels");
		return -1;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS64) {
		snprintf(err, errlen, "has an unknown ELF class (%u)", eh->e_ident[EI_CLASS]);
		return -1;
	}
	/* Fields are read in host order below: only a little-endian file is meant here. */
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB) {
		snprintf(err, errlen, "is not a little-endian ELF file");
		return -1;
	}
	if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT) {
		snprintf(err, errlen, "has a bad ELF version (%u)", eh->e_ident[EI_VERSION]);
		return -1;
	}
	if (eh->e_machine != EM_X86_64) {
		snprintf(err, errlen, "is an ELF file for machine %u, not x86-64", eh->e_machine);
		return -1;
	}
	/* A vmlinux is linked at fixed physical addresses: ET_EXEC, never ET_DYN or ET_REL. */
	if (eh->e_type != ET_EXEC) {
		snprintf(err, errlen, "is not an ELF executable (type %u)", eh->e_type);
		return -1;
	}
	/* The entries are read as Elf64_Phdr: any other size is a different layout. */
	if (eh->e_phentsize != sizeof(Elf64_Phdr)) {
		snprintf(err, errlen, "has ELF program headers of %u bytes, not %zu",
		    eh->e_phentsize, sizeof(Elf64_Phdr));
		return -1;
	}
	/* 0xffff (PN_XNUM) would mean "the count is elsewhere": refused with the rest. */
	if (eh->e_phnum == 0 || eh->e_phnum > PVH_PHNUM_MAX) {
		snprintf(err, errlen, "has %u ELF program headers (1 to %u allowed)",
		    eh->e_phnum, PVH_PHNUM_MAX);
		return -1;
	}
	/* phnum <= 64 and phentsize == 56: the product is small, only the sum can wrap. */
	if (__builtin_add_overflow(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr),
	    &ph_end) || ph_end > file_size) {
		snprintf(err, errlen, "is truncated: its program headers at %#" PRIx64
		    " end past the file (%" PRIu64 " bytes)", eh->e_phoff, file_size);
		return -1;
	}
	return 0;
}

/* pvh_in_file: [off, off + len) lies inside the file, without wrapping. */
static int pvh_in_file(uint64_t off, uint64_t len, uint64_t file_size)
{
	uint64_t end;

	return !__builtin_add_overflow(off, len, &end) && end <= file_size;
}

/*
 * pvh_add_load: check one PT_LOAD and keep it in a->pvh_seg. A segment with
 * no memory bytes loads nothing and is skipped.
 */
static int pvh_add_load(const Elf64_Phdr *ph, unsigned i, uint64_t file_size,
    struct arch_vm *a, char *err, size_t errlen)
{
	struct x86_pvh_seg *s;
	uint64_t end;

	if (ph->p_filesz > ph->p_memsz) {
		snprintf(err, errlen, "program header %u: file size %#" PRIx64
		    " is above its memory size %#" PRIx64, i, ph->p_filesz, ph->p_memsz);
		return -1;
	}
	if (!pvh_in_file(ph->p_offset, ph->p_filesz, file_size)) {
		snprintf(err, errlen, "is truncated: program header %u needs %#" PRIx64
		    " bytes at %#" PRIx64 ", file has %" PRIu64, i, ph->p_filesz, ph->p_offset,
		    file_size);
		return -1;
	}
	if (ph->p_memsz == 0)
		return 0;
	/* Low RAM only: below 1 MiB are ringvm's tables, from 3 GiB the MMIO hole. */
	if (__builtin_add_overflow(ph->p_paddr, ph->p_memsz, &end) ||
	    ph->p_paddr < PVH_LOW_RAM_GPA || end > X86_MMIO_HOLE_GPA) {
		snprintf(err, errlen, "program header %u: segment at %#" PRIx64 " of %#" PRIx64
		    " bytes lies outside low RAM (1 MiB to 3 GiB)", i, ph->p_paddr, ph->p_memsz);
		return -1;
	}
	/* Two segments over the same bytes: which one wins would be the loader's accident. */
	for (unsigned j = 0; j < a->pvh_nr_segs; j++) {
		const struct x86_pvh_seg *o = &a->pvh_seg[j];

		if (ph->p_paddr < o->gpa + o->memsz && o->gpa < end) {
			snprintf(err, errlen, "program header %u: segment at %#" PRIx64 " of %#"
			    PRIx64 " bytes overlaps the one at %#" PRIx64, i, ph->p_paddr,
			    ph->p_memsz, o->gpa);
			return -1;
		}
	}
	if (a->pvh_nr_segs == X86_PVH_MAX_SEGS) {
		snprintf(err, errlen, "has more than %u loadable segments", X86_PVH_MAX_SEGS);
		return -1;
	}
	s = &a->pvh_seg[a->pvh_nr_segs++];
	*s = (struct x86_pvh_seg){ ph->p_offset, ph->p_filesz, ph->p_paddr, ph->p_memsz };
	return 0;
}

/*
 * pvh_find_note: walk the notes of one PT_NOTE segment (`buf`, `len` bytes,
 * entries aligned to `align`) for Xen's PHYS32_ENTRY. Returns 1 with *entry
 * set when found, 0 when absent, -1 with a reason for a malformed segment
 * or a bad entry note.
 */
static int pvh_find_note(const uint8_t *buf, uint64_t len, uint64_t align, unsigned i,
    uint32_t *entry, char *err, size_t errlen)
{
	uint64_t pos = 0;

	while (len - pos >= 12) {
		uint32_t hdr[3];
		uint64_t name_len, desc_len, desc_pos;

		memcpy(hdr, buf + pos, sizeof(hdr));
		/* Padded sizes in 64 bits: a 32-bit size near 4 GiB cannot wrap them. */
		name_len = ((uint64_t)hdr[0] + align - 1) & ~(align - 1);
		desc_len = ((uint64_t)hdr[1] + align - 1) & ~(align - 1);
		desc_pos = pos + 12 + name_len;
		if (name_len > len - pos - 12 || desc_len > len - desc_pos) {
			snprintf(err, errlen, "program header %u: malformed ELF note at offset %#"
			    PRIx64, i, pos);
			return -1;
		}
		if (hdr[0] == 4 && !memcmp(buf + pos + 12, "Xen", 4) &&
		    hdr[2] == PVH_ELFNOTE_PHYS32_ENTRY) {
			uint64_t v = 0;

			/* Linux writes the address as a pointer (8 bytes), others as 4. */
			if (hdr[1] != 4 && hdr[1] != 8) {
				snprintf(err, errlen, "has a bad PVH entry note (%" PRIu32
				    "-byte descriptor; 4 or 8 expected)", hdr[1]);
				return -1;
			}
			memcpy(&v, buf + desc_pos, hdr[1]);
			if (v > UINT32_MAX) {
				snprintf(err, errlen, "has its PVH entry point at %#" PRIx64
				    ", above 4 GiB", v);
				return -1;
			}
			*entry = (uint32_t)v;
			return 1;
		}
		pos = desc_pos + desc_len;
	}
	return 0;
}

/* pvh_read_note: read one PT_NOTE segment and look for the entry note in it. */
static int pvh_read_note(int fd, const Elf64_Phdr *ph, unsigned i, uint64_t file_size,
    uint32_t *entry, char *err, size_t errlen)
{
	uint8_t *buf;
	int r;

	if (!pvh_in_file(ph->p_offset, ph->p_filesz, file_size)) {
		snprintf(err, errlen, "is truncated: program header %u needs %#" PRIx64
		    " bytes at %#" PRIx64 ", file has %" PRIu64, i, ph->p_filesz, ph->p_offset,
		    file_size);
		return -1;
	}
	/* Bounded: a kernel's notes are a few hundred bytes, the header could claim 2^64. */
	if (ph->p_filesz > PVH_NOTES_MAX) {
		snprintf(err, errlen, "program header %u: note segment of %" PRIu64
		    " bytes is larger than %u", i, ph->p_filesz, PVH_NOTES_MAX);
		return -1;
	}
	buf = malloc(ph->p_filesz + 1);
	if (!buf) {
		snprintf(err, errlen, "cannot be read: out of memory");
		return -1;
	}
	if (pvh_pread(fd, buf, ph->p_filesz, ph->p_offset)) {
		snprintf(err, errlen, "cannot be read (program header %u's notes)", i);
		r = -1;
	} else {
		/* ELF notes are 4-byte aligned; an 8-aligned segment pads to 8 (gABI). */
		r = pvh_find_note(buf, ph->p_filesz, ph->p_align == 8 ? 8 : 4, i, entry, err,
		    errlen);
	}
	free(buf);
	return r;
}

int pvh_parse(int fd, uint64_t file_size, struct arch_vm *a, char *err, size_t errlen)
{
	Elf64_Phdr ph[PVH_PHNUM_MAX];
	Elf64_Ehdr eh;
	uint64_t lo = UINT64_MAX, hi = 0;
	uint32_t entry = 0;
	int found = 0;
	bool inside = false;

	if (file_size < sizeof(eh)) {
		snprintf(err, errlen, "is too small to be an ELF kernel (%" PRIu64 " bytes)",
		    file_size);
		return -1;
	}
	if (pvh_pread(fd, &eh, sizeof(eh), 0)) {
		snprintf(err, errlen, "cannot be read (ELF header)");
		return -1;
	}
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
		snprintf(err, errlen, "is not an ELF file");
		return -1;
	}
	if (pvh_check_ehdr(&eh, file_size, err, errlen))
		return -1;
	if (pvh_pread(fd, ph, eh.e_phnum * sizeof(ph[0]), eh.e_phoff)) {
		snprintf(err, errlen, "cannot be read (ELF program headers)");
		return -1;
	}
	a->form = X86_KERNEL_PVH;
	a->kernel_size = file_size;
	a->pvh_nr_segs = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && pvh_add_load(&ph[i], i, file_size, a, err, errlen))
			return -1;
		/* The first entry note wins; later note segments are not read. */
		if (ph[i].p_type == PT_NOTE && !found) {
			found = pvh_read_note(fd, &ph[i], i, file_size, &entry, err, errlen);
			if (found < 0)
				return -1;
		}
	}
	if (!a->pvh_nr_segs) {
		snprintf(err, errlen, "has no loadable ELF segment");
		return -1;
	}
	if (!found) {
		snprintf(err, errlen, "has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); "
		    "build the kernel with CONFIG_PVH");
		return -1;
	}
	for (unsigned j = 0; j < a->pvh_nr_segs; j++) {
		const struct x86_pvh_seg *s = &a->pvh_seg[j];

		/* The first instruction must come from the file, not from zeroed bss. */
		if (entry >= s->gpa && entry - s->gpa < s->filesz)
			inside = true;
		if (s->gpa < lo)
			lo = s->gpa;
		if (s->gpa + s->memsz > hi)
			hi = s->gpa + s->memsz;
	}
	if (!inside) {
		snprintf(err, errlen, "has its PVH entry point %#" PRIx32 " outside its loaded "
		    "segments", entry);
		return -1;
	}
	a->pvh_entry = entry;
	/* The footprint from the lowest segment to the highest end: the initrd goes above it. */
	a->kernel_gpa = lo;
	a->init_size = hi - lo;
	a->setup_size = 0;
	/* The kernel reads the initrd's address as 32 bits (boot_params.hdr.ramdisk_image). */
	a->initrd_addr_max = (uint32_t)(X86_MMIO_HOLE_GPA - 1);
	a->cmdline_size = PVH_CMDLINE_SIZE;
	return 0;
}

int pvh_load(const struct gmem *gm, int fd, const struct arch_vm *a)
{
	for (unsigned i = 0; i < a->pvh_nr_segs; i++) {
		const struct x86_pvh_seg *s = &a->pvh_seg[i];
		int r;

		if (s->filesz && (r = gmem_fill_from_fd(gm, s->gpa, fd, s->off, s->filesz)))
			return r;
		if (s->memsz > s->filesz) {
			/* bss: guest RAM may hold an earlier boot's bytes (reboot). */
			void *p = gmem_ptr(gm, s->gpa + s->filesz, s->memsz - s->filesz);

			if (!p)
				return -EFAULT;
			memset(p, 0, s->memsz - s->filesz);
		}
	}
	return 0;
}

int pvh_write_info(const struct gmem *gm, const struct arch_vm *a,
    const struct boot_e820_entry *map, unsigned n, uint64_t cmdline_gpa)
{
	struct pvh_start_info si;
	struct pvh_modlist_entry mod;
	uint8_t *page;

	/* The three tables share one page: the map must fit after the others. */
	if (n > (PVH_INFO_SIZE - PVH_MEMMAP_OFF) / sizeof(struct pvh_memmap_entry))
		return -E2BIG;
	page = gmem_ptr(gm, X86_PVH_INFO_GPA, PVH_INFO_SIZE);
	if (!page)
		return -EFAULT;
	memset(page, 0, PVH_INFO_SIZE);
	memset(&si, 0, sizeof(si));
	si.magic = PVH_START_MAGIC;
	si.version = 1;
	si.cmdline_paddr = cmdline_gpa;
	si.rsdp_paddr = a->rsdp_gpa;
	si.memmap_paddr = X86_PVH_INFO_GPA + PVH_MEMMAP_OFF;
	si.memmap_entries = n;
	if (a->initrd_size) {
		memset(&mod, 0, sizeof(mod));
		mod.paddr = a->initrd_gpa;
		mod.size = a->initrd_size;
		memcpy(page + PVH_MODLIST_OFF, &mod, sizeof(mod));
		si.nr_modules = 1;
		si.modlist_paddr = X86_PVH_INFO_GPA + PVH_MODLIST_OFF;
	}
	memcpy(page, &si, sizeof(si));
	for (unsigned i = 0; i < n; i++) {
		struct pvh_memmap_entry e = { map[i].addr, map[i].size, map[i].type, 0 };

		memcpy(page + PVH_MEMMAP_OFF + i * sizeof(e), &e, sizeof(e));
	}
	return 0;
}
