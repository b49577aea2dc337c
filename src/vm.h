/*
 * vm.h: the virtual machine: KVM handles, guest memory, buses, vCPUs, and
 * pointers to the services the devices use (loop, console, PCI, interrupt
 * routing). One struct vm per process; everything hangs off it, nothing
 * lives at file scope.
 *
 * vm.c only creates and destroys the KVM VM and its memory. It calls no
 * device, loop or vCPU code: main wires those together (docs/ARCHITECTURE.md
 * shows the layering).
 */
#ifndef RINGVM_VM_H
#define RINGVM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "config.h"
#include "gmem.h"
#include "irq.h"
#include "log.h"
#include "arch_types.h"

struct vcpu;
struct console;
struct loop;
struct pci;
struct sandbox;

#define VM_MAX_RUNTIME_PATHS 4

struct vm {
	int kvm_fd;			/* /dev/kvm */
	int vm_fd;			/* KVM_CREATE_VM */
	int run_size;			/* KVM_GET_VCPU_MMAP_SIZE */
	unsigned max_vcpus;		/* KVM_CAP_MAX_VCPUS */
	bool msi_devid;			/* MSI routes carry the requester ID (arch_vm_setup: arm64's ITS) */
	const struct rv_config *cfg;	/* the configuration, with the device instances */
	struct gmem mem;
	struct bus pio;			/* port I/O space (x86) */
	struct bus mmio;		/* MMIO space outside RAM */
	struct vcpu *vcpu;		/* array of cfg->ncpus */
	unsigned nr_vcpus;
	struct loop *loop;		/* the event loop and the stop request (loop.c) */
	struct console *console;	/* host terminal (console.c) */
	struct arch_vm arch;		/* architecture state (memory map, boot files) */
	struct irq irq;			/* GSI routing, MSI irqfds, interrupt lines (irq.c) */
	struct pci *pci;		/* the PCI host bridge and bus 0 (pci.c) */
	struct sandbox *sandbox;	/* the seccomp filters each vCPU thread loads (sandbox.c) */
	/*
	 * File descriptors the devices may open after setup (sockets of
	 * user networking and vsock), added up by each device's create:
	 * confine.c sizes RLIMIT_NOFILE from it.
	 */
	unsigned runtime_fds;
	/*
	 * Files a device reads by path after setup (user networking: libslirp
	 * re-reads /etc/resolv.conf for the host's DNS server). The sandbox
	 * lets the loop thread open these read-only, and Landlock nothing else.
	 */
	const char *runtime_paths[VM_MAX_RUNTIME_PATHS];
	unsigned nr_runtime_paths;
};

/*
 * vm_create: open the KVM device (kvmdev_open), check the API and the
 * capabilities every architecture needs, create the VM, map guest memory
 * and register it with KVM, then let the architecture set up its
 * interrupt controllers and quirks (arch_vm_setup). Returns 0, or -errno
 * with the reason and exit status (1, or 2 for a vCPU count KVM refuses)
 * in `err`; what was acquired stays for vm_destroy.
 */
int vm_create(struct vm *vm, const struct rv_config *cfg, struct rv_err *err);

/* vm_destroy: release what vm_create acquired. Safe after a failed vm_create. */
void vm_destroy(struct vm *vm);

#endif
