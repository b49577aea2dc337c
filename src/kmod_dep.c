/*
 * kmod_dep.c: modules.dep and modules.builtin parsing into a dependency
 * graph (kmod_dep.h); kmod_walk.c orders it for loading.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmod_dep.h"

#define KMOD_DEP_ALLOC_MIN 64

/* The suffixes a module file may have: plain, then what depmod knows compressed. */
static const char *const kmod_dep_suffixes[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };

/*
 * kmod_dep_grow: `arr` (with *alloc elements of `size` bytes) reallocated to
 * hold at least `need`; NULL when out of memory (arr is then unchanged).
 */
static void *kmod_dep_grow(void *arr, size_t *alloc, size_t need, size_t size)
{
	size_t n = *alloc ? *alloc : KMOD_DEP_ALLOC_MIN;
	void *p;

	if (need <= *alloc)
		return arr;
	while (n < need)
		n *= 2;		/* need is bounded by the text's length */
	p = reallocarray(arr, n, size);
	if (p)
		*alloc = n;
	return p;
}

/* kmod_dep_base: the base name of `path` (after its last '/'). */
static const char *kmod_dep_base(const char *path, size_t len)
{
	const char *b = path + len;

	while (b > path && b[-1] != '/')
		b--;
	return b;
}

/* kmod_dep_suffix_len: the length of the ".ko..." suffix `base` ends with, 0 if none. */
static size_t kmod_dep_suffix_len(const char *base, size_t len)
{
	size_t i, n;

	for (i = 0; i < sizeof(kmod_dep_suffixes) / sizeof(kmod_dep_suffixes[0]); i++) {
		n = strlen(kmod_dep_suffixes[i]);
		if (len > n && !memcmp(base + len - n, kmod_dep_suffixes[i], n))
			return n;
	}
	return 0;
}

const char *kmod_dep_check_path(const char *path, size_t len)
{
	const char *base, *c, *comp = path;
	size_t blen, slen;

	if (len == 0)
		return "an empty module path";
	if (path[0] == '/')
		return "an absolute module path (paths are relative to the module directory)";
	for (c = path; c <= path + len; c++) {
		if (c < path + len && *c != '/') {
			if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
			    !(*c >= '0' && *c <= '9') && !strchr("._+,=@~-", *c))
				return "a character that is not allowed in a module path";
			continue;
		}
		/* A component ends here: it must name something below the directory. */
		if (c == comp || (c - comp == 1 && comp[0] == '.') ||
		    (c - comp == 2 && comp[0] == '.' && comp[1] == '.'))
			return "an empty, '.' or '..' component (it must stay inside the module directory)";
		comp = c + 1;
	}
	base = kmod_dep_base(path, len);
	blen = (size_t)(path + len - base);
	slen = kmod_dep_suffix_len(base, blen);
	if (!slen)
		return "a file name that does not end in .ko, .ko.xz, .ko.zst or .ko.gz";
	if (blen - slen >= KMOD_NAME_LEN)
		return "a module name that is too long";
	return NULL;
}

const char *kmod_dep_suffix(const char *path)
{
	size_t len = strlen(path);
	const char *base = kmod_dep_base(path, len);
	size_t blen = (size_t)(path + len - base);

	return base + blen - kmod_dep_suffix_len(base, blen);
}

int kmod_dep_norm(const char *in, size_t len, char out[KMOD_NAME_LEN])
{
	size_t i;

	if (len == 0 || len >= KMOD_NAME_LEN)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '-')
			c = '_';
		else if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '_')
			return -EINVAL;
		out[i] = c;
	}
	out[i] = '\0';
	return 0;
}

void kmod_dep_name(const char *path, char out[KMOD_NAME_LEN])
{
	size_t len = strlen(path);
	const char *base = kmod_dep_base(path, len);
	size_t blen = (size_t)(path + len - base), n = blen - kmod_dep_suffix_len(base, blen), i;

	for (i = 0; i < n; i++)
		out[i] = base[i] == '-' ? '_' : base[i];
	out[n] = '\0';
}

/*
 * kmod_dep_lines: check the text's size and bytes, copy it NUL-terminated,
 * and cut it into lines in place (each '\n' becomes a NUL). *copy is then
 * the caller's to free.
 */
