/*
 * irq.h: interrupt delivery to the guest: lines driven directly, the KVM
 * GSI routing table (the in-kernel controller's pins plus MSI routes),
 * irqfds that inject an MSI when written, and level-triggered lines shared
 * by several sources (PCI INTx), whose level is the OR of the sources.
 */
#ifndef RINGVM_IRQ_H
#define RINGVM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "arch_types.h"
#include "log.h"

struct vm;

#define IRQ_MAX_MSI 128		/* MSI routes, one per MSI-X vector in use */
#define IRQ_MSI_GSI_BASE ARCH_IRQCHIP_GSIS	/* MSI GSIs follow the controller's pins */
#define IRQ_NONE_GSI UINT32_MAX	/* always-invalid GSI, distinct from GSI 0 */

/* One MSI route: a GSI KVM turns into the message (address, data). */
struct irq_msi {
	uint32_t gsi;		/* IRQ_NONE_GSI when unused */
	uint64_t addr;
	uint32_t data;
	bool valid;		/* routed; false while masked or unprogrammed */
	uint32_t devid;		/* the sender's PCI requester ID */
	int fd;			/* irqfd eventfd bound to gsi, -1 when unused */
};

/* The routing table as KVM_SET_GSI_ROUTING takes it: pins, PIC, MSI routes. */
#define IRQ_MAX_ROUTES (ARCH_IRQCHIP_ROUTES + IRQ_MAX_MSI)

struct irq {
	struct irq_msi msi[IRQ_MAX_MSI];
	struct irq_msi committed[IRQ_MAX_MSI];	/* what KVM has, to roll back to */
	unsigned nr_msi;
	bool dirty;			/* msi[] differs from committed[] */
	uint32_t shared_mask[ARCH_IRQCHIP_GSIS];	/* asserting sources per line */
	void *table;			/* the ioctl's buffer, allocated once */
};

/*
 * irq_init: install the routing table with the interrupt controller's pins
 * only (after vm_create). Returns 0 or -errno with the reason in `err`.
 */
int irq_init(struct vm *vm, struct rv_err *err);

/* irq_fini: close the irqfds. */
void irq_fini(struct vm *vm);

/*
 * irq_msi_alloc: reserve an MSI route with an irqfd for the PCI function
 * whose requester ID is `devid` (bus << 8 | slot << 3 | fn; KVM needs it
 * where an ITS translates MSIs, vm->msi_devid). Returns its index
 * (>= 0) or -ENOSPC / -errno. Setup only.
 */
int irq_msi_alloc(struct vm *vm, uint32_t devid);

/*
 * irq_msi_stage: record that route `idx` should point at message (addr,
 * data), or be unrouted when `valid` is false, without telling KVM yet.
 * Returns 0 or -EINVAL for a bad index.
 */
int irq_msi_stage(struct vm *vm, unsigned idx, bool valid, uint64_t addr, uint32_t data);

/*
 * irq_msi_commit: push the staged routes to KVM in one table, if any
 * changed. On failure the previous routing stays in force, in KVM and in
 * this state, and -errno comes back.
 */
int irq_msi_commit(struct vm *vm);

/* irq_msi_routed: route `idx` is in force in KVM (valid and committed). */
bool irq_msi_routed(const struct vm *vm, unsigned idx);

/* irq_msi_set: irq_msi_stage and irq_msi_commit for one route. */
int irq_msi_set(struct vm *vm, unsigned idx, bool valid, uint64_t addr, uint32_t data);

/* irq_msi_fire: inject route `idx` (an eventfd write). Returns 0 or -errno. */
int irq_msi_fire(struct vm *vm, unsigned idx);

/*
 * irq_shared_set: set source `src` (0..31) of level-triggered line `gsi`
 * to `level`; the line is the OR of its sources. Returns 0 or -errno.
 */
int irq_shared_set(struct vm *vm, unsigned gsi, unsigned src, bool level);

/*
 * irq_line: drive interrupt line `gsi` (a controller pin) to `level`
 * through KVM_IRQ_LINE. Returns 0 or -errno.
 */
int irq_line(struct vm *vm, unsigned gsi, bool level);

#endif
