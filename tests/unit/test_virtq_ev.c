/*
 * test_virtq_ev.c: virtqueue interrupt suppression (EVENT_IDX, the
 * NO_INTERRUPT flag, packed driver event areas), kick suppression, and what
 * virtq_enable refuses (HOSTILE.md T1, T3, P3 at the walker). No KVM.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "vfake.h"
#include "virtq.h"

#define R0_LEN 0x100000ull
#define HOLE 0x100000ull
#define R1_LEN 0x100000ull
#define DESC 0x1000ull
#define DRV 0x3000ull
#define DEV 0x4000ull
#define HEAP 0x10000ull
#define HEAP_LEN 0x70000ull

static struct unit u = { .file = "virtq" };
static struct gmem gm;

struct fx {
	struct vf_ring r;
	struct virtq vq;
	struct virtq_chain c;
	bool packed;
	char name[160];
};

static struct fx fx;

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
	vf_ring_init(&fx.r, &gm, size, packed, DESC, DRV, DEV, HEAP, HEAP_LEN);
	return virtq_enable(&fx.vq, &gm, size, f, DESC, DRV, DEV);
}

static void test_events_split(void)
{
	struct vf_seg s = { HEAP, 16, true };

	fx.packed = false;
	fx_init(8, false, true, false);
	vf_chain(&fx.r, &s, 1);
	virtq_pop(&fx.vq, &fx.c);
	virtq_push(&fx.vq, &fx.c.tok, 1);
	UNIT_OK(&u, virtq_need_interrupt(&fx.vq), nm("event", "no EVENT_IDX, flags 0: interrupt"));
	vf_avail_flags(&fx.r, 1);
	vf_chain(&fx.r, &s, 1);
	virtq_pop(&fx.vq, &fx.c);
	virtq_push(&fx.vq, &fx.c.tok, 1);
	UNIT_OK(&u, !virtq_need_interrupt(&fx.vq), nm("event", "VRING_AVAIL_F_NO_INTERRUPT: none"));
	virtq_kick_enable(&fx.vq, false);
	UNIT_OK(&u, vf_get16(&gm, DEV) == 1, nm("kick", "kicks off: used.flags = NO_NOTIFY"));
	virtq_kick_enable(&fx.vq, true);
	UNIT_OK(&u, vf_get16(&gm, DEV) == 0, nm("kick", "kicks on: used.flags = 0"));

	fx_init(8, false, true, true);
	vf_used_event(&fx.r, 0);
	vf_chain(&fx.r, &s, 1);
	vf_chain(&fx.r, &s, 1);
	virtq_pop(&fx.vq, &fx.c);
	virtq_push(&fx.vq, &fx.c.tok, 1);
	UNIT_OK(&u, virtq_need_interrupt(&fx.vq), nm("event", "EVENT_IDX: used 0->1 passes used_event 0"));
	virtq_pop(&fx.vq, &fx.c);
	virtq_push(&fx.vq, &fx.c.tok, 1);
	UNIT_OK(&u, !virtq_need_interrupt(&fx.vq), nm("event", "EVENT_IDX: used 1->2 does not pass 0"));
	UNIT_OK(&u, !virtq_need_interrupt(&fx.vq), nm("event", "EVENT_IDX: nothing pushed, no interrupt"));
	vf_used_event(&fx.r, 3);
	for (int i = 0; i < 2; i++) {
		vf_chain(&fx.r, &s, 1);
		virtq_pop(&fx.vq, &fx.c);
		virtq_push(&fx.vq, &fx.c.tok, 1);
	}
	UNIT_OK(&u, virtq_need_interrupt(&fx.vq), nm("event", "EVENT_IDX: used 2->4 passes used_event 3"));
	virtq_kick_enable(&fx.vq, true);
	UNIT_OK(&u, vf_get16(&gm, DEV + 4 + 8 * 8) == fx.vq.last_avail && fx.vq.last_avail == 4,
	    nm("kick", "EVENT_IDX: avail_event = next avail index the device will read"));
	/* A whole ring (8 of 8) used between two decisions, the event in the middle. */
	vf_used_event(&fx.r, 7);
	for (int i = 0; i < 8; i++) {
		vf_chain(&fx.r, &s, 1);
		virtq_pop(&fx.vq, &fx.c);
		virtq_push(&fx.vq, &fx.c.tok, 1);
	}
	UNIT_OK(&u, virtq_need_interrupt(&fx.vq), nm("event", "EVENT_IDX: a full ring used since the last decision: interrupt"));
}

