/*
 * arm64_fdt.c: the guest's flattened device tree, written with libfdt's
 * sequential-write API from struct arm64_fdt and arch_types.h, in the shape
 * Linux expects on QEMU's -M virt: memory, CPUs with PSCI, the architected
 * timer, a GICv2 or GICv3 (with an optional ITS), a generic ECAM PCI host
 * bridge with INTx swizzled onto four SPIs, the platform devices' nodes, and
 * /chosen. Every libfdt call is checked; nothing is kept between calls.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "arch_types.h"
#include "arm64_fdt.h"

/* Phandles: fixed, since the tree has exactly these two providers. */
#define ARM64_FDT_PHANDLE_GIC	1
#define ARM64_FDT_PHANDLE_ITS	2

/* The GIC binding's interrupt specifier: type, number, flags. */
#define ARM64_FDT_GIC_SPI	0
#define ARM64_FDT_GIC_PPI	1
#define ARM64_FDT_IRQ_EDGE_RISING	1
#define ARM64_FDT_IRQ_LEVEL_HIGH	4
#define ARM64_FDT_IRQ_LEVEL_LOW		8

/* PCI: the address's phys.hi space code for 32-bit memory, and the slots mapped. */
#define ARM64_FDT_PCI_MEM32	0x02000000u
#define ARM64_FDT_PCI_SLOTS	4
#define ARM64_FDT_PCI_PINS	4

#define ARM64_FDT_UART_CLOCK	1843200u
#define ARM64_FDT_MAX_CELLS	160	/* the interrupt-map: 16 entries of 10 cells */
#define ARM64_FDT_NAME_MAX	96	/* node names and the serial's path */

/*
 * ARM64_FDT_CALL: run one libfdt call; on failure return from the caller
 * with err filled by arm64_fdt_fail, naming the call.
 */
#define ARM64_FDT_CALL(fdt, err, call) do {					\
	int ret_ = (call);							\
	if (ret_ < 0)								\
		return arm64_fdt_fail((fdt), (err), ret_, #call);		\
} while (0)

/*
 * arm64_fdt_fail: turn libfdt's error `ret` from `what` into an rv_err:
 * -ENOSPC when the buffer is full, -EINVAL for anything else. Returns
 * the -errno for the caller to return.
 */
static int arm64_fdt_fail(const void *fdt, struct rv_err *err, int ret, const char *what)
{
	if (ret == -FDT_ERR_NOSPACE)
		return rv_fail(err, RV_EXIT_FAILURE, ENOSPC,
		    "device tree: its buffer of %u bytes is too small (%s)",
		    fdt_totalsize(fdt), what);
	return rv_fail(err, RV_EXIT_FAILURE, EINVAL, "device tree: %s: %s", what, fdt_strerror(ret));
}

/*
 * arm64_fdt_cells: property `name` from n host-order 32-bit cells
 * (n <= ARM64_FDT_MAX_CELLS). Returns 0 or a negative libfdt error.
 */
