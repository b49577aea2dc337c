/*
 * machine.c (arm64): the machine around the vCPUs: where RAM goes, the
 * in-kernel GIC (GICv3 with an ITS for MSIs; GICv2 where KVM has no
 * GICv3), the lines the platform and PCI INTx use, and the routes from
 * GSIs to SPIs. The architected timer needs nothing here: KVM emulates it
 * and wires it to its PPIs once the GIC exists.
 *
 * KVM's vGIC has two steps: the device and its addresses before the vCPUs
 * (arch_vm_setup), then its initialisation once every vCPU exists
 * (machine_gic_finish, called by cpu.c after the last vCPU's setup), which
 * must come before any irqfd or route.
 *
 * Exported: arch_mem_layout, arch_vm_setup, arch_irq_routes,
 * arch_pci_intx_gsi (arch.h), machine_gic_finish (machine.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "arch.h"
#include "log.h"
#include "machine.h"
#include "vm.h"

unsigned arch_mem_layout(uint64_t ram_size, uint64_t *base, uint64_t *limit)
{
	(void)ram_size;
	/* One region: RAM from 1 GiB up, nothing above it to avoid. */
	base[0] = ARM64_RAM_GPA;
	limit[0] = ARM64_RAM_MAX;
	return 1;
}

/* machine_dev_attr: KVM_SET_DEVICE_ATTR on device `fd`. Returns 0 or -errno. */
static int machine_dev_attr(int fd, uint32_t group, uint64_t attr, const void *val)
{
	struct kvm_device_attr a = {
		.group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)val,
	};

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

/* machine_create_device: KVM_CREATE_DEVICE of `type`; the fd, or -errno. */
static int machine_create_device(struct vm *vm, uint32_t type)
{
	struct kvm_create_device cd = { .type = type };

	return ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd) < 0 ? -errno : (int)cd.fd;
}

/*
 * machine_gic_v3: a GICv3 distributor and redistributors; an ITS when KVM
 * has one. Returns 0, 1 when this KVM cannot make a GICv3, or -errno.
 */
static int machine_gic_v3(struct vm *vm, struct rv_err *err)
{
	struct arch_vm *a = &vm->arch;
	const uint64_t dist = ARM64_GICD_GPA, redist = ARM64_GICR_GPA, its = ARM64_ITS_GPA;
	int fd = machine_create_device(vm, KVM_DEV_TYPE_ARM_VGIC_V3), r;

	if (fd < 0)
		return 1;
	a->gic_fd = fd;
	a->gic_version = 3;
	if ((r = machine_dev_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST,
	    &dist)) || (r = machine_dev_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
	    KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist)))
		return rv_fail(err, RV_EXIT_FAILURE, -r, "KVM: cannot place the GICv3");
	/*
	 * The ITS turns PCI MSI writes into LPIs. Without one (an older KVM),
	 * virtio-pci falls back to INTx: slower, still correct.
	 */
	fd = machine_create_device(vm, KVM_DEV_TYPE_ARM_VGIC_ITS);
	if (fd < 0)
		return 0;
	r = machine_dev_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, &its);
	if (r) {
		close(fd);
		return rv_fail(err, RV_EXIT_FAILURE, -r, "KVM: cannot place the GIC ITS");
	}
	a->its_fd = fd;
	a->its = true;
	/* KVM's ITS translates by sender: every MSI route must name its requester ID. */
	vm->msi_devid = true;
	return 0;
}

/* machine_gic_v2: a GICv2 distributor and CPU interface (at most 8 vCPUs). */
static int machine_gic_v2(struct vm *vm, struct rv_err *err)
{
	struct arch_vm *a = &vm->arch;
	const uint64_t dist = ARM64_GICD_GPA, cpu = ARM64_GICC_GPA;
	int fd, r;

	if (vm->nr_vcpus > 8)
		return rv_fail(err, RV_EXIT_USAGE, 0, "this KVM has only a GICv2, which serves "
		    "at most 8 vCPUs (-c %u)", vm->nr_vcpus);
	fd = machine_create_device(vm, KVM_DEV_TYPE_ARM_VGIC_V2);
	if (fd < 0)
		return rv_fail(err, RV_EXIT_FAILURE, -fd, "KVM: cannot create a GICv3 or a GICv2");
	a->gic_fd = fd;
	a->gic_version = 2;
	if ((r = machine_dev_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_DIST,
	    &dist)) || (r = machine_dev_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
	    KVM_VGIC_V2_ADDR_TYPE_CPU, &cpu)))
		return rv_fail(err, RV_EXIT_FAILURE, -r, "KVM: cannot place the GICv2");
	return 0;
}

int arch_vm_setup(struct vm *vm, struct rv_err *err)
{
	struct arch_vm *a = &vm->arch;
	const uint32_t nr_irqs = ARM64_GIC_NR_IRQS;
	int r;

	a->gic_fd = a->its_fd = -1;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_PSCI_0_2) <= 0)
		return rv_fail(err, RV_EXIT_FAILURE, 0, "KVM: capability ARM_PSCI_0_2 is missing "
		    "(ringvm brings vCPUs up and down through PSCI)");
	r = machine_gic_v3(vm, err);
	if (r == 1)	/* no GICv3 in this KVM (a GICv2 host): the GICv2 */
		r = machine_gic_v2(vm, err);
	if (r)
		return r;
	r = machine_dev_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
	if (r)
		return rv_fail(err, RV_EXIT_FAILURE, -r, "KVM: cannot size the GIC to %u lines",
		    nr_irqs);
	return 0;
}

int machine_gic_finish(struct vm *vm, struct rv_err *err)
{
	struct arch_vm *a = &vm->arch;
	int r = machine_dev_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT,
	    NULL);

	if (!r && a->its_fd >= 0)
		r = machine_dev_attr(a->its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
		    KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (r)
		return rv_fail(err, RV_EXIT_FAILURE, -r, "KVM: cannot initialise the GICv%u%s",
		    a->gic_version, a->its_fd >= 0 ? " and its ITS" : "");
	/*
	 * Nothing more is asked of the devices: their fds go now. The vGIC
	 * and ITS live as long as the VM, whose own fd holds them (KVM
	 * destroys them with the VM, not on this close).
	 */
	close(a->gic_fd);
	if (a->its_fd >= 0)
		close(a->its_fd);
	a->gic_fd = a->its_fd = -1;
	return 0;
}

unsigned arch_irq_routes(struct kvm_irq_routing_entry *e, unsigned max)
{
	unsigned n = 0;

	/* GSI n is SPI n: KVM adds the 32 private interrupts to the pin itself. */
	for (unsigned gsi = 0; gsi < ARCH_IRQCHIP_GSIS && n < max; gsi++)
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = 0, .pin = gsi },
		};
	return n;
}

unsigned arch_pci_intx_gsi(unsigned slot)
{
	/* INTA# of slot s: SPI 3 + s % 4, the swizzle the device tree's interrupt-map states. */
	return ARM64_PCI_INTX_SPI + slot % ARM64_PCI_INTX_SPIS;
}
