/* arch_types.h (arm64): the arm64 guest memory map and per-VM boot state. */
#ifndef RINGVM_ARM64_ARCH_TYPES_H
#define RINGVM_ARM64_ARCH_TYPES_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Guest-physical memory map, in the spirit of QEMU's -M virt so that the
 * same addresses show up in a guest's logs: devices below 1 GiB, RAM from
 * 1 GiB up. Nothing is mapped below the GIC.
 */
#define ARM64_GICD_GPA		0x08000000ull	/* GIC distributor, 64 KiB */
#define ARM64_GICD_SIZE		0x00010000ull
#define ARM64_GICC_GPA		0x08010000ull	/* GICv2 CPU interface, 8 KiB */
#define ARM64_GICC_SIZE		0x00002000ull
#define ARM64_ITS_GPA		0x08080000ull	/* GICv3 ITS, 128 KiB */
#define ARM64_ITS_SIZE		0x00020000ull
#define ARM64_GICR_GPA		0x080a0000ull	/* GICv3 redistributors, 128 KiB per vCPU */
#define ARM64_GICR_STRIDE	0x00020000ull
#define ARM64_UART_GPA		0x09000000ull	/* ns16550a, byte registers */
#define ARM64_UART_SIZE		0x00001000ull
#define ARM64_PCI_MMIO_GPA	0x10000000ull	/* 32-bit PCI BAR window */
#define ARM64_PCI_MMIO_SIZE	0x20000000ull
#define ARM64_ECAM_GPA		0x30000000ull	/* PCI configuration, bus 0 only */
#define ARM64_ECAM_SIZE		0x00100000ull
#define ARM64_RAM_GPA		0x40000000ull	/* RAM: 1 GiB up */
#define ARM64_RAM_MAX		(1ull << 39)	/* within KVM's default 40-bit IPA */

/*
 * Interrupts. A GSI is an SPI number (INTID - 32): KVM's irqchip routes on
 * arm64 take the SPI number as the pin, and KVM_IRQ_LINE takes the INTID
 * with the SPI type (ARCH_IRQ_LINE). The device tree says <GIC_SPI n>.
 */
#define ARM64_GIC_SPI_BASE	32	/* INTID of SPI 0 */
#define ARM64_GIC_NR_IRQS	128	/* KVM_DEV_ARM_VGIC_GRP_NR_IRQS: 32 private + 96 SPIs */
#define ARM64_UART_SPI		1
#define ARM64_PCI_INTX_SPI	3	/* INTA#..INTD# after the swizzle: SPIs 3..6 */
#define ARM64_PCI_INTX_SPIS	4
/* The architected timer's PPIs as the DT numbers them (INTID - 16). */
#define ARM64_TIMER_PPI_SEC	13
#define ARM64_TIMER_PPI_PHYS	14
#define ARM64_TIMER_PPI_VIRT	11
#define ARM64_TIMER_PPI_HYP	10

/* What the core's arch.h asks every architecture to define. */
#define ARCH_IRQCHIP_GSIS	32	/* SPIs 0..31 as lines */
#define ARCH_IRQCHIP_ROUTES	32
#define ARCH_PCI_MMIO_GPA	ARM64_PCI_MMIO_GPA
#define ARCH_PCI_MMIO_SIZE	ARM64_PCI_MMIO_SIZE
/* KVM_IRQ_LINE's irq field for line `gsi`: type SPI (1) in bits 24+, the INTID below. */
#define ARCH_IRQ_LINE(gsi)	((1u << 24) | (ARM64_GIC_SPI_BASE + (gsi)))
/* No platform devices of its own: PSCI (in KVM) powers off, resets and reports panics. */
#define ARCH_DEVICES(X)
/* The console UART: an ns16550a on MMIO (devices/serial.c). */
#define ARCH_UART_PIO		0
#define ARCH_UART_BASE		ARM64_UART_GPA
#define ARCH_UART_IRQ		ARM64_UART_SPI
/*
 * A KVM reset event that reports a panic (src/vcpu.c): PSCI SYSTEM_RESET2,
 * the warm reset Linux makes on panic with reboot=panic_warm (boot.c).
 */
#define ARCH_RESET_IS_PANIC(run)	(((run)->system_event.flags & \
					    KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2) != 0)

/* The sandbox (src/sandbox*.c): argument `i` (0-2) of a trapped call, and per-architecture names. */
#define ARCH_SYSCALL_ARG(uc, i)	((unsigned long)(uc)->uc_mcontext.regs[(i)])
#define ARCH_SYS_POLL		"ppoll"		/* arm64 has no poll(2): glibc's poll is ppoll */
#define ARCH_SYS_READLINK	"readlinkat"

/* The Image header and where the kernel, DTB and initrd go (boot.c). */
#define ARM64_FDT_MAX		0x200000ull	/* the device tree: at most 2 MiB */

/* The kernel and initrd as checked by arch_boot_check, loaded by arch_boot_load. */
struct arch_vm {
	int kernel_fd;
	uint64_t kernel_size;		/* file size */
	uint64_t text_offset;		/* from the Image header */
	uint64_t image_size;		/* bytes the kernel needs, bss included */
	uint64_t kernel_gpa;		/* RAM base + 2 MiB aligned + text_offset */
	int initrd_fd;			/* -1 when none */
	uint64_t initrd_file_size;
	uint64_t initrd_size;		/* the file, padding, ringvm's own archive */
	uint64_t initrd_gpa;
	uint64_t fdt_gpa;
	char *cmdline;			/* final command line (malloc) */
	unsigned gic_version;		/* 3, or 2 where KVM has no GICv3 */
	bool its;			/* GICv3 ITS created: MSIs carry the device ID */
	int gic_fd, its_fd;		/* KVM devices until the vGIC is initialised, then -1 */
};

#endif
