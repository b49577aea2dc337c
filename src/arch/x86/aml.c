/* aml.c (x86): encode the few AML constructs ringvm's DSDT uses. */
#include <errno.h>
#include <string.h>

#include "aml.h"

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_WORD 0x0b
#define AML_DWORD 0x0c
#define AML_STRING 0x0d
#define AML_QWORD 0x0e
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_EXT 0x5b
#define AML_DEVICE 0x82		/* after AML_EXT */
#define AML_ROOT '\\'

/* A PkgLength is patched at close; this many bytes are reserved for it. */
#define AML_PKGLEN_MAX 4

void aml_init(struct aml *aml, uint8_t *buf, size_t cap)
{
	aml->buf = buf;
	aml->len = 0;
	aml->cap = cap;
	aml->err = 0;
}

void aml_bytes(struct aml *aml, const void *p, size_t n)
{
	if (aml->err)
		return;
	if (n > aml->cap - aml->len) {
		aml->err = -ENOSPC;
		return;
	}
	memcpy(aml->buf + aml->len, p, n);
	aml->len += n;
}

static void aml_byte(struct aml *aml, uint8_t b)
{
	aml_bytes(aml, &b, 1);
}

static void aml_le(struct aml *aml, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		aml_byte(aml, (uint8_t)(v >> (8 * i)));
}

