/*
 * config.h: what the user asked for, as parsed from the command line, and
 * the device instances made of it (src/devices.c owns that list).
 */
#ifndef RINGVM_CONFIG_H
#define RINGVM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpio.h"
#include "device.h"

#define RV_MEM_DEFAULT (256ull << 20)	/* -m default */
#define RV_MEM_MIN (16ull << 20)	/* smallest -m accepted */
#define RV_MAX_VCPUS 64			/* -c ceiling, below KVM's own */
#define RV_MAX_INSTANCES 24		/* device instances of every kind together */

#define RV_MAX_ENV 64			/* -e options */

/* The command mode (`ringvm [options] -- COMMAND [ARG...]`), src/runner*.c. */
struct rv_run {
	int argc;		/* the command's words after "--"; 0: console mode */
	char **argv;
	const char *env[RV_MAX_ENV];	/* -e NAME=VALUE, in order */
	unsigned nr_env;
	const char *workdir;	/* -w: the command's working directory in the guest */
	uint32_t uid, gid;	/* -u: the command's user and group (0:0) */
	const char *console;	/* --console FILE: the guest's console output, else dropped */
	const char *result;	/* --result FILE: one JSON object at exit */
	const char *root;	/* --root IMAGE: ext4, squashfs or erofs, read-only */
	const char *modules;	/* --modules DIR: the guest kernel's modules */
	uint64_t timeout_ms;	/* --timeout: 0 for none */
	uint64_t output_limit;	/* --output-limit: bytes per stream, 0 for none */
	/* Made by runner_boot_prepare: */
	char params[256];	/* kernel parameters for ringvm-init */
	char root_spec[4200];	/* the root image's -d spec */
	struct cpio initramfs;	/* ringvm's own archive */
};

struct rv_config {
	const char *kernel;	/* -k: bzImage path */
	const char *initrd;	/* -i: initramfs path, or NULL */
	const char *append;	/* -a: extra kernel command line, or NULL */
	uint64_t mem_size;	/* -m, in bytes */
	unsigned ncpus;		/* -c */
	bool check_only;	/* --check: judge the command line and files, start nothing */
	const char *dump_dtb;	/* --dump-dtb: write the device tree here, start nothing (arm64) */
	bool sandbox_off;	/* --sandbox off: no seccomp, no Landlock (debugging only) */
	bool kernel_cache_off;	/* --kcache off: unpack the kernel in memory, no cache (kcache.h) */
	/* Set by ringvm itself (the command runner), not by an option: */
	const char *cmdline_extra;	/* kernel parameters after the defaults, before -a */
	const uint8_t *initrd_extra;	/* an initramfs loaded after -i's (or alone) */
	size_t initrd_extra_len;
	struct dev_instance dev[RV_MAX_INSTANCES];	/* in device-table order */
	unsigned nr_dev;
	/* Devices a spec turned off (parse said DEVICE_NONE): no default for them. */
	const struct device_ops *off[RV_MAX_INSTANCES];
	unsigned nr_off;
	struct rv_run run;	/* the command to run, when there is one */
};

#endif
