/* vfake.c: the fake virtio driver and the reference ring walker (see vfake.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfake.h"

int vf_mem_init(struct gmem *gm, uint64_t r0_len, uint64_t hole, uint64_t r1_len)
{
	uint64_t base[2] = { 0, r0_len + hole }, limit[2] = { r0_len, r1_len };

	return gmem_init(gm, r0_len + r1_len, base, limit, r1_len ? 2 : 1);
}

/* vf_range: the region holding all of [gpa, gpa + len) (len 0 counts as 1), or NULL. */
static const struct gmem_region *vf_range(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (len == 0)
		len = 1;
	if (gpa + len < gpa)
		return NULL;
	end = gpa + len;
	for (unsigned i = 0; i < gm->nr_regions; i++) {
		const struct gmem_region *g = &gm->region[i];

		if (gpa >= g->gpa && end <= g->gpa + g->len)
			return g;
	}
	return NULL;
}

uint8_t *vf_at(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	const struct gmem_region *g = vf_range(gm, gpa, len);

	if (!g) {
		fprintf(stderr, "vfake: test bug: %#llx+%#llx is not guest RAM\n",
		    (unsigned long long)gpa, (unsigned long long)len);
		abort();
	}
	return g->hva + (gpa - g->gpa);
}

uint64_t vf_gpa_of(const struct gmem *gm, const void *hva)
{
	const uint8_t *p = hva;

	for (unsigned i = 0; i < gm->nr_regions; i++) {
		const struct gmem_region *g = &gm->region[i];

		if (p >= g->hva && p < g->hva + g->len)
			return g->gpa + (uint64_t)(p - g->hva);
	}
	return UINT64_MAX;
}

uint16_t vf_get16(const struct gmem *gm, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, vf_at(gm, gpa, 2), 2);
	return v;
}

uint32_t vf_get32(const struct gmem *gm, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, vf_at(gm, gpa, 4), 4);
	return v;
}

void vf_put16(const struct gmem *gm, uint64_t gpa, uint16_t v)
{
	memcpy(vf_at(gm, gpa, 2), &v, 2);
}

void vf_put32(const struct gmem *gm, uint64_t gpa, uint32_t v)
{
	memcpy(vf_at(gm, gpa, 4), &v, 4);
}

void vf_put64(const struct gmem *gm, uint64_t gpa, uint64_t v)
{
	memcpy(vf_at(gm, gpa, 8), &v, 8);
}

void vf_ring_init(struct vf_ring *r, const struct gmem *gm, uint16_t size, bool packed,
    uint64_t desc, uint64_t driver, uint64_t device, uint64_t heap, uint64_t heap_len)
{
	memset(r, 0, sizeof(*r));
	r->gm = gm;
	r->size = size;
	r->packed = packed;
	r->desc = desc;
	r->driver = driver;
	r->device = device;
	r->pk_wrap = r->pk_used_wrap = true;
	r->heap = r->heap_start = heap;
	r->heap_end = heap + heap_len;
	if (size)
		memset(vf_at(gm, desc, 16ull * size), 0, 16ull * size);
	if (packed) {
		memset(vf_at(gm, driver, 4), 0, 4);
		memset(vf_at(gm, device, 4), 0, 4);
	} else {
		memset(vf_at(gm, driver, 6 + 2ull * size), 0, 6 + 2ull * size);
		memset(vf_at(gm, device, 6 + 8ull * size), 0, 6 + 8ull * size);
	}
}

uint64_t vf_alloc(struct vf_ring *r, uint32_t len, uint8_t fill)
{
	uint64_t a;

	if (r->heap + len > r->heap_end)
		r->heap = r->heap_start;
	a = r->heap;
	r->heap = (r->heap + len + 15) & ~15ull;
	if (len)
		memset(vf_at(r->gm, a, len), fill, len);
	return a;
}

void vf_desc(struct vf_ring *r, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
    uint16_t next)
{
	uint64_t d = r->desc + 16ull * i;

	vf_put64(r->gm, d, addr);
	vf_put32(r->gm, d + 8, len);
	vf_put16(r->gm, d + 12, flags);
	vf_put16(r->gm, d + 14, next);
}

