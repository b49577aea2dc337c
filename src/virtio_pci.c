/*
 * virtio_pci.c: the virtio 1.x PCI transport (virtio 1.2, section 4.1).
 *
 * BAR 0 holds, 4 KiB apart: common configuration, ISR, device
 * configuration, queue notification, MSI-X table and MSI-X PBA. Queue
 * notifications are ioeventfds watched by the loop; interrupts leave
 * through MSI-X irqfds, or INTx while MSI-X is off.
 *
 * The status state machine follows the specification and refuses what
 * breaks it (HOSTILE.md 2c): features only between DRIVER and FEATURES_OK,
 * queue configuration only between FEATURES_OK and DRIVER_OK and never on
 * an enabled queue, bits cleared only by a reset, and reset completing
 * (status reads 0) only when no I/O is in flight.
 *
 * Exported (contracts in virtio_pci.h): virtio_pci_running,
 * virtio_pci_queue, virtio_pci_interrupt, virtio_pci_fail,
 * virtio_pci_config_changed, virtio_pci_reset_done, virtio_pci_create,
 * virtio_pci_destroy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "loop.h"
#include "virtio_pci.h"
#include "vm.h"

#define VP_COMMON 0x0000
#define VP_ISR 0x1000
#define VP_DEVCFG 0x2000
#define VP_NOTIFY 0x3000
#define VP_MSIX_TABLE 0x4000
#define VP_MSIX_PBA 0x5000
#define VP_BAR_SIZE 0x8000
#define VP_REGION 0x1000
#define VP_NOTIFY_MULT 4

/* Common configuration offsets (virtio 1.2, 4.1.4.3). */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_MSIX 0x10
#define CC_NUMQ 0x12
#define CC_STATUS 0x14
#define CC_CFGGEN 0x15
#define CC_QSELECT 0x16
#define CC_QSIZE 0x18
#define CC_QMSIX 0x1a
#define CC_QENABLE 0x1c
#define CC_QNOFF 0x1e
#define CC_QDESC 0x20
#define CC_QDRIVER 0x28
#define CC_QDEVICE 0x30
#define CC_SIZE 0x38

#define S_ACKNOWLEDGE 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40
#define S_FAILED 0x80

#define ISR_QUEUE 1
#define ISR_CONFIG 2

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4
#define CAP_PCI_CFG 5
#define PCI_CAP_VENDOR 0x09

static void vp_irq(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	if (msix_enabled(&vp->msix)) {
		/* A failure is logged once by msix.c and the vector held pending. */
		msix_notify(&vp->msix, vector);
		return;
	}
	vp->isr |= isr_bit;
	pci_intx(&vp->pci, true);
}

bool virtio_pci_running(const struct virtio_pci *vp)
{
	return (vp->status & S_DRIVER_OK) && !(vp->status & S_NEEDS_RESET) && !vp->resetting;
}

struct virtq *virtio_pci_queue(struct virtio_pci *vp, unsigned q)
{
	if (q >= vp->ops->num_queues || !vp->qcfg[q].enabled || !virtio_pci_running(vp))
		return NULL;
	return &vp->vq[q];
}

void virtio_pci_interrupt(struct virtio_pci *vp, unsigned q)
{
	if (q < vp->ops->num_queues && virtq_need_interrupt(&vp->vq[q]))
		vp_irq(vp, vp->qcfg[q].vector, ISR_QUEUE);
}

void virtio_pci_fail(struct virtio_pci *vp, const char *why)
{
	vp->faults++;
	log_guest(&vp->fault, "%s (slot %u): %s; device needs reset", vp->ops->name,
	    vp->pci.slot, why);
	if (vp->status & S_NEEDS_RESET)
		return;
	vp->status |= S_NEEDS_RESET;
	/*
	 * Every queue stops here, not only the one that faulted, and in the
	 * ring code itself: a device loop that holds a queue (a TX batch with
	 * RX nested inside it) cannot publish or send past the fault (F-2).
	 */
	for (unsigned q = 0; q < vp->ops->num_queues; q++)
		virtq_halt(&vp->vq[q]);
	if (vp->status & S_DRIVER_OK)
		vp_irq(vp, vp->config_vector, ISR_CONFIG);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	vp->cfg_gen++;
	if (vp->status & S_DRIVER_OK)
		vp_irq(vp, vp->config_vector, ISR_CONFIG);
}

