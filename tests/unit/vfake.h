/*
 * vfake.h: a fake virtio driver for unit tests and fuzzers: guest RAM with a
 * hole, split and packed rings built the way a driver builds them (or raw,
 * the way a hostile one does), the driver's view of the used ring, and an
 * independent reference walker that says what virtq_pop must return for the
 * ring as it lies in memory (the oracle the fuzzers compare against).
 *
 * Everything here reaches guest memory through vf_at(), which aborts on a
 * bad range: a test that misplaces its own rings fails loudly.
 */
#ifndef RINGVM_VFAKE_H
#define RINGVM_VFAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "gmem.h"
#include "irq.h"
#include "loop.h"
#include "config.h"
#include "virtq.h"
#include "vm.h"

struct virtio_pci;
struct vblk;

/* Descriptor flags as a driver writes them (split and packed). */
#define VF_NEXT 1u
#define VF_WRITE 2u
#define VF_INDIRECT 4u
#define VF_AVAIL (1u << 7)
#define VF_USED (1u << 15)

/*
 * vf_mem_init: guest RAM of two regions, [0, r0_len) and
 * [r0_len + hole, r0_len + hole + r1_len). Returns gmem_init's result.
 */
int vf_mem_init(struct gmem *gm, uint64_t r0_len, uint64_t hole, uint64_t r1_len);

/* vf_at: host address of [gpa, gpa + len); aborts when it is not RAM. */
uint8_t *vf_at(const struct gmem *gm, uint64_t gpa, uint64_t len);

/* vf_gpa_of: the guest address of host address `hva`, or UINT64_MAX. */
uint64_t vf_gpa_of(const struct gmem *gm, const void *hva);

uint16_t vf_get16(const struct gmem *gm, uint64_t gpa);
uint32_t vf_get32(const struct gmem *gm, uint64_t gpa);
void vf_put16(const struct gmem *gm, uint64_t gpa, uint16_t v);
void vf_put32(const struct gmem *gm, uint64_t gpa, uint32_t v);
void vf_put64(const struct gmem *gm, uint64_t gpa, uint64_t v);

/* One buffer of a chain, as the driver means it. */
struct vf_seg {
	uint64_t addr;
	uint32_t len;
	bool write;		/* device-writable */
};

/* The driver's side of one queue. */
struct vf_ring {
	const struct gmem *gm;
	uint16_t size;
	bool packed;
	uint64_t desc, driver, device;	/* ring addresses (gpa) */
	/* split */
	uint16_t avail_idx;		/* next avail.idx the driver publishes */
	uint16_t next_desc;		/* descriptor slots are handed out round robin */
	uint16_t last_used;		/* used entries the driver has read */
	/* packed */
	uint16_t pk_next;		/* next slot the driver fills */
	bool pk_wrap;			/* the driver's wrap counter */
	uint16_t pk_used;		/* next slot the driver reads a used descriptor at */
	bool pk_used_wrap;
	uint16_t pk_id;			/* next buffer id */
	uint16_t pk_ndesc[VIRTQ_MAX_SIZE];	/* slots taken by the chain of each id */
	/* a bump allocator for buffers and indirect tables */
	uint64_t heap, heap_start, heap_end;
};

/*
 * vf_ring_init: a queue of `size` whose rings live at desc/driver/device;
 * zeroes the ring memory. Buffers come from [heap, heap + heap_len).
 */
void vf_ring_init(struct vf_ring *r, const struct gmem *gm, uint16_t size, bool packed,
    uint64_t desc, uint64_t driver, uint64_t device, uint64_t heap, uint64_t heap_len);

/* vf_alloc: `len` bytes (16-aligned) filled with `fill`; wraps around the heap. */
uint64_t vf_alloc(struct vf_ring *r, uint32_t len, uint8_t fill);

/* Split, raw: descriptor `i`, avail ring entry at `pos`, avail.idx, avail.flags, used_event. */
void vf_desc(struct vf_ring *r, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
    uint16_t next);
void vf_avail_entry(struct vf_ring *r, uint16_t pos, uint16_t head);
void vf_avail_set_idx(struct vf_ring *r, uint16_t idx);
void vf_avail_flags(struct vf_ring *r, uint16_t flags);
void vf_used_event(struct vf_ring *r, uint16_t idx);
/* vf_avail_add: put `head` in the next avail slot and publish avail.idx. */
void vf_avail_add(struct vf_ring *r, uint16_t head);

/* Packed, raw: descriptor at `slot`; the AVAIL/USED bits meaning "available in lap `wrap`". */
void vf_pdesc(struct vf_ring *r, uint16_t slot, uint64_t addr, uint32_t len, uint16_t id,
    uint16_t flags);
