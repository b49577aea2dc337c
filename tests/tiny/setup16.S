/*
 * setup16.S: the tiny guest's real-mode setup code, for loaders that enter
 * a bzImage through its setup (QEMU's -kernel). mkbzimage places it at
 * setup offset 0x268, where the header's jump at 0x200 lands. Entered in
 * real mode with CS = setup segment + 0x20 and IP = 0 (boot protocol);
 * it switches to flat 32-bit protected mode and jumps to the protected-mode
 * kernel at 0x100000 (tiny.S: entry32) with %esi = boot_params, the setup's
 * own linear address. ringvm enters the 64-bit entry directly and never
 * runs this.
 */
	.code16
	.section .text
s16:
	cli
	xorl %ebx, %ebx
	movw %cs, %bx
	shll $4, %ebx			/* linear address of setup + 0x200 */
	movl %ebx, %esi
	subl $0x200, %esi		/* boot_params: the setup's start */
	movw %cs, %ax
	movw %ax, %ds
	/* Offsets from CS's base: this code starts at setup + 0x268 = CS + 0x68. */
	leal (0x68 + gdt - s16)(%ebx), %eax
	movl %eax, (0x68 + gdtr + 2 - s16)
	lgdtl (0x68 + gdtr - s16)
	movl %cr0, %eax
	orl $1, %eax			/* PE */
	movl %eax, %cr0
	ljmpl $0x10, $0x100000
	.balign 8
gdt:	.quad 0
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x10: 32-bit code, flat */
	.quad 0x00cf92000000ffff	/* 0x18: data, flat */
	.quad 0x00af9a000000ffff	/* 0x20: 64-bit code */
gdt_end:
gdtr:	.word gdt_end - gdt - 1
	.long 0
