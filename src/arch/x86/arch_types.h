/* arch_types.h (x86): the x86-64 guest memory map and per-VM boot state. */
#ifndef RINGVM_X86_ARCH_TYPES_H
#define RINGVM_X86_ARCH_TYPES_H

#include <stdint.h>

/*
 * Guest-physical memory map. Low RAM runs from 0 to at most 3 GiB; the hole
 * from 3 GiB to 4 GiB holds PCI and the interrupt controllers; RAM beyond
 * 3 GiB continues at 4 GiB. Addresses below 1 MiB follow the PC layout the
 * Linux boot protocol expects.
 */
#define X86_GDT_GPA		0x500ull	/* boot GDT */
#define X86_BOOT_STACK_GPA	0x8ff0ull	/* initial %rsp, inside page 0x8000 */
#define X86_PVH_INFO_GPA	0x6000ull	/* PVH: hvm_start_info, module list, memory map */
#define X86_ZERO_PAGE_GPA	0x7000ull	/* struct boot_params */
#define X86_PML4_GPA		0x9000ull	/* boot page tables: PML4, PDPT, 4 PDs */
#define X86_PDPT_GPA		0xa000ull
#define X86_PD_GPA		0xb000ull
#define X86_CMDLINE_GPA		0x20000ull	/* kernel command line */
#define X86_CMDLINE_MAX		0x10000ull	/* room reserved for it */
#define X86_EBDA_GPA		0x9fc00ull	/* start of the reserved area below 1 MiB */
#define X86_ACPI_GPA		0xe0000ull	/* RSDP and ACPI tables, up to the reset vector */
#define X86_ACPI_END		0xffff0ull
#define X86_RESET_VECTOR_GPA	0xffff0ull	/* F000:FFF0, where a BIOS reboot jumps */
#define X86_HIMEM_GPA		0x100000ull	/* 1 MiB */
#define X86_MMIO_HOLE_GPA	0xc0000000ull	/* 3 GiB: end of low RAM */
#define X86_PCI_MMIO_GPA	0xc0000000ull	/* 32-bit PCI BAR window */
#define X86_PCI_MMIO_SIZE	0x20000000ull
#define X86_ECAM_GPA		0xe0000000ull	/* PCI configuration (MMCONFIG) */
#define X86_ECAM_SIZE		0x10000000ull
#define X86_IOAPIC_GPA		0xfec00000ull
#define X86_IDENT_MAP_GPA	0xfeffc000ull	/* KVM_SET_IDENTITY_MAP_ADDR: 1 page */
#define X86_TSS_GPA		0xfeffd000ull	/* KVM_SET_TSS_ADDR: 3 pages */
#define X86_LAPIC_GPA		0xfee00000ull
#define X86_HIGH_RAM_GPA	0x100000000ull	/* 4 GiB */

/* What the core's arch.h asks every architecture to define. */
#define ARCH_IRQCHIP_GSIS	24	/* GSIs 0..23: the I/O APIC pins */
#define ARCH_IRQCHIP_ROUTES	(24 + 16)	/* I/O APIC pins, plus the PIC's for the ISA 16 */
#define ARCH_PCI_MMIO_GPA	X86_PCI_MMIO_GPA
#define ARCH_PCI_MMIO_SIZE	X86_PCI_MMIO_SIZE
/* KVM_IRQ_LINE's irq field for line `gsi`: on x86 the GSI itself. */
#define ARCH_IRQ_LINE(gsi)	(gsi)
/* Platform devices of this architecture, X(ops) each, in the device table after the UART. */
#define ARCH_DEVICES(X)		X(pm_ops) X(pvpanic_ops)
/* The console UART: COM1 (devices/serial.c). */
#define ARCH_UART_PIO		1
#define ARCH_UART_BASE		X86_COM1_PORT
#define ARCH_UART_IRQ		X86_COM1_IRQ

