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
 */
	.code64
	.section .text
	.globl _start
_start:
	.fill 0x200, 1, 0		/* the 64-bit entry is at offset 0x200 */
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

poweroff:
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
	.balign 16
null_idt:	.word 0
		.quad 0
	.balign 16
	.fill 4096, 1, 0
stack_top:
