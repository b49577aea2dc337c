/*
 * unit.h: the unit-test harness. Each check prints one TAP-style line,
 * "ok - <name>" or "not ok - <name>" (tests/check.sh counts them), and a
 * test binary exits non-zero when any of its checks failed.
 */
#ifndef RINGVM_UNIT_H
#define RINGVM_UNIT_H

#include <stdio.h>

struct unit {
	unsigned pass, fail;
	const char *file;	/* the test's name, prefixed to every line */
};

/* unit_ok: record one check; `cond` true is a pass. Returns cond. */
static inline int unit_ok(struct unit *u, int cond, const char *name, int line)
{
	if (cond)
		u->pass++;
	else
		u->fail++;
	printf("%sok - %s: %s%s", cond ? "" : "not ", u->file, name,
	    cond ? "\n" : "");
	if (!cond)
		printf(" (line %d)\n", line);
	return cond;
}

#define UNIT_OK(u, cond, name) unit_ok((u), !!(cond), (name), __LINE__)

/* unit_done: the binary's exit status. */
static inline int unit_done(const struct unit *u)
{
	return u->fail ? 1 : 0;
}

#endif
