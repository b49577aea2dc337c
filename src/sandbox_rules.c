/*
 * sandbox_rules.c: the allow-lists, one per kind of thread: every system
 * call ringvm makes after setup, with the arguments it makes them with.
 * docs/SECURITY.md lists the same rules in words (each rule's `doc`);
 * tests/unit/test_sandbox.c fails when the two differ.
 *
 * What is left out, on purpose: execve and every way to make a process or
 * a thread (clone, clone3, fork, vfork), ptrace and process_vm_*, open and
 * openat (every file ringvm uses after setup is open by then, but the one
 * libslirp re-reads for the host's DNS server: see the openat rule), mmap and
 * mprotect with PROT_EXEC (no new code), socket families other than the
 * ones the network backends and vsock use, every ioctl except the named
 * requests, rt_sigaction (the SIGSYS report cannot be replaced),
 * prctl, seccomp, bpf, mount, setns, unshare and keyctl.
 *
 * Arguments are compared as the kernel reads them: an ioctl request or a
 * socket family with stray high bits matches no rule and traps.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <termios.h>

#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <seccomp.h>

#include "arch_types.h"
#include "sandbox.h"

#define EQ(n, v) { (n), SCMP_CMP_EQ, (uint64_t)(v), 0 }
/* MASKED(n, m, v): (argument n & m) == v. */
#define MASKED(n, m, v) { (n), SCMP_CMP_MASKED_EQ, (uint64_t)(m), (uint64_t)(v) }

#define ANY(name) { name, 0, { { 0, 0, 0, 0 } }, "", false }
#define ONE(name, a0, doc) { name, 1, { a0 }, doc, false }
#define TWO(name, a0, a1, doc) { name, 2, { a0, a1 }, doc, false }
#define END { NULL, 0, { { 0, 0, 0, 0 } }, NULL, false }

#define IOCTL(req) ONE("ioctl", EQ(1, req), #req)
#define NO_EXEC(name, argn) ONE(name, MASKED(argn, PROT_EXEC, 0), "prot without PROT_EXEC")

/*
 * The vCPU threads: KVM_RUN, the hand-off to the loop (a write to the
 * loop's eventfd, a semaphore), eating the stop kick, and leaving. The
 * SIGSYS report needs the terminal ioctl, getpid, write to stderr and
 * exit_group.
 */
static const struct sandbox_rule sandbox_vcpu_rules[] = {
	IOCTL(KVM_RUN),
	IOCTL(TCSETS),
	ANY("rt_sigtimedwait"),
	ANY("rt_sigprocmask"),
	ANY("rt_sigreturn"),
	ANY("futex"),
	ANY("getpid"),
	ANY("getuid"),
	ANY("gettid"),
	ANY("restart_syscall"),
	ONE("madvise", EQ(2, MADV_DONTNEED), "MADV_DONTNEED"),
	ONE("write", EQ(0, 2), "fd 2 (stderr)"),
	TWO("write", EQ(0, SANDBOX_HANDOFF_FD), EQ(2, 8), "the loop's hand-off eventfd, 8 bytes"),
	ANY("exit"),
	ANY("exit_group"),
	END,
};

/*
 * The loop thread: the event loop (epoll, the signalfd, eventfds), the
 * devices' emulation (KVM interrupt and notification ioctls), disk I/O
 * (io_uring, and pread/pwrite for the sync engine), the network backends
 * (TAP reads and writes, libslirp's sockets), vsock's AF_UNIX sockets,
 * the console, the allocator, and the orderly shutdown (joining the vCPU
 * threads, restoring the terminal, the disks' final flush).
 */
