/*
 * bareexit.c: the floor for bench/exits: what a bare exit to user space
 * and straight back into KVM_RUN costs on this machine, with no VMM work
 * in between. A real-mode guest does N port writes (port 0x80), then N
 * MMIO writes to an address with no memory slot, each timed with rdtsc in
 * the guest like the tiny guest's mode b; the host's loop only re-enters.
 * Also measures the TSC rate against CLOCK_MONOTONIC, so that the other
 * guests' cycle counts can be turned into microseconds.
 *
 * usage: bareexit N
 * prints: "RVB pio N CYCLES", "RVB mmio N CYCLES", "TSC_PER_US X"
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <linux/kvm.h>

#define BX_MEM_SZ 0x10000
#define BX_CODE_GPA 0x1000
#define BX_OUT_GPA 0x500	/* three TSC stamps */
#define BX_N_GPA 0x520		/* the loop count */

extern const unsigned char bx_guest[], bx_guest_end[];
__asm__(
	".pushsection .rodata\n"
	".code16\n"
	"bx_guest:\n"
	"cli\n"
	"xor %ax, %ax\n"
	"mov %ax, %ds\n"
	"mov $0xf000, %ax\n"		/* ES: 0xf0000, no memory slot there */
	"mov %ax, %es\n"
	"lfence\n rdtsc\n lfence\n"
	"mov %eax, 0x500\n mov %edx, 0x504\n"
	"mov 0x520, %ecx\n"
	"1: out %al, $0x80\n dec %ecx\n jnz 1b\n"
	"lfence\n rdtsc\n lfence\n"
	"mov %eax, 0x508\n mov %edx, 0x50c\n"
	"mov 0x520, %ecx\n"
	"2: movb %al, %es:0\n dec %ecx\n jnz 2b\n"
	"lfence\n rdtsc\n lfence\n"
	"mov %eax, 0x510\n mov %edx, 0x514\n"
	"hlt\n"
	"bx_guest_end:\n"
	".code64\n"
	".popsection\n");

static void bx_die(const char *what)
{
	perror(what);
	exit(1);
}

static double bx_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* bx_tsc_per_us: the TSC's rate, over about 100 ms of wall time. */
static double bx_tsc_per_us(void)
{
	double t0 = bx_now_us(), t1;
	uint64_t c0 = __rdtsc(), c1;
	const struct timespec d = { 0, 100000000 };

	nanosleep(&d, NULL);
	c1 = __rdtsc();
	t1 = bx_now_us();
	return (double)(c1 - c0) / (t1 - t0);
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 2000;
	int kvm, vm, cpu, run_sz;
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	uint8_t *mem;
	uint64_t t[3];
	unsigned exits = 0;

	if ((kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
		bx_die("/dev/kvm");
	if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		bx_die("KVM_CREATE_VM");
	ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);	/* VMX real mode needs it; harmless on SVM */
	mem = mmap(NULL, BX_MEM_SZ, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		bx_die("mmap");
	memcpy(mem + BX_CODE_GPA, bx_guest, (size_t)(bx_guest_end - bx_guest));
	memcpy(mem + BX_N_GPA, &n, sizeof(n));
	region = (struct kvm_userspace_memory_region){ .slot = 0, .guest_phys_addr = 0,
	    .memory_size = BX_MEM_SZ, .userspace_addr = (uintptr_t)mem };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		bx_die("KVM_SET_USER_MEMORY_REGION");
	if ((cpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0)
		bx_die("KVM_CREATE_VCPU");
	if ((run_sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) < 0)
		bx_die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, (size_t)run_sz, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED)
		bx_die("mmap run");
	if (ioctl(cpu, KVM_GET_SREGS, &sregs) < 0)
		bx_die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(cpu, KVM_SET_SREGS, &sregs) < 0)
		bx_die("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = BX_CODE_GPA;
	regs.rflags = 2;
	if (ioctl(cpu, KVM_SET_REGS, &regs) < 0)
		bx_die("KVM_SET_REGS");
	/* The bare round trip: return from KVM_RUN, look at the reason, re-enter. */
	for (;;) {
		if (ioctl(cpu, KVM_RUN, 0) < 0)
			bx_die("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_IO || run->exit_reason == KVM_EXIT_MMIO) {
			exits++;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		fprintf(stderr, "bareexit: unexpected exit reason %u after %u exits\n",
		    run->exit_reason, exits);
		return 1;
	}
	memcpy(t, mem + BX_OUT_GPA, sizeof(t));
	printf("RVB pio %u %llu\n", n, (unsigned long long)(t[1] - t[0]));
	printf("RVB mmio %u %llu\n", n, (unsigned long long)(t[2] - t[1]));
	printf("TSC_PER_US %.1f\n", bx_tsc_per_us());
	return exits == 2 * n ? 0 : 1;
}
