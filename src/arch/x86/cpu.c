/*
 * cpu.c (x86): per-vCPU state: CPUID with the topology and hypervisor
 * fixups a Linux guest needs, the MSRs it expects at entry, and the boot
 * CPU's entry registers: 64-bit for a bzImage, 32-bit protected mode for a
 * PVH entry. Also the boot GDT and page tables.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "arch.h"
#include "cpu.h"
#include "log.h"
#include "vcpu.h"
#include "vm.h"

#define CPUID_MAX_ENTRIES 256

/* Leaf 1 ECX/EDX bits touched here. */
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID1_EDX_HTT (1u << 28)
/* AMD leaf 0x80000001 ECX. */
#define CPUIDX1_ECX_CMP_LEGACY (1u << 1)
#define CPUIDX1_ECX_TOPOEXT (1u << 22)

#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_TSC 0x10
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MISC_ENABLE_FAST_STRING 1

#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)

/* Boot GDT selectors required by the 64-bit boot protocol. */
#define BOOT_CS 0x10
#define BOOT_DS 0x18
#define BOOT_TSS 0x20
#define BOOT_CS32 0x30	/* PVH: flat 32-bit code (0x28 is the TSS descriptor's high half) */
#define BOOT_GDT_ENTRIES 7

/* cpu_bits: how many APIC ID bits hold `n` distinct values. */
static unsigned cpu_bits(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

/*
 * cpu_fix_cpuid: one socket of `n` single-thread cores; this vCPU has APIC
 * ID `id`. The hypervisor bit and KVM's signature leaves let the guest use
 * kvm-clock, without which it stalls in early timer calibration.
 */
static void cpu_fix_cpuid(struct kvm_cpuid2 *c, unsigned id, unsigned n,
    bool tsc_deadline)
{
	unsigned bits = cpu_bits(n);

	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffffu) | id << 24 | (n > 1 ? n : 1) << 16;
			e->ecx |= CPUID1_ECX_HYPERVISOR;
			if (tsc_deadline)
				e->ecx |= CPUID1_ECX_TSC_DEADLINE;
			if (n > 1)
				e->edx |= CPUID1_EDX_HTT;
			break;
		case 4:
			/*
			 * Intel deterministic cache leaf: EAX[31:26] cores per
			 * package - 1, EAX[25:14] threads sharing the cache - 1
			 * (the whole package for L3, one core below it).
			 */
			if (e->eax & 0x1f) {
				unsigned level = (e->eax >> 5) & 7;

				e->eax = (e->eax & 0x3fffu) | (n - 1) << 26 |
				    (level >= 3 ? (n - 1) << 14 : 0);
			}
			break;
		case 6:
			/* No thermal and power management interface. */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xa:
			/* No architectural PMU: perf counters are not virtualised here. */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xb:
		case 0x1f:
			/* x2APIC topology: level 0 SMT (1 thread), level 1 core (n cores). */
			if (e->index == 0) {
				e->eax = 0; e->ebx = 1; e->ecx = 1u << 8;
			} else if (e->index == 1) {
				e->eax = bits; e->ebx = n; e->ecx = 2u << 8 | 1;
			} else {
				e->eax = e->ebx = 0; e->ecx = e->index;
			}
			e->edx = id;
			break;
		case 0x80000001:
			e->ecx &= ~CPUIDX1_ECX_TOPOEXT;
			if (n > 1)
				e->ecx |= CPUIDX1_ECX_CMP_LEGACY;
			break;
		case 0x80000008:
			/* AMD: NC = cores - 1, ApicIdCoreIdSize = bits. */
			e->ecx = (e->ecx & ~0xf0ffu) | (bits << 12) | (n - 1);
			break;
		case 0x8000001e:
			/* Topology extension leaf: hidden with TOPOEXT above. */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		}
	}
}

/* cpu_set_cpuid: KVM's supported CPUID, fixed up for this vCPU. */
static int cpu_set_cpuid(struct vm *vm, struct vcpu *v, struct rv_err *err)
{
	size_t sz = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = calloc(1, sz);
	bool deadline;
	int r = 0;

	if (!c)
		return rv_fail(err, RV_EXIT_FAILURE, ENOMEM, "CPUID table");
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		r = rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (GET_SUPPORTED_CPUID) failed");
		goto out;
	}
	/* KVM emulates the TSC-deadline timer in its LAPIC but leaves the bit to us. */
	deadline = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	cpu_fix_cpuid(c, v->idx, vm->nr_vcpus, deadline);
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		r = rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (SET_CPUID2) failed on vCPU %u",
		    v->idx);
out:
	free(c);
	return r;
}

static int cpu_set_msrs(struct vcpu *v, struct rv_err *err)
{
	static const struct { uint32_t index; uint64_t data; } init[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 }, { MSR_SYSCALL_MASK, 0 }, { MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_TSC, 0 }, { MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
	};
	enum { N = sizeof(init) / sizeof(init[0]) };
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[N];
	} m;
	int r;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = N;
	for (unsigned i = 0; i < N; i++) {
		m.e[i].index = init[i].index;
		m.e[i].data = init[i].data;
	}
	r = ioctl(v->fd, KVM_SET_MSRS, &m);
	if (r != N)
		return rv_fail(err, RV_EXIT_FAILURE, r < 0 ? errno : 0,
		    "KVM: ioctl (SET_MSRS) set %d of %d MSRs on vCPU %u", r, N, v->idx);
	return 0;
}

