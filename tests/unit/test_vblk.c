/*
 * test_vblk.c: virtio-blk's request path against HOSTILE.md 2d (B1-B10), the
 * blk side of R7 and M4, storms and logs (S1, S2) and ring sync (X2). The
 * device is the real one (sync engine) on a temporary image, behind the real
 * transport, fed by the fake driver of vfake.c. No KVM.
 *
 * Outcomes: ERR = USED published with status IOERR (1) or UNSUPP (2) and no
 * write outside the guest's writable buffers; RESET = NEEDS_RESET set and
 * the request not published.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liburing.h>

#include "unit.h"
#include "vfake.h"
#include "virtio_blk.h"
#include "virtio_pci.h"

#define R0_LEN 0x100000ull
#define HOLE 0x100000ull
#define R1_GPA 0x200000ull
#define R1_LEN 0x100000ull
#define DISK_LEN (1u << 20)
#define SECTORS (DISK_LEN / 512)
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2
#define NO_USED (-1)
#define F_PACKED (1ull << VIRTQ_F_RING_PACKED)
#define F_EVENT_IDX (1ull << VIRTQ_F_EVENT_IDX)
#define F_DISCARD (1ull << 13)
#define F_WRITE_ZEROES (1ull << 14)
#define F_RO (1ull << 5)
#define F_FLUSH (1ull << 9)

static struct unit u = { .file = "vblk" };
static struct vstub_vm v;
static char path[256];
static int file_fd;

struct dev {
	struct vblk *b;
	struct virtio_pci *vp;
	struct vf_ring r;
	uint64_t desc, drv, dev, heap, heap_len;
	uint32_t last_len;	/* USED length of the last request */
};

static struct dev rw = { .desc = 0x1000, .drv = 0x2000, .dev = 0x3000, .heap = R1_GPA, .heap_len = R1_LEN };
static struct dev ro = { .desc = 0x4000, .drv = 0x5000, .dev = 0x6000, .heap = 0x80000, .heap_len = 0x70000 };
static struct dev s2 = { .desc = 0x7000, .drv = 0x8000, .dev = 0x9000, .heap = 0x10000, .heap_len = 0x70000 };
static uint8_t file0[DISK_LEN], file1[DISK_LEN];

static uint8_t *at(uint64_t gpa, uint64_t len) { return vf_at(&v.vm.mem, gpa, len); }

static bool all_bytes(uint64_t gpa, uint32_t len, uint8_t b)
{
	const uint8_t *p = at(gpa, len);

	for (uint32_t i = 0; i < len; i++)
		if (p[i] != b)
			return false;
	return true;
}

static void file_snap(uint8_t *buf)
{
	if (pread(file_fd, buf, DISK_LEN, 0) != DISK_LEN)
		memset(buf, 0xff, DISK_LEN);
}

/* file_same: the image did not change since file0 was taken. */
static bool file_same(void)
{
	file_snap(file1);
	return memcmp(file0, file1, DISK_LEN) == 0;
}

/* up: rings emptied, then reset .. DRIVER_OK with the features in `want`. */
static uint64_t up(struct dev *d, bool packed, uint64_t want)
{
	vf_ring_init(&d->r, &v.vm.mem, VBLK_QUEUE_SIZE, packed, d->desc, d->drv, d->dev, d->heap,
	    d->heap_len);
	return vstub_driver_init(d->vp, packed ? want : want & ~F_PACKED, 0, VBLK_QUEUE_SIZE,
	    d->desc, d->drv, d->dev);
}

static bool needs_reset(struct dev *d)
{
	return vstub_status(d->vp) & VS_S_NEEDS_RESET;
}

static void kick(struct dev *d)
{
	vstub_bar_write(d->vp, VS_NOTIFY, 0, 2);
	vstub_run(&v);
}

/* done: the next USED entry, which must be `id`; returns the status byte or NO_USED. */
static int done(struct dev *d, uint16_t id, uint64_t status)
{
	uint32_t got, len;

	if (vf_used_next(&d->r, &got, &len) != 1 || got != id)
		return NO_USED;
	d->last_len = len;
	return *at(status, 1);
}

/* req: one request built as Linux builds it (data filled with 0x77), kicked, completed. */
static int req(struct dev *d, uint32_t type, uint64_t sector, uint32_t len, struct vf_blk *rq)
{
	vf_blk_req(&d->r, type, sector, len, 0x77, rq);
	kick(d);
	return done(d, rq->id, rq->status);
}

/* chain: a hand-made chain whose status byte is at `status`, kicked, completed. */
static int chain(struct dev *d, const struct vf_seg *s, unsigned n, uint64_t status)
{
	uint16_t id = vf_chain(&d->r, s, n);

	kick(d);
	return done(d, id, status);
}

static uint64_t buf(struct dev *d, uint32_t len, uint8_t fill)
{
	return vf_alloc(&d->r, len, fill);
}

