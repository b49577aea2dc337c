/*
 * boot.c (arm64): the arm64 Linux boot protocol: the Image (checked by
 * image.c), the kernel at text_offset from the 2 MiB aligned start
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
#include "image.h"
#include "log.h"
#include "vm.h"

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
	uint8_t head[IMAGE_READ_LEN];
	struct image_info img;
	char why[256];
	ssize_t n;
	int r;

	a->initrd_fd = -1;
	r = bootfile_open("kernel", cfg->kernel, &a->kernel_fd, &size, err);
	if (r)
		return r;
	n = pread(a->kernel_fd, head, sizeof(head), 0);
	if (n < 0)
		return rv_fail(err, RV_EXIT_BADFILE, errno, "cannot read kernel '%s'", cfg->kernel);
	if (image_parse(head, (size_t)n, size, &img, why, sizeof(why)))
		return rv_fail(err, RV_EXIT_BADFILE, 0, "kernel '%s' %s", cfg->kernel, why);
	a->kernel_size = size;
	a->text_offset = img.text_offset;
	a->image_size = img.image_size;
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
