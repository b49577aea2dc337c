/*
 * vm.h: the virtual machine: KVM handles, guest memory, buses, vCPUs, the
 * loop, and the exit status. One struct vm per process; everything hangs
 * off it, nothing lives at file scope.
 */
#ifndef RINGVM_VM_H
#define RINGVM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "config.h"
#include "gmem.h"
#include "irq.h"
#include "arch_types.h"

struct ev_loop;
struct vcpu;
struct console;
struct loop;
struct pci;

/* A device instance, in setup order; torn down in reverse order at exit. */
struct vm_dev {
	const struct device_ops *ops;
	void *state;
};

#define VM_MAX_DEVS 32

struct vm {
	int kvm_fd;			/* /dev/kvm */
	int vm_fd;			/* KVM_CREATE_VM */
	int run_size;			/* KVM_GET_VCPU_MMAP_SIZE */
	unsigned max_vcpus;		/* KVM_CAP_MAX_VCPUS */
	const struct rv_config *cfg;
	struct gmem mem;
	struct bus pio;			/* port I/O space (x86) */
	struct bus mmio;		/* MMIO space outside RAM */
	struct vcpu *vcpu;		/* array of cfg->ncpus */
	unsigned nr_vcpus;
	struct loop *loop;		/* the event loop (loop.c) */
	struct console *console;	/* host terminal (console.c) */
	struct vm_dev dev[VM_MAX_DEVS];	/* device instances, in setup order */
	unsigned nr_devs;
	struct arch_vm arch;		/* architecture state (memory map, ACPI) */
	struct irq irq;			/* GSI routing, MSI irqfds, shared lines */
	struct pci *pci;		/* the PCI host bridge and bus 0 (pci.c) */
	int exit_status;		/* the first stop request wins */
	bool stopping;
};

/*
 * vm_create: open the KVM device (kvmdev_open), check the API, create the VM, map guest memory
 * and register it with KVM, create the architecture's interrupt controllers.
 * Dies (status 1, or 2 for a vCPU count KVM refuses) on any failure: this is
 * setup.
 */
void vm_create(struct vm *vm, const struct rv_config *cfg);

/* vm_destroy: release what vm_create and the devices acquired. */
void vm_destroy(struct vm *vm);

/*
 * vm_irq_line: drive interrupt line `gsi` to `level` (0 or 1) through
 * KVM_IRQ_LINE. Returns 0 or -errno.
 */
int vm_irq_line(struct vm *vm, unsigned gsi, int level);

/*
 * vm_request_stop: ask the loop to stop the VM with exit `status`. The first
 * request fixes the status; later ones are ignored. Loop thread only.
 */
void vm_request_stop(struct vm *vm, int status);

/*
 * vm_add_dev: record a device instance for the firmware tables and for
 * teardown. Returns 0 or -ENOSPC beyond VM_MAX_DEVS.
 */
int vm_add_dev(struct vm *vm, const struct device_ops *ops, void *state);

#endif
