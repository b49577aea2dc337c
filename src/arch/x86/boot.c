/*
 * boot.c (x86): the Linux 64-bit boot protocol for bzImage kernels: header
 * checks, kernel and initrd placement and loading, the zero page (boot_params)
 * with the e820 map and the command line. An ELF kernel (vmlinux), told
 * apart by its first bytes, goes to pvh.c instead, with the same initrd,
 * command line and memory map.
 * Reference: Documentation/arch/x86/boot.rst ("THE LINUX/x86 BOOT PROTOCOL").
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elf.h>

#include <asm/bootparam.h>

#include "arch.h"
#include "boot.h"
#include "bootfile.h"
#include "acpi.h"
#include "cpu.h"
#include "kcache.h"
#include "log.h"
#include "pvh.h"
#include "vm.h"

#define BOOT_MIN_PROTOCOL 0x020c	/* 2.12: xloadflags, 64-bit entry */
#define BOOT_HDR_MAGIC 0x53726448	/* "HdrS" at 0x202 */
#define E820_RAM 1
#define E820_RESERVED 2

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

int bzimage_parse(const uint8_t *head, size_t head_len, uint64_t file_size,
    struct arch_vm *a, char *err, size_t errlen)
{
	uint64_t payload, need;
	unsigned setup_sects, hdr_end;

	if (head_len < BZIMAGE_HEAD_LEN || file_size < BZIMAGE_HEAD_LEN) {
		snprintf(err, errlen, "is too small to be a kernel (%" PRIu64 " bytes)",
		    file_size);
		return -1;
	}
	/* arch_boot_check sends ELF files to pvh_parse: this one is not a bzImage. */
	if (!memcmp(head, "\177ELF", 4)) {
		snprintf(err, errlen, "is an ELF file, not a bzImage");
		return -1;
	}
	if (rd16(head + 0x1fe) != 0xaa55 || rd32(head + 0x202) != BOOT_HDR_MAGIC) {
		snprintf(err, errlen, "is not a bzImage (no HdrS boot header)");
		return -1;
	}
	a->protocol = rd16(head + 0x206);
	if (a->protocol < BOOT_MIN_PROTOCOL) {
		snprintf(err, errlen, "uses boot protocol %u.%02u; ringvm needs 2.12 or later",
		    a->protocol >> 8, a->protocol & 0xff);
		return -1;
	}
	if (!(rd16(head + 0x236) & XLF_KERNEL_64)) {
		snprintf(err, errlen, "is not a 64-bit kernel (no XLF_KERNEL_64)");
		return -1;
	}
	/* The setup header ends at 0x202 + the jump offset in byte 0x201. */
	hdr_end = 0x202 + head[0x201];
	if (hdr_end > BZIMAGE_HEAD_LEN || hdr_end < 0x264) {
		snprintf(err, errlen, "has a malformed setup header (length %u)", hdr_end - 0x1f1);
		return -1;
	}
	setup_sects = head[0x1f1] ? head[0x1f1] : 4;
	a->setup_size = (uint64_t)(setup_sects + 1) * 512;
	/* syssize counts 16-byte paragraphs of the protected-mode payload. */
	payload = (uint64_t)rd32(head + 0x1f4) * 16;
	need = a->setup_size + payload;
	if (payload == 0 || need > file_size) {
		snprintf(err, errlen, "is truncated: need %" PRIu64 " bytes, file has %" PRIu64,
		    need, file_size);
		return -1;
	}
	a->form = X86_KERNEL_BZIMAGE;
	a->kernel_size = file_size;
	a->kernel_gpa = rd64(head + 0x258);		/* pref_address */
	a->init_size = rd32(head + 0x260);
	a->initrd_addr_max = rd32(head + 0x22c);
	a->cmdline_size = rd32(head + 0x238);
	if (a->kernel_gpa < X86_HIMEM_GPA || a->kernel_gpa >= X86_MMIO_HOLE_GPA ||
	    (a->kernel_gpa & 0xfff)) {
		snprintf(err, errlen, "asks to be loaded at %#" PRIx64 ", outside low RAM",
		    a->kernel_gpa);
		return -1;
	}
	/* The payload is copied to kernel_gpa, so init_size must cover it. */
	if (a->init_size < file_size - a->setup_size)
		a->init_size = file_size - a->setup_size;
	memset(a->setup_header, 0, sizeof(a->setup_header));
	memcpy(a->setup_header, head + 0x1f1, hdr_end - 0x1f1);
	return 0;
}

