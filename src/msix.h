/*
 * msix.h: an MSI-X capability and its table and pending-bit array, backed
 * by KVM MSI routes with irqfds (irq.c). A vector fires through its irqfd
 * when MSI-X is enabled and neither the function nor the vector is masked;
 * while masked, it only sets its pending bit, and fires on unmask.
 */
#ifndef RINGVM_MSIX_H
#define RINGVM_MSIX_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct pci_dev;

#define MSIX_MAX_VECTORS 33		/* a device's queues + 1 for configuration changes */
#define MSIX_NO_VECTOR 0xffff		/* the always-invalid vector (virtio NO_VECTOR) */
#define MSIX_ENTRY_SIZE 16

struct msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;	/* as the guest wrote them */
	int route;				/* irq.c MSI route index */
};

struct msix {
	struct vm *vm;
	struct pci_dev *pd;
	uint8_t cap;			/* config-space offset of the capability */
	unsigned nr;			/* vectors in the table */
	struct msix_entry entry[MSIX_MAX_VECTORS];
	uint64_t pending;		/* PBA, one bit per vector */
	unsigned long errors;		/* host errors routing or signalling; the first is logged */
};

/*
 * msix_init: add the capability to `pd` for `nr` vectors whose table and PBA
 * are at `table_off`/`pba_off` in BAR `bar`, and allocate their routes.
 * Returns 0 or -errno.
 */
int msix_init(struct msix *m, struct vm *vm, struct pci_dev *pd, unsigned nr,
    unsigned bar, uint32_t table_off, uint32_t pba_off);

/* msix_enabled: MSI-X is on (the device must not use INTx). */
bool msix_enabled(const struct msix *m);

/* msix_cfg_write: the guest wrote config space at [off, off+size): follow control changes. */
void msix_cfg_write(struct msix *m, uint32_t off, unsigned size);

/* msix_table_read/write: guest access to the table at `off` (bounds checked). */
uint64_t msix_table_read(struct msix *m, uint64_t off, unsigned size);
void msix_table_write(struct msix *m, uint64_t off, uint64_t val, unsigned size);

/* msix_pba_read: guest read of the pending-bit array. */
uint64_t msix_pba_read(struct msix *m, uint64_t off, unsigned size);

/*
 * msix_notify: signal vector `vec`. An out-of-range vector (including
 * MSIX_NO_VECTOR) does nothing. Returns 0 or -errno.
 */
int msix_notify(struct msix *m, unsigned vec);

#endif
