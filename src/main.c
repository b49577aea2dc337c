/*
 * main.c: ringvm's entry point and the one place that wires the core
 * together and reports setup failures: parse the command line, check the
 * input files, build the VM, run the loop until the guest stops, tear
 * everything down in order, and exit with a status that says why
 * (src/log.h, man/ringvm.1 EXIT STATUS).
 *
 * Every setup step returns 0 or -errno with a struct rv_err; main_fail
 * prints it and exits. Nothing below main calls back up into it, and
 * main alone calls across the layers (docs/ARCHITECTURE.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "cli.h"
#include "confine.h"
#include "console.h"
#include "device.h"
#include "devinst.h"
#include "log.h"
#include "loop.h"
#include "pci.h"
#include "runner.h"
#include "sandbox.h"
#include "vcpu.h"
#include "vm.h"

/*
 * main_fail: the one report of a setup failure. Before the terminal is
 * touched. A run with a command says 125 whatever the cause (runner.h).
 */
static _Noreturn void main_fail(const struct rv_config *cfg, const struct rv_err *e)
{
	diex(cfg->run.argc ? RUNNER_EXIT_FAILED : e->status ? e->status : RV_EXIT_FAILURE, "%s",
	    e->msg);
}

/* main_wants_command: argv has "--": its errors too are the command mode's (125). */
static bool main_wants_command(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			return true;
	return false;
}

/*
 * main_console_fds: the guest console's fds. Without a command, the
 * terminal; with one, stdin and stdout are the command's, so the console
 * reads nothing and writes to --console FILE or nowhere.
 */
static int main_console_fds(const struct rv_config *cfg, int fds[2], struct rv_err *err)
{
	if (!cfg->run.argc) {
		fds[0] = STDIN_FILENO;
		fds[1] = STDOUT_FILENO;
		return 0;
	}
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[1] = cfg->run.console ? open(cfg->run.console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644) : open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fds[0] < 0 || fds[1] < 0)
		return rv_fail(err, RUNNER_EXIT_FAILED, errno, "cannot open %s",
		    fds[1] < 0 && cfg->run.console ? cfg->run.console : "/dev/null");
	return 0;
}

/*
 * main_close_inherited: close every inherited fd from 3 up but those the
 * command line names (devinst_inherited_fds), which stay for their devices.
 */
static int main_close_inherited(const struct rv_config *cfg, struct rv_err *err)
{
	int keep[RV_MAX_INSTANCES];
	unsigned n = devinst_inherited_fds(cfg, keep, RV_MAX_INSTANCES);

	if (n > RV_MAX_INSTANCES)
		n = RV_MAX_INSTANCES;
	/* Sorted, duplicates dropped: confine_inherited_fds closes the gaps between them. */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (unsigned i = 1; i < n; i++)
		if (keep[i] == keep[i - 1]) {
			memmove(&keep[i], &keep[i + 1], (n - i - 1) * sizeof(keep[0]));
			n--;
			i--;
		}
	return confine_inherited_fds(keep, n, err);
}

/* main_check_host_memory: -m may not exceed the host's physical memory (HOSTILE.md H7). */
static int main_check_host_memory(const struct rv_config *cfg, struct rv_err *err)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	uint64_t host;

	if (pages <= 0 || psz <= 0)
		return 0;
	host = (uint64_t)pages * (uint64_t)psz;
	if (cfg->mem_size > host)
		return rv_fail(err, RV_EXIT_USAGE, 0, "memory size %" PRIu64 "M is more than the "
		    "host has (%" PRIu64 "M)", cfg->mem_size >> 20, host >> 20);
	return 0;
}

/* main_check: judge every file and device spec before KVM is touched. */
static int main_check(struct vm *vm, struct rv_config *cfg, struct rv_err *err)
{
	int r = main_check_host_memory(cfg, err);

	/* The command mode's own initramfs and root disk come first: the checks below see them. */
	if (r || (r = runner_boot_prepare(cfg, err)) || (r = arch_boot_check(vm, cfg, err)))
		return r;
	r = devinst_check(cfg, err->msg, sizeof(err->msg));
	if (r)
		err->status = RV_EXIT_BADFILE;
	return r;
}

/*
 * main_setup: the VM and its vCPUs, its services and devices, the boot
 * image, in that order; then the vCPUs go.
 */
static int main_setup(struct vm *vm, struct rv_config *cfg, struct loop *loop,
    struct console *console, struct runner *runner, struct sandbox *sb, struct rv_err *err)
{
	int fds[2], r;

	/* The filters, no_new_privs and the SIGSYS report, before any thread exists. */
	r = sandbox_prepare(sb, !cfg->sandbox_off, err);
	if (r)
		return r;
	vm->sandbox = sb;
	/* Before any thread exists, so every thread inherits the mask. */
	r = loop_block_signals();
	if (r)
		return rv_fail(err, RV_EXIT_FAILURE, -r, "pthread_sigmask");
	/*
	 * The vCPUs right after the VM: an interrupt controller may need them
	 * all before it routes anything (arm64's vGIC initialises once every
	 * vCPU exists, and KVM takes no irqfd before that).
	 */
	if ((r = vm_create(vm, cfg, err)) || (r = vcpu_create_all(vm, err)) ||
	    (r = irq_init(vm, err)))
		return r;
	r = loop_init(loop, err->msg, sizeof(err->msg));
	if (r)
		return err->status = RV_EXIT_FAILURE, r;
	vm->loop = loop;
	loop_set_handoff(loop, vcpu_handle_exit, vm);
	r = main_console_fds(cfg, fds, err);
	if (r)
		return r;
	console_init(console, loop, fds[0], fds[1]);
	vm->console = console;
	if ((r = pci_init(vm, err)) || (r = arch_pci_init(vm, vm->pci, err)))
		return r;
	r = devinst_create(vm, cfg, err->msg, sizeof(err->msg));
	if (r)
		return err->status = RV_EXIT_FAILURE, r;
	if (cfg->run.argc && (r = runner_start(runner, vm, err)))
		return r;
	/* The filters now that the devices have said which files they read later. */
	sb->handoff_fd = loop->handoff_fd;
	r = sandbox_arm(sb, vm->runtime_paths, vm->nr_runtime_paths, err);
	if (r)
		return r;
	/* --dump-dtb: the device tree is written (arch_boot_load); nothing runs. */
	if ((r = arch_boot_load(vm, cfg, err)) || cfg->dump_dtb)
		return r;
	return vcpu_start_all(vm, err);
}

