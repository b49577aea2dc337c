/*
 * test_virtq.c: the virtqueue walker against HOSTILE.md 2a and 2b (rows R1-R9,
 * P1-P3, I1-I5, M1-M4) and the ring invariants X2/X3, for split and packed
 * rings (interrupt and kick suppression, and enabling, are in
 * test_virtq_ev.c). No KVM: the rings live in a fake guest RAM built by
 * vfake.c (two regions with a hole between them).
 *
 * RESET at this level means: virtq_pop returns -EPROTO, the queue is marked
 * broken, nothing is published as used and no guest byte changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "vfake.h"
#include "virtq.h"

#define R0_LEN 0x100000ull	/* region 0: [0, 1 MiB) */
#define HOLE 0x100000ull	/* hole: [1 MiB, 2 MiB) */
#define R1_GPA (R0_LEN + HOLE)	/* region 1: [2 MiB, 3 MiB) */
#define R1_LEN 0x100000ull
#define DESC 0x1000ull
#define DRV 0x3000ull
#define DEV 0x4000ull
#define TABLE 0x8000ull		/* indirect tables */
#define TABLE2 0xa000ull
#define HEAP 0x10000ull
#define HEAP_LEN 0x70000ull

static struct unit u = { .file = "virtq" };
static struct gmem gm;

/* A queue as a test drives it: driver side, device side, a chain and a name. */
struct fx {
	struct vf_ring r;
	struct virtq vq;
	struct virtq_chain c;
	bool packed, indirect;
	char name[160];
};

static struct fx fx;
static uint8_t snap[R0_LEN];

static const char *nm(const char *row, const char *what)
{
	snprintf(fx.name, sizeof(fx.name), "%s %s: %s", row, fx.packed ? "packed" : "split", what);
	return fx.name;
}

static int fx_init(uint16_t size, bool packed, bool indirect, bool event_idx)
{
	uint64_t f = (indirect ? 1ull << VIRTQ_F_INDIRECT_DESC : 0) |
	    (event_idx ? 1ull << VIRTQ_F_EVENT_IDX : 0) | (packed ? 1ull << VIRTQ_F_RING_PACKED : 0);

	memset(vf_at(&gm, 0, R0_LEN), 0, R0_LEN);
	fx.packed = packed;
	fx.indirect = indirect;
	vf_ring_init(&fx.r, &gm, size, packed, DESC, DRV, DEV, HEAP, HEAP_LEN);
	return virtq_enable(&fx.vq, &gm, size, f, DESC, DRV, DEV);
}

static void take_snap(void)
{
	memcpy(snap, vf_at(&gm, 0, R0_LEN), R0_LEN);
}

static bool unchanged(void)
{
	return memcmp(snap, vf_at(&gm, 0, R0_LEN), R0_LEN) == 0;
}

/* pop_reset: pop, expecting RESET: -EPROTO, broken, no guest write, nothing used. */
static bool pop_reset(void)
{
	int r;

	take_snap();
	r = virtq_pop(&fx.vq, &fx.c);
	return r == -EPROTO && fx.vq.broken && fx.vq.why && unchanged() &&
	    virtq_pop(&fx.vq, &fx.c) == -EPROTO;
}

/* pop_ok: pop, expecting a chain of `nseg` segments and no guest write. */
static bool pop_ok(unsigned nseg)
{
	int r;

	take_snap();
	r = virtq_pop(&fx.vq, &fx.c);
	if (r != 1 && fx.vq.why)
		printf("# pop: %d (%s)\n", r, fx.vq.why);
	return r == 1 && fx.c.nseg == nseg && unchanged();
}

/* desc: one descriptor in slot i; in a packed ring it is made available in lap `wrap`. */
static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next_or_id)
{
	if (fx.packed)
		vf_pdesc(&fx.r, i, addr, len, next_or_id, (uint16_t)(flags | vf_pavail(true)));
	else
		vf_desc(&fx.r, i, addr, len, flags, next_or_id);
}

/* publish: split: head 0 into the avail ring. Packed: nothing, descriptors carry it. */
static void publish(uint16_t head)
{
	if (!fx.packed)
		vf_avail_add(&fx.r, head);
}

