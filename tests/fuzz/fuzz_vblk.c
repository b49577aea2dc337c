/*
 * fuzz_vblk.c: virtio-blk end to end: the real device and transport (sync
 * engine) on a 64 KiB temporary image, driven by a fake driver whose
 * requests the input describes: type (including random ones), sector
 * (inside, at and past the end, huge), data length and segments, header
 * split, wrong directions, indirect tables, discard/write-zeroes ranges and
 * flags. Between requests: kicks, completions, resets mid-I/O, raw hostile
 * descriptors, the image shrinking under the device.
 *
 * Oracle, for every request the driver built (relaxed once raw descriptors
 * or a truncation muddle the picture):
 * - USED carries its id once, with the status and length the rules of
 *   HOSTILE.md 2d give (OK / IOERR / UNSUPP), and the status byte matches;
 * - readable buffers (header, OUT data, ranges) are never written; on an
 *   error decided before I/O, writable data is not written either;
 * - data read back equals a shadow of the image (OK writes, discards and
 *   write-zeroes applied in ring order);
 * - after a reset, no request from before it writes its status (F3), and
 *   status reads 0 once drained;
 * - at the end, unless the device needs a reset, every chain is used (X2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vfake.h"
#include "virtio_blk.h"
#include "virtio_pci.h"

#define R0_LEN 0x40000ull		/* region 0: 256 KiB */
#define R1_GPA 0x80000ull		/* region 1: 64 KiB after a hole */
#define R1_LEN 0x10000ull
#define DESC 0x1000ull
#define DRV 0x2000ull
#define DEV 0x3000ull
#define RAW 0x4000ull			/* raw descriptors point into [RAW, HEAP) or region 1 */
#define HEAP 0x10000ull
#define HEAP_LEN 0x30000ull
#define DISK_LEN 0x10000u
#define SECTORS (DISK_LEN / 512)
#define MAX_RQ 512
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2
#define UNSET VF_STATUS_UNSET
#define F_EVENT_IDX (1ull << VIRTQ_F_EVENT_IDX)
#define F_INDIRECT (1ull << VIRTQ_F_INDIRECT_DESC)
#define F_PACKED (1ull << VIRTQ_F_RING_PACKED)
#define F_DISCARD (1ull << 13)
#define F_WZ (1ull << 14)
#define F_VERSION_1 (1ull << 32)

#define CHECK(c) do { if (!(c)) fail(#c, __LINE__); } while (0)

static void fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_vblk: invariant broken at line %d: %s\n", line, what);
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

/* One request the driver built, and what must become of it. */
struct rq {
	bool live, done, checked;
	uint16_t id;
	unsigned slots;			/* descriptors (split) or ring slots (packed) it holds */
	uint32_t type;
	uint64_t sector, hdr, status;
	unsigned nseg;
	uint64_t seg[4];
	uint32_t seglen[4];
	bool data_write;
	uint32_t data_len;
	uint8_t fill;
	uint8_t rng[32];		/* discard / write-zeroes ranges as the driver wrote them */
	int expect;
	uint32_t expect_len;
	uint8_t got;
	uint32_t got_len;
};

static struct {
	bool ready;
	struct vstub_vm v;
	struct vblk *dev[2];		/* read-write, read-only */
	char path[256];
	int fd;
	/* this iteration */
	struct vblk *b;
	struct virtio_pci *vp;
	struct vf_ring r;
	uint16_t qsize;
	bool packed, ro, raw, truncated, broken_init;
	uint64_t feat;
	struct rq rq[MAX_RQ];
	unsigned nrq, first_live, outstanding;
	uint8_t shadow[DISK_LEN];
} g;

static uint8_t *at(uint64_t gpa, uint64_t len) { return vf_at(&g.v.vm.mem, gpa, len); }