static int arm64_fdt_cells(void *fdt, const char *name, const uint32_t *v, unsigned n)
{
	fdt32_t be[ARM64_FDT_MAX_CELLS];
	unsigned i;

	if (n > ARM64_FDT_MAX_CELLS)
		return -FDT_ERR_INTERNAL;
	for (i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(v[i]);
	return fdt_property(fdt, name, be, (int)(n * sizeof(be[0])));
}

/*
 * arm64_fdt_reg2: a "reg" of n (1 or 2) <address size> pairs, given as
 * pairs[] = { address, size, ... }, in two cells each (the root's and the
 * GIC's #address-cells and #size-cells). Returns 0 or a negative libfdt
 * error.
 */
static int arm64_fdt_reg2(void *fdt, const uint64_t *pairs, unsigned n)
{
	uint32_t v[8];
	unsigned i;

	for (i = 0; i < 2 * n && i < 4; i++) {
		v[2 * i] = (uint32_t)(pairs[i] >> 32);
		v[2 * i + 1] = (uint32_t)pairs[i];
	}
	return arm64_fdt_cells(fdt, "reg", v, 2 * i);
}

/*
 * arm64_fdt_check: judge the description before writing anything.
 * Returns 0 or -EINVAL with the reason in err.
 */
static int arm64_fdt_check(const struct arm64_fdt *c, struct rv_err *err)
{
	unsigned i;

	if (c->nr_cpus == 0 || c->nr_cpus > 64)
		return rv_fail(err, RV_EXIT_FAILURE, EINVAL, "device tree: %u vCPUs (1 to 64)", c->nr_cpus);
	if (c->gic_version != 2 && c->gic_version != 3)
		return rv_fail(err, RV_EXIT_FAILURE, EINVAL, "device tree: GIC version %u (2 or 3)",
		    c->gic_version);
	if (c->gic_version == 2 && c->nr_cpus > 8)
		return rv_fail(err, RV_EXIT_FAILURE, EINVAL, "device tree: a GICv2 serves at most 8 vCPUs, not %u",
		    c->nr_cpus);
	if (c->gic_version == 2 && c->its)
		return rv_fail(err, RV_EXIT_FAILURE, EINVAL, "device tree: an ITS needs a GICv3");
	if (c->nr_devs && !c->devs)
		return rv_fail(err, RV_EXIT_FAILURE, EINVAL, "device tree: %u devices but no descriptions",
		    c->nr_devs);
	for (i = 0; i < c->nr_devs; i++) {
		int irq = c->devs[i].irq;

		/* An SPI beyond the GIC's would name an interrupt no one raises. */
		if (irq >= ARM64_GIC_NR_IRQS - ARM64_GIC_SPI_BASE)
			return rv_fail(err, RV_EXIT_FAILURE, EINVAL, "device tree: %s: SPI %d beyond the GIC's %d",
			    c->devs[i].dt_compatible ? c->devs[i].dt_compatible : "device",
			    irq, ARM64_GIC_NR_IRQS - ARM64_GIC_SPI_BASE);
	}
	return 0;
}

/*
 * arm64_fdt_dev_mmio: the index of d's first MMIO resource, or -1.
 */
static int arm64_fdt_dev_mmio(const struct dev_desc *d)
{
	unsigned i;

	for (i = 0; i < d->nr_res && i < DEV_DESC_MAX_RES; i++)
		if (d->res[i].kind == DEV_RES_MMIO)
			return (int)i;
	return -1;
}

/*
 * arm64_fdt_dev_name: d's node name, "<model>@<base>", into buf (len
 * bytes): "serial" for an ns16550a, else the compatible after its vendor
 * prefix. Returns 0, or -1 when d gets no node (no compatible or no MMIO)
 * or the name does not fit.
 */
static int arm64_fdt_dev_name(const struct dev_desc *d, char *buf, size_t len)
{
	const char *model, *comma;
	int r, n;

	r = arm64_fdt_dev_mmio(d);
	if (!d->dt_compatible || !d->dt_compatible[0] || r < 0)
		return -1;
	comma = strchr(d->dt_compatible, ',');
	model = comma ? comma + 1 : d->dt_compatible;
	if (!strcmp(d->dt_compatible, "ns16550a"))
		model = "serial";
	n = snprintf(buf, len, "%s@%" PRIx64, model, d->res[r].base);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/*
 * arm64_fdt_serial_path: the full path of the first ns16550a's node into
 * buf (len bytes). Returns 1 when there is one, 0 when not.
 */
static int arm64_fdt_serial_path(const struct arm64_fdt *c, char *buf, size_t len)
{
	char name[ARM64_FDT_NAME_MAX];
	unsigned i;
	int n;

	for (i = 0; i < c->nr_devs; i++) {
		if (!c->devs[i].dt_compatible || strcmp(c->devs[i].dt_compatible, "ns16550a"))
			continue;
		if (arm64_fdt_dev_name(&c->devs[i], name, sizeof(name)) < 0)
			continue;
		n = snprintf(buf, len, "/%s", name);
		return n > 0 && (size_t)n < len;
	}
	return 0;
}

/*
 * arm64_fdt_chosen: /chosen and /aliases. `serial` is the console's path
 * or NULL. Returns 0 or -errno with err filled.
 */
static int arm64_fdt_chosen(void *fdt, const struct arm64_fdt *c, const char *serial,
    struct rv_err *err)
{
	ARM64_FDT_CALL(fdt, err, fdt_begin_node(fdt, "chosen"));
	if (c->bootargs)
		ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "bootargs", c->bootargs));
	if (serial)
		ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "stdout-path", serial));
	if (c->initrd_end > c->initrd_start) {
		ARM64_FDT_CALL(fdt, err, fdt_property_u64(fdt, "linux,initrd-start", c->initrd_start));
		ARM64_FDT_CALL(fdt, err, fdt_property_u64(fdt, "linux,initrd-end", c->initrd_end));
	}
	if (c->seed)
		ARM64_FDT_CALL(fdt, err, fdt_property(fdt, "rng-seed", c->seed, ARM64_FDT_SEED_LEN));
	/* ringvm assigns the BARs itself, as firmware would: Linux keeps them. */
	ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "linux,pci-probe-only", 1));
	ARM64_FDT_CALL(fdt, err, fdt_end_node(fdt));

	if (serial) {
		ARM64_FDT_CALL(fdt, err, fdt_begin_node(fdt, "aliases"));
		ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "serial0", serial));
		ARM64_FDT_CALL(fdt, err, fdt_end_node(fdt));
	}
	return 0;
}