int boot_place_initrd(struct arch_vm *a, uint64_t low_ram_end, uint64_t ram_size,
    char *err, size_t errlen)
{
	uint64_t top = low_ram_end, kernel_end = a->kernel_gpa + a->init_size;

	if ((uint64_t)a->initrd_addr_max + 1 < top)
		top = (uint64_t)a->initrd_addr_max + 1;
	if (a->initrd_size > top || ((top - a->initrd_size) & ~0xfffull) < kernel_end) {
		snprintf(err, errlen, "(%" PRIu64 " bytes) does not fit in guest memory "
		    "(%" PRIu64 " bytes) beside the kernel, which takes %" PRIu64
		    " bytes from %#" PRIx64 ": raise -m", a->initrd_size, ram_size,
		    a->init_size, a->kernel_gpa);
		return -1;
	}
	a->initrd_gpa = (top - a->initrd_size) & ~0xfffull;
	return 0;
}

/*
 * boot_cmdline: ringvm's defaults (with X86_NOINITRD_CMDLINE when there is no
 * initrd), then the user's text, into *out (malloc). Fails with status 2
 * when the whole line is longer than `limit` (the kernel's cmdline_size) or
 * than the room ringvm reserves.
 */
static int boot_cmdline(const struct rv_config *cfg, uint32_t limit, char **out,
    struct rv_err *err)
{
	size_t len;
	int r = bootfile_cmdline(X86_DEFAULT_CMDLINE, X86_NOINITRD_CMDLINE, cfg, out, &len, err);

	if (r)
		return r;
	if (len > limit || len >= X86_CMDLINE_MAX) {
		free(*out);
		*out = NULL;
		if (len > limit)
			return rv_fail(err, RV_EXIT_USAGE, 0, "kernel command line is %zu bytes; this "
			    "kernel accepts at most %" PRIu32, len, limit);
		return rv_fail(err, RV_EXIT_USAGE, 0, "kernel command line is %zu bytes; ringvm "
		    "accepts at most %llu", len, X86_CMDLINE_MAX - 1);
	}
	return 0;
}

/*
 * boot_from_cache: for a checked bzImage, switch `a` to the ELF vmlinux
 * inside it, unpacked on the host once and kept in the kernel cache
 * (kcache.h), so the guest boots it through PVH without unpacking itself.
 * A bzImage whose payload does not unpack to an x86-64 ELF with a PVH note
 * (the tiny test guest, a kernel built without CONFIG_PVH) stays on the
 * bzImage path, as with --kcache off: the guest's own decompressor then
 * judges it, as it always did. Returns 0, or -errno for a host failure.
 */
static int boot_from_cache(struct arch_vm *a, const struct rv_config *cfg, struct rv_err *err)
{
	struct kcache_opts o = { .off = false };
	struct kcache_result kr;
	struct arch_vm elf = *a;
	struct rv_err e = { 0 };
	char why[256];
	int r;

	if (cfg->kernel_cache_off)
		return 0;
	r = kcache_kernel_fd(cfg->kernel, a->kernel_fd, &o, &kr, &e);
	if (r) {
		if (e.status == RV_EXIT_BADFILE)
			return 0;
		*err = e;
		return r;
	}
	/* Sized by the result, not the file: a cache entry ends with its trailer. */
	if (pvh_parse(kr.fd, kr.size, &elf, why, sizeof(why))) {
		close(kr.fd);
		return 0;
	}
	close(a->kernel_fd);
	*a = elf;
	a->kernel_fd = kr.fd;
	a->kernel_size = kr.size;
	return 0;
}

