/*
 * kmod_walk.c: the depth-first walk that turns a module of a parsed
 * modules.dep graph into the files to load, dependencies first (kmod_walk.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kmod_walk.h"

/* One walk's context, so the recursion carries one pointer. */
struct kmod_walker {
	struct kmod_dep *d;
	struct kmod_dep_mod **order;
	size_t *n, max;
	kmod_walk_check_fn *check;
	void *arg;
	char *err;
	size_t errlen;
};

/*
 * kmod_walk_visit: depth-first, dependencies before the module. The list
 * names the modules to load first last (modprobe walks it backwards), so
 * it is walked from its end. ACTIVE marks the current chain: meeting it
 * again is a cycle, which would otherwise recurse for ever.
 */
static int kmod_walk_visit(struct kmod_walker *w, struct kmod_dep_mod *m, unsigned depth)
{
	char name[KMOD_NAME_LEN];
	struct kmod_dep_ref *ref;
	size_t i;
	int r;

	if (m->state == KMOD_DONE)
		return 0;
	if (m->state == KMOD_ACTIVE) {
		snprintf(w->err, w->errlen, "modules.dep has a dependency cycle through %s", m->name);
		return -ELOOP;
	}
	if (depth >= KMOD_MAX_DEPTH) {
		snprintf(w->err, w->errlen, "modules.dep has a dependency chain over %u modules "
		    "deep at %s", KMOD_MAX_DEPTH, m->name);
		return -E2BIG;
	}
	m->state = KMOD_ACTIVE;
	for (i = m->ndeps; i-- > 0;) {
		ref = &w->d->dep[m->dep0 + i];
		if (ref->mod != KMOD_DEP_NONE) {
			r = kmod_walk_visit(w, &w->d->mod[ref->mod], depth + 1);
			if (r < 0)
				goto undo;
			continue;
		}
		kmod_dep_name(ref->path, name);
		if (kmod_dep_builtin(w->d, name))
			continue;
		snprintf(w->err, w->errlen, "module %s needs %.64s, which modules.dep does not list",
		    m->name, ref->path);
		r = -ENOENT;
		goto undo;
	}
	if (*w->n >= w->max) {
		snprintf(w->err, w->errlen, "more than %zu modules to load", w->max);
		r = -E2BIG;
		goto undo;
	}
	r = w->check(w->arg, m->path, w->err, w->errlen);
	if (r < 0)
		goto undo;
	m->state = KMOD_DONE;
	w->order[(*w->n)++] = m;
	return 0;
undo:
	m->state = KMOD_UNSEEN;
	return r;
}

int kmod_walk(struct kmod_dep *d, struct kmod_dep_mod *m, struct kmod_dep_mod **order,
    size_t *n, size_t max, kmod_walk_check_fn *check, void *arg, char *err, size_t errlen)
{
	struct kmod_walker w = { d, order, n, max, check, arg, err, errlen };
	size_t mark = *n, i;
	int r = kmod_walk_visit(&w, m, 0);

	/* Undo the modules this walk appended: the caller may skip the whole module. */
	if (r < 0) {
		for (i = mark; i < *n; i++)
			order[i]->state = KMOD_UNSEEN;
		*n = mark;
	}
	return r;
}