/* vp_queue_defaults: a queue as after reset. */
static void vp_queue_defaults(struct virtio_pci *vp, unsigned q)
{
	struct virtio_queue_cfg *qc = &vp->qcfg[q];

	qc->size = vp->ops->queue_max;
	qc->vector = VIRTIO_NO_VECTOR;
	qc->enabled = false;
	qc->desc = qc->driver = qc->device = 0;
	virtq_disable(&vp->vq[q]);
	/* A fresh ring starts at index 0; a paused watcher watches every kick again. */
	qc->kick_seen = 0;
	if (qc->kick.fd >= 0)
		kick_resume(&qc->kick);
}

void virtio_pci_reset_done(struct virtio_pci *vp)
{
	if (!vp->resetting)
		return;
	vp->resetting = false;
	vp->status = 0;
}

/* vp_reset: the driver wrote 0 to device_status. */
static void vp_reset(struct virtio_pci *vp)
{
	bool quiet;

	for (unsigned q = 0; q < vp->ops->num_queues; q++)
		vp_queue_defaults(vp, q);
	vp->drv_features = 0;
	vp->dfsel = vp->gfsel = 0;
	vp->qsel = 0;
	vp->config_vector = VIRTIO_NO_VECTOR;
	vp->isr = 0;
	pci_intx(&vp->pci, false);
	vp->resetting = true;
	/* A new driver instance: its faults are a new episode, logged again (O-3). */
	log_guest_rearm(&vp->fault);
	quiet = vp->ops->reset(vp->dev);
	/* Until the device has drained, status keeps reading non-zero (F3). */
	if (quiet)
		virtio_pci_reset_done(vp);
}

/* vp_features_ok: the driver set FEATURES_OK; keep it only for a valid set (F1). */
static bool vp_features_ok(struct virtio_pci *vp)
{
	if (!(vp->drv_features & (1ull << VIRTIO_F_VERSION_1)))
		return false;
	return vp->ops->features_ok(vp->dev, vp->drv_features) == 0;
}

static void vp_status_write(struct virtio_pci *vp, uint8_t v)
{
	uint8_t old = vp->status & ~S_NEEDS_RESET;

	if (v == 0) {
		vp_reset(vp);
		return;
	}
	if (vp->resetting)
		return;
	/* Bits are only ever added; clearing takes a reset (F2). NEEDS_RESET is ours. */
	v &= (uint8_t)~S_NEEDS_RESET;
	if ((v & old) != old)
		return;
	if ((v & S_FEATURES_OK) && !(old & S_FEATURES_OK)) {
		if (!(old & S_DRIVER) || !vp_features_ok(vp))
			v &= (uint8_t)~S_FEATURES_OK;	/* the driver re-reads and sees it clear */
	}
	if ((v & S_DRIVER_OK) && !(old & S_DRIVER_OK) && !(v & S_FEATURES_OK))
		v &= (uint8_t)~S_DRIVER_OK;
	vp->status = v | (vp->status & S_NEEDS_RESET);
	if ((v & S_DRIVER_OK) && !(old & S_DRIVER_OK) && virtio_pci_running(vp))
		vp->ops->start(vp->dev);
}