static void test_b1_b2(void)
{
	const struct { uint32_t type; uint64_t sector; uint32_t len; const char *what; } c[] = {
		{ VF_BLK_IN, SECTORS, 512, "B1: read at sector == capacity" },
		{ VF_BLK_IN, SECTORS - 1, 1024, "B1: read with sector + len past capacity" },
		{ VF_BLK_IN, 1ull << 55, 512, "B1: read with sector * 512 overflowing u64" },
		{ VF_BLK_IN, UINT64_MAX, 512, "B1: read at sector 2^64 - 1" },
		{ VF_BLK_OUT, SECTORS, 512, "B1: write at sector == capacity" },
		{ VF_BLK_OUT, SECTORS - 1, 1024, "B1: write with sector + len past capacity" },
		{ VF_BLK_OUT, (UINT64_MAX >> 9) + 1, 512, "B1: write with sector * 512 overflowing u64" },
		{ VF_BLK_IN, 0, 513, "B2: read of 513 bytes" },
		{ VF_BLK_IN, 0, 100, "B2: read of 100 bytes" },
		{ VF_BLK_OUT, 0, 1000, "B2: write of 1000 bytes" },
		{ VF_BLK_IN, 0, 0, "B2: read with no data" },
		{ VF_BLK_OUT, 0, 0, "B2: write with no data" },
	};

	up(&rw, false, ~0ull);
	file_snap(file0);
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct vf_blk rq;
		char what[140];
		int s = req(&rw, c[i].type, c[i].sector, c[i].len, &rq);

		snprintf(what, sizeof(what), "%s: IOERR, USED len 1, no data moved", c[i].what);
		UNIT_OK(&u, s == S_IOERR && rw.last_len == 1 && all_bytes(rq.data, c[i].len, 0x77) &&
		    !needs_reset(&rw), what);
	}
	UNIT_OK(&u, file_same(), "B1/B2: the image is unchanged");
}

static void test_b3(void)
{
	const uint32_t types[] = { 0xdeadbeef, 2, 0x80000000u, VF_BLK_OUT | 0x80000000u, 5, 0xffffffffu };

	up(&rw, false, ~0ull);
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct vf_blk rq;
		char what[100];

		snprintf(what, sizeof(what), "B3: request type %#x: UNSUPP, USED published", types[i]);
		UNIT_OK(&u, req(&rw, types[i], 0, 512, &rq) == S_UNSUPP && rw.last_len == 1 &&
		    all_bytes(rq.data, 512, 0x77), what);
	}
	up(&rw, false, ~(F_DISCARD | F_WRITE_ZEROES));
	{
		struct vf_blk rq;

		UNIT_OK(&u, req(&rw, VF_BLK_DISCARD, 0, 16, &rq) == S_UNSUPP,
		    "B3: DISCARD not negotiated: UNSUPP");
		UNIT_OK(&u, req(&rw, VF_BLK_WRITE_ZEROES, 0, 16, &rq) == S_UNSUPP,
		    "B3: WRITE_ZEROES not negotiated: UNSUPP");
	}
	UNIT_OK(&u, file_same(), "B3: the image is unchanged");
}

/* get_id: a GET_ID with a writable buffer of `len` bytes (0x77-filled); returns the status. */
static int get_id(struct dev *d, uint32_t len, struct vf_blk *rq)
{
	return req(d, VF_BLK_GET_ID, 0, len, rq);
}

static void test_b4(void)
{
	static const char serial[] = "vblk-serial";
	struct vf_blk rq;
	struct vf_seg s[3];
	uint64_t id_buf, st;
	bool ok;

	up(&rw, false, ~0ull);
	UNIT_OK(&u, get_id(&rw, 0, &rq) == S_IOERR, "B4: GET_ID with no buffer: IOERR");
	UNIT_OK(&u, get_id(&rw, 1, &rq) == S_OK && rw.last_len == 2 && *at(rq.data, 1) == 'v',
	    "B4: GET_ID into 1 byte writes 1 byte");
	ok = get_id(&rw, 19, &rq) == S_OK && rw.last_len == 20 &&
	    !memcmp(at(rq.data, 11), serial, 11) && all_bytes(rq.data + 11, 8, 0);
	UNIT_OK(&u, ok, "B4: GET_ID into 19 bytes: serial, NUL padded");
	ok = get_id(&rw, 20, &rq) == S_OK && rw.last_len == 21 && !memcmp(at(rq.data, 11), serial, 11) &&
	    all_bytes(rq.data + 11, 9, 0);
	UNIT_OK(&u, ok, "B4: GET_ID into 20 bytes: serial, NUL padded to 20");
	ok = get_id(&rw, 4096, &rq) == S_OK && rw.last_len == 21 && all_bytes(rq.data + 20, 4076, 0x77);
	UNIT_OK(&u, ok, "B4: GET_ID into 4096 bytes writes 20, USED len 21");
	id_buf = buf(&rw, 20, 0x77);
	st = buf(&rw, 1, VF_STATUS_UNSET);
	s[0] = (struct vf_seg){ vf_blk_hdr(&rw.r, VF_BLK_GET_ID, 0), 16, false };
	s[1] = (struct vf_seg){ id_buf, 20, false };
	s[2] = (struct vf_seg){ st, 1, true };
	UNIT_OK(&u, chain(&rw, s, 3, st) == S_IOERR && all_bytes(id_buf, 20, 0x77),
	    "B4: GET_ID into a device-readable buffer: IOERR, buffer untouched");
	up(&ro, false, ~0ull);
	ok = get_id(&ro, 20, &rq) == S_OK && !memcmp(at(rq.data, 20), "ABCDEFGHIJKLMNOPQRST", 20);
	UNIT_OK(&u, ok, "B4: a 20-byte serial fills all 20 bytes, no NUL");
}

