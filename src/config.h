/* config.h: what the user asked for, as parsed from the command line. */
#ifndef RINGVM_CONFIG_H
#define RINGVM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define RV_MEM_DEFAULT (256ull << 20)	/* -m default */
#define RV_MEM_MIN (16ull << 20)	/* smallest -m accepted */
#define RV_MAX_VCPUS 64			/* -c ceiling, below KVM's own */
#define RV_MAX_DISKS 8
#define RV_MAX_NETS 4

struct rv_config {
	const char *kernel;	/* -k: bzImage path */
	const char *initrd;	/* -i: initramfs path, or NULL */
	const char *append;	/* -a: extra kernel command line, or NULL */
	uint64_t mem_size;	/* -m, in bytes */
	unsigned ncpus;		/* -c */
	const char *disk[RV_MAX_DISKS];	/* -d specs, parsed by the disk device */
	unsigned nr_disks;
	const char *net[RV_MAX_NETS];	/* -n specs, parsed by the net device */
	unsigned nr_nets;
	const char *vsock;	/* --vsock spec, parsed by the vsock device, or NULL */
	bool check_only;	/* --check: judge the command line and files, start nothing */
};

#endif
