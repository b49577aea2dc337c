/*
 * test_agent_e2e.c: ringvm-init end to end without a VM. Each case starts
 * `ringvm-init --agent-fd N` on a socketpair (agent_host.c plays ringvm)
 * and runs a host command through it: exit statuses and signals, ERROR
 * 125/126/127, stdout and stderr kept apart, 1 MiB of binary data through
 * cat, stdin EOF, cwd, environment and PATH, orphans holding the output,
 * a pty with its window size and WINCH, credentials (as root), and a host
 * that breaks the protocol or goes away. Every case runs against the
 * static ringvm-init and the sanitizable dynamic build.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_host.h"
#include "unit.h"

#define TIMEOUT_MS 20000
#define ARGV(...) ((const char *const[]){ __VA_ARGS__ })
#define NARGS(...) (sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))
#define CMD(...) cmd(NARGS(__VA_ARGS__), ARGV(__VA_ARGS__))

static struct unit u = { .file = "agent_e2e" };
static const char *bin, *label;		/* the agent under test */

static void check(bool cond, const char *name)
{
	char full[256];

	snprintf(full, sizeof(full), "%s: %s", label, name);
	UNIT_OK(&u, cond, full);
}

static struct agent_exec cmd(uint32_t argc, const char *const *argv)
{
	return (struct agent_exec){ .uid = getuid(), .gid = getgid(), .argc = argc,
	    .argv = argv, .hostname = "", .cwd = "" };
}

/* agent_exit: the agent's own exit status (0 after EXIT, 1 otherwise). */
static int agent_exit(const struct ahost *h)
{
	return WIFEXITED(h->agent_status) ? WEXITSTATUS(h->agent_status) : -1;
}

/* run: one session; NULL when the agent did not start. */
static struct ahost *run(const struct agent_exec *e, const void *in, size_t in_len, bool eof)
{
	struct ahost *h = ahost_start(bin);

	if (!h)
		return NULL;
	ahost_exec(h, e);
	ahost_stdin(h, in, in_len, eof);
	ahost_run(h, TIMEOUT_MS);
	return h;
}

/* exited: the session ended in EXIT with status/signal and a clean agent. */
static bool exited(struct ahost *h, int status, int sig)
{
	return h && ahost_clean(h) && h->got_exit && !h->proto_fault && h->exit.status == status &&
	    h->exit.signal == sig && agent_exit(h) == 0;
}

static bool errored(struct ahost *h, uint32_t code, const char *text)
{
	return h && ahost_clean(h) && h->got_error && !h->got_exit && h->error_code == code &&
	    strstr(h->error_msg, text) && agent_exit(h) == 1;
}

static bool out_is(const struct ahost_buf *b, const char *s, size_t n)
{
	return b->len == n && (!n || !memcmp(b->data, s, n));
}

static void case_status(void)
{
	static const char *const codes[] = { "exit 0", "exit 1", "exit 42" };
	static const int want[] = { 0, 1, 42 };
	char name[64];

	for (int i = 0; i < 3; i++) {
		struct agent_exec e = CMD("/bin/sh", "-c", codes[i]);
		struct ahost *h = run(&e, NULL, 0, true);

		snprintf(name, sizeof(name), "sh -c '%s' gives EXIT %d", codes[i], want[i]);
		check(exited(h, want[i], 0) && h->hello.version == AGENT_VERSION && h->hello.boot_ns, name);
		ahost_free(h);
	}
	struct agent_exec e = CMD("/bin/sh", "-c", "kill -9 $$");
	struct ahost *h = run(&e, NULL, 0, true);

	check(exited(h, -1, SIGKILL), "SIGKILL gives EXIT status -1 signal 9");
	ahost_free(h);
}

static void case_errors(void)
{
	char path[] = "/tmp/ringvm-agent-noexec.XXXXXX";
	int fd = mkstemp(path);
	struct agent_exec e = CMD("ringvm-no-such-command");
	struct ahost *h = run(&e, NULL, 0, true);

	check(errored(h, AGENT_ERR_NOTFOUND, "ringvm-no-such-command"), "missing command: ERROR 127");
	ahost_free(h);
	e = CMD("/nonexistent/dir/cmd");
	h = run(&e, NULL, 0, true);
	check(errored(h, AGENT_ERR_NOTFOUND, "No such file"), "missing path: ERROR 127");
	ahost_free(h);

	if (fd >= 0) {
		if (write(fd, "#!/bin/sh\n", 10) != 10)
			perror("write");
		fchmod(fd, 0644);
		close(fd);
	}
	e = CMD(path);
	h = run(&e, NULL, 0, true);
	check(errored(h, AGENT_ERR_NOEXEC, "Permission denied"), "non-executable file: ERROR 126");
	ahost_free(h);
	unlink(path);
	e = CMD("/tmp");
	h = run(&e, NULL, 0, true);
	check(errored(h, AGENT_ERR_NOEXEC, "/tmp"), "a directory: ERROR 126");
	ahost_free(h);

	e = CMD("pwd");
	e.cwd = "/nonexistent-cwd";
	h = run(&e, NULL, 0, true);
	check(errored(h, AGENT_ERR_AGENT, "cwd /nonexistent-cwd"), "missing cwd: ERROR 125");
	ahost_free(h);
}

