/*
 * runner.c: the command mode's session with ringvm-init, on the loop.
 *
 * The guest connects to vsock port AGENT_PORT; the vsock device hands the
 * connection to runner_connect, which gives it one end of a socketpair and
 * keeps the other. HELLO comes first; ringvm answers with EXEC, then feeds
 * the command's stdin as STDIN frames and writes STDOUT and STDERR frames
 * to its own stdout and stderr, byte for byte. EXIT or ERROR ends the run.
 *
 * Nothing is buffered without bound. Towards the guest at most
 * RUNNER_TOGUEST_MAX bytes wait; stdin is not read while they do. From the
 * guest at most one frame's payload per stream waits for a slow reader of
 * ringvm's stdout or stderr; while it does, the connection is not read, so
 * vsock's credit stops the guest's writes.
 *
 * Exported (contracts in runner.h): runner_start, runner_finish.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "runner.h"
#include "runner_result.h"
#include "virtio_vsock.h"
#include "vm.h"

#define RUNNER_FLUSH_MS 2000	/* how long runner_finish waits for a slow reader */

static void runner_parse(struct runner *r);
static void runner_flush_toguest(struct runner *r);

/*
 * runner_end: the run's status is decided. The loop stops once what the
 * command printed has reached ringvm's stdout and stderr.
 */
static void runner_end(struct runner *r, int status, const char *cause)
{
	if (r->ended)
		return;
	r->ended = true;
	r->status = status;
	if (cause)
		snprintf(r->cause, sizeof(r->cause), "%s", cause);
	ev_io_stop(r->loop->ev, &r->in_watcher);
	ev_timer_stop(r->loop->ev, &r->timeout);
	if (!r->out[0].pending_len && !r->out[1].pending_len)
		loop_stop(r->loop, status);
}

/* runner_pending: output waits for a reader; the connection is not read meanwhile. */
static bool runner_pending(const struct runner *r)
{
	return r->out[0].pending_len || r->out[1].pending_len;
}

/* runner_out_write: write what waits on stream `s`; false while some still does. */
static bool runner_out_write(struct runner *r, struct runner_out *o)
{
	while (o->pending_len) {
		ssize_t n = hostfd_write(&o->fd, o->pending + o->pending_off, o->pending_len);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return false;
		if (n <= 0) {
			/* The reader went away (EPIPE...): the command runs on, its output dropped. */
			o->dead = true;
			o->pending_len = 0;
			break;
		}
		o->pending_off += (size_t)n;
		o->pending_len -= (size_t)n;
		o->bytes += (uint64_t)n;
	}
	o->pending_off = 0;
	ev_io_stop(r->loop->ev, &o->watcher);
	return true;
}

static void runner_on_out(struct ev_loop *ev, ev_io *w, int revents)
{
	struct runner *r = w->data;
	struct runner_out *o = &r->out[w == &r->out[0].watcher ? 0 : 1];

	(void)ev;
	(void)revents;
	if (!runner_out_write(r, o) || runner_pending(r))
		return;
	if (r->ended)
		loop_stop(r->loop, r->status);
	else
		runner_parse(r);	/* what was read behind this frame, then the connection */
}

/*
 * runner_output: one STDOUT or STDERR frame's bytes, within --output-limit:
 * written now, or kept (one payload at most) until the reader takes them.
 */
static void runner_output(struct runner *r, unsigned s, const uint8_t *data, size_t len)
{
	struct runner_out *o = &r->out[s];
	uint64_t limit = r->cfg->run.output_limit;

	if (limit && o->bytes + o->pending_len + len > limit) {
		len = (size_t)(limit - o->bytes - o->pending_len);
		r->truncated = true;
	}
	if (!o->dead && len) {
		memcpy(o->pending, data, len);
		o->pending_len = len;
		if (!runner_out_write(r, o))
			ev_io_start(r->loop->ev, &o->watcher);
	}
	if (r->truncated) {
		char why[128];

		snprintf(why, sizeof(why), "the command's %s passed --output-limit (%llu bytes); "
		    "it was stopped", s ? "stderr" : "stdout", (unsigned long long)limit);
		runner_end(r, RUNNER_EXIT_OUTPUT_LIMIT, why);
	}
}

/* runner_send: queue one encoded frame for the guest. Returns 0, or -ENOBUFS when full. */
static int runner_send(struct runner *r, const uint8_t *frame, size_t len)
{
	if (r->toguest_off + r->toguest_len + len > sizeof(r->toguest)) {
		memmove(r->toguest, r->toguest + r->toguest_off, r->toguest_len);
		r->toguest_off = 0;
	}
	if (r->toguest_len + len > sizeof(r->toguest))
		return -ENOBUFS;
	memcpy(r->toguest + r->toguest_off + r->toguest_len, frame, len);
	r->toguest_len += len;
	runner_flush_toguest(r);
	return 0;
}

