/*
 * test_sandbox.c: the seccomp allow-lists (src/sandbox_rules.c) against
 * docs/SECURITY.md, and the compiled filters against the kernel.
 *
 * - Every rule of every thread appears in SECURITY.md's table for that
 *   thread, with the same argument text, and the table has no other row.
 * - Each filter compiles, and in a forked child that loads it: allowed
 *   calls work, and forbidden ones (execve, fork, an ioctl request or a
 *   socket family not on the list, mmap with PROT_EXEC) end the child
 *   with SIGSYS.
 * - The Landlock ruleset grants reading the files it names and nothing else.
 *
 * `test_sandbox --print` writes the tables in SECURITY.md's form.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/seccomp.h>

#include "landlock.h"
#include "sandbox.h"
#include "unit.h"

/* test_row: the table row of one rule, as SECURITY.md writes it. */
static void test_row(const struct sandbox_rule *r, char *buf, size_t len)
{
	snprintf(buf, len, "| `%s` | %s |", r->name, r->doc[0] ? r->doc : "any");
}

static unsigned test_count_calls(enum sandbox_thread t)
{
	unsigned n = 0;

	for (const struct sandbox_rule *r = sandbox_rules[t]; r->name; r++) {
		const struct sandbox_rule *p = sandbox_rules[t];

		while (p < r && strcmp(p->name, r->name))
			p++;
		n += p == r;
	}
	return n;
}

static void test_print(void)
{
	char row[256];

	for (int t = 0; t < SANDBOX_NR_THREADS; t++) {
		printf("### %s thread: %u system calls\n\n| system call | arguments allowed |\n"
		    "|---|---|\n", sandbox_thread_names[t], test_count_calls((enum sandbox_thread)t));
		for (const struct sandbox_rule *r = sandbox_rules[t]; r->name; r++) {
			test_row(r, row, sizeof(row));
			printf("%s\n", row);
		}
		printf("\n");
	}
}

/*
 * test_doc: the rows under "### THREAD thread:" in `doc` up to the next
 * heading equal the table's rows, in order, and the heading's count is right.
 */
static void test_doc(struct unit *u, const char *doc, enum sandbox_thread t)
{
	char head[64], row[256], name[96];
	const char *p, *line;
	const struct sandbox_rule *r = sandbox_rules[t];
	unsigned count;
	bool same = true;

	snprintf(head, sizeof(head), "### %s thread: ", sandbox_thread_names[t]);
	p = strstr(doc, head);
	snprintf(name, sizeof(name), "SECURITY.md has a table for the %s thread", sandbox_thread_names[t]);
	if (!UNIT_OK(u, p, name))
		return;
	count = (unsigned)strtoul(p + strlen(head), NULL, 10);
	snprintf(name, sizeof(name), "SECURITY.md counts the %s thread's calls right (%u)",
	    sandbox_thread_names[t], test_count_calls(t));
	UNIT_OK(u, count == test_count_calls(t), name);
	for (line = strchr(p, '\n'); line && line[1] && line[1] != '#'; line = strchr(line + 1, '\n')) {
		size_t len = strcspn(line + 1, "\n");

		if (strncmp(line + 1, "| `", 3))
			continue;
		if (!r->name) {
			fprintf(stderr, "# SECURITY.md row not in the code: %.*s\n", (int)len, line + 1);
			same = false;
			break;
		}
		test_row(r, row, sizeof(row));
		if (strlen(row) != len || strncmp(row, line + 1, len)) {
			fprintf(stderr, "# SECURITY.md: %.*s\n#        code: %s\n", (int)len, line + 1, row);
			same = false;
			break;
		}
		r++;
	}
	if (same && r->name) {
		fprintf(stderr, "# code rule missing from SECURITY.md: %s\n", r->name);
		same = false;
	}
	snprintf(name, sizeof(name), "SECURITY.md lists exactly the %s thread's rules",
	    sandbox_thread_names[t]);
	UNIT_OK(u, same, name);
}

static char *test_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

enum test_call { CALL_GETPID, CALL_EXECVE, CALL_FORK, CALL_IOCTL_BAD, CALL_SOCKET_PACKET,
	CALL_MMAP_EXEC, CALL_MMAP_RW, CALL_OPENAT, CALL_OPEN_WRITE, CALL_KILL_OTHER };

/*
 * test_child: fork; the child loads thread kind t's filter and makes one
 * call. Returns the child's wait status.
 */
