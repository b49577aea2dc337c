/*
 * pci.h: PCI bus 0 behind a host bridge: configuration space (reached as
 * the architecture provides: conf1 ports on x86), memory BARs decoded on
 * the MMIO bus, INTx on shared level-triggered lines.
 */
#ifndef RINGVM_PCI_H
#define RINGVM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "log.h"

struct vm;
struct pci_dev;

#define PCI_SLOTS 32
#define PCI_BARS 6
#define PCI_CFG_SIZE 256
#define PCI_CAP_START 0x40		/* capabilities live in [0x40, 0x100) */

/* Hooks a PCI device gives the bus. */
struct pci_dev_ops {
	/*
	 * cfg_write: a write to the capability area [0x40, 0x100) after it is
	 * stored under the device's write mask; `off` and `size` are checked.
	 */
	void (*cfg_write)(struct pci_dev *pd, uint32_t off, unsigned size);
	/*
	 * cfg_read: before a read of [off, off+size) in the capability area,
	 * let the device refresh those bytes (a window into a BAR, say).
	 */
	void (*cfg_read)(struct pci_dev *pd, uint32_t off, unsigned size);
	/*
	 * bar_mapped: BAR `bar` was mapped at `gpa`, or unmapped when `gpa`
	 * is 0 (memory decoding off, or the guest moved it). Devices move
	 * their ioeventfds here.
	 */
	void (*bar_mapped)(struct pci_dev *pd, unsigned bar, uint64_t gpa);
};

struct pci_bar {
	uint64_t size;			/* power of two; 0 = BAR not implemented */
	uint64_t gpa;			/* where it is decoded now; 0 = not mapped */
	const struct bus_ops *ops;
	void *dev;
};

struct pci_dev {
	struct pci *pci;
	unsigned slot;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];	/* bits the guest may change */
	struct pci_bar bar[PCI_BARS];
	const struct pci_dev_ops *ops;
	void *opaque;			/* the device behind this function */
	unsigned gsi;			/* INTx line, IRQ_NONE_GSI for none */
	bool intx_level;
	unsigned long intx_errors;	/* failures driving it; the first is logged */
};

struct pci {
	struct vm *vm;
	struct pci_dev *slot[PCI_SLOTS];
	struct pci_dev host;		/* the host bridge, slot 0 */
	uint64_t mmio_next;		/* BAR allocator inside the 32-bit window */
	struct log_once bar_clash;
};

/*
 * pci_init: create bus 0 with its host bridge. The guest reaches it once
 * main has called arch_pci_init. Returns 0 or -errno with the reason in
 * `err`.
 */
int pci_init(struct vm *vm, struct rv_err *err);

/* pci_fini: release the bus. */
void pci_fini(struct vm *vm);

/*
 * pci_add: put `pd` (its cfg header filled by the caller with IDs and
 * class) in the first free slot, give it an INTx line, and set up the
 * generic header write masks. Returns 0 or -ENOSPC.
 */
int pci_add(struct vm *vm, struct pci_dev *pd);

/* pci_remove: take `pd` off the bus and unmap its BARs. */
void pci_remove(struct vm *vm, struct pci_dev *pd);

/*
 * pci_bar_init: declare 32-bit memory BAR `bar` of `size` bytes (a power of
 * two) decoded by `ops`, and give it an address in the PCI window. The BAR
 * is mapped once the guest enables memory decoding. Returns 0 or -ENOSPC.
 */
int pci_bar_init(struct pci_dev *pd, unsigned bar, uint64_t size,
    const struct bus_ops *ops, void *dev);

/*
 * pci_cap_add: append a capability of `len` bytes (id, next pointer and
 * body in `body`, whose first two bytes are overwritten) to the list.
 * Returns its config-space offset, or 0 when the area is full.
 */
uint8_t pci_cap_add(struct pci_dev *pd, const uint8_t *body, uint8_t len);

/* pci_intx: drive the function's INTx line (ignored while INTx is disabled in COMMAND). */
void pci_intx(struct pci_dev *pd, bool level);

/* pci_cfg_read/pci_cfg_write: config access for tests and the conf1 ports. */
uint32_t pci_cfg_read(struct pci_dev *pd, uint32_t off, unsigned size);
void pci_cfg_write(struct pci_dev *pd, uint32_t off, uint32_t val, unsigned size);

/* pci_dev_at: the function at (bus, slot, fn), or NULL (only bus 0, function 0 exist). */
struct pci_dev *pci_dev_at(struct pci *pci, unsigned bus, unsigned slot, unsigned fn);

#endif
