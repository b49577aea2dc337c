/*
 * pm.c: power management for the hardware-reduced ACPI machine: the FADT
 * sleep-control register (guest power-off), its status register, and the
 * reset register (guest reboot). Also the i8042 "pulse reset line" command,
 * Linux's fallback reboot method, and nothing else of the i8042.
 */
#include <errno.h>
#include <stdlib.h>

#include "bus.h"
#include "device.h"
#include "log.h"
#include "loop.h"
#include "vm.h"

/* ACPI 6.5, 4.8.3.7: sleep control register layout. */
#define SLP_TYP(v) (((v) >> 2) & 7)
#define SLP_EN 0x20
#define SLP_TYP_S5 5	/* matches \_S5 in the DSDT (acpi.c) */
#define KBD_CMD_RESET 0xfe

struct pm {
	struct vm *vm;
	struct log_once odd_sleep;
};

static uint64_t pm_read(void *dev, uint64_t off, unsigned size)
{
	(void)dev;
	(void)off;
	(void)size;
	return 0;	/* sleep status: never asleep; reset: write-only */
}

static void pm_write(void *dev, uint64_t off, uint64_t val, unsigned size)
{
	struct pm *pm = dev;

	(void)size;
	switch (X86_PM_PORT + off) {
	case X86_PM_SLEEP_CTL:
		if (!(val & SLP_EN))
			break;
		if (SLP_TYP(val) == SLP_TYP_S5) {
			loop_stop(pm->vm->loop, RV_EXIT_POWEROFF);
			break;
		}
		log_guest(&pm->odd_sleep, "pm: sleep type %u is not supported, ignored",
		    (unsigned)SLP_TYP(val));
		break;
	case X86_PM_RESET:
		if ((val & 0xff) == X86_PM_RESET_VALUE)
			loop_stop(pm->vm->loop, RV_EXIT_REBOOT);
		break;
	}
}

static const struct bus_ops pm_bus_ops = { .read = pm_read, .write = pm_write };

static uint64_t pm_kbd_read(void *dev, uint64_t off, unsigned size)
{
	(void)dev;
	(void)off;
	(void)size;
	return 0;	/* status: input buffer empty, so a reset command is not delayed */
}

static void pm_kbd_write(void *dev, uint64_t off, uint64_t val, unsigned size)
{
	struct pm *pm = dev;

	(void)off;
	(void)size;
	if ((val & 0xff) == KBD_CMD_RESET)
		loop_stop(pm->vm->loop, RV_EXIT_REBOOT);
}

static const struct bus_ops pm_kbd_ops = { .read = pm_kbd_read, .write = pm_kbd_write };

static int pm_create(struct vm *vm, const void *conf, void **state, char *err, size_t errlen)
{
	struct pm *pm = calloc(1, sizeof(*pm));
	int r;

	(void)conf;
	if (!pm)
		return -ENOMEM;
	pm->vm = vm;
	r = bus_add(&vm->pio, X86_PM_PORT, X86_PM_LEN, &pm_bus_ops, pm, "pm");
	if (r) {
		snprintf(err, errlen, "ports %#x-%#x are taken", X86_PM_PORT,
		    X86_PM_PORT + X86_PM_LEN - 1);
		goto fail;
	}
	r = bus_add(&vm->pio, X86_KBD_STATUS_PORT, 1, &pm_kbd_ops, pm, "kbd-reset");
	if (r) {
		snprintf(err, errlen, "port %#x is taken", X86_KBD_STATUS_PORT);
		bus_remove(&vm->pio, X86_PM_PORT);
		goto fail;
	}
	*state = pm;
	return 0;
fail:
	free(pm);
	return r;
}

static int pm_destroy(struct vm *vm, void *state)
{
	bus_remove(&vm->pio, X86_PM_PORT);
	bus_remove(&vm->pio, X86_KBD_STATUS_PORT);
	free(state);
	return 0;
}

/* No describe hook: the FADT and \_S5 describe the PM block (arch/x86/acpi.c). */
const struct device_ops pm_ops = {
	.name = "pm",
	.create = pm_create,
	.destroy = pm_destroy,
};
