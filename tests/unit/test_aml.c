/*
 * test_aml.c: the AML encoder (src/arch/x86/aml.c) byte for byte, and the
 * ACPI tables acpi_build() writes for the real machine (PCI host bridge,
 * COM1, PM block, pvpanic): checksums, lengths, pointers, and a DSDT that a
 * small AML parser walks end to end with every PkgLength, Buffer size and
 * Package count exact. The tables must also agree with the devices on the
 * bus: the FADT's sleep and reset registers power off and reset the VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acpi.h"
#include "aml.h"
#include "arch.h"
#include "device.h"
#include "dsdt.h"
#include "gmem.h"
#include "log.h"
#include "loop.h"
#include "pci.h"
#include "vm.h"
#include "unit.h"

/* The platform devices have no header of their own: the table names them. */
extern const struct device_ops serial_ops, pm_ops, pvpanic_ops;

static struct unit u = { .file = "aml" };


static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

/* emits: aml holds exactly `n` bytes equal to `want`, no error. */
static int emits(const struct aml *a, const void *want, size_t n)
{
	if (a->err || a->len != n || memcmp(a->buf, want, n)) {
		printf("# aml: err %d, %zu bytes:", a->err, a->len);
		for (size_t i = 0; i < a->len && i < 24; i++)
			printf(" %02x", a->buf[i]);
		printf("\n");
		return 0;
	}
	return 1;
}