static int test_child(struct sock_fprog *prog, enum test_call call)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		void *m;

		struct rlimit no_core = { 0, 0 };

		/* A SIGSYS death would dump core: not into the build tree. */
		setrlimit(RLIMIT_CORE, &no_core);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
			_exit(100);
		switch (call) {
		case CALL_GETPID: syscall(SYS_getpid); break;
		case CALL_EXECVE: execl("/bin/true", "true", (char *)NULL); break;
		case CALL_FORK: syscall(SYS_fork); break;
		case CALL_IOCTL_BAD: ioctl(0, 0xAE01, 0); break;
		case CALL_SOCKET_PACKET: socket(AF_PACKET, SOCK_RAW, 0); break;
		case CALL_MMAP_EXEC:
			mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			break;
		case CALL_MMAP_RW:
			m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m == MAP_FAILED)
				syscall(SYS_exit_group, 101);
			break;
		case CALL_OPENAT: syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY); break;
		case CALL_OPEN_WRITE:
			syscall(SYS_openat, AT_FDCWD, "/nonexistent/x", O_WRONLY | O_CREAT, 0600);
			break;
		case CALL_KILL_OTHER: syscall(SYS_tgkill, 1, 1, SIGCONT); break;
		}
		syscall(SYS_exit_group, 0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

static bool test_sigsys(int st)
{
	return st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

static bool test_clean(int st)
{
	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_filters(struct unit *u)
{
	struct sock_fprog prog[SANDBOX_NR_THREADS], files;
	static const struct { enum test_call call; const char *what; } bad[] = {
		{ CALL_EXECVE, "execve" }, { CALL_FORK, "fork" },
		{ CALL_IOCTL_BAD, "ioctl KVM_CREATE_VM" }, { CALL_SOCKET_PACKET, "socket AF_PACKET" },
		{ CALL_MMAP_EXEC, "mmap PROT_EXEC" }, { CALL_OPENAT, "openat" },
		{ CALL_KILL_OTHER, "tgkill of another process" },
	};
	char name[128];

	for (int t = 0; t < SANDBOX_NR_THREADS; t++) {
		snprintf(name, sizeof(name), "the %s filter compiles", sandbox_thread_names[t]);
		if (!UNIT_OK(u, !sandbox_build((enum sandbox_thread)t, false, -1, &prog[t]), name))
			return;
	}
	for (int t = 0; t < SANDBOX_NR_THREADS; t++) {
		/* The child exits through exit_group, which both lists allow. */
		snprintf(name, sizeof(name), "%s filter: getpid is allowed", sandbox_thread_names[t]);
		UNIT_OK(u, test_clean(test_child(&prog[t], CALL_GETPID)), name);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(name, sizeof(name), "%s filter: %s ends the process with SIGSYS",
			    sandbox_thread_names[t], bad[i].what);
			UNIT_OK(u, test_sigsys(test_child(&prog[t], bad[i].call)), name);
		}
	}
	UNIT_OK(u, test_clean(test_child(&prog[SANDBOX_LOOP], CALL_MMAP_RW)),
	    "loop filter: mmap without PROT_EXEC is allowed");
	UNIT_OK(u, test_sigsys(test_child(&prog[SANDBOX_VCPU], CALL_MMAP_RW)),
	    "vcpu filter: mmap at all ends the process with SIGSYS");
	/* With a device that reads a file after setup: read-only opens, nothing else. */
	if (UNIT_OK(u, !sandbox_build(SANDBOX_LOOP, true, -1, &files),
	    "the loop filter for a device reading files compiles")) {
		UNIT_OK(u, test_clean(test_child(&files, CALL_OPENAT)),
		    "loop filter with files: openat O_RDONLY is allowed");
		UNIT_OK(u, test_sigsys(test_child(&files, CALL_OPEN_WRITE)),
		    "loop filter with files: openat for writing ends the process with SIGSYS");
		UNIT_OK(u, test_sigsys(test_child(&files, CALL_EXECVE)),
		    "loop filter with files: execve ends the process with SIGSYS");
		free(files.filter);
	}
	for (int t = 0; t < SANDBOX_NR_THREADS; t++)
		free(prog[t].filter);
}

/*
 * test_landlock: in a child, the ruleset that grants reading one file:
 * that file opens, another does not (EACCES), nothing can be created.
 * Without Landlock in this kernel, landlock_prepare must say so (fd -1)
 * and entering must be a no-op.
 */
static void test_landlock(struct unit *u)
{
	const char *keep[] = { "/etc/hostname" };
	struct landlock ll;
	int st, r = landlock_prepare(&ll, keep, 1);
	pid_t pid;

	if (!UNIT_OK(u, !r, "landlock: the ruleset builds (or the kernel has none)"))
		return;
	if (ll.fd < 0) {
		UNIT_OK(u, !landlock_enter(&ll), "landlock: not in this kernel: entering is a no-op");
		printf("# landlock: this kernel has no Landlock; the filesystem is not restricted\n");
		return;
	}
	pid = fork();
	if (pid == 0) {
		int code = 0;

		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (landlock_enter(&ll))
			_exit(10);
		if (access("/etc/hostname", F_OK) == 0 && open("/etc/hostname", O_RDONLY) < 0)
			code |= 1;
		if (open("/etc/passwd", O_RDONLY) >= 0 || errno != EACCES)
			code |= 2;
		if (open("/tmp/ringvm-landlock-test", O_WRONLY | O_CREAT, 0600) >= 0)
			code |= 4;
		_exit(code);
	}
	UNIT_OK(u, pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st),
	    "landlock: the confined child ran");
	UNIT_OK(u, WIFEXITED(st) && !(WEXITSTATUS(st) & 1), "landlock: the granted file opens");
	UNIT_OK(u, WIFEXITED(st) && !(WEXITSTATUS(st) & 2), "landlock: another file is refused (EACCES)");
	UNIT_OK(u, WIFEXITED(st) && !(WEXITSTATUS(st) & 4), "landlock: no file can be created");
	unlink("/tmp/ringvm-landlock-test");
	landlock_fini(&ll);
}

int main(int argc, char **argv)
{
	struct unit u = { 0, 0, "sandbox" };
	const char *path = getenv("RINGVM_SECURITY_MD") ? getenv("RINGVM_SECURITY_MD") :
	    "docs/SECURITY.md";
	char *doc;

	if (argc > 1 && !strcmp(argv[1], "--print")) {
		test_print();
		return 0;
	}
	doc = test_slurp(path);
	if (UNIT_OK(&u, doc, "docs/SECURITY.md is readable"))
		for (int t = 0; t < SANDBOX_NR_THREADS; t++)
			test_doc(&u, doc, (enum sandbox_thread)t);
	free(doc);
	test_filters(&u);
	test_landlock(&u);
	return unit_done(&u);
}
