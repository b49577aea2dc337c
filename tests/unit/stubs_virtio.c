/*
 * stubs_virtio.c: what the virtio objects need from a VM that has no KVM.
 *
 * irq.c issues KVM ioctls (GSI routing, irqfds), so its functions are
 * replaced here by recorders: every MSI fired and every INTx level change
 * lands in `vstub_irq` for the tests to count. virtio_pci.c moves its
 * ioeventfds with KVM_IOEVENTFD itself; ioctl() below answers KVM requests
 * (type KVMIO) with success and counts them, and passes every other request
 * to the kernel unchanged. Everything else (virtio_pci, msix, pci, bus,
 * virtq, gmem, disk, virtio_blk, libev, and the instance list of
 * devices.c: devices are made by their own parse and create hooks) is the
 * real code.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "device.h"
#include "devinst.h"
#include "irq.h"
#include "loop.h"
#include "pci.h"
#include "vfake.h"
#include "virtio_blk.h"
#include "virtio_pci.h"
#include "vm.h"

struct vstub_irq vstub_irq;

/* --- irq.c, recorded --- */

int irq_init(struct vm *vm, struct rv_err *err)
{
	(void)err;
	memset(&vm->irq, 0, sizeof(vm->irq));
	return 0;
}

void irq_fini(struct vm *vm)
{
	vm->irq.nr_msi = 0;
}

int irq_msi_alloc(struct vm *vm, uint32_t devid)
{
	struct irq_msi *m;

	if (vm->irq.nr_msi == IRQ_MAX_MSI)
		return -ENOSPC;
	m = &vm->irq.msi[vm->irq.nr_msi];
	memset(m, 0, sizeof(*m));
	m->gsi = IRQ_MSI_GSI_BASE + vm->irq.nr_msi;
	m->fd = -1;
	vm->irq.committed[vm->irq.nr_msi] = *m;
	return (int)vm->irq.nr_msi++;
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

/* As irq.c: one table per commit; vstub_irq.commit_fail refuses the next ones. */
int irq_msi_commit(struct vm *vm)
{
	struct irq *irq = &vm->irq;

	if (!irq->dirty)
		return 0;
	irq->dirty = false;
	if (vstub_irq.commit_fail) {
		vstub_irq.commit_fail--;
		vstub_irq.commits_refused++;
		memcpy(irq->msi, irq->committed, irq->nr_msi * sizeof(irq->msi[0]));
		return -ENOMEM;
	}
	vstub_irq.route_updates++;
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
	if (idx >= vm->irq.nr_msi || idx >= IRQ_MAX_MSI) {
		vstub_irq.msi_bad++;
		return -EINVAL;
	}
	if (!vm->irq.committed[idx].valid)
		vstub_irq.msi_unrouted++;
	vstub_irq.msi_fired[idx]++;
	vstub_irq.msi_total++;
	return 0;
}

int irq_shared_set(struct vm *vm, unsigned gsi, unsigned src, bool level)
{
	(void)vm;
	if (gsi >= ARCH_IRQCHIP_GSIS || src >= 32)
		return -EINVAL;
	vstub_irq.intx_calls++;
	if (level) {
		vstub_irq.intx_raised++;
		if (!vstub_irq.intx_mask[gsi])
			vstub_irq.intx_edges++;
		vstub_irq.intx_mask[gsi] |= 1u << src;
	} else {
		vstub_irq.intx_mask[gsi] &= ~(1u << src);
	}
	return 0;
}

/* ioctl: KVM requests succeed without a VM; the rest go to the kernel. */
int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (_IOC_TYPE(request) == KVMIO) {
		vstub_irq.kvm_ioctls++;
		if (request == KVM_IOEVENTFD) {
			const struct kvm_ioeventfd *io = arg;

			if (io->flags & KVM_IOEVENTFD_FLAG_DEASSIGN)
				vstub_irq.ioeventfd_deassign++;
			else
				vstub_irq.ioeventfd_assign++;
		}
		return 0;
	}
	return (int)syscall(SYS_ioctl, fd, request, arg);
}

/* --- the fake VM --- */

int vstub_vm_init(struct vstub_vm *v, uint64_t r0_len, uint64_t hole, uint64_t r1_len)
{
	struct rv_err e;
	int r;

	memset(v, 0, sizeof(*v));
	v->vm.kvm_fd = v->vm.vm_fd = -1;
	v->vm.cfg = &v->cfg;
	r = vf_mem_init(&v->vm.mem, r0_len, hole, r1_len);
	if (r)
		return r;
	v->loop.ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
	if (!v->loop.ev) {
		gmem_fini(&v->vm.mem);
		return -ENOMEM;
	}
	v->loop.sig_fd = -1;
	v->vm.loop = &v->loop;
	irq_init(&v->vm, &e);
	return pci_init(&v->vm, &e);
}

void vstub_vm_fini(struct vstub_vm *v)
{
	devinst_destroy(&v->vm, &v->cfg);
	devinst_free(&v->cfg);
	pci_fini(&v->vm);
	irq_fini(&v->vm);
	ev_loop_destroy(v->loop.ev);
	gmem_fini(&v->vm.mem);
}