static void case_stdio(uint8_t *big, size_t big_len)
{
	struct agent_exec e = CMD("/bin/sh", "-c", "echo out; echo err >&2; printf 'a\\000b'");
	struct ahost *h = run(&e, NULL, 0, true);

	check(exited(h, 0, 0) && out_is(&h->out, "out\na\0b", 7) && out_is(&h->err, "err\n", 4),
	    "stdout and stderr arrive apart, binary-safe");
	ahost_free(h);

	e = CMD("cat");
	h = run(&e, big, big_len, true);
	check(exited(h, 0, 0) && h->out.len == big_len && !memcmp(h->out.data, big, big_len) &&
	    !h->err.len, "1 MiB of random bytes through cat come back identical");
	ahost_free(h);

	e = CMD("wc", "-c");
	h = run(&e, big, 12345, true);
	check(exited(h, 0, 0) && out_is(&h->out, "12345\n", 6), "STDIN_EOF reaches the command (wc -c)");
	ahost_free(h);

	e = CMD("true");
	h = run(&e, big, big_len, false);
	check(exited(h, 0, 0), "stdin the command never reads is dropped, not waited for");
	ahost_free(h);

	e = CMD("head", "-c", "3000000", "/dev/zero");
	h = run(&e, NULL, 0, true);
	check(exited(h, 0, 0) && h->out.len == 3000000, "3 MB of output all arrive");
	ahost_free(h);

	e = CMD("/bin/sh", "-c", "(sleep 0.3; echo late) & echo early; exit 3");
	h = run(&e, NULL, 0, true);
	check(exited(h, 3, 0) && out_is(&h->out, "early\nlate\n", 11),
	    "EXIT waits for an orphan holding stdout, reports the command's status");
	ahost_free(h);
}

static void case_env(void)
{
	static const char *const env[] = { "A=1", "PATH=/usr/bin:/bin" };
	static const char defenv[] = "PATH=" AGENT_DEFAULT_PATH "\nHOME=/root\nTERM=linux\n";
	struct agent_exec e = CMD("pwd");
	struct ahost *h;

	e.cwd = "/tmp";
	h = run(&e, NULL, 0, true);
	check(exited(h, 0, 0) && out_is(&h->out, "/tmp\n", 5), "cwd is passed");
	ahost_free(h);

	e = CMD("env");
	e.envc = 2;
	e.envp = env;
	h = run(&e, NULL, 0, true);
	check(exited(h, 0, 0) && out_is(&h->out, "A=1\nPATH=/usr/bin:/bin\n", 23),
	    "the environment is exactly EXEC's");
	ahost_free(h);

	e = CMD("env");
	h = run(&e, NULL, 0, true);
	check(exited(h, 0, 0) && out_is(&h->out, defenv, sizeof(defenv) - 1),
	    "envc 0 gives the default environment");
	ahost_free(h);

	e = CMD("sh", "-c", "exit 0");
	e.envc = 1;
	e.envp = ARGV("PATH=/nonexistent");
	h = run(&e, NULL, 0, true);
	check(errored(h, AGENT_ERR_NOTFOUND, "sh"), "the command's own PATH is searched");
	ahost_free(h);
}

/* winch_step: after the first `stty size` line, resize and let it go on. */
static void winch_step(struct ahost *h)
{
	static uint8_t buf[64];

	if (h->step == 0 && ahost_has(&h->out, "33 101")) {
		h->step = 1;
		ahost_queue(h, buf, agent_encode_winch(buf, sizeof(buf), 40, 120));
		ahost_queue(h, buf, agent_encode_stdin(buf, sizeof(buf), "go\n", 3));
	}
}

static void case_tty(void)
{
	struct agent_exec e = CMD("tty");
	struct ahost *h;

	e.flags = AGENT_EXEC_TTY;
	h = run(&e, NULL, 0, false);
	check(exited(h, 0, 0) && h->out.len > 9 && !memcmp(h->out.data, "/dev/pts/", 9) &&
	    !h->err.len, "tty mode: `tty` names a /dev/pts terminal");
	ahost_free(h);

	e = CMD("/bin/sh", "-c", "stty size; echo to-stderr >&2");
	e.flags = AGENT_EXEC_TTY;
	e.rows = 33;
	e.cols = 101;
	h = run(&e, NULL, 0, false);
	check(exited(h, 0, 0) && ahost_has(&h->out, "33 101\r\n") && ahost_has(&h->out, "to-stderr") &&
	    !h->err.len, "tty mode: EXEC's rows and cols, stderr on the terminal");
	ahost_free(h);

	e = CMD("/bin/sh", "-c", "stty size; read x; stty size");
	e.flags = AGENT_EXEC_TTY;
	e.rows = 33;
	e.cols = 101;
	if ((h = ahost_start(bin))) {
		h->on_output = winch_step;
		ahost_exec(h, &e);
		ahost_run(h, TIMEOUT_MS);
	}
	check(exited(h, 0, 0) && ahost_has(&h->out, "40 120\r\n"), "tty mode: WINCH resizes the terminal");
	ahost_free(h);

	e = CMD("cat");
	e.flags = AGENT_EXEC_TTY;
	h = run(&e, "hello\n", 6, true);
	check(exited(h, 0, 0) && ahost_has(&h->out, "hello"), "tty mode: STDIN_EOF ends cat's input");
	ahost_free(h);
}

