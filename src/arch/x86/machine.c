/*
 * machine.c (x86): the machine around the vCPUs: where RAM goes, the VM
 * quirks KVM needs on x86, the in-kernel interrupt controllers (PIC, I/O
 * APIC, LAPICs) and PIT, how their pins are routed, and which pin each PCI
 * slot's INTA# reaches.
 *
 * Exported: arch_mem_layout, arch_vm_setup, arch_irq_routes,
 * arch_pci_intx_gsi (arch.h). Calls nothing in the core but log.
 */
#include <errno.h>
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

int arch_vm_setup(struct vm *vm, struct rv_err *err)
{
	struct kvm_pit_config pit;
	uint64_t ident = X86_IDENT_MAP_GPA;

	/* x86's own capabilities; in every Linux since 2.6.32 like the generic ones. */
	static const struct { int cap; const char *name; } caps[] = {
		{ KVM_CAP_PIT2, "PIT2" }, { KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR" },
	};

	for (unsigned i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0)
			return rv_fail(err, RV_EXIT_FAILURE, 0, "KVM: capability %s is missing (every "
			    "Linux since 2.6.32 has it: this KVM is incomplete or emulated)",
			    caps[i].name);
	/* Intel VMX needs these private pages for real-mode emulation; harmless on AMD. */
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno,
		    "KVM: ioctl (SET_IDENTITY_MAP_ADDR) failed");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)X86_TSS_GPA) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (SET_TSS_ADDR) failed");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (CREATE_IRQCHIP) failed");
	memset(&pit, 0, sizeof(pit));
	pit.flags = KVM_PIT_SPEAKER_DUMMY;
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (CREATE_PIT2) failed");
	return 0;
}

unsigned arch_irq_routes(struct kvm_irq_routing_entry *e, unsigned max)
{
	unsigned n = 0;

	/* KVM's own default: GSI n is I/O APIC pin n, and PIC pin n for the ISA 16. */
	for (unsigned gsi = 0; gsi < ARCH_IRQCHIP_GSIS && n < max; gsi++) {
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi },
		};
		if (gsi < 16 && n < max)
			e[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = {
					.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
					.pin = gsi % 8,
				},
			};
	}
	return n;
}

unsigned arch_pci_intx_gsi(unsigned slot)
{
	/* Pin A of slot s to GSI 16 + s % 8: the I/O APIC pins above the ISA 16. */
	return X86_PCI_INTX_GSI_BASE + slot % X86_PCI_INTX_GSIS;
}
