/*
 * irq.h: interrupt delivery to the guest beyond a single ISA line: the KVM
 * GSI routing table (in-kernel irqchip pins plus MSI routes), irqfds that
 * inject an MSI when written, and level-triggered lines shared by several
 * sources (PCI INTx), whose level is the OR of the sources.
 */
#ifndef RINGVM_IRQ_H
#define RINGVM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

#define IRQ_IRQCHIP_GSIS 24	/* GSIs 0..23: the I/O APIC pins */
#define IRQ_MAX_MSI 128		/* MSI routes, one per MSI-X vector in use */
#define IRQ_MSI_GSI_BASE IRQ_IRQCHIP_GSIS
#define IRQ_NONE_GSI UINT32_MAX	/* always-invalid GSI, distinct from GSI 0 */

/* One MSI route: a GSI KVM turns into the message (address, data). */
struct irq_msi {
	uint32_t gsi;		/* IRQ_NONE_GSI when unused */
	uint64_t addr;
	uint32_t data;
	bool valid;		/* routed; false while masked or unprogrammed */
	int fd;			/* irqfd eventfd bound to gsi */
};

struct irq {
	struct irq_msi msi[IRQ_MAX_MSI];
	unsigned nr_msi;
	uint32_t shared_mask[IRQ_IRQCHIP_GSIS];	/* asserting sources per line */
};

/*
 * irq_init: install the routing table with the irqchip pins only. Dies on
 * failure (setup).
 */
void irq_init(struct vm *vm);

/* irq_fini: close the irqfds. */
void irq_fini(struct vm *vm);

/*
 * irq_msi_alloc: reserve an MSI route with an irqfd. Returns its index
 * (>= 0) or -ENOSPC / -errno. Setup only.
 */
int irq_msi_alloc(struct vm *vm);

/*
 * irq_msi_set: point route `idx` at message (addr, data), or unroute it
 * when `valid` is false. Pushes the whole table to KVM when it changed.
 * Returns 0 or -errno.
 */
int irq_msi_set(struct vm *vm, unsigned idx, bool valid, uint64_t addr, uint32_t data);

/* irq_msi_fire: inject route `idx` (an eventfd write). Returns 0 or -errno. */
int irq_msi_fire(struct vm *vm, unsigned idx);

/*
 * irq_shared_set: set source `src` (0..31) of level-triggered line `gsi`
 * to `level`; the line is the OR of its sources. Returns 0 or -errno.
 */
int irq_shared_set(struct vm *vm, unsigned gsi, unsigned src, bool level);

#endif
