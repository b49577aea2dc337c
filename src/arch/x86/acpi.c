/*
 * acpi.c (x86): build the ACPI tables: RSDP -> XSDT -> {FADT -> DSDT, MADT}.
 * Hardware-reduced ACPI (FADT flag HW_REDUCED_ACPI) keeps the guest off the
 * legacy probes (8259, PIT calibration, CMOS RTC, i8042) that cost seconds
 * under nested virtualisation; the MADT gives SMP; the DSDT names the
 * platform devices and \_S5 for power-off.
 * Reference: ACPI 6.5, section 5.2 (ACPI System Description Tables).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "acpi.h"
#include "aml.h"
#include "arch.h"
#include "dsdt.h"
#include "log.h"
#include "vm.h"

#define ACPI_OEM_ID "RINGVM"
#define ACPI_OEM_TABLE "RINGVM  "
#define ACPI_CREATOR "RGVM"

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;	/* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum;	/* over all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

/* Generic Address Structure. */
struct acpi_gas {
	uint8_t space;		/* 1 = system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access;		/* 1 = byte */
	uint64_t address;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t legacy[57];	/* ACPI_ENABLE .. CENTURY: unused when hardware-reduced */
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_legacy[8];	/* X_PM1a_EVT_BLK .. X_GPE1_BLK */
	struct acpi_gas sleep_control;
	struct acpi_gas sleep_status;
	char hypervisor_id[8];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6 is 276 bytes");

#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED (1u << 20)
#define FADT_F_PWR_BUTTON (1u << 4)	/* power button is a control method, i.e. none */
#define FADT_F_SLP_BUTTON (1u << 5)
#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)	/* and no 8042 bit: no i8042 either */

struct madt_lapic {
	uint8_t type, length, uid, apic_id;
	uint32_t flags;		/* 1 = enabled */
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

/* The table area: a bump allocator over [X86_ACPI_GPA, X86_ACPI_END). */
struct acpi_area {
	uint8_t *base;
	uint64_t gpa;
	size_t used;
	size_t cap;
	bool full;		/* an allocation did not fit */
};

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

/*
 * acpi_alloc: reserve `len` zeroed bytes, 16-aligned, and return their host
 * and guest addresses; NULL (and ar->full set, which acpi_build reports)
 * when they do not fit.
 */
static void *acpi_alloc(struct acpi_area *ar, size_t len, uint64_t *gpa)
{
	size_t off = (ar->used + 15) & ~(size_t)15;
	void *p;

	if (ar->full || len > ar->cap || off > ar->cap - len) {
		ar->full = true;
		return NULL;
	}
	ar->used = off + len;
	p = ar->base + off;
	memset(p, 0, len);
	*gpa = ar->gpa + off;
	return p;
}

static void acpi_header(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR, 4);
	h->creator_revision = 1;
}

static void acpi_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = acpi_checksum(h, h->length);
}

/* acpi_dsdt: the DSDT around the body dsdt.c builds. Returns its address, or 0 on failure. */
static uint64_t acpi_dsdt(struct vm *vm, struct acpi_area *ar, char *err, size_t errlen)
{
	uint8_t body[4096];
	struct acpi_header *h;
	struct aml aml;
	uint64_t gpa;

	aml_init(&aml, body, sizeof(body));
	if (dsdt_build(vm, &aml, err, errlen))
		return 0;
	h = acpi_alloc(ar, sizeof(*h) + aml.len, &gpa);
	if (!h)
		return 0;
	acpi_header(h, "DSDT", (uint32_t)(sizeof(*h) + aml.len), 2);
	memcpy(h + 1, body, aml.len);
	acpi_seal(h);
	return gpa;
}

