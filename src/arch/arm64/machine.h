/* machine.h (arm64): the GIC's second step, for cpu.c (machine.c). */
#ifndef RINGVM_ARM64_MACHINE_H
#define RINGVM_ARM64_MACHINE_H

#include "log.h"

struct vm;

/*
 * machine_gic_finish: initialise the vGIC (and its ITS) created by
 * arch_vm_setup, then close their device fds. Only once every vCPU
 * exists, and before any route or irqfd. Returns 0 or -errno with err
 * filled.
 */
int machine_gic_finish(struct vm *vm, struct rv_err *err);

#endif