static bool all(uint64_t gpa, uint32_t len, uint8_t b)
{
	const uint8_t *p = len ? at(gpa, len) : NULL;

	for (uint32_t i = 0; i < len; i++)
		if (p[i] != b)
			return false;
	return true;
}

static void setup(void)
{
	char spec[512];

	g.fd = vf_tmpdisk(g.path, sizeof(g.path), DISK_LEN);
	if (g.fd < 0 || vstub_vm_init(&g.v, R0_LEN, R1_GPA - R0_LEN, R1_LEN))
		abort();
	snprintf(spec, sizeof(spec), "%s,aio=sync,serial=fuzz-serial-0123", g.path);
	g.dev[0] = vstub_blk_add(&g.v, spec);
	snprintf(spec, sizeof(spec), "%s,aio=sync,ro,serial=ro", g.path);
	g.dev[1] = vstub_blk_add(&g.v, spec);
	if (!g.dev[0] || !g.dev[1])
		abort();
	g.ready = true;
}

static bool needs_reset(void)
{
	return vstub_status(g.vp) & VS_S_NEEDS_RESET;
}

static void load_shadow(void)
{
	if (pread(g.fd, g.shadow, DISK_LEN, 0) != DISK_LEN)
		memset(g.shadow, 0, DISK_LEN);
}

/* quiesce: a reset that waits out in-flight I/O, as a driver must. */
static void quiesce(void)
{
	vstub_bar_write(g.vp, VS_STATUS, 0, 1);
	vstub_run(&g.v);
	CHECK(vstub_status(g.vp) == 0);
	CHECK(g.b->inflight == 0);
}

static void driver_up(void)
{
	vf_ring_init(&g.r, &g.v.vm.mem, g.qsize, g.packed, DESC, DRV, DEV, HEAP, HEAP_LEN);
	g.feat = vstub_driver_init(g.vp, g.feat | F_VERSION_1, 0, g.qsize, DESC, DRV, DEV);
	CHECK(g.feat & F_VERSION_1);
	CHECK(!!(g.feat & F_PACKED) == g.packed);
	/* A queue size the device refuses leaves it needing a reset (T1). */
	g.broken_init = needs_reset();
	CHECK(g.broken_init == (g.qsize > VBLK_QUEUE_SIZE || (!g.packed && (g.qsize & (g.qsize - 1)))));
}

/* expected: what the device must answer for request `q` (HOSTILE.md 2d, this device's choices). */
static void expected(struct rq *q)
{
	uint32_t rlen = 16 + (q->data_write ? 0 : q->data_len), wdata = q->data_write ? q->data_len : 0;
	bool range = q->sector <= SECTORS && q->data_len / 512 <= SECTORS - q->sector;

	q->expect = S_IOERR;
	q->expect_len = 1;
	switch (q->type) {
	case VF_BLK_IN:
		if (rlen == 16 && wdata && wdata % 512 == 0 && range) {
			q->expect = S_OK;
			q->expect_len = wdata + 1;
		}
		break;
	case VF_BLK_OUT:
		if (!wdata && !g.ro && q->data_len && q->data_len % 512 == 0 && range)
			q->expect = S_OK;
		break;
	case VF_BLK_FLUSH:
		q->expect = S_OK;
		q->expect_len = 1 + 0;
		break;
	case VF_BLK_GET_ID:
		if (rlen == 16 && wdata) {
			q->expect = S_OK;
			q->expect_len = (wdata < 20 ? wdata : 20) + 1;
		}
		break;
	case VF_BLK_DISCARD:
	case VF_BLK_WRITE_ZEROES: {
		bool wz = q->type == VF_BLK_WRITE_ZEROES;
		uint64_t s;
		uint32_t num, flags;

		if (!(g.feat & (wz ? F_WZ : F_DISCARD))) {
			q->expect = S_UNSUPP;
			break;
		}
		if (rlen != 32 || wdata)
			break;
		memcpy(&s, q->rng, 8);
		memcpy(&num, q->rng + 8, 4);
		memcpy(&flags, q->rng + 12, 4);
		if (wz ? (flags & ~1u) : flags) {
			q->expect = S_UNSUPP;
			break;
		}
		if (!g.ro && num && s <= SECTORS && num <= SECTORS - s)
			q->expect = S_OK;
		break;
	}
	default:
		q->expect = S_UNSUPP;
		break;
	}
}

