/*
 * fuzz_ring.h: the engine of fuzz_split and fuzz_packed. The input drives a
 * hostile driver (raw descriptors, raw indirect tables, avail index jumps,
 * suppression fields) and a well-behaved one (chains built by vfake.c),
 * interleaved with device calls: pop, push, unpop, kick enable, need
 * interrupt. Every device call is checked against an oracle:
 *
 * - pop agrees with the reference walker vf_ref_pop (same chain, or both
 *   empty, or both malformed) and never writes guest memory;
 * - copy_from returns the bytes of the readable buffers; copy_to writes the
 *   writable buffers, in order, and nothing else (no write to a readable
 *   buffer unless the guest aliased it as writable too);
 * - push writes exactly the used element and index (split) or the used
 *   descriptor (packed), with the token's id and a clamped length;
 * - kick enable writes only its own suppression field;
 * - need_interrupt writes nothing; split answers exactly the vring_need_event
 *   rule, packed never loses an interrupt the driver asked for;
 * - indices never run past what the driver made available.
 *
 * Input layout: byte 0 queue size, byte 1 features, then operations (one
 * opcode byte and its arguments; missing bytes read as 0).
 */
#ifndef RINGVM_FUZZ_RING_H
#define RINGVM_FUZZ_RING_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfake.h"
#include "virtq.h"

#define FR_R0 0x8000ull			/* region 0: [0, 32K) */
#define FR_R1_GPA 0x10000ull		/* region 1: [64K, 80K), a hole between */
#define FR_R1 0x4000ull
#define FR_RAM (FR_R0 + FR_R1)
#define FR_DESC 0x0000ull
#define FR_DRV 0x1000ull
#define FR_DEV 0x1400ull
#define FR_ITAB 0x2000ull		/* raw indirect table, 256 entries */
#define FR_DATA 0x3000ull		/* raw buffers point here, or region 1 */
#define FR_COPY 0x10000u		/* bytes checked by copy_from / copy_to */

#define FR_CHECK(c) do { if (!(c)) fr_fail(#c, __LINE__); } while (0)

static void fr_fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_ring: invariant broken at line %d: %s\n", line, what);
	abort();
}

struct fr_in {
	const uint8_t *p;
	size_t n;
};

