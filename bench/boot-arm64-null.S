/*
 * boot-arm64-null.S: a "kernel" for bench/boot-arm64's bare rows: an arm64
 * Image header and three instructions that power the machine off (PSCI 0.2
 * SYSTEM_OFF through hvc, as the VMMs' device trees ask). bench/boot-arm64
 * assembles it with IMAGE_SIZE the real kernel's image_size and pads the
 * file to the real Image's length, so that each VMM reads, places and loads
 * as much as for the real kernel and only the guest's own work is missing:
 * its run is the VMM's fixed cost (start, machine, loading, teardown).
 */
	.text
	b	1f		// code0: on past the header
	.long	0		// code1
	.quad	0		// text_offset
	.quad	IMAGE_SIZE	// image_size
	.quad	0xa		// flags: little-endian, 4K pages, anywhere in RAM
	.quad	0, 0, 0		// res2-4
	.ascii	"ARM\x64"	// magic
	.long	0		// res5
1:	movz	w0, #0x8400, lsl #16
	movk	w0, #0x0008	// PSCI_0_2_FN_SYSTEM_OFF
	hvc	#0
2:	b	2b
