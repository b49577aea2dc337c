/*
 * test_fdt.c: the arm64 device-tree builder (src/arch/arm64/arm64_fdt.c) on the
 * host, read back with libfdt: the root, memory, CPUs and their MPIDRs,
 * PSCI, the timer's PPIs, GICv2/GICv3 and the ITS, phandles (the root's
 * interrupt-parent, PCI's interrupt-map and msi-map), the PCI host bridge
 * and its INTx swizzle, the platform devices and /chosen; the descriptions
 * it must refuse and a buffer too small; and a round trip through dtc,
 * which must have nothing to say about the tree.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfdt.h>

#include "arch_types.h"
#include "arm64_fdt.h"
#include "log.h"
#include "unit.h"

#define BUF_LEN 65536

static struct unit u = { .file = "fdt" };

/* The devices of the configurations that have some. */
static const struct dev_desc devs[] = {
	{ .acpi_name = "COM1", .dt_compatible = "ns16550a", .nr_res = 1, .irq = ARM64_UART_SPI,
	  .res = { { DEV_RES_MMIO, ARM64_UART_GPA, ARM64_UART_SIZE } } },
	{ .dt_compatible = "qemu,pvpanic-mmio", .nr_res = 1, .irq = -1,
	  .res = { { DEV_RES_MMIO, 0x09050000, 0x2 } } },
	/* Skipped: no compatible, or no MMIO range. */
	{ .acpi_name = "PNLD", .nr_res = 1, .irq = 2, .res = { { DEV_RES_MMIO, 0x09060000, 0x10 } } },
	{ .dt_compatible = "vendor,pio-only", .nr_res = 1, .irq = 2,
	  .res = { { DEV_RES_PIO, 0x3f8, 8 } } },
};

/* get32: cell i of property `name` of the node at `path`, or ~0 when absent or short. */
static uint32_t get32(const void *fdt, const char *path, const char *name, unsigned i)
{
	int node = fdt_path_offset(fdt, path), len;
	const fdt32_t *p;

	if (node < 0)
		return ~0u;
	p = fdt_getprop(fdt, node, name, &len);
	if (!p || (unsigned)len < (i + 1) * 4)
		return ~0u;
	return fdt32_to_cpu(p[i]);
}

/* get64: two cells from cell i on, as one 64-bit value. */
static uint64_t get64(const void *fdt, const char *path, const char *name, unsigned i)
{
	return (uint64_t)get32(fdt, path, name, i) << 32 | get32(fdt, path, name, i + 1);
}

/* getstr: property `name` of `path` as a string, or "" when absent. */
static const char *getstr(const void *fdt, const char *path, const char *name)
{
	int node = fdt_path_offset(fdt, path);
	const char *s = node < 0 ? NULL : fdt_getprop(fdt, node, name, NULL);

	return s ? s : "";
}

/* has: whether `path` exists and (when name) has property `name`. */
static int has(const void *fdt, const char *path, const char *name)
{
	int node = fdt_path_offset(fdt, path);

	if (node < 0)
		return 0;
	return !name || fdt_getprop(fdt, node, name, NULL) != NULL;
}

/* by_phandle: the path of the node property `name` of `path` points at (cell i). */
static const char *by_phandle(const void *fdt, const char *path, const char *name, unsigned i,
    char *buf, int len)
{
	int node = fdt_node_offset_by_phandle(fdt, get32(fdt, path, name, i));

	if (node < 0 || fdt_get_path(fdt, node, buf, len) < 0)
		return "";
	return buf;
}

/* build: arm64_fdt_build into a fresh BUF_LEN buffer; fails the check `what` on error. */
static int build(const struct arm64_fdt *c, void *buf, const char *what)
{
	struct rv_err err = { 0 };
	int ret;

	memset(buf, 0xa5, BUF_LEN);
	ret = arm64_fdt_build(c, buf, BUF_LEN, &err);
	if (ret)
		printf("# %s: %d %s\n", what, ret, err.msg);
	UNIT_OK(&u, ret == 0 && fdt_check_header(buf) == 0 && fdt_totalsize(buf) <= BUF_LEN, what);
	return ret;
}