uint16_t vf_pavail(bool wrap);
/* Packed driver event suppression area: off_wrap and flags. */
void vf_pdriver_event(struct vf_ring *r, uint16_t off_wrap, uint16_t flags);

/*
 * vf_chain: add a well-formed chain of `n` direct descriptors and publish
 * it. Returns the id the device must report: the head index (split) or the
 * buffer id (packed).
 */
uint16_t vf_chain(struct vf_ring *r, const struct vf_seg *s, unsigned n);

/*
 * vf_chain_indirect: one ring descriptor (flags `extra` added, e.g. VF_WRITE
 * to check it is ignored) pointing to an indirect table at `table` of `n`
 * entries. Returns the id, as vf_chain.
 */
uint16_t vf_chain_indirect(struct vf_ring *r, uint64_t table, const struct vf_seg *s,
    unsigned n, uint16_t extra);

/* vf_used_idx: used.idx as the device published it (split). */
uint16_t vf_used_idx(const struct vf_ring *r);

/*
 * vf_used_next: the next used buffer the device published, as a driver reads
 * it. Returns 1 with *id and *len, or 0 when there is none yet.
 */
int vf_used_next(struct vf_ring *r, uint32_t *id, uint32_t *len);

/* What a correct walker must return for the next pop. */
struct vf_ref {
	int r;				/* 1 chain, 0 empty, -1 malformed (RESET) */
	uint16_t id, ndesc;
	unsigned nseg;
	uint32_t read_len, write_len;
	struct vf_seg seg[VIRTQ_MAX_SIZE];
};

/*
 * vf_ref_pop: the reference walker, written apart from src/virtq.c. `pos`
 * is the device's next avail position (split last_avail, packed next_avail),
 * `wrap` its packed avail wrap counter, `indirect` whether
 * VIRTIO_F_INDIRECT_DESC was negotiated.
 */
void vf_ref_pop(const struct vf_ring *r, bool indirect, uint16_t pos, bool wrap,
    struct vf_ref *out);

/*
 * vf_chain_matches: whether popped chain `c` is what `ref` describes (same
 * buffers in guest-physical terms, directions, lengths and id).
 */
bool vf_chain_matches(const struct gmem *gm, const struct virtq_chain *c, const struct vf_ref *ref,
    bool packed);

/* --- virtio-blk requests, as a driver lays them out --- */
#define VF_BLK_IN 0u
#define VF_BLK_OUT 1u
#define VF_BLK_FLUSH 4u
#define VF_BLK_GET_ID 8u
#define VF_BLK_DISCARD 11u
#define VF_BLK_WRITE_ZEROES 13u
#define VF_STATUS_UNSET 0xee	/* what the status byte holds until the device writes it */

struct vf_blk {
	uint64_t hdr, data, status;	/* guest addresses */
	uint32_t data_len;
	uint16_t id;			/* what USED must carry */
};

/*
 * vf_blk_hdr: a 16-byte request header in guest memory. vf_blk_req: a whole
 * request as Linux builds it: header (readable), `data_len` bytes of data
 * (device-writable for IN and GET_ID, readable otherwise; none when 0;
 * written data is filled with `fill`), then a status byte preset to
 * VF_STATUS_UNSET. Returns the id USED must carry.
 */
uint64_t vf_blk_hdr(struct vf_ring *r, uint32_t type, uint64_t sector);
uint16_t vf_blk_req(struct vf_ring *r, uint32_t type, uint64_t sector, uint32_t data_len,
    uint8_t fill, struct vf_blk *out);

/* vf_stderr_begin/end: send stderr to a temporary file; end restores it and counts the lines. */
void vf_stderr_begin(void);
unsigned vf_stderr_end(char *last, size_t last_len);

/* vf_open_fds: file descriptors this process has open. */
unsigned vf_open_fds(void);

/*
 * vf_tmpdisk: a temporary disk image of `len` bytes (byte i = i * 7 + 3),
 * already unlinked (nothing is left behind, even by a crash). Returns an
 * fd to it, or -errno; `path` names it as /proc/self/fd/N for disk_open.
 */
int vf_tmpdisk(char *path, size_t path_len, uint64_t len);

/*
 * --- A VM without KVM (defined in stubs_virtio.c) ---
 *
 * stubs_virtio.c replaces irq.c (it records the interrupts raised instead of
 * issuing KVM ioctls) and vm_add_dev, and answers the KVM ioctls virtio_pci.c
 * issues itself (KVM_IOEVENTFD) without a VM. Link it with the real
 * virtio_pci, msix, pci, bus, virtq, gmem, disk and virtio_blk objects.
 */
