/* cpu.h (x86): CPUID, MSRs, boot registers and the boot page tables. */
#ifndef RINGVM_X86_CPU_H
#define RINGVM_X86_CPU_H

#include "log.h"

struct vm;

/*
 * cpu_boot_tables: write the boot GDT and the identity page tables (first
 * 4 GiB). Returns 0 or -errno with the reason in `err`.
 */
int cpu_boot_tables(struct vm *vm, struct rv_err *err);

#endif