/* vp_queue_enable: freeze the queue's configuration and check it before any use (T1, T3). */
static void vp_queue_enable(struct virtio_pci *vp, unsigned q)
{
	struct virtio_queue_cfg *qc = &vp->qcfg[q];

	if (qc->enabled)
		return;
	if (qc->size > vp->ops->queue_max ||
	    virtq_enable(&vp->vq[q], &vp->vm->mem, qc->size, vp->drv_features,
	    qc->desc, qc->driver, qc->device)) {
		virtio_pci_fail(vp, qc->size > vp->ops->queue_max ? "queue size above the maximum" :
		    vp->vq[q].why);
		virtq_disable(&vp->vq[q]);
		return;
	}
	qc->enabled = true;
}

/* vp_queue_cfg_writable: the FEATURES_OK to DRIVER_OK window, queue not yet enabled (T2). */
static struct virtio_queue_cfg *vp_queue_cfg_writable(struct virtio_pci *vp)
{
	if (vp->qsel >= vp->ops->num_queues || vp->resetting)
		return NULL;
	if (!(vp->status & S_FEATURES_OK) || (vp->status & S_DRIVER_OK))
		return NULL;
	if (vp->qcfg[vp->qsel].enabled)
		return NULL;
	return &vp->qcfg[vp->qsel];
}

/*
 * vp_common_field: whether [off, off + size) is exactly one field of the
 * common configuration (or one 32-bit half of a 64-bit one, as drivers
 * write them). Anything else reads 0 and writes are ignored (T7).
 */
static bool vp_common_field(uint64_t off, unsigned size)
{
	static const struct { uint8_t off, len; } f[] = {
		{ CC_DFSELECT, 4 }, { CC_DF, 4 }, { CC_GFSELECT, 4 }, { CC_GF, 4 },
		{ CC_MSIX, 2 }, { CC_NUMQ, 2 }, { CC_STATUS, 1 }, { CC_CFGGEN, 1 },
		{ CC_QSELECT, 2 }, { CC_QSIZE, 2 }, { CC_QMSIX, 2 }, { CC_QENABLE, 2 },
		{ CC_QNOFF, 2 }, { CC_QDESC, 8 }, { CC_QDRIVER, 8 }, { CC_QDEVICE, 8 },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (off == f[i].off && size == f[i].len)
			return true;
		if (f[i].len == 8 && size == 4 && (off == f[i].off || off == f[i].off + 4u))
			return true;
	}
	return false;
}

static uint64_t vp_common_read(struct virtio_pci *vp, uint64_t off, unsigned size)
{
	const struct virtio_queue_cfg *qc = vp->qsel < vp->ops->num_queues ? &vp->qcfg[vp->qsel] : NULL;
	uint8_t img[CC_SIZE];
	uint64_t v = 0;

	if (off + size > CC_SIZE || !vp_common_field(off, size))
		return 0;
	memset(img, 0, sizeof(img));
#define PUT(o, val, n) do { uint64_t _v = (val); for (unsigned _i = 0; _i < (n); _i++) img[(o) + _i] = (uint8_t)(_v >> (8 * _i)); } while (0)
	PUT(CC_DFSELECT, vp->dfsel, 4);
	PUT(CC_DF, vp->dfsel < 2 ? (uint32_t)(vp->dev_features >> (32 * vp->dfsel)) : 0, 4);
	PUT(CC_GFSELECT, vp->gfsel, 4);
	PUT(CC_GF, vp->gfsel < 2 ? (uint32_t)(vp->drv_features >> (32 * vp->gfsel)) : 0, 4);
	PUT(CC_MSIX, vp->config_vector, 2);
	PUT(CC_NUMQ, vp->ops->num_queues, 2);
	PUT(CC_STATUS, vp->status, 1);
	PUT(CC_CFGGEN, vp->cfg_gen, 1);
	PUT(CC_QSELECT, vp->qsel, 2);
	/* An unavailable queue (select out of range) reads size 0 (T4). */
	PUT(CC_QSIZE, qc ? qc->size : 0, 2);
	PUT(CC_QMSIX, qc ? qc->vector : VIRTIO_NO_VECTOR, 2);
	PUT(CC_QENABLE, qc ? qc->enabled : 0, 2);
	PUT(CC_QNOFF, qc ? vp->qsel : 0, 2);
	PUT(CC_QDESC, qc ? qc->desc : 0, 8);
	PUT(CC_QDRIVER, qc ? qc->driver : 0, 8);
	PUT(CC_QDEVICE, qc ? qc->device : 0, 8);
#undef PUT
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)img[off + i] << (8 * i);
	return v;
}

