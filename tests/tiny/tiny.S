/*
 * tiny.S: a tiny 64-bit guest "kernel" for tests that need no Linux. ringvm
 * enters it like a bzImage (64-bit boot protocol: %rsi = boot_params). It
 * reads "rvt=<mode>" from the kernel command line and acts out one mode:
 *   h  print a greeting and power off
 *   f  flood the UART with 128 KiB without looking at LSR, then "done", power off
 *   u  hostile UART register writes (divisor 0, DLAB toggles, IER ping-pong), then "alive", power off
 *   e  echo UART input (polling LSR) until 'q', then power off
 *   r  reboot through the ACPI reset register
 *   k  reboot through the i8042 reset command
 *   p  report a panic through pvpanic
 *   t  triple fault
 *   s  spin forever (host signal tests)
 *   b  exit benchmark (bench/exits): BENCH_N port writes to COM1's scratch
 *      register (a device register the VMM emulates), then BENCH_N MMIO
 *      writes to an unassigned address in the PCI hole, then BENCH_N port
 *      reads of that register and BENCH_N MMIO reads; prints
 *      "RVB pio|mmio|pio_in|mmio_rd N CYCLES" (rdtsc), then powers off
 *   i  idle: print "idle", then halt with interrupts off forever (bench/start)
 *   o  power off at once, printing nothing (bench/start)
 *
 * Power off is a write to port 0xf4 (QEMU's isa-debug-exit, unassigned in
 * ringvm) and then ringvm's ACPI PM1 control port 0x600.
 *
 * QEMU enters a bzImage through its real-mode setup (setup16.S), which
 * jumps to entry32 at the start of this payload (0x100000): it builds the
 * same identity map of the low 4 GiB that ringvm's boot page tables have,
 * enters long mode and jumps to the 64-bit entry. ringvm enters at 0x200.
 */
#define BENCH_N 2000
#define BENCH_MMIO_GPA 0xd0000000	/* PCI hole, no device, in ringvm and QEMU */
	.code64
	.section .text
	.globl _start
_start:
	.code32
entry32:				/* QEMU only: loaded at 0x100000 */
	mov $0x18, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	/* page tables at 0x9000-0xefff: PML4, PDPT, 4 PDs of 2 MiB pages */
	mov $0x9000, %edi
	xor %eax, %eax
	mov $(0x6000 / 4), %ecx
	rep stosl
	movl $0xa003, 0x9000
	movl $0xb003, 0xa000
	movl $0xc003, 0xa008
	movl $0xd003, 0xa010
	movl $0xe003, 0xa018
	mov $0xb000, %edi
	mov $0x83, %eax			/* present, writable, 2 MiB */
	mov $2048, %ecx