static void collect(void);

/* make_room: complete everything before the ring or the heap would wrap over live requests. */
static bool make_room(unsigned slots, uint32_t bytes)
{
	bool ring_full = g.outstanding + slots > g.qsize ||
	    (!g.packed && g.r.next_desc + slots > g.qsize);
	bool heap_full = g.r.heap + bytes > g.r.heap_end;

	if (!ring_full && !heap_full)
		return true;
	vstub_bar_write(g.vp, VS_NOTIFY, 0, 2);
	vstub_run(&g.v);
	collect();
	if (g.outstanding)
		return false;		/* the device stopped (needs reset): build nothing more */
	if (!g.packed)
		g.r.next_desc = 0;
	if (heap_full)
		g.r.heap = g.r.heap_start;
	return g.outstanding + slots <= g.qsize;
}

/* build: one request from the input. */
static void build(struct in *in)
{
	static const uint32_t types[8] = {
		VF_BLK_IN, VF_BLK_OUT, VF_BLK_FLUSH, VF_BLK_GET_ID, VF_BLK_DISCARD, VF_BLK_WRITE_ZEROES, 0, VF_BLK_IN,
	};
	uint8_t a = in8(in), b = in8(in);
	struct rq *q;
	struct vf_seg s[8];
	unsigned n = 0, nseg = 1 + ((b >> 2) & 3), split_hdr = (b >> 4) & 3;
	bool wrong_dir = (b & 0x40) && (a & 0x80), indirect = (b & 0x80) && (g.feat & F_INDIRECT);
	uint32_t len;
	uint64_t sector;

	if (g.nrq == MAX_RQ)
		return;
	q = &g.rq[g.nrq];
	memset(q, 0, sizeof(*q));
	q->type = (a & 7) == 6 ? (uint32_t)in16(in) << (in8(in) & 16) : types[a & 7];
	switch ((a >> 3) & 3) {
	case 0: sector = in8(in) % SECTORS; break;
	case 1: sector = SECTORS - in8(in) % 4; break;
	case 2: sector = SECTORS + in8(in); break;
	default: sector = in64(in); break;
	}
	switch ((a >> 5) & 3) {
	case 0: len = (1u + in8(in) % 8) * 512; break;
	case 1: len = in16(in) % 4097; break;
	case 2: len = 0; break;
	default: len = 1 + in8(in) % 64; break;
	}
	if (q->type == VF_BLK_DISCARD || q->type == VF_BLK_WRITE_ZEROES)
		len = 16u * (1 + (b & 1));	/* one range, or two (more than max_*_seg) */
	if (len < nseg)
		nseg = len ? len : 1;
	q->sector = sector;
	q->data_len = len;
	q->fill = (uint8_t)(0x30 + g.nrq);
	q->data_write = (q->type == VF_BLK_IN || q->type == VF_BLK_GET_ID || (q->type & ~0xffu)) ^ wrong_dir;
	q->slots = 1 + (split_hdr ? 1 : 0) + (len ? nseg : 0) + 1;
	if (indirect && q->slots <= g.qsize)
		q->slots = 1;		/* an indirect table longer than the queue is a RESET (R2) */
	else
		indirect = false;
	if (!make_room(q->slots, len + 16 * (nseg + 8) + 64 + 16 * 8))
		return;
	q->hdr = vf_blk_hdr(&g.r, q->type, sector);
	if (split_hdr) {
		uint32_t cut = split_hdr == 1 ? 4 : split_hdr == 2 ? 8 : 12;

		s[n++] = (struct vf_seg){ q->hdr, cut, false };
		s[n++] = (struct vf_seg){ q->hdr + cut, 16 - cut, false };
	} else {
		s[n++] = (struct vf_seg){ q->hdr, 16, false };
	}
	if (len) {
		uint32_t left = len;

		q->nseg = nseg;
		for (unsigned i = 0; i < nseg; i++) {
			uint32_t piece = i + 1 == nseg ? left : left / (nseg - i);

			q->seg[i] = vf_alloc(&g.r, piece, q->fill);
			q->seglen[i] = piece;
			s[n++] = (struct vf_seg){ q->seg[i], piece, q->data_write };
			left -= piece;
		}
		if (q->type == VF_BLK_DISCARD || q->type == VF_BLK_WRITE_ZEROES) {
			uint32_t off = 0;

			for (uint32_t k = 0; k < len; k += 16) {
				uint64_t rs = in8(in) & 1 ? in64(in) : in8(in) % (SECTORS + 4);
				uint32_t num = in8(in) & 1 ? (uint32_t)in16(in) << 8 : in8(in) % 32;
				uint32_t flags = in8(in) % 4 == 3 ? in8(in) : 0u;

				memcpy(q->rng + k, &rs, 8);
				memcpy(q->rng + k + 8, &num, 4);
				memcpy(q->rng + k + 12, &flags, 4);
			}
			for (unsigned i = 0; i < nseg; i++) {
				memcpy(at(q->seg[i], q->seglen[i]), q->rng + off, q->seglen[i]);
				off += q->seglen[i];
			}
		}
	}
	q->status = vf_alloc(&g.r, 1, UNSET);
	s[n++] = (struct vf_seg){ q->status, 1, true };
	if (indirect)
		q->id = vf_chain_indirect(&g.r, vf_alloc(&g.r, 16 * n, 0), s, n, b & 0x20 ? VF_WRITE : 0);
	else
		q->id = vf_chain(&g.r, s, n);
	if (!g.packed)
		vf_used_event(&g.r, g.r.last_used);	/* as Linux does with EVENT_IDX */
	expected(q);
	q->live = true;
	g.outstanding += q->slots;
	g.nrq++;
}