/* PCI INTx wiring: pin A of slot s goes to GSI 16 + s % 8 (x86/pci_conf1.c, the DSDT's _PRT). */
#define X86_PCI_INTX_GSI_BASE	16
#define X86_PCI_INTX_GSIS	8
#define X86_CONF1_PORT		0xcf8	/* conf1 address and data ports, 8 bytes */

/* Port I/O of the platform devices, as the ACPI tables announce them. */
#define X86_COM1_PORT		0x3f8	/* 8250 UART, IRQ 4 */
#define X86_COM1_IRQ		4
#define X86_PVPANIC_PORT	0x505	/* QEMU's pvpanic port; ACPI HID QEMU0001 */
#define X86_PM_PORT		0x600	/* ringvm PM block: sleep control, status, reset */
#define X86_PM_LEN		4
#define X86_PM_SLEEP_CTL	(X86_PM_PORT + 0)
#define X86_PM_SLEEP_STS	(X86_PM_PORT + 1)
#define X86_PM_RESET		(X86_PM_PORT + 2)
#define X86_PM_RESET_VALUE	0x01
#define X86_KBD_STATUS_PORT	0x64	/* i8042 command port: 0xfe pulses CPU reset */

/* A KVM reset event that reports a panic (src/vcpu.c): none on x86 (pvpanic does). */
#define ARCH_RESET_IS_PANIC(run)	0

/* The sandbox (src/sandbox*.c): argument `i` (0-2) of a trapped call, and per-architecture names. */
#define ARCH_SYSCALL_ARG(uc, i)	((unsigned long)(uc)->uc_mcontext.gregs[(i) == 0 ? REG_RDI : \
				    (i) == 1 ? REG_RSI : REG_RDX])
#define ARCH_SYS_POLL		"poll"
#define ARCH_SYS_READLINK	"readlink"

/* How the kernel file boots: its form decides the loader and the entry registers. */
enum x86_kernel_form {
	X86_KERNEL_BZIMAGE,	/* Linux boot protocol, 64-bit entry (boot.c) */
	X86_KERNEL_PVH,		/* ELF with a PVH entry note, 32-bit entry (pvh.c) */
};

/* An ELF PT_LOAD segment as pvh_parse checked it: file bytes to guest RAM. */
#define X86_PVH_MAX_SEGS 16
struct x86_pvh_seg {
	uint64_t off;		/* file offset */
	uint64_t filesz;	/* bytes copied from the file */
	uint64_t gpa;		/* guest-physical address (p_paddr) */
	uint64_t memsz;		/* bytes in guest RAM; memsz - filesz zeroed */
};

/* The kernel and initrd as checked by arch_boot_check, loaded by arch_boot_load. */
struct arch_vm {
	int kernel_fd;
	enum x86_kernel_form form;
	uint64_t kernel_size;		/* file size */
	uint64_t setup_size;		/* (setup_sects + 1) * 512 */
	uint64_t kernel_gpa;		/* where the protected-mode code goes */
	uint64_t init_size;		/* bytes the kernel needs from kernel_gpa */
	uint32_t initrd_addr_max;	/* highest byte address for the initrd */
	uint32_t cmdline_size;		/* kernel's limit, without the NUL */
	uint16_t protocol;		/* boot protocol version */
	uint8_t setup_header[0x290 - 0x1f1];	/* from the file, for boot_params */
	uint32_t pvh_entry;		/* PVH: 32-bit entry point (guest-physical) */
	unsigned pvh_nr_segs;		/* PVH: the segments to load */
	struct x86_pvh_seg pvh_seg[X86_PVH_MAX_SEGS];
	int initrd_fd;			/* -1 when none */
	uint64_t initrd_file_size;	/* the -i file's bytes */
	uint64_t initrd_size;		/* all of it: the file, padding, ringvm's own archive */
	uint64_t initrd_gpa;
	char *cmdline;			/* final command line (malloc) */
	uint64_t rsdp_gpa;
	uint32_t conf1_addr;		/* PCI conf1: last value written to 0xcf8 */
};

#endif