void vf_avail_entry(struct vf_ring *r, uint16_t pos, uint16_t head)
{
	vf_put16(r->gm, r->driver + 4 + 2ull * (pos % r->size), head);
}

void vf_avail_set_idx(struct vf_ring *r, uint16_t idx)
{
	r->avail_idx = idx;
	__atomic_store_n((uint16_t *)vf_at(r->gm, r->driver + 2, 2), idx, __ATOMIC_RELEASE);
}

void vf_avail_flags(struct vf_ring *r, uint16_t flags)
{
	vf_put16(r->gm, r->driver, flags);
}

void vf_used_event(struct vf_ring *r, uint16_t idx)
{
	vf_put16(r->gm, r->driver + 4 + 2ull * r->size, idx);
}

void vf_avail_add(struct vf_ring *r, uint16_t head)
{
	vf_avail_entry(r, r->avail_idx, head);
	vf_avail_set_idx(r, (uint16_t)(r->avail_idx + 1));
}

void vf_pdesc(struct vf_ring *r, uint16_t slot, uint64_t addr, uint32_t len, uint16_t id,
    uint16_t flags)
{
	uint64_t d = r->desc + 16ull * slot;

	vf_put64(r->gm, d, addr);
	vf_put32(r->gm, d + 8, len);
	vf_put16(r->gm, d + 12, id);
	__atomic_store_n((uint16_t *)vf_at(r->gm, d + 14, 2), flags, __ATOMIC_RELEASE);
}

uint16_t vf_pavail(bool wrap)
{
	return wrap ? VF_AVAIL : VF_USED;
}

void vf_pdriver_event(struct vf_ring *r, uint16_t off_wrap, uint16_t flags)
{
	vf_put16(r->gm, r->driver, off_wrap);
	vf_put16(r->gm, r->driver + 2, flags);
}

/* vf_pchain: write `n` packed descriptors (head last), one buffer id for all. */
static uint16_t vf_pchain(struct vf_ring *r, const uint64_t *addr, const uint32_t *len,
    const uint16_t *flags, unsigned n)
{
	uint16_t id = r->pk_id, head = r->pk_next, slot = r->pk_next, head_flags = 0;
	bool wrap = r->pk_wrap;

	r->pk_id = (uint16_t)((r->pk_id + 1) % r->size);
	r->pk_ndesc[id] = (uint16_t)n;
	for (unsigned i = 0; i < n; i++) {
		uint16_t f = (uint16_t)(flags[i] | vf_pavail(wrap) | (i + 1 < n ? VF_NEXT : 0));

		if (i == 0)
			head_flags = f;
		else
			vf_pdesc(r, slot, addr[i], len[i], id, f);
		if (++slot == r->size) {
			slot = 0;
			wrap = !wrap;
		}
	}
	/* The head goes last: it makes the whole list available at once. */
	vf_pdesc(r, head, addr[0], len[0], id, head_flags);
	r->pk_next = slot;
	r->pk_wrap = wrap;
	return id;
}

uint16_t vf_chain(struct vf_ring *r, const struct vf_seg *s, unsigned n)
{
	uint64_t addr[VIRTQ_MAX_SIZE];
	uint32_t len[VIRTQ_MAX_SIZE];
	uint16_t flags[VIRTQ_MAX_SIZE], head;

	if (n == 0 || n > r->size)
		abort();
	if (r->packed) {
		for (unsigned i = 0; i < n; i++) {
			addr[i] = s[i].addr;
			len[i] = s[i].len;
			flags[i] = s[i].write ? VF_WRITE : 0;
		}
		return vf_pchain(r, addr, len, flags, n);
	}
	head = r->next_desc;
	for (unsigned i = 0; i < n; i++) {
		uint16_t me = (uint16_t)((head + i) % r->size), next = (uint16_t)((me + 1) % r->size);

		vf_desc(r, me, s[i].addr, s[i].len,
		    (uint16_t)((s[i].write ? VF_WRITE : 0) | (i + 1 < n ? VF_NEXT : 0)), next);
	}
	r->next_desc = (uint16_t)((head + n) % r->size);
	vf_avail_add(r, head);
	return head;
}