/* itable: entry j of the indirect table at `t`. */
static void itable(uint64_t t, unsigned j, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	vf_put64(&gm, t + 16ull * j, addr);
	vf_put32(&gm, t + 16ull * j + 8, len);
	if (fx.packed) {
		vf_put16(&gm, t + 16ull * j + 12, 0);
		vf_put16(&gm, t + 16ull * j + 14, flags);
	} else {
		vf_put16(&gm, t + 16ull * j + 12, flags);
		vf_put16(&gm, t + 16ull * j + 14, next);
	}
}

/* ichain: a well-formed indirect table of n entries of 16 bytes, first `nr` readable. */
static void ichain(uint64_t t, unsigned n, unsigned nr)
{
	for (unsigned j = 0; j < n; j++)
		itable(t, j, HEAP + 0x100ull * j, 16,
		    (uint16_t)((j >= nr ? VF_WRITE : 0) | (j + 1 < n ? VF_NEXT : 0)), (uint16_t)(j + 1));
}

static void test_r1(bool packed)
{
	if (!packed) {
		fx_init(8, false, true, false);
		desc(0, HEAP, 16, VF_NEXT, 1);
		desc(1, HEAP, 16, VF_NEXT, 0);
		publish(0);
		UNIT_OK(&u, pop_reset(), nm("R1", "loop 0->1->0 in the table is RESET, no guest write"));
		UNIT_OK(&u, vf_used_idx(&fx.r) == 0 && fx.vq.last_avail == 0,
		    nm("R1", "no USED entry, avail not consumed"));
		fx_init(8, false, true, false);
		desc(0, TABLE, 3 * 16, VF_INDIRECT, 0);
		itable(TABLE, 0, HEAP, 16, VF_NEXT, 1);
		itable(TABLE, 1, HEAP, 16, VF_NEXT, 2);
		itable(TABLE, 2, HEAP, 16, VF_NEXT, 0);
		publish(0);
		UNIT_OK(&u, pop_reset(), nm("R1", "loop inside an indirect table is RESET"));
		return;
	}
	/* Packed: every descriptor available and chained: the list never ends. */
	fx_init(4, true, true, false);
	for (uint16_t i = 0; i < 4; i++)
		desc(i, HEAP, 16, VF_NEXT, i);
	UNIT_OK(&u, pop_reset(), nm("R1", "list chaining through the whole ring is RESET"));
}

static void test_r2(bool packed)
{
	struct vf_seg s[VIRTQ_MAX_SIZE];
	const uint16_t sizes[] = { 8, VIRTQ_MAX_SIZE };

	for (unsigned k = 0; k < 2; k++) {
		uint16_t size = sizes[k];
		char what[100];

		fx_init(size, packed, true, false);
		for (unsigned i = 0; i < size; i++)
			s[i] = (struct vf_seg){ HEAP + 16ull * i, 16, i >= size / 2 };
		vf_chain(&fx.r, s, size);
		snprintf(what, sizeof(what), "chain of exactly the queue size (%u) is accepted", size);
		UNIT_OK(&u, pop_ok(size) && fx.c.nread == size / 2, nm("R2", what));

		/* One direct descriptor then a full-size table: size + 1 buffers. */
		fx_init(size, packed, true, false);
		ichain(TABLE, size, size);
		if (packed) {
			desc(1, TABLE, 16u * size, VF_INDIRECT, 7);
			desc(0, HEAP, 16, VF_NEXT, 7);
		} else {
			desc(0, HEAP, 16, VF_NEXT, 1);
			desc(1, TABLE, 16u * size, VF_INDIRECT, 0);
		}
		publish(0);
		snprintf(what, sizeof(what), "direct + indirect table of %u (size + 1 buffers) is RESET",
		    size);
		UNIT_OK(&u, pop_reset(), nm("R2", what));

		fx_init(size, packed, true, false);
		ichain(TABLE, size, size);
		desc(0, TABLE, 16u * size, VF_INDIRECT, 0);
		publish(0);
		snprintf(what, sizeof(what), "indirect table of exactly %u entries is accepted", size);
		UNIT_OK(&u, pop_ok(size), nm("R2", what));

		if (size + 1u <= 0x1000 / 16 * 2) {
			fx_init(size, packed, true, false);
			ichain(TABLE, size + 1u, size + 1u);
			desc(0, TABLE, 16u * (size + 1u), VF_INDIRECT, 0);
			publish(0);
			snprintf(what, sizeof(what), "indirect table of %u entries (size + 1) is RESET",
			    size + 1u);
			UNIT_OK(&u, pop_reset(), nm("R2", what));
		}
	}
}

