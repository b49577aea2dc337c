/*
 * boot.c (arm64): the arm64 Linux boot protocol: the Image header checked
 * against the file, the kernel at text_offset from the 2 MiB aligned start
 * of RAM, the device tree (arm64_fdt.c) in the last 2 MiB of RAM, the
 * initrd below it, and the command line in /chosen.
 * Reference: Documentation/arch/arm64/booting.rst.
 *
 * Exported: arch_boot_check, arch_boot_load, arch_boot_fini (arch.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <libfdt.h>

#include "arch.h"
#include "arm64_fdt.h"
#include "bootfile.h"
#include "config.h"
#include "device.h"
#include "log.h"
#include "vm.h"

#define BOOT_HEAD_LEN 64		/* the Image header */
#define BOOT_READ_LEN 4096		/* read of the file's start: the header and the PE headers */
#define BOOT_PE_MAX_SECTIONS 96
#define BOOT_MAGIC 0x644d5241u		/* "ARM\x64" at 0x38 */
#define BOOT_FLAG_BE (1u << 0)		/* flags bit 0: big-endian kernel */
#define BOOT_OLD_TEXT_OFFSET 0x80000u	/* image_size 0 (before 3.17): this offset */
#define BOOT_2M (2ull << 20)
/*
 * ringvm's defaults, as on x86: the console on the UART, and a panic that
 * resets at once. Debian's arm64 kernel has no pvpanic, so the panic's
 * reset is made a warm one (PSCI SYSTEM_RESET2), which ringvm reports as
 * a panic: nothing else asks for a warm reset unless the user's command
 * line says reboot=warm.
 */
#define BOOT_DEFAULT_CMDLINE "console=ttyS0 sysctl.kernel.panic=-1 reboot=panic_warm"
#define BOOT_NOINITRD_CMDLINE "panic=-1"
#define BOOT_CMDLINE_MAX 4096		/* COMMAND_LINE_SIZE on arm64 (2048 before 6.2); /chosen holds it */

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/*
 * boot_pe_end: a kernel with the EFI stub (Debian's) is also a PE/COFF
 * file: "MZ" at 0, the PE header's offset at 0x3c, and a section table
 * saying where each section's bytes lie in the file. The Image header has
 * no file size, so this is how a truncated Image is told apart: the end of
 * the last section's bytes, or 0 when the file has no PE headers. The head
 * holds `n` bytes; a table beyond them (or beyond the file) is truncation
 * too: UINT64_MAX.
 */
static uint64_t boot_pe_end(const uint8_t *h, size_t n)
{
	uint64_t pe, tab, end = 0;
	unsigned nsec;

	if (n < BOOT_HEAD_LEN || h[0] != 'M' || h[1] != 'Z')
		return 0;
	pe = rd32(h + 0x3c);
	if (pe > n - 24 || memcmp(h + pe, "PE\0\0", 4))
		return pe > n - 24 ? UINT64_MAX : 0;
	nsec = rd16(h + pe + 6);
	tab = pe + 24 + rd16(h + pe + 20);
	if (nsec > BOOT_PE_MAX_SECTIONS || tab + 40ull * nsec > n)
		return UINT64_MAX;
	for (unsigned i = 0; i < nsec; i++) {
		const uint8_t *sec = h + tab + 40ull * i;
		uint64_t e = (uint64_t)rd32(sec + 20) + rd32(sec + 16);	/* PointerToRawData + SizeOfRawData */

		if (e > end)
			end = e;
	}
	return end;
}

/*
 * boot_image_parse: check an arm64 Image header (the first `n` bytes of a
 * file of `size` bytes, n <= BOOT_READ_LEN) against the file, PE headers
 * included, and fill text_offset and image_size. Returns 0, or -1 with
 * a one-line reason in `why`.
 */
