/*
 * kmod_dep.h: the module dependency graph of one kernel, parsed from its
 * modules.dep and modules.builtin text (kmod_walk.h orders it for
 * loading). Pure: no file access, so a fuzzer can drive it.
 *
 * modules.dep, as depmod(8) writes it: one line per loadable module,
 *   kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
 * the module's path relative to the module directory, a colon, then the
 * paths of every module it needs (the whole closure, the ones to load
 * first last), separated by spaces. modules.builtin: one path per line, for
 * modules built into the kernel. A module's name is its file's base name
 * without ".ko" and a compression suffix, with '-' read as '_'.
 */
#ifndef RINGVM_KMOD_DEP_H
#define RINGVM_KMOD_DEP_H

#include <stdbool.h>
#include <stddef.h>

#define KMOD_DEP_MAX_BYTES (16u << 20)	/* modules.dep or modules.builtin, at most */
#define KMOD_LINE_MAX 16384		/* bytes in one line, newline excluded */
#define KMOD_NAME_LEN 56		/* a module name with its NUL (the kernel's MODULE_NAME_LEN) */
#define KMOD_DEP_NONE ((size_t)-1)	/* a dependency that modules.dep does not list */

enum kmod_dep_state { KMOD_UNSEEN, KMOD_ACTIVE, KMOD_DONE };

struct kmod_dep_mod {
	const char *path;		/* relative to the module directory (in text) */
	char name[KMOD_NAME_LEN];	/* normalized: '-' read as '_' */
	unsigned line;			/* its line in modules.dep, from 1 */
	size_t dep0, ndeps;		/* its dependencies: dep[dep0 .. dep0 + ndeps) */
	enum kmod_dep_state state;	/* kmod_walk's mark */
};

struct kmod_dep_ref {
	const char *path;		/* as written (in text) */
	size_t mod;			/* index into mod, or KMOD_DEP_NONE */
};

struct kmod_dep {
	char *text;			/* modules.dep, copied, lines cut in place */
	struct kmod_dep_mod *mod;	/* sorted by path */
	size_t nmod;
	struct kmod_dep_ref *dep;
	size_t ndep;
	struct kmod_dep_mod **by_name;	/* sorted by name, then line */
	char (*builtin)[KMOD_NAME_LEN];	/* built-in module names, sorted */
	size_t nbuiltin;
};

/*
 * kmod_dep_check_path: NULL when `path` (`len` bytes) is an acceptable module
 * path, else the reason. Accepted: relative, no empty, "." or ".."
 * component (the path must stay inside the module directory), characters
 * [A-Za-z0-9._+,=@~-/] only (no newline can reach the guest's list), and a
 * base name "NAME.ko", "NAME.ko.xz", "NAME.ko.zst" or "NAME.ko.gz" with a
 * NAME shorter than KMOD_NAME_LEN.
 */
const char *kmod_dep_check_path(const char *path, size_t len);

/* kmod_dep_suffix: the ".ko..." suffix of a path kmod_dep_check_path accepted. */
const char *kmod_dep_suffix(const char *path);

/* kmod_dep_name: the normalized module name of a path kmod_dep_check_path accepted. */
void kmod_dep_name(const char *path, char out[KMOD_NAME_LEN]);

/*
 * kmod_dep_norm: normalize module name `in` (`len` bytes) into `out`: '-'
 * becomes '_'. Returns 0, or -EINVAL when `in` is empty, too long, or has a
 * character other than [A-Za-z0-9_-].
 */
int kmod_dep_norm(const char *in, size_t len, char out[KMOD_NAME_LEN]);

/*
 * kmod_dep_parse: parse modules.dep text (`len` bytes, need not end in a
 * newline nor in a NUL). Returns 0, or -errno with a one-line reason:
 *   -EFBIG   text over KMOD_DEP_MAX_BYTES
 *   -EINVAL  malformed: a NUL byte, a line over KMOD_LINE_MAX, no colon, a
 *            bad path (kmod_dep_check_path), a module listed twice
 *   -ENOMEM
 * On failure `d` holds nothing to free; on success free it with kmod_dep_free.
 */
int kmod_dep_parse(struct kmod_dep *d, const char *text, size_t len, char *err,
    size_t errlen);

/*
 * kmod_dep_parse_builtin: add the names in modules.builtin text to a parsed
 * `d`. Same limits and errors as kmod_dep_parse; on failure `d` is unchanged.
 */
int kmod_dep_parse_builtin(struct kmod_dep *d, const char *text, size_t len, char *err,
    size_t errlen);

/* kmod_dep_find: the module named `name` (normalized), NULL when none. */
struct kmod_dep_mod *kmod_dep_find(const struct kmod_dep *d, const char *name);

/* kmod_dep_builtin: whether normalized `name` is built into the kernel. */
bool kmod_dep_builtin(const struct kmod_dep *d, const char *name);

/* kmod_dep_free: release everything `d` holds (a zeroed `d` is fine too). */
void kmod_dep_free(struct kmod_dep *d);

#endif