static void test_r3_r4(bool packed)
{
	if (packed)
		return;		/* no next field, no avail ring */
	fx_init(8, false, true, false);
	desc(0, HEAP, 16, VF_NEXT, 8);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("R3", "desc.next == queue size is RESET"));
	fx_init(8, false, true, false);
	desc(0, HEAP, 16, VF_NEXT, 0xffff);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("R3", "desc.next == 0xffff is RESET"));
	fx_init(8, false, true, false);
	desc(0, TABLE, 32, VF_INDIRECT, 0);
	itable(TABLE, 0, HEAP, 16, VF_NEXT, 2);
	itable(TABLE, 1, HEAP, 16, 0, 0);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("R3", "indirect next past the table is RESET"));

	fx_init(8, false, true, false);
	desc(0, HEAP, 16, 0, 0);
	publish(8);
	UNIT_OK(&u, pop_reset(), nm("R4", "avail ring head == queue size is RESET"));
	fx_init(8, false, true, false);
	publish(0xffff);
	UNIT_OK(&u, pop_reset(), nm("R4", "avail ring head 0xffff is RESET"));
}

static void test_r5(bool packed)
{
	struct vf_seg s = { HEAP, 64, true };
	bool all = true;

	if (packed)
		return;		/* no avail index */
	fx_init(8, false, true, false);
	desc(0, HEAP, 16, 0, 0);
	vf_avail_set_idx(&fx.r, 0x8000);
	UNIT_OK(&u, pop_reset() && fx.vq.last_avail == 0,
	    nm("R5", "avail.idx +0x8000 is RESET and nothing is popped"));

	/* Exactly +size: a full ring, all of it processed. */
	fx_init(8, false, true, false);
	for (int i = 0; i < 8; i++)
		vf_chain(&fx.r, &s, 1);
	for (int i = 0; i < 8; i++) {
		all &= virtq_pop(&fx.vq, &fx.c) == 1;
		virtq_push(&fx.vq, &fx.c.tok, 1);
	}
	UNIT_OK(&u, all && virtq_pop(&fx.vq, &fx.c) == 0 && vf_used_idx(&fx.r) == 8,
	    nm("R5", "avail.idx +size (full ring) processes all 8 chains, then empty"));
	/* +size+1 past what was taken: refused, nothing re-processed, nothing used. */
	vf_avail_set_idx(&fx.r, (uint16_t)(8 + 9));
	UNIT_OK(&u, pop_reset() && fx.vq.last_avail == 8 && vf_used_idx(&fx.r) == 8,
	    nm("R5", "avail.idx +size+1 is RESET without re-processing old entries"));
	vf_avail_set_idx(&fx.r, 7);
	UNIT_OK(&u, virtq_pop(&fx.vq, &fx.c) == -EPROTO, nm("R5", "queue stays stopped after RESET"));

	fx_init(8, false, true, false);
	vf_chain(&fx.r, &s, 1);
	virtq_pop(&fx.vq, &fx.c);
	vf_avail_set_idx(&fx.r, 0);	/* backwards */
	UNIT_OK(&u, pop_reset(), nm("R5", "avail.idx moving backwards is RESET"));
}

static void test_r6(bool packed)
{
	fx_init(8, packed, true, false);
	desc(0, HEAP, 16, VF_WRITE | VF_NEXT, packed ? 0 : 1);
	desc(1, HEAP + 64, 16, 0, 0);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("R6", "readable after writable is RESET"));

	fx_init(8, packed, true, false);
	itable(TABLE, 0, HEAP, 16, VF_WRITE | VF_NEXT, 1);
	itable(TABLE, 1, HEAP + 64, 16, 0, 0);
	desc(0, TABLE, 32, VF_INDIRECT, 0);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("R6", "readable after writable inside an indirect table is RESET"));

	fx_init(8, packed, true, false);
	itable(TABLE, 0, HEAP, 16, 0, 0);
	desc(0, HEAP + 64, 16, VF_WRITE | VF_NEXT, packed ? 0 : 1);
	desc(1, TABLE, 16, VF_INDIRECT, 0);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("R6", "writable direct then readable indirect entry is RESET"));
}

