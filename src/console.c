/*
 * console.c: stdin/stdout as the guest console: raw mode, escapes, bounded
 * buffering.
 *
 * Exported (contracts in console.h): console_init, console_start,
 * console_attach, console_out_room, console_put, console_poll_input,
 * console_fini.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console.h"
#include "hostfd.h"
#include "log.h"
#include "loop.h"

#define CONSOLE_FLUSH_MS 2000	/* how long exit waits for a slow reader */

static size_t console_room_in(struct console *c)
{
	if (!c->guest.room)
		return 0;
	return c->guest.room(c->guest.dev);
}

/*
 * console_update_in: watch a pipe exactly when the guest can take bytes and
 * nothing is pending; watch a terminal always, while there is pending room.
 */
static void console_update_in(struct console *c)
{
	bool want;

	if (!c->started)
		return;
	if (c->in_eof)
		want = false;
	else if (c->in_tty)
		want = c->pending_len < sizeof(c->pending) || console_room_in(c) > 0;
	else
		want = c->pending_len == 0 && console_room_in(c) > 0;
	if (want && !ev_is_active(&c->in_watcher))
		ev_io_start(c->loop->ev, &c->in_watcher);
	else if (!want && ev_is_active(&c->in_watcher))
		ev_io_stop(c->loop->ev, &c->in_watcher);
}

/* console_feed: hand pending input to the guest, as much as it takes now. */
static void console_feed(struct console *c)
{
	size_t room = console_room_in(c), n = c->pending_len < room ? c->pending_len : room;

	if (n == 0)
		return;
	c->guest.input(c->guest.dev, c->pending, n);
	memmove(c->pending, c->pending + n, c->pending_len - n);
	c->pending_len -= n;
}

static void console_update_out(struct console *c)
{
	bool want = c->out_len > 0 && !c->out_dead;

	if (!c->started)
		return;
	if (want && !ev_is_active(&c->out_watcher))
		ev_io_start(c->loop->ev, &c->out_watcher);
	else if (!want && ev_is_active(&c->out_watcher))
		ev_io_stop(c->loop->ev, &c->out_watcher);
}

/*
 * console_escape: filter terminal input for Ctrl-A commands in place.
 * Returns the number of bytes left for the guest.
 */
static size_t console_escape(struct console *c, uint8_t *buf, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = buf[i];

		if (!c->escape) {
			if (b == CONSOLE_ESCAPE)
				c->escape = true;
			else
				buf[out++] = b;
			continue;
		}
		c->escape = false;
		if (b == 'x' || b == 'X') {
			/* Quit as if interrupted, so scripts see 130. */
			loop_stop(c->loop, RV_EXIT_SIGNAL + SIGINT);
			return out;
		}
		/* Ctrl-A Ctrl-A sends one Ctrl-A; Ctrl-A and any other key sends that key. */
		buf[out++] = b;
	}
	return out;
}

static void console_on_input(struct ev_loop *ev, ev_io *w, int revents)
{
	struct console *c = w->data;
	uint8_t buf[CONSOLE_PENDING];
	size_t want = c->in_tty ? sizeof(buf) : console_room_in(c);
	ssize_t n;

	(void)ev;
	(void)revents;
	if (want > sizeof(buf))
		want = sizeof(buf);
	if (want == 0) {
		console_update_in(c);
		return;
	}
	n = hostfd_read(&c->in, buf, want);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_warn("console: read from stdin");
		c->in_eof = true;
	} else if (n == 0) {
		c->in_eof = true;
	} else {
		size_t keep = c->in_tty ? console_escape(c, buf, (size_t)n) : (size_t)n;
		size_t room = sizeof(c->pending) - c->pending_len;

		if (keep > room) {
			c->in_dropped += keep - room;
			keep = room;
		}
		memcpy(c->pending + c->pending_len, buf, keep);
		c->pending_len += keep;
		console_feed(c);
	}
	console_update_in(c);
}

/* console_write_some: one write of the ring's oldest contiguous bytes. Returns -errno or bytes. */
static ssize_t console_write_some(struct console *c)
{
	size_t chunk = c->out_len;
	ssize_t n;

	if (c->out_head + chunk > sizeof(c->out))
		chunk = sizeof(c->out) - c->out_head;
	n = hostfd_write(&c->out_h, c->out + c->out_head, chunk);
	if (n < 0)
		return -errno;
	c->out_head = (c->out_head + (size_t)n) % sizeof(c->out);
	c->out_len -= (size_t)n;
	return n;
}

