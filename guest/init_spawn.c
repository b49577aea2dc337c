/*
 * init_spawn.c: start the command of an EXEC. The child sets up its
 * session, stdio, credentials and cwd, then execs; any failure on the way
 * travels back through a close-on-exec pipe as {stage, errno}, so the
 * agent can tell "exec'd" (the pipe closes empty) from "could not run"
 * and answer ERROR 125/126/127 instead of a made-up exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "init.h"

/* Where a child failed, reported with its errno through the report pipe. */
enum init_spawn_stage {
	INIT_SPAWN_EXEC,
	INIT_SPAWN_SESSION,
	INIT_SPAWN_STDIO,
	INIT_SPAWN_CREDS,
	INIT_SPAWN_CWD,
};

struct init_spawn_report {
	int stage;		/* enum init_spawn_stage */
	int err;		/* errno */
};

/* The child's ends: a pty slave, or the three pipe ends it reads or writes. */
struct init_spawn_ends {
	int tty;		/* pty slave, or -1 */
	int in, out, err;	/* pipe ends, or -1 with a tty */
};

/* init_spawn_getenv: the value of NAME in envp, or NULL. */
static const char *init_spawn_getenv(const char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/*
 * init_spawn_exec: execve `file` as execvpe(3) would, but searching the
 * command's own PATH (AGENT_DEFAULT_PATH when it has none) and never
 * falling back to /bin/sh on ENOEXEC. Returns only on failure, with the
 * errno to report: EACCES when a candidate existed but was not executable
 * and nothing better was found, else the last lookup failure.
 */
static int init_spawn_exec(const char *file, char *const *argv, char *const *envp)
{
	const char *path = init_spawn_getenv((const char *const *)envp, "PATH");
	bool eacces = false;
	char buf[PATH_MAX];

	if (!*file)
		return ENOENT;
	if (strchr(file, '/')) {
		execve(file, argv, envp);
		return errno;
	}
	if (!path)
		path = AGENT_DEFAULT_PATH;
	for (const char *p = path; ; p++) {
		size_t dlen = strcspn(p, ":");
		/* An empty entry is the current directory, as in execvp. */
		int n = dlen ? snprintf(buf, sizeof(buf), "%.*s/%s", (int)dlen, p, file)
		    : snprintf(buf, sizeof(buf), "%s", file);

		if (n > 0 && (size_t)n < sizeof(buf)) {
			execve(buf, argv, envp);
			if (errno == EACCES)
				eacces = true;
			else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE &&
			    errno != ENODEV && errno != ETIMEDOUT)
				return errno;
		}
		p += dlen;
		if (!*p)
			break;
	}
	return eacces ? EACCES : ENOENT;
}

/* init_spawn_fail: report {stage, errno} to the agent and end the child. */
__attribute__((noreturn))
static void init_spawn_fail(int report, int stage, int err)
{
	struct init_spawn_report rep = { stage, err };

	if (write(report, &rep, sizeof(rep)) < 0)
		_exit(AGENT_ERR_AGENT);
	_exit(AGENT_ERR_AGENT);
}

/* init_spawn_child: the forked side; never returns. */
__attribute__((noreturn))
static void init_spawn_child(const struct agent_exec *e, const struct init_spawn_ends *ends,
    int report)
{
	static const char *const defenv[] = AGENT_DEFAULT_ENV;
	const char *envbuf[sizeof(defenv) / sizeof(defenv[0]) + 1];
	const char *const *envp = e->envp;
	sigset_t none;

	/* The agent blocks SIGCHLD and SIGPIPE; the command starts clean. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setsid() < 0)
		init_spawn_fail(report, INIT_SPAWN_SESSION, errno);
	if (ends->tty >= 0) {
		if (ioctl(ends->tty, TIOCSCTTY, 0) < 0)
			init_spawn_fail(report, INIT_SPAWN_SESSION, errno);
		if (dup2(ends->tty, 0) < 0 || dup2(ends->tty, 1) < 0 || dup2(ends->tty, 2) < 0)
			init_spawn_fail(report, INIT_SPAWN_STDIO, errno);
	} else if (dup2(ends->in, 0) < 0 || dup2(ends->out, 1) < 0 || dup2(ends->err, 2) < 0) {
		init_spawn_fail(report, INIT_SPAWN_STDIO, errno);
	}
	/* Supplementary groups go first, while we may still drop them; a
	 * non-root agent (test mode) cannot, and keeps its own. */
	if (setgroups(0, NULL) < 0 && !(errno == EPERM && geteuid() != 0))
		init_spawn_fail(report, INIT_SPAWN_CREDS, errno);
	if (setgid(e->gid) < 0 || setuid(e->uid) < 0)
		init_spawn_fail(report, INIT_SPAWN_CREDS, errno);
	/* After setuid: the directory must be reachable by the command's user. */
	if (chdir(e->cwd[0] ? e->cwd : "/") < 0)
		init_spawn_fail(report, INIT_SPAWN_CWD, errno);
	if (!e->envc) {
		memcpy(envbuf, defenv, sizeof(defenv));
		envbuf[sizeof(defenv) / sizeof(defenv[0])] = NULL;
		envp = envbuf;
	}
	init_spawn_fail(report, INIT_SPAWN_EXEC,
	    init_spawn_exec(e->argv[0], (char *const *)e->argv, (char *const *)envp));
}