static void test_b5_m4_r7(void)
{
	struct vf_blk rq;
	struct vf_seg s[4];
	uint64_t h, data, st;

	/* A header split over two descriptors is legal. */
	up(&rw, false, ~0ull);
	h = vf_blk_hdr(&rw.r, VF_BLK_IN, 1);
	data = buf(&rw, 512, 0x77);
	st = buf(&rw, 1, VF_STATUS_UNSET);
	s[0] = (struct vf_seg){ h, 4, false };
	s[1] = (struct vf_seg){ h + 4, 12, false };
	s[2] = (struct vf_seg){ data, 512, true };
	s[3] = (struct vf_seg){ st, 1, true };
	UNIT_OK(&u, chain(&rw, s, 4, st) == S_OK && *at(data, 1) == (uint8_t)(512 * 7 + 3),
	    "B5: header split 4 + 12 over two descriptors works");

	/* Malformed beyond reporting: RESET, nothing published. */
	{
		struct { unsigned n; struct vf_seg s[3]; const char *what; } c[] = {
			{ 2, { { 0, 8, false }, { 1, 1, true } }, "B5: header of 8 bytes: RESET" },
			{ 2, { { 0, 16, false }, { 2, 512, false } }, "B5: no status descriptor (all readable): RESET" },
			{ 3, { { 0, 16, false }, { 2, 512, true }, { 1, 0, true } },
			    "B5: status descriptor of length 0: RESET" },
			{ 2, { { 0, 16, false }, { 1, 0, true } }, "B5: only a zero-length status: RESET" },
			{ 3, { { 0, 16, false }, { 2, 512, false }, { 1, 1, false } },
			    "M4: read-only status byte (OUT): RESET" },
			{ 3, { { 0, 16, false }, { 2, 512, true }, { 1, 1, false } },
			    "M4: read-only status after writable data: RESET" },
		};

		for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			uint32_t type = c[i].s[1].addr == 2 && c[i].s[1].write ? VF_BLK_IN : VF_BLK_OUT;

			up(&rw, false, ~0ull);
			file_snap(file0);
			h = vf_blk_hdr(&rw.r, type, 0);
			data = buf(&rw, 512, 0x77);
			st = buf(&rw, 1, VF_STATUS_UNSET);
			for (unsigned j = 0; j < c[i].n; j++)
				c[i].s[j].addr = c[i].s[j].addr == 0 ? h : c[i].s[j].addr == 1 ? st : data;
			UNIT_OK(&u, chain(&rw, c[i].s, c[i].n, st) == NO_USED && needs_reset(&rw) &&
			    *at(st, 1) == VF_STATUS_UNSET && all_bytes(data, 512, 0x77) && file_same(),
			    c[i].what);
		}
	}

	/* Direction mismatches inside a well-formed chain: ERR, readable buffers untouched. */
	up(&rw, false, ~0ull);
	file_snap(file0);
	h = vf_blk_hdr(&rw.r, VF_BLK_IN, 0);
	data = buf(&rw, 512, 0x77);
	st = buf(&rw, 1, VF_STATUS_UNSET);
	s[0] = (struct vf_seg){ h, 16, false };
	s[1] = (struct vf_seg){ data, 512, false };
	s[2] = (struct vf_seg){ st, 1, true };
	UNIT_OK(&u, chain(&rw, s, 3, st) == S_IOERR && all_bytes(data, 512, 0x77),
	    "M4: read (IN) into a device-readable buffer: IOERR, buffer untouched");
	h = vf_blk_hdr(&rw.r, VF_BLK_OUT, 0);
	data = buf(&rw, 512, 0x77);
	st = buf(&rw, 1, VF_STATUS_UNSET);
	s[0] = (struct vf_seg){ h, 16, false };
	s[1] = (struct vf_seg){ data, 512, true };
	s[2] = (struct vf_seg){ st, 1, true };
	UNIT_OK(&u, chain(&rw, s, 3, st) == S_IOERR && all_bytes(data, 512, 0x77) && file_same(),
	    "M4: write (OUT) from a device-writable buffer: IOERR, nothing written");

	/* R7 at the device: a zero-length data segment inside a request. */
	h = vf_blk_hdr(&rw.r, VF_BLK_IN, 1);
	data = buf(&rw, 512, 0x77);
	st = buf(&rw, 1, VF_STATUS_UNSET);
	s[0] = (struct vf_seg){ h, 16, false };
	s[1] = (struct vf_seg){ data, 0, true };
	s[2] = (struct vf_seg){ data, 512, true };
	s[3] = (struct vf_seg){ st, 1, true };
	UNIT_OK(&u, chain(&rw, s, 4, st) == S_IOERR && !needs_reset(&rw),
	    "R7: a zero-length data segment in a blk request: ERR (IOERR)");
	UNIT_OK(&u, !needs_reset(&rw) && req(&rw, VF_BLK_IN, 0, 512, &rq) == S_OK,
	    "M4/R7: the device keeps working after ERR requests");
}