static void test_r7(bool packed)
{
	fx_init(8, packed, true, false);
	desc(0, HEAP, 0, 0, 0);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("R7", "a chain of one zero-length descriptor is RESET"));

	fx_init(8, packed, true, false);
	desc(0, HEAP, 0, VF_NEXT, packed ? 0 : 1);
	desc(1, HEAP, 0, VF_WRITE, 0);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("R7", "a chain whose total length is 0 is RESET"));

	fx_init(8, packed, true, false);
	desc(0, HEAP, 0, VF_NEXT, packed ? 0 : 1);
	desc(1, HEAP, 16, 0, 0);
	publish(0);
	UNIT_OK(&u, pop_ok(2) && fx.c.read_len == 16,
	    nm("R7", "a zero-length descriptor inside a non-empty chain does not loop"));
}

static void test_r8(bool packed)
{
	const uint16_t bad[] = { 0x8, 0x10, 0x100, packed ? 0x4000 : 0x8000 };

	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char what[80];

		fx_init(8, packed, true, false);
		desc(0, HEAP, 16, bad[k], 0);
		publish(0);
		snprintf(what, sizeof(what), "unknown flag %#x is RESET", bad[k]);
		UNIT_OK(&u, pop_reset(), nm("R8", what));
	}
	fx_init(8, packed, false, false);
	itable(TABLE, 0, HEAP, 16, 0, 0);
	desc(0, TABLE, 16, VF_INDIRECT, 0);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("R8", "INDIRECT without VIRTIO_F_INDIRECT_DESC is RESET"));
	if (!packed) {
		fx_init(8, false, true, false);
		itable(TABLE, 0, HEAP, 16, 0x20, 0);
		desc(0, TABLE, 16, VF_INDIRECT, 0);
		publish(0);
		UNIT_OK(&u, pop_reset(), nm("R8", "unknown flag inside an indirect table is RESET"));
	}
}

static void test_r9(bool packed)
{
	uint8_t buf[8];
	uint32_t id, len;

	fx_init(8, packed, true, false);
	memset(vf_at(&gm, HEAP, 64), 0x11, 64);
	memset(vf_at(&gm, HEAP + 0x1000, 64), 0x22, 64);
	desc(0, HEAP, 64, VF_NEXT, packed ? 5 : 1);
	desc(1, HEAP + 0x200, 32, VF_WRITE, 5);
	publish(0);
	UNIT_OK(&u, virtq_pop(&fx.vq, &fx.c) == 1, nm("R9", "chain popped"));
	/* The guest rewrites everything after the walk. */
	desc(0, HEAP + 0x1000, 8, VF_NEXT, packed ? 6 : 1);
	desc(1, HEAP + 0x1000, 0xffff, VF_WRITE, 6);
	if (!packed)
		vf_avail_entry(&fx.r, 0, 3);
	virtq_copy_from(&fx.c, 0, buf, sizeof(buf));
	UNIT_OK(&u, fx.c.seg[0].iov.iov_len == 64 && buf[0] == 0x11 && fx.c.tok.write_len == 32 &&
	    vf_gpa_of(&gm, fx.c.seg[1].iov.iov_base) == HEAP + 0x200,
	    nm("R9", "buffers come from the snapshot, not the rewritten descriptors"));
	virtq_push(&fx.vq, &fx.c.tok, 1000);
	UNIT_OK(&u, vf_used_next(&fx.r, &id, &len) == 1 && id == (packed ? 5u : 0u) && len == 32,
	    nm("R9", "USED carries the snapshot id and a length clamped to the snapshot"));
}

