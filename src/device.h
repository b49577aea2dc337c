/*
 * device.h: the one interface every device file in devices/ fills.
 *
 * A device is one file that defines one `const struct device_ops`; the table
 * in src/devices.c lists them in the order they are set up, which also fixes
 * their order in the firmware tables. The core never switches on a device
 * type: it calls these hooks.
 */
#ifndef RINGVM_DEVICE_H
#define RINGVM_DEVICE_H

#include <stddef.h>

struct vm;
struct aml;
struct rv_config;

struct device_ops {
	const char *name;
	/*
	 * check: optional: judge this device's part of the configuration
	 * (its option specs, the files they name) before anything is opened
	 * for the VM, opening files only to look at them. Returns 0, or the
	 * exit status to leave with (RV_EXIT_USAGE for the command line,
	 * RV_EXIT_BADFILE for a file) and a one-line reason in err.
	 */
	int (*check)(const struct rv_config *cfg, char *err, size_t errlen);
	/*
	 * setup: create this device's instances for `vm` as its configuration
	 * asks (none is fine), claim their bus ranges and register each with
	 * vm_add_dev(). Runs once, before the vCPUs start. Returns 0 or -errno;
	 * the caller names the device in the error.
	 */
	int (*setup)(struct vm *vm);
	/*
	 * teardown: release one instance made by setup (flush files, close
	 * fds, free state). Runs on the loop thread after the vCPUs stopped.
	 */
	void (*teardown)(struct vm *vm, void *state);
	/*
	 * acpi_dsdt: describe one instance in the DSDT (x86). Called inside
	 * Scope(\_SB). NULL when the device needs no namespace object.
	 * Returns 0 or -ENOSPC when the table buffer is full.
	 */
	int (*acpi_dsdt)(void *state, struct aml *aml);
};

/* Every device, defined in its own file in devices/. */
extern const struct device_ops serial_ops;
extern const struct device_ops pm_ops;
extern const struct device_ops pvpanic_ops;
extern const struct device_ops vblk_ops;
extern const struct device_ops vnet_ops;
extern const struct device_ops vsock_ops;

/* The device table, NULL-terminated, in setup order (src/devices.c). */
extern const struct device_ops *const rv_devices[];

/*
 * devices_check: run every check hook; on the first failure print its
 * reason and exit with its status. Needs no VM: the CLI's last step.
 */
void devices_check(const struct rv_config *cfg);

/* devices_setup: run every setup hook. Dies naming the device on failure. */
void devices_setup(struct vm *vm);

/* devices_teardown: run teardown for every instance, newest first. */
void devices_teardown(struct vm *vm);

#endif
