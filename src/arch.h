/*
 * arch.h: what the core asks of an architecture. Each architecture lives
 * in src/arch/<arch>/ (configure picks it from the compiler's target) and
 * implements every hook below; its constants and per-VM state come from
 * "arch_types.h" in that directory, which must define:
 *   ARCH_IRQCHIP_GSIS     interrupt-controller pins usable as lines
 *   ARCH_IRQCHIP_ROUTES   routing entries arch_irq_routes may fill
 *   ARCH_PCI_MMIO_GPA, ARCH_PCI_MMIO_SIZE   the 32-bit PCI BAR window
 *   ARCH_IRQ_LINE(gsi)    KVM_IRQ_LINE's irq field for a line
 *   ARCH_UART_PIO, ARCH_UART_BASE, ARCH_UART_IRQ   the console UART: on
 *                         port I/O (1) or MMIO (0), its base and its line
 *   ARCH_DEVICES(X)       the platform devices of src/arch/<arch>/, X(ops) each
 *   ARCH_RESET_IS_PANIC(run)   a KVM_SYSTEM_EVENT_RESET exit that reports a panic
 *   ARCH_SYSCALL_ARG(uc, i), ARCH_SYS_POLL, ARCH_SYS_READLINK   for the sandbox
 *   struct arch_vm        the architecture's part of struct vm
 * The core calls these hooks and nothing else in src/arch/: the memory
 * map, the interrupt controller and its routing, the PCI configuration
 * access method, VM quirks, boot and the firmware description all stay
 * behind them. Setup hooks return 0 or -errno with a struct rv_err.
 */
#ifndef RINGVM_ARCH_H
#define RINGVM_ARCH_H

#include <stdint.h>

#include <linux/kvm.h>

#include "arch_types.h"
#include "log.h"

struct vm;
struct vcpu;
struct pci;
struct rv_config;

/*
 * arch_mem_layout: split `ram_size` bytes of guest RAM around the
 * architecture's holes: region i starts at base[i] and holds at most
 * limit[i] bytes. Returns the number of layout slots (<= GMEM_MAX_REGIONS).
 */
unsigned arch_mem_layout(uint64_t ram_size, uint64_t *base, uint64_t *limit);

/*
 * arch_vm_setup: check the architecture's own KVM capabilities, apply its
 * VM quirks and create the in-kernel interrupt controllers and timers.
 */
int arch_vm_setup(struct vm *vm, struct rv_err *err);

/*
 * arch_irq_routes: fill `e` (room for `max` entries) with the interrupt
 * controller's default routes, GSI n to pin n. Returns the number filled.
 */
unsigned arch_irq_routes(struct kvm_irq_routing_entry *e, unsigned max);

/*
 * arch_pci_init: give the guest its way into PCI configuration space for
 * `pci` (x86: the conf1 ports 0xcf8-0xcff). Returns 0 or -errno.
 */
int arch_pci_init(struct vm *vm, struct pci *pci, struct rv_err *err);

/* arch_pci_fini: undo arch_pci_init. */
void arch_pci_fini(struct vm *vm, struct pci *pci);

/* arch_pci_intx_gsi: the line INTA# of PCI slot `slot` (>= 1) is wired to. */
unsigned arch_pci_intx_gsi(unsigned slot);

/*
 * arch_boot_check: validate the kernel and initrd files against the
 * configuration before any KVM resource exists. Fails with status 3 (bad
 * file) or 2 (bad option) and one line naming the problem.
 */
int arch_boot_check(struct vm *vm, const struct rv_config *cfg, struct rv_err *err);

/*
 * arch_boot_load: load the checked kernel and initrd into guest memory and
 * write the boot structures and the firmware description (boot parameters,
 * ACPI tables from the devices' describe hooks, page tables).
 */
int arch_boot_load(struct vm *vm, const struct rv_config *cfg, struct rv_err *err);

/* arch_boot_fini: release what arch_boot_check kept open. */
void arch_boot_fini(struct vm *vm);

/*
 * arch_vcpu_setup: CPUID, MSRs and, for the boot CPU, the entry registers
 * (from what arch_boot_check found). Called for vCPU 0, 1, ... right after
 * arch_vm_setup, before any route, irqfd or device exists: the last call
 * may finish an interrupt controller that needs every vCPU (arm64's vGIC).
 */
int arch_vcpu_setup(struct vm *vm, struct vcpu *vcpu, struct rv_err *err);

#endif
