/*
 * fuzz_bzimage.c: the x86 bzImage checks and loader (src/arch/x86/boot.c,
 * HOSTILE.md H2, H3) on raw bytes. bzimage_parse and boot_place_initrd are
 * pure; when the parse succeeds and the kernel fits, arch_boot_load also
 * runs, from a memfd into 64 MiB of guest RAM (no KVM: the ACPI and page
 * table writers are stubbed here).
 *
 * Input: a 16-byte prefix, then the kernel file.
 *   byte 0   bit 0: the file claims `vsize` bytes (a header that lies about a
 *            big file); bit 1: an initrd; bit 2: load
 *   4..7     initrd size; 8..11 low RAM end in MiB; 12..15 vsize in 4 KiB
 *
 * Invariants: a refusal has a one-line reason; an acceptance means the
 * header fields that size and place things agree with the file (magic,
 * protocol >= 2.12, 64-bit, setup + payload inside the file, load address in
 * low RAM and page aligned, init_size covering the payload, the setup header
 * copied verbatim); an initrd placed is page aligned, above the kernel's
 * footprint and below both limits; a load copies exactly the payload and
 * writes the boot parameters.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <asm/bootparam.h>

#include "acpi.h"
#include "arch.h"
#include "boot.h"
#include "cpu.h"
#include "vm.h"

#define RAM (64ull << 20)

#define CHECK(c) do { if (!(c)) fail(#c, __LINE__); } while (0)

static void fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_bzimage: invariant broken at line %d: %s\n", line, what);
	abort();
}

/* The firmware tables are another module's business. */
int acpi_build(struct vm *vm, struct rv_err *err)
{
	(void)err;
	vm->arch.rsdp_gpa = 0xe0000;
	return 0;
}

int cpu_boot_tables(struct vm *vm, struct rv_err *err)
{
	(void)vm;
	(void)err;
	return 0;
}

static struct vm vm;

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool reason_ok(const char *err)
{
	size_t n = strnlen(err, 256);

	return n > 0 && n < 256 && !memchr(err, '\n', n);
}

static int memfd_with(const uint8_t *p, size_t n)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
		abort();
	return fd;
}