static void test_ints(void)
{
	static const struct { uint64_t v; uint8_t n; uint8_t b[9]; } t[] = {
		{ 0, 1, { 0x00 } },
		{ 1, 1, { 0x01 } },
		{ 2, 2, { 0x0a, 0x02 } },
		{ 0xff, 2, { 0x0a, 0xff } },
		{ 0x100, 3, { 0x0b, 0x00, 0x01 } },
		{ 0xffff, 3, { 0x0b, 0xff, 0xff } },
		{ 0x10000, 5, { 0x0c, 0x00, 0x00, 0x01, 0x00 } },
		{ 0xffffffff, 5, { 0x0c, 0xff, 0xff, 0xff, 0xff } },
		{ 0x100000000ull, 9, { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 } },
		{ 0x0123456789abcdefull, 9, { 0x0e, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01 } },
		{ UINT64_MAX, 9, { 0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
	};
	uint8_t buf[16];
	struct aml a;
	char name[64];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_int(&a, t[i].v);
		snprintf(name, sizeof(name), "integer %#llx", (unsigned long long)t[i].v);
		UNIT_OK(&u, emits(&a, t[i].b, t[i].n), name);
	}
}

static void test_names(void)
{
	uint8_t buf[64];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_name(&a, "_S5_");
	UNIT_OK(&u, emits(&a, "_S5_", 4), "name segment");
	aml_init(&a, buf, sizeof(buf));
	aml_name(&a, "\\_SB_");
	UNIT_OK(&u, emits(&a, "\\_SB_", 5), "root-prefixed name");
	aml_init(&a, buf, sizeof(buf));
	aml_name_int(&a, "_UID", 1);
	UNIT_OK(&u, emits(&a, "\x08_UID\x01", 6), "Name(_UID, One)");
	aml_init(&a, buf, sizeof(buf));
	aml_name_int(&a, "_ADR", 0x10000);
	UNIT_OK(&u, emits(&a, "\x08_ADR\x0c\x00\x00\x01\x00", 10), "Name(_ADR, DWord)");
	aml_init(&a, buf, sizeof(buf));
	aml_name_str(&a, "_HID", "QEMU0001");
	UNIT_OK(&u, emits(&a, "\x08_HID\x0dQEMU0001", 15), "Name(_HID, String)");
	aml_init(&a, buf, sizeof(buf));
	aml_string(&a, "");
	UNIT_OK(&u, emits(&a, "\x0d", 2), "empty string is opcode and NUL");
	aml_init(&a, buf, sizeof(buf));
	aml_name_eisaid(&a, "_HID", "PNP0501");
	UNIT_OK(&u, emits(&a, "\x08_HID\x0c\x41\xd0\x05\x01", 10), "EISAID PNP0501 = 0x0105d041");
	aml_init(&a, buf, sizeof(buf));
	aml_eisaid(&a, "PNP0A03");
	UNIT_OK(&u, emits(&a, "\x0c\x41\xd0\x0a\x03", 5), "EISAID PNP0A03 = 0x030ad041");
	aml_init(&a, buf, sizeof(buf));
	aml_eisaid(&a, "PNP0103");
	UNIT_OK(&u, emits(&a, "\x0c\x41\xd0\x01\x03", 5), "EISAID PNP0103 = 0x0301d041");
	aml_init(&a, buf, sizeof(buf));
	aml_eisaid(&a, "PNP0c0f");
	UNIT_OK(&u, emits(&a, "\x0c\x41\xd0\x0c\x0f", 5), "EISAID hex digits in either case");
}

/*
 * scope_with_body: Scope(ABCD) whose PkgLength covers `body` bytes after
 * itself (the name and filler). Returns the PkgLength bytes through *pk.
 */
static int scope_with_body(uint8_t *buf, size_t cap, size_t body, const uint8_t **pk,
    size_t *pklen)
{
	struct aml a;
	size_t m;
	int ok = 1;

	aml_init(&a, buf, cap);
	m = aml_scope(&a, "ABCD");
	for (size_t i = 4; i < body; i++) {
		uint8_t b = (uint8_t)(i * 7);

		aml_bytes(&a, &b, 1);
	}
	aml_close(&a, m);
	if (a.err || m != 1)
		return 0;
	*pk = buf + 1;
	*pklen = (buf[1] >> 6) + 1;
	/* The body moved intact behind the PkgLength. */
	ok &= a.len == 1 + *pklen + body;
	ok &= !memcmp(buf + 1 + *pklen, "ABCD", 4);
	for (size_t i = 4; i < body && ok; i++)
		ok &= buf[1 + *pklen + i] == (uint8_t)(i * 7);
	return ok;
}

static void test_pkglen(void)
{
	/* body -> PkgLength bytes; the value counts its own bytes, shortest form. */
	static const struct { size_t body; uint8_t n; uint8_t b[4]; const char *name; } t[] = {
		{ 4, 1, { 0x05 }, "body 4: total 5, 1 byte" },
		{ 62, 1, { 0x3f }, "total 63: the largest 1-byte PkgLength" },
		{ 63, 2, { 0x41, 0x04 }, "body 63: total 64 is not 1-byte, so 65 in 2 bytes" },
		{ 4093, 2, { 0x4f, 0xff }, "total 4095: the largest 2-byte PkgLength" },
		{ 4094, 3, { 0x81, 0x00, 0x01 }, "body 4094: total 4096 needs 3 bytes (4097)" },
		{ 1048572, 3, { 0x8f, 0xff, 0xff }, "total 1048575: the largest 3-byte PkgLength" },
		{ 1048573, 4, { 0xc1, 0x00, 0x00, 0x01 }, "body 1048573: total 1048576 needs 4 bytes" },
	};
	static uint8_t buf[1100000];
	uint8_t small[8];
	struct aml a;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const uint8_t *pk = NULL;
		size_t n = 0;
		int ok = scope_with_body(buf, sizeof(buf), t[i].body, &pk, &n);

		UNIT_OK(&u, ok && n == t[i].n && !memcmp(pk, t[i].b, n), t[i].name);
	}

	/* 2^28 - 1 is the largest PkgLength; a body that needs more is ENOSPC, not wrapped. */
	aml_init(&a, small, sizeof(small));
	a.cap = SIZE_MAX;
	a.len = (1u << 28);	/* mark 0 + 4 reserved + body 2^28 - 4: total 2^28 */
	aml_close(&a, 0);
	UNIT_OK(&u, a.err == -ENOSPC, "a body needing a 2^28 PkgLength is ENOSPC");
}