/*
 * runner_raw: put the terminal on stdin in raw mode, as ssh does: every key
 * (Ctrl-C included) goes to the command's pty, whose line discipline
 * answers it. runner_finish restores it.
 */
static void runner_raw(struct runner *r)
{
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &r->termios) < 0)
		return;
	raw = r->termios;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		r->saved_termios = true;
}

/* runner_exec: the EXEC request: the command, its environment and directory, its network. */
static void runner_exec(struct runner *r)
{
	const struct rv_run *run = &r->cfg->run;
	struct agent_exec e = {
		.argc = (uint32_t)run->argc, .argv = (const char *const *)run->argv,
		.envc = run->nr_env, .envp = run->env,
		.hostname = "ringvm", .cwd = run->workdir ? run->workdir : "",
		.uid = run->uid, .gid = run->gid,
	};
	struct winsize ws;
	ssize_t n;

	/* A terminal on stdin: the command gets a pty of the same size, raw bytes both ways. */
	if (r->tty) {
		runner_raw(r);
		e.flags |= AGENT_EXEC_TTY;
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
			e.rows = ws.ws_row;
			e.cols = ws.ws_col;
		}
	}
	/* The user network's fixed addresses, so the command needs no DHCP wait. */
	for (unsigned i = 0; i < r->cfg->nr_dev; i++) {
		const struct dev_instance *d = &r->cfg->dev[i];

		if (d->spec && d->ops->option && !strcmp(d->ops->option->name, "net") &&
		    (!strncmp(d->spec, "user,", 5) || !strcmp(d->spec, "user")))
			e.flags |= AGENT_EXEC_NET_USER;
	}
	n = agent_encode_exec(r->frame, sizeof(r->frame), &e);
	if (n < 0) {
		runner_end(r, RUNNER_EXIT_FAILED, "the command and its environment do not fit in "
		    "64 KiB");
		return;
	}
	r->exec_sent = true;
	runner_send(r, r->frame, (size_t)n);
	if (r->in.flags >= 0) {
		ev_io_start(r->loop->ev, &r->in_watcher);
		return;
	}
	/* No stdin at all (closed): the command reads end of file at once. */
	r->in_eof = true;
	n = agent_encode_stdin_eof(r->frame, sizeof(r->frame));
	if (n > 0)
		runner_send(r, r->frame, (size_t)n);
}

/* runner_message: one message from the guest. */
static void runner_message(struct runner *r, const struct agent_msg *m)
{
	struct agent_hello h;
	struct agent_exit x;
	struct agent_error er;
	char why[320];

	switch (m->type) {
	case AGENT_HELLO:
		if (r->hello || agent_decode_hello(m, &h)) {
			runner_end(r, RUNNER_EXIT_FAILED, "ringvm-init sent a bad HELLO (a different "
			    "version of ringvm-init?)");
			return;
		}
		r->hello = true;
		r->t_hello = ev_time();
		r->guest_boot_ns = h.boot_ns;
		runner_exec(r);
		return;
	case AGENT_STDOUT:
	case AGENT_STDERR:
		if (r->hello && !r->ended)
			runner_output(r, m->type == AGENT_STDERR, m->payload, m->len);
		return;
	case AGENT_EXIT:
		if (agent_decode_exit(m, &x)) {
			runner_end(r, RUNNER_EXIT_FAILED, "ringvm-init sent a bad EXIT");
			return;
		}
		r->signal = x.signal;
		runner_end(r, x.status >= 0 ? x.status : RV_EXIT_SIGNAL + x.signal, NULL);
		return;
	case AGENT_ERROR:
		if (agent_decode_error(m, &er) || er.code > 255) {
			runner_end(r, RUNNER_EXIT_FAILED, "ringvm-init sent a bad ERROR");
			return;
		}
		snprintf(why, sizeof(why), "%s", er.msg);
		runner_end(r, (int)er.code, why);
		return;
	}
}

/* runner_parse: the messages in what was read, stopping while output waits. */
static void runner_parse(struct runner *r)
{
	while (r->rbuf_len && !runner_pending(r) && !r->ended) {
		const uint8_t *p = r->rbuf + r->rbuf_off;
		size_t left = r->rbuf_len;
		struct agent_msg m;
		int n = agent_parse(&r->parser, &p, &left, &m);

		r->rbuf_off += r->rbuf_len - left;
		r->rbuf_len = left;
		if (n < 0) {
			runner_end(r, RUNNER_EXIT_FAILED, "ringvm-init broke the protocol");
			return;
		}
		if (n == 1)
			runner_message(r, &m);
	}
	if (!r->ended && !runner_pending(r) && r->fd >= 0)
		ev_io_start(r->loop->ev, &r->rd);
	else
		ev_io_stop(r->loop->ev, &r->rd);
}