static int boot_image_parse(const uint8_t *h, size_t n, uint64_t size, struct arch_vm *a,
    char *why, size_t len)
{
	uint64_t pe_end;

	if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) {
		snprintf(why, len, "is gzip-compressed (an Image.gz): ringvm boots the "
		    "uncompressed Image; unpack it with gunzip");
		return -1;
	}
	if (n < BOOT_HEAD_LEN || size < BOOT_HEAD_LEN) {
		snprintf(why, len, "is too small to be a kernel (%" PRIu64 " bytes)", size);
		return -1;
	}
	if (rd32(h + 0x38) != BOOT_MAGIC) {
		snprintf(why, len, "is not an arm64 Image (no ARM\\x64 magic at 0x38)");
		return -1;
	}
	a->text_offset = rd64(h + 0x08);
	a->image_size = rd64(h + 0x10);
	if (rd64(h + 0x18) & BOOT_FLAG_BE) {
		snprintf(why, len, "is a big-endian kernel; ringvm runs little-endian guests");
		return -1;
	}
	if (a->image_size == 0) {
		/* Before 3.17: no size; the whole file, at the old fixed offset. */
		a->text_offset = BOOT_OLD_TEXT_OFFSET;
		a->image_size = size;
	}
	if (a->text_offset >= BOOT_2M || (a->text_offset & 0xfff)) {
		snprintf(why, len, "asks for text_offset %#" PRIx64 " (must be page aligned, "
		    "below 2 MiB)", a->text_offset);
		return -1;
	}
	/* image_size covers the file's text and data plus bss: never less than the file. */
	if (a->image_size < size || a->image_size > ARM64_RAM_MAX) {
		snprintf(why, len, "says its image is %" PRIu64 " bytes, but the file has %" PRIu64,
		    a->image_size, size);
		return -1;
	}
	pe_end = boot_pe_end(h, n);
	if (pe_end > size) {
		if (pe_end == UINT64_MAX)
			snprintf(why, len, "is truncated: its PE headers end past its %" PRIu64
			    " bytes", size);
		else
			snprintf(why, len, "is truncated: its PE sections end at byte %" PRIu64
			    ", the file has %" PRIu64, pe_end, size);
		return -1;
	}
	a->kernel_size = size;
	return 0;
}

/* boot_cmdline: bootfile_cmdline with arm64's defaults and limit, into *out. */
static int boot_cmdline(const struct rv_config *cfg, char **out, struct rv_err *err)
{
	size_t len;
	int r = bootfile_cmdline(BOOT_DEFAULT_CMDLINE, BOOT_NOINITRD_CMDLINE, cfg, out, &len, err);

	if (r || len < BOOT_CMDLINE_MAX)
		return r;
	free(*out);
	*out = NULL;
	return rv_fail(err, RV_EXIT_USAGE, 0, "kernel command line is %zu bytes; arm64 kernels "
	    "accept at most %d", len, BOOT_CMDLINE_MAX - 1);
}

int arch_boot_check(struct vm *vm, const struct rv_config *cfg, struct rv_err *err)
{
	struct arch_vm *a = &vm->arch;
	uint64_t size, ram_end = ARM64_RAM_GPA + cfg->mem_size, kernel_end;
	uint8_t head[BOOT_READ_LEN];
	char why[256];
	ssize_t n;
	int r;

	a->initrd_fd = a->gic_fd = a->its_fd = -1;
	r = bootfile_open("kernel", cfg->kernel, &a->kernel_fd, &size, err);
	if (r)
		return r;
	n = pread(a->kernel_fd, head, sizeof(head), 0);
	if (n < 0)
		return rv_fail(err, RV_EXIT_BADFILE, errno, "cannot read kernel '%s'", cfg->kernel);
	if (boot_image_parse(head, (size_t)n, size, a, why, sizeof(why)))
		return rv_fail(err, RV_EXIT_BADFILE, 0, "kernel '%s' %s", cfg->kernel, why);
	/* RAM starts 2 MiB aligned (1 GiB): the kernel goes text_offset above it. */
	a->kernel_gpa = ARM64_RAM_GPA + a->text_offset;
	kernel_end = a->kernel_gpa + a->image_size;
	/* The device tree takes the last 2 MiB block of RAM, whole: it never crosses one. */
	a->fdt_gpa = (ram_end - ARM64_FDT_MAX) & ~(BOOT_2M - 1);
	if (cfg->mem_size < 2 * BOOT_2M || kernel_end > a->fdt_gpa)
		return rv_fail(err, RV_EXIT_USAGE, 0, "memory size %" PRIu64 "M is too small for "
		    "kernel '%s': it needs %" PRIu64 "M", cfg->mem_size >> 20, cfg->kernel,
		    (uint64_t)((kernel_end - ARM64_RAM_GPA + 2 * BOOT_2M + (1 << 20) - 1) >> 20));
	r = boot_cmdline(cfg, &a->cmdline, err);
	if (r || (r = bootfile_initrd_open(cfg, &a->initrd_fd, &a->initrd_file_size,
	    &a->initrd_size, err)) || !a->initrd_size)
		return r;
	if (a->initrd_size > a->fdt_gpa - kernel_end ||
	    ((a->fdt_gpa - a->initrd_size) & ~0xfffull) < kernel_end)
		return rv_fail(err, RV_EXIT_BADFILE, 0, "initrd '%s' (%" PRIu64 " bytes) does not "
		    "fit in guest memory (%" PRIu64 " bytes) beside the kernel, which takes %"
		    PRIu64 " bytes: raise -m", cfg->initrd ? cfg->initrd : "(ringvm's own)",
		    a->initrd_size, cfg->mem_size, a->image_size);
	a->initrd_gpa = (a->fdt_gpa - a->initrd_size) & ~0xfffull;
	return 0;
}