static uint8_t in8(struct fr_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t in16(struct fr_in *in)
{
	uint16_t lo = in8(in);

	return (uint16_t)(lo | in8(in) << 8);
}

static uint32_t in32(struct fr_in *in)
{
	uint32_t lo = in16(in);

	return lo | (uint32_t)in16(in) << 16;
}

struct fr {
	struct gmem gm;
	bool ready;
	bool packed, indirect, event_idx, enabled;
	uint16_t size;
	struct vf_ring r;
	struct virtq vq;
	struct virtq_chain c;
	struct vf_ref ref;
	struct virtq_token fifo[1024];
	unsigned fifo_head, fifo_n;
	bool can_unpop;
	struct virtq before;		/* queue state before the last successful pop */
	uint16_t split_signalled;
	uint64_t used_lin, signalled_lin;	/* packed: used slots consumed, ever */
	uint8_t exp[FR_RAM];		/* what guest RAM must hold after a device call */
	uint8_t buf[FR_COPY];
};

static struct fr fr;

/* fr_off: index of guest address gpa in exp[] (RAM is region 0 then region 1). */
static size_t fr_off(uint64_t gpa)
{
	return gpa < FR_R0 ? (size_t)gpa : (size_t)(FR_R0 + gpa - FR_R1_GPA);
}

static void fr_save(void)
{
	memcpy(fr.exp, vf_at(&fr.gm, 0, FR_R0), FR_R0);
	memcpy(fr.exp + FR_R0, vf_at(&fr.gm, FR_R1_GPA, FR_R1), FR_R1);
}

static bool fr_same(void)
{
	return !memcmp(fr.exp, vf_at(&fr.gm, 0, FR_R0), FR_R0) &&
	    !memcmp(fr.exp + FR_R0, vf_at(&fr.gm, FR_R1_GPA, FR_R1), FR_R1);
}

static void exp_put(uint64_t gpa, const void *p, size_t n)
{
	memcpy(fr.exp + fr_off(gpa), p, n);
}

static void exp16(uint64_t gpa, uint16_t v) { exp_put(gpa, &v, 2); }
static void exp32(uint64_t gpa, uint32_t v) { exp_put(gpa, &v, 4); }

/* xaddr: a buffer address: mostly in RAM, often at an edge, sometimes anywhere. */
static uint64_t xaddr(uint32_t v)
{
	uint32_t k = v & 0x3f;

	switch (v >> 29) {
	case 0: case 1: case 2:
		return FR_DATA + v % (FR_R0 - FR_DATA);
	case 3:
		return FR_R1_GPA + v % FR_R1;
	case 4: {
		const uint64_t edge[8] = {
			FR_R0 - 1 - k, FR_R0 + k, FR_R1_GPA - 1 - k, FR_R1_GPA + FR_R1 - k,
			FR_R1_GPA + k, FR_DESC + 16 * k, FR_DRV + k, FR_DEV + k,
		};

		return edge[(v >> 6) & 7];
	}
	case 5:
		return FR_ITAB + 16ull * (v % 256) + ((v >> 8) & 1 ? 0 : (v >> 9) % 16);
	case 6:
		return 0xfffffffffffff000ull + (v & 0xfff);
	default:
		return (uint64_t)v << ((v >> 24) & 31);
	}
}

/* xlen: a length: mostly small, table-sized, or an edge value. */
static uint32_t xlen(uint16_t v)
{
	static const uint32_t edge[8] = { 0, 1, 15, 16, 17, 4096, 0xffff, 0x1000 * 16 };
	static const uint32_t big[8] = {
		0xffffffffu, 0x80000000u, 0x7fffffffu, 0xfffffff0u, 0x10000u, 0xfffffff8u, 4097u * 16, 257u * 16,
	};

	switch (v >> 13) {
	case 0: case 1: case 2: case 3:
		return v & 0x1ff;
	case 4:
		return (v & 0x3f) * 16u;
	case 5:
		return (v & 0x1fff) * 16u;
	case 6:
		return edge[v & 7];
	default:
		return big[v & 7];
	}
}

/* split_flags: NEXT/WRITE/INDIRECT from the low bits, sometimes one unknown bit. */
static uint16_t split_flags(uint8_t f)
{
	uint16_t flags = f & 7;

	if (f & 8)
		flags |= (uint16_t)(1u << (3 + ((f >> 4) & 7)));
	return flags;
}

/* packed_flags: as split, with AVAIL/USED chosen for (or against) the driver's lap. */
static uint16_t packed_flags(uint8_t f)
{
	uint16_t flags = f & 7;
	bool w = fr.r.pk_wrap;

	if (f & 8)
		flags |= 0x10;
	switch ((f >> 4) & 3) {
	case 0: flags |= vf_pavail(w); break;
	case 1: flags |= w ? (VF_AVAIL | VF_USED) : 0; break;
	case 2: flags |= vf_pavail(!w); break;
	default: flags |= (f & 0x40 ? VF_AVAIL : 0) | (f & 0x80 ? VF_USED : 0); break;
	}
	return flags;
}

static void fr_enable(void)
{
	uint64_t f = (fr.packed ? 1ull << VIRTQ_F_RING_PACKED : 0) |
	    (fr.indirect ? 1ull << VIRTQ_F_INDIRECT_DESC : 0) |
	    (fr.event_idx ? 1ull << VIRTQ_F_EVENT_IDX : 0);

	memset(vf_at(&fr.gm, 0, FR_R0), 0, FR_R0);
	memset(vf_at(&fr.gm, FR_R1_GPA, FR_R1), 0, FR_R1);
	vf_ring_init(&fr.r, &fr.gm, fr.size, fr.packed, FR_DESC, FR_DRV, FR_DEV, FR_R1_GPA, FR_R1);
	fr.enabled = virtq_enable(&fr.vq, &fr.gm, fr.size, f, FR_DESC, FR_DRV, FR_DEV) == 0;
	fr.fifo_head = fr.fifo_n = 0;
	fr.can_unpop = false;
	fr.split_signalled = 0;
	fr.used_lin = fr.signalled_lin = 0;
}

/* fr_pop: one pop, checked against the reference walker. */
static void fr_pop(void)
{
	bool broken = fr.vq.broken;
	struct virtq before = fr.vq;
	int r;

	fr.can_unpop = false;
	vf_ref_pop(&fr.r, fr.indirect, fr.packed ? fr.vq.next_avail : fr.vq.last_avail,
	    fr.vq.avail_wrap, &fr.ref);
	fr_save();
	r = virtq_pop(&fr.vq, &fr.c);
	FR_CHECK(fr_same());				/* pop never writes guest memory */
	if (broken) {
		FR_CHECK(r == -EPROTO);
		return;
	}
	if (fr.ref.r == 0) {
		FR_CHECK(r == 0);
		FR_CHECK(fr.vq.last_avail == before.last_avail && fr.vq.next_avail == before.next_avail &&
		    fr.vq.avail_wrap == before.avail_wrap && !fr.vq.broken);
		return;
	}
	if (fr.ref.r < 0) {
		FR_CHECK(r == -EPROTO && fr.vq.broken && fr.vq.why);
		return;
	}
	FR_CHECK(r == 1);
	FR_CHECK(vf_chain_matches(&fr.gm, &fr.c, &fr.ref, fr.packed));
	if (fr.packed) {
		unsigned pos = before.next_avail + fr.c.tok.ndesc;

		FR_CHECK(fr.vq.next_avail == pos % fr.size);
		FR_CHECK(fr.vq.avail_wrap == (before.avail_wrap ^ ((pos / fr.size) & 1)));
	} else {
		uint16_t avail = vf_get16(&fr.gm, FR_DRV + 2);

		FR_CHECK(fr.vq.last_avail == (uint16_t)(before.last_avail + 1));
		FR_CHECK((uint16_t)(avail - fr.vq.last_avail) < fr.size);	/* never past avail.idx */
	}
	/* copy_from: the readable bytes, in order, from an offset. */
	{
		uint32_t want = fr.c.read_len < FR_COPY ? fr.c.read_len : FR_COPY, off = fr.c.read_len / 3;
		uint32_t got = virtq_copy_from(&fr.c, off, fr.buf, want), pos = 0, skip = off;

		FR_CHECK(got == (fr.c.read_len - off < want ? fr.c.read_len - off : want));
		for (unsigned i = 0; i < fr.ref.nseg && pos < got; i++) {
			const struct vf_seg *s = &fr.ref.seg[i];
			uint32_t take;

			if (s->write)
				break;
			if (skip >= s->len) {
				skip -= s->len;
				continue;
			}
			take = s->len - skip < got - pos ? s->len - skip : got - pos;
			FR_CHECK(!memcmp(fr.buf + pos, vf_at(&fr.gm, s->addr + skip, take), take));
			pos += take;
			skip = 0;
		}
		FR_CHECK(pos == got);
	}
	/* copy_to: a pattern into the writable buffers, and nowhere else. */
	{
		uint32_t want = fr.c.tok.write_len < FR_COPY ? fr.c.tok.write_len : FR_COPY, pos = 0;
		uint8_t pat = (uint8_t)(0xa5 ^ fr.vq.last_avail ^ fr.vq.next_avail);

		memset(fr.buf, pat, want);
		for (unsigned i = 0; i < want; i++)
			fr.buf[i] = (uint8_t)(pat + i);
		fr_save();
		for (unsigned i = 0; i < fr.ref.nseg && pos < want; i++) {
			const struct vf_seg *s = &fr.ref.seg[i];
			uint32_t take = s->len < want - pos ? s->len : want - pos;

			if (!s->write)
				continue;
			exp_put(s->addr, fr.buf + pos, take);
			pos += take;
		}
		FR_CHECK(virtq_copy_to(&fr.c, 0, fr.buf, want) == want);
		FR_CHECK(fr_same());
	}
	if (fr.fifo_n < sizeof(fr.fifo) / sizeof(fr.fifo[0])) {
		fr.fifo[(fr.fifo_head + fr.fifo_n++) % (sizeof(fr.fifo) / sizeof(fr.fifo[0]))] = fr.c.tok;
		fr.before = before;
		fr.can_unpop = true;
	}
}

static void fr_unpop(void)
{
	if (!fr.can_unpop)
		return;
	fr.can_unpop = false;
	fr.fifo_n--;
	fr_save();
	virtq_unpop(&fr.vq, &fr.c);
	FR_CHECK(fr_same());
	FR_CHECK(fr.vq.last_avail == fr.before.last_avail && fr.vq.next_avail == fr.before.next_avail &&
	    fr.vq.avail_wrap == fr.before.avail_wrap);
}

static void fr_push(uint32_t written)
{
	const size_t cap = sizeof(fr.fifo) / sizeof(fr.fifo[0]);
	struct virtq_token tok;
	uint32_t len;

	if (!fr.fifo_n)
		return;
	fr.can_unpop = false;
	tok = fr.fifo[fr.fifo_head];
	fr.fifo_head = (unsigned)((fr.fifo_head + 1) % cap);
	fr.fifo_n--;
	len = written < tok.write_len ? written : tok.write_len;
	fr_save();
	if (fr.vq.broken || fr.vq.halted) {
		/* A broken ring gets no more used entries (F-2): nothing may change. */
		virtq_push(&fr.vq, &tok, written);
		FR_CHECK(fr_same());
		return;
	}
	if (fr.packed) {
		uint64_t d = FR_DESC + 16ull * fr.vq.next_used;
		uint16_t flags = (uint16_t)((fr.vq.used_wrap ? VF_AVAIL | VF_USED : 0) | (len ? VF_WRITE : 0));
		unsigned pos = fr.vq.next_used + tok.ndesc;
		bool wrap = fr.vq.used_wrap;

		exp32(d + 8, len);
		exp16(d + 12, tok.id);
		exp16(d + 14, flags);
		virtq_push(&fr.vq, &tok, written);
		FR_CHECK(fr.vq.next_used == pos % fr.size && fr.vq.used_wrap == (wrap ^ ((pos / fr.size) & 1)));
		fr.used_lin += tok.ndesc;
	} else {
		uint64_t e = FR_DEV + 4 + 8ull * (fr.vq.used_idx % fr.size);

		exp32(e, tok.id);
		exp32(e + 4, len);
		exp16(FR_DEV + 2, (uint16_t)(fr.vq.used_idx + 1));
		virtq_push(&fr.vq, &tok, written);
		FR_CHECK(vf_used_idx(&fr.r) == fr.vq.used_idx);
		fr.used_lin++;
	}
	FR_CHECK(fr_same());
}

static void fr_kick(bool on)
{
	fr_save();
	if (fr.packed)
		exp16(FR_DEV + 2, on ? 0 : 1);
	else if (fr.event_idx && on)
		exp16(FR_DEV + 4 + 8ull * fr.size, fr.vq.last_avail);
	else if (!fr.event_idx)
		exp16(FR_DEV, on ? 0 : 1);
	virtq_kick_enable(&fr.vq, on);
	FR_CHECK(fr_same());
}

static bool ring_need_event(uint16_t event, uint16_t now, uint16_t old)
{
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

static void fr_need_interrupt(void)
{
	bool got;

	fr_save();
	got = virtq_need_interrupt(&fr.vq);
	FR_CHECK(fr_same());
	if (!fr.packed) {
		uint16_t now = fr.vq.used_idx;

		/* Nothing published since the last decision: never an interrupt (S1). */
		if (now == fr.split_signalled)
			FR_CHECK(!got);
		else if (fr.event_idx)
			FR_CHECK(got == ring_need_event(vf_get16(&fr.gm, FR_DRV + 4 + 2ull * fr.size), now,
			    fr.split_signalled));
		else
			FR_CHECK(got == !(vf_get16(&fr.gm, FR_DRV) & 1));
		fr.split_signalled = now;
		return;
	}
	{
		uint16_t off_wrap = vf_get16(&fr.gm, FR_DRV), flags = vf_get16(&fr.gm, FR_DRV + 2);
		uint64_t old = fr.signalled_lin, now = fr.used_lin, lap = now / fr.size, e;
		unsigned off = off_wrap & 0x7fff;
		bool w = off_wrap >> 15, cur = !(lap & 1);

		fr.signalled_lin = now;
		if (now == old) {
			FR_CHECK(!got);
			return;
		}
		if (flags == 0)
			FR_CHECK(got);
		else if (flags == 1)
			FR_CHECK(!got);
		/*
		 * DESC: an event slot the device wrote since the last decision must
		 * interrupt. Checked while less than a whole lap was used in
		 * between; a whole lap is test_virtq's "full lap" check.
		 */
		if (flags != 2 || !fr.event_idx || off >= fr.size || now - old >= fr.size)
			return;
		if (w == cur)
			e = lap * fr.size + off;
		else if (lap)
			e = (lap - 1) * fr.size + off;
		else
			return;
		if (e >= old && e < now)
			FR_CHECK(got);
	}
}

/* fr_chain: a well-formed chain from the builder (direct or through an indirect table). */
static void fr_chain(struct fr_in *in, bool indirect)
{
	struct vf_seg s[8];
	unsigned n = 1 + in8(in) % 8, nr;
	uint8_t d;

	if (n > fr.size && !indirect)
		n = fr.size;
	d = in8(in);
	nr = d % (n + 1);
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = in8(in);

		/* Readable first, as drivers must; with bit 7, writable first (R6). */
		s[i] = (struct vf_seg){ vf_alloc(&fr.r, len, (uint8_t)i), len, (d & 0x80) ? i < nr : i >= nr };
	}
	if (indirect) {
		uint64_t table = vf_alloc(&fr.r, 16 * n, 0);

		vf_chain_indirect(&fr.r, table, s, n, in8(in) & 1 ? VF_WRITE : 0);
	} else {
		vf_chain(&fr.r, s, n);
	}
}

static void fr_raw_desc(struct fr_in *in)
{
	uint8_t b = in8(in);
	/* Bit 7: relative to where the device (packed) or the driver (split) is now. */
	uint16_t base = fr.packed ? fr.vq.next_avail : fr.r.next_desc;
	uint16_t slot = (uint16_t)((b & 0x80 ? base + (b & 0x7f) : b) % fr.size);
	uint64_t addr = xaddr(in32(in));
	uint32_t len = xlen(in16(in));
	uint8_t f = in8(in), nx = in8(in);

	if (fr.packed)
		vf_pdesc(&fr.r, slot, addr, len, nx, packed_flags(f));
	else
		vf_desc(&fr.r, slot, addr, len, split_flags(f), f & 0x80 ? nx : (uint16_t)(nx % fr.size));
}

static void fr_raw_itab(struct fr_in *in)
{
	uint64_t e = FR_ITAB + 16ull * in8(in);
	uint64_t addr = xaddr(in32(in));
	uint32_t len = xlen(in16(in));
	uint8_t f = in8(in), nx = in8(in);

	vf_put64(&fr.gm, e, addr);
	vf_put32(&fr.gm, e + 8, len);
	if (fr.packed) {
		vf_put16(&fr.gm, e + 12, nx);
		vf_put16(&fr.gm, e + 14, split_flags(f));
	} else {
		vf_put16(&fr.gm, e + 12, split_flags(f));
		vf_put16(&fr.gm, e + 14, f & 0x80 ? nx : (uint16_t)(nx % 16));
	}
}

static int fr_run(const uint8_t *data, size_t size, bool packed)
{
	struct fr_in in = { data, size };
	uint8_t sz = in8(&in), feat = in8(&in);
	unsigned ops = 0;

	if (!fr.ready) {
		if (vf_mem_init(&fr.gm, FR_R0, FR_R1_GPA - FR_R0, FR_R1))
			abort();
		fr.ready = true;
	}
	fr.packed = packed;
	fr.indirect = feat & 1;
	fr.event_idx = feat & 2;
	/* Mostly powers of two for split; any size for packed; sometimes raw (refused). */
	if (feat & 0x80)
		fr.size = (uint16_t)(sz | (feat & 0x40 ? 0x100 : 0));
	else
		fr.size = packed ? (uint16_t)(sz + 1) : (uint16_t)(1u << (sz % 9));
	if (fr.size > VIRTQ_MAX_SIZE || fr.size == 0) {
		struct virtq vq;

		FR_CHECK(virtq_enable(&vq, &fr.gm, fr.size, packed ? 1ull << VIRTQ_F_RING_PACKED : 0,
		    FR_DESC, FR_DRV, FR_DEV) == -EINVAL);
		return 0;
	}
	fr_enable();
	if (!fr.enabled) {
		FR_CHECK(!packed && (fr.size & (fr.size - 1)));
		FR_CHECK(virtq_pop(&fr.vq, &fr.c) <= 0);
		return 0;
	}
	while (in.n && ops++ < 4096) {
		uint8_t op = in8(&in);

		switch (op % 14) {
		case 0:
			fr_raw_desc(&in);
			break;
		case 1:
			fr_raw_itab(&in);
			break;
		case 2:
			if (packed)
				fr.r.pk_wrap = !fr.r.pk_wrap;
			else
				vf_avail_add(&fr.r, op & 0x80 ? in8(&in) : (uint16_t)(in8(&in) % fr.size));
			break;
		case 3:
			if (!packed)
				vf_avail_set_idx(&fr.r, (uint16_t)(fr.r.avail_idx + in16(&in)));
			break;
		case 4: case 5:
			fr_pop();
			break;
		case 6:
			fr_push(op & 0x80 ? in32(&in) : in8(&in));
			break;
		case 7:
			fr_unpop();
			break;
		case 8:
			fr_kick(op & 0x80);
			break;
		case 9:
			if (packed)
				vf_pdriver_event(&fr.r, in16(&in), in8(&in) % 4);
			else if (op & 0x80)
				vf_avail_flags(&fr.r, in8(&in) & 1);
			else
				vf_used_event(&fr.r, (uint16_t)(fr.vq.used_idx + (int8_t)in8(&in)));
			break;
		case 10:
			fr_need_interrupt();
			break;
		case 11:
			fr_chain(&in, false);
			break;
		case 12:
			fr_chain(&in, true);
			break;
		case 13:
			if (op & 0x80)
				fr_enable();	/* device reset and a fresh queue */
			else {
				unsigned pops = 0;

				/* Drain: ends within a lap, whatever the ring holds (never spins). */
				while (virtq_pop(&fr.vq, &fr.c) == 1)
					FR_CHECK(++pops <= fr.size);
			}
			fr.can_unpop = false;
			fr.fifo_n = 0;
			break;
		}
	}
	/* Publish everything still held, then the books must balance. */
	while (fr.fifo_n)
		fr_push(0xffffffffu);
	if (!packed)
		FR_CHECK(fr.vq.used_idx == vf_used_idx(&fr.r));
	return 0;
}

#endif