static void test_constructs(void)
{
	/* \_S5 as acpi.c writes it: Name(\_S5_, Package(4){5, 0, 0, 0}). */
	static const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, 0x05,
		0x00, 0x00, 0x00 };
	/* COM1's _CRS: IO(Decode16, 0x3f8, 0x3f8, 1, 8), IRQNoFlags(){4}, EndTag. */
	static const uint8_t crs[] = { 0x08, '_', 'C', 'R', 'S', 0x11, 0x13, 0x0c, 0x0d, 0, 0, 0,
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00 };
	static const uint8_t dev[] = { 0x5b, 0x82, 0x12, 'C', 'O', 'M', '1', 0x08, '_', 'U', 'I', 'D',
		0x01, 0x08, '_', 'S', 'T', 'A', 0x0a, 0x0f };
	static const uint8_t words[] = {
		0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0x00, 0x00, 0xff, 0x00, 0, 0, 0x00, 0x01,
		0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x0d, 0xff, 0xff, 0, 0, 0x00, 0xf3,
		0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0xc0,
		0xff, 0xff, 0xff, 0xdf, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x20,
	};
	uint8_t buf[256];
	struct aml a;
	size_t m;

	aml_init(&a, buf, sizeof(buf));
	aml_bytes(&a, "\x08", 1);
	aml_name(&a, "\\_S5_");
	m = aml_package(&a, 4);
	aml_int(&a, 5);
	aml_int(&a, 0);
	aml_int(&a, 0);
	aml_int(&a, 0);
	aml_close(&a, m);
	UNIT_OK(&u, emits(&a, s5, sizeof(s5)), "Name(\\_S5_, Package(4){5, 0, 0, 0})");

	aml_init(&a, buf, sizeof(buf));
	m = aml_resources(&a, "_CRS");
	aml_res_io(&a, 0x3f8, 8);
	aml_res_irq(&a, 4);
	aml_res_end(&a, m);
	UNIT_OK(&u, emits(&a, crs, sizeof(crs)), "resource template: BufferSize 13, PkgLength 19");

	aml_init(&a, buf, sizeof(buf));
	m = aml_device(&a, "COM1");
	aml_name_int(&a, "_UID", 1);
	aml_name_int(&a, "_STA", 0xf);
	aml_close(&a, m);
	UNIT_OK(&u, emits(&a, dev, sizeof(dev)), "Device(COM1){...}");

	aml_init(&a, buf, sizeof(buf));
	aml_res_bus(&a, 0, 0xff);
	aml_res_io_window(&a, 0x0d00, 0xffff);
	aml_res_mem32(&a, 0xc0000000u, 0xdfffffffu);
	UNIT_OK(&u, emits(&a, words, sizeof(words)), "bus, I/O window and 32-bit memory descriptors");

	aml_init(&a, buf, sizeof(buf));
	m = aml_scope(&a, "\\_SB_");
	aml_close(&a, m);
	UNIT_OK(&u, emits(&a, "\x10\x06\\_SB_", 7), "empty Scope(\\_SB_)");
	{
		size_t outer, inner;

		aml_init(&a, buf, sizeof(buf));
		outer = aml_package(&a, 2);
		inner = aml_package(&a, 1);
		aml_int(&a, 0x1234);
		aml_close(&a, inner);
		aml_int(&a, 1);
		aml_close(&a, outer);
		UNIT_OK(&u, emits(&a, "\x12\x09\x02\x12\x05\x01\x0b\x34\x12\x01", 10),
		    "nested packages close inside out");
	}
}

static void test_overflow(void)
{
	uint8_t buf[32];
	struct aml a;
	size_t m;

	memset(buf, 0xee, sizeof(buf));
	aml_init(&a, buf, 8);
	aml_bytes(&a, "12345", 5);
	aml_bytes(&a, "6789", 4);
	UNIT_OK(&u, a.err == -ENOSPC && a.len == 5 && buf[5] == 0xee,
	    "a write that does not fit sets ENOSPC and writes nothing");
	aml_bytes(&a, "x", 1);
	aml_int(&a, 7);
	aml_name(&a, "ABCD");
	UNIT_OK(&u, a.len == 5 && buf[5] == 0xee, "after an error every call does nothing");
	aml_init(&a, buf, 8);
	m = aml_scope(&a, "\\_SB_");
	aml_close(&a, m);
	UNIT_OK(&u, a.err == -ENOSPC && a.len <= 8, "a scope that does not fit is ENOSPC");
	aml_init(&a, buf, 20);
	m = aml_resources(&a, "_CRS");
	aml_res_io(&a, 0x3f8, 8);
	aml_res_irq(&a, 4);
	aml_res_end(&a, m);
	UNIT_OK(&u, a.err == -ENOSPC && a.len <= 20, "a resource template that does not fit");
	aml_init(&a, buf, 0);
	aml_int(&a, 0);
	UNIT_OK(&u, a.err == -ENOSPC && a.len == 0, "zero-capacity buffer");
}

/*
 * A small AML parser for the subset ringvm writes: Name, Scope, Device and
 * the data objects. Every PkgLength must end inside its parent and be
 * consumed exactly; Buffer sizes and Package counts must match.
 */
struct ap {
	const uint8_t *b;
	size_t pos;
	int bad;		/* 1 + offset of the first error, 0 when fine */
	char devs[16][5];	/* Device names, in order */
	unsigned ndevs;
	unsigned buffers, packages;
};

static int ap_fail(struct ap *p)
{
	if (!p->bad)
		p->bad = (int)p->pos + 1;
	return -1;
}

