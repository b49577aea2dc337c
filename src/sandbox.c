/*
 * sandbox.c: compile the allow-lists of src/sandbox_rules.c into seccomp
 * filters with libseccomp, load them thread by thread, and report a
 * violation (contracts and the reasons for the design in sandbox.h).
 *
 * The filters are compiled once, at setup, into plain BPF programs, so a
 * thread loads its own with one seccomp(2) call: no allocation and no
 * libseccomp state shared between threads. A filter binds only the thread
 * that loads it (no TSYNC), which is what gives the loop and the vCPUs
 * different lists.
 *
 * Exported (contracts in sandbox.h): sandbox_prepare, sandbox_arm,
 * sandbox_enter, sandbox_free, sandbox_build.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <linux/seccomp.h>

#include "arch_types.h"
#include "loop.h"
#include "sandbox.h"
/* After loop.h: seccomp.h pulls in elf.h, whose EV_NONE macro breaks ev.h's enum. */
#include <seccomp.h>

/*
 * The one piece of file-scope state: a SIGSYS handler has no argument of
 * ours, and it must reach the names and the terminal. Set once by
 * sandbox_prepare, before any thread exists; read only by the handler.
 */
static const struct sandbox *sandbox_current;

#if defined(__SANITIZE_ADDRESS__)
/*
 * Sanitizer builds: LeakSanitizer's check at exit attaches to the threads
 * with ptrace from a cloned thread, and the symbolizer is a process of its
 * own: neither can run in the sandbox. Reports stay (unsymbolized);
 * LSAN_OPTIONS=detect_leaks=1 with --sandbox off brings the leak check back.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0:symbolize=0";
}
#endif

/* sandbox_datum: a rule's datum, with the placeholders filled in. */
static uint64_t sandbox_datum(uint64_t d, int handoff_fd)
{
	switch (d) {
	case SANDBOX_SELF_PID: return (uint64_t)getpid();
	case SANDBOX_SIG_KICK: return (uint64_t)SIG_LOOP_KICK;
	/* An fd as the kernel reads it: a 32-bit int (-1, no fd, matches nothing). */
	case SANDBOX_HANDOFF_FD: return (uint64_t)(uint32_t)handoff_fd;
	default: return d;
	}
}

/* sandbox_add: one rule into `ctx`. Returns 0 or -errno. */
static int sandbox_add(scmp_filter_ctx ctx, const struct sandbox_rule *r, int handoff_fd)
{
	struct scmp_arg_cmp cmp[SANDBOX_MAX_ARGS];
	int nr = seccomp_syscall_resolve_name(r->name);

	/*
	 * A name libseccomp does not know is a mistake in the list. One it
	 * knows that this architecture lacks (epoll_wait on arm64) resolves to
	 * a negative pseudo number: no rule needed, nothing can make that call.
	 */
	if (nr == __NR_SCMP_ERROR)
		return -ENOSYS;
	if (nr < 0)
		return 0;
	for (unsigned i = 0; i < r->nargs; i++) {
		const struct sandbox_arg *a = &r->args[i];

		cmp[i] = (struct scmp_arg_cmp){ .arg = a->arg, .op = (enum scmp_compare)a->op,
		    .datum_a = sandbox_datum(a->a, handoff_fd),
		    .datum_b = sandbox_datum(a->b, handoff_fd) };
	}
	return seccomp_rule_add_exact_array(ctx, SCMP_ACT_ALLOW, nr, r->nargs, cmp);
}

int sandbox_build(enum sandbox_thread t, bool files, int handoff_fd, struct sock_fprog *prog)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int fd = -1, r;
	off_t len;

	if (!ctx)
		return -ENOMEM;
	/* no_new_privs is set by sandbox_prepare itself, for every thread, on or off. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (const struct sandbox_rule *rule = sandbox_rules[t]; !r && rule->name; rule++)
		if (files || !rule->files)
			r = sandbox_add(ctx, rule, handoff_fd);
#if defined(__SANITIZE_ADDRESS__)
	for (const struct sandbox_rule *rule = sandbox_sanitizer_rules; !r && rule->name; rule++)
		r = sandbox_add(ctx, rule, handoff_fd);
#endif
	/* libseccomp writes BPF only to an fd: a memfd keeps it in memory. */
	if (!r && (fd = memfd_create("ringvm-seccomp", MFD_CLOEXEC)) < 0)
		r = -errno;
	if (!r)
		r = seccomp_export_bpf(ctx, fd);
	if (!r && (len = lseek(fd, 0, SEEK_END)) <= 0)
		r = -EIO;
	if (!r) {
		prog->len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
		prog->filter = malloc((size_t)len);
		if (!prog->filter)
			r = -ENOMEM;
		else if (pread(fd, prog->filter, (size_t)len, 0) != len)
			r = -EIO;
		if (r) {
			free(prog->filter);
			prog->filter = NULL;
		}
	}
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return r;
}

