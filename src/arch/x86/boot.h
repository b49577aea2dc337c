/* boot.h (x86): bzImage header checks, kept apart from loading so tests can feed raw bytes. */
#ifndef RINGVM_X86_BOOT_H
#define RINGVM_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "arch_types.h"

/* Bytes of the file bzimage_parse needs to see: the boot sector and setup header. */
#define BZIMAGE_HEAD_LEN 0x290

/*
 * ringvm's default kernel command line, before the user's -a text. A guest
 * kernel panic must end ringvm promptly. pvpanic reports it (exit status 5)
 * when the guest has the driver: its panic notifier runs before the kernel
 * looks at the panic timeout, so it needs no panic= at all. Without the
 * driver, the panic timeout -1 makes the kernel reset at once (status 4)
 * instead of halting for ever (Debian's CONFIG_PANIC_TIMEOUT is 0).
 * With an initrd the timeout is given as the sysctl kernel.panic, not as
 * panic=: a distribution initramfs (Debian's initramfs-tools) reads panic=
 * from /proc/cmdline too, and would then reboot instead of dropping to its
 * rescue shell when it finds no root device. Linux applies sysctl.*
 * parameters (5.8 and later) just before it runs init.
 */
/*
 * Added after the defaults when there is no initrd: no initramfs can read
 * panic= then, and a kernel that finds no root file system panics before
 * the sysctl above applies (and before a modular pvpanic driver loads).
 */
#define X86_NOINITRD_CMDLINE "panic=-1"
#define X86_DEFAULT_CMDLINE "console=ttyS0 sysctl.kernel.panic=-1"

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