void arch_boot_fini(struct vm *vm)
{
	struct arch_vm *a = &vm->arch;

	bootfile_close(&a->kernel_fd);
	bootfile_close(&a->initrd_fd);
	free(a->cmdline);
	a->cmdline = NULL;
	/* The vGIC's device fds (machine.c), which live as long as the boot state. */
	if (a->its_fd >= 0)
		close(a->its_fd);
	if (a->gic_fd >= 0)
		close(a->gic_fd);
	a->its_fd = a->gic_fd = -1;
}

/* boot_dump_dtb: --dump-dtb: write the tree to `path` for dtc, mode 0644. */
static int boot_dump_dtb(const char *path, const void *fdt, size_t len, struct rv_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	ssize_t w;

	if (fd < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "--dump-dtb: cannot create '%s'", path);
	w = write(fd, fdt, len);
	if (w != (ssize_t)len || close(fd) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, w < 0 ? errno : EIO,
		    "--dump-dtb: cannot write '%s'", path);
	return 0;
}

/* boot_fdt: the device tree, from the VM and the devices' descriptions, into guest RAM. */
static int boot_fdt(struct vm *vm, const struct rv_config *cfg, struct rv_err *err)
{
	struct arch_vm *a = &vm->arch;
	struct dev_desc desc[RV_MAX_INSTANCES];
	uint8_t seed[ARM64_FDT_SEED_LEN];
	struct arm64_fdt f = {
		.ram_base = ARM64_RAM_GPA, .ram_size = cfg->mem_size, .nr_cpus = vm->nr_vcpus,
		.gic_version = a->gic_version, .its = a->its, .bootargs = a->cmdline,
		.devs = desc,
	};
	void *fdt = gmem_ptr(&vm->mem, a->fdt_gpa, ARM64_FDT_MAX);
	int r;

	if (!fdt)
		return rv_fail(err, RV_EXIT_FAILURE, 0, "device tree does not fit in guest memory");
	if (a->initrd_size) {
		f.initrd_start = a->initrd_gpa;
		f.initrd_end = a->initrd_gpa + a->initrd_size;
	}
	/* Entropy from the first instruction: the guest's RNG needs no device to start. */
	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		f.seed = seed;
	for (unsigned i = 0; i < cfg->nr_dev; i++) {
		const struct dev_instance *d = &cfg->dev[i];

		if (d->state && d->ops->describe && d->ops->describe(d->state, &desc[f.nr_devs]))
			f.nr_devs++;
	}
	r = arm64_fdt_build(&f, fdt, ARM64_FDT_MAX, err);
	if (r)
		return r;
	if (cfg->dump_dtb)
		return boot_dump_dtb(cfg->dump_dtb, fdt, fdt_totalsize(fdt), err);
	return 0;
}

int arch_boot_load(struct vm *vm, const struct rv_config *cfg, struct rv_err *err)
{
	struct arch_vm *a = &vm->arch;
	int r;

	r = gmem_fill_from_fd(&vm->mem, a->kernel_gpa, a->kernel_fd, 0, a->kernel_size);
	if (r)
		return rv_fail(err, RV_EXIT_BADFILE, -r, "cannot load kernel '%s'", cfg->kernel);
	r = bootfile_initrd_load(&vm->mem, cfg, a->initrd_gpa, a->initrd_fd, a->initrd_file_size,
	    a->initrd_size, err);
	if (r)
		return r;
	/* The files are in guest memory now: nothing keeps them open during the run. */
	bootfile_close(&a->kernel_fd);
	bootfile_close(&a->initrd_fd);
	return boot_fdt(vm, cfg, err);
}
