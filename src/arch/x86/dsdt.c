/*
 * dsdt.c (x86): the DSDT's body: \_S5 for power-off, then inside \_SB the
 * PCI host bridge (its configuration ports, BAR window and INTx routing)
 * and one Device() per instance that describes itself (device_ops
 * describe), translated from the neutral description into AML.
 *
 * Exported: dsdt_build (dsdt.h). acpi.c wraps the body in its header.
 */
#include <errno.h>
#include <string.h>

#include "aml.h"
#include "arch.h"
#include "config.h"
#include "device.h"
#include "dsdt.h"
#include "pci.h"
#include "vm.h"

/* dsdt_s5: \_S5 with SLP_TYP 5 for the sleep-control register (src/arch/x86/pm.c). */
static void dsdt_s5(struct aml *aml)
{
	size_t m;

	aml_bytes(aml, "\x08", 1);
	aml_name(aml, "\\_S5_");
	m = aml_package(aml, 4);
	aml_int(aml, 5);
	aml_int(aml, 0);
	aml_int(aml, 0);
	aml_int(aml, 0);
	aml_close(aml, m);
}

/* dsdt_pci: Device(PCI0) with its resources and interrupt routing (_PRT). */
static void dsdt_pci(struct aml *aml)
{
	size_t dev, crs, prt;

	dev = aml_device(aml, "PCI0");
	aml_name_eisaid(aml, "_HID", "PNP0A03");
	aml_name_int(aml, "_SEG", 0);
	aml_name_int(aml, "_BBN", 0);
	aml_name_int(aml, "_UID", 0);
	crs = aml_resources(aml, "_CRS");
	aml_res_bus(aml, 0, 0);
	aml_res_io(aml, X86_CONF1_PORT, 8);
	aml_res_io_window(aml, 0x0000, 0x0cf7);
	aml_res_io_window(aml, 0x0d00, 0xffff);
	aml_res_mem32(aml, (uint32_t)X86_PCI_MMIO_GPA,
	    (uint32_t)(X86_PCI_MMIO_GPA + X86_PCI_MMIO_SIZE - 1));
	aml_res_end(aml, crs);
	/* _PRT: pin A of slot s goes to its GSI (level, active low as PCI wants). */
	aml_bytes(aml, "\x08", 1);
	aml_name(aml, "_PRT");
	prt = aml_package(aml, PCI_SLOTS - 1);
	for (unsigned s = 1; s < PCI_SLOTS; s++) {
		size_t e = aml_package(aml, 4);

		aml_int(aml, (uint64_t)s << 16 | 0xffff);
		aml_int(aml, 0);
		aml_int(aml, 0);
		aml_int(aml, arch_pci_intx_gsi(s));
		aml_close(aml, e);
	}
	aml_close(aml, prt);
	aml_close(aml, dev);
}

/* dsdt_is_eisaid: "PNP0501" (three letters, four hex digits) is compressed; others are strings. */
static bool dsdt_is_eisaid(const char *id)
{
	if (strlen(id) != 7)
		return false;
	for (int i = 0; i < 3; i++)
		if (id[i] < 'A' || id[i] > 'Z')
			return false;
	for (int i = 3; i < 7; i++)
		if (!strchr("0123456789ABCDEF", id[i]))
			return false;
	return true;
}

/*
 * dsdt_device: one Device() from a neutral description. Returns 0, or
 * -EINVAL for a description x86 cannot express (no ACPI name or HID, a
 * resource beyond 16-bit ports or 32-bit memory).
 */
static int dsdt_device(struct aml *aml, const struct dev_desc *d)
{
	size_t dev, crs;

	if (!d->acpi_name || strlen(d->acpi_name) != 4 || !d->acpi_hid)
		return -EINVAL;
	dev = aml_device(aml, d->acpi_name);
	if (dsdt_is_eisaid(d->acpi_hid))
		aml_name_eisaid(aml, "_HID", d->acpi_hid);
	else
		aml_name_str(aml, "_HID", d->acpi_hid);
	if (d->acpi_uid)
		aml_name_int(aml, "_UID", d->acpi_uid);
	crs = aml_resources(aml, "_CRS");
	for (unsigned i = 0; i < d->nr_res && i < DEV_DESC_MAX_RES; i++) {
		uint64_t base = d->res[i].base, len = d->res[i].len;

		if (d->res[i].kind == DEV_RES_PIO && base + len <= 0x10000 && len && len < 256)
			aml_res_io(aml, (uint16_t)base, (uint8_t)len);
		else if (d->res[i].kind == DEV_RES_MMIO && len && base + len <= (1ull << 32))
			aml_res_mem32(aml, (uint32_t)base, (uint32_t)(base + len - 1));
		else
			return -EINVAL;
	}
	if (d->irq >= 0)
		aml_res_irq(aml, (unsigned)d->irq);
	aml_res_end(aml, crs);
	aml_close(aml, dev);
	return 0;
}

int dsdt_build(const struct vm *vm, struct aml *aml, char *err, size_t errlen)
{
	const struct rv_config *cfg = vm->cfg;
	size_t sb;

	dsdt_s5(aml);
	sb = aml_scope(aml, "\\_SB_");
	if (vm->pci)
		dsdt_pci(aml);
	for (unsigned i = 0; cfg && i < cfg->nr_dev; i++) {
		const struct dev_instance *d = &cfg->dev[i];
		struct dev_desc desc;

		if (!d->state || !d->ops->describe || !d->ops->describe(d->state, &desc))
			continue;
		if (dsdt_device(aml, &desc)) {
			snprintf(err, errlen, "ACPI: %s has a description x86 cannot express",
			    d->ops->name);
			return -EINVAL;
		}
	}
	aml_close(aml, sb);
	if (aml->err) {
		snprintf(err, errlen, "ACPI: the DSDT is larger than %zu bytes", aml->cap);
		return -ENOSPC;
	}
	return 0;
}
