/*
 * init_relay.c: the session's poll loop once the command runs. It moves
 * STDIN frames into the command's stdin, its stdout and stderr (or its
 * terminal) into STDOUT/STDERR frames, applies WINCH, reaps children, and
 * sends EXIT when the command is gone and its output drained.
 *
 * Nothing blocks: every fd is non-blocking and polled only while the loop
 * can take what it would deliver. A STDIN frame not yet written to a full
 * stdin stops the loop reading the connection (back-pressure to ringvm);
 * a full output queue stops it reading the command (back-pressure to the
 * command). An fd with nothing wanted from it is left out of the poll set,
 * so a hung-up pipe cannot make the loop spin.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init_session.h"

enum { RELAY_SIG, RELAY_HOST, RELAY_IN, RELAY_OUT, RELAY_ERR, RELAY_NFDS };

/* init_relay_fault: a host protocol violation: say what, return -EPROTO. */
static int init_relay_fault(struct init_session *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "protocol: %s", what);
	return -EPROTO;
}

/* init_relay_close_in: the command's stdin is done; pending data is dropped. */
static void init_relay_close_in(struct init_session *s)
{
	/* With a tty, stdin is the master, which stays open for the output. */
	if (!s->child.tty && s->child.in_fd >= 0)
		close(s->child.in_fd);
	s->child.in_fd = -1;
	s->in_len = 0;
	s->eof_pending = false;
}

/* init_relay_close_out: an output fd reached end of file. */
static void init_relay_close_out(struct init_session *s, int *fd)
{
	if (s->child.tty) {
		init_relay_close_in(s);	/* the same master fd */
		/* Closing the master hangs the terminal up: SIGHUP would reach
		 * a command that closed its stdio but has not exited yet. The
		 * session closes it after EXIT. */
		s->tty_master = *fd;
	} else {
		close(*fd);
	}
	*fd = -1;
}

