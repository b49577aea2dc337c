/*
 * pci_ecam.c (arm64): how an arm64 guest reaches PCI configuration space:
 * ECAM, the memory-mapped window of the device tree's pci-host-ecam-generic
 * node, 4 KiB per function at (bus << 20 | slot << 15 | fn << 12). Only
 * bus 0 is decoded; the extended space above 256 bytes reads as all ones
 * (pci.c), so the guest finds no extended capability. (Where each slot's
 * INTA# is wired is machine.c's.)
 *
 * Exported: arch_pci_init, arch_pci_fini (arch.h).
 */
#include <errno.h>

#include "arch.h"
#include "bus.h"
#include "pci.h"
#include "vm.h"

/* pci_ecam_dev: the function behind ECAM offset `off`, or NULL. */
static struct pci_dev *pci_ecam_dev(struct pci *pci, uint64_t off)
{
	return pci_dev_at(pci, (unsigned)(off >> 20) & 0xff, (unsigned)(off >> 15) & 0x1f,
	    (unsigned)(off >> 12) & 7);
}

static uint64_t pci_ecam_read(void *dev, uint64_t off, unsigned size)
{
	struct pci_dev *pd = pci_ecam_dev(dev, off);

	/* An 8-byte access is no configuration access: all ones, as for an absent function. */
	if (!pd || size > 4)
		return size > 4 ? ~0ull : 0xffffffffu;
	return pci_cfg_read(pd, (uint32_t)(off & 0xfff), size);
}

static void pci_ecam_write(void *dev, uint64_t off, uint64_t val, unsigned size)
{
	struct pci_dev *pd = pci_ecam_dev(dev, off);

	if (pd && size <= 4)
		pci_cfg_write(pd, (uint32_t)(off & 0xfff), (uint32_t)val, size);
}

static const struct bus_ops pci_ecam_ops = { .read = pci_ecam_read, .write = pci_ecam_write };

int arch_pci_init(struct vm *vm, struct pci *pci, struct rv_err *err)
{
	if (bus_add(&vm->mmio, ARM64_ECAM_GPA, ARM64_ECAM_SIZE, &pci_ecam_ops, pci, "pci-ecam"))
		return rv_fail(err, RV_EXIT_FAILURE, 0, "pci: the ECAM window is taken");
	return 0;
}

void arch_pci_fini(struct vm *vm, struct pci *pci)
{
	(void)pci;
	bus_remove(&vm->mmio, ARM64_ECAM_GPA);
}
