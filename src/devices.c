/*
 * devices.c: the device table and the loops over it.
 *
 * The CLI finds device options here (devices_find_option) and, once every
 * option is parsed, devices_configure adds the devices every VM has (those
 * without an option, and those on by default whose option was not given)
 * and puts the instances in table order. The instance list itself (parse,
 * check, create, destroy) is devinst.c's, which needs no table. Devices
 * never register themselves: they only fill their ops, so no device calls
 * back into the core.
 *
 * Table order is creation order and firmware order. A new device is one
 * file in devices/ and one row below, with its name on the extern line
 * (see docs/ARCHITECTURE.md); the Makefile compiles every .c file in devices/.
 *
 * Exported (contracts in device.h): devices_find_option, devices_configure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch_types.h"
#include "config.h"
#include "device.h"
#include "devinst.h"

/* Every device, defined in its own file in devices/ (whose header may repeat it). */
extern const struct device_ops serial_ops, vblk_ops, vnet_ops, vsock_ops, vrng_ops;

/*
 * The architecture's platform devices (arch_types.h: ARCH_DEVICES), defined
 * in src/arch/<arch>/: x86's ACPI power management and pvpanic ports; arm64
 * has none, PSCI does their work.
 */
#define DEVICES_EXTERN(ops) extern const struct device_ops ops;
#define DEVICES_ROW(ops) &ops,
ARCH_DEVICES(DEVICES_EXTERN)

const struct device_ops *const rv_devices[] = {
	&serial_ops,
	ARCH_DEVICES(DEVICES_ROW)
	&vblk_ops,
	&vnet_ops,
	&vsock_ops,
	&vrng_ops,
	NULL,
};

const struct device_ops *devices_find_option(const char *name, char short_name)
{
	for (const struct device_ops *const *d = rv_devices; *d; d++) {
		const struct device_option *o = (*d)->option;

		if (o && ((name && !strcmp(o->name, name)) ||
		    (short_name && o->short_name == short_name)))
			return *d;
	}
	return NULL;
}

int devices_configure(struct rv_config *cfg, char *err, size_t errlen)
{
	struct dev_instance sorted[RV_MAX_INSTANCES];
	unsigned n = 0;
	int r;

	for (const struct device_ops *const *d = rv_devices; *d; d++) {
		const struct device_option *o = (*d)->option;

		/* An option without a default, or one the command line spoke about: nothing to add. */
		if (o && (!o->default_spec || devinst_given(cfg, *d)))
			continue;
		r = devinst_parse(cfg, *d, o ? o->default_spec : NULL, err, errlen);
		if (r)
			return r;
	}
	/* Stable by table order: -d and -n keep their command-line order within a device. */
	for (const struct device_ops *const *d = rv_devices; *d; d++)
		for (unsigned i = 0; i < cfg->nr_dev; i++)
			if (cfg->dev[i].ops == *d)
				sorted[n++] = cfg->dev[i];
	memcpy(cfg->dev, sorted, n * sizeof(sorted[0]));
	cfg->nr_dev = n;
	return 0;
}