/* try_load: arch_boot_load as main would call it after arch_boot_check. */
static void try_load(const uint8_t *file, size_t file_len, uint32_t initrd_len)
{
	struct arch_vm *a = &vm.arch;
	struct rv_config cfg = { .kernel = "fuzz", .initrd = initrd_len ? "fuzz-initrd" : NULL };
	static char cmdline[] = X86_DEFAULT_CMDLINE;
	static uint8_t initrd[1 << 16];
	const struct boot_params *bp;
	struct rv_err e;
	char err[256];

	/* arch_boot_check's own refusals (it would exit): the kernel must fit below RAM's end. */
	if (a->kernel_gpa + a->init_size > RAM)
		return;
	a->initrd_fd = -1;
	a->initrd_size = 0;
	if (initrd_len) {
		a->initrd_size = a->initrd_file_size = initrd_len;
		if (boot_place_initrd(a, RAM, RAM, err, sizeof(err)))
			return;
		memset(initrd, 0x1d, initrd_len);
		a->initrd_fd = memfd_with(initrd, initrd_len);
	}
	a->kernel_fd = memfd_with(file, file_len);
	a->cmdline = cmdline;
	CHECK(arch_boot_load(&vm, &cfg, &e) == 0);
	CHECK(a->kernel_fd == -1 && a->initrd_fd == -1);
	CHECK(!memcmp(gmem_ptr(&vm.mem, a->kernel_gpa, file_len - a->setup_size), file + a->setup_size,
	    file_len - a->setup_size));
	bp = gmem_ptr(&vm.mem, X86_ZERO_PAGE_GPA, sizeof(*bp));
	CHECK(bp && bp->hdr.cmd_line_ptr == X86_CMDLINE_GPA && bp->hdr.type_of_loader == 0xff);
	CHECK(bp->e820_entries >= 3 && bp->e820_entries <= E820_MAX_ENTRIES_ZEROPAGE);
	CHECK(!memcmp(gmem_ptr(&vm.mem, X86_CMDLINE_GPA, sizeof(cmdline)), cmdline, sizeof(cmdline)));
	if (initrd_len) {
		CHECK(bp->hdr.ramdisk_image == a->initrd_gpa && bp->hdr.ramdisk_size == initrd_len);
		CHECK(*(const uint8_t *)gmem_ptr(&vm.mem, a->initrd_gpa, 1) == 0x1d);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pre[16] = { 0 }, head[BZIMAGE_HEAD_LEN];
	const uint8_t *file = size > 16 ? data + 16 : data;
	size_t file_len = size > 16 ? size - 16 : 0, head_len;
	uint64_t file_size, low_end;
	struct arch_vm *a = &vm.arch;
	char err[256];
	uint32_t initrd_len;

	if (!vm.mem.nr_regions) {
		uint64_t base = 0, limit = RAM;

		if (gmem_init(&vm.mem, RAM, &base, &limit, 1))
			abort();
	}
	memcpy(pre, data, size < 16 ? size : 16);
	file_size = pre[0] & 1 ? (uint64_t)rd32(pre + 12) << 12 : file_len;
	if (file_size < file_len)
		file_size = file_len;
	low_end = ((uint64_t)(rd32(pre + 8) % 3072) + 1) << 20;
	initrd_len = rd32(pre + 4);

	/* The parser sees at most its header, as arch_boot_check's pread gives it. */
	head_len = file_len < sizeof(head) ? file_len : sizeof(head);
	memset(head, 0, sizeof(head));
	memcpy(head, file, head_len);
	memset(a, 0xa5, sizeof(*a));
	err[0] = 0;
	if (bzimage_parse(head, head_len, file_size, a, err, sizeof(err))) {
		CHECK(reason_ok(err));
		return 0;
	}
	/* Accepted: every field that sizes or places something agrees with the file. */
	{
		unsigned sects = head[0x1f1] ? head[0x1f1] : 4, hdr_end = 0x202u + head[0x201];
		uint64_t payload = (uint64_t)rd32(head + 0x1f4) * 16;

		CHECK(head_len == BZIMAGE_HEAD_LEN);
		CHECK(head[0x1fe] == 0x55 && head[0x1ff] == 0xaa && !memcmp(head + 0x202, "HdrS", 4));
		CHECK(a->protocol >= 0x020c && (head[0x236] & XLF_KERNEL_64));
		CHECK(a->setup_size == (sects + 1) * 512ull);
		CHECK(payload && a->setup_size + payload <= file_size);
		CHECK(a->kernel_size == file_size);
		CHECK(a->kernel_gpa >= X86_HIMEM_GPA && a->kernel_gpa < X86_MMIO_HOLE_GPA &&
		    !(a->kernel_gpa & 0xfff));
		CHECK(a->init_size >= file_size - a->setup_size && a->init_size >= rd32(head + 0x260));
		CHECK(hdr_end <= BZIMAGE_HEAD_LEN && hdr_end >= 0x264);
		CHECK(!memcmp(a->setup_header, head + 0x1f1, hdr_end - 0x1f1));
	}
	/* The initrd goes page aligned, above the kernel, below both limits (H3). */
	a->initrd_size = initrd_len;
	if (boot_place_initrd(a, low_end, low_end, err, sizeof(err))) {
		CHECK(reason_ok(err));
	} else {
		uint64_t top = low_end < (uint64_t)a->initrd_addr_max + 1 ? low_end : (uint64_t)a->initrd_addr_max + 1;

		CHECK(!(a->initrd_gpa & 0xfff));
		CHECK(a->initrd_gpa >= a->kernel_gpa + a->init_size);
		CHECK(a->initrd_gpa + a->initrd_size <= top);
	}
	if ((pre[0] & 4) && !(pre[0] & 1) && file_len == file_size)
		try_load(file, file_len, pre[0] & 2 ? initrd_len % (1 << 16) + 1 : 0);
	return 0;
}