static void runner_on_read(struct ev_loop *ev, ev_io *w, int revents)
{
	struct runner *r = w->data;
	ssize_t n;

	(void)ev;
	(void)revents;
	if (r->rbuf_len)
		return;		/* still parsing what came before */
	r->rbuf_off = 0;
	n = read(r->fd, r->rbuf, sizeof(r->rbuf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ev_io_stop(r->loop->ev, &r->rd);
		runner_end(r, RUNNER_EXIT_FAILED, "the connection to ringvm-init was lost before "
		    "the command's status came");
		return;
	}
	r->rbuf_len = (size_t)n;
	runner_parse(r);
}

/* runner_flush_toguest: write queued frames; stdin is read again once there is room. */
static void runner_flush_toguest(struct runner *r)
{
	while (r->toguest_len) {
		ssize_t n = send(r->fd, r->toguest + r->toguest_off, r->toguest_len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			ev_io_start(r->loop->ev, &r->wr);
			ev_io_stop(r->loop->ev, &r->in_watcher);
			return;
		}
		if (n <= 0) {
			r->toguest_len = 0;	/* the reader's end shows up as EOF there */
			break;
		}
		r->toguest_off += (size_t)n;
		r->toguest_len -= (size_t)n;
	}
	r->toguest_off = 0;
	ev_io_stop(r->loop->ev, &r->wr);
	if (r->exec_sent && !r->in_eof && !r->ended)
		ev_io_start(r->loop->ev, &r->in_watcher);
}

static void runner_on_write(struct ev_loop *ev, ev_io *w, int revents)
{
	(void)ev;
	(void)revents;
	runner_flush_toguest(w->data);
}

/* runner_on_stdin: ringvm's stdin to the command, a frame at a time, EOF passed on. */
static void runner_on_stdin(struct ev_loop *ev, ev_io *w, int revents)
{
	struct runner *r = w->data;
	ssize_t n;

	(void)ev;
	(void)revents;
	if (sizeof(r->toguest) - r->toguest_len < AGENT_MAX_FRAME) {
		ev_io_stop(r->loop->ev, w);	/* resumed by runner_flush_toguest */
		return;
	}
	n = hostfd_read(&r->in, r->inbuf, sizeof(r->inbuf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		n = agent_encode_stdin(r->frame, sizeof(r->frame), r->inbuf, (size_t)n);
	} else {
		/* End of file (or a read error, which the command cannot tell apart). */
		r->in_eof = true;
		ev_io_stop(r->loop->ev, w);
		n = agent_encode_stdin_eof(r->frame, sizeof(r->frame));
	}
	if (n > 0)
		runner_send(r, r->frame, (size_t)n);
}

/* runner_winch: the terminal was resized: tell the command's pty. */
static void runner_winch(void *ctx)
{
	struct runner *r = ctx;
	struct winsize ws;
	ssize_t n;

	if (!r->tty || !r->exec_sent || r->ended || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
		return;
	n = agent_encode_winch(r->frame, sizeof(r->frame), ws.ws_row, ws.ws_col);
	if (n > 0)
		runner_send(r, r->frame, (size_t)n);
}

static void runner_on_timeout(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct runner *r = w->data;
	char why[96];

	(void)ev;
	(void)revents;
	r->timed_out = true;
	snprintf(why, sizeof(why), "the command ran out of time (--timeout %.3gs)",
	    (double)r->cfg->run.timeout_ms / 1000);
	runner_end(r, RUNNER_EXIT_TIMEOUT, why);
}

/*
 * runner_connect: the vsock device's handler for AGENT_PORT: one
 * connection per run, over a socketpair whose other end the device relays.
 * Returns that end, or -errno.
 */
static int runner_connect(void *ctx, uint32_t port)
{
	struct runner *r = ctx;
	int sv[2];

	(void)port;
	if (r->fd >= 0 || r->ended)
		return -ECONNREFUSED;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	r->fd = sv[0];
	ev_io_set(&r->rd, r->fd, EV_READ);
	ev_io_set(&r->wr, r->fd, EV_WRITE);
	ev_io_start(r->loop->ev, &r->rd);
	return sv[1];
}

int runner_start(struct runner *r, struct vm *vm, struct rv_err *err)
{
	struct vsock *vs = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	r->loop = vm->loop;
	r->cfg = vm->cfg;
	r->fd = -1;
	r->result_fd = -1;
	r->status = -1;
	r->t_start = ev_time();
	/* Opened now: the sandbox lets nothing open a file once the guest runs. */
	if (r->cfg->run.result) {
		r->result_fd = open(r->cfg->run.result, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (r->result_fd < 0)
			return rv_fail(err, RUNNER_EXIT_FAILED, errno, "cannot open --result '%s'",
			    r->cfg->run.result);
	}
	agent_parser_init(&r->parser, AGENT_DIR_TO_HOST);
	for (unsigned i = 0; i < r->cfg->nr_dev && !vs; i++)
		if (r->cfg->dev[i].ops == &vsock_ops)
			vs = r->cfg->dev[i].state;
	if (!vs)
		return rv_fail(err, RUNNER_EXIT_FAILED, 0, "command mode needs the vsock device");
	rc = vsock_set_port_handler(vs, AGENT_PORT, runner_connect, r);
	if (rc)
		return rv_fail(err, RUNNER_EXIT_FAILED, -rc, "vsock port %u for ringvm-init",
		    AGENT_PORT);
	ev_io_init(&r->rd, runner_on_read, -1, EV_READ);
	ev_io_init(&r->wr, runner_on_write, -1, EV_WRITE);
	r->rd.data = r->wr.data = r;
	hostfd_own(&r->in, STDIN_FILENO, O_RDONLY);
	ev_io_init(&r->in_watcher, runner_on_stdin, r->in.io, EV_READ);
	r->in_watcher.data = r;
	for (unsigned s = 0; s < RUNNER_OUT_STREAMS; s++) {
		struct runner_out *o = &r->out[s];

		hostfd_own(&o->fd, s ? STDERR_FILENO : STDOUT_FILENO, O_WRONLY);
		o->dead = o->fd.flags < 0;
		ev_io_init(&o->watcher, runner_on_out, o->fd.io, EV_WRITE);
		o->watcher.data = r;
	}
	/* Raw mode waits for the agent (runner_exec): no setup failure can leave it behind. */
	r->tty = isatty(STDIN_FILENO);
	if (r->tty)
		loop_set_winch(r->loop, runner_winch, r);
	ev_timer_init(&r->timeout, runner_on_timeout, (double)r->cfg->run.timeout_ms / 1000, 0);
	r->timeout.data = r;
	if (r->cfg->run.timeout_ms)
		ev_timer_start(r->loop->ev, &r->timeout);
	return 0;
}

/* runner_drain: what the command printed, to a reader given RUNNER_FLUSH_MS at most. */
static void runner_drain(struct runner *r)
{
	int waited = 0;

	for (unsigned s = 0; s < RUNNER_OUT_STREAMS; s++) {
		struct runner_out *o = &r->out[s];

		while (o->pending_len && !o->dead && waited < RUNNER_FLUSH_MS) {
			struct pollfd p = { .fd = o->fd.io, .events = POLLOUT };

			if (poll(&p, 1, 50) == 0)
				waited += 50;
			else
				runner_out_write(r, o);
		}
	}
}

/* runner_failure: the cause when the VM stopped before the command's status came. */
static void runner_failure(struct runner *r, int loop_status)
{
	const char *why;

	if (loop_status >= RV_EXIT_SIGNAL) {
		r->status = loop_status;	/* ringvm itself was stopped by a signal */
		return;
	}
	switch (loop_status) {
	case RV_EXIT_PANIC: why = "the guest kernel panicked"; break;
	case RV_EXIT_VCPU: why = "a vCPU failed"; break;
	default:
		why = r->hello ? "the guest stopped before the command's status came" :
		    "the guest stopped before ringvm-init connected (see --console FILE)";
	}
	r->status = RUNNER_EXIT_FAILED;
	snprintf(r->cause, sizeof(r->cause), "%s", why);
}

int runner_finish(struct runner *r, int loop_status)
{
	if (r->status < 0)
		runner_failure(r, loop_status);
	runner_drain(r);
	/* The terminal back before any line of ringvm's own. */
	if (r->saved_termios)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &r->termios);
	r->saved_termios = false;
	if (r->cause[0])
		log_warnx("%s", r->cause);
	if (r->result_fd >= 0 && runner_result_write(r, r->result_fd) < 0)
		log_warn("cannot write --result '%s'", r->cfg->run.result);
	if (r->result_fd >= 0)
		close(r->result_fd);
	r->result_fd = -1;
	hostfd_release(&r->in);
	for (unsigned s = 0; s < RUNNER_OUT_STREAMS; s++)
		hostfd_release(&r->out[s].fd);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	return r->status;
}