/* sandbox_put: append `s` to line[*n] within `len` (async-signal-safe). */
static void sandbox_put(char *line, size_t len, size_t *n, const char *s)
{
	while (*s && *n + 1 < len)
		line[(*n)++] = *s++;
}

/* sandbox_put_num: append the decimal `v`. */
static void sandbox_put_num(char *line, size_t len, size_t *n, unsigned long v)
{
	char d[24];
	int i = (int)sizeof(d) - 1;

	d[i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	sandbox_put(line, len, n, d + i);
}

/* sandbox_put_hex: append "0x" and the hexadecimal `v`. */
static void sandbox_put_hex(char *line, size_t len, size_t *n, unsigned long v)
{
	char d[24];
	int i = (int)sizeof(d) - 1;

	d[i] = '\0';
	do {
		d[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v && i > 2);
	d[--i] = 'x';
	d[--i] = '0';
	sandbox_put(line, len, n, d + i);
}

/*
 * sandbox_on_sigsys: a filter refused a call. Async-signal-safe: the
 * thread may have been anywhere, the malloc lock held included. Restores
 * the terminal (a raw terminal would outlive us), writes one line, exits.
 */
static void sandbox_on_sigsys(int sig, siginfo_t *si, void *uc)
{
	const struct sandbox *sb = sandbox_current;
	int nr = si->si_syscall;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	char line[200];
	size_t n = 0;

	(void)sig;
	if (sb && sb->tty_fd >= 0)
		ioctl(sb->tty_fd, TCSETS, &sb->tty);
	/* A raw terminal may have its cursor mid-line: start a fresh one. */
	sandbox_put(line, sizeof(line), &n, sb && sb->tty_fd >= 0 ? "\r\n" : "");
	sandbox_put(line, sizeof(line), &n, "ringvm: sandbox: the ");
	sandbox_put(line, sizeof(line), &n, tid == getpid() ? "loop" : "vCPU");
	sandbox_put(line, sizeof(line), &n, " thread made a system call it is not allowed: ");
	if (sb && sb->names && nr >= 0 && nr < SANDBOX_NAMES_MAX && sb->names[nr][0])
		sandbox_put(line, sizeof(line), &n, sb->names[nr]);
	else
		sandbox_put(line, sizeof(line), &n, "syscall");
	sandbox_put(line, sizeof(line), &n, " (");
	sandbox_put_num(line, sizeof(line), &n, (unsigned long)nr);
	/* The first arguments: an ioctl request, a socket family, mmap's prot. */
	for (int i = 0; i < 3; i++) {
		sandbox_put(line, sizeof(line), &n, i ? ", " : ", arguments ");
		sandbox_put_hex(line, sizeof(line), &n, ARCH_SYSCALL_ARG((ucontext_t *)uc, i));
	}
	sandbox_put(line, sizeof(line), &n, "); stopping\n");
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nothing left to tell it to. */
	}
	/* The system call itself: sanitizer builds wrap _exit in code the filters refuse. */
	syscall(SYS_exit_group, RV_EXIT_SANDBOX);
}

/* sandbox_names: the report's table of system call names, filled now. */
static int sandbox_names(struct sandbox *sb)
{
	sb->names = calloc(SANDBOX_NAMES_MAX, sizeof(*sb->names));
	if (!sb->names)
		return -ENOMEM;
	for (int nr = 0; nr < SANDBOX_NAMES_MAX; nr++) {
		char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (s) {
			strncpy(sb->names[nr], s, SANDBOX_NAME_LEN - 1);
			free(s);
		}
	}
	return 0;
}

int sandbox_prepare(struct sandbox *sb, bool on, struct rv_err *err)
{
	struct sigaction sa;
	int r;

	memset(sb, 0, sizeof(*sb));
	sb->tty_fd = -1;
	sb->handoff_fd = -1;
	sb->landlock.fd = -1;
	sb->on = on;
	/* Whatever runs later (nothing should) runs with no more privilege than ringvm has. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	if (!on)
		return 0;
	r = sandbox_names(sb);
	if (r)
		return rv_fail(err, RV_EXIT_FAILURE, -r, "sandbox: system call names");
	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &sb->tty))
		sb->tty_fd = STDIN_FILENO;
#ifdef RINGVM_TEST_HOOKS
	sb->trigger = getenv("RINGVM_TEST_SANDBOX");
#endif
	sandbox_current = sb;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);	/* nothing interrupts the report */
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "sigaction(SIGSYS)");
	return 0;
}

