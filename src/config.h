/*
 * config.h: what the user asked for, as parsed from the command line, and
 * the device instances made of it (src/devices.c owns that list).
 */
#ifndef RINGVM_CONFIG_H
#define RINGVM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"

#define RV_MEM_DEFAULT (256ull << 20)	/* -m default */
#define RV_MEM_MIN (16ull << 20)	/* smallest -m accepted */
#define RV_MAX_VCPUS 64			/* -c ceiling, below KVM's own */
#define RV_MAX_INSTANCES 24		/* device instances of every kind together */

struct rv_config {
	const char *kernel;	/* -k: bzImage path */
	const char *initrd;	/* -i: initramfs path, or NULL */
	const char *append;	/* -a: extra kernel command line, or NULL */
	uint64_t mem_size;	/* -m, in bytes */
	unsigned ncpus;		/* -c */
	bool check_only;	/* --check: judge the command line and files, start nothing */
	/* Set by ringvm itself (the command runner), not by an option: */
	const char *cmdline_extra;	/* kernel parameters after the defaults, before -a */
	const uint8_t *initrd_extra;	/* an initramfs loaded after -i's (or alone) */
	size_t initrd_extra_len;
	struct dev_instance dev[RV_MAX_INSTANCES];	/* in device-table order */
	unsigned nr_dev;
};

#endif