static void test_b6(void)
{
	struct vf_blk rq;
	uint64_t feat;

	feat = up(&ro, false, ~0ull);
	file_snap(file0);
	UNIT_OK(&u, (feat & F_RO) && !(feat & (F_DISCARD | F_WRITE_ZEROES)),
	    "B6: read-only disk offers RO and neither DISCARD nor WRITE_ZEROES");
	UNIT_OK(&u, (fcntl(ro.b->disk.img.fd, F_GETFL) & O_ACCMODE) == O_RDONLY,
	    "B6: the read-only image is opened O_RDONLY");
	UNIT_OK(&u, req(&ro, VF_BLK_OUT, 0, 512, &rq) == S_IOERR, "B6: write on a read-only disk: IOERR");
	UNIT_OK(&u, req(&ro, VF_BLK_DISCARD, 0, 16, &rq) >= S_IOERR &&
	    req(&ro, VF_BLK_WRITE_ZEROES, 0, 16, &rq) >= S_IOERR, "B6: discard/write-zeroes on a read-only disk: ERR");
	UNIT_OK(&u, file_same(), "B6: not a byte written");
	UNIT_OK(&u, req(&ro, VF_BLK_IN, 2, 512, &rq) == S_OK && *at(rq.data, 1) == (uint8_t)(1024 * 7 + 3),
	    "B6: reads work on a read-only disk");
}

static void test_b7(void)
{
	struct vf_blk rq;
	uint8_t back[512];
	uint64_t feat = up(&rw, false, ~0ull);

	UNIT_OK(&u, feat & F_FLUSH, "B7: VIRTIO_BLK_F_FLUSH is offered");
	UNIT_OK(&u, req(&rw, VF_BLK_FLUSH, 12345, 0, &rq) == S_OK && rw.last_len == 1,
	    "B7: FLUSH with a nonzero sector completes OK");
	vf_blk_req(&rw.r, VF_BLK_OUT, 7, 512, 0x3c, &rq);
	vf_blk_req(&rw.r, VF_BLK_FLUSH, 0, 0, 0, &rq);
	kick(&rw);
	{
		uint32_t id, len;
		int n = 0;

		while (vf_used_next(&rw.r, &id, &len))
			n++;
		UNIT_OK(&u, n == 2 && *at(rq.status, 1) == S_OK && pread(file_fd, back, 512, 7 * 512) == 512 &&
		    back[0] == 0x3c && back[511] == 0x3c, "B7: write then FLUSH: both OK, data in the image");
	}
}

/*
 * F-2 for virtio-blk: a malformed request in the middle of a batch puts the
 * device in NEEDS_RESET; the requests after it in the ring are not started
 * (their data never reaches the image) and nothing more is published, not
 * even the completion of the write before it, which finishes in the host.
 */
static void test_f2(void)
{
	struct vf_blk rq;
	struct vf_seg s[2];
	uint8_t back[512];
	uint64_t h;
	uint32_t id, len;
	int n = 0;

	up(&rw, false, ~0ull);
	vf_blk_req(&rw.r, VF_BLK_OUT, 20, 512, 0x5a, &rq);
	h = vf_blk_hdr(&rw.r, VF_BLK_IN, 0);
	s[0] = (struct vf_seg){ h, 8, false };		/* header cut short: RESET */
	s[1] = (struct vf_seg){ h + 8, 1, true };
	vf_chain(&rw.r, s, 2);
	vf_blk_req(&rw.r, VF_BLK_OUT, 21, 512, 0xa5, &rq);
	kick(&rw);
	while (vf_used_next(&rw.r, &id, &len))
		n++;
	UNIT_OK(&u, needs_reset(&rw) && n == 0,
	    "F-2: a fault mid-batch: NEEDS_RESET, no used entry after it (none at all)");
	UNIT_OK(&u, pread(file_fd, back, 512, 21 * 512) == 512 && back[0] != 0xa5,
	    "F-2: the request after the fault is never started");
	kick(&rw);
	while (vf_used_next(&rw.r, &id, &len))
		n++;
	UNIT_OK(&u, n == 0, "F-2: a kick after the fault publishes nothing");
	up(&rw, false, ~0ull);
	UNIT_OK(&u, req(&rw, VF_BLK_FLUSH, 0, 0, &rq) == S_OK, "F-2: after a reset the device works again");
}

/* range: a discard/write-zeroes segment. */
static uint64_t range(struct dev *d, uint64_t sector, uint32_t num, uint32_t flags)
{
	uint64_t r = buf(d, 16, 0);

	vf_put64(&v.vm.mem, r, sector);
	vf_put32(&v.vm.mem, r + 8, num);
	vf_put32(&v.vm.mem, r + 12, flags);
	return r;
}

/* dwz_on: a DISCARD or WRITE_ZEROES on device `d` with `n` ranges of `rlen` bytes each. */
static int dwz_on(struct dev *d, uint32_t type, uint64_t sector, uint32_t num, uint32_t flags,
    unsigned n, uint32_t rlen)
{
	struct vf_seg s[4];
	uint64_t st;

	s[0] = (struct vf_seg){ vf_blk_hdr(&d->r, type, 0), 16, false };
	for (unsigned i = 0; i < n; i++)
		s[1 + i] = (struct vf_seg){ range(d, sector, num, flags), rlen, false };
	st = buf(d, 1, VF_STATUS_UNSET);
	s[1 + n] = (struct vf_seg){ st, 1, true };
	return chain(d, s, n + 2, st);
}