/* count_cpus: the nodes under /cpus with device_type "cpu". */
static unsigned count_cpus(const void *fdt)
{
	int cpus = fdt_path_offset(fdt, "/cpus"), node;
	unsigned n = 0;

	fdt_for_each_subnode(node, fdt, cpus) {
		const char *t = fdt_getprop(fdt, node, "device_type", NULL);

		n += t && !strcmp(t, "cpu");
	}
	return n;
}

/*
 * check_intmap: decode /pcie@30000000's interrupt-map with the cell counts
 * its parent names: 16 entries, each to the GIC, with INT<pin> of slot s
 * on SPI ARM64_PCI_INTX_SPI + (s + pin - 1) % 4, level high.
 */
static void check_intmap(const void *fdt, const char *gic_path, unsigned parent_addr_cells)
{
	const char *pci = "/pcie@30000000";
	int node = fdt_path_offset(fdt, pci), len, bad = 0, seen = 0, gicbad = 0, swz = 1;
	const fdt32_t *p = fdt_getprop(fdt, node, "interrupt-map", &len);
	unsigned i = 0, n = p ? (unsigned)len / 4 : 0, s, pin;
	char path[128];

	UNIT_OK(&u, get32(fdt, pci, "interrupt-map-mask", 0) == 0x1800 &&
	    get32(fdt, pci, "interrupt-map-mask", 1) == 0 && get32(fdt, pci, "interrupt-map-mask", 2) == 0 &&
	    get32(fdt, pci, "interrupt-map-mask", 3) == 7, "interrupt-map-mask <0x1800 0 0 7>");
	while (p && i + 5 <= n) {
		uint32_t hi = fdt32_to_cpu(p[i]), ipin = fdt32_to_cpu(p[i + 3]);
		int par = fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(p[i + 4]));
		const fdt32_t *ac = par < 0 ? NULL : fdt_getprop(fdt, par, "#address-cells", NULL);
		const fdt32_t *ic = par < 0 ? NULL : fdt_getprop(fdt, par, "#interrupt-cells", NULL);
		unsigned na = ac ? fdt32_to_cpu(*ac) : 0, ni = ic ? fdt32_to_cpu(*ic) : 0, k, spi;

		if (par < 0 || fdt_get_path(fdt, par, path, sizeof(path)) < 0 || strcmp(path, gic_path))
			gicbad = 1;
		if (na != parent_addr_cells || ni != 3 || i + 5 + na + ni > n) {
			bad = 1;
			break;
		}
		for (k = 0; k < na; k++)
			bad |= p[i + 5 + k] != 0;
		s = hi >> 11;
		pin = ipin;
		spi = fdt32_to_cpu(p[i + 5 + na + 1]);
		bad |= (hi & 0x7ff) != 0 || p[i + 1] != 0 || p[i + 2] != 0 || s > 3 || pin < 1 || pin > 4;
		bad |= fdt32_to_cpu(p[i + 5 + na]) != 0 || fdt32_to_cpu(p[i + 5 + na + 2]) != 4;
		if (spi != ARM64_PCI_INTX_SPI + (s + pin - 1) % 4)
			swz = 0;
		/* What the core relies on: INTA# of slot s is SPI INTX + s % 4. */
		if (pin == 1 && spi != ARM64_PCI_INTX_SPI + s % 4)
			swz = 0;
		seen |= 1 << (s * 4 + pin - 1);
		i += 5 + na + ni;
	}
	UNIT_OK(&u, p && !bad && i == n, "interrupt-map entries decode with the GIC's cell counts");
	UNIT_OK(&u, seen == 0xffff && n == 16 * (5 + parent_addr_cells + 3), "interrupt-map: 4 slots x 4 pins");
	UNIT_OK(&u, !gicbad, "interrupt-map's phandles resolve to the GIC");
	UNIT_OK(&u, swz, "interrupt-map: INT<pin> of slot s on SPI 3 + (s + pin - 1) % 4");
}

