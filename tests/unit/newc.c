/* newc.c: an independent newc cpio reader for tests (newc.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newc.h"

/* newc_hex: the 8 hex digits at p, or -1 when one is not a hex digit. */
static int64_t newc_hex(const uint8_t *p)
{
	int64_t v = 0;

	for (int i = 0; i < 8; i++) {
		int c = p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* newc_zeros: whether buf[from .. to) is all zero. */
static int newc_zeros(const uint8_t *buf, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (buf[i])
			return 0;
	return 1;
}

int newc_parse(const uint8_t *buf, size_t len, struct newc *out, char *why, size_t whylen)
{
	size_t pos = 0, namesize, name_end, data_end;
	int64_t f[13];
	int in_archive = 0;
	struct newc_entry *e;

	memset(out, 0, sizeof(*out));
	for (;;) {
		/* Between archives: zeros, then the next one, 4-byte aligned. */
		if (!in_archive) {
			while (pos < len && buf[pos] == 0)
				pos++;
			if (pos == len)
				return 0;
			if (pos & 3) {
				snprintf(why, whylen, "archive at %zu is not 4-byte aligned", pos);
				goto fail;
			}
		}
		if (len - pos < 110 || memcmp(buf + pos, "070701", 6)) {
			snprintf(why, whylen, "no newc header at %zu", pos);
			goto fail;
		}
		for (int i = 0; i < 13; i++) {
			f[i] = newc_hex(buf + pos + 6 + 8 * i);
			if (f[i] < 0) {
				snprintf(why, whylen, "bad hex field %d at %zu", i, pos);
				goto fail;
			}
		}
		namesize = (size_t)f[11];
		name_end = pos + 110 + namesize;
		if (namesize < 2 || namesize > 4096 || name_end > len ||
		    buf[name_end - 1] != 0 || memchr(buf + pos + 110, 0, namesize - 1)) {
			snprintf(why, whylen, "bad name (size %zu) at %zu", namesize, pos);
			goto fail;
		}
		data_end = ((name_end + 3) & ~(size_t)3) + (size_t)f[6];
		if (((name_end + 3) & ~(size_t)3) > len || data_end > len ||
		    ((data_end + 3) & ~(size_t)3) > len ||
		    !newc_zeros(buf, name_end, (name_end + 3) & ~(size_t)3) ||
		    !newc_zeros(buf, data_end, (data_end + 3) & ~(size_t)3)) {
			snprintf(why, whylen, "entry at %zu overruns or has non-zero padding", pos);
			goto fail;
		}
		if (!strcmp((const char *)buf + pos + 110, "TRAILER!!!")) {
			out->archives++;
			in_archive = 0;
			pos = (data_end + 3) & ~(size_t)3;
			continue;
		}
		e = realloc(out->e, (out->n + 1) * sizeof(*e));
		if (!e) {
			snprintf(why, whylen, "out of memory");
			goto fail;
		}
		out->e = e;
		e += out->n++;
		memcpy(e->name, buf + pos + 110, namesize);
		e->ino = (uint32_t)f[0];
		e->mode = (uint32_t)f[1];
		e->uid = (uint32_t)f[2];
		e->gid = (uint32_t)f[3];
		e->nlink = (uint32_t)f[4];
		e->mtime = (uint32_t)f[5];
		e->size = (uint32_t)f[6];
		e->devmajor = (uint32_t)f[7];
		e->devminor = (uint32_t)f[8];
		e->rdevmajor = (uint32_t)f[9];
		e->rdevminor = (uint32_t)f[10];
		e->check = (uint32_t)f[12];
		e->data = buf + ((name_end + 3) & ~(size_t)3);
		e->archive = out->archives;
		in_archive = 1;
		pos = (data_end + 3) & ~(size_t)3;
		if (pos >= len) {
			snprintf(why, whylen, "archive %u has no trailer", out->archives);
			goto fail;
		}
	}
fail:
	newc_free(out);
	return -1;
}

const struct newc_entry *newc_find(const struct newc *a, const char *name)
{
	for (size_t i = a->n; i-- > 0;)
		if (!strcmp(a->e[i].name, name))
			return &a->e[i];
	return NULL;
}

void newc_free(struct newc *a)
{
	free(a->e);
	memset(a, 0, sizeof(*a));
}