/* dwz: dwz_on the read-write device. */
static int dwz(uint32_t type, uint64_t sector, uint32_t num, uint32_t flags, unsigned n, uint32_t rlen)
{
	return dwz_on(&rw, type, sector, num, flags, n, rlen);
}

static void test_b8(void)
{
	uint8_t back[1024];
	uint64_t feat = up(&rw, false, ~0ull);
	int r;

	UNIT_OK(&u, (feat & F_DISCARD) && (feat & F_WRITE_ZEROES), "B8: DISCARD and WRITE_ZEROES offered");
	file_snap(file0);
	UNIT_OK(&u, dwz(VF_BLK_DISCARD, 0, 1, 1, 1, 16) == S_UNSUPP, "B8: DISCARD with the unmap flag: UNSUPP");
	UNIT_OK(&u, dwz(VF_BLK_DISCARD, 0, 1, 4, 1, 16) == S_UNSUPP, "B8: DISCARD with unknown flags: UNSUPP");
	UNIT_OK(&u, dwz(VF_BLK_WRITE_ZEROES, 0, 1, 2, 1, 16) == S_UNSUPP,
	    "B8: WRITE_ZEROES with unknown flags: UNSUPP");
	UNIT_OK(&u, dwz(VF_BLK_DISCARD, SECTORS - 1, 2, 0, 1, 16) == S_IOERR &&
	    dwz(VF_BLK_WRITE_ZEROES, UINT64_MAX - 1, 4, 0, 1, 16) == S_IOERR,
	    "B8: range past capacity (and wrapping): IOERR");
	UNIT_OK(&u, dwz(VF_BLK_DISCARD, 0, 0, 0, 1, 16) == S_IOERR, "B8: zero sectors: IOERR");
	r = dwz(VF_BLK_DISCARD, 0, 1, 0, 2, 16);
	UNIT_OK(&u, r == S_IOERR || r == S_UNSUPP, "B8: two segments (max_discard_seg is 1): ERR");
	UNIT_OK(&u, file_same() && !needs_reset(&rw), "B8: the image is unchanged by refused ranges");
	r = dwz(VF_BLK_WRITE_ZEROES, 0, 1, 0, 1, 8);
	UNIT_OK(&u, r == NO_USED && needs_reset(&rw) && file_same(),
	    "B8: WRITE_ZEROES range header of 8 bytes: RESET");
	up(&rw, false, ~0ull);
	UNIT_OK(&u, dwz(VF_BLK_WRITE_ZEROES, 4, 2, 1, 1, 16) == S_OK && pread(file_fd, back, 1024, 2048) == 1024 &&
	    back[0] == 0 && back[1023] == 0, "B8: WRITE_ZEROES with unmap: OK, range reads zeros");
	UNIT_OK(&u, dwz(VF_BLK_DISCARD, 8, 8, 0, 1, 16) == S_OK, "B8: DISCARD of 8 sectors: OK");
}

/* test_b9: a full queue of requests; only the in-flight cap is taken, no allocation. */
static void test_b9(bool packed)
{
	struct vf_blk rq;
	struct vf_seg s[3];
	size_t heap0;
	unsigned n = VBLK_QUEUE_SIZE, ok = 0;
	uint32_t id, len;
	char what[120];

	up(&rw, packed, ~0ull);
	for (unsigned i = 0; i < n; i++) {
		uint64_t table = buf(&rw, 48, 0);

		rq.hdr = vf_blk_hdr(&rw.r, VF_BLK_IN, i);
		rq.data = buf(&rw, 512, 0x77);
		rq.status = buf(&rw, 1, VF_STATUS_UNSET);
		s[0] = (struct vf_seg){ rq.hdr, 16, false };
		s[1] = (struct vf_seg){ rq.data, 512, true };
		s[2] = (struct vf_seg){ rq.status, 1, true };
		vf_chain_indirect(&rw.r, table, s, 3, 0);
	}
	heap0 = mallinfo2().uordblks;
	vstub_bar_write(rw.vp, VS_NOTIFY, 0, 2);	/* the kick, without running completions */
	snprintf(what, sizeof(what), "B9 %s: %u requests queued: exactly %u popped, the rest left in the ring",
	    packed ? "packed" : "split", n, VBLK_INFLIGHT);
	UNIT_OK(&u, rw.b->inflight == VBLK_INFLIGHT && rw.b->throttled &&
	    (packed ? rw.vp->vq[0].next_avail == VBLK_INFLIGHT : rw.vp->vq[0].last_avail == VBLK_INFLIGHT), what);
	snprintf(what, sizeof(what), "B9 %s: no host allocation per request", packed ? "packed" : "split");
	UNIT_OK(&u, mallinfo2().uordblks == heap0, what);
	vstub_run(&v);
	while (vf_used_next(&rw.r, &id, &len))
		ok += len == 513;
	snprintf(what, sizeof(what), "B9 %s: all %u complete as slots free up", packed ? "packed" : "split", n);
	UNIT_OK(&u, ok == n && rw.b->inflight == 0 && !needs_reset(&rw), what);
}

