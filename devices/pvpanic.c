/*
 * pvpanic.c: the pvpanic device at I/O port 0x505 (ACPI _HID QEMU0001, as in
 * QEMU). The guest's pvpanic driver writes "panicked" from its panic
 * notifier; ringvm then stops with the panic exit status.
 */
#include <errno.h>
#include <stdlib.h>

#include "aml.h"
#include "bus.h"
#include "device.h"
#include "log.h"
#include "vm.h"

#define PVPANIC_PANICKED (1u << 0)
#define PVPANIC_CRASH_LOADED (1u << 1)

struct pvpanic {
	struct vm *vm;
	struct log_once crash_loaded;
};

static uint64_t pvpanic_read(void *dev, uint64_t off, unsigned size)
{
	(void)dev;
	(void)off;
	(void)size;
	return PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;	/* the events we understand */
}

static void pvpanic_write(void *dev, uint64_t off, uint64_t val, unsigned size)
{
	struct pvpanic *p = dev;

	(void)off;
	(void)size;
	if (val & PVPANIC_PANICKED) {
		log_warnx("guest kernel panicked");
		vm_request_stop(p->vm, RV_EXIT_PANIC);
	} else if (val & PVPANIC_CRASH_LOADED) {
		/* A crash kernel took over; it may still power off cleanly. */
		log_guest(&p->crash_loaded, "guest kernel crashed into its crash kernel");
	}
}

static const struct bus_ops pvpanic_bus_ops = { .read = pvpanic_read, .write = pvpanic_write };

static int pvpanic_setup(struct vm *vm)
{
	struct pvpanic *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->vm = vm;
	r = bus_add(&vm->pio, X86_PVPANIC_PORT, 1, &pvpanic_bus_ops, p, "pvpanic");
	if (r)
		goto fail;
	r = vm_add_dev(vm, &pvpanic_ops, p);
	if (r)
		goto fail_bus;
	return 0;
fail_bus:
	bus_remove(&vm->pio, X86_PVPANIC_PORT);
fail:
	free(p);
	return r;
}

static void pvpanic_teardown(struct vm *vm, void *state)
{
	bus_remove(&vm->pio, X86_PVPANIC_PORT);
	free(state);
}

static int pvpanic_dsdt(void *state, struct aml *aml)
{
	size_t dev, crs;

	(void)state;
	dev = aml_device(aml, "PEVT");
	aml_name_str(aml, "_HID", "QEMU0001");
	crs = aml_resources(aml, "_CRS");
	aml_res_io(aml, X86_PVPANIC_PORT, 1);
	aml_res_end(aml, crs);
	aml_close(aml, dev);
	return aml->err;
}

const struct device_ops pvpanic_ops = {
	.name = "pvpanic",
	.setup = pvpanic_setup,
	.teardown = pvpanic_teardown,
	.acpi_dsdt = pvpanic_dsdt,
};
