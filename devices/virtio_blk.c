/*
 * virtio_blk.c: virtio block device (virtio 1.2, section 5.2) over a raw
 * image, with asynchronous I/O straight between the file and guest memory.
 *
 * Malformed rings (what the walker reports) put the device in
 * DEVICE_NEEDS_RESET. Inside a well-formed chain, a request that cannot be
 * reported (no header, no writable status byte) does too; every other bad
 * request completes with IOERR or UNSUPP and is published as used
 * (HOSTILE.md 2d). At most VBLK_INFLIGHT requests are in flight; the rest
 * wait in the ring, unpopped, costing the host nothing (B9).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "device.h"
#include "log.h"
#include "loop.h"
#include "virtio_blk.h"
#include "vm.h"

#define SECTOR 512ull

/* The driver's request header (virtio_blk_outhdr). */
struct vblk_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

/* One DISCARD / WRITE_ZEROES range (virtio_blk_discard_write_zeroes). */
struct vblk_range {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

int vblk_parse_spec(const char *s, struct vblk_spec *spec, char *err, size_t errlen)
{
	const char *comma = strchr(s, ','), *p;
	size_t plen = comma ? (size_t)(comma - s) : strlen(s);

	memset(spec, 0, sizeof(*spec));
	spec->engine = DISK_URING;
	if (plen == 0 || plen >= sizeof(spec->path)) {
		snprintf(err, errlen, "disk '%s': no image path", s);
		return -1;
	}
	memcpy(spec->path, s, plen);
	for (p = comma; p && *p; ) {
		const char *opt = p + 1, *end = strchr(opt, ',');
		size_t n = end ? (size_t)(end - opt) : strlen(opt);

		if (n == 2 && !strncmp(opt, "ro", 2)) {
			spec->ro = true;
		} else if (n == 8 && !strncmp(opt, "snapshot", n)) {
			spec->snapshot = true;
		} else if (n == 10 && !strncmp(opt, "ring=split", n)) {
			spec->split_only = true;
		} else if (n == 11 && !strncmp(opt, "ring=packed", n)) {
			spec->split_only = false;
		} else if (n == 9 && !strncmp(opt, "aio=uring", n)) {
			spec->engine = DISK_URING;
		} else if (n == 8 && !strncmp(opt, "aio=sync", n)) {
			spec->engine = DISK_SYNC;
		} else if (n > 7 && !strncmp(opt, "serial=", 7)) {
			if (n - 7 > VBLK_ID_BYTES) {
				snprintf(err, errlen, "disk '%s': serial longer than %d bytes", s,
				    VBLK_ID_BYTES);
				return -1;
			}
			memcpy(spec->serial, opt + 7, n - 7);
		} else {
			snprintf(err, errlen, "disk '%s': unknown option '%.*s'", s, (int)n, opt);
			return -1;
		}
		p = end;
	}
	/* The guest sees a read-only disk, or a writable one: not both. */
	if (spec->ro && spec->snapshot) {
		snprintf(err, errlen, "disk '%s': ro and snapshot exclude each other (a snapshot "
		    "disk is writable; its image is never written either way)", s);
		return -1;
	}
	return 0;
}

/* vblk_mode: how the disk layer opens the spec's image. */
static enum disk_mode vblk_mode(const struct vblk_spec *spec)
{
	return spec->snapshot ? DISK_SNAPSHOT : spec->ro ? DISK_RO : DISK_RW;
}

/*
 * vblk_status_byte: host address of the last byte of the chain's last
 * descriptor, which must be writable; NULL when it is not or is empty (B5).
 * Looking further back would write the status into the data.
 */
static uint8_t *vblk_status_byte(const struct virtq_chain *c)
{
	const struct iovec *v;

	if (c->nseg == 0 || c->nseg == c->nread)
		return NULL;
	v = &c->seg[c->nseg - 1].iov;
	return v->iov_len ? (uint8_t *)v->iov_base + v->iov_len - 1 : NULL;
}

/* vblk_has_empty_segment: whether any descriptor has length 0 (R7: ERR, never a silent skip). */
static bool vblk_has_empty_segment(const struct virtq_chain *c)
{
	for (unsigned i = 0; i < c->nseg; i++)
		if (c->seg[i].iov.iov_len == 0)
			return true;
	return false;
}

/*
 * vblk_slice: the iovecs for bytes [off, off + len) of the readable
 * (write == false) or writable segments, into `iov`. Returns the count, or
 * -1 when more than VBLK_SEG_MAX segments or a segment over SIZE_MAX would
 * be needed.
 */
static int vblk_slice(const struct virtq_chain *c, bool write, uint64_t off, uint64_t len,
    struct iovec *iov)
{
	unsigned first = write ? c->nread : 0, last = write ? c->nseg : c->nread;
	int n = 0;