static int ap_pkglen(struct ap *p, size_t limit, size_t *end)
{
	size_t start = p->pos, len;
	uint8_t lead;
	unsigned n;

	if (p->pos >= limit)
		return ap_fail(p);
	lead = p->b[p->pos];
	n = lead >> 6;
	if (n && (lead & 0x30))
		return ap_fail(p);
	if (p->pos + 1 + n > limit)
		return ap_fail(p);
	len = n ? lead & 0x0f : lead & 0x3f;
	for (unsigned i = 1; i <= n; i++)
		len |= (size_t)p->b[p->pos + i] << (4 + 8 * (i - 1));
	/* The encoder promises the shortest form. */
	if ((n == 1 && len < 64) || (n == 2 && len < 4096) || (n == 3 && len < (1u << 20)))
		return ap_fail(p);
	if (len < n + 1 || start + len > limit)
		return ap_fail(p);
	p->pos += n + 1;
	*end = start + len;
	return 0;
}

static int ap_name(struct ap *p, size_t limit, char *out)
{
	if (p->pos < limit && p->b[p->pos] == '\\')
		p->pos++;
	if (p->pos + 4 > limit)
		return ap_fail(p);
	for (int i = 0; i < 4; i++) {
		uint8_t c = p->b[p->pos + i];

		if (!((c >= 'A' && c <= 'Z') || c == '_' || (i && c >= '0' && c <= '9')))
			return ap_fail(p);
		if (out)
			out[i] = (char)c;
	}
	if (out)
		out[4] = '\0';
	p->pos += 4;
	return 0;
}

/* ap_int: an integer constant; its value in *v. */
static int ap_int(struct ap *p, size_t limit, uint64_t *v)
{
	static const unsigned width[16] = { [0x0a] = 1, [0x0b] = 2, [0x0c] = 4, [0x0e] = 8 };
	uint8_t op;
	unsigned w;

	if (p->pos >= limit)
		return ap_fail(p);
	op = p->b[p->pos];
	if (op == 0x00 || op == 0x01 || op == 0xff) {
		*v = op == 0xff ? UINT64_MAX : op;
		p->pos++;
		return 0;
	}
	w = op < 16 ? width[op] : 0;
	if (!w || p->pos + 1 + w > limit)
		return ap_fail(p);
	*v = 0;
	for (unsigned i = 0; i < w; i++)
		*v |= (uint64_t)p->b[p->pos + 1 + i] << (8 * i);
	p->pos += 1 + w;
	return 0;
}

/* ap_restemplate: small and large resource descriptors ending in an End Tag. */
static int ap_restemplate(struct ap *p, size_t end)
{
	while (p->pos < end) {
		uint8_t tag = p->b[p->pos];
		size_t len;

		if (tag & 0x80) {
			if (p->pos + 3 > end)
				return ap_fail(p);
			len = 3 + le16(p->b + p->pos + 1);
		} else {
			len = 1 + (tag & 7);
		}
		if (p->pos + len > end)
			return ap_fail(p);
		if (!(tag & 0x80) && (tag >> 3) == 0x0f) {	/* End Tag: must be last */
			p->pos += len;
			return p->pos == end ? 0 : ap_fail(p);
		}
		p->pos += len;
	}
	return ap_fail(p);
}

static int ap_data(struct ap *p, size_t limit)
{
	size_t end;
	uint64_t v;

	if (p->pos >= limit)
		return ap_fail(p);
	switch (p->b[p->pos]) {
	case 0x0d:	/* String: ASCII up to a NUL */
		for (p->pos++; p->pos < limit && p->b[p->pos]; p->pos++)
			if (p->b[p->pos] > 0x7f)
				return ap_fail(p);
		if (p->pos >= limit)
			return ap_fail(p);
		p->pos++;
		return 0;
	case 0x11:	/* Buffer: PkgLength BufferSize bytes, here always a resource template */
		p->pos++;
		if (ap_pkglen(p, limit, &end) || ap_int(p, end, &v) || v != end - p->pos)
			return ap_fail(p);
		p->buffers++;
		return ap_restemplate(p, end);
	case 0x12: {	/* Package: PkgLength NumElements elements */
		unsigned n = 0, want;

		p->pos++;
		if (ap_pkglen(p, limit, &end) || p->pos >= end)
			return ap_fail(p);
		want = p->b[p->pos++];
		while (p->pos < end) {
			if (ap_data(p, end))
				return -1;
			n++;
		}
		p->packages++;
		return n == want ? 0 : ap_fail(p);
	}
	default:
		return ap_int(p, limit, &v);
	}
}

