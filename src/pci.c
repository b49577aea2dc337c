/*
 * pci.c: bus 0, its host bridge, configuration space and BAR decoding.
 *
 * The architecture gives the guest its way into configuration space
 * (arch_pci_init, called by main after pci_init: the conf1 ports on x86,
 * which call pci_dev_at and pci_cfg_read/write) and wires INTx to its
 * lines (arch_pci_intx_gsi); this file holds what PCI itself defines. Generic header
 * writes go through a per-byte write mask, so read-only fields stay so
 * (HOSTILE.md T7); BAR sizing returns the size mask; a BAR is decoded on the
 * MMIO bus only while memory decoding is on and never over another claim.
 *
 * Exported (contracts in pci.h): pci_cfg_read, pci_cfg_write, pci_intx,
 * pci_dev_at, pci_init, pci_fini, pci_add, pci_remove, pci_bar_init,
 * pci_cap_add.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "irq.h"
#include "pci.h"
#include "vm.h"

#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3c
#define PCI_INT_PIN 0x3d
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_STATUS_INTERRUPT 0x08
#define BAR_MEM32 0x0		/* 32-bit memory BAR, not prefetchable */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

/* pci_bar_update: decode each BAR where the guest put it, if it may be decoded there. */
static void pci_bar_update(struct pci_dev *pd)
{
	bool mem = get16(pd->cfg + PCI_COMMAND) & PCI_COMMAND_MEMORY;

	for (unsigned i = 0; i < PCI_BARS; i++) {
		struct pci_bar *b = &pd->bar[i];
		uint64_t want = mem ? (get32(pd->cfg + PCI_BAR0 + 4 * i) & ~0xfu) : 0;

		if (!b->size || want == b->gpa)
			continue;
		if (b->gpa) {
			bus_remove(&pd->pci->vm->mmio, b->gpa);
			b->gpa = 0;
			if (pd->ops->bar_mapped)
				pd->ops->bar_mapped(pd, i, 0);
		}
		if (!want)
			continue;
		/*
		 * The guest chooses the address. A BAR over RAM or another device
		 * would shadow it: leave it unmapped rather than let the guest
		 * redirect someone else's accesses.
		 */
		if (gmem_ptr(&pd->pci->vm->mem, want, 1) ||
		    bus_add(&pd->pci->vm->mmio, want, b->size, b->ops, b->dev, "pci-bar")) {
			log_guest(&pd->pci->bar_clash, "pci: slot %u BAR %u at %#llx overlaps; not mapped",
			    pd->slot, i, (unsigned long long)want);
			continue;
		}
		b->gpa = want;
		if (pd->ops->bar_mapped)
			pd->ops->bar_mapped(pd, i, want);
	}
}

uint32_t pci_cfg_read(struct pci_dev *pd, uint32_t off, unsigned size)
{
	uint32_t v = 0;

	/* Naturally aligned 1, 2 or 4 bytes inside the 256-byte space, else all ones. */
	if ((size != 1 && size != 2 && size != 4) || (off & (size - 1)) || off + size > PCI_CFG_SIZE)
		return 0xffffffffu;
	if (off >= PCI_CAP_START && pd->ops->cfg_read)
		pd->ops->cfg_read(pd, off, size);
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)pd->cfg[off + i] << (8 * i);
	return v;
}

void pci_cfg_write(struct pci_dev *pd, uint32_t off, uint32_t val, unsigned size)
{
	uint16_t old_cmd = get16(pd->cfg + PCI_COMMAND);

	if ((size != 1 && size != 2 && size != 4) || (off & (size - 1)) || off + size > PCI_CFG_SIZE)
		return;
	for (unsigned i = 0; i < size; i++) {
		uint8_t m = pd->wmask[off + i], b = (uint8_t)(val >> (8 * i));

		pd->cfg[off + i] = (uint8_t)((pd->cfg[off + i] & ~m) | (b & m));
	}
	if (off >= PCI_CAP_START) {
		if (pd->ops->cfg_write)
			pd->ops->cfg_write(pd, off, size);
		return;
	}
	if (off < PCI_BAR0 + 4 * PCI_BARS && off + size > PCI_BAR0) {
		/* BAR sizing: the mask keeps the low bits 0; restore the type bits. */
		for (unsigned i = 0; i < PCI_BARS; i++)
			if (pd->bar[i].size)
				pd->cfg[PCI_BAR0 + 4 * i] = (pd->cfg[PCI_BAR0 + 4 * i] & 0xf0) | BAR_MEM32;
		pci_bar_update(pd);
	}
	if (off <= PCI_COMMAND + 1 && off + size > PCI_COMMAND) {
		uint16_t cmd = get16(pd->cfg + PCI_COMMAND);

		if ((cmd ^ old_cmd) & PCI_COMMAND_MEMORY)
			pci_bar_update(pd);
		if ((cmd ^ old_cmd) & PCI_COMMAND_INTX_DISABLE)
			pci_intx(pd, pd->intx_level);
	}
}