/* data_is: the request's data segments hold `want` (len bytes) or, when want is NULL, its fill. */
static bool data_is(const struct rq *q, const uint8_t *want)
{
	uint32_t off = 0;

	for (unsigned i = 0; i < q->nseg; i++) {
		if (want ? memcmp(at(q->seg[i], q->seglen[i]), want + off, q->seglen[i]) :
		    !all(q->seg[i], q->seglen[i], q->fill))
			return false;
		off += q->seglen[i];
	}
	return true;
}

/* verify: the checks for a used request, in ring order (the order of its I/O). */
static void verify(struct rq *q)
{
	bool dwz = q->type == VF_BLK_DISCARD || q->type == VF_BLK_WRITE_ZEROES;
	uint64_t sector;
	uint32_t type;

	/* Readable bytes are never written: the header, and OUT data / ranges. */
	memcpy(&type, at(q->hdr, 4), 4);
	memcpy(&sector, at(q->hdr + 8, 8), 8);
	CHECK(type == q->type && sector == q->sector);
	if (!q->data_write)
		CHECK(data_is(q, dwz ? q->rng : NULL));
	if (g.raw)
		return;		/* another chain may have taken this one's descriptors */
	CHECK(q->got == S_OK || q->got == S_IOERR || q->got == S_UNSUPP);
	if (g.truncated)
		return;
	CHECK(q->got == q->expect);
	CHECK(q->got_len == q->expect_len);
	if (q->got != S_OK) {
		/* Refused before any I/O: writable data untouched too. */
		CHECK(data_is(q, dwz ? q->rng : NULL));
		return;
	}
	switch (q->type) {
	case VF_BLK_IN: {
		uint64_t off = q->sector * 512;

		for (unsigned i = 0; i < q->nseg; i++) {
			CHECK(!memcmp(at(q->seg[i], q->seglen[i]), g.shadow + off, q->seglen[i]));
			off += q->seglen[i];
		}
		break;
	}
	case VF_BLK_OUT: {
		uint64_t off = q->sector * 512;

		for (unsigned i = 0; i < q->nseg; i++) {
			memset(g.shadow + off, q->fill, q->seglen[i]);
			off += q->seglen[i];
		}
		break;
	}
	case VF_BLK_GET_ID: {
		static const char id[20] = "fuzz-serial-0123";
		static const char id_ro[20] = "ro";
		uint32_t want = q->expect_len - 1, off = 0;

		for (unsigned i = 0; i < q->nseg; i++) {
			const uint8_t *p = at(q->seg[i], q->seglen[i]);

			for (uint32_t j = 0; j < q->seglen[i]; j++, off++)
				CHECK(p[j] == (off < want ? (uint8_t)(g.ro ? id_ro : id)[off] : q->fill));
		}
		break;
	}
	case VF_BLK_DISCARD:
	case VF_BLK_WRITE_ZEROES: {
		uint64_t s;
		uint32_t num;

		memcpy(&s, q->rng, 8);
		memcpy(&num, q->rng + 8, 4);
		memset(g.shadow + s * 512, 0, num * 512ull);
		break;
	}
	}
}