static int kmod_dep_lines(const char *what, const char *text, size_t len, char **copy,
    char *err, size_t errlen)
{
	const char *p = text, *nl, *end = text + len;
	unsigned line = 1;

	if (len > KMOD_DEP_MAX_BYTES) {
		snprintf(err, errlen, "%s has %zu bytes, more than %u", what, len, KMOD_DEP_MAX_BYTES);
		return -EFBIG;
	}
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "%s is malformed: it holds a NUL byte", what);
		return -EINVAL;
	}
	for (; p < end; line++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if ((nl ? nl : end) - p > KMOD_LINE_MAX) {
			snprintf(err, errlen, "%s line %u is longer than %u bytes", what, line,
			    KMOD_LINE_MAX);
			return -EINVAL;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	*copy = malloc(len + 1);
	if (!*copy) {
		snprintf(err, errlen, "out of memory for %s", what);
		return -ENOMEM;
	}
	memcpy(*copy, text, len);
	(*copy)[len] = '\0';
	for (char *q = *copy; (q = strchr(q, '\n')); q++)
		*q = '\0';
	return 0;
}

/* kmod_dep_line: add one modules.dep line (cut at its end) to `d`. */
static int kmod_dep_line(struct kmod_dep *d, size_t *amod, size_t *adep, char *p,
    unsigned line, char *err, size_t errlen)
{
	char *colon = strchr(p, ':'), *tok;
	struct kmod_dep_ref *ref;
	struct kmod_dep_mod *m;
	const char *why;
	size_t n;

	if (!colon) {
		if (p[strspn(p, " \t")] == '\0')
			return 0;	/* a blank line */
		snprintf(err, errlen, "modules.dep line %u is malformed: no ':' after the path", line);
		return -EINVAL;
	}
	*colon = '\0';
	why = kmod_dep_check_path(p, strlen(p));
	if (why) {
		snprintf(err, errlen, "modules.dep line %u: '%.64s' has %s", line, p, why);
		return -EINVAL;
	}
	m = kmod_dep_grow(d->mod, amod, d->nmod + 1, sizeof(*d->mod));
	if (!m)
		goto nomem;
	d->mod = m;
	m = &d->mod[d->nmod++];
	m->path = p;
	kmod_dep_name(p, m->name);
	m->line = line;
	m->dep0 = d->ndep;
	m->ndeps = 0;
	m->state = KMOD_UNSEEN;
	for (tok = colon + 1;;) {
		tok += strspn(tok, " \t");
		if (!*tok)
			return 0;
		n = strcspn(tok, " \t");
		why = kmod_dep_check_path(tok, n);
		if (why) {
			snprintf(err, errlen, "modules.dep line %u: dependency '%.*s' has %s", line,
			    (int)(n < 64 ? n : 64), tok, why);
			return -EINVAL;
		}
		ref = kmod_dep_grow(d->dep, adep, d->ndep + 1, sizeof(*d->dep));
		if (!ref)
			goto nomem;
		d->dep = ref;
		d->dep[d->ndep].path = tok;
		d->dep[d->ndep++].mod = KMOD_DEP_NONE;
		m->ndeps++;
		tok += n;
		if (*tok)
			*tok++ = '\0';
	}
nomem:
	snprintf(err, errlen, "out of memory for modules.dep");
	return -ENOMEM;
}

static int kmod_dep_cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct kmod_dep_mod *)a)->path, ((const struct kmod_dep_mod *)b)->path);
}

