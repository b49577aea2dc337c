/*
 * stubs_vm.c: vm.c's device-facing entry points for unit tests that link
 * devices but no KVM. Each stub records what it was asked, so a test can
 * check the interrupt edges and stop requests a device produced.
 */
#include <errno.h>

#include "device.h"
#include "vm.h"

/* Recorded calls; the tests declare these extern. */
unsigned stub_irq_calls;	/* vm_irq_line calls */
unsigned stub_irq_gsi;		/* the last call's line */
int stub_irq_level = -1;	/* the last call's level */
int stub_irq_ret;		/* what vm_irq_line returns (0 or -errno) */
unsigned stub_stop_calls;	/* vm_request_stop calls */
int stub_stop_status = -1;	/* the first stop status */
int stub_add_dev_ret;		/* forced vm_add_dev result when non-zero */

int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	(void)vm;
	stub_irq_calls++;
	stub_irq_gsi = gsi;
	stub_irq_level = level;
	return stub_irq_ret;
}

/* As vm.c: the first request fixes the status. */
void vm_request_stop(struct vm *vm, int status)
{
	stub_stop_calls++;
	if (!vm->stopping) {
		vm->stopping = true;
		vm->exit_status = status;
		stub_stop_status = status;
	}
}

/* As vm.c: append to vm->dev, -ENOSPC when full. */
int vm_add_dev(struct vm *vm, const struct device_ops *ops, void *state)
{
	if (stub_add_dev_ret)
		return stub_add_dev_ret;
	if (vm->nr_devs == VM_MAX_DEVS)
		return -ENOSPC;
	vm->dev[vm->nr_devs++] = (struct vm_dev){ .ops = ops, .state = state };
	return 0;
}