static void console_on_output(struct ev_loop *ev, ev_io *w, int revents)
{
	struct console *c = w->data;
	ssize_t n = 0;

	(void)ev;
	(void)revents;
	while (c->out_len && (n = console_write_some(c)) > 0)
		;
	if (n < 0 && n != -EAGAIN && n != -EINTR) {
		/* A closed pipe or full disk: keep the guest running, drop its output. */
		errno = (int)-n;
		log_warn("console: write to stdout failed; dropping guest output from now on");
		c->out_dead = true;
		c->out_len = 0;
	}
	if (c->was_full && c->out_len < sizeof(c->out) / 2) {
		c->was_full = false;
		if (c->guest.drained)
			c->guest.drained(c->guest.dev);
	}
	console_update_out(c);
}

void console_init(struct console *c, struct loop *loop, int in_fd, int out_fd)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->in = (struct hostfd){ .fd = in_fd, .io = in_fd, .flags = -1 };
	c->out_h = (struct hostfd){ .fd = out_fd, .io = out_fd, .flags = -1 };
	ev_io_init(&c->in_watcher, console_on_input, in_fd, EV_READ);
	c->in_watcher.data = c;
	ev_io_init(&c->out_watcher, console_on_output, out_fd, EV_WRITE);
	c->out_watcher.data = c;
}

int console_start(struct console *c)
{
	/* Non-blocking both ways: a stalled terminal or pipe must never block the loop. */
	hostfd_own(&c->in, c->in.fd, O_RDONLY);
	hostfd_own(&c->out_h, c->out_h.fd, O_WRONLY);
	ev_io_set(&c->in_watcher, c->in.io, EV_READ);
	ev_io_set(&c->out_watcher, c->out_h.io, EV_WRITE);
	c->started = true;
	if (c->in.flags < 0)
		c->in_eof = true;	/* no stdin at all: no input */
	if (c->out_h.flags < 0)
		c->out_dead = true;
	c->in_tty = c->in.flags >= 0 && isatty(c->in.fd);
	if (c->in_tty && tcgetattr(c->in.fd, &c->termios) == 0) {
		struct termios raw = c->termios;

		cfmakeraw(&raw);
		/* Keep output post-processing as QEMU does, so host-side lines stay aligned. */
		raw.c_oflag |= OPOST;
		if (tcsetattr(c->in.fd, TCSANOW, &raw) < 0)
			return -errno;
		c->saved_termios = true;
	}
	console_update_in(c);
	console_update_out(c);
	return 0;
}

void console_attach(struct console *c, const struct console_guest *guest)
{
	c->guest = *guest;
	console_update_in(c);
}

size_t console_out_room(const struct console *c)
{
	return sizeof(c->out) - c->out_len;
}

size_t console_put(struct console *c, const uint8_t *buf, size_t n)
{
	size_t room = console_out_room(c), take = n < room ? n : room;

	if (c->out_dead)
		return n;	/* nowhere to write: swallow, the guest must not stall */
	for (size_t i = 0; i < take; i++)
		c->out[(c->out_head + c->out_len + i) % sizeof(c->out)] = buf[i];
	c->out_len += take;
	if (take < n) {
		c->out_dropped += n - take;
		c->was_full = true;
	} else if (c->out_len == sizeof(c->out)) {
		c->was_full = true;
	}
	console_update_out(c);
	return take;
}

void console_poll_input(struct console *c)
{
	console_feed(c);
	console_update_in(c);
}

void console_fini(struct console *c)
{
	int waited = 0;

	if (!c->started)
		return;
	c->started = false;
	ev_io_stop(c->loop->ev, &c->in_watcher);
	ev_io_stop(c->loop->ev, &c->out_watcher);
	/* The guest's last words (a test verdict, a panic) must reach the reader. */
	while (c->out_len && !c->out_dead && waited < CONSOLE_FLUSH_MS) {
		struct pollfd p = { .fd = c->out_h.io, .events = POLLOUT };
		ssize_t n = console_write_some(c);

		/* Write first: a reader that keeps up (the usual case) needs no poll. */
		if (n > 0 || n == -EINTR)
			continue;
		if (n != -EAGAIN)
			break;
		if (poll(&p, 1, 50) == 0)
			waited += 50;
	}
	if (c->saved_termios)
		tcsetattr(c->in.fd, TCSADRAIN, &c->termios);
	hostfd_release(&c->in);
	hostfd_release(&c->out_h);
}