/* check_common: what every good tree has, for `c`. gic is the GIC's path. */
static void check_common(const void *fdt, const struct arm64_fdt *c, const char *gic)
{
	static const char psci[] = "arm,psci-1.0\0arm,psci-0.2";
	const char *pci = "/pcie@30000000";
	char path[128], mem[64], cpu[64];
	unsigned i, ok;
	int len, node;
	const void *p;

	UNIT_OK(&u, get32(fdt, "/", "#address-cells", 0) == 2 && get32(fdt, "/", "#size-cells", 0) == 2,
	    "root: 2 address and size cells");
	UNIT_OK(&u, !strcmp(getstr(fdt, "/", "compatible"), "linux,dummy-virt") &&
	    !strcmp(getstr(fdt, "/", "model"), "ringvm"), "root: compatible and model");
	UNIT_OK(&u, !strcmp(by_phandle(fdt, "/", "interrupt-parent", 0, path, sizeof(path)), gic),
	    "root: interrupt-parent is the GIC");

	snprintf(mem, sizeof(mem), "/memory@%llx", (unsigned long long)c->ram_base);
	UNIT_OK(&u, !strcmp(getstr(fdt, mem, "device_type"), "memory") &&
	    get64(fdt, mem, "reg", 0) == c->ram_base && get64(fdt, mem, "reg", 2) == c->ram_size,
	    "memory: device_type and reg");

	UNIT_OK(&u, get32(fdt, "/cpus", "#address-cells", 0) == 1 && get32(fdt, "/cpus", "#size-cells", 0) == 0,
	    "cpus: 1 address cell, no size");
	UNIT_OK(&u, count_cpus(fdt) == c->nr_cpus, "cpus: one node per vCPU");
	for (ok = 1, i = 0; i < c->nr_cpus; i++) {
		unsigned mpidr = (i / 16) << 8 | (i % 16);

		snprintf(cpu, sizeof(cpu), "/cpus/cpu@%x", mpidr);
		ok &= get32(fdt, cpu, "reg", 0) == mpidr && !strcmp(getstr(fdt, cpu, "device_type"), "cpu") &&
		    !strcmp(getstr(fdt, cpu, "compatible"), "arm,arm-v8") &&
		    !strcmp(getstr(fdt, cpu, "enable-method"), "psci");
	}
	UNIT_OK(&u, ok, "cpus: cpu@<mpidr>, reg = MPIDR affinity, psci");

	node = fdt_path_offset(fdt, "/psci");
	p = node < 0 ? NULL : fdt_getprop(fdt, node, "compatible", &len);
	UNIT_OK(&u, p && len == sizeof(psci) && !memcmp(p, psci, sizeof(psci)) &&
	    !strcmp(getstr(fdt, "/psci", "method"), "hvc"), "psci: 1.0 and 0.2, hvc");

	{
		static const unsigned ppi[4] = { 13, 14, 11, 10 };
		uint32_t flags = 8;

		if (c->gic_version == 2)
			flags |= ((1u << c->nr_cpus) - 1) << 8;
		for (ok = 1, i = 0; i < 4; i++)
			ok &= get32(fdt, "/timer", "interrupts", 3 * i) == 1 &&
			    get32(fdt, "/timer", "interrupts", 3 * i + 1) == ppi[i] &&
			    get32(fdt, "/timer", "interrupts", 3 * i + 2) == flags;
		ok &= get32(fdt, "/timer", "interrupts", 12) == ~0u;
		UNIT_OK(&u, ok && !strcmp(getstr(fdt, "/timer", "compatible"), "arm,armv8-timer") &&
		    has(fdt, "/timer", "always-on"), "timer: the 4 PPIs, level low (GICv2: CPU mask)");
	}

	UNIT_OK(&u, get32(fdt, gic, "#interrupt-cells", 0) == 3 && has(fdt, gic, "interrupt-controller") &&
	    get64(fdt, gic, "reg", 0) == ARM64_GICD_GPA && get64(fdt, gic, "reg", 2) == ARM64_GICD_SIZE,
	    "gic: an interrupt controller, 3 cells, the distributor");
	node = fdt_node_offset_by_compatible(fdt, -1, c->gic_version == 3 ? "arm,gic-v3" : "arm,cortex-a15-gic");
	UNIT_OK(&u, node >= 0 && fdt_get_path(fdt, node, path, sizeof(path)) == 0 && !strcmp(path, gic),
	    "gic: its compatible names its version");
	if (c->gic_version == 3)
		UNIT_OK(&u, get64(fdt, gic, "reg", 4) == ARM64_GICR_GPA &&
		    get64(fdt, gic, "reg", 6) == c->nr_cpus * ARM64_GICR_STRIDE &&
		    get32(fdt, gic, "#address-cells", 0) == 2 && has(fdt, gic, "ranges"),
		    "gicv3: redistributors for every vCPU");
	else
		UNIT_OK(&u, get64(fdt, gic, "reg", 4) == ARM64_GICC_GPA &&
		    get64(fdt, gic, "reg", 6) == ARM64_GICC_SIZE && get32(fdt, gic, "reg", 8) == ~0u &&
		    get32(fdt, gic, "#address-cells", 0) == 0,
		    "gicv2: distributor and CPU interface");
	node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3-its");
	UNIT_OK(&u, (node >= 0) == c->its, "gic: an ITS exactly when asked");
	if (c->its) {
		const char *its = "/intc@8000000/its@8080000";

		UNIT_OK(&u, has(fdt, its, "msi-controller") && get32(fdt, its, "#msi-cells", 0) == 1 &&
		    get64(fdt, its, "reg", 0) == ARM64_ITS_GPA && get64(fdt, its, "reg", 2) == ARM64_ITS_SIZE,
		    "its: msi-controller and reg");
		UNIT_OK(&u, !strcmp(by_phandle(fdt, pci, "msi-map", 1, path, sizeof(path)), its) &&
		    get32(fdt, pci, "msi-map", 0) == 0 && get32(fdt, pci, "msi-map", 2) == 0 &&
		    get32(fdt, pci, "msi-map", 3) == 0x10000 && get32(fdt, pci, "msi-map", 4) == ~0u,
		    "pci: msi-map sends every requester ID to the ITS unchanged");
	} else {
		UNIT_OK(&u, !has(fdt, pci, "msi-map") && !has(fdt, pci, "msi-parent"), "pci: no MSI controller");
	}

	UNIT_OK(&u, !strcmp(getstr(fdt, pci, "compatible"), "pci-host-ecam-generic") &&
	    !strcmp(getstr(fdt, pci, "device_type"), "pci") && get32(fdt, pci, "#address-cells", 0) == 3 &&
	    get32(fdt, pci, "#size-cells", 0) == 2 && get32(fdt, pci, "#interrupt-cells", 0) == 1 &&
	    has(fdt, pci, "dma-coherent") && get32(fdt, pci, "linux,pci-domain", 0) == 0,
	    "pci: generic ECAM host bridge");
	UNIT_OK(&u, get32(fdt, pci, "bus-range", 0) == 0 && get32(fdt, pci, "bus-range", 1) == 0 &&
	    get64(fdt, pci, "reg", 0) == ARM64_ECAM_GPA && get64(fdt, pci, "reg", 2) == ARM64_ECAM_SIZE,
	    "pci: bus 0, ECAM reg");
	UNIT_OK(&u, get32(fdt, pci, "ranges", 0) == 0x02000000 && get64(fdt, pci, "ranges", 1) == ARM64_PCI_MMIO_GPA &&
	    get64(fdt, pci, "ranges", 3) == ARM64_PCI_MMIO_GPA && get64(fdt, pci, "ranges", 5) == ARM64_PCI_MMIO_SIZE &&
	    get32(fdt, pci, "ranges", 7) == ~0u, "pci: one 32-bit window, PCI address = CPU address");
	check_intmap(fdt, gic, c->gic_version == 3 ? 2 : 0);
	UNIT_OK(&u, get32(fdt, "/chosen", "linux,pci-probe-only", 0) == 1, "chosen: linux,pci-probe-only");
}

