/*
 * fuzz_vpci.c: the virtio-pci transport (with virtio-blk behind it): random
 * BAR 0 reads and writes of width 1, 2, 4 and 8 at any offset, random PCI
 * configuration space accesses (BAR moves, memory decode, MSI-X control, the
 * configuration access window), mixed with driver steps that reach the
 * status machine, feature negotiation, queue setup and enable, requests and
 * kicks. A fresh VM per input keeps runs independent.
 *
 * Invariants checked after every access (HOSTILE.md 2c, X1):
 * - driver features are a subset of the offered ones; FEATURES_OK implies
 *   VERSION_1; DRIVER_OK implies FEATURES_OK (F1, F2);
 * - every vector is a table entry or NO_VECTOR (T6, X1); no MSI fires on a
 *   route that is not programmed, none with an index never allocated;
 * - an enabled queue keeps the size and addresses it was enabled with, lies
 *   in guest RAM, has a legal size (T1, T2, T3);
 * - a queue select past the queues reads size 0 and NO_VECTOR (T4);
 * - ISR holds only its two bits; PCI IDs never change (T7);
 * - ioeventfds follow BAR 0: assigned exactly while it is mapped;
 * - a device that needs a reset completes nothing; a reset reads 0 once the
 *   device drained (F3).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pci.h"
#include "vfake.h"
#include "virtio_blk.h"
#include "virtio_pci.h"

#define R0_LEN 0x10000ull
#define R1_GPA 0x20000ull
#define R1_LEN 0x10000ull
#define DESC 0x1000ull
#define DRV 0x2000ull
#define DEV 0x3000ull
#define HEAP 0x4000ull
#define HEAP_LEN 0xc000ull
#define BAR_SIZE 0x8000u

#define CHECK(c) do { if (!(c)) fail(#c, __LINE__); } while (0)

static void fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_vpci: invariant broken at line %d: %s\n", line, what);
	abort();
}

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t in8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t in16(struct in *in)
{
	uint16_t lo = in8(in);

	return (uint16_t)(lo | in8(in) << 8);
}

static uint64_t in64(struct in *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)in8(in) << (8 * i);
	return v;
}

static struct {
	char path[256];
	bool have_disk;
	struct vstub_vm v;
	struct vblk *b;
	struct virtio_pci *vp;
	struct vf_ring r;
	uint16_t ring_size;
	bool ring_packed;
	/* what queue 0 was enabled with, to check it stays frozen (T2) */
	bool was_enabled;
	struct virtio_queue_cfg frozen;
	uint8_t ids[16];
	unsigned long assign0, deassign0;
} g;

static uint64_t bar_off(struct in *in, unsigned size)
{
	static const uint16_t hot[] = {
		0x00, 0x04, 0x08, 0x0c, 0x10, 0x12, 0x14, 0x15, 0x16, 0x18, 0x1a, 0x1c, 0x1e,
		0x20, 0x24, 0x28, 0x2c, 0x30, 0x34, 0x36, 0x38, 0x1000, 0x1001, 0x2000, 0x2008,
		0x2014, 0x2022, 0x203c, 0x3000, 0x3004, 0x3002, 0x4000, 0x4004, 0x4008, 0x400c,
		0x4010, 0x401c, 0x4020, 0x5000, 0x5004, 0x7ff8,
	};
	uint8_t m = in8(in);
	uint64_t off;

	if (m & 0x80)
		off = hot[(m & 0x7f) % (sizeof(hot) / sizeof(hot[0]))] + (m & 0x40 && (m & 1) ? 1 : 0);
	else
		off = in16(in) % BAR_SIZE;
	/* The bus hands a device only accesses that fit its range. */
	if (off + size > BAR_SIZE)
		off = BAR_SIZE - size;
	return off;
}

static uint64_t value(struct in *in)
{
	static const uint64_t hot[] = {
		0, 1, 2, 3, 4, 7, 8, 0xb, 0xf, 0x40, 0x4f, 0x80, 0xff, 0xffff, 0xffffffff, DESC, DRV,
		DEV, DESC + 8, DRV + 1, DEV + 2, 0xc0000000, 0x10000, VBLK_QUEUE_SIZE, 255, 256,
		0x100000000ull, 0x7fff, 0x8000, 0xfee00000,
	};
	uint8_t m = in8(in);

	if (m & 0x80)
		return hot[(m & 0x7f) % (sizeof(hot) / sizeof(hot[0]))];
	return in64(in);
}

