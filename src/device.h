/*
 * device.h: the one interface every device file in devices/ fills, and the
 * device table (src/devices.c) that is ringvm's only registry of devices.
 *
 * A device is one file that defines one `const struct device_ops`. The
 * table lists them in creation order, which also fixes their order in the
 * firmware description. Everything else reads the table: the command line
 * (a device's option, its --help text and the parsing of its specs), the
 * configuration check, creation, teardown and the firmware builder. The
 * core never switches on a device type: it calls these hooks.
 *
 * Life of an instance:
 *   parse   (CLI, nothing opened)  -> conf
 *   check   (before /dev/kvm)      -> files looked at, read-only
 *   create  (setup, on the loop)   -> state, bus ranges claimed
 *   destroy (exit, vCPUs stopped)  -> everything released
 */
#ifndef RINGVM_DEVICE_H
#define RINGVM_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct vm;
struct rv_config;

/*
 * A device's command-line option: each use adds one instance. A device
 * with a default_spec is on by default: a configuration that does not
 * give its option gets one instance parsed from default_spec
 * (devices_configure), and its parse turns it off by answering a spec
 * (by convention "off") with DEVICE_NONE.
 */
struct device_option {
	const char *name;	/* long option, "disk" for --disk */
	char short_name;	/* 'd' for -d, or 0 for a long option only */
	const char *arg;	/* the argument's name in --help: "SPEC" */
	const char *summary;	/* --help's one line, after the option */
	unsigned max;		/* instances allowed */
	const char *noun;	/* what one instance is called, plural: "disks" */
	/* usage: optional: print the sub-option block of --help. */
	void (*usage)(FILE *out);
	/* default_spec: optional: the spec of the instance a VM gets without the option. */
	const char *default_spec;
};

/*
 * DEVICE_NONE: what parse returns for a valid spec that asks for no
 * instance (a default device turned off). Positive, so never an -errno.
 */
#define DEVICE_NONE 1

/*
 * A neutral description of one instance for the firmware tables: what it
 * is in each vocabulary, and its resources. The architecture turns it into
 * ACPI (x86) or device-tree nodes (arm64, later).
 */
#define DEV_DESC_MAX_RES 4

enum dev_res_kind {
	DEV_RES_PIO,		/* port I/O range (x86) */
	DEV_RES_MMIO,		/* memory-mapped range */
};

struct dev_desc {
	const char *acpi_name;		/* 4-character namespace name, "COM1" */
	const char *acpi_hid;		/* "PNP0501" (EISA form) or "QEMU0001" */
	unsigned acpi_uid;		/* _UID, or 0 for none */
	const char *dt_compatible;	/* "ns16550a" */
	struct {
		enum dev_res_kind kind;
		uint64_t base, len;
	} res[DEV_DESC_MAX_RES];
	unsigned nr_res;
	int irq;			/* the interrupt line, -1 for none */
};

struct device_ops {
	const char *name;
	/* option: the option that adds instances; NULL for a device every VM has once. */
	const struct device_option *option;
	/*
	 * parse: judge one spec (the option's argument; NULL for a device
	 * without option) and return its parsed form in *conf (malloc'd, freed
	 * with free(); NULL is fine). `index` counts this device's specs from
	 * 0. Opens nothing: the CLI calls it before anything exists. Returns
	 * 0; DEVICE_NONE (with *conf left NULL) when the spec asks for no
	 * instance: none is made, and a default_spec is then not applied;
	 * or -EINVAL with a one-line reason in err (a usage error).
	 * Optional: without it the instance gets a NULL conf.
	 */
	int (*parse)(const char *spec, unsigned index, void **conf, char *err, size_t errlen);
	/*
	 * check: optional: look at the files `conf` names, opening them only to
	 * read, before /dev/kvm is opened. Returns 0, or -errno with a one-line
	 * reason in err (the run exits with status 3, a bad file).
	 */
	int (*check)(const void *conf, char *err, size_t errlen);
	/*
	 * create: make one instance for `vm` from `conf` (still owned by the
	 * configuration), claim its bus ranges, and return it in *state.
	 * Setup, on the loop thread, before the vCPUs start. Returns 0 or
	 * -errno with a one-line reason in err; on failure nothing is held.
	 */
	int (*create)(struct vm *vm, const void *conf, void **state, char *err, size_t errlen);
	/*
	 * destroy: release one instance (flush files, close fds, free state).
	 * On the loop thread, after the vCPUs stopped. Returns 0, or -errno
	 * when a promise to the guest was broken (a disk's final flush
	 * failed): the run then exits with status 1.
	 */
	int (*destroy)(struct vm *vm, void *state);
	/*
	 * describe: optional: describe the instance for the firmware tables.
	 * Returns 1 with `desc` filled, or 0 when the device needs no entry
	 * (PCI devices are found by enumeration).
	 */
	int (*describe)(const void *state, struct dev_desc *desc);
	/*
	 * inherited_fds: optional: the descriptors inherited from the parent
	 * that `conf` names and the instance will use (a TAP passed as fd=N),
	 * written to fds[0..max). Returns how many. Pure: touches no
	 * descriptor. Every other inherited descriptor may be closed at start.
	 */
	unsigned (*inherited_fds)(const void *conf, int *fds, unsigned max);
};

/* The device table, NULL-terminated, in creation order (src/devices.c). */
extern const struct device_ops *const rv_devices[];

/* One instance: its device, its configuration, and its state once created. */
struct dev_instance {
	const struct device_ops *ops;
	const char *spec;	/* the option's argument, or NULL */
	unsigned index;		/* the nth instance of this device */
	void *conf;		/* from ops->parse */
	void *state;		/* from ops->create; NULL until then */
};

/*
 * devices_find_option: the device whose option is `name` (long) or
 * `short_name` (when nonzero), or NULL.
 */
const struct device_ops *devices_find_option(const char *name, char short_name);

/*
 * devices_configure: append an instance of every device without an
 * option, and one from default_spec of every device whose option has one
 * and was not given (devinst_given), then order the instances as the
 * table does (the CLI's last step, after devinst_parse for each option).
 * Returns 0 or -errno with the reason in err.
 */
int devices_configure(struct rv_config *cfg, char *err, size_t errlen);

#endif