static void test_p1_p2_p3(void)
{
	uint32_t id, len;
	bool ok = true;

	fx_init(4, true, true, false);
	vf_pdesc(&fx.r, 1, HEAP, 16, 1, (uint16_t)vf_pavail(false));	/* wrong lap */
	vf_pdesc(&fx.r, 0, HEAP, 16, 1, (uint16_t)(VF_NEXT | vf_pavail(true)));
	UNIT_OK(&u, pop_reset(), nm("P1", "head available, next link not: RESET"));

	fx_init(4, true, true, false);
	vf_pdesc(&fx.r, 0, HEAP, 16, 1, (uint16_t)vf_pavail(false));
	UNIT_OK(&u, virtq_pop(&fx.vq, &fx.c) == 0 && fx.vq.next_avail == 0 && !fx.vq.broken,
	    nm("P1", "head not available (other lap): nothing consumed"));
	vf_pdesc(&fx.r, 0, HEAP, 16, 1, VF_AVAIL | VF_USED);
	UNIT_OK(&u, virtq_pop(&fx.vq, &fx.c) == 0 && fx.vq.next_avail == 0 && !fx.vq.broken,
	    nm("P1", "head marked used in this lap: nothing consumed"));

	fx_init(8, true, true, false);
	vf_pdesc(&fx.r, 1, HEAP + 64, 16, 9, (uint16_t)(VF_WRITE | vf_pavail(true)));
	vf_pdesc(&fx.r, 0, HEAP, 16, 5, (uint16_t)(VF_NEXT | vf_pavail(true)));
	vf_pdesc(&fx.r, 2, HEAP, 16, 3, (uint16_t)vf_pavail(true));
	UNIT_OK(&u, virtq_pop(&fx.vq, &fx.c) == 1 && fx.c.tok.id == 9 && fx.c.tok.ndesc == 2,
	    nm("P2", "token carries the last descriptor's buffer id"));
	virtq_push(&fx.vq, &fx.c.tok, 16);
	UNIT_OK(&u, vf_get16(&gm, DESC + 12) == 9 && vf_get32(&gm, DESC + 8) == 16 &&
	    vf_get16(&gm, DESC + 14) == (VF_AVAIL | VF_USED | VF_WRITE) && fx.vq.next_used == 2,
	    nm("P2", "USED written at the list's first slot with id 9, whole list skipped"));
	UNIT_OK(&u, virtq_pop(&fx.vq, &fx.c) == 1 && fx.c.tok.id == 3,
	    nm("P2", "next chain read after the skipped list"));

	/* P3: size 3, chains of 1 and 2 descriptors over 12 laps. */
	fx.packed = true;
	UNIT_OK(&u, fx_init(3, true, true, false) == 0, nm("P3", "queue size 3 is accepted"));
	for (unsigned n = 0; n < 24 && ok; n++) {
		struct vf_seg s[2] = { { HEAP, 16, false }, { HEAP + 64, 8 + n, true } };
		unsigned k = 1 + n % 2;
		uint16_t want = vf_chain(&fx.r, s + 2 - k, k);

		ok &= virtq_pop(&fx.vq, &fx.c) == 1 && fx.c.tok.id == want && fx.c.nseg == k;
		ok &= virtq_pop(&fx.vq, &fx.c) == 0;
		virtq_push(&fx.vq, &fx.c.tok, 8 + n);
		ok &= vf_used_next(&fx.r, &id, &len) == 1 && id == want && len == 8 + n;
		ok &= vf_used_next(&fx.r, &id, &len) == 0;
		ok &= fx.vq.avail_wrap == fx.r.pk_wrap && fx.vq.used_wrap == fx.r.pk_used_wrap;
	}
	UNIT_OK(&u, ok, nm("P3", "size 3: 24 chains over the wrap-counter flips, ids and lengths right"));
	UNIT_OK(&u, fx_init(0, true, true, false) == -EINVAL, nm("P3", "size 0 cannot be enabled"));
}

static void test_i(bool packed)
{
	fx_init(8, packed, true, false);
	desc(0, TABLE, 0, VF_INDIRECT, 0);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("I1", "indirect table of length 0 is RESET"));
	fx_init(8, packed, true, false);
	ichain(TABLE, 2, 2);
	desc(0, TABLE, 24, VF_INDIRECT, 0);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("I1", "indirect table length 24 (not a multiple of 16) is RESET"));

	fx_init(8, packed, true, false);
	ichain(TABLE2, 1, 1);
	itable(TABLE, 0, TABLE2, 16, VF_INDIRECT, 0);
	desc(0, TABLE, 16, VF_INDIRECT, 0);
	publish(0);
	if (packed)
		UNIT_OK(&u, pop_ok(1) && vf_gpa_of(&gm, fx.c.seg[0].iov.iov_base) == TABLE2,
		    nm("I2", "INDIRECT inside a table is ignored, not followed"));
	else
		UNIT_OK(&u, pop_reset(), nm("I2", "nested indirect is RESET"));

	fx_init(8, packed, true, false);
	ichain(TABLE, 2, 1);
	desc(0, TABLE, 32, VF_INDIRECT | VF_NEXT, packed ? 0 : 1);
	desc(1, HEAP, 16, VF_WRITE, 0);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("I3", "INDIRECT with NEXT is RESET"));

	fx_init(8, packed, true, false);
	ichain(TABLE, 2, 1);
	desc(0, HEAP + 0x800, 16, VF_NEXT, packed ? 0 : 1);
	desc(1, TABLE, 32, VF_INDIRECT, 0);
	publish(0);
	UNIT_OK(&u, pop_ok(3) && fx.c.nread == 2 && (!packed || fx.c.tok.ndesc == 2),
	    nm("I3", "direct descriptors then one indirect descriptor work"));

	fx_init(8, packed, true, false);
	ichain(TABLE, 2, 2);
	desc(0, TABLE, 32, VF_INDIRECT | VF_WRITE, 0);
	publish(0);
	UNIT_OK(&u, pop_ok(2) && fx.c.nread == 2 && fx.c.tok.write_len == 0,
	    nm("I4", "WRITE on the table's descriptor is ignored"));

	fx_init(8, packed, true, false);
	desc(0, TABLE, 65536u * 16, VF_INDIRECT, 0);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("I5", "indirect table of 64K entries is RESET"));
	fx_init(8, packed, true, false);
	desc(0, R0_LEN + 0x100, 32, VF_INDIRECT, 0);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("I5", "indirect table in the hole is RESET"));
	fx_init(8, packed, true, false);
	desc(0, R0_LEN - 16, 32, VF_INDIRECT, 0);
	publish(0);
	UNIT_OK(&u, pop_reset(), nm("I5", "indirect table straddling the end of RAM is RESET"));
}

