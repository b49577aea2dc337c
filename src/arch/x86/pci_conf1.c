/*
 * pci_conf1.c (x86): how an x86 guest reaches PCI configuration space:
 * configuration mechanism #1, an address register at port 0xcf8 and a data
 * window at 0xcfc-0xcff. (Where each slot's INTA# is wired is machine.c's.)
 *
 * Exported: arch_pci_init, arch_pci_fini (arch.h), called by main after
 * pci_init and before pci_fini.
 */
#include <errno.h>

#include "arch.h"
#include "bus.h"
#include "pci.h"
#include "vm.h"

#define CONF1_ENABLE 0x80000000u

/* pci_conf1_dev: the function the address register selects, or NULL. */
static struct pci_dev *pci_conf1_dev(struct vm *vm)
{
	uint32_t a = vm->arch.conf1_addr;

	if (!(a & CONF1_ENABLE))
		return NULL;
	return pci_dev_at(vm->pci, (a >> 16) & 0xff, (a >> 11) & 0x1f, (a >> 8) & 7);
}

static uint64_t pci_conf1_read(void *dev, uint64_t off, unsigned size)
{
	struct vm *vm = dev;
	struct pci_dev *pd;

	if (off < 4)
		return size == 4 && off == 0 ? vm->arch.conf1_addr : 0xffffffffu;
	pd = pci_conf1_dev(vm);
	if (!pd)
		return 0xffffffffu;
	return pci_cfg_read(pd, (vm->arch.conf1_addr & 0xfc) + (uint32_t)(off - 4), size);
}

static void pci_conf1_write(void *dev, uint64_t off, uint64_t val, unsigned size)
{
	struct vm *vm = dev;
	struct pci_dev *pd;

	if (off < 4) {
		/* Only a full dword sets the address (byte writes probe for type 2). */
		if (size == 4 && off == 0)
			vm->arch.conf1_addr = (uint32_t)val & 0x80fffffcu;
		return;
	}
	pd = pci_conf1_dev(vm);
	if (pd)
		pci_cfg_write(pd, (vm->arch.conf1_addr & 0xfc) + (uint32_t)(off - 4), (uint32_t)val,
		    size);
}

static const struct bus_ops pci_conf1_ops = { .read = pci_conf1_read, .write = pci_conf1_write };

int arch_pci_init(struct vm *vm, struct pci *pci, struct rv_err *err)
{
	(void)pci;
	vm->arch.conf1_addr = 0;
	if (bus_add(&vm->pio, X86_CONF1_PORT, 8, &pci_conf1_ops, vm, "pci-conf1"))
		return rv_fail(err, RV_EXIT_FAILURE, 0, "pci: conf1 ports are taken");
	return 0;
}

void arch_pci_fini(struct vm *vm, struct pci *pci)
{
	(void)pci;
	bus_remove(&vm->pio, X86_CONF1_PORT);
}