int sandbox_arm(struct sandbox *sb, const char *const *paths, unsigned n, struct rv_err *err)
{
	int r;

	if (!sb->on)
		return 0;
	for (int t = 0; t < SANDBOX_NR_THREADS; t++) {
		r = sandbox_build((enum sandbox_thread)t, n > 0, sb->handoff_fd, &sb->prog[t]);
		if (r)
			return rv_fail(err, RV_EXIT_FAILURE, -r, "sandbox: cannot build the %s "
			    "thread's seccomp filter", sandbox_thread_names[t]);
	}
	r = landlock_prepare(&sb->landlock, paths, n);
	if (r)
		return rv_fail(err, RV_EXIT_FAILURE, -r, "sandbox: Landlock ruleset");
	/* Without Landlock, seccomp cannot tell one path from another: say what that costs. */
	if (n && sb->landlock.fd < 0)
		log_warnx("this kernel has no Landlock: %s is read after start, so the sandbox "
		    "cannot keep ringvm from reading other files", paths[0]);
	return 0;
}

#ifdef RINGVM_TEST_HOOKS
/*
 * sandbox_test_trigger: test builds only (obj/ringvm-test; never the
 * installed binary): RINGVM_TEST_SANDBOX=KIND:CALL makes the first thread
 * of KIND ("loop" or "vcpu") that enters the sandbox make a forbidden
 * call, and the test checks the documented death (tests/host/sandbox.sh).
 */
static void sandbox_test_trigger(const struct sandbox *sb, enum sandbox_thread t)
{
	const char *k = sb->trigger, *call;
	size_t len = strlen(sandbox_thread_names[t]);

	if (!k || strncmp(k, sandbox_thread_names[t], len) || k[len] != ':')
		return;
	call = k + len + 1;
	if (!strcmp(call, "execve"))
		execl("/bin/true", "true", (char *)NULL);
	else if (!strcmp(call, "ptrace"))
		syscall(SYS_ptrace, 0, 0, 0, 0);
	else if (!strcmp(call, "mmap-exec"))
		mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else if (!strcmp(call, "socket-packet"))
		socket(AF_PACKET, SOCK_RAW, 0);
	else if (!strcmp(call, "open-write"))
		open("/tmp/ringvm-sandbox-test", O_WRONLY | O_CREAT, 0600);
	else if (!strcmp(call, "ioctl-create-vm"))
		ioctl(0, 0xAE01 /* KVM_CREATE_VM */, 0);
	else if (!strcmp(call, "fork"))
		syscall(SYS_fork);
}
#endif

int sandbox_enter(struct sandbox *sb, enum sandbox_thread t)
{
	int r;

	if (!sb || !sb->on)
		return 0;
	r = landlock_enter(&sb->landlock);
	if (r)
		return r;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &sb->prog[t]) < 0)
		return -errno;
#ifdef RINGVM_TEST_HOOKS
	sandbox_test_trigger(sb, t);
#endif
	return 0;
}

void sandbox_free(struct sandbox *sb)
{
	for (int t = 0; t < SANDBOX_NR_THREADS; t++) {
		free(sb->prog[t].filter);
		sb->prog[t].filter = NULL;
	}
	free(sb->names);
	sb->names = NULL;
	landlock_fini(&sb->landlock);
}