/* vp_vector: a vector the table has, or NO_VECTOR, which is what reads back then (T6). */
static uint16_t vp_vector(struct virtio_pci *vp, uint64_t v)
{
	return v < vp->msix.nr ? (uint16_t)v : VIRTIO_NO_VECTOR;
}

/* vp_set_addr: store a 32-bit half or the whole 64-bit ring address. */
static void vp_set_addr(uint64_t *field, uint64_t off, uint64_t val, unsigned size)
{
	if (size == 8 && off == 0)
		*field = val;
	else if (size == 4 && off == 0)
		*field = (*field & ~0xffffffffull) | (uint32_t)val;
	else if (size == 4 && off == 4)
		*field = (*field & 0xffffffffull) | val << 32;
}

static void vp_common_write(struct virtio_pci *vp, uint64_t off, uint64_t val, unsigned size)
{
	struct virtio_queue_cfg *qc;
	bool can_features = (vp->status & S_DRIVER) && !(vp->status & S_FEATURES_OK) && !vp->resetting;

	switch (off) {
	case CC_DFSELECT:
		if (size == 4)
			vp->dfsel = (uint32_t)val;
		return;
	case CC_GFSELECT:
		if (size == 4)
			vp->gfsel = (uint32_t)val;
		return;
	case CC_GF:
		/* Only offered bits stick (F1); only before FEATURES_OK (F2). */
		if (size == 4 && can_features && vp->gfsel < 2) {
			uint64_t mask = 0xffffffffull << (32 * vp->gfsel);

			vp->drv_features = (vp->drv_features & ~mask) |
			    ((val << (32 * vp->gfsel)) & mask & vp->dev_features);
		}
		return;
	case CC_MSIX:
		if (size == 2 && !vp->resetting)
			vp->config_vector = vp_vector(vp, val);
		return;
	case CC_STATUS:
		if (size == 1)
			vp_status_write(vp, (uint8_t)val);
		return;
	case CC_QSELECT:
		if (size == 2)
			vp->qsel = (uint16_t)val;	/* range-checked wherever it is used (T4) */
		return;
	case CC_QENABLE:
		/* Writing 0 is not allowed to the driver; ignore it. */
		if (size == 2 && val == 1 && (qc = vp_queue_cfg_writable(vp)))
			vp_queue_enable(vp, vp->qsel);
		return;
	case CC_QSIZE:
		if (size == 2 && (qc = vp_queue_cfg_writable(vp)))
			qc->size = (uint16_t)val;
		return;
	case CC_QMSIX:
		if (size == 2 && vp->qsel < vp->ops->num_queues && !vp->resetting &&
		    (vp->status & S_FEATURES_OK))
			vp->qcfg[vp->qsel].vector = vp_vector(vp, val);
		return;
	}
	qc = vp_queue_cfg_writable(vp);
	if (!qc)
		return;
	if (off >= CC_QDESC && off < CC_QDESC + 8)
		vp_set_addr(&qc->desc, off - CC_QDESC, val, size);
	else if (off >= CC_QDRIVER && off < CC_QDRIVER + 8)
		vp_set_addr(&qc->driver, off - CC_QDRIVER, val, size);
	else if (off >= CC_QDEVICE && off < CC_QDEVICE + 8)
		vp_set_addr(&qc->device, off - CC_QDEVICE, val, size);
	/* Read-only fields (device_feature, num_queues, config_generation, notify_off): ignored (T7). */
}

