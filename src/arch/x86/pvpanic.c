/*
 * pvpanic.c: the pvpanic device at I/O port 0x505 (ACPI _HID QEMU0001, as in
 * QEMU). The guest's pvpanic driver writes "panicked" from its panic
 * notifier; ringvm then stops with the panic exit status.
 */
#include <errno.h>
#include <stdlib.h>

#include "bus.h"
#include "device.h"
#include "log.h"
#include "loop.h"
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
		loop_stop(p->vm->loop, RV_EXIT_PANIC);
	} else if (val & PVPANIC_CRASH_LOADED) {
		/* A crash kernel took over; it may still power off cleanly. */
		log_guest(&p->crash_loaded, "guest kernel crashed into its crash kernel");
	}
}

static const struct bus_ops pvpanic_bus_ops = { .read = pvpanic_read, .write = pvpanic_write };

static int pvpanic_create(struct vm *vm, const void *conf, void **state, char *err,
    size_t errlen)
{
	struct pvpanic *p = calloc(1, sizeof(*p));
	int r;

	(void)conf;
	if (!p)
		return -ENOMEM;
	p->vm = vm;
	r = bus_add(&vm->pio, X86_PVPANIC_PORT, 1, &pvpanic_bus_ops, p, "pvpanic");
	if (r) {
		snprintf(err, errlen, "port %#x is taken", X86_PVPANIC_PORT);
		free(p);
		return r;
	}
	*state = p;
	return 0;
}

static int pvpanic_destroy(struct vm *vm, void *state)
{
	bus_remove(&vm->pio, X86_PVPANIC_PORT);
	free(state);
	return 0;
}

static int pvpanic_describe(const void *state, struct dev_desc *d)
{
	(void)state;
	*d = (struct dev_desc){
		.acpi_name = "PEVT", .acpi_hid = "QEMU0001", .dt_compatible = "qemu,pvpanic-mmio",
		.res = { { DEV_RES_PIO, X86_PVPANIC_PORT, 1 } }, .nr_res = 1, .irq = -1,
	};
	return 1;
}

const struct device_ops pvpanic_ops = {
	.name = "pvpanic",
	.create = pvpanic_create,
	.destroy = pvpanic_destroy,
	.describe = pvpanic_describe,
};
