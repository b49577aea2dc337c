/*
 * hostfd.h: using a host fd that ringvm did not open (stdin, stdout,
 * stderr, a file given on the command line) from the loop without ever
 * blocking, and without changing what other processes and ringvm's own
 * stderr share with it: O_NONBLOCK is a property of the open file
 * description, which stdin, stdout and stderr share on a terminal or a
 * 2>&1 pipe. The console and the command runner use it (hostfd.c).
 */
#ifndef RINGVM_HOSTFD_H
#define RINGVM_HOSTFD_H

#include <stddef.h>
#include <sys/types.h>

enum hostfd_kind {
	HOSTFD_REOPENED,	/* a file description of our own, opened O_NONBLOCK */
	HOSTFD_SOCKET,		/* a socket: each call passes MSG_DONTWAIT */
	HOSTFD_FILE,		/* a regular file or unpollable device: never blocks */
	HOSTFD_SHARED,		/* fallback: O_NONBLOCK set on the shared description */
};

/* One fd as the loop uses it. */
struct hostfd {
	int fd;			/* as given */
	int io;			/* what reads and writes use */
	int flags;		/* the description's fcntl flags, to restore; -1: fd unusable */
	enum hostfd_kind kind;
};

/*
 * hostfd_own: make `fd` (to be used with access `mode`, O_RDONLY or
 * O_WRONLY) safe for the loop: pipes, FIFOs and terminals are opened again
 * through /proc/self/fd, which gives a description of our own; sockets use
 * MSG_DONTWAIT; regular files never block. Only when the reopen fails is
 * O_NONBLOCK set on the shared description (hostfd_release restores it).
 * An fd that is not open leaves h->flags at -1 (callers treat it as EOF or
 * as a dead output).
 */
void hostfd_own(struct hostfd *h, int fd, int mode);

/* hostfd_read/hostfd_write: read(2)/write(2) on h->io, never blocking or raising SIGPIPE. */
ssize_t hostfd_read(const struct hostfd *h, void *buf, size_t len);
ssize_t hostfd_write(const struct hostfd *h, const void *buf, size_t len);

/* hostfd_release: undo hostfd_own; h->io is h->fd again. */
void hostfd_release(struct hostfd *h);

#endif