/* collect: read USED as a driver does, then check what completed, in ring order. */
static void collect(void)
{
	uint32_t id, len;

	while (vf_used_next(&g.r, &id, &len)) {
		struct rq *q = NULL;

		for (unsigned i = g.first_live; i < g.nrq; i++) {
			if (g.rq[i].live && !g.rq[i].done && g.rq[i].id == id) {
				q = &g.rq[i];
				break;
			}
		}
		CHECK(q || g.raw);		/* USED only for chains the driver made available */
		if (!q)
			continue;
		q->done = true;
		q->got_len = len;
		q->got = *at(q->status, 1);
		g.outstanding -= q->slots;
	}
	/* Requests did their I/O in ring order: verify the used prefix in that order. */
	while (g.first_live < g.nrq) {
		struct rq *q = &g.rq[g.first_live];

		if (q->live && !q->done)
			break;
		if (q->live) {
			verify(q);
			q->live = false;
		}
		g.first_live++;
	}
}

/* reset_mid_io: status 0 with I/O possibly in flight (F3), then a fresh driver. */
static void reset_mid_io(void)
{
	collect();
	vstub_bar_write(g.vp, VS_STATUS, 0, 1);
	if (g.b->inflight)
		CHECK(vstub_status(g.vp) != 0);
	vstub_run(&g.v);
	CHECK(vstub_status(g.vp) == 0 && g.b->inflight == 0);
	/* Nothing from before the reset reports late. */
	for (unsigned i = g.first_live; i < g.nrq; i++) {
		if (!g.rq[i].live)
			continue;
		if (!g.raw && !g.rq[i].done)
			CHECK(*at(g.rq[i].status, 1) == UNSET);
		g.rq[i].live = false;
	}
	g.first_live = g.nrq;
	g.outstanding = 0;
	load_shadow();		/* writes that ran before the reset are in the image */
	driver_up();
}