uint16_t vf_chain_indirect(struct vf_ring *r, uint64_t table, const struct vf_seg *s,
    unsigned n, uint16_t extra)
{
	uint64_t addr = table;
	uint32_t len = 16u * n;
	uint16_t flags = (uint16_t)(VF_INDIRECT | extra), head;

	for (unsigned i = 0; i < n; i++) {
		uint64_t e = table + 16ull * i;

		vf_put64(r->gm, e, s[i].addr);
		vf_put32(r->gm, e + 8, s[i].len);
		if (r->packed) {
			vf_put16(r->gm, e + 12, 0);
			vf_put16(r->gm, e + 14, s[i].write ? VF_WRITE : 0);
		} else {
			vf_put16(r->gm, e + 12, (uint16_t)((s[i].write ? VF_WRITE : 0) |
			    (i + 1 < n ? VF_NEXT : 0)));
			vf_put16(r->gm, e + 14, (uint16_t)(i + 1));
		}
	}
	if (r->packed)
		return vf_pchain(r, &addr, &len, &flags, 1);
	head = r->next_desc;
	vf_desc(r, head, addr, len, flags, 0);
	r->next_desc = (uint16_t)((head + 1) % r->size);
	vf_avail_add(r, head);
	return head;
}

uint16_t vf_used_idx(const struct vf_ring *r)
{
	return __atomic_load_n((const uint16_t *)vf_at(r->gm, r->device + 2, 2), __ATOMIC_ACQUIRE);
}

int vf_used_next(struct vf_ring *r, uint32_t *id, uint32_t *len)
{
	if (r->packed) {
		uint64_t d = r->desc + 16ull * r->pk_used;
		uint16_t f = __atomic_load_n((const uint16_t *)vf_at(r->gm, d + 14, 2),
		    __ATOMIC_ACQUIRE), n;

		/* Used in lap w: AVAIL == USED == w. */
		if (!!(f & VF_AVAIL) != r->pk_used_wrap || !!(f & VF_USED) != r->pk_used_wrap)
			return 0;
		*len = vf_get32(r->gm, d + 8);
		*id = vf_get16(r->gm, d + 12);
		n = *id < r->size && r->pk_ndesc[*id] ? r->pk_ndesc[*id] : 1;
		r->pk_used = (uint16_t)(r->pk_used + n);
		if (r->pk_used >= r->size) {
			r->pk_used = (uint16_t)(r->pk_used - r->size);
			r->pk_used_wrap = !r->pk_used_wrap;
		}
		return 1;
	}
	if (vf_used_idx(r) == r->last_used)
		return 0;
	{
		uint64_t e = r->device + 4 + 8ull * (r->last_used % r->size);

		*id = vf_get32(r->gm, e);
		*len = vf_get32(r->gm, e + 4);
	}
	r->last_used++;
	return 1;
}

/* --- the reference walker --- */

struct ref_walk {
	const struct gmem *gm;
	struct vf_ref *o;
	unsigned size;
	uint64_t total;
	bool seen_write;
};

struct ref_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t w12, w14;	/* split: flags, next; packed: id, flags */
};

static void ref_read(const struct gmem *gm, uint64_t gpa, struct ref_desc *d)
{
	const uint8_t *p = vf_at(gm, gpa, 16);

	memcpy(&d->addr, p, 8);
	memcpy(&d->len, p + 8, 4);
	memcpy(&d->w12, p + 12, 2);
	memcpy(&d->w14, p + 14, 2);
}

/* ref_add: one buffer; false when the chain is malformed by it. */
static bool ref_add(struct ref_walk *w, uint64_t addr, uint32_t len, bool write)
{
	struct vf_ref *o = w->o;

	if (o->nseg >= w->size)
		return false;			/* longer than the queue (R2) */
	if (!write && w->seen_write)
		return false;			/* readable after writable (R6) */
	if (!vf_range(w->gm, addr, len))
		return false;			/* not RAM (M1, M2) */
	w->total += len;
	if (w->total > UINT32_MAX)
		return false;			/* M3 */
	o->seg[o->nseg++] = (struct vf_seg){ .addr = addr, .len = len, .write = write };
	if (write) {
		w->seen_write = true;
		o->write_len += len;
	} else {
		o->read_len += len;
	}
	return true;
}