/* init_relay_stdin: write pending stdin; apply a pending STDIN_EOF after it. */
static void init_relay_stdin(struct init_session *s)
{
	for (;;) {
		while (s->in_len && s->child.in_fd >= 0) {
			ssize_t n = write(s->child.in_fd, s->in_data, s->in_len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				return;
			if (n <= 0) {
				/* EPIPE (reader gone), EIO (terminal hung up) */
				init_relay_close_in(s);
				return;
			}
			s->in_data += n;
			s->in_len -= (size_t)n;
		}
		if (!s->eof_pending || s->child.in_fd < 0)
			return;
		s->eof_pending = false;
		if (!s->child.tty) {
			init_relay_close_in(s);
			return;
		}
		/* A terminal has no end of file: type its EOF character instead. */
		s->in_data = &s->eof_char;
		s->in_len = 1;
	}
}

/* init_relay_msg: act on one host message; 0 or -EPROTO. */
static int init_relay_msg(struct init_session *s, const struct agent_msg *m)
{
	uint16_t rows, cols;

	switch (m->type) {
	case AGENT_STDIN:
		if (s->in_eof)
			return init_relay_fault(s, "STDIN after STDIN_EOF");
		if (s->child.in_fd < 0)
			return 0;	/* stdin is closed: the data has no reader */
		s->in_data = m->payload;
		s->in_len = m->len;
		init_relay_stdin(s);
		return 0;
	case AGENT_STDIN_EOF:
		if (s->in_eof)
			return init_relay_fault(s, "STDIN_EOF sent twice");
		s->in_eof = true;
		s->eof_pending = true;
		init_relay_stdin(s);
		return 0;
	case AGENT_WINCH:
		if (agent_decode_winch(m, &rows, &cols))
			return init_relay_fault(s, "bad WINCH");
		if (s->child.tty && s->child.out_fd >= 0)
			init_pty_winsize(s->child.out_fd, rows, cols);
		return 0;
	}
	return init_relay_fault(s, "EXEC sent twice");
}

/*
 * init_relay_parse: act on the buffered host bytes, stopping while STDIN
 * data is pending (its bytes live in the parser until written).
 */
static int init_relay_parse(struct init_session *s)
{
	while (s->in_len == 0 && s->rx_len) {
		const uint8_t *p = s->rx + s->rx_off;
		struct agent_msg m;
		int r = agent_parse(&s->parser, &p, &s->rx_len, &m);

		s->rx_off = (size_t)(p - s->rx);
		if (r < 0)
			return init_relay_fault(s, "bad frame (unknown type, wrong size or direction)");
		if (r == 1 && (r = init_relay_msg(s, &m)))
			return r;
	}
	return 0;
}

/* init_relay_read_host: one read() from the connection; 0 or -errno. */
static int init_relay_read_host(struct init_session *s)
{
	ssize_t n = read(s->fd, s->rx, sizeof(s->rx));

	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	s->rx_off = 0;
	s->rx_len = (size_t)n;
	return init_relay_parse(s);
}

/* init_relay_output: one read() of the command's output into a frame. */
static void init_relay_output(struct init_session *s, int *fd, uint8_t type)
{
	size_t room = init_session_room(s);
	ssize_t n;

	if (room < AGENT_HDR_LEN + INIT_SESSION_CHUNK)
		return;
	n = read(*fd, s->chunk, sizeof(s->chunk));
	if (n > 0) {
		init_session_queue(s, agent_encode_output(s->out + s->out_off + s->out_len,
		    room, type, s->chunk, (size_t)n));
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* 0: end of file; EIO: the terminal's last slave fd closed. */
	init_relay_close_out(s, fd);
}

/* init_relay_exit: sync and queue EXIT for the reaped command. */
static int init_relay_exit(struct init_session *s)
{
	int32_t status = -1, sig = 0;

	init_relay_close_in(s);
	if (WIFEXITED(s->wstatus))
		status = WEXITSTATUS(s->wstatus);
	else if (WIFSIGNALED(s->wstatus))
		sig = WTERMSIG(s->wstatus);
	else
		status = AGENT_ERR_AGENT;	/* cannot happen without WUNTRACED */
	/* The command's writes reach the disks before ringvm hears it ended. */
	sync();
	s->exit_queued = true;
	init_session_room(s);
	return init_session_queue(s, agent_encode_exit(s->out + s->out_off + s->out_len,
	    sizeof(s->out) - s->out_off - s->out_len, status, sig));
}

/* init_relay_pollset: what the loop waits for now; unwanted fds are -1. */
static void init_relay_pollset(struct init_session *s, struct pollfd *p)
{
	bool room = init_session_room(s) >= AGENT_HDR_LEN + INIT_SESSION_CHUNK;

	p[RELAY_SIG] = (struct pollfd){ .fd = s->sigfd, .events = POLLIN };
	p[RELAY_HOST] = (struct pollfd){ .fd = s->fd,
	    .events = (short)((s->in_len == 0 && s->rx_len == 0 ? POLLIN : 0) |
	    (s->out_len ? POLLOUT : 0)) };
	p[RELAY_IN] = (struct pollfd){ .fd = s->in_len ? s->child.in_fd : -1, .events = POLLOUT };
	p[RELAY_OUT] = (struct pollfd){ .fd = room ? s->child.out_fd : -1, .events = POLLIN };
	p[RELAY_ERR] = (struct pollfd){ .fd = room ? s->child.err_fd : -1, .events = POLLIN };
	/* No events but still polled would report a hang-up forever: spin. */
	if (!p[RELAY_HOST].events)
		p[RELAY_HOST].fd = -1;
}

int init_relay_run(struct init_session *s)
{
	struct pollfd p[RELAY_NFDS];
	int r;

	/* Frames that came in the same read as EXEC. */
	if ((r = init_relay_parse(s)))
		return r;
	for (;;) {
		init_session_reap(s);
		if ((r = init_session_flush(s)))
			return r;
		/* Checked after the flush: the last output may just have left. */
		if (s->exited && s->child.out_fd < 0 && s->child.err_fd < 0 &&
		    !s->exit_queued && !s->out_len) {
			if ((r = init_relay_exit(s)) || (r = init_session_flush(s)))
				return r;
		}
		if (s->exit_queued && !s->out_len)
			return 0;
		init_relay_pollset(s, p);
		if (poll(p, RELAY_NFDS, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[RELAY_HOST].revents & POLLIN) {
			if ((r = init_relay_read_host(s)))
				return r;
		} else if (p[RELAY_HOST].revents & (POLLHUP | POLLERR)) {
			return -ECONNRESET;	/* ringvm closed the connection early */
		}
		if (p[RELAY_IN].revents) {
			init_relay_stdin(s);
			if ((r = init_relay_parse(s)))	/* frames held back by it */
				return r;
		}
		if (p[RELAY_OUT].revents && s->child.out_fd >= 0)
			init_relay_output(s, &s->child.out_fd, AGENT_STDOUT);
		if (p[RELAY_ERR].revents && s->child.err_fd >= 0)
			init_relay_output(s, &s->child.err_fd, AGENT_STDERR);
	}
}
