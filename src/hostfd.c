/*
 * hostfd.c: host fds the loop uses without blocking and without touching
 * descriptions it shares with others (hostfd.h).
 *
 * Exported (contracts in hostfd.h): hostfd_own, hostfd_read, hostfd_write,
 * hostfd_release.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostfd.h"

void hostfd_own(struct hostfd *h, int fd, int mode)
{
	char path[32];
	struct stat st;
	int nfd;

	h->fd = h->io = fd;
	h->flags = fcntl(fd, F_GETFL);
	h->kind = HOSTFD_FILE;
	if (h->flags < 0)
		return;
	if (fstat(fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ||
	    S_ISDIR(st.st_mode))
		return;
	if (S_ISSOCK(st.st_mode)) {
		h->kind = HOSTFD_SOCKET;
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, mode | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (nfd >= 0) {
		h->io = nfd;
		h->kind = HOSTFD_REOPENED;
		return;
	}
	fcntl(fd, F_SETFL, h->flags | O_NONBLOCK);
	h->kind = HOSTFD_SHARED;
}

ssize_t hostfd_read(const struct hostfd *h, void *buf, size_t len)
{
	if (h->kind == HOSTFD_SOCKET)
		return recv(h->io, buf, len, MSG_DONTWAIT);
	return read(h->io, buf, len);
}

ssize_t hostfd_write(const struct hostfd *h, const void *buf, size_t len)
{
	if (h->kind == HOSTFD_SOCKET)
		return send(h->io, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(h->io, buf, len);
}

void hostfd_release(struct hostfd *h)
{
	if (h->flags < 0)
		return;
	if (h->kind == HOSTFD_REOPENED && h->io != h->fd)
		close(h->io);
	else if (h->kind == HOSTFD_SHARED)
		fcntl(h->fd, F_SETFL, h->flags);
	h->io = h->fd;
}