/* ref_table: an indirect table's address and entry count, or false (I1, I5). */
static bool ref_table(struct ref_walk *w, const struct ref_desc *d, unsigned *n)
{
	if (d->len == 0 || d->len % 16 || d->len / 16 > w->size)
		return false;
	if (!vf_range(w->gm, d->addr, d->len))
		return false;
	*n = d->len / 16;
	return true;
}

static int ref_split(const struct vf_ring *r, bool indirect, uint16_t pos, struct ref_walk *w)
{
	bool seen[VIRTQ_MAX_SIZE] = { false };
	uint16_t avail = vf_get16(r->gm, r->driver + 2), head, i;

	if (avail == pos)
		return 0;
	if ((uint16_t)(avail - pos) > r->size)
		return -1;
	head = vf_get16(r->gm, r->driver + 4 + 2ull * (pos % r->size));
	if (head >= r->size)
		return -1;
	w->o->id = head;
	w->o->ndesc = 1;
	for (i = head;;) {
		struct ref_desc d;

		if (seen[i])
			return -1;		/* a loop (R1) */
		seen[i] = true;
		ref_read(r->gm, r->desc + 16ull * i, &d);
		if (d.w12 & ~(VF_NEXT | VF_WRITE | VF_INDIRECT))
			return -1;		/* R8 */
		if (d.w12 & VF_INDIRECT) {
			bool iseen[VIRTQ_MAX_SIZE] = { false };
			unsigned n, j = 0;

			if (!indirect || (d.w12 & VF_NEXT) || !ref_table(w, &d, &n))
				return -1;
			for (;;) {
				struct ref_desc e;

				if (iseen[j])
					return -1;
				iseen[j] = true;
				ref_read(r->gm, d.addr + 16ull * j, &e);
				if (e.w12 & ~(VF_NEXT | VF_WRITE | VF_INDIRECT) || (e.w12 & VF_INDIRECT))
					return -1;	/* R8, I2 */
				if (!ref_add(w, e.addr, e.len, e.w12 & VF_WRITE))
					return -1;
				if (!(e.w12 & VF_NEXT))
					break;
				if (e.w14 >= n)
					return -1;	/* R3 in a table */
				j = e.w14;
			}
			break;
		}
		if (!ref_add(w, d.addr, d.len, d.w12 & VF_WRITE))
			return -1;
		if (!(d.w12 & VF_NEXT))
			break;
		if (d.w14 >= r->size)
			return -1;		/* R3 */
		i = d.w14;
	}
	return w->total ? 1 : -1;		/* R7 */
}

static bool ref_pavail(uint16_t f, bool wrap)
{
	return !!(f & VF_AVAIL) == wrap && !!(f & VF_USED) == !wrap;
}

static int ref_packed(const struct vf_ring *r, bool indirect, uint16_t pos, bool wrap,
    struct ref_walk *w)
{
	uint16_t i = pos;
	unsigned count = 0;

	if (!ref_pavail(vf_get16(r->gm, r->desc + 16ull * pos + 14), wrap))
		return 0;
	for (;;) {
		struct ref_desc d;

		if (++count > r->size)
			return -1;
		ref_read(r->gm, r->desc + 16ull * i, &d);
		if (!ref_pavail(d.w14, wrap))
			return -1;		/* P1 */
		if (d.w14 & ~(VF_NEXT | VF_WRITE | VF_INDIRECT | VF_AVAIL | VF_USED))
			return -1;		/* R8 */
		if (d.w14 & VF_INDIRECT) {
			unsigned n;

			if (!indirect || (d.w14 & VF_NEXT) || !ref_table(w, &d, &n))
				return -1;
			/* Entries in order; flags other than WRITE are ignored (I2). */
			for (unsigned j = 0; j < n; j++) {
				struct ref_desc e;

				ref_read(r->gm, d.addr + 16ull * j, &e);
				if (!ref_add(w, e.addr, e.len, e.w14 & VF_WRITE))
					return -1;
			}
		} else if (!ref_add(w, d.addr, d.len, d.w14 & VF_WRITE)) {
			return -1;
		}
		w->o->id = d.w12;		/* the last descriptor's buffer id (P2) */
		if (++i == r->size) {
			i = 0;
			wrap = !wrap;
		}
		if (!(d.w14 & VF_NEXT))
			break;
	}
	w->o->ndesc = (uint16_t)count;
	return w->total ? 1 : -1;
}