static const struct sandbox_rule sandbox_loop_rules[] = {
	/* The loop and its fds. */
	ANY("epoll_wait"),
	ANY("epoll_pwait"),
	ANY("epoll_ctl"),
	/* At exit: the console's and the command's last output wait for a slow reader. */
	ANY(ARCH_SYS_POLL),
	ANY("read"),
	ANY("readv"),
	ANY("write"),
	ANY("writev"),
	ANY("close"),
	ANY("getpid"),
	ANY("gettid"),
	ANY("clock_gettime"),
	ANY("rt_sigreturn"),
	ANY("rt_sigprocmask"),
	ANY("restart_syscall"),
	/* Disks: io_uring, the sync engine, flushes. */
	ANY("io_uring_enter"),
	ANY("pread64"),
	ANY("pwrite64"),
	ANY("preadv"),
	ANY("pwritev"),
	ANY("preadv2"),
	ANY("pwritev2"),
	ANY("fdatasync"),
	ANY("fsync"),
	ANY("fallocate"),
	/* Interrupts, notifications, TAP offloads, the terminal. */
	IOCTL(KVM_IRQ_LINE),
	IOCTL(KVM_SET_GSI_ROUTING),
	IOCTL(KVM_IRQFD),
	IOCTL(KVM_IOEVENTFD),
	IOCTL(TUNSETOFFLOAD),
	IOCTL(TCGETS),
	IOCTL(TCSETS),
	IOCTL(TCSETSW),
	IOCTL(TCSETSF),
	IOCTL(TIOCGWINSZ),
	/* Sockets: libslirp's way out (IPv4, IPv6, ping), vsock's AF_UNIX peers. */
	ONE("socket", EQ(0, AF_UNIX), "AF_UNIX"),
	ONE("socket", EQ(0, AF_INET), "AF_INET"),
	ONE("socket", EQ(0, AF_INET6), "AF_INET6"),
	ONE("socketpair", EQ(0, AF_UNIX), "AF_UNIX (a vsock port served inside ringvm: the command runner)"),
	ANY("connect"),
	ANY("accept"),
	ANY("accept4"),
	ANY("bind"),
	ANY("listen"),
	ANY("shutdown"),
	ANY("sendto"),
	ANY("recvfrom"),
	ANY("sendmsg"),
	ANY("recvmsg"),
	ANY("setsockopt"),
	ANY("getsockopt"),
	ANY("getsockname"),
	ANY("getpeername"),
	ONE("fcntl", EQ(1, F_GETFL), "F_GETFL"),
	ONE("fcntl", EQ(1, F_SETFL), "F_SETFL"),
	ONE("fcntl", EQ(1, F_GETFD), "F_GETFD"),
	ONE("fcntl", EQ(1, F_SETFD), "F_SETFD"),
	/* Memory: the allocator; never executable. */
	NO_EXEC("mmap", 2),
	NO_EXEC("mprotect", 2),
	ANY("munmap"),
	ANY("mremap"),
	ANY("brk"),
	ANY("madvise"),
	ANY("getrandom"),
	/* Files a device reads after setup (vm->runtime_paths); Landlock allows only those. */
	{ "openat", 1, { EQ(2, O_RDONLY) }, "flags O_RDONLY exactly; only when a device reads "
	    "a file after setup (-n user: /etc/resolv.conf), and Landlock allows only those files",
	    true },
	/* The vCPUs: kick out of KVM_RUN, wake, join. */
	TWO("tgkill", EQ(0, SANDBOX_SELF_PID), EQ(2, SANDBOX_SIG_KICK),
	    "to ringvm's own threads, SIG_LOOP_KICK"),
	ANY("futex"),
	ANY("exit_group"),
	END,
};

#if defined(__SANITIZE_ADDRESS__)
/*
 * Sanitizer builds only (./configure --enable-sanitizers), on every
 * thread: what AddressSanitizer's runtime does on its own (reading
 * /proc/self/maps for a report, yielding while it waits). Its leak check
 * at exit and its symbolizer would need ptrace and exec: sandbox.c turns
 * both off by default in these builds (LSAN_OPTIONS can turn the leak
 * check back on with --sandbox off).
 */
const struct sandbox_rule sandbox_sanitizer_rules[] = {
	ONE("openat", MASKED(2, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY), "read-only"),
	ANY(ARCH_SYS_READLINK),
	ANY("sched_yield"),
	ANY("sigaltstack"),
	NO_EXEC("mmap", 2),
	ANY("munmap"),
	ANY("madvise"),
	ANY("newfstatat"),
	ANY("fstat"),
	END,
};
#endif

const struct sandbox_rule *const sandbox_rules[SANDBOX_NR_THREADS] = {
	[SANDBOX_LOOP] = sandbox_loop_rules,
	[SANDBOX_VCPU] = sandbox_vcpu_rules,
};

const char *const sandbox_thread_names[SANDBOX_NR_THREADS] = {
	[SANDBOX_LOOP] = "loop",
	[SANDBOX_VCPU] = "vcpu",
};
