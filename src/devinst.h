/* devinst.h: the device instances of a configuration (devinst.c). */
#ifndef RINGVM_DEVINST_H
#define RINGVM_DEVINST_H

#include <stdbool.h>
#include <stddef.h>

#include "device.h"

struct vm;
struct rv_config;

/*
 * devinst_parse: parse one spec of `ops` and append the instance to the
 * configuration; a spec the device answers with DEVICE_NONE appends
 * nothing and is remembered instead (devinst_given). Returns 0, or
 * -EINVAL / -E2BIG (too many) with the reason in err.
 */
int devinst_parse(struct rv_config *cfg, const struct device_ops *ops, const char *spec,
    char *err, size_t errlen);

/*
 * devinst_given: whether the configuration says anything about `ops`: it
 * has an instance, or a spec turned the device off (DEVICE_NONE).
 */
bool devinst_given(const struct rv_config *cfg, const struct device_ops *ops);

/*
 * devinst_check: run every instance's check hook. Returns 0, or -errno
 * with the first failure's reason in err.
 */
int devinst_check(const struct rv_config *cfg, char *err, size_t errlen);

/*
 * devinst_create: create every configured instance, in table order.
 * Returns 0 or -errno with the reason (naming the device) in err; the
 * instances created before the failure stay for devinst_destroy.
 */
int devinst_create(struct vm *vm, struct rv_config *cfg, char *err, size_t errlen);

/*
 * devinst_destroy: destroy every created instance, newest first. Returns
 * 0, or the first -errno a destroy hook reported (each is logged there).
 */
int devinst_destroy(struct vm *vm, struct rv_config *cfg);

/*
 * devinst_inherited_fds: the inherited descriptors every instance of the
 * parsed configuration keeps (each device's inherited_fds hook: a TAP
 * passed as -n tap,fd=N), written to fds[0..max). Returns how many there
 * are (possibly more than max: then only max were written). Call after
 * parsing, before closing stray inherited descriptors.
 */
unsigned devinst_inherited_fds(const struct rv_config *cfg, int *fds, unsigned max);

/* devinst_free: free the parsed configurations (after devinst_destroy). */
void devinst_free(struct rv_config *cfg);

#endif
