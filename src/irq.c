/*
 * irq.c: KVM GSI routing, irqfds for MSI, and shared level-triggered lines.
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so the table is rebuilt from
 * this state each time a route changes: the 24 I/O APIC pins (and the PIC
 * for the ISA ones), then every valid MSI route. Routes change only when
 * the guest programs or masks an MSI-X vector, never per interrupt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "irq.h"
#include "log.h"
#include "vm.h"

static int irq_commit(struct vm *vm)
{
	struct irq *irq = &vm->irq;
	unsigned n = 0, max = IRQ_IRQCHIP_GSIS + 16 + irq->nr_msi;
	struct kvm_irq_routing *t;
	int r = 0;

	t = calloc(1, sizeof(*t) + max * sizeof(t->entries[0]));
	if (!t)
		return -ENOMEM;
	/* KVM's own default: GSI n is I/O APIC pin n, and PIC pin n for the ISA 16. */
	for (unsigned gsi = 0; gsi < IRQ_IRQCHIP_GSIS; gsi++) {
		t->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi },
		};
		if (gsi < 16)
			t->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = {
					.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
					.pin = gsi % 8,
				},
			};
	}
	for (unsigned i = 0; i < irq->nr_msi; i++) {
		const struct irq_msi *m = &irq->msi[i];

		if (!m->valid)
			continue;
		t->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = m->gsi, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = {
				.address_lo = (uint32_t)m->addr,
				.address_hi = (uint32_t)(m->addr >> 32),
				.data = m->data,
			},
		};
	}
	t->nr = n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, t) < 0)
		r = -errno;
	free(t);
	return r;
}

void irq_init(struct vm *vm)
{
	int r;

	memset(&vm->irq, 0, sizeof(vm->irq));
	r = irq_commit(vm);
	if (r) {
		errno = -r;
		die(RV_EXIT_FAILURE, "KVM: ioctl (SET_GSI_ROUTING) failed");
	}
}

void irq_fini(struct vm *vm)
{
	for (unsigned i = 0; i < vm->irq.nr_msi; i++)
		if (vm->irq.msi[i].fd >= 0)
			close(vm->irq.msi[i].fd);
	vm->irq.nr_msi = 0;
}

int irq_msi_alloc(struct vm *vm)
{
	struct irq *irq = &vm->irq;
	struct irq_msi *m;
	struct kvm_irqfd f;

	if (irq->nr_msi == IRQ_MAX_MSI)
		return -ENOSPC;
	m = &irq->msi[irq->nr_msi];
	m->gsi = IRQ_MSI_GSI_BASE + irq->nr_msi;
	m->valid = false;
	m->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	/* The irqfd is bound once; routing decides where, or whether, it goes. */
	memset(&f, 0, sizeof(f));
	f.fd = (uint32_t)m->fd;
	f.gsi = m->gsi;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0) {
		int e = errno;

		close(m->fd);
		return -e;
	}
	return (int)irq->nr_msi++;
}

int irq_msi_set(struct vm *vm, unsigned idx, bool valid, uint64_t addr, uint32_t data)
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
	return irq_commit(vm);
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

	if (gsi >= IRQ_IRQCHIP_GSIS || src >= 32)
		return -EINVAL;
	mask = &vm->irq.shared_mask[gsi];
	before = *mask;
	if (level)
		*mask |= 1u << src;
	else
		*mask &= ~(1u << src);
	if (!before == !*mask)
		return 0;	/* the OR did not change: no edge to tell KVM about */
	return vm_irq_line(vm, gsi, *mask != 0);
}