/* one_buf: a single-descriptor chain at addr/len, popped; returns the pop result. */
static int one_buf(bool packed, uint64_t addr, uint32_t len)
{
	fx_init(8, packed, true, false);
	desc(0, addr, len, VF_WRITE, 0);
	publish(0);
	take_snap();
	return virtq_pop(&fx.vq, &fx.c);
}

static void test_m(bool packed)
{
	struct { uint64_t addr; uint32_t len; int want; const char *what; } c[] = {
		{ R0_LEN + 0x10, 16, -EPROTO, "buffer in the hole is RESET" },
		{ R1_GPA + R1_LEN, 16, -EPROTO, "buffer past the end of RAM is RESET" },
		{ R0_LEN - 8, 16, -EPROTO, "buffer straddling the end of region 0 is RESET" },
		{ R1_GPA - 8, 16, -EPROTO, "buffer straddling into region 1 is RESET" },
		{ R0_LEN - 16, 16, 1, "buffer ending exactly at the end of region 0 is accepted" },
		{ R1_GPA, 16, 1, "buffer at the start of region 1 is accepted" },
		{ R1_GPA + R1_LEN - 1, 1, 1, "last byte of RAM is accepted" },
		{ R1_GPA + R1_LEN, 0, -EPROTO, "zero-length buffer just past RAM is RESET" },
		{ 0xfffffffffffff000ull, 0x2000, -EPROTO, "M2: addr + len wrapping 2^64 is RESET" },
		{ 0, 0xffffffffu, -EPROTO, "M3: single length near 4 GiB (not RAM) is RESET" },
	};

	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int r = one_buf(packed, c[i].addr, c[i].len);

		UNIT_OK(&u, r == c[i].want && unchanged(), nm("M1", c[i].what));
	}
}

/* test_m1_adjacent: two RAM regions that touch: a buffer across them is refused. */
static void test_m1_adjacent(void)
{
	struct gmem g2;
	struct virtq vq;
	static struct virtq_chain c;
	struct vf_ring r;
	int res;

	if (vf_mem_init(&g2, 0x10000, 0, 0x10000)) {
		UNIT_OK(&u, 0, "M1 split: cannot map adjacent regions");
		return;
	}
	vf_ring_init(&r, &g2, 8, false, 0x1000, 0x2000, 0x3000, 0x4000, 0x1000);
	virtq_enable(&vq, &g2, 8, 0, 0x1000, 0x2000, 0x3000);
	vf_desc(&r, 0, 0x10000 - 8, 16, 0, 0);
	vf_avail_add(&r, 0);
	res = virtq_pop(&vq, &c);
	UNIT_OK(&u, res == -EPROTO,
	    "M1 split: buffer across two touching RAM regions is refused (RESET), never read past a mapping");
	gmem_fini(&g2);
}

