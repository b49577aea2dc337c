/*
 * main.c: ringvm's entry point: parse the command line, check the input
 * files, build the VM, run the loop until the guest stops, and exit with a
 * status that says why (src/log.h, man/ringvm.1 EXIT STATUS).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "cli.h"
#include "console.h"
#include "device.h"
#include "log.h"
#include "loop.h"
#include "pci.h"
#include "vcpu.h"
#include "vm.h"

/* main_check_host_memory: -m may not exceed the host's physical memory (HOSTILE.md H7). */
static void main_check_host_memory(const struct rv_config *cfg)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	uint64_t host;

	if (pages <= 0 || psz <= 0)
		return;
	host = (uint64_t)pages * (uint64_t)psz;
	if (cfg->mem_size > host)
		diex(RV_EXIT_USAGE, "memory size %" PRIu64 "M is more than the host has (%" PRIu64
		    "M)", cfg->mem_size >> 20, host >> 20);
}

int main(int argc, char **argv)
{
	struct rv_config cfg;
	struct console console;
	struct loop loop;
	struct vm vm;
	char err[256];
	int r;

	switch (cli_parse(argc, argv, &cfg, stdout, err, sizeof(err))) {
	case CLI_EXIT_OK:
		return 0;
	case CLI_ERROR:
		diex(RV_EXIT_USAGE, "%s", err);
	case CLI_RUN:
		break;
	}
	main_check_host_memory(&cfg);

	/* Every file and device spec is judged before KVM is touched. */
	memset(&vm, 0, sizeof(vm));
	vm.kvm_fd = vm.vm_fd = -1;
	arch_boot_check(&vm, &cfg);
	devices_check(&cfg);
	if (cfg.check_only)
		return 0;

	/* Before any thread exists, so every thread inherits the mask. */
	loop_block_signals();

	vm_create(&vm, &cfg);
	loop_init(&vm, &loop);
	console_init(&console, &vm, STDIN_FILENO, STDOUT_FILENO);
	pci_init(&vm);
	devices_setup(&vm);
	arch_boot_load(&vm, &cfg);
	vcpu_create_all(&vm);
	vcpu_start_all(&vm);

	/* From here on no path may die(): the terminal is ours until console_fini. */
	r = console_start(&console);
	if (r) {
		errno = -r;
		log_warn("cannot set up the terminal");
		vm.exit_status = RV_EXIT_FAILURE;
	} else {
		r = loop_run(&loop);
		if (r && !vm.stopping) {
			errno = -r;
			log_warn("event loop failed");
			vm.exit_status = RV_EXIT_FAILURE;
		}
	}

	/* Orderly shutdown: vCPUs out of KVM_RUN, guest output flushed, terminal back. */
	vcpu_stop_all(&vm);
	console_fini(&console);
	vcpu_destroy_all(&vm);
	vm_destroy(&vm);
	pci_fini(&vm);
	loop_fini(&loop);
	free(vm.arch.cmdline);
	return vm.exit_status;
}