void vf_ref_pop(const struct vf_ring *r, bool indirect, uint16_t pos, bool wrap,
    struct vf_ref *out)
{
	struct ref_walk w = { .gm = r->gm, .o = out, .size = r->size };

	memset(out, 0, sizeof(*out));
	out->r = r->packed ? ref_packed(r, indirect, pos, wrap, &w) :
	    ref_split(r, indirect, pos, &w);
}

bool vf_chain_matches(const struct gmem *gm, const struct virtq_chain *c, const struct vf_ref *ref,
    bool packed)
{
	if (c->nseg != ref->nseg || c->tok.id != ref->id || c->read_len != ref->read_len ||
	    c->tok.write_len != ref->write_len)
		return false;
	if (packed && c->tok.ndesc != ref->ndesc)
		return false;
	for (unsigned i = 0; i < c->nseg; i++) {
		const struct virtq_seg *s = &c->seg[i];

		if (s->write != ref->seg[i].write || s->iov.iov_len != ref->seg[i].len)
			return false;
		if (vf_gpa_of(gm, s->iov.iov_base) != ref->seg[i].addr)
			return false;
		if ((i < c->nread) == s->write)
			return false;
	}
	return true;
}

/* --- virtio-blk requests --- */

uint64_t vf_blk_hdr(struct vf_ring *r, uint32_t type, uint64_t sector)
{
	uint64_t h = vf_alloc(r, 16, 0);

	vf_put32(r->gm, h, type);
	vf_put32(r->gm, h + 4, 0);
	vf_put64(r->gm, h + 8, sector);
	return h;
}

uint16_t vf_blk_req(struct vf_ring *r, uint32_t type, uint64_t sector, uint32_t data_len,
    uint8_t fill, struct vf_blk *out)
{
	struct vf_seg s[3];
	bool dev_writes = type == VF_BLK_IN || type == VF_BLK_GET_ID;
	unsigned n = 0;

	out->hdr = vf_blk_hdr(r, type, sector);
	out->data_len = data_len;
	out->data = data_len ? vf_alloc(r, data_len, fill) : 0;
	out->status = vf_alloc(r, 1, VF_STATUS_UNSET);
	s[n++] = (struct vf_seg){ out->hdr, 16, false };
	if (data_len)
		s[n++] = (struct vf_seg){ out->data, data_len, dev_writes };
	s[n++] = (struct vf_seg){ out->status, 1, true };
	out->id = vf_chain(r, s, n);
	return out->id;
}

/* --- process helpers --- */

static int vf_saved_stderr = -1;
static FILE *vf_capture;

void vf_stderr_begin(void)
{
	fflush(stderr);
	vf_capture = tmpfile();
	if (!vf_capture)
		abort();
	vf_saved_stderr = dup(2);
	dup2(fileno(vf_capture), 2);
}

unsigned vf_stderr_end(char *last, size_t last_len)
{
	char line[1024];
	unsigned n = 0;

	fflush(stderr);
	dup2(vf_saved_stderr, 2);
	close(vf_saved_stderr);
	vf_saved_stderr = -1;
	if (last && last_len)
		last[0] = 0;
	rewind(vf_capture);
	while (fgets(line, sizeof(line), vf_capture)) {
		n++;
		if (last && last_len)
			snprintf(last, last_len, "%s", line);
	}
	fclose(vf_capture);
	vf_capture = NULL;
	return n;
}

unsigned vf_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int vf_tmpdisk(char *path, size_t path_len, uint64_t len)
{
	const char *dir = getenv("TMPDIR");
	uint8_t buf[4096];
	int fd;

	snprintf(path, path_len, "%s/ringvm-disk.XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	unlink(path);
	for (uint64_t off = 0; off < len; off += sizeof(buf)) {
		size_t n = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)((off + i) * 7 + 3);
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
			close(fd);
			return -EIO;
		}
	}
	snprintf(path, path_len, "/proc/self/fd/%d", fd);
	return fd;
}