void aml_int(struct aml *aml, uint64_t v)
{
	if (v == 0) {
		aml_byte(aml, AML_ZERO);
	} else if (v == 1) {
		aml_byte(aml, AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(aml, AML_BYTE);
		aml_le(aml, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(aml, AML_WORD);
		aml_le(aml, v, 2);
	} else if (v <= 0xffffffffu) {
		aml_byte(aml, AML_DWORD);
		aml_le(aml, v, 4);
	} else {
		aml_byte(aml, AML_QWORD);
		aml_le(aml, v, 8);
	}
}

void aml_string(struct aml *aml, const char *s)
{
	aml_byte(aml, AML_STRING);
	aml_bytes(aml, s, strlen(s) + 1);
}

void aml_eisaid(struct aml *aml, const char *id)
{
	/* Three letters, 5 bits each, then four hex digits; stored big-endian. */
	uint32_t letters = (uint32_t)((id[0] - '@') & 0x1f) << 10 |
	    (uint32_t)((id[1] - '@') & 0x1f) << 5 | (uint32_t)((id[2] - '@') & 0x1f);
	uint32_t product = 0;

	for (int i = 3; i < 7; i++) {
		char c = id[i];

		product = product << 4 | (uint32_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	aml_byte(aml, AML_DWORD);
	aml_byte(aml, (uint8_t)(letters >> 8));
	aml_byte(aml, (uint8_t)letters);
	aml_byte(aml, (uint8_t)(product >> 8));
	aml_byte(aml, (uint8_t)product);
}

void aml_name(struct aml *aml, const char *name)
{
	if (name[0] == AML_ROOT) {
		aml_byte(aml, AML_ROOT);
		name++;
	}
	aml_bytes(aml, name, 4);
}

void aml_name_int(struct aml *aml, const char *name, uint64_t v)
{
	aml_byte(aml, AML_NAME);
	aml_name(aml, name);
	aml_int(aml, v);
}

void aml_name_str(struct aml *aml, const char *name, const char *s)
{
	aml_byte(aml, AML_NAME);
	aml_name(aml, name);
	aml_string(aml, s);
}

void aml_name_eisaid(struct aml *aml, const char *name, const char *id)
{
	aml_byte(aml, AML_NAME);
	aml_name(aml, name);
	aml_eisaid(aml, id);
}

/* aml_open: reserve room for a PkgLength; the mark is where it starts. */
static size_t aml_open(struct aml *aml)
{
	static const uint8_t room[AML_PKGLEN_MAX];
	size_t mark = aml->len;

	aml_bytes(aml, room, sizeof(room));
	return mark;
}

void aml_close(struct aml *aml, size_t mark)
{
	size_t body, total;
	unsigned extra;

	if (aml->err)
		return;
	body = aml->len - mark - AML_PKGLEN_MAX;
	/* PkgLength counts its own bytes: 1 byte up to 63, else 1 + extra bytes. */
	for (extra = 0; extra < AML_PKGLEN_MAX; extra++) {
		total = body + 1 + extra;
		if (extra == 0 ? total < 64 : total < (1ull << (4 + 8 * extra)))
			break;
	}
	if (extra == AML_PKGLEN_MAX) {
		aml->err = -ENOSPC;
		return;
	}
	memmove(aml->buf + mark + 1 + extra, aml->buf + mark + AML_PKGLEN_MAX, body);
	aml->len = mark + 1 + extra + body;
	if (extra == 0) {
		aml->buf[mark] = (uint8_t)total;
		return;
	}
	aml->buf[mark] = (uint8_t)(extra << 6 | (total & 0xf));
	for (unsigned i = 0; i < extra; i++)
		aml->buf[mark + 1 + i] = (uint8_t)(total >> (4 + 8 * i));
}

size_t aml_scope(struct aml *aml, const char *name)
{
	size_t mark;

	aml_byte(aml, AML_SCOPE);
	mark = aml_open(aml);
	aml_name(aml, name);
	return mark;
}

size_t aml_device(struct aml *aml, const char *name)
{
	size_t mark;

	aml_byte(aml, AML_EXT);
	aml_byte(aml, AML_DEVICE);
	mark = aml_open(aml);
	aml_name(aml, name);
	return mark;
}

/*
 * aml_resources: Name(name, Buffer(size){...}). The BufferSize integer sits
 * inside the PkgLength, so it is written as a DWord placeholder that
 * aml_res_end() fills in once the descriptors are known.
 */
size_t aml_resources(struct aml *aml, const char *name)
{
	size_t mark;

	aml_byte(aml, AML_NAME);
	aml_name(aml, name);
	aml_byte(aml, AML_BUFFER);
	mark = aml_open(aml);
	aml_byte(aml, AML_DWORD);
	aml_le(aml, 0, 4);
	return mark;
}

size_t aml_package(struct aml *aml, unsigned nr_elements)
{
	size_t mark;

	aml_byte(aml, AML_PACKAGE);
	mark = aml_open(aml);
	aml_byte(aml, (uint8_t)nr_elements);
	return mark;
}

void aml_res_io(struct aml *aml, uint16_t base, uint8_t len)
{
	/* Small I/O port descriptor, 16-bit decode, fixed range. */
	const uint8_t d[8] = { 0x47, 0x01, (uint8_t)base, (uint8_t)(base >> 8),
		(uint8_t)base, (uint8_t)(base >> 8), 0x01, len };

	aml_bytes(aml, d, sizeof(d));
}

void aml_res_irq(struct aml *aml, unsigned irq)
{
	/* Small IRQ descriptor without flags: edge-triggered, active high. */
	const uint8_t d[3] = { 0x22, (uint8_t)(1u << irq), (uint8_t)((1u << irq) >> 8) };

	aml_bytes(aml, d, sizeof(d));
}

/*
 * aml_res_word: Word Address Space Descriptor (tag 0x88): a range the bridge
 * produces, with fixed minimum and maximum and no translation.
 */
static void aml_res_word(struct aml *aml, uint8_t type, uint8_t type_flags,
    uint16_t min, uint16_t max)
{
	uint16_t len = (uint16_t)(max - min + 1);
	const uint8_t d[16] = { 0x88, 13, 0, type, 0x0c, type_flags, 0, 0,
		(uint8_t)min, (uint8_t)(min >> 8), (uint8_t)max, (uint8_t)(max >> 8),
		0, 0, (uint8_t)len, (uint8_t)(len >> 8) };

	aml_bytes(aml, d, sizeof(d));
}

void aml_res_bus(struct aml *aml, uint16_t min, uint16_t max)
{
	aml_res_word(aml, 2, 0, min, max);
}

void aml_res_io_window(struct aml *aml, uint16_t min, uint16_t max)
{
	aml_res_word(aml, 1, 3, min, max);	/* ISA and non-ISA ranges */
}

void aml_res_mem32(struct aml *aml, uint32_t min, uint32_t max)
{
	/* DWord Address Space Descriptor (tag 0x87), memory, read-write, non-cacheable. */
	uint32_t len = max - min + 1, v[5] = { 0, min, max, 0, len };
	const uint8_t h[6] = { 0x87, 23, 0, 0, 0x0c, 0x01 };

	aml_bytes(aml, h, sizeof(h));
	for (unsigned i = 0; i < 5; i++)
		aml_le(aml, v[i], 4);
}

void aml_res_end(struct aml *aml, size_t mark)
{
	const uint8_t d[2] = { 0x79, 0x00 };	/* End tag; checksum 0 = "not checked" */
	size_t start = mark + AML_PKGLEN_MAX + 5, n;

	aml_bytes(aml, d, sizeof(d));
	if (aml->err)
		return;
	n = aml->len - start;
	for (unsigned i = 0; i < 4; i++)
		aml->buf[mark + AML_PKGLEN_MAX + 1 + i] = (uint8_t)(n >> (8 * i));
	aml_close(aml, mark);
}
