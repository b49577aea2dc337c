/*
 * kmod_walk.h: the files a module needs, in load order, from a parsed
 * dependency graph (kmod_dep.h). Pure: whether a file is really there is
 * asked of a callback, so a fuzzer can drive the walk without files.
 */
#ifndef RINGVM_KMOD_WALK_H
#define RINGVM_KMOD_WALK_H

#include <stddef.h>

#include "kmod_dep.h"

#define KMOD_MAX_DEPTH 64	/* a dependency chain longer than this is malformed */

/*
 * kmod_walk_check_fn: whether the file of the module at `path` can be
 * loaded; 0, or -errno with a one-line reason in err.
 */
typedef int kmod_walk_check_fn(void *arg, const char *path, char *err, size_t errlen);

/*
 * kmod_walk: append to order[*n ..] the modules `m` needs, dependencies
 * first, then `m`; each module once over all walks of `d` (a module already
 * appended is skipped). A dependency that modules.dep does not list is
 * satisfied when it is built in. `check` vets each file before it is
 * appended. Returns 0, or -errno with a reason; on failure *n and every
 * module's state are as before the call, so the caller can skip `m`:
 *   -ENOENT  a dependency neither listed nor built in (or check's error)
 *   -ELOOP   a dependency cycle
 *   -E2BIG   more than `max` modules, or a chain over KMOD_MAX_DEPTH
 */
int kmod_walk(struct kmod_dep *d, struct kmod_dep_mod *m, struct kmod_dep_mod **order,
    size_t *n, size_t max, kmod_walk_check_fn *check, void *arg, char *err, size_t errlen);

#endif
