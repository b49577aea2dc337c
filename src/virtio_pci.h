/*
 * virtio_pci.h: the virtio 1.x PCI transport (modern only, no legacy
 * interface) that every virtio device in devices/ sits on.
 *
 * A device fills one const struct virtio_ops and calls virtio_pci_create().
 * The transport owns the PCI function, the capabilities, the common
 * configuration and its state machine, the virtqueues, MSI-X (with INTx as
 * fallback) and the queue notifications, which arrive on ioeventfds watched
 * by the loop.
 */
#ifndef RINGVM_VIRTIO_PCI_H
#define RINGVM_VIRTIO_PCI_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "kick.h"
#include "log.h"
#include "msix.h"
#include "pci.h"
#include "virtq.h"

struct vm;

#define VIRTIO_MAX_QUEUES 8
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_NO_VECTOR MSIX_NO_VECTOR

/* What a device tells the transport. */
struct virtio_ops {
	const char *name;
	uint16_t device_id;		/* virtio device type (2 = block, 1 = network) */
	uint32_t pci_class;		/* PCI class code, e.g. 0x010000 */
	uint16_t num_queues;
	uint16_t queue_max;		/* <= VIRTQ_MAX_SIZE */
	uint32_t config_size;		/* bytes of device configuration */
	/* features: device-specific feature bits offered (bits 0-23 and others). */
	uint64_t (*features)(void *dev);
	/* features_ok: accept the driver's choice (already a subset)? 0 or -EINVAL. */
	int (*features_ok)(void *dev, uint64_t features);
	/* config_read/config_write: [off, off+len) is checked to lie in config_size. */
	void (*config_read)(void *dev, uint32_t off, uint8_t *buf, uint32_t len);
	void (*config_write)(void *dev, uint32_t off, const uint8_t *buf, uint32_t len);
	/* start: DRIVER_OK; process what the queues already hold. */
	void (*start)(void *dev);
	/* queue_notify: the driver kicked queue `q` (running, enabled). */
	void (*queue_notify)(void *dev, unsigned q);
	/*
	 * reset: stop all work. Return true when nothing is in flight; else
	 * call virtio_pci_reset_done() once the last operation has ended, and
	 * never touch guest memory for the old requests in between.
	 */
	bool (*reset)(void *dev);
};

struct virtio_queue_cfg {
	uint16_t size;
	uint16_t vector;
	bool enabled;
	uint64_t desc, driver, device;
	struct kick kick;		/* the ioeventfd and its watcher */
	uint16_t kick_seen;		/* ring state at the last kick (virtq_kick_news) */
	unsigned idx;
	struct virtio_pci *vp;
};

struct virtio_pci {
	struct vm *vm;
	const struct virtio_ops *ops;
	void *dev;
	struct pci_dev pci;
	struct msix msix;
	uint64_t dev_features;		/* offered */
	uint64_t drv_features;		/* accepted by the driver, a subset */
	uint32_t dfsel, gfsel;
	uint8_t status;
	uint8_t cfg_gen;
	uint8_t isr;
	uint16_t qsel;
	uint16_t config_vector;
	bool resetting;			/* status 0 written, I/O still draining */
	uint64_t bar_gpa;		/* BAR 0, 0 when not mapped */
	uint8_t cfg_cap;		/* offset of the PCI-configuration-access capability */
	struct virtio_queue_cfg qcfg[VIRTIO_MAX_QUEUES];
	struct virtq vq[VIRTIO_MAX_QUEUES];
	struct log_once fault;		/* NEEDS_RESET reasons: one line per episode */
	unsigned long faults;
};

/*
 * virtio_pci_create: a virtio PCI function for `dev` on bus 0. `packed`
 * says whether VIRTIO_F_RING_PACKED is offered. Returns 0 or -errno;
 * *out is the transport.
 */
int virtio_pci_create(struct vm *vm, const struct virtio_ops *ops, void *dev,
    bool packed, struct virtio_pci **out);

/* virtio_pci_destroy: unplug and free. */
void virtio_pci_destroy(struct virtio_pci *vp);

/* virtio_pci_running: DRIVER_OK, not failed, not resetting. */
bool virtio_pci_running(const struct virtio_pci *vp);

/*
 * virtio_pci_queue: queue `q` if it exists and is enabled and the device
 * runs; NULL otherwise.
 */
struct virtq *virtio_pci_queue(struct virtio_pci *vp, unsigned q);

/* virtio_pci_interrupt: interrupt the driver for queue `q` if it asked for it. */
void virtio_pci_interrupt(struct virtio_pci *vp, unsigned q);

/*
 * virtio_pci_fail: the driver broke the protocol: set DEVICE_NEEDS_RESET,
 * halt every queue (nothing more is popped or published) until the driver
 * resets, send a configuration interrupt if DRIVER_OK, and log one line
 * per fault episode (HOSTILE.md "RESET"; rate-limited, see log_guest).
 */
void virtio_pci_fail(struct virtio_pci *vp, const char *why);

/* virtio_pci_reset_done: the device drained after reset; status reads 0 from now. */
void virtio_pci_reset_done(struct virtio_pci *vp);

/* virtio_pci_config_changed: new configuration generation and a config interrupt. */
void virtio_pci_config_changed(struct virtio_pci *vp);

#endif
