/*
 * msix.c: MSI-X for PCI functions (PCI Local Bus 3.0, 6.8.2).
 * Routes are pushed to KVM only when the guest changes an entry or a mask,
 * never per interrupt, and one table per guest write; an interrupt is one
 * eventfd write. Host errors on this path are counted and the first is
 * logged; an interrupt that cannot go now is held in the PBA.
 *
 * Exported (contracts in msix.h): msix_enabled, msix_init, msix_cfg_write,
 * msix_table_read, msix_table_write, msix_pba_read, msix_notify.
 */
#include <errno.h>
#include <string.h>

#include "irq.h"
#include "log.h"
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

/* msix_fail: a host error on the interrupt path: count it, log the first. */
static void msix_fail(struct msix *m, int err, const char *what)
{
	if (m->errors++ == 0) {
		errno = -err;
		log_warn("MSI-X (PCI slot %u): %s", m->pd->slot, what);
	}
}

/* msix_stage: stage vector `vec`'s route: live when it may fire. */
static void msix_stage(struct msix *m, unsigned vec)
{
	const struct msix_entry *e = &m->entry[vec];

	int r = irq_msi_stage(m->vm, (unsigned)e->route, !msix_masked(m, vec),
	    (uint64_t)e->addr_hi << 32 | e->addr_lo, e->data);

	if (r)
		msix_fail(m, r, "cannot stage an interrupt route");
}

/*
 * msix_commit: push the staged routes (one table for all), then deliver
 * what was held pending on vectors that are now routed. A refused table
 * leaves the previous routing in force; pending bits stay set.
 */
static void msix_commit(struct msix *m)
{
	int r = irq_msi_commit(m->vm);

	if (r)
		msix_fail(m, r, "KVM refused the interrupt routing; the previous routing stays");
	for (unsigned vec = 0; vec < m->nr; vec++) {
		if (!(m->pending & (1ull << vec)) || msix_masked(m, vec) ||
		    !irq_msi_routed(m->vm, (unsigned)m->entry[vec].route))
			continue;
		m->pending &= ~(1ull << vec);
		r = irq_msi_fire(m->vm, (unsigned)m->entry[vec].route);
		if (r)
			msix_fail(m, r, "cannot signal an interrupt");
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
		/* Bus 0, function 0: the requester ID is the slot's devfn. */
		int r = irq_msi_alloc(vm, pd->slot << 3);

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
		msix_stage(m, v);
	msix_commit(m);
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
	msix_stage(m, vec);
	msix_commit(m);
}

uint64_t msix_pba_read(struct msix *m, uint64_t off, unsigned size)
{
	if (off >= 8 || (size != 4 && size != 8) || (off & (size - 1)))
		return 0;
	return m->pending >> (8 * off);
}

int msix_notify(struct msix *m, unsigned vec)
{
	int r;

	/* NO_VECTOR and anything past the table mean "no interrupt" (T6). */
	if (vec >= m->nr)
		return 0;
	if (msix_masked(m, vec) || !irq_msi_routed(m->vm, (unsigned)m->entry[vec].route)) {
		/* Not deliverable now (masked, or its route was refused): hold it. */
		m->pending |= 1ull << vec;
		return 0;
	}
	r = irq_msi_fire(m->vm, (unsigned)m->entry[vec].route);
	if (r)
		msix_fail(m, r, "cannot signal an interrupt");
	return r;
}