/* init_spawn_explain: turn a child's report into an ERROR code and sentence. */
static int init_spawn_explain(const struct agent_exec *e, const struct init_spawn_report *rep,
    char *err, size_t err_len)
{
	const char *why = strerror(rep->err);

	switch (rep->stage) {
	case INIT_SPAWN_EXEC:
		snprintf(err, err_len, "%s: %s", e->argv[0], why);
		return rep->err == ENOENT || rep->err == ENOTDIR ? AGENT_ERR_NOTFOUND
		    : AGENT_ERR_NOEXEC;
	case INIT_SPAWN_SESSION:
		snprintf(err, err_len, "new session or controlling terminal: %s", why);
		break;
	case INIT_SPAWN_STDIO:
		snprintf(err, err_len, "stdio: %s", why);
		break;
	case INIT_SPAWN_CREDS:
		snprintf(err, err_len, "changing to uid %u gid %u: %s", e->uid, e->gid, why);
		break;
	case INIT_SPAWN_CWD:
		snprintf(err, err_len, "cwd %s: %s", e->cwd[0] ? e->cwd : "/", why);
		break;
	default:
		snprintf(err, err_len, "the command's set-up failed: %s", why);
	}
	return AGENT_ERR_AGENT;
}

/* init_spawn_ends_close: close whichever ends in *x are open. */
static void init_spawn_ends_close(struct init_spawn_ends *x)
{
	int *fd[] = { &x->tty, &x->in, &x->out, &x->err };

	for (size_t i = 0; i < sizeof(fd) / sizeof(fd[0]); i++)
		if (*fd[i] >= 0) {
			close(*fd[i]);
			*fd[i] = -1;
		}
}

/* init_spawn_stdio: make the pty or the pipes; fills both sides; 0 or -errno. */
static int init_spawn_stdio(const struct agent_exec *e, struct init_child *c,
    struct init_spawn_ends *ends)
{
	int p[3][2];

	if (c->tty) {
		int r = init_pty_open(&c->in_fd, &ends->tty, e->rows, e->cols);

		c->out_fd = c->in_fd;
		return r;
	}
	for (int i = 0; i < 3; i++)
		if (pipe2(p[i], O_CLOEXEC) < 0) {
			int r = -errno;

			while (i--) {
				close(p[i][0]);
				close(p[i][1]);
			}
			return r;
		}
	ends->in = p[0][0];
	c->in_fd = p[0][1];
	c->out_fd = p[1][0];
	ends->out = p[1][1];
	c->err_fd = p[2][0];
	ends->err = p[2][1];
	/* The agent's ends never block it: it polls them. */
	fcntl(c->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

int init_spawn(const struct agent_exec *e, struct init_child *c, char *err, size_t err_len)
{
	struct init_spawn_ends ends = { -1, -1, -1, -1 };
	struct init_spawn_report rep;
	int report[2], r;
	ssize_t n;

	c->pid = -1;
	c->tty = (e->flags & AGENT_EXEC_TTY) != 0;
	c->in_fd = c->out_fd = c->err_fd = -1;
	if (pipe2(report, O_CLOEXEC) < 0) {
		snprintf(err, err_len, "pipe: %s", strerror(errno));
		return AGENT_ERR_AGENT;
	}
	if ((r = init_spawn_stdio(e, c, &ends))) {
		snprintf(err, err_len, "%s: %s", c->tty ? "pty" : "pipe", strerror(-r));
		close(report[0]);
		close(report[1]);
		return AGENT_ERR_AGENT;
	}
	c->pid = fork();
	if (c->pid == 0) {
		close(report[0]);
		init_spawn_child(e, &ends, report[1]);
	}
	r = errno;
	init_spawn_ends_close(&ends);
	close(report[1]);
	if (c->pid < 0) {
		close(report[0]);
		init_spawn_close(c);
		snprintf(err, err_len, "fork: %s", strerror(r));
		return AGENT_ERR_AGENT;
	}
	/* Blocks until the child exec'd (EOF) or reported why it could not. */
	do
		n = read(report[0], &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == 0)
		return 0;
	init_spawn_close(c);
	if (n != (ssize_t)sizeof(rep)) {
		snprintf(err, err_len, "lost track of the command's start");
		return AGENT_ERR_AGENT;
	}
	return init_spawn_explain(e, &rep, err, err_len);
}

void init_spawn_close(struct init_child *c)
{
	if (c->in_fd >= 0 && c->in_fd != c->out_fd)
		close(c->in_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->in_fd = c->out_fd = c->err_fd = -1;
}
