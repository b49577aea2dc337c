/*
 * irq.c: KVM GSI routing, irqfds for MSI, and shared level-triggered lines.
 *
 * Owns every interrupt line the devices drive: irq_line for a line of its
 * own (the UART), irq_shared_set for a line several sources share (PCI
 * INTx), and MSI routes with irqfds (MSI-X).
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so the table is rebuilt from
 * this state each time routes change: the interrupt controller's pins as
 * the architecture routes them (arch_irq_routes), then every valid MSI route. Routes change only when the
 * guest programs or masks MSI-X vectors, never per interrupt, and changes
 * to several vectors at once (an MSI-X enable or function mask) are staged
 * and pushed as one table. The state records what KVM last accepted, so a
 * refused table leaves the previous routing in force on both sides.
 *
 * Exported (contracts in irq.h): irq_init, irq_fini, irq_msi_alloc,
 * irq_msi_stage, irq_msi_commit, irq_msi_routed, irq_msi_set, irq_msi_fire,
 * irq_shared_set, irq_line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "arch.h"
#include "irq.h"
#include "log.h"
#include "vm.h"

/* irq_push: build the table from msi[] and hand it to KVM. Returns 0 or -errno. */
static int irq_push(struct vm *vm)
{
	struct irq *irq = &vm->irq;
	struct kvm_irq_routing *t = irq->table;
	/* The interrupt controller's own pins first: the architecture knows them. */
	unsigned n = arch_irq_routes(t->entries, ARCH_IRQCHIP_ROUTES);

	for (unsigned i = 0; i < irq->nr_msi; i++) {
		const struct irq_msi *m = &irq->msi[i];

		if (!m->valid)
			continue;
		t->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = m->gsi, .type = KVM_IRQ_ROUTING_MSI,
			/* An ITS (arm64) translates by sender: KVM wants the requester ID. */
			.flags = vm->msi_devid ? KVM_MSI_VALID_DEVID : 0,
			.u.msi = {
				.address_lo = (uint32_t)m->addr,
				.address_hi = (uint32_t)(m->addr >> 32),
				.data = m->data,
				.devid = vm->msi_devid ? m->devid : 0,
			},
		};
	}
	t->nr = n;
	t->flags = 0;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, t) < 0)
		return -errno;
	return 0;
}

int irq_init(struct vm *vm, struct rv_err *err)
{
	struct irq *irq = &vm->irq;
	int r;

	memset(irq, 0, sizeof(*irq));
	/* Unused routes hold the always-invalid GSI and no fd (rule 9). */
	for (unsigned i = 0; i < IRQ_MAX_MSI; i++) {
		irq->msi[i].gsi = IRQ_NONE_GSI;
		irq->msi[i].fd = -1;
	}
	memcpy(irq->committed, irq->msi, sizeof(irq->msi));
	irq->table = calloc(1, sizeof(struct kvm_irq_routing) +
	    IRQ_MAX_ROUTES * sizeof(struct kvm_irq_routing_entry));
	if (!irq->table)
		return rv_fail(err, RV_EXIT_FAILURE, ENOMEM,
		    "cannot allocate the interrupt routing table");
	r = irq_push(vm);
	if (r)
		return rv_fail(err, RV_EXIT_FAILURE, -r, "KVM: ioctl (SET_GSI_ROUTING) failed");
	return 0;
}

void irq_fini(struct vm *vm)
{
	for (unsigned i = 0; i < vm->irq.nr_msi; i++) {
		if (vm->irq.msi[i].fd >= 0)
			close(vm->irq.msi[i].fd);
		vm->irq.msi[i].fd = -1;
		vm->irq.msi[i].gsi = IRQ_NONE_GSI;
	}
	vm->irq.nr_msi = 0;
	free(vm->irq.table);
	vm->irq.table = NULL;
}

int irq_msi_alloc(struct vm *vm, uint32_t devid)
{
	struct irq *irq = &vm->irq;
	struct irq_msi *m;
	struct kvm_irqfd f;

	if (irq->nr_msi == IRQ_MAX_MSI)
		return -ENOSPC;
	m = &irq->msi[irq->nr_msi];
	m->valid = false;
	m->devid = devid;
	m->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	/* The GSI is named only once the route exists; until then it is IRQ_NONE_GSI. */
	m->gsi = IRQ_MSI_GSI_BASE + irq->nr_msi;
	/* The irqfd is bound once; routing decides where, or whether, it goes. */
	memset(&f, 0, sizeof(f));
	f.fd = (uint32_t)m->fd;
	f.gsi = m->gsi;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0) {
		int e = errno;

		close(m->fd);
		m->fd = -1;
		m->gsi = IRQ_NONE_GSI;
		return -e;
	}
	irq->committed[irq->nr_msi] = *m;
	return (int)irq->nr_msi++;
}

int irq_msi_stage(struct vm *vm, unsigned idx, bool valid, uint64_t addr, uint32_t data)
{
	struct irq_msi *m;

	if (idx >= vm->irq.nr_msi)
		return -EINVAL;
	m = &vm->irq.msi[idx];
	if (m->valid == valid && (!valid || (m->addr == addr && m->data == data)))
		return 0;
	m->valid = valid;
	m->addr = addr;
	m->data = data;
	vm->irq.dirty = true;
	return 0;
}

int irq_msi_commit(struct vm *vm)
{
	struct irq *irq = &vm->irq;
	int r;

	if (!irq->dirty)
		return 0;
	irq->dirty = false;
	r = irq_push(vm);
	if (r) {
		/* KVM kept the old table; so do we, or a vector would look routed and be dead. */
		memcpy(irq->msi, irq->committed, irq->nr_msi * sizeof(irq->msi[0]));
		return r;
	}
	memcpy(irq->committed, irq->msi, irq->nr_msi * sizeof(irq->msi[0]));
	return 0;
}

bool irq_msi_routed(const struct vm *vm, unsigned idx)
{
	return idx < vm->irq.nr_msi && vm->irq.committed[idx].valid;
}

int irq_msi_set(struct vm *vm, unsigned idx, bool valid, uint64_t addr, uint32_t data)
{
	int r = irq_msi_stage(vm, idx, valid, addr, data);

	return r ? r : irq_msi_commit(vm);
}

int irq_msi_fire(struct vm *vm, unsigned idx)
{
	uint64_t one = 1;

	if (idx >= vm->irq.nr_msi)
		return -EINVAL;
	if (write(vm->irq.msi[idx].fd, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

int irq_shared_set(struct vm *vm, unsigned gsi, unsigned src, bool level)
{
	uint32_t *mask, before;

	if (gsi >= ARCH_IRQCHIP_GSIS || src >= 32)
		return -EINVAL;
	mask = &vm->irq.shared_mask[gsi];
	before = *mask;
	if (level)
		*mask |= 1u << src;
	else
		*mask &= ~(1u << src);
	if (!before == !*mask)
		return 0;	/* the OR did not change: no edge to tell KVM about */
	return irq_line(vm, gsi, *mask != 0);
}

int irq_line(struct vm *vm, unsigned gsi, bool level)
{
	struct kvm_irq_level l = { .irq = ARCH_IRQ_LINE(gsi), .level = level ? 1 : 0 };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return -errno;
	return 0;
}