/*
 * arm64_fdt_cpus: /memory, /cpus with one node per vCPU, /psci and
 * /timer. Returns 0 or -errno with err filled.
 */
static int arm64_fdt_cpus(void *fdt, const struct arm64_fdt *c, struct rv_err *err)
{
	static const uint32_t ppis[4] = {
		ARM64_TIMER_PPI_SEC, ARM64_TIMER_PPI_PHYS, ARM64_TIMER_PPI_VIRT, ARM64_TIMER_PPI_HYP,
	};
	static const char psci[] = "arm,psci-1.0\0arm,psci-0.2";
	uint64_t mem[2] = { c->ram_base, c->ram_size };
	uint32_t irqs[12], flags = ARM64_FDT_IRQ_LEVEL_LOW;
	char name[ARM64_FDT_NAME_MAX];
	unsigned i;

	snprintf(name, sizeof(name), "memory@%" PRIx64, c->ram_base);
	ARM64_FDT_CALL(fdt, err, fdt_begin_node(fdt, name));
	ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "device_type", "memory"));
	ARM64_FDT_CALL(fdt, err, arm64_fdt_reg2(fdt, mem, 1));
	ARM64_FDT_CALL(fdt, err, fdt_end_node(fdt));

	ARM64_FDT_CALL(fdt, err, fdt_begin_node(fdt, "cpus"));
	ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "#address-cells", 1));
	ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "#size-cells", 0));
	for (i = 0; i < c->nr_cpus; i++) {
		/* MPIDR: Aff0 counts 0..15 (GICv3's target list), Aff1 the clusters. */
		uint32_t mpidr = (i / 16) << 8 | (i % 16);

		snprintf(name, sizeof(name), "cpu@%" PRIx32, mpidr);
		ARM64_FDT_CALL(fdt, err, fdt_begin_node(fdt, name));
		ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "device_type", "cpu"));
		ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "enable-method", "psci"));
		ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "reg", mpidr));
		ARM64_FDT_CALL(fdt, err, fdt_end_node(fdt));
	}
	ARM64_FDT_CALL(fdt, err, fdt_end_node(fdt));

	ARM64_FDT_CALL(fdt, err, fdt_begin_node(fdt, "psci"));
	ARM64_FDT_CALL(fdt, err, fdt_property(fdt, "compatible", psci, sizeof(psci)));
	ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "method", "hvc"));
	ARM64_FDT_CALL(fdt, err, fdt_end_node(fdt));

	/* GICv2's PPI specifier carries the CPUs it reaches in bits 8..15. */
	if (c->gic_version == 2)
		flags |= ((1u << c->nr_cpus) - 1) << 8;
	for (i = 0; i < 4; i++) {
		irqs[3 * i] = ARM64_FDT_GIC_PPI;
		irqs[3 * i + 1] = ppis[i];
		irqs[3 * i + 2] = flags;
	}
	ARM64_FDT_CALL(fdt, err, fdt_begin_node(fdt, "timer"));
	ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	ARM64_FDT_CALL(fdt, err, arm64_fdt_cells(fdt, "interrupts", irqs, 12));
	ARM64_FDT_CALL(fdt, err, fdt_property(fdt, "always-on", NULL, 0));
	ARM64_FDT_CALL(fdt, err, fdt_end_node(fdt));
	return 0;
}

