/*
 * landlock.h: a Landlock ruleset that allows no filesystem access but
 * reading the few files a device reads after setup, entered by each
 * thread at the end of setup (landlock.c).
 */
#ifndef RINGVM_LANDLOCK_H
#define RINGVM_LANDLOCK_H

struct landlock {
	int fd;		/* the ruleset, or -1 when the kernel has no Landlock */
	int abi;	/* its ABI version, 0 when absent */
};

/*
 * landlock_prepare: create the ruleset: every filesystem right the
 * kernel's Landlock knows (up to ABI 3) handled, and none granted but
 * reading the `n` files in `paths`. Leaves ll->fd at -1 and returns 0
 * when the kernel has no Landlock; else 0 or -errno.
 */
int landlock_prepare(struct landlock *ll, const char *const *paths, unsigned n);

/*
 * landlock_enter: restrict the calling thread (and what it would create)
 * to the ruleset. Needs no_new_privs. A no-op without Landlock. Returns
 * 0 or -errno.
 */
int landlock_enter(const struct landlock *ll);

/* landlock_fini: close the ruleset (the restrictions stay). */
void landlock_fini(struct landlock *ll);

#endif