struct vstub_irq {
	unsigned long msi_fired[IRQ_MAX_MSI];	/* irq_msi_fire per route */
	unsigned long msi_total;
	unsigned long msi_unrouted;	/* fired while its route was not valid: lost on KVM */
	unsigned long msi_bad;		/* fired with an index never allocated */
	unsigned long route_updates;	/* routing tables committed */
	unsigned commit_fail;		/* refuse this many more commits (-ENOMEM) */
	unsigned long commits_refused;
	unsigned long intx_raised;	/* irq_shared_set asserting a source */
	unsigned long intx_calls;
	unsigned long intx_edges;	/* a line going from low to high: an interrupt */
	uint32_t intx_mask[ARCH_IRQCHIP_GSIS];
	unsigned long ioeventfd_assign, ioeventfd_deassign, kvm_ioctls;
};
extern struct vstub_irq vstub_irq;

struct vstub_vm {
	struct vm vm;
	struct loop loop;
	struct rv_config cfg;
};

/* vstub_vm_init: guest RAM (vf_mem_init layout), a libev loop, PCI bus 0. Returns 0 or -errno. */
int vstub_vm_init(struct vstub_vm *v, uint64_t r0_len, uint64_t hole, uint64_t r1_len);
void vstub_vm_fini(struct vstub_vm *v);

/*
 * vstub_dev_add: an instance of `ops` made from `spec` by its own parse and
 * create hooks, recorded in the fake VM's configuration as devices.c
 * records it. Returns its state, or NULL.
 */
void *vstub_dev_add(struct vstub_vm *v, const struct device_ops *ops, const char *spec);
/* vstub_dev_remove: the instance's destroy hook; returns what it returned (-ENOENT: none). */
int vstub_dev_remove(struct vstub_vm *v, void *state);

/* vstub_blk_add: a virtio-blk device from a -d spec ("PATH,aio=sync,..."), or NULL. */
struct vblk *vstub_blk_add(struct vstub_vm *v, const char *spec);
/* vstub_blk_remove: its destroy hook; 0 or the -errno of a failed final flush. */
int vstub_blk_remove(struct vstub_vm *v, struct vblk *b);

/* vstub_run: run the loop without blocking until nothing is pending (completions, kicks). */
void vstub_run(struct vstub_vm *v);

/* BAR 0 of a virtio PCI function, accessed as the guest would (through its bus handlers). */
uint64_t vstub_bar_read(struct virtio_pci *vp, uint64_t off, unsigned size);
void vstub_bar_write(struct virtio_pci *vp, uint64_t off, uint64_t val, unsigned size);

/* The virtio-pci modern BAR layout and common configuration (virtio 1.2, 4.1.4.3). */
#define VS_COMMON 0x0000
#define VS_ISR 0x1000
#define VS_DEVCFG 0x2000
#define VS_NOTIFY 0x3000
#define VS_MSIX_TABLE 0x4000
#define VS_MSIX_PBA 0x5000
#define VS_DFSELECT 0x00
#define VS_DF 0x04
#define VS_GFSELECT 0x08
#define VS_GF 0x0c
#define VS_MSIX 0x10
#define VS_NUMQ 0x12
#define VS_STATUS 0x14
#define VS_CFGGEN 0x15
#define VS_QSELECT 0x16
#define VS_QSIZE 0x18
#define VS_QMSIX 0x1a
#define VS_QENABLE 0x1c
#define VS_QNOFF 0x1e
#define VS_QDESC 0x20
#define VS_QDRIVER 0x28
#define VS_QDEVICE 0x30
#define VS_S_ACK 1
#define VS_S_DRIVER 2
#define VS_S_DRIVER_OK 4
#define VS_S_FEATURES_OK 8
#define VS_S_NEEDS_RESET 0x40

/* vstub_status: device_status as the driver reads it. */
uint8_t vstub_status(struct virtio_pci *vp);

/*
 * vstub_queue_enable: program queue `q` of a virtio-pci function as a
 * driver does (select, size, the three ring addresses) and enable it.
 */
void vstub_queue_enable(struct virtio_pci *vp, uint16_t q, uint16_t size, uint64_t desc,
    uint64_t drv, uint64_t dev);

/*
 * vstub_driver_init: what a driver does from reset to DRIVER_OK for queue
 * `q` of `size` at desc/drv/dev: acknowledge, negotiate `want` & offered,
 * FEATURES_OK, queue setup and enable, DRIVER_OK. Returns the features
 * accepted, or 0 when the device refused FEATURES_OK.
 */
uint64_t vstub_driver_init(struct virtio_pci *vp, uint64_t want, uint16_t q, uint16_t size,
    uint64_t desc, uint64_t drv, uint64_t dev);

#endif