static void test_b10(void)
{
	struct vf_blk rq;

	up(&rw, false, ~0ull);
	if (ftruncate(file_fd, DISK_LEN / 2)) {
		UNIT_OK(&u, 0, "B10: cannot truncate the image");
		return;
	}
	UNIT_OK(&u, req(&rw, VF_BLK_IN, SECTORS - 8, 512, &rq) == S_IOERR && rw.last_len == 1,
	    "B10: read past the end of an image truncated under the device: IOERR");
	UNIT_OK(&u, req(&rw, VF_BLK_IN, SECTORS / 2 - 1, 1024, &rq) == S_IOERR,
	    "B10: read across the new end (short read): IOERR, not zeros");
	UNIT_OK(&u, req(&rw, VF_BLK_IN, 100, 512, &rq) == S_OK && *at(rq.data, 1) == (uint8_t)(100 * 512 * 7 + 3),
	    "B10: reads inside the image still work");
	if (ftruncate(file_fd, DISK_LEN)) {
		UNIT_OK(&u, 0, "B10: cannot restore the image");
		return;
	}
	UNIT_OK(&u, req(&rw, VF_BLK_IN, SECTORS - 8, 512, &rq) == S_OK && !needs_reset(&rw),
	    "B10: the device keeps working once the image is back");
}

/* test_s1: kicks with an empty ring: nothing popped, written, allocated, logged or signalled. */
static void test_s1(bool event_idx, bool packed)
{
	static uint8_t snap[0xa000];
	unsigned long irqs;
	size_t heap0;
	unsigned lines;
	char what[120];

	up(&rw, packed, event_idx ? ~0ull : ~F_EVENT_IDX);
	/* With EVENT_IDX a packed Linux driver asks by descriptor position. */
	if (packed && event_idx)
		vf_pdriver_event(&rw.r, 0x8000, 2);
	/* MSI-X as Linux sets it up: queue 0 on vector 0, unmasked. */
	vstub_bar_write(rw.vp, VS_QSELECT, 0, 2);
	vstub_bar_write(rw.vp, VS_QMSIX, 0, 2);
	pci_cfg_write(&rw.vp->pci, rw.vp->msix.cap + 2u, 0x8000, 2);
	vstub_bar_write(rw.vp, VS_MSIX_TABLE, 0xfee00000u, 4);
	vstub_bar_write(rw.vp, VS_MSIX_TABLE + 8, 0x41, 4);
	vstub_bar_write(rw.vp, VS_MSIX_TABLE + 12, 0, 4);
	kick(&rw);
	memcpy(snap, at(0, sizeof(snap)), sizeof(snap));
	irqs = vstub_irq.intx_edges + vstub_irq.msi_total;
	heap0 = mallinfo2().uordblks;
	vf_stderr_begin();
	for (int i = 0; i < 100000; i++)
		vstub_bar_write(rw.vp, VS_NOTIFY, 0, 2);
	vstub_run(&v);
	lines = vf_stderr_end(NULL, 0);
	snprintf(what, sizeof(what), "S1 (%s, %s): 100 000 kicks on an empty ring: no pop, no guest write, "
	    "no allocation, no log", packed ? "packed" : "split", event_idx ? "EVENT_IDX" : "no EVENT_IDX");
	UNIT_OK(&u, rw.vp->vq[0].last_avail == 0 && rw.vp->vq[0].next_avail == 0 && !memcmp(snap, at(0, sizeof(snap)), sizeof(snap)) &&
	    mallinfo2().uordblks == heap0 && lines == 0, what);
	snprintf(what, sizeof(what), "S1 (%s, %s): kicks on an empty ring raise no interrupt",
	    packed ? "packed" : "split", event_idx ? "EVENT_IDX" : "no EVENT_IDX");
	UNIT_OK(&u, vstub_irq.intx_edges + vstub_irq.msi_total == irqs, what);
	if (vstub_irq.intx_edges + vstub_irq.msi_total != irqs)
		printf("# %lu MSI-X interrupts for 100 000 empty kicks\n",
		    vstub_irq.intx_edges + vstub_irq.msi_total - irqs);
	pci_cfg_write(&rw.vp->pci, rw.vp->msix.cap + 2u, 0, 2);
}

