/*
 * machine.c (x86): the machine around the vCPUs: where RAM goes, and the
 * in-kernel interrupt controllers (PIC, IOAPIC, LAPICs) and PIT.
 */
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "arch.h"
#include "log.h"
#include "vm.h"

unsigned arch_mem_layout(uint64_t ram_size, uint64_t *base, uint64_t *limit)
{
	(void)ram_size;
	base[0] = 0;
	limit[0] = X86_MMIO_HOLE_GPA;
	base[1] = X86_HIGH_RAM_GPA;
	limit[1] = UINT64_MAX - X86_HIGH_RAM_GPA;
	return 2;
}

void arch_vm_setup(struct vm *vm)
{
	struct kvm_pit_config pit;
	uint64_t ident = X86_IDENT_MAP_GPA;

	/* Intel VMX needs these private pages for real-mode emulation; harmless on AMD. */
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)
		die(RV_EXIT_FAILURE, "KVM: ioctl (SET_IDENTITY_MAP_ADDR) failed");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)X86_TSS_GPA) < 0)
		die(RV_EXIT_FAILURE, "KVM: ioctl (SET_TSS_ADDR) failed");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		die(RV_EXIT_FAILURE, "KVM: ioctl (CREATE_IRQCHIP) failed");
	memset(&pit, 0, sizeof(pit));
	pit.flags = KVM_PIT_SPEAKER_DUMMY;
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		die(RV_EXIT_FAILURE, "KVM: ioctl (CREATE_PIT2) failed");
}