/*
 * main_confine: the end of setup: limits, capabilities and dumps for the
 * process, then the loop thread's Landlock and seccomp filter, then the
 * vCPUs go (each confined already). Returns 0 or -errno with err filled.
 */
static int main_confine(struct vm *vm, const struct rv_config *cfg, struct console *console,
    struct runner *runner, struct rv_err *err)
{
	struct confine_conf c = { .no_dumps = !cfg->sandbox_off, .runtime_fds = vm->runtime_fds,
	    .output_fds = { STDOUT_FILENO, STDERR_FILENO, console->out_h.io,
	    runner ? runner->result_fd : -1 }, .nr_output = 4 };
	struct confine_report rep;
	int r = confine_process(&c, &rep, err);

	if (r)
		return r;
	r = sandbox_enter(vm->sandbox, SANDBOX_LOOP);
	if (r)
		return rv_fail(err, RV_EXIT_FAILURE, -r, "sandbox: cannot confine the loop thread");
	vcpu_release_all(vm);
	return 0;
}

/* main_run: the terminal, confinement, then the loop until a stop. Returns the exit status. */
static int main_run(struct vm *vm, const struct rv_config *cfg, struct loop *loop,
    struct console *console, struct runner *runner)
{
	/* From here on no path may die(): the terminal is ours until console_fini. */
	struct rv_err err = { 0 };
	int r = console_start(console);

	if (r) {
		errno = -r;
		log_warn("cannot set up the terminal");
		loop_stop(loop, RV_EXIT_FAILURE);
	} else if (main_confine(vm, cfg, console, runner, &err)) {
		log_warnx("%s", err.msg);
		loop_stop(loop, runner ? RUNNER_EXIT_FAILED : RV_EXIT_FAILURE);
	} else {
		r = loop_run(loop);
		if (r && !loop->stopping) {
			errno = -r;
			log_warn("event loop failed");
			loop_stop(loop, RV_EXIT_FAILURE);
		}
	}
	return loop->exit_status;
}

int main(int argc, char **argv)
{
	struct rv_config cfg;
	struct console console;
	struct runner *runner = NULL;
	struct loop loop;
	struct sandbox sandbox;
	struct vm vm;
	struct rv_err err = { 0 };
	int status;

	switch (cli_parse(argc, argv, &cfg, stdout, err.msg, sizeof(err.msg))) {
	case CLI_EXIT_OK:
		return 0;
	case CLI_ERROR:
		diex(main_wants_command(argc, argv) ? RUNNER_EXIT_FAILED : RV_EXIT_USAGE, "%s",
		    err.msg);
	case CLI_RUN:
		break;
	}
	/* Nothing a parent leaked to us reaches the guest's devices; -n tap,fd=N's fd stays. */
	if (main_close_inherited(&cfg, &err))
		main_fail(&cfg, &err);
	/* The session's buffers (a few frames) live on the heap, not main's stack. */
	if (cfg.run.argc && !(runner = calloc(1, sizeof(*runner))))
		diex(RUNNER_EXIT_FAILED, "out of memory");
	memset(&vm, 0, sizeof(vm));
	memset(&loop, 0, sizeof(loop));
	vm.kvm_fd = vm.vm_fd = loop.sig_fd = -1;
	if (main_check(&vm, &cfg, &err))
		main_fail(&cfg, &err);
	if (cfg.check_only) {
		arch_boot_fini(&vm);
		runner_boot_free(&cfg);
		devinst_free(&cfg);
		free(runner);
		return 0;
	}
	if (main_setup(&vm, &cfg, &loop, &console, runner, &sandbox, &err))
		main_fail(&cfg, &err);
	status = cfg.dump_dtb ? RV_EXIT_POWEROFF : main_run(&vm, &cfg, &loop, &console, runner);

	/* Orderly shutdown: vCPUs out of KVM_RUN, guest output flushed, terminal back. */
	vcpu_stop_all(&vm);
	console_fini(&console);
	vcpu_destroy_all(&vm);
	if (runner)
		status = runner_finish(runner, status);
	/* Rule 10: a broken promise to the guest (a disk's final flush) never exits 0. */
	if (devinst_destroy(&vm, &cfg))
		status = runner ? RUNNER_EXIT_FAILED : RV_EXIT_FAILURE;
	if (vm.pci)
		arch_pci_fini(&vm, vm.pci);
	pci_fini(&vm);
	irq_fini(&vm);
	vm_destroy(&vm);
	loop_fini(&loop);
	arch_boot_fini(&vm);
	runner_boot_free(&cfg);
	devinst_free(&cfg);
	free(runner);
	sandbox_free(&sandbox);
	return status;
}
