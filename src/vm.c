/*
 * vm.c: the KVM virtual machine: the KVM and VM handles, the API and
 * capability checks every architecture needs, and guest memory (mapped
 * here, registered with KVM as one slot per region).
 *
 * Exported: vm_create, vm_destroy (contracts in vm.h). Calls down only:
 * kvmdev, gmem and the architecture's arch_mem_layout and arch_vm_setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "arch.h"
#include "kvmdev.h"
#include "log.h"
#include "vm.h"

/* vm_need_cap: fail unless KVM offers `cap`, naming it. */
static int vm_need_cap(struct vm *vm, int cap, const char *name, struct rv_err *err)
{
	/* Every capability ringvm needs is in Linux 2.6.32 (2009) and later. */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap) <= 0)
		return rv_fail(err, RV_EXIT_FAILURE, 0, "KVM: capability %s is missing (every Linux "
		    "since 2.6.32 has it: this KVM is incomplete or emulated)", name);
	return 0;
}

/* vm_open: the KVM device, its API version, the generic capabilities and the vCPU limit. */
static int vm_open(struct vm *vm, const struct rv_config *cfg, struct rv_err *err)
{
	int r;

	vm->kvm_fd = kvmdev_open(err);
	if (vm->kvm_fd < 0)
		return vm->kvm_fd;
	r = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (r < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "%s is not a KVM device: ioctl "
		    "(GET_API_VERSION) failed", kvmdev_path());
	if (r != KVM_API_VERSION)
		return rv_fail(err, RV_EXIT_FAILURE, 0, "KVM: API version %d, ringvm needs %d (every "
		    "Linux since 2.6.22 has it)", r, KVM_API_VERSION);
	if ((r = vm_need_cap(vm, KVM_CAP_USER_MEMORY, "USER_MEMORY", err)) ||
	    (r = vm_need_cap(vm, KVM_CAP_IRQCHIP, "IRQCHIP", err)) ||
	    (r = vm_need_cap(vm, KVM_CAP_IOEVENTFD, "IOEVENTFD", err)) ||
	    (r = vm_need_cap(vm, KVM_CAP_IRQFD, "IRQFD", err)))
		return r;

	r = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (r <= 0)
		r = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	vm->max_vcpus = r > 0 ? (unsigned)r : 1;
	if (cfg->ncpus > vm->max_vcpus)
		return rv_fail(err, RV_EXIT_USAGE, 0, "cpu count %u is above what KVM allows (%u)",
		    cfg->ncpus, vm->max_vcpus);
	vm->nr_vcpus = cfg->ncpus;
	r = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r <= 0)
		return rv_fail(err, RV_EXIT_FAILURE, r < 0 ? errno : 0,
		    "KVM: ioctl (GET_VCPU_MMAP_SIZE) failed");
	vm->run_size = r;
	return 0;
}

/* vm_map_memory: map guest RAM around the architecture's holes and give KVM each region. */
static int vm_map_memory(struct vm *vm, const struct rv_config *cfg, struct rv_err *err)
{
	uint64_t base[GMEM_MAX_REGIONS], limit[GMEM_MAX_REGIONS];
	unsigned nr = arch_mem_layout(cfg->mem_size, base, limit);
	int r = gmem_init(&vm->mem, cfg->mem_size, base, limit, nr);

	if (r)
		return rv_fail(err, RV_EXIT_FAILURE, -r, "cannot map %" PRIu64
		    " bytes of guest memory", cfg->mem_size);
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct gmem_region *g = &vm->mem.region[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = g->gpa,
			.memory_size = g->len,
			.userspace_addr = (uintptr_t)g->hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return rv_fail(err, RV_EXIT_FAILURE, errno,
			    "KVM: ioctl (SET_USER_MEMORY_REGION) failed for slot %u", i);
	}
	return 0;
}

int vm_create(struct vm *vm, const struct rv_config *cfg, struct rv_err *err)
{
	int r;

	vm->cfg = cfg;
	r = vm_open(vm, cfg, err);
	if (r)
		return r;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (CREATE_VM) failed");
	r = vm_map_memory(vm, cfg, err);
	if (r)
		return r;
	return arch_vm_setup(vm, err);
}

void vm_destroy(struct vm *vm)
{
	gmem_fini(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}
