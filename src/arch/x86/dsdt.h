/* dsdt.h (x86): the DSDT body from the PCI bus and the devices' descriptions (dsdt.c). */
#ifndef RINGVM_X86_DSDT_H
#define RINGVM_X86_DSDT_H

#include <stddef.h>

struct vm;
struct aml;

/*
 * dsdt_build: append \_S5 and \_SB (PCI0, then each created instance that
 * describes itself, in device-table order) to `aml`. Returns 0, or -errno
 * with a one-line reason in err (a description x86 cannot express, or a
 * full buffer).
 */
int dsdt_build(const struct vm *vm, struct aml *aml, char *err, size_t errlen);

#endif
