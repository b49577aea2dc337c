/*
 * stubs_vm.c: the core services devices call (irq.c's irq_line, loop.c's
 * loop_stop), for unit tests that link devices but no KVM and no loop.
 * Each stub records what it was asked, so a test can check the interrupt
 * edges and stop requests a device produced.
 */
#include <errno.h>

#include "irq.h"
#include "loop.h"

/* Recorded calls; the tests declare these extern. */
unsigned stub_irq_calls;	/* irq_line calls */
unsigned stub_irq_gsi;		/* the last call's line */
int stub_irq_level = -1;	/* the last call's level */
int stub_irq_ret;		/* what irq_line returns (0 or -errno) */
unsigned stub_stop_calls;	/* loop_stop calls */
int stub_stop_status = -1;	/* the first stop status */

int irq_line(struct vm *vm, unsigned gsi, bool level)
{
	(void)vm;
	stub_irq_calls++;
	stub_irq_gsi = gsi;
	stub_irq_level = level;
	return stub_irq_ret;
}

/* As loop.c: the first request fixes the status (kept in the loop when there is one). */
void loop_stop(struct loop *loop, int status)
{
	stub_stop_calls++;
	if (stub_stop_status < 0)
		stub_stop_status = status;
	if (loop && !loop->stopping) {
		loop->stopping = true;
		loop->exit_status = status;
	}
}