/* check_devs: the UART and pvpanic nodes of `devs`, and the skipped ones absent. */
static void check_devs(const void *fdt)
{
	const char *uart = "/serial@9000000", *panic = "/pvpanic-mmio@9050000";
	int node;

	UNIT_OK(&u, !strcmp(getstr(fdt, uart, "compatible"), "ns16550a") &&
	    get64(fdt, uart, "reg", 0) == ARM64_UART_GPA && get64(fdt, uart, "reg", 2) == ARM64_UART_SIZE,
	    "uart: serial@9000000 with its reg");
	UNIT_OK(&u, get32(fdt, uart, "interrupts", 0) == 0 && get32(fdt, uart, "interrupts", 1) == ARM64_UART_SPI &&
	    get32(fdt, uart, "interrupts", 2) == 4, "uart: <GIC_SPI 1 level-high>");
	UNIT_OK(&u, get32(fdt, uart, "clock-frequency", 0) == 1843200 && get32(fdt, uart, "reg-shift", 0) == 0 &&
	    get32(fdt, uart, "reg-io-width", 0) == 1, "uart: clock, reg-shift, reg-io-width");
	node = fdt_path_offset(fdt, getstr(fdt, "/chosen", "stdout-path"));
	UNIT_OK(&u, node >= 0 && node == fdt_path_offset(fdt, uart), "chosen: stdout-path resolves to the UART");
	node = fdt_path_offset(fdt, fdt_get_alias(fdt, "serial0") ? fdt_get_alias(fdt, "serial0") : "");
	UNIT_OK(&u, node >= 0 && node == fdt_path_offset(fdt, uart) && fdt_path_offset(fdt, "serial0") == node,
	    "aliases: serial0 is the UART");
	UNIT_OK(&u, !strcmp(getstr(fdt, panic, "compatible"), "qemu,pvpanic-mmio") &&
	    get64(fdt, panic, "reg", 0) == 0x09050000 && get64(fdt, panic, "reg", 2) == 2 &&
	    !has(fdt, panic, "interrupts") && !has(fdt, panic, "clock-frequency"),
	    "pvpanic: named after its model, no interrupt (irq -1)");
	UNIT_OK(&u, fdt_node_offset_by_compatible(fdt, -1, "vendor,pio-only") == -FDT_ERR_NOTFOUND &&
	    !has(fdt, "/@9060000", NULL) && fdt_path_offset(fdt, "/pio-only@3f8") < 0,
	    "devices without compatible or MMIO are skipped");
}