/* test_m3: lengths that sum past 2^32 inside real (2 GiB) RAM. */
static void test_m3(bool packed)
{
	struct gmem big;
	struct vf_ring r;
	struct virtq vq;
	int res;

	if (vf_mem_init(&big, 0x80010000ull, 0, 0)) {
		UNIT_OK(&u, 0, nm("M3", "cannot map 2 GiB of guest RAM (MAP_NORESERVE)"));
		return;
	}
	for (int k = 0; k < 2; k++) {
		uint32_t second = k ? 0x80000000u : 0x7fffffffu;

		vf_ring_init(&r, &big, 8, packed, 0x1000, 0x2000, 0x3000, 0x4000, 0x1000);
		virtq_enable(&vq, &big, 8, packed ? 1ull << VIRTQ_F_RING_PACKED : 0, 0x1000, 0x2000, 0x3000);
		if (packed) {
			vf_pdesc(&r, 1, 0x10000, second, 0, (uint16_t)(VF_WRITE | vf_pavail(true)));
			vf_pdesc(&r, 0, 0x10000, 0x80000000u, 0,
			    (uint16_t)(VF_WRITE | VF_NEXT | vf_pavail(true)));
		} else {
			vf_desc(&r, 0, 0x10000, 0x80000000u, VF_WRITE | VF_NEXT, 1);
			vf_desc(&r, 1, 0x10000, second, VF_WRITE, 0);
			vf_avail_add(&r, 0);
		}
		res = virtq_pop(&vq, &fx.c);
		if (k) {
			UNIT_OK(&u, res == -EPROTO, nm("M3", "two x 0x80000000 (sum 2^32) is RESET"));
		} else {
			uint32_t id, len;

			UNIT_OK(&u, res == 1 && fx.c.tok.write_len == 0xffffffffu,
			    nm("M3", "0x80000000 + 0x7fffffff (sum 2^32 - 1) is accepted"));
			virtq_push(&vq, &fx.c.tok, 0xffffffffu);
			UNIT_OK(&u, vf_used_next(&r, &id, &len) == 1 && len == 0xffffffffu,
			    nm("M3", "used.len 0xffffffff fits its field"));
		}
	}
	gmem_fini(&big);
}

static void test_m4(bool packed)
{
	struct vf_seg s[3] = {
		{ HEAP, 32, false }, { HEAP + 0x100, 16, false }, { HEAP + 0x200, 24, true },
	};
	uint8_t in[64], pat[64];
	bool ok = true;

	fx_init(8, packed, true, false);
	memset(vf_at(&gm, HEAP, 32), 0xa1, 32);
	memset(vf_at(&gm, HEAP + 0x100, 16), 0xa2, 16);
	memset(vf_at(&gm, HEAP + 0x200, 24), 0xa3, 24);
	vf_chain(&fx.r, s, 3);
	UNIT_OK(&u, virtq_pop(&fx.vq, &fx.c) == 1 && fx.c.nread == 2 && !fx.c.seg[0].write &&
	    !fx.c.seg[1].write && fx.c.seg[2].write && fx.c.read_len == 48 && fx.c.tok.write_len == 24,
	    nm("M4", "segment directions and lengths follow the descriptors"));
	memset(pat, 0x5c, sizeof(pat));
	take_snap();
	UNIT_OK(&u, virtq_copy_to(&fx.c, 0, pat, sizeof(pat)) == 24,
	    nm("M4", "copy_to fills only the 24 writable bytes"));
	for (unsigned i = 0; i < 32; i++)
		ok &= vf_at(&gm, HEAP, 32)[i] == 0xa1;
	for (unsigned i = 0; i < 16; i++)
		ok &= vf_at(&gm, HEAP + 0x100, 16)[i] == 0xa2;
	for (unsigned i = 0; i < 24; i++)
		ok &= vf_at(&gm, HEAP + 0x200, 24)[i] == 0x5c;
	UNIT_OK(&u, ok, nm("M4", "no write to a device-readable buffer"));
	memset(in, 0, sizeof(in));
	UNIT_OK(&u, virtq_copy_from(&fx.c, 30, in, sizeof(in)) == 18 && in[0] == 0xa1 && in[1] == 0xa1 &&
	    in[2] == 0xa2 && in[17] == 0xa2 && in[18] == 0,
	    nm("M4", "copy_from gathers only readable bytes, across segments, from an offset"));
	UNIT_OK(&u, virtq_copy_to(&fx.c, 20, pat, 8) == 4 && virtq_copy_to(&fx.c, 24, pat, 8) == 0 &&
	    virtq_copy_from(&fx.c, 48, in, 8) == 0, nm("M4", "copies stop at the end of their side"));
}