void pci_intx(struct pci_dev *pd, bool level)
{
	int r;
	bool masked = get16(pd->cfg + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;

	pd->intx_level = level;
	if (level)
		pd->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		pd->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	if (pd->gsi == IRQ_NONE_GSI)
		return;
	r = irq_shared_set(pd->pci->vm, pd->gsi, pd->slot, level && !masked);
	if (r && pd->intx_errors++ == 0) {
		errno = -r;
		log_warn("PCI slot %u: cannot drive interrupt line %u", pd->slot, pd->gsi);
	}
}

struct pci_dev *pci_dev_at(struct pci *pci, unsigned bus, unsigned slot, unsigned fn)
{
	/* Bus 0, function 0 only; everything else reads as absent. */
	if (bus || fn || slot >= PCI_SLOTS)
		return NULL;
	return pci->slot[slot];
}

static const struct pci_dev_ops pci_host_ops = { 0 };

/* pci_header: the generic write masks of a type-0 header. */
static void pci_header(struct pci_dev *pd)
{
	memset(pd->wmask, 0, sizeof(pd->wmask));
	put16(pd->wmask + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
	    PCI_COMMAND_INTX_DISABLE);
	pd->wmask[0x0c] = 0xff;			/* cache line size */
	pd->wmask[0x0d] = 0xff;			/* latency timer */
	pd->wmask[PCI_INT_LINE] = 0xff;
	pd->cfg[PCI_HEADER_TYPE] = 0;
}

int pci_init(struct vm *vm, struct rv_err *err)
{
	struct pci *pci = calloc(1, sizeof(*pci));

	if (!pci)
		return rv_fail(err, RV_EXIT_FAILURE, ENOMEM, "pci: cannot allocate the bus");
	pci->vm = vm;
	pci->mmio_next = ARCH_PCI_MMIO_GPA;
	vm->pci = pci;
	/* A plain host bridge (Red Hat's ID, no chipset quirks in Linux). */
	put16(pci->host.cfg + PCI_VENDOR_ID, 0x1b36);
	put16(pci->host.cfg + PCI_VENDOR_ID + 2, 0x0008);
	put32(pci->host.cfg + PCI_CLASS_REVISION, 0x06000000);
	pci->host.ops = &pci_host_ops;
	if (pci_add(vm, &pci->host))
		return rv_fail(err, RV_EXIT_FAILURE, 0, "pci: cannot add the host bridge");
	return 0;
}

void pci_fini(struct vm *vm)
{
	if (!vm->pci)
		return;
	free(vm->pci);
	vm->pci = NULL;
}

int pci_add(struct vm *vm, struct pci_dev *pd)
{
	struct pci *pci = vm->pci;

	for (unsigned s = 0; s < PCI_SLOTS; s++) {
		if (pci->slot[s])
			continue;
		pd->pci = pci;
		pd->slot = s;
		/* The host bridge (slot 0) has no interrupt pin: no line at all. */
		pd->gsi = s ? arch_pci_intx_gsi(s) : IRQ_NONE_GSI;
		pci_header(pd);
		if (s) {
			pd->cfg[PCI_INT_PIN] = 1;		/* INTA# */
			pd->cfg[PCI_INT_LINE] = (uint8_t)pd->gsi;
		}
		pci->slot[s] = pd;
		return 0;
	}
	return -ENOSPC;
}

void pci_remove(struct vm *vm, struct pci_dev *pd)
{
	put16(pd->cfg + PCI_COMMAND, 0);
	pci_bar_update(pd);
	if (pd->intx_level && pd->gsi != IRQ_NONE_GSI) {
		int r = irq_shared_set(vm, pd->gsi, pd->slot, false);

		if (r && pd->intx_errors++ == 0) {
			errno = -r;
			log_warn("PCI slot %u: cannot lower interrupt line %u", pd->slot, pd->gsi);
		}
	}
	if (vm->pci && vm->pci->slot[pd->slot] == pd)
		vm->pci->slot[pd->slot] = NULL;
}

int pci_bar_init(struct pci_dev *pd, unsigned bar, uint64_t size,
    const struct bus_ops *ops, void *dev)
{
	struct pci *pci = pd->pci;
	uint64_t gpa = (pci->mmio_next + size - 1) & ~(size - 1);

	if (bar >= PCI_BARS || !size || (size & (size - 1)) || size < 16 ||
	    gpa + size > ARCH_PCI_MMIO_GPA + ARCH_PCI_MMIO_SIZE)
		return -ENOSPC;
	pci->mmio_next = gpa + size;
	pd->bar[bar] = (struct pci_bar){ .size = size, .ops = ops, .dev = dev };
	put32(pd->cfg + PCI_BAR0 + 4 * bar, (uint32_t)gpa | BAR_MEM32);
	/* The guest may move the BAR; the low bits (size - 1) read back as 0. */
	put32(pd->wmask + PCI_BAR0 + 4 * bar, (uint32_t)~(size - 1));
	return 0;
}

uint8_t pci_cap_add(struct pci_dev *pd, const uint8_t *body, uint8_t len)
{
	uint8_t off = PCI_CAP_START, *link = pd->cfg + PCI_CAP_PTR;

	/* Walk to the end of the list; capabilities are dword aligned. */
	while (*link) {
		off = (uint8_t)((*link + pd->cfg[*link + 2] + 3) & ~3);
		link = pd->cfg + *link + 1;
	}
	if (len < 2 || off < PCI_CAP_START || off + len > PCI_CFG_SIZE)
		return 0;
	memcpy(pd->cfg + off, body, len);
	pd->cfg[off + 1] = 0;
	*link = off;
	pd->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	return off;
}