/* expect_err: arm64_fdt_build of `c` fails with `want`, a status 1 and a message. */
static void expect_err(const struct arm64_fdt *c, size_t size, int want, const char *what)
{
	static uint8_t buf[BUF_LEN];
	struct rv_err err = { 0 };
	int ret = arm64_fdt_build(c, buf, size, &err);

	printf("# %s: %s\n", what, err.msg);
	UNIT_OK(&u, ret == want && err.status == 1 && err.msg[0], what);
}

/* node_list: every node's path in `fdt`, newline-separated, into buf. */
static void node_list(const void *fdt, char *buf, size_t len)
{
	char path[256];
	size_t off = 0;
	int node;

	buf[0] = 0;
	for (node = 0; node >= 0; node = fdt_next_node(fdt, node, NULL)) {
		if (fdt_get_path(fdt, node, path, sizeof(path)) < 0)
			snprintf(path, sizeof(path), "?");
		off += (size_t)snprintf(buf + off, len - off, "%s\n", path);
		if (off >= len)
			return;
	}
}

/* same_props: every property of every node of `a` is in `b` with the same value. */
static int same_props(const void *a, const void *b)
{
	char path[256];
	int node, prop;

	for (node = 0; node >= 0; node = fdt_next_node(a, node, NULL)) {
		int nb;

		if (fdt_get_path(a, node, path, sizeof(path)) < 0 || (nb = fdt_path_offset(b, path)) < 0)
			return 0;
		fdt_for_each_property_offset(prop, a, node) {
			const char *name;
			int la, lb;
			const void *va = fdt_getprop_by_offset(a, prop, &name, &la);
			const void *vb = fdt_getprop(b, nb, name, &lb);

			if (!va || !vb || la != lb || memcmp(va, vb, (size_t)la))
				return 0;
		}
	}
	return 1;
}

/* slurp: the file's bytes into buf (len), or -1. */
static long slurp(const char *file, void *buf, size_t len)
{
	FILE *f = fopen(file, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len, f);
	fclose(f);
	return (long)n;
}

/*
 * roundtrip: dtc -I dtb -O dts, then back with -I dts -O dtb; both quiet,
 * and the result holds the same nodes and properties.
 */