static int ap_terms(struct ap *p, size_t end)
{
	while (p->pos < end) {
		size_t inner;
		uint8_t op = p->b[p->pos];

		if (op == 0x08) {
			p->pos++;
			if (ap_name(p, end, NULL) || ap_data(p, end))
				return -1;
		} else if (op == 0x10) {
			p->pos++;
			if (ap_pkglen(p, end, &inner) || ap_name(p, inner, NULL) || ap_terms(p, inner))
				return -1;
		} else if (op == 0x5b && p->pos + 1 < end && p->b[p->pos + 1] == 0x82) {
			char name[5];

			p->pos += 2;
			if (ap_pkglen(p, end, &inner) || ap_name(p, inner, name))
				return -1;
			if (p->ndevs < 16)
				memcpy(p->devs[p->ndevs++], name, 5);
			if (ap_terms(p, inner))
				return -1;
		} else {
			return ap_fail(p);
		}
	}
	return p->pos == end ? 0 : ap_fail(p);
}

static int aml_parses(const uint8_t *b, size_t len, struct ap *p)
{
	memset(p, 0, sizeof(*p));
	p->b = b;
	return ap_terms(p, len) == 0 && !p->bad;
}

static int sums_to_zero(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s == 0;
}

/*
 * A machine as main builds it, without KVM: RAM, PCI with its conf1 ports,
 * the platform devices (created as devices_create does, without linking
 * the whole device table), and a loop that only records stop requests.
 */
static struct vm vm;
static struct rv_config mcfg;
static struct loop mloop;

static int machine(uint64_t mem, unsigned vcpus)
{
	static const struct device_ops *const platform[] = { &serial_ops, &pm_ops, &pvpanic_ops };
	uint64_t base[GMEM_MAX_REGIONS], limit[GMEM_MAX_REGIONS];
	unsigned n = arch_mem_layout(mem, base, limit);
	struct rv_err e;
	char why[256];

	memset(&vm, 0, sizeof(vm));
	memset(&mcfg, 0, sizeof(mcfg));
	memset(&mloop, 0, sizeof(mloop));
	vm.kvm_fd = vm.vm_fd = -1;
	vm.nr_vcpus = vcpus;
	vm.cfg = &mcfg;
	vm.loop = &mloop;
	if (gmem_init(&vm.mem, mem, base, limit, n))
		return -1;
	if (pci_init(&vm, &e) || arch_pci_init(&vm, vm.pci, &e))
		return -1;
	for (unsigned i = 0; i < 3; i++) {
		struct dev_instance *d = &mcfg.dev[mcfg.nr_dev++];

		d->ops = platform[i];
		if (d->ops->create(&vm, NULL, &d->state, why, sizeof(why)))
			return -1;
	}
	return 0;
}

static void machine_fini(void)
{
	while (mcfg.nr_dev) {
		struct dev_instance *d = &mcfg.dev[--mcfg.nr_dev];

		if (d->state)
			d->ops->destroy(&vm, d->state);
	}
	arch_pci_fini(&vm, vm.pci);
	pci_fini(&vm);
	gmem_fini(&vm.mem);
}

/* build: acpi_build as main reaches it through arch_boot_load; 0 or -errno (stderr: the reason). */
static int build(void)
{
	struct rv_err e;
	int r = acpi_build(&vm, &e);

	if (r)
		fprintf(stderr, "ringvm: %s\n", e.msg);
	return r;
}

/* table: the ACPI table at `gpa` with `sig`, its length checked against RAM. */
static const uint8_t *table(uint64_t gpa, const char *sig, uint32_t *len)
{
	const uint8_t *h = gmem_ptr(&vm.mem, gpa, 36);

	if (!h || memcmp(h, sig, 4))
		return NULL;
	*len = le32(h + 4);
	return gmem_ptr(&vm.mem, gpa, *len);
}

