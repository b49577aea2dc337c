/*
 * init_pty.c: pseudo-terminals for commands run with AGENT_EXEC_TTY,
 * taken straight from /dev/ptmx with ioctls (what openpty(3) does, without
 * libutil and its group lookup, which a static binary should avoid).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "init.h"

#define INIT_PTY_CTRL_D 0x04

/* init_pty_peer: open the slave of `master` (O_RDWR, O_NOCTTY, O_CLOEXEC). */
static int init_pty_peer(int master)
{
	int flags = O_RDWR | O_NOCTTY | O_CLOEXEC;
	char path[32];
	unsigned n;
	int fd;

	/* TIOCGPTPEER (Linux 4.13) needs no path, so no /dev/pts race. */
	fd = ioctl(master, TIOCGPTPEER, flags);
	if (fd >= 0)
		return fd;
	if (ioctl(master, TIOCGPTN, &n) < 0)
		return -errno;
	snprintf(path, sizeof(path), "/dev/pts/%u", n);
	fd = open(path, flags);
	return fd < 0 ? -errno : fd;
}

int init_pty_winsize(int fd, uint16_t rows, uint16_t cols)
{
	struct winsize ws = { .ws_row = rows, .ws_col = cols };

	return ioctl(fd, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

int init_pty_open(int *master, int *slave, uint16_t rows, uint16_t cols)
{
	int unlock = 0, m, s, r;

	m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (m < 0)
		return -errno;
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0) {
		r = -errno;
		close(m);
		return r;
	}
	s = init_pty_peer(m);
	if (s < 0) {
		close(m);
		return s;
	}
	if (rows && cols && (r = init_pty_winsize(m, rows, cols))) {
		close(s);
		close(m);
		return r;
	}
	*master = m;
	*slave = s;
	return 0;
}

uint8_t init_pty_eof_char(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0 || t.c_cc[VEOF] == _POSIX_VDISABLE)
		return INIT_PTY_CTRL_D;
	return t.c_cc[VEOF];
}