static void case_creds(void)
{
	struct agent_exec e = CMD("/bin/sh", "-c", "id -u; id -g; id -G");
	struct ahost *h;

	if (geteuid() != 0) {
		printf("# %s: not root: uid/gid change not tested\n", label);
		return;
	}
	e.uid = e.gid = 65534;
	h = run(&e, NULL, 0, true);
	check(exited(h, 0, 0) && out_is(&h->out, "65534\n65534\n65534\n", 18),
	    "uid and gid as EXEC says, no supplementary groups");
	ahost_free(h);
}

/* pid_step: stop the session once the command printed its pid. */
static void pid_step(struct ahost *h)
{
	if (ahost_has(&h->out, "\n"))
		h->stop = true;
}

static void case_hostile(void)
{
	static uint8_t junk[8] = { 0x42 };
	static uint8_t exec0[8 + AGENT_EXEC_FIXED_LEN + 4] = { AGENT_EXEC, 0, 0, 0,
	    AGENT_EXEC_FIXED_LEN + 4 };
	struct agent_exec e = CMD("sleep", "30");
	struct ahost *h;
	long pid = 0;

	if ((h = ahost_start(bin))) {
		ahost_exec(h, &e);
		ahost_queue(h, junk, sizeof(junk));
		ahost_run(h, TIMEOUT_MS);
	}
	check(errored(h, AGENT_ERR_AGENT, "protocol"), "a bad frame mid-session: ERROR 125, command killed");
	ahost_free(h);

	if ((h = ahost_start(bin))) {
		ahost_stdin(h, "x", 1, false);
		ahost_run(h, TIMEOUT_MS);
	}
	check(errored(h, AGENT_ERR_AGENT, "other than EXEC"), "STDIN before EXEC: ERROR 125");
	ahost_free(h);

	if ((h = ahost_start(bin))) {
		ahost_queue(h, exec0, sizeof(exec0));	/* argc 0, four empty strings */
		ahost_run(h, TIMEOUT_MS);
	}
	check(errored(h, AGENT_ERR_AGENT, "argc 0"), "EXEC with argc 0: ERROR 125");
	ahost_free(h);

	e = CMD("/bin/sh", "-c", "echo $$; exec sleep 30");
	if ((h = ahost_start(bin))) {
		h->on_output = pid_step;
		ahost_exec(h, &e);
		if (ahost_run(h, TIMEOUT_MS) == -ECANCELED)
			pid = strtol((const char *)h->out.data, NULL, 10);
		close(h->fd);
		h->fd = -1;
		ahost_wait(h, 5000);
	}
	check(h && ahost_clean(h) && pid > 1 && agent_exit(h) == 1 && kill((pid_t)pid, 0) < 0 && errno == ESRCH,
	    "the host going away: the command is killed and reaped, the agent exits 1");
	ahost_free(h);
}

int main(void)
{
	char top[PATH_MAX], path[2][PATH_MAX + 32];
	const char *labels[2] = { "static", "dyn" };
	ssize_t n = readlink("/proc/self/exe", top, sizeof(top) - 1);
	size_t big_len = 1 << 20;
	uint8_t *big = malloc(big_len);
	uint32_t x = 0x12345678;
	char *cut;

	/* The binaries live relative to ours: TOP/obj/tests/test_agent_e2e. */
	if (n <= 0 || !big)
		return 1;
	top[n] = '\0';
	if ((cut = strstr(top, "/obj/tests/")))
		*cut = '\0';
	snprintf(path[0], sizeof(path[0]), "%s/ringvm-init", top);
	snprintf(path[1], sizeof(path[1]), "%s/obj/tests/ringvm-init-dyn", top);
	for (size_t i = 0; i < big_len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		big[i] = (uint8_t)(x >> 11);
	}
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 2; i++) {
		bin = path[i];
		label = labels[i];
		if (access(bin, X_OK)) {
			check(false, "the agent binary is built");
			continue;
		}
		case_status();
		case_errors();
		case_stdio(big, big_len);
		case_env();
		case_tty();
		case_creds();
		case_hostile();
	}
	free(big);
	return unit_done(&u);
}