static void test_tables(void)
{
	const uint8_t *rsdp, *xsdt, *fadt, *dsdt, *madt, *p;
	uint32_t xlen = 0, flen = 0, dlen = 0, mlen = 0;
	uint64_t fgpa, mgpa, dgpa, span[5][2];
	struct ap ap;
	unsigned lapics = 0, ioapics = 0, ok;
	uint8_t v;

	if (machine(64 << 20, 4)) {
		UNIT_OK(&u, 0, "machine setup");
		return;
	}
	UNIT_OK(&u, build() == 0, "acpi_build succeeds");
	rsdp = gmem_ptr(&vm.mem, vm.arch.rsdp_gpa, 36);
	UNIT_OK(&u, vm.arch.rsdp_gpa == X86_ACPI_GPA && rsdp && !memcmp(rsdp, "RSD PTR ", 8),
	    "RSDP first in the BIOS area");
	UNIT_OK(&u, sums_to_zero(rsdp, 20) && sums_to_zero(rsdp, 36), "RSDP checksums (20 and 36 bytes)");
	UNIT_OK(&u, rsdp[15] == 2 && le32(rsdp + 20) == 36 && !memcmp(rsdp + 9, "RINGVM", 6),
	    "RSDP revision 2, length 36, OEM ID");

	xsdt = table(le64(rsdp + 24), "XSDT", &xlen);
	UNIT_OK(&u, xsdt && xlen == 36 + 16 && sums_to_zero(xsdt, xlen), "XSDT: two entries, checksum");
	if (!xsdt)
		return;
	fgpa = le64(xsdt + 36);
	mgpa = le64(xsdt + 44);
	fadt = table(fgpa, "FACP", &flen);
	madt = table(mgpa, "APIC", &mlen);
	UNIT_OK(&u, fadt && flen == 276 && fadt[8] == 6 && sums_to_zero(fadt, flen),
	    "FADT: revision 6, 276 bytes, checksum");
	if (!fadt || !madt)
		return;
	dgpa = le64(fadt + 140);
	UNIT_OK(&u, le32(fadt + 40) == dgpa, "FADT DSDT and X_DSDT agree");
	UNIT_OK(&u, (le32(fadt + 112) & (1u << 20)) && (le32(fadt + 112) & (1u << 10)),
	    "FADT flags: HW_REDUCED_ACPI and RESET_REG_SUP");
	UNIT_OK(&u, fadt[116] == 1 && fadt[117] == 8 && le64(fadt + 120) == X86_PM_RESET &&
	    fadt[128] == X86_PM_RESET_VALUE, "FADT reset register: I/O port, value");
	UNIT_OK(&u, fadt[244] == 1 && le64(fadt + 248) == X86_PM_SLEEP_CTL && fadt[256] == 1 &&
	    le64(fadt + 260) == X86_PM_SLEEP_STS, "FADT sleep control and status registers");
	UNIT_OK(&u, fadt[131] == 5 && !memcmp(fadt + 268, "RINGVM", 6), "FADT minor 5, hypervisor ID");

	dsdt = table(dgpa, "DSDT", &dlen);
	UNIT_OK(&u, dsdt && dlen > 36 && dsdt[8] == 2 && sums_to_zero(dsdt, dlen),
	    "DSDT: revision 2, checksum");
	if (!dsdt)
		return;
	UNIT_OK(&u, aml_parses(dsdt + 36, dlen - 36, &ap),
	    "DSDT parses end to end with exact lengths");
	if (ap.bad)
		printf("# DSDT AML error at offset %d\n", ap.bad - 1);
	UNIT_OK(&u, ap.ndevs == 3 && !strcmp(ap.devs[0], "PCI0") && !strcmp(ap.devs[1], "COM1") &&
	    !strcmp(ap.devs[2], "PEVT"), "DSDT devices: PCI0, COM1, PEVT in order");
	UNIT_OK(&u, ap.buffers == 3 && ap.packages == 1 + 1 + 31,
	    "three _CRS buffers; \\_S5 and _PRT with 31 entries");
	UNIT_OK(&u, !memcmp(dsdt + 36, "\x08\\_S5_\x12\x07\x04\x0a\x05\x00\x00\x00", 14),
	    "DSDT starts with \\_S5 = {5, 0, 0, 0}");
	UNIT_OK(&u, memmem(dsdt, dlen, "\x08_HID\x0c\x41\xd0\x05\x01", 10) &&
	    memmem(dsdt, dlen, "\x47\x01\xf8\x03\xf8\x03\x01\x08\x22\x10\x00\x79\x00", 13),
	    "COM1: PNP0501, I/O 0x3f8 x 8, IRQ 4");
	UNIT_OK(&u, memmem(dsdt, dlen, "\x08_HID\x0dQEMU0001", 15) &&
	    memmem(dsdt, dlen, "\x47\x01\x05\x05\x05\x05\x01\x01\x79\x00", 10),
	    "pvpanic: QEMU0001, I/O 0x505");
	UNIT_OK(&u, memmem(dsdt, dlen, "\x08_HID\x0c\x41\xd0\x0a\x03", 10) &&
	    memmem(dsdt, dlen, "\x12\x0b\x04\x0c\xff\xff\x1f\x00\x00\x00\x0a\x17", 12),
	    "PCI0: PNP0A03; _PRT slot 31 -> GSI 23");
	{
		/* The oracle has teeth: one corrupted PkgLength is caught. */
		static uint8_t copy[4096];
		size_t sb = 14;	/* Scope(\_SB_) follows the 14 bytes of \_S5 */

		memcpy(copy, dsdt + 36, dlen - 36);
		ok = copy[sb] == 0x10;
		copy[sb + 1]++;
		UNIT_OK(&u, ok && !aml_parses(copy, dlen - 36, &ap), "a corrupted PkgLength is caught");
	}

	UNIT_OK(&u, mlen == 44 + 4 * 8 + 12 && madt[8] == 5 && sums_to_zero(madt, mlen),
	    "MADT: 4 LAPICs and an IOAPIC, checksum");
	UNIT_OK(&u, le32(madt + 36) == X86_LAPIC_GPA && le32(madt + 40) == 0,
	    "MADT: LAPIC address, no 8259 flag");
	ok = 1;
	for (p = madt + 44; p < madt + mlen; p += p[1]) {
		if (p[1] < 2)
			break;
		if (p[0] == 0) {
			ok &= p[1] == 8 && p[2] == lapics && p[3] == lapics && le32(p + 4) == 1;
			lapics++;
		} else if (p[0] == 1) {
			ok &= p[1] == 12 && le32(p + 4) == X86_IOAPIC_GPA && le32(p + 8) == 0;
			ioapics++;
		}
	}
	UNIT_OK(&u, ok && lapics == 4 && ioapics == 1 && p == madt + mlen,
	    "MADT entries: LAPIC ids 0-3 enabled, IOAPIC at its address, GSI base 0");

	/* Every table inside [X86_ACPI_GPA, X86_ACPI_END), none overlapping. */
	span[0][0] = vm.arch.rsdp_gpa;	span[0][1] = 36;
	span[1][0] = le64(rsdp + 24);	span[1][1] = xlen;
	span[2][0] = fgpa;		span[2][1] = flen;
	span[3][0] = dgpa;		span[3][1] = dlen;
	span[4][0] = mgpa;		span[4][1] = mlen;
	ok = 1;
	for (int i = 0; i < 5; i++) {
		ok &= span[i][0] >= X86_ACPI_GPA && span[i][0] + span[i][1] <= X86_ACPI_END;
		for (int j = 0; j < i; j++)
			ok &= span[i][0] + span[i][1] <= span[j][0] ||
			    span[j][0] + span[j][1] <= span[i][0];
	}
	UNIT_OK(&u, ok, "tables inside the ACPI area, disjoint");

	/* The tables describe the devices that are there. */
	UNIT_OK(&u, bus_read(&vm.pio, X86_COM1_PORT + 7, &v, 1) &&
	    bus_read(&vm.pio, X86_PVPANIC_PORT, &v, 1) && bus_read(&vm.pio, 0xcf8, &v, 1),
	    "COM1, pvpanic and conf1 ports are claimed");
	v = (uint8_t)(5 << 2 | 0x20);	/* SLP_TYP from \_S5, SLP_EN */
	bus_write(&vm.pio, le64(fadt + 248), &v, 1);
	UNIT_OK(&u, mloop.stopping && mloop.exit_status == RV_EXIT_POWEROFF,
	    "writing \\_S5 to the FADT sleep register powers off");
	mloop.stopping = false;
	v = fadt[128];
	bus_write(&vm.pio, le64(fadt + 120), &v, 1);
	UNIT_OK(&u, mloop.stopping && mloop.exit_status == RV_EXIT_REBOOT,
	    "writing the FADT reset value to the reset register reboots");
	machine_fini();

	/* The most vCPUs ringvm allows still fit. */
	if (machine(16 << 20, RV_MAX_VCPUS)) {
		UNIT_OK(&u, 0, "machine setup, 64 vCPUs");
		return;
	}
	build();
	rsdp = gmem_ptr(&vm.mem, vm.arch.rsdp_gpa, 36);
	xsdt = table(le64(rsdp + 24), "XSDT", &xlen);
	madt = xsdt ? table(le64(xsdt + 44), "APIC", &mlen) : NULL;
	UNIT_OK(&u, madt && mlen == 44 + RV_MAX_VCPUS * 8 + 12 && sums_to_zero(madt, mlen) &&
	    madt[44 + 63 * 8 + 3] == 63, "64 vCPUs: MADT length and last APIC id");
	machine_fini();
}