static void vp_notify(struct virtio_pci *vp, unsigned q)
{
	/* Kicks before DRIVER_OK or on unknown/disabled queues do nothing (T5). */
	if (virtio_pci_queue(vp, q))
		vp->ops->queue_notify(vp->dev, q);
}

static uint64_t vp_bar_read(void *dev, uint64_t off, unsigned size)
{
	struct virtio_pci *vp = dev;
	uint64_t region = off & ~(uint64_t)(VP_REGION - 1), o = off - region, v = 0;
	uint8_t buf[8];

	switch (region) {
	case VP_COMMON:
		return vp_common_read(vp, o, size);
	case VP_ISR:
		if (o != 0)
			return 0;
		/* Reading ISR acknowledges it and lowers INTx. */
		v = vp->isr;
		vp->isr = 0;
		pci_intx(&vp->pci, false);
		return v;
	case VP_DEVCFG:
		if (o + size > vp->ops->config_size)
			return 0;	/* past the device configuration (T7) */
		vp->ops->config_read(vp->dev, (uint32_t)o, buf, size);
		for (unsigned i = 0; i < size; i++)
			v |= (uint64_t)buf[i] << (8 * i);
		return v;
	case VP_MSIX_TABLE:
		return msix_table_read(&vp->msix, o, size);
	case VP_MSIX_PBA:
		return msix_pba_read(&vp->msix, o, size);
	}
	return 0;
}

static void vp_bar_write(void *dev, uint64_t off, uint64_t val, unsigned size)
{
	struct virtio_pci *vp = dev;
	uint64_t region = off & ~(uint64_t)(VP_REGION - 1), o = off - region;
	uint8_t buf[8];

	switch (region) {
	case VP_COMMON:
		vp_common_write(vp, o, val, size);
		return;
	case VP_DEVCFG:
		if (o + size > vp->ops->config_size || vp->resetting)
			return;
		for (unsigned i = 0; i < size; i++)
			buf[i] = (uint8_t)(val >> (8 * i));
		vp->ops->config_write(vp->dev, (uint32_t)o, buf, size);
		return;
	case VP_NOTIFY:
		/* A kick the ioeventfd did not catch (another width, or before mapping). */
		if (o % VP_NOTIFY_MULT == 0)
			vp_notify(vp, (unsigned)(o / VP_NOTIFY_MULT));
		return;
	case VP_MSIX_TABLE:
		msix_table_write(&vp->msix, o, val, size);
		return;
	}
}

static const struct bus_ops vp_bar_ops = { .read = vp_bar_read, .write = vp_bar_write };

/*
 * vp_on_kick: a queue's ioeventfd fired (once or more). Returns whether the
 * kick found something new in the ring, which is what kick.c pauses on.
 */
static bool vp_on_kick(void *arg)
{
	struct virtio_queue_cfg *qc = arg;
	struct virtio_pci *vp = qc->vp;
	struct virtq *vq = virtio_pci_queue(vp, qc->idx);

	/* Kicks the device may not act on (not running, queue off, failed) find nothing. */
	if (!vq)
		return false;
	vp->ops->queue_notify(vp->dev, qc->idx);
	return virtq_kick_news(vq, &qc->kick_seen);
}

static void vp_ioeventfd(struct virtio_pci *vp, unsigned q, uint64_t bar, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = bar + VP_NOTIFY + (uint64_t)VP_NOTIFY_MULT * q,
		.len = 2,
		.fd = vp->qcfg[q].kick.fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	if (ioctl(vp->vm->vm_fd, KVM_IOEVENTFD, &io) < 0 && assign)
		log_warn("%s: KVM_IOEVENTFD for queue %u", vp->ops->name, q);
}

/* vp_bar_mapped: move the ioeventfds with BAR 0. */
static void vp_bar_mapped(struct pci_dev *pd, unsigned bar, uint64_t gpa)
{
	struct virtio_pci *vp = pd->opaque;

	if (bar != 0)
		return;
	for (unsigned q = 0; q < vp->ops->num_queues; q++) {
		if (vp->bar_gpa)
			vp_ioeventfd(vp, q, vp->bar_gpa, false);
		if (gpa)
			vp_ioeventfd(vp, q, gpa, true);
	}
	vp->bar_gpa = gpa;
}

