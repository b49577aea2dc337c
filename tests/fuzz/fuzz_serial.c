/*
 * fuzz_serial.c: the 8250/16550A UART (devices/serial.c): random register
 * reads and writes of any width at any offset, DLAB toggling and divisor
 * values (U3), host input with and without room (U2), a console whose
 * output ring fills and drains (U1). The console and the interrupt line
 * are fakes defined here.
 *
 * Invariants after every step:
 * - the receive FIFO holds at most 16 bytes (1 with the FIFO off), its head
 *   stays inside it, and serial_room() never offers more than is free;
 * - the IRQ line is driven only on a change, and its level is exactly
 *   "an enabled interrupt is pending" (IIR bit 0 clear);
 * - LSR reports the transmitter empty exactly when the console has room
 *   for what the guest may write then (16 bytes with the FIFO on, else 1);
 * - every THR byte is either accepted by the console, looped back, or
 *   counted as dropped (never blocks, never lost silently).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "serial.h"
#include "vm.h"

#define CHECK(c) do { if (!(c)) fail(#c, __LINE__); } while (0)

static void fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_serial: invariant broken at line %d: %s\n", line, what);
	abort();
}

/* --- the fake console and interrupt line --- */

static struct {
	size_t room;			/* free bytes in the output ring */
	unsigned long accepted;		/* bytes console_put took */
	unsigned long put_full;		/* console_put called with no room */
	unsigned long polls;
	struct console_guest guest;
	bool level;			/* the line as last driven */
	unsigned long edges, calls, same;
} fk;

size_t console_out_room(const struct console *c)
{
	(void)c;
	return fk.room;
}

size_t console_put(struct console *c, const uint8_t *buf, size_t n)
{
	size_t take = n < fk.room ? n : fk.room;

	(void)c;
	(void)buf;
	if (!fk.room)
		fk.put_full++;
	fk.room -= take;
	fk.accepted += take;
	return take;
}

void console_poll_input(struct console *c)
{
	(void)c;
	fk.polls++;
}

void console_attach(struct console *c, const struct console_guest *guest)
{
	(void)c;
	fk.guest = *guest;
}

int irq_line(struct vm *vm, unsigned gsi, bool level)
{
	(void)vm;
	(void)gsi;
	fk.calls++;
	if (!!level == fk.level)
		fk.same++;
	fk.level = level;
	return 0;
}


/* --- the harness --- */

static struct vm fake_vm;
static struct console fake_con;

static bool pending(const struct serial *s)
{
	return ((s->ier & 0x04) && s->overrun) || ((s->ier & 0x01) && s->rx_len) ||
	    ((s->ier & 0x02) && s->thri);
}

static void check(const struct serial *s)
{
	unsigned cap = (s->fcr & 1) ? SERIAL_FIFO : 1;

	CHECK(s->rx_len <= cap && s->rx_head < SERIAL_FIFO);
	CHECK(serial_room((void *)s) <= cap - s->rx_len);
	CHECK(fk.same == 0);				/* edges only */
	CHECK(s->irq_level == fk.level);
	CHECK(s->irq_level == pending(s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct serial s;
	size_t i = 0;
	unsigned long thr_writes = 0, loops = 0;

	memset(&fk, 0, sizeof(fk));
	memset(&s, 0, sizeof(s));
	s.vm = &fake_vm;
	s.con = &fake_con;
	s.irq = 4;
	serial_reset(&s);
	fk.room = 64;
	while (i + 1 < size) {
		uint8_t op = data[i++], arg = data[i++];
		unsigned off = op & 7, width = 1u << ((op >> 3) & 3);

		switch (op >> 5) {
		case 0: case 1: {
			uint8_t lsr;

			if (op & 0x40 && op & 0x20) {
				(void)serial_bus_ops.read(&s, 8 + arg % 8, width);	/* past the port */
				break;
			}
			if (off == 5) {
				lsr = (uint8_t)serial_bus_ops.read(&s, 5, width);
				/* THRE iff the console has room for what the guest may then write: a FIFO's worth (U1). */
				CHECK(!!(lsr & 0x20) == (fk.room >= ((s.fcr & 1) ? SERIAL_FIFO : 1u)));
				CHECK(!!(lsr & 0x01) == (s.rx_len > 0));
				break;
			}
			(void)serial_bus_ops.read(&s, off, width);
			break;
		}
		case 2: case 3: {
			bool thr = off == 0 && !(s.lcr & 0x80), loop = s.mcr & 0x10;
			unsigned long before = fk.accepted + s.tx_dropped;

			serial_bus_ops.write(&s, off, arg, width);
			if (thr && !loop) {
				thr_writes++;
				CHECK(fk.accepted + s.tx_dropped == before + 1);	/* taken or counted */
			}
			loops += thr && loop;
			break;
		}
		case 4:
			/* The host offers input, as the console does: no more than there is room for. */
			{
				size_t room = serial_room(&s), n = arg % 20;
				uint8_t bytes[20];

				memset(bytes, arg, sizeof(bytes));
				if (n > room && !(op & 1))
					n = room;
				if (n)
					serial_input(&s, bytes, n);
			}
			break;
		case 5:
			fk.room = arg & 0x80 ? 0 : arg;
			break;
		case 6:
			fk.room += arg;
			serial_drained(&s);
			break;
		default:
			serial_bus_ops.write(&s, 8 + arg % 8, arg, width);	/* past the port: ignored */
			break;
		}
		check(&s);
	}
	CHECK(fk.put_full <= thr_writes);
	CHECK(fk.accepted + s.tx_dropped == thr_writes);
	(void)loops;
	return 0;
}
