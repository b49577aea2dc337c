/*
 * test_irq.c: the real GSI routing code (src/irq.c) against a recording
 * KVM: every KVM ioctl is answered here. Unused routes hold the
 * always-invalid GSI (issue 14, S5); a routing table KVM refuses leaves the
 * previous one in force, in KVM and in ringvm's state, and staged changes
 * to several routes go to KVM as one table (S4).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "irq.h"
#include "unit.h"
#include "vm.h"

static struct unit u = { .file = "irq" };

/* The recording KVM. */
static unsigned tables;			/* KVM_SET_GSI_ROUTING calls accepted */
static unsigned refuse;			/* refuse this many more with ENOMEM */
static struct kvm_irq_routing_entry last[IRQ_MAX_ROUTES];
static unsigned last_nr;
static unsigned last_line;	/* the last KVM_IRQ_LINE */
static int last_level = -1, refuse_line;

int ioctl(int fd, unsigned long request, ...)
{
	const struct kvm_irq_routing *t;
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (_IOC_TYPE(request) != KVMIO)
		return (int)syscall(SYS_ioctl, fd, request, arg);
	if (request == KVM_IRQ_LINE) {
		const struct kvm_irq_level *l = arg;

		last_line = l->irq;
		last_level = (int)l->level;
		return refuse_line ? (errno = EINVAL, -1) : 0;
	}
	if (request != KVM_SET_GSI_ROUTING)
		return 0;		/* KVM_IRQFD and the rest: accepted */
	if (refuse) {
		refuse--;
		errno = ENOMEM;
		return -1;
	}
	t = arg;
	tables++;
	last_nr = t->nr < IRQ_MAX_ROUTES ? t->nr : IRQ_MAX_ROUTES;
	memcpy(last, t->entries, last_nr * sizeof(last[0]));
	return 0;
}

/* msi_in_table: the last accepted table routes `gsi` to (addr, data). */
static int msi_in_table(uint32_t gsi, uint64_t addr, uint32_t data)
{
	for (unsigned i = 0; i < last_nr; i++)
		if (last[i].gsi == gsi && last[i].type == KVM_IRQ_ROUTING_MSI)
			return last[i].u.msi.address_lo == (uint32_t)addr &&
			    last[i].u.msi.address_hi == (uint32_t)(addr >> 32) &&
			    last[i].u.msi.data == data;
	return 0;
}

static unsigned msi_entries(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < last_nr; i++)
		n += last[i].type == KVM_IRQ_ROUTING_MSI;
	return n;
}