static void test_used(bool packed)
{
	struct vf_seg s[2] = { { HEAP, 16, false }, { HEAP + 0x100, 64, true } };
	uint16_t ids[5];
	uint32_t id, len;
	bool ok = true;

	fx_init(16, packed, true, false);
	for (int i = 0; i < 5; i++)
		ids[i] = vf_chain(&fx.r, s, 2);
	for (int i = 0; i < 5; i++) {
		ok &= virtq_pop(&fx.vq, &fx.c) == 1;
		virtq_push(&fx.vq, &fx.c.tok, (uint32_t)(10 * i));
		if (!packed)
			ok &= vf_used_idx(&fx.r) == i + 1 && fx.vq.used_idx == i + 1 &&
			    vf_get32(&gm, DEV + 4 + 8ull * i) == ids[i] &&
			    vf_get32(&gm, DEV + 8 + 8ull * i) == 10u * i;
	}
	UNIT_OK(&u, ok, nm("X2/X3", "each push writes its element, then the index/flags that publish it"));
	for (int i = 0; i < 5; i++)
		ok &= vf_used_next(&fx.r, &id, &len) == 1 && id == ids[i] && len == 10u * i;
	ok &= vf_used_next(&fx.r, &id, &len) == 0;
	UNIT_OK(&u, ok, nm("X2", "used count equals chains pushed, in order, with their ids"));

	fx_init(8, packed, true, false);
	vf_chain(&fx.r, s, 2);
	virtq_pop(&fx.vq, &fx.c);
	virtq_push(&fx.vq, &fx.c.tok, 1000);
	UNIT_OK(&u, vf_used_next(&fx.r, &id, &len) == 1 && len == 64,
	    nm("X2", "USED length clamped to the writable bytes"));
	if (packed) {
		vf_chain(&fx.r, s, 2);
		virtq_pop(&fx.vq, &fx.c);
		virtq_push(&fx.vq, &fx.c.tok, 0);
		UNIT_OK(&u, !(vf_get16(&gm, DESC + 16 * 2 + 14) & VF_WRITE),
		    nm("X2", "USED with length 0 has no WRITE flag"));
	}

	/* unpop: the same chain comes back, with the packed wrap counter restored. */
	fx_init(4, packed, true, false);
	for (int i = 0; i < 3; i++)
		vf_chain(&fx.r, s, packed ? 1 : 2);
	for (int i = 0; i < 3; i++) {
		virtq_pop(&fx.vq, &fx.c);
		virtq_push(&fx.vq, &fx.c.tok, 0);
	}
	ids[0] = vf_chain(&fx.r, s, 2);		/* packed: crosses the end of the ring */
	ok = virtq_pop(&fx.vq, &fx.c) == 1 && fx.c.tok.id == ids[0];
	virtq_unpop(&fx.vq, &fx.c);
	ok &= !packed || fx.vq.avail_wrap;
	ok &= virtq_pop(&fx.vq, &fx.c) == 1 && fx.c.tok.id == ids[0] && fx.c.nseg == 2;
	ok &= virtq_pop(&fx.vq, &fx.c) == 0;
	UNIT_OK(&u, ok, nm("unpop", "an unpopped chain is popped again, identical"));

	fx_init(8, packed, true, false);
	virtq_disable(&fx.vq);
	vf_chain(&fx.r, s, 2);
	take_snap();
	virtq_push(&fx.vq, &fx.c.tok, 1);
	UNIT_OK(&u, virtq_pop(&fx.vq, &fx.c) == 0 && unchanged() && !virtq_need_interrupt(&fx.vq),
	    nm("disable", "a disabled queue pops nothing and writes nothing"));
}

int main(void)
{
	if (vf_mem_init(&gm, R0_LEN, HOLE, R1_LEN)) {
		printf("not ok - virtq: cannot map guest RAM\n");
		return 1;
	}
	for (int p = 0; p < 2; p++) {
		bool packed = p;

		fx.packed = packed;
		test_r1(packed);
		test_r2(packed);
		test_r3_r4(packed);
		test_r5(packed);
		test_r6(packed);
		test_r7(packed);
		test_r8(packed);
		test_r9(packed);
		test_i(packed);
		test_m(packed);
		test_m3(packed);
		test_m4(packed);
		test_used(packed);
	}
	fx.packed = false;
	test_m1_adjacent();
	test_p1_p2_p3();
	gmem_fini(&gm);
	printf("# virtq: %u passed, %u failed\n", u.pass, u.fail);
	return unit_done(&u);
}
