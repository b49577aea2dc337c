/* boot.h (x86): bzImage header checks, kept apart from loading so tests can feed raw bytes. */
#ifndef RINGVM_X86_BOOT_H
#define RINGVM_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "arch_types.h"

/* Bytes of the file bzimage_parse needs to see: the boot sector and setup header. */
#define BZIMAGE_HEAD_LEN 0x290

/* ringvm's own kernel command line, before the user's -a text. */
#define X86_DEFAULT_CMDLINE "console=ttyS0 panic=-1"

/*
 * bzimage_parse: check the first `head_len` bytes of a kernel file of
 * `file_size` bytes against the Linux x86 boot protocol and fill the kernel
 * fields of `a` (setup size, load address, init size, limits). Every header
 * field that sizes or places something is checked against the file size.
 * Returns 0, or -1 with a one-line reason in `err`.
 */
int bzimage_parse(const uint8_t *head, size_t head_len, uint64_t file_size,
    struct arch_vm *a, char *err, size_t errlen);

/*
 * boot_place_initrd: choose the initrd's guest address: as high as possible
 * under both the kernel's initrd_addr_max and the end of low RAM
 * (`low_ram_end`), page aligned, above the kernel's init_size footprint.
 * Returns 0, or -1 with a reason naming both sizes in `err`.
 */
int boot_place_initrd(struct arch_vm *a, uint64_t low_ram_end, uint64_t ram_size,
    char *err, size_t errlen);

#endif