static void test_checksum(void)
{
	uint8_t b[4] = { 1, 2, 3, 0 };

	UNIT_OK(&u, acpi_checksum(b, 3) == 0xfa, "acpi_checksum of 1, 2, 3 is 0xfa");
	b[3] = acpi_checksum(b, 3);
	UNIT_OK(&u, sums_to_zero(b, 4) && acpi_checksum(b, 4) == 0, "checksum byte makes the sum 0");
	UNIT_OK(&u, acpi_checksum(b, 0) == 0, "empty range");
}

/* Failure paths: a description x86 cannot express, or a DSDT over its buffer. */
static int fake_describe(const void *state, struct dev_desc *d)
{
	(void)state;
	*d = (struct dev_desc){ .acpi_name = "FAKE", .acpi_hid = "PNP0C0F", .irq = -1,
	    .res = { { DEV_RES_PIO, 0xfff0, 0x100 } }, .nr_res = 1 };
	return 1;
}

static int fake_create(struct vm *v, const void *conf, void **state, char *err, size_t errlen)
{
	(void)v; (void)conf; (void)err; (void)errlen;
	*state = &mloop;	/* any non-NULL state: the instance exists */
	return 0;
}

static int fake_destroy(struct vm *v, void *state)
{
	(void)v;
	(void)state;
	return 0;
}