static void roundtrip(const void *fdt, const char *what)
{
	static char la[BUF_LEN], lb[BUF_LEN];
	static uint8_t back[BUF_LEN];
	char dir[] = "/tmp/test_fdt.XXXXXX", cmd[1024], name[256], log[1024];
	long n, nlog;
	FILE *f;
	int rc;

	/* install-deps installs it: a missing dtc is a failure, never a skip. */
	if (!UNIT_OK(&u, system("command -v dtc >/dev/null 2>&1") == 0,
	    "dtc is installed (device-tree-compiler, from scripts/install-deps.sh)"))
		return;
	if (!mkdtemp(dir)) {
		UNIT_OK(&u, 0, "mkdtemp");
		return;
	}
	snprintf(name, sizeof(name), "%s/a.dtb", dir);
	f = fopen(name, "wb");
	if (f) {
		fwrite(fdt, 1, fdt_totalsize(fdt), f);
		fclose(f);
	}
	snprintf(cmd, sizeof(cmd),
	    "cd %s && dtc -I dtb -O dts -o a.dts a.dtb 2>log && dtc -I dts -O dtb -o b.dtb a.dts 2>>log",
	    dir);
	rc = system(cmd);
	snprintf(name, sizeof(name), "%s/log", dir);
	nlog = slurp(name, log, sizeof(log) - 1);
	if (nlog > 0) {
		log[nlog] = 0;
		printf("# dtc says: %s", log);
	}
	snprintf(name, sizeof(name), "%s/b.dtb", dir);
	n = slurp(name, back, sizeof(back));
	snprintf(cmd, sizeof(cmd), "%s: dtc round trip without warnings", what);
	UNIT_OK(&u, rc == 0 && nlog == 0, cmd);
	node_list(fdt, la, sizeof(la));
	if (n > 0 && fdt_check_header(back) == 0)
		node_list(back, lb, sizeof(lb));
	else
		lb[0] = 0;
	snprintf(cmd, sizeof(cmd), "%s: dtc's tree has the same nodes and properties", what);
	UNIT_OK(&u, n > 0 && !strcmp(la, lb) && same_props(fdt, back) && same_props(back, fdt), cmd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	static uint8_t buf[BUF_LEN], seed[ARM64_FDT_SEED_LEN];
	struct arm64_fdt c;
	struct rv_err err;
	const char *gic = "/intc@8000000";
	uint32_t total;
	unsigned i;
	int len, node;
	const void *p;

	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i * 7 + 1);

	/* 1 vCPU, GICv3 with an ITS, initrd, seed, the devices. */
	c = (struct arm64_fdt){
		.ram_base = ARM64_RAM_GPA, .ram_size = 256ull << 20, .nr_cpus = 1, .gic_version = 3,
		.its = true, .bootargs = "console=ttyS0 panic=-1",
		.initrd_start = 0x48000000, .initrd_end = 0x48123456, .seed = seed,
		.devs = devs, .nr_devs = 4,
	};
	if (build(&c, buf, "1 vCPU, GICv3 + ITS: builds") == 0) {
		check_common(buf, &c, gic);
		check_devs(buf);
		UNIT_OK(&u, !strcmp(getstr(buf, "/chosen", "bootargs"), "console=ttyS0 panic=-1"),
		    "chosen: bootargs");
		UNIT_OK(&u, get64(buf, "/chosen", "linux,initrd-start", 0) == 0x48000000 &&
		    get64(buf, "/chosen", "linux,initrd-end", 0) == 0x48123456 &&
		    get32(buf, "/chosen", "linux,initrd-end", 2) == ~0u, "chosen: initrd as 64-bit values");
		node = fdt_path_offset(buf, "/chosen");
		p = fdt_getprop(buf, node, "rng-seed", &len);
		UNIT_OK(&u, p && len == ARM64_FDT_SEED_LEN && !memcmp(p, seed, sizeof(seed)), "chosen: rng-seed");
		roundtrip(buf, "GICv3 + ITS");

		/* It fits in exactly its own size, and not one byte less. */
		total = fdt_totalsize(buf);
		memset(&err, 0, sizeof(err));
		UNIT_OK(&u, arm64_fdt_build(&c, buf, total, &err) == 0 && fdt_totalsize(buf) == total,
		    "fits a buffer of exactly its size");
		expect_err(&c, total - 1, -ENOSPC, "one byte short: -ENOSPC");
	}

	/* 2 vCPUs, GICv3 without ITS; no initrd, seed or bootargs. */
	c = (struct arm64_fdt){ .ram_base = ARM64_RAM_GPA, .ram_size = 1ull << 30, .nr_cpus = 2,
		.gic_version = 3, .devs = devs, .nr_devs = 2 };
	if (build(&c, buf, "2 vCPUs, GICv3 without ITS: builds") == 0) {
		check_common(buf, &c, gic);
		check_devs(buf);
		UNIT_OK(&u, !has(buf, "/chosen", "linux,initrd-start") && !has(buf, "/chosen", "linux,initrd-end") &&
		    !has(buf, "/chosen", "rng-seed") && !has(buf, "/chosen", "bootargs"),
		    "chosen: no initrd, seed or bootargs when none");
		roundtrip(buf, "GICv3");
	}

	/* 8 vCPUs, GICv2; an empty initrd range is none; no devices. */
	c = (struct arm64_fdt){ .ram_base = ARM64_RAM_GPA, .ram_size = 2ull << 30, .nr_cpus = 8,
		.gic_version = 2, .initrd_start = 0x50000000, .initrd_end = 0x50000000, .bootargs = "" };
	if (build(&c, buf, "8 vCPUs, GICv2, no devices: builds") == 0) {
		check_common(buf, &c, gic);
		UNIT_OK(&u, !has(buf, "/chosen", "linux,initrd-start") && has(buf, "/chosen", "bootargs"),
		    "chosen: an empty initrd is none");
		UNIT_OK(&u, !has(buf, "/chosen", "stdout-path") && !has(buf, "/aliases", NULL) &&
		    fdt_node_offset_by_compatible(buf, -1, "ns16550a") < 0, "no devices: no UART, stdout-path or aliases");
		roundtrip(buf, "GICv2");
	}

	/* 64 vCPUs, GICv3, RAM above 4 GiB. */
	c = (struct arm64_fdt){ .ram_base = ARM64_RAM_GPA, .ram_size = 0x140000000ull, .nr_cpus = 64,
		.gic_version = 3, .its = true, .devs = devs, .nr_devs = 1 };
	if (build(&c, buf, "64 vCPUs, GICv3: builds") == 0) {
		check_common(buf, &c, gic);
		UNIT_OK(&u, get32(buf, "/cpus/cpu@30f", "reg", 0) == 0x30f && get32(buf, "/cpus/cpu@10", "reg", 0) == ~0u &&
		    get32(buf, "/cpus/cpu@100", "reg", 0) == 0x100, "cpus: vCPU 16 is Aff1 1, vCPU 63 is 0x30f");
		roundtrip(buf, "64 vCPUs");
	}

	/* What it must refuse. */
	c = (struct arm64_fdt){ .ram_base = ARM64_RAM_GPA, .ram_size = 1ull << 30, .nr_cpus = 9, .gic_version = 2 };
	expect_err(&c, BUF_LEN, -EINVAL, "GICv2 with 9 vCPUs: -EINVAL");
	c.nr_cpus = 2;
	c.its = true;
	expect_err(&c, BUF_LEN, -EINVAL, "GICv2 with an ITS: -EINVAL");
	c = (struct arm64_fdt){ .ram_base = ARM64_RAM_GPA, .ram_size = 1ull << 30, .nr_cpus = 0, .gic_version = 3 };
	expect_err(&c, BUF_LEN, -EINVAL, "0 vCPUs: -EINVAL");
	c.nr_cpus = 65;
	expect_err(&c, BUF_LEN, -EINVAL, "65 vCPUs: -EINVAL");
	c.nr_cpus = 1;
	c.gic_version = 4;
	expect_err(&c, BUF_LEN, -EINVAL, "GIC version 4: -EINVAL");
	c.gic_version = 3;
	expect_err(&c, 512, -ENOSPC, "a 512-byte buffer: -ENOSPC");
	expect_err(&c, 16, -ENOSPC, "a 16-byte buffer: -ENOSPC");
	{
		struct dev_desc bad = devs[0];

		bad.irq = ARM64_GIC_NR_IRQS - ARM64_GIC_SPI_BASE;
		c.devs = &bad;
		c.nr_devs = 1;
		expect_err(&c, BUF_LEN, -EINVAL, "a device on an SPI the GIC lacks: -EINVAL");
	}
	return unit_done(&u);
}
