/* virtio_blk.h: the virtio block device, exposed for unit tests and fuzzing. */
#ifndef RINGVM_VIRTIO_BLK_H
#define RINGVM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "disk.h"
#include "virtio_pci.h"

#define VBLK_MAX_DEVICES 8	/* -d options per VM */
#define VBLK_QUEUE_SIZE 256	/* descriptors per queue */
#define VBLK_INFLIGHT 64	/* requests in flight per disk (HOSTILE.md B9) */
#define VBLK_SEG_MAX 254	/* data segments per request (VIRTIO_BLK_F_SEG_MAX) */
#define VBLK_SIZE_MAX (1u << 20)	/* bytes per data segment (VIRTIO_BLK_F_SIZE_MAX) */
#define VBLK_ID_BYTES 20	/* GET_ID serial length */

/* What a -d spec asks for. */
struct vblk_spec {
	char path[4096];
	bool ro;
	bool snapshot;		/* the image read-only, the guest's writes in an overlay */
	bool split_only;	/* ring=split: do not offer VIRTIO_F_RING_PACKED */
	enum disk_engine engine;
	char serial[VBLK_ID_BYTES + 1];
};

struct vblk_req {
	bool busy;
	struct virtq_token tok;
	uint8_t *status;	/* the chain's status byte, inside guest RAM */
	uint32_t written;	/* data bytes written to the guest on success */
	int64_t expect;		/* the result that means success */
	unsigned gen;		/* reset generation it belongs to */
	int iovcnt;
	struct iovec iov[VBLK_SEG_MAX];
};

struct vblk {
	struct vm *vm;
	struct virtio_pci *vp;
	struct vblk_spec spec;
	struct disk disk;
	uint64_t capacity;	/* 512-byte sectors */
	uint64_t features;	/* device feature bits offered */
	uint64_t negotiated;
	unsigned gen;		/* bumped by each reset */
	unsigned inflight;
	bool throttled;		/* requests left in the ring for lack of slots */
	struct vblk_req req[VBLK_INFLIGHT];
	struct virtq_chain chain;	/* scratch for virtq_pop */
	unsigned long ioerr, unsupp;	/* requests failed by status, for the record */
};

/*
 * vblk_parse_spec: parse "PATH[,ro|,snapshot][,serial=ID][,ring=split|packed]
 * [,aio=uring|sync]". Returns 0, or -1 with a reason in `err`.
 */
int vblk_parse_spec(const char *s, struct vblk_spec *spec, char *err, size_t errlen);

/* vblk_process: take requests from the queue while slots are free (loop thread). */
void vblk_process(struct vblk *b);

/* vblk_io_done/vblk_io_drained: the disk's completion callbacks. */
void vblk_io_done(void *owner, uint64_t tag, int res);
void vblk_io_drained(void *owner);

extern const struct virtio_ops vblk_virtio_ops;

/* The device, for the table in src/devices.c and for tests. */
extern const struct device_ops vblk_ops;

#endif