static void raw_desc(struct in *in)
{
	uint16_t slot = (uint16_t)(in8(in) % g.qsize), nx = in8(in);
	uint8_t f = in8(in);
	uint64_t addr = f & 0x80 ? in64(in) : (f & 0x40 ? R1_GPA + in16(in) % R1_LEN : RAW + in16(in) % (HEAP - RAW));

	/* Raw buffers never alias the rings or the driver's own buffers (those checks stay sound). */
	if (addr < R0_LEN)
		addr = RAW + addr % (HEAP - RAW);
	uint32_t len = f & 0x20 ? (uint32_t)in16(in) << (in8(in) & 15) : in8(in);

	g.raw = true;
	if (g.packed) {
		vf_pdesc(&g.r, slot, addr, len, nx, (uint16_t)((f & 7) | (f & 8 ? 0x10 : 0) |
		    vf_pavail(f & 0x10 ? !g.r.pk_wrap : g.r.pk_wrap)));
	} else {
		vf_desc(&g.r, slot, addr, len, (uint16_t)((f & 7) | (f & 8 ? 0x100 : 0)), nx % (g.qsize + 1));
		if (f & 0x10)
			vf_avail_add(&g.r, slot);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	uint8_t h0 = in8(&in), h1 = in8(&in);
	unsigned ops = 0;

	if (!g.ready)
		setup();
	g.ro = h0 & 1;
	g.b = g.dev[g.ro];
	g.vp = g.b->vp;
	g.packed = h0 & 2;
	g.feat = (h0 & 4 ? F_EVENT_IDX : 0) | (h0 & 8 ? F_INDIRECT : 0) | (g.packed ? F_PACKED : 0) |
	    (h0 & 0x10 ? F_DISCARD : 0) | (h0 & 0x20 ? F_WZ : 0) | (1ull << 9) | (1ull << 2) | (1ull << 6);
	g.qsize = h0 & 0x40 ? (uint16_t)(in16(&in) % 600) : (uint16_t)(1u << (h1 % 9));
	if (g.qsize == 0)
		g.qsize = 1;
	g.raw = g.truncated = false;
	g.nrq = g.first_live = g.outstanding = 0;
	memset(vf_at(&g.v.vm.mem, 0, R0_LEN), 0, R0_LEN);
	if (ftruncate(g.fd, DISK_LEN))
		abort();
	quiesce();
	load_shadow();
	driver_up();
	if (g.broken_init) {
		vstub_bar_write(g.vp, VS_NOTIFY, 0, 2);
		vstub_run(&g.v);
		CHECK(vf_used_next(&g.r, &(uint32_t){ 0 }, &(uint32_t){ 0 }) == 0);
		return 0;
	}
	while (in.n && ops++ < 200) {
		uint8_t op = in8(&in);

		switch (op % 10) {
		case 0: case 1: case 2: case 3:
			build(&in);
			break;
		case 4:
			if (op & 0x80)
				eventfd_write(g.vp->qcfg[0].kick.fd, 1);
			else
				vstub_bar_write(g.vp, VS_NOTIFY, 0, 2);
			break;
		case 5:
			vstub_run(&g.v);
			collect();
			break;
		case 6:
			if (op & 0x80)
				reset_mid_io();
			else
				vstub_bar_write(g.vp, VS_NOTIFY, 0, 2);	/* kick without completing */
			break;
		case 7:
			raw_desc(&in);
			break;
		case 8:
			if (op & 0x80) {
				g.truncated = true;
				if (ftruncate(g.fd, (off_t)512 * (in8(&in) % SECTORS)))
					abort();
			}
			break;
		case 9:
			/* The driver polls device status and config, as it may at any time. */
			(void)vstub_status(g.vp);
			(void)vstub_bar_read(g.vp, VS_DEVCFG + (in8(&in) % 64), 1u << (in8(&in) % 4));
			break;
		}
	}
	/* Drain: every chain the driver made available is used, unless the device needs a reset. */
	for (int i = 0; i < 4; i++) {
		vstub_bar_write(g.vp, VS_NOTIFY, 0, 2);
		vstub_run(&g.v);
		collect();
	}
	if (!needs_reset()) {
		CHECK(g.b->inflight == 0);
		if (!g.raw) {
			CHECK(g.first_live == g.nrq);
			if (!g.packed)
				CHECK(vf_used_idx(&g.r) == g.r.avail_idx);
		}
	}
	CHECK(vstub_irq.msi_bad == 0);
	return 0;
}