int arch_boot_check(struct vm *vm, const struct rv_config *cfg, struct rv_err *err)
{
	struct arch_vm *a = &vm->arch;
	uint8_t head[BZIMAGE_HEAD_LEN];
	uint64_t low_end, size;
	char why[256];
	ssize_t n;
	int r;

	a->initrd_fd = -1;
	if (cfg->dump_dtb)
		return rv_fail(err, RV_EXIT_USAGE, 0, "--dump-dtb: an x86 guest is described by "
		    "ACPI tables, not a device tree");
	r = bootfile_open("kernel", cfg->kernel, &a->kernel_fd, &size, err);
	if (r)
		return r;
	n = pread(a->kernel_fd, head, sizeof(head), 0);
	if (n < 0)
		return rv_fail(err, RV_EXIT_BADFILE, errno, "cannot read kernel '%s'", cfg->kernel);
	/* The form comes from the content, never the name: ELF goes through PVH. */
	if (n >= SELFMAG && !memcmp(head, ELFMAG, SELFMAG))
		r = pvh_parse(a->kernel_fd, size, a, why, sizeof(why));
	else
		r = bzimage_parse(head, (size_t)n, size, a, why, sizeof(why));
	if (r)
		return rv_fail(err, RV_EXIT_BADFILE, 0, "kernel '%s' %s", cfg->kernel, why);
	if (a->form == X86_KERNEL_BZIMAGE && (r = boot_from_cache(a, cfg, err)))
		return r;
	low_end = cfg->mem_size < X86_MMIO_HOLE_GPA ? cfg->mem_size : X86_MMIO_HOLE_GPA;
	if (a->kernel_gpa + a->init_size > low_end)
		return rv_fail(err, RV_EXIT_USAGE, 0, "memory size %" PRIu64 "M is too small for "
		    "kernel '%s': it needs %" PRIu64 "M", cfg->mem_size >> 20, cfg->kernel,
		    (a->kernel_gpa + a->init_size + (1 << 20) - 1) >> 20);
	r = boot_cmdline(cfg, a->cmdline_size, &a->cmdline, err);
	if (r || (r = bootfile_initrd_open(cfg, &a->initrd_fd, &a->initrd_file_size,
	    &a->initrd_size, err)) || !a->initrd_size)
		return r;
	if (boot_place_initrd(a, low_end, cfg->mem_size, why, sizeof(why)))
		return rv_fail(err, RV_EXIT_BADFILE, 0, "initrd '%s' %s",
		    cfg->initrd ? cfg->initrd : "(ringvm's own)", why);
	return 0;
}

void arch_boot_fini(struct vm *vm)
{
	struct arch_vm *a = &vm->arch;

	bootfile_close(&a->kernel_fd);
	bootfile_close(&a->initrd_fd);
	free(a->cmdline);
	a->cmdline = NULL;
}

/* boot_e820: the guest's memory map: RAM, the PC reserved area, the holes. */
static unsigned boot_e820(const struct vm *vm, struct boot_e820_entry *e)
{
	const struct gmem *gm = &vm->mem;
	unsigned n = 0;

	e[n++] = (struct boot_e820_entry){ 0, X86_EBDA_GPA, E820_RAM };
	e[n++] = (struct boot_e820_entry){ X86_EBDA_GPA, X86_HIMEM_GPA - X86_EBDA_GPA,
	    E820_RESERVED };
	for (unsigned i = 0; i < gm->nr_regions; i++) {
		uint64_t start = gm->region[i].gpa, len = gm->region[i].len;

		/* Region 0 starts at 0; its first MiB is described above. */
		if (start < X86_HIMEM_GPA) {
			len -= X86_HIMEM_GPA - start;
			start = X86_HIMEM_GPA;
		}
		e[n++] = (struct boot_e820_entry){ start, len, E820_RAM };
	}
	return n;
}

/*
 * boot_reset_vector: ringvm has no BIOS, but Linux on a hardware-reduced
 * ACPI machine without EFI ends its reboot attempts by jumping to the BIOS
 * reset vector in real mode (reboot_type BOOT_EFI, then BOOT_BIOS). Put a
 * stub there that writes the ACPI reset register, so every reboot path ends
 * in a reset ringvm sees.
 */
