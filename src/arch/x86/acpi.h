/* acpi.h (x86): the ACPI tables that describe ringvm's x86 machine to the guest. */
#ifndef RINGVM_X86_ACPI_H
#define RINGVM_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

struct vm;

/*
 * acpi_build: write RSDP, XSDT, FADT, MADT and DSDT into the reserved area
 * below 1 MiB and record the RSDP address in vm->arch.rsdp_gpa. The machine
 * is "hardware-reduced" ACPI: no PM timer, no 8259, no SCI; power-off and
 * reset go through the FADT sleep-control and reset registers (src/arch/x86/pm.c).
 * The DSDT comes from dsdt.c (the PCI bus and the devices' describe hooks).
 * Returns 0 or -errno with the reason in `err`.
 */
int acpi_build(struct vm *vm, struct rv_err *err);

/* acpi_checksum: the byte that makes `len` bytes at `p` sum to 0. */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