int main(void)
{
	static struct vm vm;
	int a, b, c;
	bool sentinel = true;
	unsigned before;

	struct rv_err e;

	vm.vm_fd = -1;
	UNIT_OK(&u, irq_init(&vm, &e) == 0, "init succeeds");
	for (unsigned i = 0; i < IRQ_MAX_MSI; i++)
		sentinel &= vm.irq.msi[i].gsi == IRQ_NONE_GSI && vm.irq.msi[i].fd == -1;
	UNIT_OK(&u, sentinel, "S5: every unused route holds IRQ_NONE_GSI and no fd");
	UNIT_OK(&u, tables == 1 && last_nr == ARCH_IRQCHIP_ROUTES && msi_entries() == 0,
	    "init: one table, the I/O APIC pins and the PIC, no MSI");
	UNIT_OK(&u, irq_line(&vm, 4, true) == 0 && last_line == 4 && last_level == 1 &&
	    irq_line(&vm, 4, false) == 0 && last_level == 0, "irq_line drives the line through KVM");
	refuse_line = 1;
	UNIT_OK(&u, irq_line(&vm, 4, true) == -EINVAL, "irq_line: KVM's refusal comes back as -errno");
	refuse_line = 0;
	a = irq_msi_alloc(&vm, 8);
	b = irq_msi_alloc(&vm, 8);
	c = irq_msi_alloc(&vm, 8);
	UNIT_OK(&u, a == 0 && b == 1 && c == 2 && vm.irq.msi[0].gsi == IRQ_MSI_GSI_BASE &&
	    vm.irq.msi[2].gsi == IRQ_MSI_GSI_BASE + 2 && vm.irq.msi[3].gsi == IRQ_NONE_GSI,
	    "S5: allocated routes get real GSIs from 24; the rest keep the sentinel");
	UNIT_OK(&u, irq_msi_set(&vm, 0, true, 0xfee00000, 0x41) == 0 &&
	    msi_in_table(IRQ_MSI_GSI_BASE, 0xfee00000, 0x41) && irq_msi_routed(&vm, 0),
	    "route 0 in force");

	/* S4: KVM refuses the next table. */
	before = tables;
	refuse = 1;
	UNIT_OK(&u, irq_msi_set(&vm, 1, true, 0xfee01000, 0x42) == -ENOMEM,
	    "S4: a refused table is reported (-ENOMEM)");
	UNIT_OK(&u, !irq_msi_routed(&vm, 1) && !vm.irq.msi[1].valid,
	    "S4: the refused route is not recorded as in force");
	UNIT_OK(&u, irq_msi_routed(&vm, 0) && tables == before,
	    "S4: the previous routing stays in force (route 0, KVM's table unchanged)");
	UNIT_OK(&u, irq_msi_set(&vm, 1, true, 0xfee01000, 0x42) == 0 &&
	    msi_in_table(IRQ_MSI_GSI_BASE + 1, 0xfee01000, 0x42) &&
	    msi_in_table(IRQ_MSI_GSI_BASE, 0xfee00000, 0x41) && msi_entries() == 2,
	    "S4: the same change, tried again, goes through with route 0 kept");
	refuse = 1;
	UNIT_OK(&u, irq_msi_set(&vm, 0, false, 0, 0) == -ENOMEM && irq_msi_routed(&vm, 0) &&
	    vm.irq.msi[0].valid, "S4: a refused unroute leaves the route in force, as KVM has it");

	/* Staged changes to several routes: one table. */
	before = tables;
	irq_msi_stage(&vm, 0, false, 0, 0);
	irq_msi_stage(&vm, 1, false, 0, 0);
	irq_msi_stage(&vm, 2, true, 0xfee02000, 0x43);
	UNIT_OK(&u, tables == before, "staging tells KVM nothing");
	UNIT_OK(&u, irq_msi_commit(&vm) == 0 && tables == before + 1 && msi_entries() == 1 &&
	    msi_in_table(IRQ_MSI_GSI_BASE + 2, 0xfee02000, 0x43),
	    "three staged changes go to KVM as one table");
	UNIT_OK(&u, irq_msi_commit(&vm) == 0 && tables == before + 1,
	    "a commit with nothing staged sends nothing");
	UNIT_OK(&u, irq_msi_set(&vm, 2, true, 0xfee02000, 0x43) == 0 && tables == before + 1,
	    "setting a route to what it is sends nothing");
	UNIT_OK(&u, irq_msi_stage(&vm, 7, true, 0, 0) == -EINVAL && irq_msi_set(&vm, 3, true, 0, 0) == -EINVAL,
	    "an index never allocated is refused");
	/* An ITS (arm64) translates by sender: the routes then carry the requester ID. */
	UNIT_OK(&u, last[last_nr - 1].flags == 0 && last[last_nr - 1].u.msi.devid == 0,
	    "without msi_devid a route has no device ID (x86)");
	vm.msi_devid = true;
	UNIT_OK(&u, irq_msi_set(&vm, 2, true, 0xfee03000, 0x44) == 0 &&
	    last[last_nr - 1].type == KVM_IRQ_ROUTING_MSI &&
	    last[last_nr - 1].flags == KVM_MSI_VALID_DEVID && last[last_nr - 1].u.msi.devid == 8,
	    "with msi_devid the route carries the sender's requester ID (slot 1: 8)");
	vm.msi_devid = false;
	irq_fini(&vm);
	UNIT_OK(&u, vm.irq.nr_msi == 0 && vm.irq.msi[0].gsi == IRQ_NONE_GSI && vm.irq.msi[0].fd == -1,
	    "S5: fini puts the sentinel back");
	printf("# irq: %u passed, %u failed\n", u.pass, u.fail);
	return unit_done(&u);
}
