/*
 * cpu.c (arm64): each vCPU's creation-time state. Every vCPU is a generic
 * ARMv8 CPU of KVM's preferred target with PSCI 0.2+ and, where the host
 * has it, pointer authentication (no SVE, no PMU): vCPU 0 starts at the
 * kernel's entry, the others start powered off and wait for the guest's
 * PSCI CPU_ON, which KVM handles itself. PSCI SYSTEM_OFF and SYSTEM_RESET
 * come back as KVM_EXIT_SYSTEM_EVENT (src/vcpu.c).
 * Reference: Documentation/arch/arm64/booting.rst ("Call the kernel image").
 *
 * Exported: arch_vcpu_setup (arch.h).
 */
#include <errno.h>
#include <stddef.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "arch.h"
#include "log.h"
#include "machine.h"
#include "vcpu.h"
#include "vm.h"

/* PSTATE at entry: EL1 with SP_EL1 (EL1h), debug, SError, IRQ and FIQ masked. */
#define CPU_PSTATE_EL1H 0x5u
#define CPU_PSTATE_DAIF (0xfu << 6)

/* cpu_core_reg: the KVM register ID of a struct kvm_regs field at byte `off`. */
static uint64_t cpu_core_reg(size_t off)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (off / sizeof(uint32_t));
}

static int cpu_set_reg(struct vcpu *v, size_t off, uint64_t val)
{
	struct kvm_one_reg r = { .id = cpu_core_reg(off), .addr = (uint64_t)(uintptr_t)&val };

	return ioctl(v->fd, KVM_SET_ONE_REG, &r) < 0 ? -errno : 0;
}

/* cpu_set_boot_regs: booting.rst's entry state: x0 the DTB, x1-x3 zero, MMU off. */
static int cpu_set_boot_regs(struct vm *vm, struct vcpu *v, struct rv_err *err)
{
	const struct arch_vm *a = &vm->arch;
	int r;

	if ((r = cpu_set_reg(v, offsetof(struct kvm_regs, regs.pstate),
	    CPU_PSTATE_EL1H | CPU_PSTATE_DAIF)) ||
	    (r = cpu_set_reg(v, offsetof(struct kvm_regs, regs.regs[0]), a->fdt_gpa)) ||
	    (r = cpu_set_reg(v, offsetof(struct kvm_regs, regs.regs[1]), 0)) ||
	    (r = cpu_set_reg(v, offsetof(struct kvm_regs, regs.regs[2]), 0)) ||
	    (r = cpu_set_reg(v, offsetof(struct kvm_regs, regs.regs[3]), 0)) ||
	    (r = cpu_set_reg(v, offsetof(struct kvm_regs, regs.pc), a->kernel_gpa)))
		return rv_fail(err, RV_EXIT_FAILURE, -r, "KVM: ioctl (SET_ONE_REG) failed for "
		    "vCPU 0's entry registers");
	return 0;
}

int arch_vcpu_setup(struct vm *vm, struct vcpu *v, struct rv_err *err)
{
	struct kvm_vcpu_init init;

	if (ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (ARM_PREFERRED_TARGET) failed");
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	/*
	 * Pointer authentication, where the host has it: the guest kernel
	 * signs its return addresses (Debian's does), as on the bare CPU.
	 * KVM wants both halves or neither.
	 */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_PTRAUTH_ADDRESS) > 0 &&
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_PTRAUTH_GENERIC) > 0)
		init.features[0] |= 1u << KVM_ARM_VCPU_PTRAUTH_ADDRESS |
		    1u << KVM_ARM_VCPU_PTRAUTH_GENERIC;
	/* Secondaries wait, off, for PSCI CPU_ON from the guest. */
	if (v->idx)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (ARM_VCPU_INIT) failed for "
		    "vCPU %u", v->idx);
	if (v->idx == 0) {
		int r = cpu_set_boot_regs(vm, v, err);

		if (r)
			return r;
	}
	/* KVM initialises the vGIC only once every vCPU exists: now. */
	return v->idx + 1 == vm->nr_vcpus ? machine_gic_finish(vm, err) : 0;
}