/*
 * arm64_fdt_gic: the interrupt controller, and its ITS when c->its.
 * Returns 0 or -errno with err filled.
 */
static int arm64_fdt_gic(void *fdt, const struct arm64_fdt *c, struct rv_err *err)
{
	char name[ARM64_FDT_NAME_MAX];
	uint64_t reg[4] = { ARM64_GICD_GPA, ARM64_GICD_SIZE };
	uint64_t its[2] = { ARM64_ITS_GPA, ARM64_ITS_SIZE };

	snprintf(name, sizeof(name), "intc@%llx", ARM64_GICD_GPA);
	ARM64_FDT_CALL(fdt, err, fdt_begin_node(fdt, name));
	if (c->gic_version == 3) {
		reg[2] = ARM64_GICR_GPA;
		reg[3] = c->nr_cpus * ARM64_GICR_STRIDE;
		ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "compatible", "arm,gic-v3"));
	} else {
		reg[2] = ARM64_GICC_GPA;
		reg[3] = ARM64_GICC_SIZE;
		ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "compatible", "arm,cortex-a15-gic"));
	}
	ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "#interrupt-cells", 3));
	ARM64_FDT_CALL(fdt, err, fdt_property(fdt, "interrupt-controller", NULL, 0));
	if (c->gic_version == 3) {
		/* The ITS is a child with its own reg, mapped 1:1. */
		ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "#address-cells", 2));
		ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "#size-cells", 2));
		ARM64_FDT_CALL(fdt, err, fdt_property(fdt, "ranges", NULL, 0));
	} else {
		/* No child: an interrupt-map's parent unit address is then 0 cells. */
		ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "#address-cells", 0));
	}
	ARM64_FDT_CALL(fdt, err, arm64_fdt_reg2(fdt, reg, 2));
	ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "phandle", ARM64_FDT_PHANDLE_GIC));
	if (c->its) {
		snprintf(name, sizeof(name), "its@%llx", ARM64_ITS_GPA);
		ARM64_FDT_CALL(fdt, err, fdt_begin_node(fdt, name));
		ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "compatible", "arm,gic-v3-its"));
		ARM64_FDT_CALL(fdt, err, fdt_property(fdt, "msi-controller", NULL, 0));
		ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "#msi-cells", 1));
		ARM64_FDT_CALL(fdt, err, arm64_fdt_reg2(fdt, its, 1));
		ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "phandle", ARM64_FDT_PHANDLE_ITS));
		ARM64_FDT_CALL(fdt, err, fdt_end_node(fdt));
	}
	ARM64_FDT_CALL(fdt, err, fdt_end_node(fdt));
	return 0;
}

/*
 * arm64_fdt_pci: the ECAM host bridge: bus 0, one 32-bit window with PCI
 * addresses equal to CPU addresses, INTx of slots 0..3 swizzled so that
 * INTA# of slot s is SPI ARM64_PCI_INTX_SPI + s % 4, and with an ITS an
 * msi-map giving each function its requester ID as device ID.
 * Returns 0 or -errno with err filled.
 */
