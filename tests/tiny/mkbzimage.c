/*
 * mkbzimage.c: wrap a flat 64-bit payload in a minimal bzImage header, for
 * the tiny test guests, and write the damaged variants the bad-input tests
 * need (HOSTILE.md H2).
 *
 * usage: mkbzimage PAYLOAD OUT [good|nomagic|oldproto|not64|truncated|bigkernel [SETUP16]]
 *
 * SETUP16: real-mode code placed at setup offset 0x268, where the header's
 * jump lands (tests/tiny/setup16.S), for loaders that run the setup (QEMU).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

int main(int argc, char **argv)
{
	const char *variant = argc > 3 ? argv[3] : "good";
	uint8_t setup[1024];	/* setup_sects = 1: two sectors */
	uint8_t *payload;
	long plen;
	FILE *in, *out;
	size_t wlen;

	if (argc < 3) {
		fprintf(stderr, "usage: mkbzimage PAYLOAD OUT [variant]\n");
		return 2;
	}
	in = fopen(argv[1], "rb");
	if (!in || fseek(in, 0, SEEK_END) || (plen = ftell(in)) <= 0 || fseek(in, 0, SEEK_SET)) {
		perror(argv[1]);
		return 1;
	}
	plen = (plen + 15) & ~15L;
	payload = calloc(1, (size_t)plen);
	if (!payload || fread(payload, 1, (size_t)plen, in) == 0) {
		perror(argv[1]);
		return 1;
	}
	fclose(in);

	memset(setup, 0, sizeof(setup));
	setup[0x1f1] = 1;				/* setup_sects */
	put32(setup + 0x1f4, (uint32_t)(plen / 16));	/* syssize */
	put16(setup + 0x1fe, 0xaa55);			/* boot_flag */
	setup[0x200] = 0xeb;				/* jump */
	setup[0x201] = 0x66;				/* header ends at 0x268 */
	memcpy(setup + 0x202, "HdrS", 4);
	put16(setup + 0x206, 0x020f);			/* protocol 2.15 */
	setup[0x211] = 0x01;				/* loadflags: LOADED_HIGH */
	put32(setup + 0x22c, 0x7fffffff);		/* initrd_addr_max */
	put32(setup + 0x230, 0x200000);			/* kernel_alignment */
	setup[0x234] = 1;				/* relocatable */
	put16(setup + 0x236, 0x3);			/* xloadflags: KERNEL_64 | ABOVE_4G */
	put32(setup + 0x238, 2047);			/* cmdline_size */
	put64(setup + 0x258, 0x1000000);		/* pref_address */
	put32(setup + 0x260, 0x100000);			/* init_size */
	if (argc > 4) {
		FILE *s16 = fopen(argv[4], "rb");
		size_t n;

		if (!s16) {
			perror(argv[4]);
			return 1;
		}
		n = fread(setup + 0x268, 1, sizeof(setup) - 0x268 + 1, s16);
		fclose(s16);
		if (n == 0 || n > sizeof(setup) - 0x268) {
			fprintf(stderr, "mkbzimage: %s: empty or over %zu bytes\n", argv[4],
			    sizeof(setup) - 0x268);
			return 1;
		}
	}

	wlen = (size_t)plen;
	if (!strcmp(variant, "nomagic"))
		memcpy(setup + 0x202, "HdrX", 4);
	else if (!strcmp(variant, "oldproto"))
		put16(setup + 0x206, 0x0201);
	else if (!strcmp(variant, "not64"))
		put16(setup + 0x236, 0);
	else if (!strcmp(variant, "truncated"))
		wlen = (size_t)plen / 2;
	else if (!strcmp(variant, "bigkernel"))
		put32(setup + 0x260, 0x4000000);	/* init_size 64 MiB */
	else if (strcmp(variant, "good")) {
		fprintf(stderr, "mkbzimage: unknown variant '%s'\n", variant);
		return 2;
	}
	out = fopen(argv[2], "wb");
	if (!out || fwrite(setup, 1, sizeof(setup), out) != sizeof(setup) ||
	    fwrite(payload, 1, wlen, out) != wlen || fclose(out)) {
		perror(argv[2]);
		return 1;
	}
	free(payload);
	return 0;
}