static void test_events_packed(void)
{
	struct vf_seg s = { HEAP, 16, true };

	fx.packed = true;
	fx_init(4, true, true, true);
	vf_chain(&fx.r, &s, 1);
	virtq_pop(&fx.vq, &fx.c);
	virtq_push(&fx.vq, &fx.c.tok, 1);
	vf_pdriver_event(&fx.r, 0, 0);
	UNIT_OK(&u, virtq_need_interrupt(&fx.vq), nm("event", "driver flags ENABLE: interrupt"));
	vf_pdriver_event(&fx.r, 0, 1);
	vf_chain(&fx.r, &s, 1);
	virtq_pop(&fx.vq, &fx.c);
	virtq_push(&fx.vq, &fx.c.tok, 1);
	UNIT_OK(&u, !virtq_need_interrupt(&fx.vq), nm("event", "driver flags DISABLE: none"));
	/* DESC: interrupt once the used descriptor at slot 3 of lap 1 is written. */
	vf_pdriver_event(&fx.r, 3 | 0x8000, 2);
	vf_chain(&fx.r, &s, 1);
	virtq_pop(&fx.vq, &fx.c);
	virtq_push(&fx.vq, &fx.c.tok, 1);
	UNIT_OK(&u, !virtq_need_interrupt(&fx.vq), nm("event", "driver flags DESC: slot 2 written, event at 3: none"));
	vf_chain(&fx.r, &s, 1);
	virtq_pop(&fx.vq, &fx.c);
	virtq_push(&fx.vq, &fx.c.tok, 1);
	UNIT_OK(&u, virtq_need_interrupt(&fx.vq), nm("event", "driver flags DESC: slot 3 written (wrap): interrupt"));
	/* Event in the next lap (wrap 0) at slot 1. */
	vf_pdriver_event(&fx.r, 1, 2);
	for (int i = 0; i < 2; i++) {
		vf_chain(&fx.r, &s, 1);
		virtq_pop(&fx.vq, &fx.c);
		virtq_push(&fx.vq, &fx.c.tok, 1);
	}
	UNIT_OK(&u, virtq_need_interrupt(&fx.vq), nm("event", "driver flags DESC: event in the next lap"));
	/*
	 * A whole lap of used descriptors between two decisions (4 chains on a
	 * ring of 4): the event slot was passed, the driver must be interrupted.
	 */
	fx_init(4, true, true, true);
	vf_pdriver_event(&fx.r, 1 | 0x8000, 2);
	UNIT_OK(&u, !virtq_need_interrupt(&fx.vq), nm("event", "DESC: nothing used yet, no interrupt"));
	for (int i = 0; i < 4; i++) {
		vf_chain(&fx.r, &s, 1);
		virtq_pop(&fx.vq, &fx.c);
		virtq_push(&fx.vq, &fx.c.tok, 1);
	}
	UNIT_OK(&u, virtq_need_interrupt(&fx.vq),
	    nm("event", "DESC: a full lap (4 of 4 slots) used since the last decision passes the event: interrupt"));
	virtq_kick_enable(&fx.vq, false);
	UNIT_OK(&u, vf_get16(&gm, DEV + 2) == 1, nm("kick", "kicks off: device event flags DISABLE"));
	virtq_kick_enable(&fx.vq, true);
	UNIT_OK(&u, vf_get16(&gm, DEV + 2) == 0, nm("kick", "kicks on: device event flags ENABLE"));
}

static void test_enable(void)
{
	struct virtq vq;
	struct { uint16_t size; bool packed; uint64_t d, a, e; int want; const char *what; } c[] = {
		{ 8, false, DESC, DRV, DEV, 0, "split 8, aligned rings in RAM: enabled" },
		{ 3, false, DESC, DRV, DEV, -EINVAL, "T1: split size 3 refused" },
		{ 255, false, DESC, DRV, DEV, -EINVAL, "T1: split size 255 refused" },
		{ 0, false, DESC, DRV, DEV, -EINVAL, "T1: size 0 refused" },
		{ 512, false, DESC, DRV, DEV, -EINVAL, "T1: size above VIRTQ_MAX_SIZE refused" },
		{ 8, false, DESC + 8, DRV, DEV, -EINVAL, "T3: desc not 16-aligned refused" },
		{ 8, false, DESC, DRV + 1, DEV, -EINVAL, "T3: avail not 2-aligned refused" },
		{ 8, false, DESC, DRV, DEV + 2, -EINVAL, "T3: used not 4-aligned refused" },
		{ 8, false, R0_LEN, DRV, DEV, -EINVAL, "T3: desc in the hole refused" },
		{ 8, false, DESC, DRV, R0_LEN - 16, -EINVAL, "T3: used straddling the end of RAM refused" },
		{ 256, false, R0_LEN - 0x800, DRV, DEV, -EINVAL, "T3: 256-entry desc table past RAM refused" },
		{ 3, true, DESC, DRV, DEV, 0, "P3: packed size 3 enabled" },
		{ 8, true, DESC, DRV + 2, DEV, -EINVAL, "T3: packed driver area not 4-aligned refused" },
		{ 8, true, DESC, DRV, 0xfffffffffffffffcull, -EINVAL, "T3: packed device area at 2^64-4 refused" },
	};

	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int r = virtq_enable(&vq, &gm, c[i].size, c[i].packed ? 1ull << VIRTQ_F_RING_PACKED : 0,
		    c[i].d, c[i].a, c[i].e);
		char what[140];

		snprintf(what, sizeof(what), "enable %s", c[i].what);
		UNIT_OK(&u, r == c[i].want && vq.enabled == (r == 0), what);
	}
	virtq_enable(&vq, &gm, 8, 0, DESC + 8, DRV, DEV);
	UNIT_OK(&u, virtq_pop(&vq, &fx.c) <= 0, "enable: a refused queue pops nothing");
}

int main(void)
{
	if (vf_mem_init(&gm, R0_LEN, HOLE, R1_LEN)) {
		printf("not ok - virtq: cannot map guest RAM\n");
		return 1;
	}
	test_events_split();
	test_events_packed();
	test_enable();
	gmem_fini(&gm);
	printf("# virtq (events, enable): %u passed, %u failed\n", u.pass, u.fail);
	return unit_done(&u);
}