static int arm64_fdt_pci(void *fdt, const struct arm64_fdt *c, struct rv_err *err)
{
	static const uint32_t mask[4] = { 3u << 11, 0, 0, 7 };
	uint64_t ecam[2] = { ARM64_ECAM_GPA, ARM64_ECAM_SIZE };
	uint32_t ranges[7] = {
		ARM64_FDT_PCI_MEM32,
		(uint32_t)(ARM64_PCI_MMIO_GPA >> 32), (uint32_t)ARM64_PCI_MMIO_GPA,
		(uint32_t)(ARM64_PCI_MMIO_GPA >> 32), (uint32_t)ARM64_PCI_MMIO_GPA,
		(uint32_t)(ARM64_PCI_MMIO_SIZE >> 32), (uint32_t)ARM64_PCI_MMIO_SIZE,
	};
	uint32_t bus[2] = { 0, 0 };
	uint32_t map[ARM64_FDT_MAX_CELLS], msi[4] = { 0, ARM64_FDT_PHANDLE_ITS, 0, 0x10000 };
	char name[ARM64_FDT_NAME_MAX];
	unsigned s, pin, n = 0;

	for (s = 0; s < ARM64_FDT_PCI_SLOTS; s++) {
		for (pin = 1; pin <= ARM64_FDT_PCI_PINS; pin++) {
			/* Child: the function's address (device in phys.hi 15:11) and pin. */
			map[n++] = s << 11;
			map[n++] = 0;
			map[n++] = 0;
			map[n++] = pin;
			/* Parent: the GIC, its unit address (GICv3: 2 cells), the SPI. */
			map[n++] = ARM64_FDT_PHANDLE_GIC;
			if (c->gic_version == 3) {
				map[n++] = 0;
				map[n++] = 0;
			}
			map[n++] = ARM64_FDT_GIC_SPI;
			map[n++] = ARM64_PCI_INTX_SPI + (s + pin - 1) % ARM64_PCI_INTX_SPIS;
			map[n++] = ARM64_FDT_IRQ_LEVEL_HIGH;
		}
	}
	snprintf(name, sizeof(name), "pcie@%llx", ARM64_ECAM_GPA);
	ARM64_FDT_CALL(fdt, err, fdt_begin_node(fdt, name));
	ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "compatible", "pci-host-ecam-generic"));
	ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "device_type", "pci"));
	ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "#address-cells", 3));
	ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "#size-cells", 2));
	ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "#interrupt-cells", 1));
	ARM64_FDT_CALL(fdt, err, arm64_fdt_cells(fdt, "bus-range", bus, 2));
	ARM64_FDT_CALL(fdt, err, arm64_fdt_reg2(fdt, ecam, 1));
	ARM64_FDT_CALL(fdt, err, fdt_property(fdt, "dma-coherent", NULL, 0));
	ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "linux,pci-domain", 0));
	ARM64_FDT_CALL(fdt, err, arm64_fdt_cells(fdt, "ranges", ranges, 7));
	ARM64_FDT_CALL(fdt, err, arm64_fdt_cells(fdt, "interrupt-map-mask", mask, 4));
	ARM64_FDT_CALL(fdt, err, arm64_fdt_cells(fdt, "interrupt-map", map, n));
	/*
	 * msi-map <rid-base its msi-base length>: every requester ID is its
	 * own ITS device ID. (msi-parent = <its> alone would not do: the ITS
	 * has #msi-cells 1, so Linux and dtc would want a device ID after it.)
	 */
	if (c->its)
		ARM64_FDT_CALL(fdt, err, arm64_fdt_cells(fdt, "msi-map", msi, 4));
	ARM64_FDT_CALL(fdt, err, fdt_end_node(fdt));
	return 0;
}

