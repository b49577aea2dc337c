/*
 * arm64_fdt.h: the guest's device tree, built with libfdt from a plain
 * description of the machine. The addresses and interrupt numbers come
 * from arch_types.h; what varies per VM (RAM, vCPUs, GIC version, ITS,
 * command line, initrd, the platform devices' dev_desc) comes in struct
 * arm64_fdt. Pure: no KVM, no file, so a unit test builds trees on any
 * host and checks them with libfdt.
 */
#ifndef RINGVM_ARM64_FDT_H
#define RINGVM_ARM64_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "log.h"

#define ARM64_FDT_SEED_LEN 64	/* /chosen/rng-seed bytes */

struct arm64_fdt {
	uint64_t ram_base, ram_size;	/* one memory node */
	unsigned nr_cpus;		/* 1..64 (GICv2: 1..8); MPIDR Aff0 = i % 16, Aff1 = i / 16 */
	unsigned gic_version;		/* 2 or 3 */
	bool its;			/* GICv3 only: an ITS, and PCI's msi-map sends requester IDs to it unchanged */
	const char *bootargs;		/* /chosen/bootargs */
	uint64_t initrd_start, initrd_end;	/* /chosen linux,initrd-*; both 0 for none */
	const uint8_t *seed;		/* ARM64_FDT_SEED_LEN bytes for /chosen/rng-seed, or NULL */
	/*
	 * The platform devices (their describe hooks): each MMIO one becomes
	 * a node named after its compatible's model and base, with reg and,
	 * when irq >= 0, an SPI. An "ns16550a" also gets clock-frequency,
	 * reg-shift 0 and reg-io-width 1, and is /chosen/stdout-path and
	 * alias serial0. Descriptions without dt_compatible or MMIO are skipped.
	 */
	const struct dev_desc *devs;
	unsigned nr_devs;
};

/*
 * arm64_fdt_build: write the tree for `c` into buf (size bytes), packed.
 * Returns 0, or -EINVAL (a bad description: no CPU, GICv2 with more than
 * 8 CPUs or an ITS) or -ENOSPC (buf too small) with the reason in err.
 */
int arm64_fdt_build(const struct arm64_fdt *c, void *buf, size_t size, struct rv_err *err);

#endif