	for (unsigned i = first; i < last && len; i++) {
		uint64_t seglen = c->seg[i].iov.iov_len, take;

		if (off >= seglen) {
			off -= seglen;
			continue;
		}
		take = seglen - off < len ? seglen - off : len;
		if (n == VBLK_SEG_MAX || take > VBLK_SIZE_MAX)
			return -1;
		iov[n].iov_base = (uint8_t *)c->seg[i].iov.iov_base + off;
		iov[n].iov_len = take;
		n++;
		len -= take;
		off = 0;
	}
	return n;
}

/* vblk_range_ok: sectors [sector, sector + count) inside the disk, with checked arithmetic (B1). */
static bool vblk_range_ok(const struct vblk *b, uint64_t sector, uint64_t count)
{
	uint64_t end;

	return !__builtin_add_overflow(sector, count, &end) && end <= b->capacity;
}

/* vblk_finish_now: complete a request that needs no I/O. */
static void vblk_finish_now(struct vblk *b, struct virtq *vq, const struct virtq_chain *c,
    uint8_t *status, uint8_t s, uint32_t written)
{
	if (s == VIRTIO_BLK_S_IOERR)
		b->ioerr++;
	else if (s == VIRTIO_BLK_S_UNSUPP)
		b->unsupp++;
	*status = s;
	virtq_push(vq, &c->tok, s == VIRTIO_BLK_S_OK ? written + 1 : 1);
}

static struct vblk_req *vblk_slot(struct vblk *b, unsigned *idx)
{
	for (unsigned i = 0; i < VBLK_INFLIGHT; i++) {
		if (!b->req[i].busy) {
			*idx = i;
			return &b->req[i];
		}
	}
	return NULL;
}

/* What a request handler did: queued I/O, or a status to complete with now. */
#define VBLK_QUEUED (-1)

/*
 * vblk_rw: IN (read into the writable area before the status byte; nothing
 * readable but the header) or OUT (data readable after the header; the
 * status byte the only writable byte). Returns VBLK_QUEUED or IOERR.
 */
static int vblk_rw(struct vblk *b, const struct virtq_chain *c, struct vblk_req *rq,
    unsigned idx, const struct vblk_hdr *h)
{
	bool in = h->type == VIRTIO_BLK_T_IN;
	uint64_t len = in ? c->tok.write_len - 1u : c->read_len - sizeof(*h);
	int r;

	if ((in ? c->read_len != sizeof(*h) : c->tok.write_len != 1 || b->spec.ro) ||
	    len == 0 || len % SECTOR || !vblk_range_ok(b, h->sector, len / SECTOR))
		return VIRTIO_BLK_S_IOERR;
	rq->iovcnt = vblk_slice(c, in, in ? 0 : sizeof(*h), len, rq->iov);
	if (rq->iovcnt < 0)
		return VIRTIO_BLK_S_IOERR;
	rq->written = in ? (uint32_t)len : 0;
	rq->expect = (int64_t)len;
	r = in ? disk_readv(&b->disk, idx, rq->iov, rq->iovcnt, h->sector * SECTOR) :
	    disk_writev(&b->disk, idx, rq->iov, rq->iovcnt, h->sector * SECTOR);
	return r ? VIRTIO_BLK_S_IOERR : VBLK_QUEUED;
}

/* vblk_get_id: write min(len, 20) bytes: the serial, NUL-padded when shorter (B4). */
static int vblk_get_id(struct vblk *b, const struct virtq_chain *c, uint32_t *written)
{
	char id[VBLK_ID_BYTES];
	uint32_t len = c->tok.write_len - 1u;

	if (c->read_len != sizeof(struct vblk_hdr) || len == 0)
		return VIRTIO_BLK_S_IOERR;
	if (len > VBLK_ID_BYTES)
		len = VBLK_ID_BYTES;
	memset(id, 0, sizeof(id));
	memcpy(id, b->spec.serial, strlen(b->spec.serial));
	virtq_copy_to(c, 0, id, len);
	*written = len;
	return VIRTIO_BLK_S_OK;
}

/* vblk_discard_zero: DISCARD or WRITE_ZEROES of one range. Returns VBLK_QUEUED or a status. */
static int vblk_discard_zero(struct vblk *b, const struct virtq_chain *c, unsigned idx,
    const struct vblk_hdr *h)
{
	bool zero = h->type == VIRTIO_BLK_T_WRITE_ZEROES;
	struct vblk_range rg;
	uint64_t off, len;

	if (!(b->negotiated & (1ull << (zero ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD))))
		return VIRTIO_BLK_S_UNSUPP;
	/* One range per request (max_*_seg = 1), and nothing else (B8). */
	if (c->read_len != sizeof(*h) + sizeof(rg) || c->tok.write_len != 1)
		return VIRTIO_BLK_S_IOERR;
	virtq_copy_from(c, sizeof(*h), &rg, sizeof(rg));
	if (zero ? (rg.flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) : rg.flags)
		return VIRTIO_BLK_S_UNSUPP;
	if (b->spec.ro || rg.num_sectors == 0 || !vblk_range_ok(b, rg.sector, rg.num_sectors))
		return VIRTIO_BLK_S_IOERR;
	off = rg.sector * SECTOR;
	len = rg.num_sectors * SECTOR;
	if (zero ? disk_zero(&b->disk, idx, off, len, rg.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) :
	    disk_discard(&b->disk, idx, off, len))
		return VIRTIO_BLK_S_IOERR;	/* the host could not even queue it */
	return VBLK_QUEUED;
}

/* vblk_request: turn one popped chain into I/O, or complete it with a status now. */
static void vblk_request(struct vblk *b, struct virtq *vq, struct virtq_chain *c)
{
	struct vblk_hdr h;
	struct vblk_req *rq;
	uint8_t *status = vblk_status_byte(c);
	uint32_t written = 0;
	unsigned idx;
	int st;

	/* Without a header or a status byte the request cannot even be failed (B5, M4). */
	if (c->read_len < sizeof(h) || !status) {
		virtio_pci_fail(b->vp, c->read_len < sizeof(h) ? "request header shorter than 16 bytes" :
		    "request without a writable status byte");
		return;
	}
	virtq_copy_from(c, 0, &h, sizeof(h));
	/* A discard or write-zeroes range header cut short cannot be read (B8). */
	if ((h.type == VIRTIO_BLK_T_DISCARD || h.type == VIRTIO_BLK_T_WRITE_ZEROES) &&
	    c->read_len < sizeof(h) + sizeof(struct vblk_range)) {
		virtio_pci_fail(b->vp, "discard/write-zeroes range header too short");
		return;
	}
	rq = vblk_slot(b, &idx);	/* cannot fail: vblk_process checked inflight */
	rq->tok = c->tok;
	rq->status = status;
	rq->gen = b->gen;
	rq->written = 0;
	rq->expect = 0;

	if (vblk_has_empty_segment(c))
		st = VIRTIO_BLK_S_IOERR;
	else if (h.type == VIRTIO_BLK_T_IN || h.type == VIRTIO_BLK_T_OUT)
		st = vblk_rw(b, c, rq, idx, &h);
	else if (h.type == VIRTIO_BLK_T_FLUSH)
		st = disk_flush(&b->disk, idx) ? VIRTIO_BLK_S_IOERR : VBLK_QUEUED;
	else if (h.type == VIRTIO_BLK_T_GET_ID)
		st = vblk_get_id(b, c, &written);
	else if (h.type == VIRTIO_BLK_T_DISCARD || h.type == VIRTIO_BLK_T_WRITE_ZEROES)
		st = vblk_discard_zero(b, c, idx, &h);
	else
		st = VIRTIO_BLK_S_UNSUPP;
	if (st != VBLK_QUEUED) {
		vblk_finish_now(b, vq, c, status, (uint8_t)st, written);
		return;
	}
	rq->busy = true;
	b->inflight++;
}

void vblk_process(struct vblk *b)
{
	struct virtq *vq = virtio_pci_queue(b->vp, 0);

	if (!vq)
		return;
	b->throttled = false;
	for (;;) {
		int r;

		if (b->inflight == VBLK_INFLIGHT) {
			b->throttled = true;	/* resumed by the next completion */
			break;
		}
		r = virtq_pop_armed(vq, &b->chain);
		if (r < 0) {
			virtio_pci_fail(b->vp, vq->why);
			break;
		}
		if (r == 0)
			break;
		vblk_request(b, vq, &b->chain);
		if (!virtio_pci_running(b->vp))
			break;
	}
	disk_submit(&b->disk);
	virtio_pci_interrupt(b->vp, 0);
}

void vblk_io_done(void *owner, uint64_t tag, int res)
{
	struct vblk *b = owner;
	struct vblk_req *rq;
	struct virtq *vq;
	uint8_t s;

	if (tag >= VBLK_INFLIGHT || !b->req[tag].busy)
		return;
	rq = &b->req[tag];
	rq->busy = false;
	b->inflight--;
	/* A request from before a reset: its guest memory is no longer ours to touch (F3). */
	if (rq->gen != b->gen) {
		if (b->inflight == 0)
			virtio_pci_reset_done(b->vp);
		return;
	}
	vq = virtio_pci_queue(b->vp, 0);
	if (!vq)
		return;
	/* A short transfer is an error, never silent zeros (B10). */
	s = res == rq->expect ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	if (s != VIRTIO_BLK_S_OK)
		b->ioerr++;
	*rq->status = s;
	virtq_push(vq, &rq->tok, s == VIRTIO_BLK_S_OK ? rq->written + 1 : 1);
}

void vblk_io_drained(void *owner)
{
	struct vblk *b = owner;

	if (b->throttled)
		vblk_process(b);	/* submits and interrupts */
	else
		virtio_pci_interrupt(b->vp, 0);
}

static uint64_t vblk_features(void *dev)
{
	return ((struct vblk *)dev)->features;
}

static int vblk_features_ok(void *dev, uint64_t features)
{
	((struct vblk *)dev)->negotiated = features;
	return 0;
}

static void vblk_config_read(void *dev, uint32_t off, uint8_t *buf, uint32_t len)
{
	struct vblk *b = dev;
	struct virtio_blk_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.capacity = b->capacity;
	cfg.size_max = VBLK_SIZE_MAX;
	cfg.seg_max = VBLK_SEG_MAX;
	cfg.blk_size = SECTOR;
	cfg.num_queues = 1;
	cfg.max_discard_sectors = UINT32_MAX / SECTOR;
	cfg.max_discard_seg = 1;
	cfg.discard_sector_alignment = 8;
	cfg.max_write_zeroes_sectors = UINT32_MAX / SECTOR;
	cfg.max_write_zeroes_seg = 1;
	cfg.write_zeroes_may_unmap = 1;
	memcpy(buf, (uint8_t *)&cfg + off, len);	/* off + len <= config_size, checked by the transport */
}

static void vblk_config_write(void *dev, uint32_t off, const uint8_t *buf, uint32_t len)
{
	(void)dev; (void)off; (void)buf; (void)len;	/* nothing is writable (no CONFIG_WCE) */
}

static void vblk_start(void *dev)
{
	vblk_process(dev);
}

static void vblk_notify(void *dev, unsigned q)
{
	(void)q;
	vblk_process(dev);
}

static bool vblk_reset(void *dev)
{
	struct vblk *b = dev;

	/* In-flight I/O still owns guest memory; status reads 0 once it has ended. */
	b->gen++;
	b->throttled = false;
	b->negotiated = 0;
	return b->inflight == 0;
}

const struct virtio_ops vblk_virtio_ops = {
	.name = "virtio-blk",
	.device_id = 2,
	.pci_class = 0x010000,		/* mass storage, SCSI-class as QEMU presents it */
	.num_queues = 1,
	.queue_max = VBLK_QUEUE_SIZE,
	.config_size = sizeof(struct virtio_blk_config),
	.features = vblk_features,
	.features_ok = vblk_features_ok,
	.config_read = vblk_config_read,
	.config_write = vblk_config_write,
	.start = vblk_start,
	.queue_notify = vblk_notify,
	.reset = vblk_reset,
};

static void vblk_usage(FILE *out)
{
	/* One sub-option per line, as ringvm(1) orders them: adding one is one line. */
	fputs("Disk options (-d PATH,OPTION,...):\n"
	    "  ro                 read-only for the guest\n"
	    "  snapshot           writable; writes go to a throwaway overlay in $TMPDIR\n"
	    "  serial=ID          the disk's serial number (up to 20 bytes)\n"
	    "  ring=split|packed  virtqueue layout offered\n"
	    "  aio=uring|sync     how the host does the I/O\n", out);
}

static const struct device_option vblk_option = {
	.name = "disk", .short_name = 'd', .arg = "SPEC",
	.summary = "virtio disk: PATH[,OPTION...], options below",
	.max = VBLK_MAX_DEVICES, .noun = "disks", .usage = vblk_usage,
};

static int vblk_parse(const char *text, unsigned index, void **conf, char *err, size_t errlen)
{
	struct vblk_spec *spec = calloc(1, sizeof(*spec));

	(void)index;
	if (!spec)
		return -ENOMEM;
	if (vblk_parse_spec(text, spec, err, errlen)) {
		free(spec);
		return -EINVAL;
	}
	*conf = spec;
	return 0;
}

/*
 * vblk_check: the image is one disk_open accepts (opened and closed again:
 * only looked at; a snapshot's overlay too, so a bad TMPDIR is caught here).
 */
static int vblk_check(const void *conf, char *err, size_t errlen)
{
	const struct vblk_spec *spec = conf;
	struct disk d;
	char why[300];
	int r = disk_open(&d, spec->path, vblk_mode(spec), why, sizeof(why));

	if (r) {
		snprintf(err, errlen, "disk '%s' %s", spec->path, why);
		return r;
	}
	disk_release(&d);
	return 0;
}

static int vblk_create(struct vm *vm, const void *conf, void **state, char *err, size_t errlen)
{
	struct vblk *b = calloc(1, sizeof(*b));
	char why[300];
	int r;

	if (!b)
		return -ENOMEM;
	b->spec = *(const struct vblk_spec *)conf;
	r = disk_open(&b->disk, b->spec.path, vblk_mode(&b->spec), why, sizeof(why));
	if (r) {
		snprintf(err, errlen, "disk '%s' %s", b->spec.path, why);
		free(b);
		return r;
	}
	b->vm = vm;
	b->capacity = b->disk.size / SECTOR;
	b->features = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX |
	    1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH;
	if (b->spec.ro)
		b->features |= 1ull << VIRTIO_BLK_F_RO;
	else
		b->features |= 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	r = disk_start(&b->disk, vm->loop->ev, b->spec.engine, VBLK_INFLIGHT, vblk_io_done,
	    vblk_io_drained, b);
	if (r)
		snprintf(err, errlen, "disk '%s': cannot start %s I/O: %s", b->spec.path,
		    b->spec.engine == DISK_URING ? "io_uring" : "synchronous", strerror(-r));
	else if ((r = virtio_pci_create(vm, &vblk_virtio_ops, b, !b->spec.split_only, &b->vp)))
		snprintf(err, errlen, "no room for a PCI device");
	if (r) {
		disk_close(&b->disk);
		free(b);
		return r;
	}
	*state = b;
	return 0;
}

static int vblk_destroy(struct vm *vm, void *state)
{
	struct vblk *b = state;
	int r;

	(void)vm;
	/* Reaps in-flight I/O before guest memory goes, then fdatasync (B7). */
	r = disk_close(&b->disk);
	if (r) {
		/* Rule 10: a broken durability promise never exits 0 (the caller makes it 1). */
		errno = -r;
		log_warn("disk '%s': the final flush failed; what the guest wrote may be lost",
		    b->spec.path);
	}
	virtio_pci_destroy(b->vp);
	free(b);
	return r;
}

/* No describe hook: PCI enumeration finds the device. */
const struct device_ops vblk_ops = {
	.name = "virtio-blk",
	.option = &vblk_option,
	.parse = vblk_parse,
	.check = vblk_check,
	.create = vblk_create,
	.destroy = vblk_destroy,
};
