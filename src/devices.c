/*
 * devices.c: the device table, in setup order (which is also their DSDT
 * order), and the loops over it: check the configuration before the VM
 * exists, set every device up, tear every instance down.
 */
#include <stddef.h>
#include <string.h>

#include "device.h"
#include "log.h"
#include "vm.h"

const struct device_ops *const rv_devices[] = {
	&serial_ops,
	&pm_ops,
	&pvpanic_ops,
	&vblk_ops,
	&vnet_ops,
	&vsock_ops,
	NULL,
};

void devices_check(const struct rv_config *cfg)
{
	char err[512];

	for (const struct device_ops *const *d = rv_devices; *d; d++) {
		int st = (*d)->check ? (*d)->check(cfg, err, sizeof(err)) : 0;

		if (st)
			diex(st, "%s", err);
	}
}

void devices_setup(struct vm *vm)
{
	for (const struct device_ops *const *d = rv_devices; *d; d++) {
		int r = (*d)->setup(vm);

		if (r)
			diex(RV_EXIT_FAILURE, "cannot set up device %s: %s", (*d)->name, strerror(-r));
	}
}

void devices_teardown(struct vm *vm)
{
	while (vm->nr_devs) {
		struct vm_dev *d = &vm->dev[--vm->nr_devs];

		d->ops->teardown(vm, d->state);
	}
}