/* test_s2: the same bad request over and over: counted, logged at most once. */
static void test_s2(void)
{
	unsigned long ioerr0 = s2.b->ioerr, faults0 = s2.vp->faults;
	unsigned lines, n_err = 0, n_reset = 0;
	const unsigned rounds = 1000000;
	struct vf_blk rq;
	char last[256];

	up(&s2, false, ~0ull);
	vf_stderr_begin();
	for (unsigned i = 0; i < rounds / 64; i++) {
		for (int j = 0; j < 64; j++)
			vf_blk_req(&s2.r, VF_BLK_IN, SECTORS, 512, 0x77, &rq);
		kick(&s2);
	}
	n_err = (unsigned)vf_used_idx(&s2.r);
	lines = vf_stderr_end(last, sizeof(last));
	UNIT_OK(&u, lines == 0 && s2.b->ioerr - ioerr0 == rounds / 64 * 64 && !needs_reset(&s2),
	    "S2: 1 000 000 out-of-range reads: all IOERR, counted, nothing logged");
	(void)n_err;

	/*
	 * O-3: one line per fault episode. A fault, a reset (a new driver
	 * instance), another fault: two lines, each naming its own cause.
	 * (The site's rate window is started afresh for this check.)
	 */
	s2.vp->fault.lines = 0;
	s2.vp->fault.held = 0;
	vf_stderr_begin();
	{
		struct vf_seg s[2];
		uint64_t h;

		up(&s2, false, ~0ull);
		h = vf_blk_hdr(&s2.r, VF_BLK_IN, 0);
		s[0] = (struct vf_seg){ h, 8, false };
		s[1] = (struct vf_seg){ h + 8, 1, true };
		vf_chain(&s2.r, s, 2);
		kick(&s2);
		n_reset = needs_reset(&s2);
		up(&s2, false, ~0ull);
		h = vf_blk_hdr(&s2.r, VF_BLK_IN, 0);
		s[0] = (struct vf_seg){ h, 16, false };
		s[1] = (struct vf_seg){ h + 16, 1, false };	/* status byte not writable */
		vf_chain(&s2.r, s, 2);
		kick(&s2);
		n_reset += needs_reset(&s2);
	}
	{
		char both[1024];
		unsigned nl = vf_stderr_end(both, sizeof(both));

		UNIT_OK(&u, n_reset == 2 && nl == 2 && strstr(both, "without a writable status byte"),
		    "O-3: fault, reset, fault: two lines, the second naming its own cause");
		if (nl != 2)
			printf("# %u lines, last: %s", nl, both);
	}
	n_reset = 0;

	vf_stderr_begin();
	for (unsigned i = 0; i < 10000; i++) {
		struct vf_seg s[2];
		uint64_t h;

		up(&s2, i & 1, ~0ull);
		h = vf_blk_hdr(&s2.r, VF_BLK_IN, 0);
		s[0] = (struct vf_seg){ h, 8, false };
		s[1] = (struct vf_seg){ h + 8, 1, true };
		vf_chain(&s2.r, s, 2);
		kick(&s2);
		n_reset += needs_reset(&s2);
	}
	lines = vf_stderr_end(last, sizeof(last));
	/* Each episode may log, but the site's rate limit holds a reset storm to a few lines. */
	UNIT_OK(&u, n_reset == 10000 && s2.vp->faults - faults0 == 10002 && lines <= LOG_GUEST_BURST,
	    "S2: 10 000 short-header RESET episodes: all counted, at most LOG_GUEST_BURST lines");
	if (lines > LOG_GUEST_BURST)
		printf("# %u lines, last: %s", lines, last);
}

/* test_x2: a mix of good, ERR and UNSUPP requests: every chain published, ring in sync. */
static void test_x2(bool packed)
{
	static const uint32_t types[] = { VF_BLK_IN, VF_BLK_OUT, VF_BLK_FLUSH, VF_BLK_GET_ID, 0x77, 2 };
	unsigned sent = 0, used = 0, bad_status = 0;
	uint32_t id, len;
	char what[100];

	up(&rw, packed, ~0ull);
	for (unsigned round = 0; round < 20; round++) {
		for (unsigned i = 0; i < 30; i++) {
			struct vf_blk rq;
			unsigned k = (round * 7 + i * 3) % 6;
			uint64_t sector = (i % 5 == 0) ? SECTORS + i : i;	/* some past the end */
			uint32_t dlen = types[k] == VF_BLK_FLUSH ? 0 : (i % 7 == 0 ? 500 : 512);

			vf_blk_req(&rw.r, types[k], sector, dlen, 0x11, &rq);
			sent++;
		}
		kick(&rw);
		while (vf_used_next(&rw.r, &id, &len)) {
			used++;
			bad_status += len == 0;
		}
	}
	snprintf(what, sizeof(what), "X2 %s: 600 mixed requests, 600 USED entries, no RESET",
	    packed ? "packed" : "split");
	UNIT_OK(&u, used == sent && bad_status == 0 && !needs_reset(&rw) &&
	    (packed || vf_used_idx(&rw.r) == (uint16_t)sent), what);
}

/* test_uring: the default engine, when this kernel lets us have an io_uring. */
static void test_uring(void)
{
	struct io_uring probe;
	struct dev ur = { .desc = 0xa000, .drv = 0xb000, .dev = 0xc000, .heap = 0xf0000, .heap_len = 0x10000 };
	struct vf_blk w, f, r;
	char spec[512];
	uint32_t id, len;
	int n = 0;

	if (io_uring_queue_init(4, &probe, 0) < 0) {
		printf("ok - vblk: B7 io_uring engine: io_uring unavailable here, skipped\n");
		return;
	}
	io_uring_queue_exit(&probe);
	snprintf(spec, sizeof(spec), "%s,aio=uring", path);
	ur.b = vstub_blk_add(&v, spec);
	if (!ur.b) {
		UNIT_OK(&u, 0, "B7 io_uring engine: device created");
		return;
	}
	ur.vp = ur.b->vp;
	up(&ur, false, ~0ull);
	vf_blk_req(&ur.r, VF_BLK_OUT, 20, 4096, 0x5e, &w);
	vf_blk_req(&ur.r, VF_BLK_FLUSH, 0, 0, 0, &f);
	kick(&ur);
	for (int i = 0; i < 2000 && n < 2; i++) {
		vstub_run(&v);
		while (vf_used_next(&ur.r, &id, &len))
			n++;
		if (n < 2)
			usleep(1000);
	}
	vf_blk_req(&ur.r, VF_BLK_IN, 20, 4096, 0, &r);
	kick(&ur);
	for (int i = 0; i < 2000 && n < 3; i++) {
		vstub_run(&v);
		while (vf_used_next(&ur.r, &id, &len))
			n++;
		if (n < 3)
			usleep(1000);
	}
	UNIT_OK(&u, n == 3 && *at(w.status, 1) == S_OK && *at(f.status, 1) == S_OK && *at(r.status, 1) == S_OK &&
	    all_bytes(r.data, 4096, 0x5e), "B7 io_uring engine: write, flush, read back complete OK");
	vstub_blk_remove(&v, ur.b);
}