static uint8_t cfg_off(struct in *in)
{
	uint8_t m = in8(in), cap = g.vp->msix.cap, cc = g.vp->cfg_cap;
	const uint8_t hot[] = {
		0x04, 0x06, 0x10, 0x14, 0x3c, 0x34, 0x00, 0x08, 0x0c,
		(uint8_t)(cap + 2), (uint8_t)(cap + 3), (uint8_t)(cc + 4), (uint8_t)(cc + 8),
		(uint8_t)(cc + 12), (uint8_t)(cc + 16), (uint8_t)(cc + 17), (uint8_t)(cc + 18),
	};

	return m & 0x80 ? hot[(m & 0x7f) % sizeof(hot)] : in8(in);
}

/* check: the invariants that hold after any access. */
static void check(void)
{
	struct virtio_pci *vp = g.vp;
	const struct virtio_queue_cfg *qc = &vp->qcfg[0];
	uint16_t vec;

	CHECK((vp->drv_features & ~vp->dev_features) == 0);
	if ((vp->status & VS_S_FEATURES_OK) && !vp->resetting)
		CHECK(vp->drv_features >> 32 & 1);
	if ((vp->status & VS_S_DRIVER_OK) && !vp->resetting)
		CHECK(vp->status & VS_S_FEATURES_OK);
	CHECK(vp->config_vector < vp->msix.nr || vp->config_vector == VIRTIO_NO_VECTOR);
	CHECK(qc->vector < vp->msix.nr || qc->vector == VIRTIO_NO_VECTOR);
	CHECK((vp->isr & ~3u) == 0);
	CHECK(vstub_irq.msi_bad == 0 && vstub_irq.msi_unrouted == 0);
	CHECK(!memcmp(vp->pci.cfg, g.ids, 4) && vp->pci.cfg[0x08] == g.ids[8] &&
	    !memcmp(vp->pci.cfg + 0x09, g.ids + 9, 3));
	if (qc->enabled) {
		const struct virtq *vq = &vp->vq[0];

		CHECK(vq->enabled && vq->size == qc->size && qc->size && qc->size <= VBLK_QUEUE_SIZE);
		CHECK(vq->packed || !(qc->size & (qc->size - 1)));
		CHECK(vf_gpa_of(&g.v.vm.mem, vq->desc) == qc->desc);
		if (g.was_enabled)
			CHECK(qc->size == g.frozen.size && qc->desc == g.frozen.desc &&
			    qc->driver == g.frozen.driver && qc->device == g.frozen.device);
		else
			g.frozen = *qc;
		g.was_enabled = true;
	} else {
		g.was_enabled = false;
	}
	if (vp->status & VS_S_NEEDS_RESET)
		CHECK(virtio_pci_queue(vp, 0) == NULL);
	/* ioeventfds move with BAR 0: assigned while it is decoded, none otherwise. */
	CHECK((vstub_irq.ioeventfd_assign - g.assign0) - (vstub_irq.ioeventfd_deassign - g.deassign0) ==
	    (vp->bar_gpa ? vblk_virtio_ops.num_queues : 0u));
	/* T4: a queue select past the queues reads size 0 and NO_VECTOR. */
	if (vp->qsel >= vblk_virtio_ops.num_queues) {
		CHECK(vstub_bar_read(vp, VS_QSIZE, 2) == 0);
		vec = (uint16_t)vstub_bar_read(vp, VS_QMSIX, 2);
		CHECK(vec == VIRTIO_NO_VECTOR);
	}
}