static uint64_t acpi_fadt(struct acpi_area *ar, uint64_t dsdt)
{
	struct acpi_fadt *f;
	uint64_t gpa;

	f = acpi_alloc(ar, sizeof(*f), &gpa);
	if (!f)
		return 0;
	acpi_header(&f->h, "FACP", sizeof(*f), 6);
	f->dsdt = (uint32_t)dsdt;
	f->x_dsdt = dsdt;
	f->flags = FADT_F_HW_REDUCED | FADT_F_RESET_REG_SUP | FADT_F_PWR_BUTTON |
	    FADT_F_SLP_BUTTON;
	f->iapc_boot_arch = IAPC_VGA_NOT_PRESENT | IAPC_CMOS_RTC_NOT_PRESENT;
	f->reset_reg = (struct acpi_gas){ 1, 8, 0, 1, X86_PM_RESET };
	f->reset_value = X86_PM_RESET_VALUE;
	f->minor_version = 5;
	f->sleep_control = (struct acpi_gas){ 1, 8, 0, 1, X86_PM_SLEEP_CTL };
	f->sleep_status = (struct acpi_gas){ 1, 8, 0, 1, X86_PM_SLEEP_STS };
	memcpy(f->hypervisor_id, "RINGVM\0\0", 8);
	acpi_seal(&f->h);
	return gpa;
}

static uint64_t acpi_madt(struct vm *vm, struct acpi_area *ar)
{
	size_t len = sizeof(struct acpi_header) + 8 +
	    vm->nr_vcpus * sizeof(struct madt_lapic) + sizeof(struct madt_ioapic);
	struct acpi_header *h;
	uint8_t *p;
	uint64_t gpa;

	h = acpi_alloc(ar, len, &gpa);
	if (!h)
		return 0;
	acpi_header(h, "APIC", (uint32_t)len, 5);
	p = (uint8_t *)(h + 1);
	memcpy(p, &(uint32_t){ (uint32_t)X86_LAPIC_GPA }, 4);	/* local APIC address */
	p += 8;							/* then flags = 0: no 8259 */
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct madt_lapic l = { 0, sizeof(l), (uint8_t)i, (uint8_t)i, 1 };

		memcpy(p, &l, sizeof(l));
		p += sizeof(l);
	}
	struct madt_ioapic io = { 1, sizeof(io), 0, 0, (uint32_t)X86_IOAPIC_GPA, 0 };
	memcpy(p, &io, sizeof(io));
	acpi_seal(h);
	return gpa;
}

int acpi_build(struct vm *vm, struct rv_err *err)
{
	struct acpi_area ar = { .gpa = X86_ACPI_GPA, .cap = X86_ACPI_END - X86_ACPI_GPA };
	uint64_t entries[2], xsdt_gpa, rsdp_gpa, dsdt_gpa;
	struct acpi_header *xsdt;
	struct acpi_rsdp *rsdp;
	char why[256];

	ar.base = gmem_ptr(&vm->mem, ar.gpa, ar.cap);
	if (!ar.base)
		return rv_fail(err, RV_EXIT_FAILURE, 0, "ACPI area is outside guest memory");
	/* The RSDP first, at the start of the BIOS area, where scans look. */
	rsdp = acpi_alloc(&ar, sizeof(*rsdp), &rsdp_gpa);
	dsdt_gpa = acpi_dsdt(vm, &ar, why, sizeof(why));
	if (!dsdt_gpa && !ar.full)
		return rv_fail(err, RV_EXIT_FAILURE, 0, "%s", why);

	entries[0] = acpi_fadt(&ar, dsdt_gpa);
	entries[1] = acpi_madt(vm, &ar);

	xsdt = acpi_alloc(&ar, sizeof(*xsdt) + sizeof(entries), &xsdt_gpa);
	if (ar.full)
		return rv_fail(err, RV_EXIT_FAILURE, 0, "ACPI tables do not fit in %zu bytes", ar.cap);
	acpi_header(xsdt, "XSDT", sizeof(*xsdt) + sizeof(entries), 1);
	memcpy(xsdt + 1, entries, sizeof(entries));
	acpi_seal(xsdt);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt = xsdt_gpa;
	rsdp->checksum = acpi_checksum(rsdp, 20);
	rsdp->ext_checksum = acpi_checksum(rsdp, sizeof(*rsdp));
	vm->arch.rsdp_gpa = rsdp_gpa;
	return 0;
}