static const struct device_ops fail_ops = {
	.name = "fake", .create = fake_create, .destroy = fake_destroy, .describe = fake_describe,
};

struct child {
	int status;
	char err[1024];
};

static void run_build(const struct device_ops *ops, int low_ram_missing, struct child *c)
{
	int p[2];
	pid_t pid;
	size_t len = 0;
	ssize_t n;

	memset(c, 0, sizeof(*c));
	fflush(stdout);
	if (pipe(p) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		struct itimerval it = { .it_value = { .tv_usec = 200000 } };
		const uint64_t base[1] = { 0x100000 }, limit[1] = { 16 << 20 };

		dup2(p[1], 2);
		close(p[0]);
		close(1);
		setitimer(ITIMER_REAL, &it, NULL);
		memset(&vm, 0, sizeof(vm));
		memset(&mcfg, 0, sizeof(mcfg));
		vm.nr_vcpus = 1;
		vm.cfg = &mcfg;
		if (low_ram_missing ? gmem_init(&vm.mem, 16 << 20, base, limit, 1) :
		    machine(16 << 20, 1))
			_exit(97);
		if (ops) {
			struct dev_instance *d = &mcfg.dev[mcfg.nr_dev++];

			d->ops = ops;
			ops->create(&vm, NULL, &d->state, NULL, 0);
		}
		_exit(build() ? RV_EXIT_FAILURE : 0);
	}
	close(p[1]);
	while (len < sizeof(c->err) - 1 && (n = read(p[0], c->err + len, sizeof(c->err) - 1 - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	waitpid(pid, &c->status, 0);
}

static int died(const struct child *c, const char *line)
{
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != RV_EXIT_FAILURE || strcmp(c->err, line)) {
		printf("# status %#x, stderr '%.*s'\n", c->status, (int)strcspn(c->err, "\n"), c->err);
		return 0;
	}
	return 1;
}

static void test_fatal(void)
{
	struct child c;

	uint8_t small[64];
	struct aml aml;
	char why[128];

	run_build(&fail_ops, 0, &c);
	UNIT_OK(&u, died(&c, "ringvm: ACPI: fake has a description x86 cannot express\n"),
	    "a description beyond 16-bit ports: exit 1 naming the device");
	machine(16 << 20, 1);
	aml_init(&aml, small, sizeof(small));
	UNIT_OK(&u, dsdt_build(&vm, &aml, why, sizeof(why)) == -ENOSPC &&
	    !strcmp(why, "ACPI: the DSDT is larger than 64 bytes"),
	    "a DSDT over its buffer: -ENOSPC and one line");
	machine_fini();
	run_build(NULL, 1, &c);
	UNIT_OK(&u, died(&c, "ringvm: ACPI area is outside guest memory\n"),
	    "no RAM under the ACPI area: exit 1");
	run_build(NULL, 0, &c);
	UNIT_OK(&u, WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0 && !c.err[0],
	    "the real machine builds silently");
}

int main(void)
{
	test_ints();
	test_names();
	test_pkglen();
	test_constructs();
	test_overflow();
	test_tables();
	test_checksum();
	test_fatal();
	return unit_done(&u);
}