1:	mov %eax, (%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 1b
	mov %cr4, %eax
	or $0x20, %eax			/* PAE */
	mov %eax, %cr4
	mov $0x9000, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax		/* PG | PE */
	mov %eax, %cr0
	ljmp $0x20, $0x100200
	.code64
	.org 0x200			/* the 64-bit entry is at offset 0x200 */
entry:
	cli
	lea stack_top(%rip), %rsp
	mov %rsi, %r15			/* boot_params */
	mov 0x228(%r15), %ebx		/* hdr.cmd_line_ptr */
	/* find "rvt=" */
1:	movb (%rbx), %al
	test %al, %al
	jz mode_h
	cmpl $0x3d747672, (%rbx)	/* "rvt=" little-endian */
	je 2f
	inc %rbx
	jmp 1b
2:	movb 4(%rbx), %al
	cmp $'f', %al
	je mode_f
	cmp $'u', %al
	je mode_u
	cmp $'e', %al
	je mode_e
	cmp $'r', %al
	je mode_r
	cmp $'k', %al
	je mode_k
	cmp $'p', %al
	je mode_p
	cmp $'t', %al
	je mode_t
	cmp $'s', %al
	je mode_s
	cmp $'b', %al
	je mode_b
	cmp $'i', %al
	je mode_i
	cmp $'o', %al
	je poweroff
mode_h:
	lea msg_hello(%rip), %rsi
	call puts
	jmp poweroff

mode_f:
	mov $131072, %ecx
	mov $0x3f8, %dx
	mov $'x', %al
3:	out %al, %dx
	loop 3b
	lea msg_done(%rip), %rsi
	call puts
	jmp poweroff

mode_u:
	mov $0x12345678, %r8d		/* xorshift32 state */
	mov $20000, %r9d
4:	mov %r8d, %eax
	shl $13, %eax
	xor %eax, %r8d
	mov %r8d, %eax
	shr $17, %eax
	xor %eax, %r8d
	mov %r8d, %eax
	shl $5, %eax
	xor %eax, %r8d
	mov %r8d, %edx
	and $7, %edx
	add $0x3f8, %edx
	mov %r8d, %eax
	shr $8, %eax
	test $0x100000, %r8d
	jz 5f
	out %al, %dx
	jmp 6f
5:	in %dx, %al
6:	dec %r9d
	jnz 4b
	/* divisor latch 0, then back to a sane state */
	mov $0x3fb, %dx
	mov $0x80, %al
	out %al, %dx
	mov $0x3f8, %dx
	xor %al, %al
	out %al, %dx
	mov $0x3f9, %dx
	out %al, %dx
	mov $0x3fb, %dx
	mov $0x03, %al
	out %al, %dx
	mov $0x3fc, %dx
	xor %al, %al			/* MCR: leave loopback */
	out %al, %dx
	mov $0x3f9, %dx
	out %al, %dx			/* IER off */
	lea msg_alive(%rip), %rsi
	call puts
	jmp poweroff

mode_e:
	mov $0x3fa, %dx
	mov $0x07, %al			/* FCR: FIFO on, cleared */
	out %al, %dx
	mov $0x3fc, %dx
	mov $0x0b, %al			/* MCR: DTR, RTS, OUT2 */
	out %al, %dx
	mov $0x3f9, %dx
	mov $0x01, %al			/* IER.RDI: tell the host we listen (we still poll) */
	out %al, %dx
	lea msg_ready(%rip), %rsi
	call puts
7:	mov $0x3fd, %dx
8:	in %dx, %al
	test $1, %al
	jz 8b
	mov $0x3f8, %dx
	in %dx, %al
	cmp $'q', %al
	je 9f
	call putc
	jmp 7b
9:	lea msg_done(%rip), %rsi
	call puts
	jmp poweroff

mode_r:
	mov $0x602, %dx
	mov $1, %al
	out %al, %dx
	jmp hang

mode_k:
	mov $0x64, %dx
	mov $0xfe, %al
	out %al, %dx
	jmp hang

mode_p:
	mov $0x505, %dx
	mov $1, %al
	out %al, %dx
	jmp hang

mode_t:
	lea null_idt(%rip), %rax
	lidt (%rax)
	int3				/* no IDT: #GP, #DF, then a triple fault */
	jmp hang

mode_s:
	jmp mode_s

mode_b:
	call tsc
	mov %rax, %r10
	mov $BENCH_N, %ecx
	mov $0x3ff, %dx			/* COM1 SCR */
1:	out %al, %dx
	loop 1b
	call tsc
	sub %r10, %rax
	lea msg_pio(%rip), %rsi
	call put_result
	call tsc
	mov %rax, %r10
	mov $BENCH_N, %ecx
	mov $BENCH_MMIO_GPA, %ebx
2:	movl %eax, (%rbx)
	loop 2b
	call tsc
	sub %r10, %rax
	lea msg_mmio(%rip), %rsi
	call put_result
	call tsc
	mov %rax, %r10
	mov $BENCH_N, %ecx
	mov $0x3ff, %dx
3:	in %dx, %al
	loop 3b
	call tsc
	sub %r10, %rax
	lea msg_pio_in(%rip), %rsi
	call put_result
	call tsc
	mov %rax, %r10
	mov $BENCH_N, %ecx
	mov $BENCH_MMIO_GPA, %ebx
4:	movl (%rbx), %eax
	loop 4b
	call tsc
	sub %r10, %rax
	lea msg_mmio_rd(%rip), %rsi
	call put_result
	jmp poweroff

mode_i:
	lea msg_idle(%rip), %rsi
	call puts
	jmp hang

/* tsc: %rax = the time stamp counter, serialised with lfence. */
tsc:
	lfence
	rdtsc
	lfence
	shl $32, %rdx
	or %rdx, %rax
	ret

/* put_result: print "RVB <name at %rsi> BENCH_N <%rax>\n". */
put_result:
	push %rax
	push %rsi
	lea msg_rvb(%rip), %rsi
	call puts
	pop %rsi
	call puts
	mov $BENCH_N, %eax
	call putdec
	mov $' ', %al
	call putc
	pop %rax
	call putdec
	mov $10, %al
	jmp putc

/* putdec: print %rax in decimal. */
putdec:
	sub $32, %rsp
	lea 31(%rsp), %rdi
	movb $0, (%rdi)
	mov $10, %rcx
1:	xor %edx, %edx
	div %rcx
	add $'0', %dl
	dec %rdi
	mov %dl, (%rdi)
	test %rax, %rax
	jnz 1b
	mov %rdi, %rsi
	call puts
	add $32, %rsp
	ret

poweroff:
	mov $0xf4, %dx			/* QEMU: isa-debug-exit */
	xor %al, %al
	out %al, %dx
	mov $0x600, %dx
	mov $0x34, %al			/* SLP_TYP 5 | SLP_EN */
	out %al, %dx
hang:
	hlt
	jmp hang

/* puts: write the NUL-terminated string at %rsi, waiting for THRE. */
puts:
	lodsb
	test %al, %al
	jz 1f
	call putc
	jmp puts
1:	ret

/* putc: write %al once LSR.THRE is set. */
putc:
	mov %al, %ah
	mov $0x3fd, %dx
1:	in %dx, %al
	test $0x20, %al
	jz 1b
	mov $0x3f8, %dx
	mov %ah, %al
	out %al, %dx
	ret

msg_hello:	.asciz "hello from the tiny guest\n"
msg_done:	.asciz "\ndone\n"
msg_alive:	.asciz "\nalive\n"
msg_ready:	.asciz "ready\n"
msg_idle:	.asciz "idle\n"
msg_rvb:	.asciz "RVB "
msg_pio:	.asciz "pio "
msg_mmio:	.asciz "mmio "
msg_pio_in:	.asciz "pio_in "
msg_mmio_rd:	.asciz "mmio_rd "
	.balign 16
null_idt:	.word 0
		.quad 0
	.balign 16
	.fill 4096, 1, 0
stack_top:
