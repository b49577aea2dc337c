/*
 * vsock_host.c: the host ends of vsock connections, in Firecracker's
 * convention over AF_UNIX (docs/VSOCK.md "Convention"):
 *  - host-initiated: ringvm listens on `path`; a host program connects and
 *    writes "CONNECT <port>\n"; the guest is sent a REQUEST from a host port
 *    the device picks, and on the guest's RESPONSE the program reads
 *    "OK <hostport>\n"; from then on the stream is the guest's port;
 *  - guest-initiated: a guest connection to host port P gets the socket
 *    returned by P's in-process handler, or else a non-blocking connect to
 *    `path`_P; failure answers the guest with RST.
 * The line is read without a timeout but never past VSOCK_LINE_MAX bytes,
 * and no byte after its newline is consumed (it is the guest's data).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "loop.h"
#include "vm.h"
#include "vsock_priv.h"

#define VSOCK_RETRY_S 1.0	/* accept retry while the fd limit is hit */

_Static_assert(VSOCK_PATH_MAX + sizeof("_4294967295") <= sizeof(((struct sockaddr_un *)0)->sun_path),
    "a port socket path must fit sun_path");

int vsock_host_path_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int r;

	if (lstat(path, &st) == 0) {
		/* Only a socket (a stale one from an earlier run) may be replaced. */
		if (S_ISSOCK(st.st_mode))
			return 0;
		snprintf(err, errlen, "'%s' exists and is not a socket; refusing to replace it",
		    path);
		return -EEXIST;
	}
	if (errno == ENOENT)
		return 0;
	r = -errno;
	snprintf(err, errlen, "cannot check '%s': %s", path, strerror(errno));
	return r;
}

/*
 * vsock_host_sndbuf: bound what a host program's socket holds of the
 * guest's bytes (VSOCK_HOST_SNDBUF) by ringvm's limit rather than the
 * host's net.core.wmem_default. Best effort: should it fail, that default
 * still bounds it. In-process handlers' sockets are left as made.
 */
static void vsock_host_sndbuf(int fd)
{
	int v = VSOCK_HOST_SNDBUF;

	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static void vsock_host_on_accept(struct ev_loop *ev, ev_io *w, int revents);

static void vsock_host_on_retry(struct ev_loop *ev, ev_timer *w, int revents)
{
	(void)ev; (void)revents;
	vsock_host_resume(w->data);
}

int vsock_host_listen(struct vsock *vs)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = vs->spec.path;
	size_t len = strnlen(path, sizeof(vs->spec.path));
	char why[300];
	int fd, r;

	ev_timer_init(&vs->listen_retry, vsock_host_on_retry, VSOCK_RETRY_S, 0.);
	vs->listen_retry.data = vs;
	if (len == 0)
		return 0;	/* in-process ports only */
	if (len > VSOCK_PATH_MAX)
		return -ENAMETOOLONG;
	r = vsock_host_path_check(path, why, sizeof(why));
	if (r) {
		log_warnx("vsock: %s", why);
		return r;
	}
	/* Checked just above to be a socket or nothing: a stale socket would make bind fail. */
	if (unlink(path) && errno != ENOENT) {
		r = -errno;
		log_warn("vsock: cannot remove the stale socket '%s'", path);
		return r;
	}
	memcpy(sa.sun_path, path, len);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, VSOCK_ACCEPT_BUDGET)) {
		r = -errno;
		log_warn("vsock: cannot listen on '%s'", path);
		if (fd >= 0)
			close(fd);
		return r;
	}
	vs->listen_fd = fd;
	ev_io_init(&vs->listen_io, vsock_host_on_accept, fd, EV_READ);
	vs->listen_io.data = vs;
	ev_io_start(vs->vm->loop->ev, &vs->listen_io);
	return 0;
}

/*
 * vsock_host_close: stop listening. The socket file stays: at exit the
 * loop thread is sandboxed and may remove no file (docs/SECURITY.md); the
 * next ringvm with this path replaces it as a stale socket.
 */
void vsock_host_close(struct vsock *vs)
{
	ev_timer_stop(vs->vm->loop->ev, &vs->listen_retry);
	if (vs->listen_fd < 0)
		return;
	ev_io_stop(vs->vm->loop->ev, &vs->listen_io);
	close(vs->listen_fd);
	vs->listen_fd = -1;
}

void vsock_host_resume(struct vsock *vs)
{
	if (!vs->listen_paused || vs->listen_fd < 0)
		return;
	vs->listen_paused = false;
	ev_timer_stop(vs->vm->loop->ev, &vs->listen_retry);
	ev_io_start(vs->vm->loop->ev, &vs->listen_io);
}

/* vsock_host_on_accept: host programs connect; each gets a slot or is closed at once. */
static void vsock_host_on_accept(struct ev_loop *ev, ev_io *w, int revents)
{
	struct vsock *vs = w->data;

	(void)revents;
	for (unsigned i = 0; i < VSOCK_ACCEPT_BUDGET; i++) {
		int fd = accept4(vs->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct vsock_conn *c;

		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			/*
			 * EMFILE and the like leave the connection queued, so the
			 * level-triggered watcher would fire at once again: pause
			 * until a slot frees or the retry timer, never spin.
			 */
			log_warn("vsock: accept on '%s' (pausing)", vs->spec.path);
			ev_io_stop(ev, w);
			vs->listen_paused = true;
			ev_timer_start(ev, &vs->listen_retry);
			return;
		}
		vsock_host_sndbuf(fd);
		c = vsock_conn_new(vs, VSOCK_HANDSHAKE, fd);
		if (!c) {
			/* At the cap: refused with EOF now, not left hanging in the backlog. */
			close(fd);
			vs->cnt.host_refused++;
			continue;
		}
		vsock_conn_watch(c);
	}
}

/* vsock_host_parse: "CONNECT <port>\n", exactly; the port below VMADDR_PORT_ANY. */
static int vsock_host_parse(const char *line, size_t len, uint32_t *port)
{
	static const char word[] = "CONNECT ";

	if (len < sizeof(word) + 1 || memcmp(line, word, sizeof(word) - 1) || line[len - 1] != '\n')
		return -1;
	if (vsock_parse_u32(line + sizeof(word) - 1, len - sizeof(word), port) ||
	    *port == UINT32_MAX)
		return -1;
	return 0;
}

void vsock_host_line(struct vsock_conn *c)
{
	struct vsock *vs = c->vs;
	char peek[VSOCK_LINE_MAX];
	size_t room = VSOCK_LINE_MAX - c->line_len, take;
	const char *nl;
	uint32_t port;
	ssize_t n;

	/* Look first, then consume up to the newline only: later bytes are the stream's. */
	n = recv(c->fd, peek, room, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		vsock_conn_free(c);	/* gone before asking: the guest never knew */
		return;
	}
	nl = memchr(peek, '\n', (size_t)n);
	take = nl ? (size_t)(nl - peek) + 1 : (size_t)n;
	if (recv(c->fd, c->line + c->line_len, take, 0) != (ssize_t)take)
		goto refuse;
	c->line_len += (unsigned)take;
	if (!nl) {
		if (c->line_len == VSOCK_LINE_MAX)
			goto refuse;	/* no newline within the limit */
		return;			/* more to come; the watcher fires again */
	}
	if (vsock_host_parse(c->line, c->line_len, &port))
		goto refuse;
	c->peer_port = port;
	c->local_port = vsock_conn_port(vs);
	c->state = VSOCK_REQUEST;
	vsock_conn_watch(c);		/* nothing to read until the guest answers */
	vsock_conn_ctl(c, VSOCK_CTL_REQUEST);
	return;
refuse:
	vs->cnt.host_refused++;
	vsock_conn_free(c);
}

int vsock_host_ok(struct vsock_conn *c)
{
	char msg[24];
	int len = snprintf(msg, sizeof(msg), "OK %u\n", c->local_port);
	ssize_t n = send(c->fd, msg, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);

	/* Nothing was ever sent on this socket, so a short write means it is broken. */
	if (n < 0)
		return -errno;
	return n == len ? 0 : -EIO;
}

/* vsock_host_nonblock: make a handler's socket non-blocking and close-on-exec. */
static int vsock_host_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) || fcntl(fd, F_SETFD, FD_CLOEXEC))
		return -errno;
	return 0;
}

int vsock_host_connect(struct vsock *vs, uint32_t port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	for (unsigned i = 0; i < vs->nr_handlers; i++) {
		if (vs->handler[i].port != port)
			continue;
		fd = vs->handler[i].connect(vs->handler[i].ctx, port);
		if (fd < 0)
			return fd;
		r = vsock_host_nonblock(fd);
		if (r) {
			close(fd);
			return r;
		}
		return fd;
	}
	if (!vs->spec.path[0])
		return -ECONNREFUSED;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", vs->spec.path, port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	vsock_host_sndbuf(fd);
	/* AF_UNIX connects at once or fails (EAGAIN: the listener's backlog is full). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}