/* driver: the well-behaved driver's steps, so fuzzing starts from deep states too. */
static void driver(struct in *in)
{
	uint8_t m = in8(in);
	uint64_t want = value(in) | (m & 1 ? 1ull << 32 : 0);

	switch ((m >> 1) & 7) {
	case 0: {
		uint16_t size = m & 0x10 ? (uint16_t)(in16(in) % 300) : (uint16_t)(1u << (in8(in) % 9));
		bool packed = want & (1ull << VIRTQ_F_RING_PACKED);

		if (size && size <= VIRTQ_MAX_SIZE) {
			vf_ring_init(&g.r, &g.v.vm.mem, size, packed, DESC, DRV, DEV, HEAP, HEAP_LEN);
			g.ring_size = size;
			g.ring_packed = packed;
		}
		vstub_driver_init(g.vp, want, 0, size, DESC, DRV, DEV);
		g.was_enabled = false;	/* a new enable, not a rewrite of the old one */
		break;
	}
	case 1:
		/* A request in the driver's ring, then a kick. */
		if (g.ring_size >= 3) {
			struct vf_blk rq;
			uint16_t before = g.ring_packed ? 0 : vf_used_idx(&g.r);
			bool stopped = !virtio_pci_running(g.vp);

			vf_blk_req(&g.r, in8(in) % 3 == 0 ? VF_BLK_OUT : VF_BLK_IN, in8(in), 512u * (in8(in) % 3),
			    0x5a, &rq);
			if (m & 0x10)
				eventfd_write(g.vp->qcfg[0].kick.fd, 1);
			else
				vstub_bar_write(g.vp, VS_NOTIFY, 0, 2);
			vstub_run(&g.v);
			if (stopped && !g.ring_packed)
				CHECK(vf_used_idx(&g.r) == before);	/* stopped devices complete nothing */
		}
		break;
	case 2:
		/* Reset, waiting for status 0 as the specification asks (F3). */
		vstub_bar_write(g.vp, VS_STATUS, 0, 1);
		vstub_run(&g.v);
		CHECK(vstub_status(g.vp) == 0 && g.b->inflight == 0);
		break;
	case 3:
		/* MSI-X on, vector k unmasked. */
		pci_cfg_write(&g.vp->pci, g.vp->msix.cap + 2u, 0x8000, 2);
		{
			unsigned k = in8(in) % 3;

			vstub_bar_write(g.vp, VS_MSIX_TABLE + 16ull * k, 0xfee00000u, 4);
			vstub_bar_write(g.vp, VS_MSIX_TABLE + 16ull * k + 12, 0, 4);
		}
		break;
	case 4:
		/* Memory decoding on, BAR 0 somewhere (possibly over RAM: refused). */
		pci_cfg_write(&g.vp->pci, 0x10, (uint32_t)value(in), 4);
		pci_cfg_write(&g.vp->pci, 0x04, 2, 2);
		break;
	default:
		vstub_run(&g.v);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	char spec[512];
	unsigned ops = 0;

	if (!g.have_disk) {
		if (vf_tmpdisk(g.path, sizeof(g.path), 0x10000) < 0)
			abort();
		g.have_disk = true;
	}
	if (vstub_vm_init(&g.v, R0_LEN, R1_GPA - R0_LEN, R1_LEN))
		abort();
	snprintf(spec, sizeof(spec), "%s,aio=sync%s", g.path, in8(&in) & 1 ? ",ring=split" : "");
	g.b = vstub_blk_add(&g.v, spec);
	if (!g.b)
		abort();
	g.vp = g.b->vp;
	g.ring_size = 0;
	g.was_enabled = false;
	memcpy(g.ids, g.vp->pci.cfg, sizeof(g.ids));
	g.assign0 = vstub_irq.ioeventfd_assign;
	g.deassign0 = vstub_irq.ioeventfd_deassign;
	memset(&vstub_irq.msi_fired, 0, sizeof(vstub_irq.msi_fired));
	vstub_irq.msi_bad = vstub_irq.msi_unrouted = 0;

	while (in.n && ops++ < 300) {
		uint8_t op = in8(&in);
		unsigned sz = 1u << ((op >> 4) & 3);

		switch (op % 6) {
		case 0:
			(void)vstub_bar_read(g.vp, bar_off(&in, sz), sz);
			break;
		case 1: case 2: {
			uint64_t off = bar_off(&in, sz);

			vstub_bar_write(g.vp, off, value(&in), sz);
			break;
		}
		case 3:
			(void)pci_cfg_read(&g.vp->pci, cfg_off(&in), (op >> 6) == 3 ? 3 : 1u << (op >> 6));
			break;
		case 4: {
			uint8_t off = cfg_off(&in);

			pci_cfg_write(&g.vp->pci, off, (uint32_t)value(&in), (op >> 6) == 3 ? 8 : 1u << (op >> 6));
			break;
		}
		default:
			driver(&in);
			break;
		}
		check();
	}
	/* Whatever state it was left in, a reset drains and reads 0. */
	vstub_bar_write(g.vp, VS_STATUS, 0, 1);
	vstub_run(&g.v);
	CHECK(vstub_status(g.vp) == 0);
	vstub_vm_fini(&g.v);
	return 0;
}
