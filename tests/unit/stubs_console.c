/*
 * stubs_console.c: a fake host console for device tests. Output goes to a
 * capture buffer whose free room the test sets (stub_con_room), so a full
 * or slow terminal is one assignment away. Input the test "pastes" waits in
 * stub_con_pending and is handed to the device only as far as the device's
 * room() allows, the way console.c feeds it.
 */
#include <string.h>

#include "console.h"

size_t stub_con_room = CONSOLE_OUT_SIZE;	/* free bytes in the output ring */
uint8_t stub_con_out[1 << 16];			/* accepted output, first 64 KiB */
size_t stub_con_out_len;			/* bytes accepted in total */
unsigned stub_con_puts;				/* console_put calls */
unsigned stub_con_polls;			/* console_poll_input calls */
unsigned stub_con_attached;			/* console_attach calls */
struct console_guest stub_con_guest;		/* what the device attached */
uint8_t stub_con_pending[1 << 16];		/* pasted input not yet taken */
size_t stub_con_pending_len;
size_t stub_con_max_fed;			/* largest single input() call */

void console_attach(struct console *c, const struct console_guest *guest)
{
	(void)c;
	stub_con_guest = *guest;
	stub_con_attached++;
}

size_t console_out_room(const struct console *c)
{
	(void)c;
	return stub_con_room;
}

size_t console_put(struct console *c, const uint8_t *buf, size_t n)
{
	size_t take = n < stub_con_room ? n : stub_con_room;

	(void)c;
	stub_con_puts++;
	for (size_t i = 0; i < take; i++) {
		if (stub_con_out_len < sizeof(stub_con_out))
			stub_con_out[stub_con_out_len] = buf[i];
		stub_con_out_len++;
	}
	stub_con_room -= take;
	return take;
}

/* As console_feed: as much pending input as the device takes now. */
void console_poll_input(struct console *c)
{
	size_t room, n;

	(void)c;
	stub_con_polls++;
	if (!stub_con_guest.room)
		return;
	room = stub_con_guest.room(stub_con_guest.dev);
	n = stub_con_pending_len < room ? stub_con_pending_len : room;
	if (n == 0)
		return;
	if (n > stub_con_max_fed)
		stub_con_max_fed = n;
	stub_con_guest.input(stub_con_guest.dev, stub_con_pending, n);
	memmove(stub_con_pending, stub_con_pending + n, stub_con_pending_len - n);
	stub_con_pending_len -= n;
}