static int kmod_dep_cmp_name(const void *a, const void *b)
{
	const struct kmod_dep_mod *x = *(struct kmod_dep_mod *const *)a;
	const struct kmod_dep_mod *y = *(struct kmod_dep_mod *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int kmod_dep_cmp_builtin(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* kmod_dep_index: sort, refuse duplicates, link dependencies, index by name. */
static int kmod_dep_index(struct kmod_dep *d, char *err, size_t errlen)
{
	struct kmod_dep_mod key, *hit;
	size_t i;

	if (d->nmod)
		qsort(d->mod, d->nmod, sizeof(*d->mod), kmod_dep_cmp_path);
	for (i = 1; i < d->nmod; i++) {
		if (!strcmp(d->mod[i - 1].path, d->mod[i].path)) {
			snprintf(err, errlen, "modules.dep lists '%.64s' twice (lines %u and %u)",
			    d->mod[i].path, d->mod[i - 1].line, d->mod[i].line);
			return -EINVAL;
		}
	}
	for (i = 0; i < d->ndep; i++) {
		key.path = d->dep[i].path;
		hit = d->nmod ? bsearch(&key, d->mod, d->nmod, sizeof(*d->mod), kmod_dep_cmp_path) :
		    NULL;
		d->dep[i].mod = hit ? (size_t)(hit - d->mod) : KMOD_DEP_NONE;
	}
	d->by_name = calloc(d->nmod ? d->nmod : 1, sizeof(*d->by_name));
	if (!d->by_name) {
		snprintf(err, errlen, "out of memory for modules.dep");
		return -ENOMEM;
	}
	for (i = 0; i < d->nmod; i++)
		d->by_name[i] = &d->mod[i];
	if (d->nmod)
		qsort(d->by_name, d->nmod, sizeof(*d->by_name), kmod_dep_cmp_name);
	return 0;
}

int kmod_dep_parse(struct kmod_dep *d, const char *text, size_t len, char *err,
    size_t errlen)
{
	size_t amod = 0, adep = 0;
	unsigned line = 0;
	char *p, *end, *next;
	int r;

	memset(d, 0, sizeof(*d));
	r = kmod_dep_lines("modules.dep", text, len, &d->text, err, errlen);
	if (r < 0)
		return r;
	/* The copy's lines are NUL-separated; end is the final NUL. */
	for (p = d->text, end = d->text + len; p < end; p = next) {
		next = p + strlen(p) + 1;	/* before kmod_dep_line cuts the line */
		r = kmod_dep_line(d, &amod, &adep, p, ++line, err, errlen);
		if (r < 0)
			goto fail;
	}
	r = kmod_dep_index(d, err, errlen);
	if (r < 0)
		goto fail;
	return 0;
fail:
	kmod_dep_free(d);
	return r;
}

int kmod_dep_parse_builtin(struct kmod_dep *d, const char *text, size_t len, char *err,
    size_t errlen)
{
	char (*names)[KMOD_NAME_LEN] = NULL, *copy, *p, *end;
	size_t n = 0, alloc = 0;
	void *grown;
	unsigned line = 0;
	const char *why;
	int r;

	r = kmod_dep_lines("modules.builtin", text, len, &copy, err, errlen);
	if (r < 0)
		return r;
	for (p = copy, end = copy + len; p < end; p += strlen(p) + 1) {
		line++;
		if (!*p)
			continue;
		why = kmod_dep_check_path(p, strlen(p));
		if (why) {
			snprintf(err, errlen, "modules.builtin line %u: '%.64s' has %s", line, p, why);
			r = -EINVAL;
			goto out;
		}
		grown = kmod_dep_grow(names, &alloc, n + 1, sizeof(*names));
		if (!grown) {
			snprintf(err, errlen, "out of memory for modules.builtin");
			r = -ENOMEM;
			goto out;
		}
		names = grown;
		kmod_dep_name(p, names[n++]);
	}
	if (n)
		qsort(names, n, sizeof(*names), kmod_dep_cmp_builtin);
	free(d->builtin);
	d->builtin = names;
	d->nbuiltin = n;
	names = NULL;
out:
	free(names);
	free(copy);
	return r;
}

struct kmod_dep_mod *kmod_dep_find(const struct kmod_dep *d, const char *name)
{
	size_t lo = 0, hi = d->nmod, mid;
	int c;

	/* The first match in file order, as modprobe takes the first line. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(d->by_name[mid]->name, name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->nmod && !strcmp(d->by_name[lo]->name, name) ? d->by_name[lo] : NULL;
}

bool kmod_dep_builtin(const struct kmod_dep *d, const char *name)
{
	return d->nbuiltin &&
	    bsearch(name, d->builtin, d->nbuiltin, sizeof(*d->builtin), kmod_dep_cmp_builtin);
}

void kmod_dep_free(struct kmod_dep *d)
{
	free(d->text);
	free(d->mod);
	free(d->dep);
	free(d->by_name);
	free(d->builtin);
	memset(d, 0, sizeof(*d));
}
