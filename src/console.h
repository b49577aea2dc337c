/*
 * console.h: the host side of the guest console: stdin and stdout.
 *
 * On a terminal, stdin goes to raw mode (restored on every exit path) and
 * Ctrl-A x quits; with pipes or files the bytes pass unchanged. Output is
 * buffered in a bounded ring and written when stdout is writable, so a slow
 * reader never blocks the loop. Piped input is read only while the guest
 * side has room, so the writer waits instead of ringvm buffering it
 * (HOSTILE.md U2). A terminal is always read, so Ctrl-A x works even when
 * the guest does not listen; keystrokes beyond a small pending buffer are
 * dropped and counted, as a real serial line would lose them.
 */
#ifndef RINGVM_CONSOLE_H
#define RINGVM_CONSOLE_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "hostfd.h"

struct loop;

#define CONSOLE_OUT_SIZE 16384	/* bytes of guest output held for a slow reader */
#define CONSOLE_PENDING 256	/* terminal input held for a guest not listening */
#define CONSOLE_ESCAPE 0x01	/* Ctrl-A */

/* The device that consumes input and produces output (the UART). */
struct console_guest {
	void *dev;
	size_t (*room)(void *dev);			/* input bytes it can take now */
	void (*input)(void *dev, const uint8_t *buf, size_t n);
	void (*drained)(void *dev);			/* output has room again */
};

struct console {
	struct loop *loop;		/* where its watchers run, and Ctrl-A x stops */
	struct hostfd in, out_h;	/* stdin and stdout, used without blocking (hostfd.h) */
	bool started;			/* console_start ran; fds are ours */
	bool in_tty;			/* raw mode and escapes apply */
	bool saved_termios;
	struct termios termios;		/* to restore */
	bool in_eof;
	bool out_dead;			/* stdout failed (EPIPE...): output is dropped */
	bool escape;			/* Ctrl-A seen, next key is a command */
	bool was_full;			/* the ring filled; tell the guest when it drains */
	ev_io in_watcher, out_watcher;
	struct console_guest guest;
	uint8_t out[CONSOLE_OUT_SIZE];
	size_t out_head, out_len;	/* ring: oldest byte at out_head */
	unsigned long out_dropped;	/* bytes refused because the ring was full */
	uint8_t pending[CONSOLE_PENDING];	/* terminal input not yet taken by the guest */
	size_t pending_len;
	unsigned long in_dropped;	/* keystrokes lost to a full pending buffer */
};

/*
 * console_init: prepare the console on fds `in_fd` and `out_fd` (normally 0
 * and 1) without touching them yet, so setup can still fail cleanly.
 */
void console_init(struct console *c, struct loop *loop, int in_fd, int out_fd);

/*
 * console_start: take over the fds: raw mode when in_fd is a terminal,
 * non-blocking access to both through descriptions of the console's own
 * (so stderr stays blocking and no log line is lost), start reading. Call
 * right before the loop runs. Returns 0 or -errno (the terminal is left
 * as it was).
 */
int console_start(struct console *c);

/* console_attach: connect the guest-side device and start reading input. */
void console_attach(struct console *c, const struct console_guest *guest);

/*
 * console_put: queue guest output. Returns the bytes accepted: fewer than
 * `n` when the ring is full (the caller counts the rest as dropped).
 */
size_t console_put(struct console *c, const uint8_t *buf, size_t n);

/* console_out_room: free bytes in the output ring. */
size_t console_out_room(const struct console *c);

/* console_poll_input: the guest side has room again: resume reading stdin. */
void console_poll_input(struct console *c);

/*
 * console_fini: write what is still buffered (waiting at most a moment for a
 * slow reader), stop the watchers, restore the terminal and fd flags.
 * Idempotent; every exit path after console_init calls it.
 */
void console_fini(struct console *c);

#endif