void *vstub_dev_add(struct vstub_vm *v, const struct device_ops *ops, const char *spec)
{
	struct dev_instance *d;
	char why[384];

	/* The device's own hooks, as devinst.c calls them, without its per-device cap. */
	if (v->cfg.nr_dev == RV_MAX_INSTANCES)
		return NULL;
	d = &v->cfg.dev[v->cfg.nr_dev];
	*d = (struct dev_instance){ .ops = ops, .spec = spec };
	if (ops->parse && ops->parse(spec, 0, &d->conf, why, sizeof(why))) {
		printf("# %s\n", why);
		return NULL;
	}
	if (ops->create(&v->vm, d->conf, &d->state, why, sizeof(why))) {
		printf("# %s\n", why);
		free(d->conf);
		return NULL;
	}
	v->cfg.nr_dev++;
	return d->state;
}

int vstub_dev_remove(struct vstub_vm *v, void *state)
{
	for (unsigned i = 0; i < v->cfg.nr_dev; i++) {
		struct dev_instance *d = &v->cfg.dev[i];
		int r;

		if (d->state != state)
			continue;
		r = d->ops->destroy(&v->vm, state);
		free(d->conf);
		memmove(d, d + 1, (v->cfg.nr_dev - i - 1) * sizeof(*d));
		v->cfg.nr_dev--;
		return r;
	}
	return -ENOENT;
}

struct vblk *vstub_blk_add(struct vstub_vm *v, const char *spec)
{
	return vstub_dev_add(v, &vblk_ops, spec);
}

int vstub_blk_remove(struct vstub_vm *v, struct vblk *b)
{
	return vstub_dev_remove(v, b);
}

void vstub_run(struct vstub_vm *v)
{
	/*
	 * Each non-blocking pass handles every fd ready now; a completion can
	 * start more I/O (a throttled queue resumes) that is ready on the next
	 * pass, so a few passes reach quiescence.
	 */
	for (int i = 0; i < 8; i++)
		ev_run(v->loop.ev, EVRUN_NOWAIT);
}

uint64_t vstub_bar_read(struct virtio_pci *vp, uint64_t off, unsigned size)
{
	const struct pci_bar *b = &vp->pci.bar[0];

	return b->ops->read(b->dev, off, size);
}

void vstub_bar_write(struct virtio_pci *vp, uint64_t off, uint64_t val, unsigned size)
{
	const struct pci_bar *b = &vp->pci.bar[0];

	b->ops->write(b->dev, off, val, size);
}

uint8_t vstub_status(struct virtio_pci *vp)
{
	return (uint8_t)vstub_bar_read(vp, VS_COMMON + VS_STATUS, 1);
}

void vstub_queue_enable(struct virtio_pci *vp, uint16_t q, uint16_t size, uint64_t desc,
    uint64_t drv, uint64_t dev)
{
	vstub_bar_write(vp, VS_QSELECT, q, 2);
	vstub_bar_write(vp, VS_QSIZE, size, 2);
	vstub_bar_write(vp, VS_QDESC, (uint32_t)desc, 4);
	vstub_bar_write(vp, VS_QDESC + 4, desc >> 32, 4);
	vstub_bar_write(vp, VS_QDRIVER, (uint32_t)drv, 4);
	vstub_bar_write(vp, VS_QDRIVER + 4, drv >> 32, 4);
	vstub_bar_write(vp, VS_QDEVICE, (uint32_t)dev, 4);
	vstub_bar_write(vp, VS_QDEVICE + 4, dev >> 32, 4);
	vstub_bar_write(vp, VS_QENABLE, 1, 2);
}

uint64_t vstub_driver_init(struct virtio_pci *vp, uint64_t want, uint16_t q, uint16_t size,
    uint64_t desc, uint64_t drv, uint64_t dev)
{
	uint64_t offered, take;
	uint8_t s;

	vstub_bar_write(vp, VS_STATUS, 0, 1);
	vstub_bar_write(vp, VS_STATUS, VS_S_ACK, 1);
	vstub_bar_write(vp, VS_STATUS, VS_S_ACK | VS_S_DRIVER, 1);
	vstub_bar_write(vp, VS_DFSELECT, 0, 4);
	offered = vstub_bar_read(vp, VS_DF, 4);
	vstub_bar_write(vp, VS_DFSELECT, 1, 4);
	offered |= vstub_bar_read(vp, VS_DF, 4) << 32;
	take = offered & want;
	vstub_bar_write(vp, VS_GFSELECT, 0, 4);
	vstub_bar_write(vp, VS_GF, (uint32_t)take, 4);
	vstub_bar_write(vp, VS_GFSELECT, 1, 4);
	vstub_bar_write(vp, VS_GF, take >> 32, 4);
	vstub_bar_write(vp, VS_STATUS, VS_S_ACK | VS_S_DRIVER | VS_S_FEATURES_OK, 1);
	s = vstub_status(vp);
	if (!(s & VS_S_FEATURES_OK))
		return 0;
	vstub_queue_enable(vp, q, size, desc, drv, dev);
	vstub_bar_write(vp, VS_STATUS, VS_S_ACK | VS_S_DRIVER | VS_S_FEATURES_OK | VS_S_DRIVER_OK, 1);
	return take;
}
