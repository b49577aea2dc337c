/* vm.c: the KVM virtual machine: handles, guest memory slots, interrupt lines, stop requests. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "arch.h"
#include "device.h"
#include "kvmdev.h"
#include "log.h"
#include "loop.h"
#include "vm.h"

/* vm_need_cap: die unless KVM offers `cap`, naming it. */
static void vm_need_cap(struct vm *vm, int cap, const char *name)
{
	/* Every capability ringvm needs is in Linux 2.6.32 (2009) and later. */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap) <= 0)
		diex(RV_EXIT_FAILURE, "KVM: capability %s is missing (every Linux since 2.6.32 "
		    "has it: this KVM is incomplete or emulated)", name);
}

void vm_create(struct vm *vm, const struct rv_config *cfg)
{
	uint64_t base[GMEM_MAX_REGIONS], limit[GMEM_MAX_REGIONS];
	unsigned nr;
	int r;

	vm->cfg = cfg;
	vm->kvm_fd = kvmdev_open();
	r = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (r < 0)
		die(RV_EXIT_FAILURE, "%s is not a KVM device: ioctl (GET_API_VERSION) failed",
		    kvmdev_path());
	if (r != KVM_API_VERSION)
		diex(RV_EXIT_FAILURE, "KVM: API version %d, ringvm needs %d (every Linux since "
		    "2.6.22 has it)", r, KVM_API_VERSION);
	vm_need_cap(vm, KVM_CAP_USER_MEMORY, "USER_MEMORY");
	vm_need_cap(vm, KVM_CAP_IRQCHIP, "IRQCHIP");
	vm_need_cap(vm, KVM_CAP_PIT2, "PIT2");
	vm_need_cap(vm, KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR");
	vm_need_cap(vm, KVM_CAP_IOEVENTFD, "IOEVENTFD");
	vm_need_cap(vm, KVM_CAP_IRQFD, "IRQFD");

	r = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (r <= 0)
		r = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	vm->max_vcpus = r > 0 ? (unsigned)r : 1;
	if (cfg->ncpus > vm->max_vcpus)
		diex(RV_EXIT_USAGE, "cpu count %u is above what KVM allows (%u)", cfg->ncpus,
		    vm->max_vcpus);
	vm->nr_vcpus = cfg->ncpus;

	r = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r <= 0)
		die(RV_EXIT_FAILURE, "KVM: ioctl (GET_VCPU_MMAP_SIZE) failed");
	vm->run_size = r;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		die(RV_EXIT_FAILURE, "KVM: ioctl (CREATE_VM) failed");

	nr = arch_mem_layout(cfg->mem_size, base, limit);
	r = gmem_init(&vm->mem, cfg->mem_size, base, limit, nr);
	if (r) {
		errno = -r;
		die(RV_EXIT_FAILURE, "cannot map %" PRIu64 " bytes of guest memory", cfg->mem_size);
	}
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct gmem_region *g = &vm->mem.region[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = g->gpa,
			.memory_size = g->len,
			.userspace_addr = (uintptr_t)g->hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			die(RV_EXIT_FAILURE, "KVM: ioctl (SET_USER_MEMORY_REGION) failed for slot %u", i);
	}
	arch_vm_setup(vm);
	irq_init(vm);
}

void vm_destroy(struct vm *vm)
{
	devices_teardown(vm);
	irq_fini(vm);
	gmem_fini(&vm->mem);
	if (vm->vm_fd > 0)
		close(vm->vm_fd);
	if (vm->kvm_fd > 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}

int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level ? 1 : 0 };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}

void vm_request_stop(struct vm *vm, int status)
{
	if (vm->stopping)
		return;
	vm->stopping = true;
	vm->exit_status = status;
	loop_break(vm->loop);
}

int vm_add_dev(struct vm *vm, const struct device_ops *ops, void *state)
{
	if (vm->nr_devs == VM_MAX_DEVS)
		return -ENOSPC;
	vm->dev[vm->nr_devs++] = (struct vm_dev){ .ops = ops, .state = state };
	return 0;
}