/*
 * vp_cfg_access: the PCI configuration access capability, a window into the
 * BARs through config space (virtio 1.2, 4.1.4.9).
 */
static bool vp_cfg_window(struct virtio_pci *vp, uint32_t off, unsigned size, uint64_t *bar_off,
    unsigned *len)
{
	const uint8_t *c = vp->pci.cfg + vp->cfg_cap;
	uint32_t boff = c[8] | c[9] << 8 | c[10] << 16 | (uint32_t)c[11] << 24;
	uint32_t blen = c[12] | c[13] << 8 | c[14] << 16 | (uint32_t)c[15] << 24;

	if (!vp->cfg_cap || off + size <= vp->cfg_cap + 16u || off >= vp->cfg_cap + 20u)
		return false;
	if (c[4] != 0 || (blen != 1 && blen != 2 && blen != 4) || boff % blen ||
	    (uint64_t)boff + blen > VP_BAR_SIZE)	/* 64-bit sum: 0xfffffffc + 4 must not wrap */
		return false;
	*bar_off = boff;
	*len = blen;
	return true;
}

static void vp_cfg_read(struct pci_dev *pd, uint32_t off, unsigned size)
{
	struct virtio_pci *vp = pd->opaque;
	uint64_t boff, v;
	unsigned len;

	if (!vp_cfg_window(vp, off, size, &boff, &len))
		return;
	v = vp_bar_read(vp, boff, len);
	for (unsigned i = 0; i < 4; i++)
		pd->cfg[vp->cfg_cap + 16 + i] = (uint8_t)(v >> (8 * i));
}

static void vp_cfg_write(struct pci_dev *pd, uint32_t off, unsigned size)
{
	struct virtio_pci *vp = pd->opaque;
	const uint8_t *d = pd->cfg + vp->cfg_cap + 16;
	uint64_t boff;
	unsigned len;

	msix_cfg_write(&vp->msix, off, size);
	if (vp_cfg_window(vp, off, size, &boff, &len))
		vp_bar_write(vp, boff, d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24, len);
}

static const struct pci_dev_ops vp_pci_ops = {
	.cfg_write = vp_cfg_write,
	.cfg_read = vp_cfg_read,
	.bar_mapped = vp_bar_mapped,
};

/* vp_cap: a virtio vendor capability of type `type` over BAR 0 [off, off+len). */
static uint8_t vp_cap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len,
    uint8_t caplen)
{
	uint8_t c[20] = { PCI_CAP_VENDOR, 0, caplen, type, 0 };

	memcpy(c + 8, &off, 4);
	memcpy(c + 12, &len, 4);
	if (type == CAP_NOTIFY) {
		uint32_t mult = VP_NOTIFY_MULT;

		memcpy(c + 16, &mult, 4);
	}
	return pci_cap_add(&vp->pci, c, caplen);
}

/* vp_pci_header: the modern-only IDs: vendor 0x1af4, device 0x1040 + type, revision 1. */
static void vp_pci_header(struct virtio_pci *vp)
{
	const struct virtio_ops *ops = vp->ops;
	uint8_t *cfg = vp->pci.cfg;

	cfg[0x00] = 0xf4; cfg[0x01] = 0x1a;
	cfg[0x02] = (uint8_t)(0x1040 + ops->device_id); cfg[0x03] = (uint8_t)((0x1040 + ops->device_id) >> 8);
	cfg[0x08] = 1;
	cfg[0x09] = (uint8_t)ops->pci_class;
	cfg[0x0a] = (uint8_t)(ops->pci_class >> 8);
	cfg[0x0b] = (uint8_t)(ops->pci_class >> 16);
	cfg[0x2c] = 0xf4; cfg[0x2d] = 0x1a;		/* subsystem vendor */
	cfg[0x2e] = (uint8_t)ops->device_id;		/* subsystem ID: the device type */
}