/*
 * arm64_fdt_devs: one node per platform device with a compatible and an
 * MMIO range. Returns 0 or -errno with err filled.
 */
static int arm64_fdt_devs(void *fdt, const struct arm64_fdt *c, struct rv_err *err)
{
	char name[ARM64_FDT_NAME_MAX];
	unsigned i;

	for (i = 0; i < c->nr_devs; i++) {
		const struct dev_desc *d = &c->devs[i];
		uint64_t reg[2];
		uint32_t irq[3];
		int r;

		if (arm64_fdt_dev_name(d, name, sizeof(name)) < 0)
			continue;
		r = arm64_fdt_dev_mmio(d);
		reg[0] = d->res[r].base;
		reg[1] = d->res[r].len;
		ARM64_FDT_CALL(fdt, err, fdt_begin_node(fdt, name));
		ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "compatible", d->dt_compatible));
		ARM64_FDT_CALL(fdt, err, arm64_fdt_reg2(fdt, reg, 1));
		if (d->irq >= 0) {
			irq[0] = ARM64_FDT_GIC_SPI;
			irq[1] = (uint32_t)d->irq;
			irq[2] = ARM64_FDT_IRQ_LEVEL_HIGH;
			ARM64_FDT_CALL(fdt, err, arm64_fdt_cells(fdt, "interrupts", irq, 3));
		}
		if (!strcmp(d->dt_compatible, "ns16550a")) {
			ARM64_FDT_CALL(fdt, err,
			    fdt_property_u32(fdt, "clock-frequency", ARM64_FDT_UART_CLOCK));
			ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "reg-shift", 0));
			ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "reg-io-width", 1));
		}
		ARM64_FDT_CALL(fdt, err, fdt_end_node(fdt));
	}
	return 0;
}

/*
 * arm64_fdt_build: see arm64_fdt.h. The blob libfdt's sequential writer leaves
 * is already packed: its totalsize is what it used.
 */
int arm64_fdt_build(const struct arm64_fdt *c, void *buf, size_t size, struct rv_err *err)
{
	char serial[ARM64_FDT_NAME_MAX];
	int has_serial, ret;
	void *fdt = buf;

	ret = arm64_fdt_check(c, err);
	if (ret < 0)
		return ret;
	has_serial = arm64_fdt_serial_path(c, serial, sizeof(serial));

	/* libfdt sizes are ints; a bigger buffer is only partly used. */
	if (size < sizeof(struct fdt_header))
		return rv_fail(err, RV_EXIT_FAILURE, ENOSPC, "device tree: a buffer of %zu bytes is too small",
		    size);
	ARM64_FDT_CALL(fdt, err, fdt_create(fdt, size > INT_MAX ? INT_MAX : (int)size));
	ARM64_FDT_CALL(fdt, err, fdt_finish_reservemap(fdt));
	ARM64_FDT_CALL(fdt, err, fdt_begin_node(fdt, ""));
	ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "#address-cells", 2));
	ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "#size-cells", 2));
	ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "compatible", "linux,dummy-virt"));
	ARM64_FDT_CALL(fdt, err, fdt_property_string(fdt, "model", "ringvm"));
	ARM64_FDT_CALL(fdt, err, fdt_property_u32(fdt, "interrupt-parent", ARM64_FDT_PHANDLE_GIC));

	ret = arm64_fdt_chosen(fdt, c, has_serial ? serial : NULL, err);
	if (!ret)
		ret = arm64_fdt_cpus(fdt, c, err);
	if (!ret)
		ret = arm64_fdt_gic(fdt, c, err);
	if (!ret)
		ret = arm64_fdt_pci(fdt, c, err);
	if (!ret)
		ret = arm64_fdt_devs(fdt, c, err);
	if (ret < 0)
		return ret;

	ARM64_FDT_CALL(fdt, err, fdt_end_node(fdt));
	ARM64_FDT_CALL(fdt, err, fdt_finish(fdt));
	return 0;
}
