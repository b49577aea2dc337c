/*
 * arch.h: what the core asks of an architecture (src/arch/<arch>/).
 * The architecture's own types come from "arch_types.h" in its directory.
 */
#ifndef RINGVM_ARCH_H
#define RINGVM_ARCH_H

#include <stdint.h>

#include "arch_types.h"

struct vm;
struct vcpu;
struct rv_config;

/*
 * arch_mem_layout: split `ram_size` bytes of guest RAM around the
 * architecture's holes: region i starts at base[i] and holds at most
 * limit[i] bytes. Returns the number of layout slots (<= GMEM_MAX_REGIONS).
 */
unsigned arch_mem_layout(uint64_t ram_size, uint64_t *base, uint64_t *limit);

/* arch_vm_setup: create the in-kernel interrupt controllers and timers. Dies on failure. */
void arch_vm_setup(struct vm *vm);

/*
 * arch_boot_check: validate the kernel and initrd files against the
 * configuration before any KVM resource exists. Dies with status 3 (bad
 * file) or 2 (bad option) and one line naming the problem.
 */
void arch_boot_check(struct vm *vm, const struct rv_config *cfg);

/*
 * arch_boot_load: load the checked kernel and initrd into guest memory and
 * write the boot structures (boot parameters, firmware tables, page tables).
 * Dies on failure.
 */
void arch_boot_load(struct vm *vm, const struct rv_config *cfg);

/* arch_vcpu_setup: CPUID, MSRs and, for the boot CPU, the entry registers. Dies on failure. */
void arch_vcpu_setup(struct vm *vm, struct vcpu *vcpu);

#endif