static int boot_reset_vector(struct vm *vm, struct rv_err *err)
{
	const uint8_t stub[] = {
		0xb0, X86_PM_RESET_VALUE,			/* mov al, value */
		0xba, X86_PM_RESET & 0xff, X86_PM_RESET >> 8,	/* mov dx, port */
		0xee,						/* out dx, al */
		0xf4,						/* hlt */
		0xeb, 0xfd,					/* jmp hlt */
	};

	if (gmem_write(&vm->mem, X86_RESET_VECTOR_GPA, stub, sizeof(stub)))
		return rv_fail(err, RV_EXIT_FAILURE, 0, "reset vector is outside guest memory");
	return 0;
}

/* boot_pvh_info: hvm_start_info for an ELF kernel, with the map a bzImage gets in e820. */
static int boot_pvh_info(struct vm *vm, struct rv_err *err)
{
	struct boot_e820_entry map[E820_MAX_ENTRIES_ZEROPAGE];
	unsigned n = boot_e820(vm, map);
	int r = pvh_write_info(&vm->mem, &vm->arch, map, n, X86_CMDLINE_GPA);

	if (r)
		return rv_fail(err, RV_EXIT_FAILURE, -r, "PVH start info does not fit in guest memory");
	return 0;
}

int arch_boot_load(struct vm *vm, const struct rv_config *cfg, struct rv_err *err)
{
	struct arch_vm *a = &vm->arch;
	struct boot_params *bp;
	int r;

	if (a->form == X86_KERNEL_PVH)
		r = pvh_load(&vm->mem, a->kernel_fd, a);
	else
		r = gmem_fill_from_fd(&vm->mem, a->kernel_gpa, a->kernel_fd, a->setup_size,
		    a->kernel_size - a->setup_size);
	if (r)
		return rv_fail(err, RV_EXIT_BADFILE, -r, "cannot load kernel '%s'", cfg->kernel);
	r = bootfile_initrd_load(&vm->mem, cfg, a->initrd_gpa, a->initrd_fd, a->initrd_file_size,
	    a->initrd_size, err);
	if (r)
		return r;
	/* The files are in guest memory now: nothing keeps them open during the run. */
	bootfile_close(&a->kernel_fd);
	bootfile_close(&a->initrd_fd);
	if (gmem_write(&vm->mem, X86_CMDLINE_GPA, a->cmdline, strlen(a->cmdline) + 1))
		return rv_fail(err, RV_EXIT_FAILURE, 0, "command line does not fit in guest memory");
	if ((r = acpi_build(vm, err)) || (r = cpu_boot_tables(vm, err)) ||
	    (r = boot_reset_vector(vm, err)))
		return r;

	if (a->form == X86_KERNEL_PVH)
		return boot_pvh_info(vm, err);
	bp = gmem_ptr(&vm->mem, X86_ZERO_PAGE_GPA, sizeof(*bp));
	if (!bp)
		return rv_fail(err, RV_EXIT_FAILURE, 0, "zero page does not fit in guest memory");
	memset(bp, 0, sizeof(*bp));
	memcpy(&bp->hdr, a->setup_header, sizeof(a->setup_header) < sizeof(bp->hdr) ?
	    sizeof(a->setup_header) : sizeof(bp->hdr));
	bp->hdr.type_of_loader = 0xff;	/* "undefined" boot loader */
	bp->hdr.loadflags |= CAN_USE_HEAP | LOADED_HIGH;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.cmd_line_ptr = (uint32_t)X86_CMDLINE_GPA;
	bp->hdr.vid_mode = 0xffff;	/* "normal" */
	if (a->initrd_size) {
		bp->hdr.ramdisk_image = (uint32_t)a->initrd_gpa;
		bp->hdr.ramdisk_size = (uint32_t)a->initrd_size;
		bp->ext_ramdisk_image = (uint32_t)(a->initrd_gpa >> 32);
		bp->ext_ramdisk_size = (uint32_t)(a->initrd_size >> 32);
	}
	bp->acpi_rsdp_addr = a->rsdp_gpa;
	bp->e820_entries = (uint8_t)boot_e820(vm, bp->e820_table);
	return 0;
}
