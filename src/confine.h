/*
 * confine.h: process-wide confinement: inherited fds, core dumps,
 * capabilities and resource limits (confine.c). The per-thread seccomp
 * filters and Landlock are sandbox.h's.
 */
#ifndef RINGVM_CONFINE_H
#define RINGVM_CONFINE_H

#include <stdbool.h>
#include <sys/resource.h>

#include "log.h"

/* fds beyond the counted ones: what the exit path may open (none today) and libc's slack. */
#define CONFINE_SPARE_FDS 8
#define CONFINE_MAX_OUTPUT 4

struct confine_conf {
	bool no_dumps;			/* no core dumps, not dumpable (off with --sandbox off) */
	unsigned runtime_fds;		/* fds the devices may open after setup (vm->runtime_fds) */
	int output_fds[CONFINE_MAX_OUTPUT];	/* fds the guest's output grows: no RLIMIT_FSIZE */
	unsigned nr_output;
};

/* What confine_process set, for --check and docs/SECURITY.md's figures. */
struct confine_report {
	rlim_t nofile;
	rlim_t fsize;
};

/*
 * confine_inherited_fds: close every fd from 3 up except the `n` in
 * `keep` (sorted ascending; fds the command line names, such as
 * `-n tap,fd=N`). At start, before ringvm opens anything: an fd a parent
 * leaked to us is never passed on, and never reachable by a guest that
 * takes over a device. Returns 0 or -errno with the reason in err.
 */
int confine_inherited_fds(const int *keep, unsigned n, struct rv_err *err);

/*
 * confine_process: at the end of setup, on the loop thread, with every
 * file and device open: core dumps off (PR_SET_DUMPABLE 0, RLIMIT_CORE 0)
 * when c->no_dumps; every capability dropped; RLIMIT_NOFILE cut to the
 * highest open fd + c->runtime_fds + CONFINE_SPARE_FDS; RLIMIT_FSIZE cut
 * to the largest disk, unless a regular file in c->output_fds takes the
 * guest's output. Fills `rep`. Returns 0 or -errno with the reason in err.
 */
int confine_process(const struct confine_conf *c, struct confine_report *rep, struct rv_err *err);

#endif
