/*
 * init_session.c: one agent session, phase by phase (agent_proto.h):
 * send HELLO, wait for a valid EXEC, prepare the guest, start the command,
 * hand over to the relay loop (init_relay.c), and end with EXIT or ERROR.
 * Also the output queue and child reaping that both files use.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init_session.h"

int init_session_queue(struct init_session *s, ssize_t n)
{
	if (n < 0)
		return (int)n;
	s->out_len += (size_t)n;
	return 0;
}

size_t init_session_room(struct init_session *s)
{
	if (s->out_len == 0)
		s->out_off = 0;
	else if (s->out_off && sizeof(s->out) - s->out_off - s->out_len <
	    AGENT_HDR_LEN + INIT_SESSION_CHUNK) {
		memmove(s->out, s->out + s->out_off, s->out_len);
		s->out_off = 0;
	}
	return sizeof(s->out) - s->out_off - s->out_len;
}

int init_session_flush(struct init_session *s)
{
	while (s->out_len) {
		/* write(), not send(): test mode may hand us any stream. SIGPIPE
		 * is blocked, so a closed peer is an EPIPE here. */
		ssize_t n = write(s->fd, s->out + s->out_off, s->out_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		s->out_off += (size_t)n;
		s->out_len -= (size_t)n;
	}
	s->out_off = 0;
	return 0;
}

void init_session_reap(struct init_session *s)
{
	struct signalfd_siginfo si[8];
	int st;
	pid_t pid;

	/* Drain the signalfd; SIGCHLDs coalesce, so waitpid decides. */
	while (read(s->sigfd, si, sizeof(si)) > 0)
		;
	/* As PID 1 every orphan in the guest ends up here: reap them all. */
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (pid == s->child.pid && !s->exited) {
			s->exited = true;
			s->wstatus = st;
		}
}

/* init_session_flush_all: write all of s->out, waiting as needed; 0 or -errno. */
static int init_session_flush_all(struct init_session *s)
{
	while (s->out_len) {
		struct pollfd p = { .fd = s->fd, .events = POLLOUT };
		int r = init_session_flush(s);

		if (r < 0)
			return r;
		if (s->out_len && poll(&p, 1, -1) < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

/* init_session_error: send ERROR code/text and wait until it is out. */
static int init_session_error(struct init_session *s, uint32_t code, const char *text)
{
	int r;

	init_log("%s", text);
	/* Whatever is queued goes first, so the ERROR frame surely fits. */
	if ((r = init_session_flush_all(s)))
		return r;
	r = init_session_queue(s, agent_encode_error(s->out + s->out_off + s->out_len,
	    sizeof(s->out) - s->out_off - s->out_len, code, text));
	return r ? r : init_session_flush_all(s);
}

/*
 * init_session_recv: wait for the next host message (before the relay
 * starts). 1 with *m set, or -errno: -EPROTO for a bad frame,
 * -ECONNRESET when the host closed the connection.
 */
static int init_session_recv(struct init_session *s, struct agent_msg *m)
{
	for (;;) {
		const uint8_t *p = s->rx + s->rx_off;
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		int r = agent_parse(&s->parser, &p, &s->rx_len, m);
		ssize_t n;

		s->rx_off = (size_t)(p - s->rx);
		if (r)
			return r;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return -errno;
		n = read(s->fd, s->rx, sizeof(s->rx));
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		s->rx_off = 0;
		s->rx_len = n > 0 ? (size_t)n : 0;
	}
}

/* init_session_hello: queue and send HELLO with the CLOCK_BOOTTIME of now. */
static int init_session_hello(struct init_session *s)
{
	struct timespec ts;
	uint64_t ns;
	int r;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	r = init_session_queue(s, agent_encode_hello(s->out, sizeof(s->out), ns));
	return r ? r : init_session_flush_all(s);
}

/* init_session_abort: the host is gone or hostile: stop the command. */
static void init_session_abort(struct init_session *s)
{
	if (s->child.pid > 0 && !s->exited) {
		/* Its session is its process group (setsid in init_spawn). */
		kill(-s->child.pid, SIGKILL);
		kill(s->child.pid, SIGKILL);
		waitpid(s->child.pid, NULL, 0);
		s->exited = true;
	}
}

/*
 * init_session_start: receive and check EXEC, prepare, spawn. Returns 0
 * when the command runs, 1 when ERROR was sent, -errno on a dead or
 * hostile connection.
 */
static int init_session_start(struct init_session *s, const struct init_prepare *prepare)
{
	struct agent_exec e;
	struct agent_msg m;
	const char *why = "EXEC expected";
	int r = init_session_recv(s, &m), code;

	if (r == -EPROTO || (r > 0 && m.type != AGENT_EXEC)) {
		snprintf(s->err, sizeof(s->err), "protocol: %s", r < 0 ? "bad frame before EXEC"
		    : "a message other than EXEC came first");
		init_session_error(s, AGENT_ERR_AGENT, s->err);
		return -EPROTO;
	}
	if (r < 0)
		return r;
	if (agent_decode_exec(&m, &e, s->vec, AGENT_EXEC_MAX_VEC, &why)) {
		r = init_session_error(s, AGENT_ERR_AGENT, why);
		return r < 0 ? r : 1;
	}
	s->err[0] = '\0';
	code = prepare ? prepare->fn(prepare->ctx, &e, s->err, sizeof(s->err)) : 0;
	if (!code)
		code = init_spawn(&e, &s->child, s->err, sizeof(s->err));
	if (code) {
		if (s->child.pid > 0) {
			waitpid(s->child.pid, NULL, 0);	/* it exits right after reporting */
			s->child.pid = -1;
		}
		r = init_session_error(s, (uint32_t)code, s->err[0] ? s->err : "failed");
		return r < 0 ? r : 1;
	}
	if (s->child.tty)
		s->eof_char = init_pty_eof_char(s->child.out_fd);
	return 0;
}

int init_session_run(int fd, int sigfd, const struct init_prepare *prepare)
{
	struct init_session *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->fd = fd;
	s->sigfd = sigfd;
	s->child.pid = -1;
	s->child.in_fd = s->child.out_fd = s->child.err_fd = -1;
	s->tty_master = -1;
	agent_parser_init(&s->parser, AGENT_DIR_TO_GUEST);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(sigfd, F_SETFL, fcntl(sigfd, F_GETFL) | O_NONBLOCK);
	r = init_session_hello(s);
	if (!r)
		r = init_session_start(s, prepare);
	if (!r) {
		r = init_relay_run(s);
		if (r == -EPROTO) {
			init_session_abort(s);
			init_session_error(s, AGENT_ERR_AGENT, s->err);
		}
	}
	if (r < 0 && r != -EPROTO)
		init_log("session with ringvm ended: %s", strerror(-r));
	init_session_abort(s);
	init_spawn_close(&s->child);
	if (s->tty_master >= 0)
		close(s->tty_master);
	free(s);
	return r;
}