/*
 * vp_pci_caps: BAR 0 and the virtio capabilities that map its regions
 * (common, notify, ISR, device config, the PCI config access window).
 * Returns 0 or -ENOSPC.
 */
static int vp_pci_caps(struct virtio_pci *vp)
{
	const struct virtio_ops *ops = vp->ops;

	if (pci_bar_init(&vp->pci, 0, VP_BAR_SIZE, &vp_bar_ops, vp) ||
	    !vp_cap(vp, CAP_COMMON, VP_COMMON, CC_SIZE, 16) ||
	    !vp_cap(vp, CAP_NOTIFY, VP_NOTIFY, VP_NOTIFY_MULT * ops->num_queues, 20) ||
	    !vp_cap(vp, CAP_ISR, VP_ISR, 4, 16) ||
	    (ops->config_size && !vp_cap(vp, CAP_DEVICE, VP_DEVCFG, ops->config_size, 16)) ||
	    !(vp->cfg_cap = vp_cap(vp, CAP_PCI_CFG, 0, 0, 20)))
		return -ENOSPC;
	/* The access window's BAR, offset, length and data are the driver's to write. */
	memset(vp->pci.wmask + vp->cfg_cap + 4, 0xff, 1);
	memset(vp->pci.wmask + vp->cfg_cap + 8, 0xff, 12);
	return 0;
}

int virtio_pci_create(struct vm *vm, const struct virtio_ops *ops, void *dev,
    bool packed, struct virtio_pci **out)
{
	struct virtio_pci *vp;
	int r;

	if (ops->num_queues == 0 || ops->num_queues > VIRTIO_MAX_QUEUES ||
	    ops->queue_max > VIRTQ_MAX_SIZE || ops->config_size > VP_REGION)
		return -EINVAL;
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	vp->vm = vm;
	vp->ops = ops;
	vp->dev = dev;
	vp->config_vector = VIRTIO_NO_VECTOR;
	vp->dev_features = ops->features(dev) | 1ull << VIRTIO_F_VERSION_1 |
	    1ull << VIRTQ_F_INDIRECT_DESC | 1ull << VIRTQ_F_EVENT_IDX |
	    (packed ? 1ull << VIRTQ_F_RING_PACKED : 0);
	for (unsigned q = 0; q < ops->num_queues; q++)
		vp->qcfg[q].kick.fd = -1;	/* nothing to close on the failure path yet */
	for (unsigned q = 0; q < ops->num_queues; q++) {
		struct virtio_queue_cfg *qc = &vp->qcfg[q];

		vp_queue_defaults(vp, q);
		qc->idx = q;
		qc->vp = vp;
		r = kick_init(&qc->kick, vm->loop->ev, vp_on_kick, qc);
		if (r)
			goto fail;
	}

	vp->pci.ops = &vp_pci_ops;
	vp->pci.opaque = vp;
	r = pci_add(vm, &vp->pci);
	if (r)
		goto fail;
	vp_pci_header(vp);
	r = vp_pci_caps(vp);
	if (r)
		goto fail_pci;
	r = msix_init(&vp->msix, vm, &vp->pci, ops->num_queues + 1u, 0, VP_MSIX_TABLE, VP_MSIX_PBA);
	if (r)
		goto fail_pci;
	*out = vp;
	return 0;
fail_pci:
	pci_remove(vm, &vp->pci);
fail:
	for (unsigned q = 0; q < ops->num_queues; q++)
		kick_fini(&vp->qcfg[q].kick);
	free(vp);
	return r;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	pci_remove(vp->vm, &vp->pci);
	for (unsigned q = 0; q < vp->ops->num_queues; q++)
		kick_fini(&vp->qcfg[q].kick);
	free(vp);
}