static int cpu_set_fpu(struct vcpu *v, struct rv_err *err)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;	/* x87 reset value */
	fpu.mxcsr = 0x1f80;	/* SSE reset value */
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (SET_FPU) failed on vCPU %u",
		    v->idx);
	return 0;
}

/* cpu_seg: a flat 4 GiB segment; `code64` for 64-bit code (L set, D clear). */
static struct kvm_segment cpu_seg(uint16_t sel, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = code64 ? 0 : 1, .s = 1, .l = code64 ? 1 : 0,
		.g = 1,
	};
}

/*
 * cpu_set_pvh_regs: the PVH entry state (Xen's hvm/start_info.h): 32-bit
 * protected mode, paging off, flat 32-bit CS and flat DS/ES/SS, %ebx the
 * start info's address, CR0 PE (and ET), CR4 and EFER 0, interrupts off.
 */
static int cpu_set_pvh_regs(struct vm *vm, struct vcpu *v, struct kvm_sregs *sregs,
    struct rv_err *err)
{
	struct kvm_regs regs;

	sregs->cs = cpu_seg(BOOT_CS32, 0xb, false);	/* execute/read, accessed, 32-bit */
	sregs->cr0 = CR0_PE | CR0_ET;
	sregs->cr3 = 0;
	sregs->cr4 = 0;
	sregs->efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, sregs) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (SET_SREGS) failed");
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;			/* reserved bit 1; interrupts off */
	regs.rip = vm->arch.pvh_entry;
	regs.rbx = X86_PVH_INFO_GPA;		/* struct hvm_start_info */
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (SET_REGS) failed");
	return 0;
}

/* cpu_set_boot_regs: the entry state the boot protocol (or the PVH ABI) specifies. */
static int cpu_set_boot_regs(struct vm *vm, struct vcpu *v, struct rv_err *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (GET_SREGS) failed");
	sregs.cs = cpu_seg(BOOT_CS, 0xb, true);	/* execute/read, accessed */
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = cpu_seg(BOOT_DS, 0x3, false);
	sregs.tr = (struct kvm_segment){
		.base = 0, .limit = 0x67, .selector = BOOT_TSS, .type = 0xb,
		.present = 1, .s = 0,
	};
	sregs.gdt.base = X86_GDT_GPA;
	sregs.gdt.limit = BOOT_GDT_ENTRIES * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	if (vm->arch.form == X86_KERNEL_PVH)
		return cpu_set_pvh_regs(vm, v, &sregs, err);
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	sregs.cr3 = X86_PML4_GPA;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (SET_SREGS) failed");

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;			/* reserved bit 1; interrupts off */
	regs.rip = vm->arch.kernel_gpa + 0x200;	/* startup_64 */
	regs.rsi = X86_ZERO_PAGE_GPA;		/* struct boot_params */
	regs.rsp = regs.rbp = X86_BOOT_STACK_GPA;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "KVM: ioctl (SET_REGS) failed");
	return 0;
}

int arch_vcpu_setup(struct vm *vm, struct vcpu *v, struct rv_err *err)
{
	int r;

	if ((r = cpu_set_cpuid(vm, v, err)) || (r = cpu_set_msrs(v, err)) ||
	    (r = cpu_set_fpu(v, err)))
		return r;
	/* Application processors wait in KVM for INIT/SIPI from the guest. */
	return v->idx == 0 ? cpu_set_boot_regs(vm, v, err) : 0;
}

int cpu_boot_tables(struct vm *vm, struct rv_err *err)
{
	static const uint64_t gdt[BOOT_GDT_ENTRIES] = {
		0,			/* null */
		0,			/* unused */
		0x00af9b000000ffffull,	/* 0x10: 64-bit code, execute/read */
		0x00cf93000000ffffull,	/* 0x18: flat data, read/write */
		0x00008b0000000067ull,	/* 0x20: 64-bit TSS, busy */
		0,			/* 0x28: the TSS descriptor's high half (base 63:32) */
		0x00cf9b000000ffffull,	/* 0x30: flat 32-bit code, execute/read (PVH) */
	};
	uint64_t *pml4 = gmem_ptr(&vm->mem, X86_PML4_GPA, 4096);
	uint64_t *pdpt = gmem_ptr(&vm->mem, X86_PDPT_GPA, 4096);
	uint64_t *pd = gmem_ptr(&vm->mem, X86_PD_GPA, 4 * 4096);

	if (!pml4 || !pdpt || !pd || gmem_write(&vm->mem, X86_GDT_GPA, gdt, sizeof(gdt)))
		return rv_fail(err, RV_EXIT_FAILURE, 0, "boot tables do not fit in guest memory");
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	/* Identity-map the first 4 GiB with 2 MiB pages: present, writable, PS. */
	pml4[0] = X86_PDPT_GPA | 0x3;
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (X86_PD_GPA + i * 4096ull) | 0x3;
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;
	return 0;
}