static struct vblk *add(const char *opts);

/* image_at: guest bytes at `gpa` are the image's (as file0 holds it) at `off`. */
static bool image_at(uint64_t gpa, uint64_t off, uint32_t len)
{
	return !memcmp(at(gpa, len), file0 + off, len);
}

/*
 * test_snapshot: a snapshot disk through the device (disk_cow.c has the
 * thorough tests): offered as writable with discard and write-zeroes; a
 * write, write-zeroes and a discard read back over the base's bytes, and
 * the image does not change.
 */
static void test_snapshot(void)
{
	struct dev sn = { .desc = 0xa000, .drv = 0xb000, .dev = 0xc000, .heap = 0xf0000, .heap_len = 0x10000 };
	struct vf_blk w, r;
	uint64_t feat;

	sn.b = add(",snapshot");
	if (!sn.b) {
		UNIT_OK(&u, 0, "snapshot: device created");
		return;
	}
	sn.vp = sn.b->vp;
	feat = up(&sn, false, ~0ull);
	file_snap(file0);
	UNIT_OK(&u, !(feat & F_RO) && (feat & F_DISCARD) && (feat & F_WRITE_ZEROES) && (feat & F_FLUSH),
	    "snapshot: offered writable, with DISCARD, WRITE_ZEROES and FLUSH");
	UNIT_OK(&u, (fcntl(sn.b->disk.img.fd, F_GETFL) & O_ACCMODE) == O_RDONLY,
	    "snapshot: the image is opened O_RDONLY");
	UNIT_OK(&u, req(&sn, VF_BLK_OUT, 3, 512, &w) == S_OK, "snapshot: a one-sector write: OK");
	UNIT_OK(&u, dwz_on(&sn, VF_BLK_WRITE_ZEROES, 1, 2, 1, 1, 16) == S_OK &&
	    dwz_on(&sn, VF_BLK_DISCARD, 8, 8, 0, 1, 16) == S_OK, "snapshot: write-zeroes and discard: OK");
	UNIT_OK(&u, req(&sn, VF_BLK_FLUSH, 0, 0, &w) == S_OK, "snapshot: flush: OK");
	UNIT_OK(&u, req(&sn, VF_BLK_IN, 0, 8192 + 512, &r) == S_OK && image_at(r.data, 0, 512) &&
	    all_bytes(r.data + 512, 1024, 0) && all_bytes(r.data + 1536, 512, 0x77) &&
	    image_at(r.data + 2048, 2048, 2048) && all_bytes(r.data + 4096, 4096, 0) &&
	    image_at(r.data + 8192, 8192, 512),
	    "snapshot: the guest reads its write, its zeros, and the base between them");
	UNIT_OK(&u, file_same(), "snapshot: the image is unchanged");
	vstub_blk_remove(&v, sn.b);
}

static struct vblk *add(const char *opts)
{
	char spec[512];

	snprintf(spec, sizeof(spec), "%s,aio=sync%s", path, opts);
	return vstub_blk_add(&v, spec);
}

int main(void)
{
	int r;

	if ((file_fd = r = vf_tmpdisk(path, sizeof(path), DISK_LEN)) < 0 ||
	    (r = vstub_vm_init(&v, R0_LEN, HOLE, R1_LEN))) {
		printf("not ok - vblk: setup failed: %s\n", strerror(-r));
		return 1;
	}
	rw.b = add(",serial=vblk-serial");
	ro.b = add(",ro,serial=ABCDEFGHIJKLMNOPQRST");
	s2.b = add("");
	if (file_fd < 0 || !rw.b || !ro.b || !s2.b) {
		printf("not ok - vblk: cannot create the devices\n");
		return 1;
	}
	rw.vp = rw.b->vp;
	ro.vp = ro.b->vp;
	s2.vp = s2.b->vp;
	vf_stderr_begin();
	test_b1_b2();
	test_b3();
	test_b4();
	test_b5_m4_r7();
	test_b6();
	test_b7();
	test_f2();
	test_b8();
	test_b9(false);
	test_b9(true);
	test_b10();
	test_x2(false);
	test_x2(true);
	r = (int)vf_stderr_end(NULL, 0);
	UNIT_OK(&u, r <= 3 * LOG_GUEST_BURST,
	    "S2: the RESETs above logged within the rate limit of each device");
	test_s1(true, false);
	test_s1(false, false);
	test_s1(true, true);
	test_s1(false, true);
	test_s2();
	test_uring();
	test_snapshot();
	vstub_vm_fini(&v);
	close(file_fd);
	printf("# vblk: %u passed, %u failed\n", u.pass, u.fail);
	return unit_done(&u);
}
