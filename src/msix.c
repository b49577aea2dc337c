/*
 * msix.c: MSI-X for PCI functions (PCI Local Bus 3.0, 6.8.2).
 * Routes are pushed to KVM only when the guest changes an entry or a mask,
 * never per interrupt; an interrupt is one eventfd write.
 */
#include <errno.h>
#include <string.h>

#include "irq.h"
#include "msix.h"
#include "pci.h"
#include "vm.h"

#define MSIX_CAP_ID 0x11
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_ENTRY_MASKED 0x1

static uint16_t msix_ctrl(const struct msix *m)
{
	return (uint16_t)(m->pd->cfg[m->cap + 2] | m->pd->cfg[m->cap + 3] << 8);
}

bool msix_enabled(const struct msix *m)
{
	return m->nr && (msix_ctrl(m) & MSIX_CTRL_ENABLE);
}

static bool msix_masked(const struct msix *m, unsigned vec)
{
	uint16_t ctrl = msix_ctrl(m);

	return !(ctrl & MSIX_CTRL_ENABLE) || (ctrl & MSIX_CTRL_MASKALL) ||
	    (m->entry[vec].ctrl & MSIX_ENTRY_MASKED);
}

/* msix_update: route vector `vec` if it may fire, and deliver what was held pending. */
static void msix_update(struct msix *m, unsigned vec)
{
	struct msix_entry *e = &m->entry[vec];
	bool live = !msix_masked(m, vec);

	irq_msi_set(m->vm, (unsigned)e->route, live,
	    (uint64_t)e->addr_hi << 32 | e->addr_lo, e->data);
	if (live && (m->pending & (1ull << vec))) {
		m->pending &= ~(1ull << vec);
		irq_msi_fire(m->vm, (unsigned)e->route);
	}
}

int msix_init(struct msix *m, struct vm *vm, struct pci_dev *pd, unsigned nr,
    unsigned bar, uint32_t table_off, uint32_t pba_off)
{
	uint8_t cap[12] = { MSIX_CAP_ID, 0 };

	memset(m, 0, sizeof(*m));
	if (nr == 0 || nr > MSIX_MAX_VECTORS)
		return -EINVAL;
	m->vm = vm;
	m->pd = pd;
	cap[2] = (uint8_t)(nr - 1);			/* table size - 1 */
	cap[4] = (uint8_t)(table_off | bar);		/* offset | BIR */
	cap[5] = (uint8_t)(table_off >> 8);
	cap[6] = (uint8_t)(table_off >> 16);
	cap[7] = (uint8_t)(table_off >> 24);
	cap[8] = (uint8_t)(pba_off | bar);
	cap[9] = (uint8_t)(pba_off >> 8);
	cap[10] = (uint8_t)(pba_off >> 16);
	cap[11] = (uint8_t)(pba_off >> 24);
	m->cap = pci_cap_add(pd, cap, sizeof(cap));
	if (!m->cap)
		return -ENOSPC;
	/* Only the enable and mask-all bits of message control are writable. */
	pd->wmask[m->cap + 3] = (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL) >> 8;
	for (unsigned i = 0; i < nr; i++) {
		int r = irq_msi_alloc(vm);

		if (r < 0)
			return r;
		m->entry[i].route = r;
		m->entry[i].ctrl = MSIX_ENTRY_MASKED;
	}
	m->nr = nr;
	return 0;
}

void msix_cfg_write(struct msix *m, uint32_t off, unsigned size)
{
	if (!m->nr || off + size <= (uint32_t)m->cap + 2 || off > (uint32_t)m->cap + 3)
		return;
	for (unsigned v = 0; v < m->nr; v++)
		msix_update(m, v);
}

uint64_t msix_table_read(struct msix *m, uint64_t off, unsigned size)
{
	unsigned vec = (unsigned)(off / MSIX_ENTRY_SIZE), word = (unsigned)(off % MSIX_ENTRY_SIZE) / 4;
	const struct msix_entry *e;
	uint32_t w[4];

	/* Dword or qword accesses, aligned, inside the table; else 0 (T7). */
	if (vec >= m->nr || (size != 4 && size != 8) || (off & (size - 1)))
		return 0;
	e = &m->entry[vec];
	w[0] = e->addr_lo;
	w[1] = e->addr_hi;
	w[2] = e->data;
	w[3] = e->ctrl;
	if (size == 8)
		return w[word] | (uint64_t)w[word + 1] << 32;
	return w[word];
}

void msix_table_write(struct msix *m, uint64_t off, uint64_t val, unsigned size)
{
	unsigned vec = (unsigned)(off / MSIX_ENTRY_SIZE), word = (unsigned)(off % MSIX_ENTRY_SIZE) / 4;
	struct msix_entry *e;

	if (vec >= m->nr || (size != 4 && size != 8) || (off & (size - 1)))
		return;
	e = &m->entry[vec];
	for (unsigned i = 0; i < size / 4; i++, word++) {
		uint32_t v = (uint32_t)(val >> (32 * i));

		switch (word) {
		case 0: e->addr_lo = v & ~3u; break;
		case 1: e->addr_hi = v; break;
		case 2: e->data = v; break;
		case 3: e->ctrl = v & MSIX_ENTRY_MASKED; break;
		}
	}
	msix_update(m, vec);
}

uint64_t msix_pba_read(struct msix *m, uint64_t off, unsigned size)
{
	if (off >= 8 || (size != 4 && size != 8) || (off & (size - 1)))
		return 0;
	return m->pending >> (8 * off);
}

int msix_notify(struct msix *m, unsigned vec)
{
	/* NO_VECTOR and anything past the table mean "no interrupt" (T6). */
	if (vec >= m->nr)
		return 0;
	if (msix_masked(m, vec)) {
		m->pending |= 1ull << vec;
		return 0;
	}
	return irq_msi_fire(m->vm, (unsigned)m->entry[vec].route);
}
