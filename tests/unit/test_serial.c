/*
 * test_serial.c: the 8250/16550A on COM1 (devices/serial.c), driven through
 * the port I/O bus as the guest drives it, against a fake console
 * (stubs_console.c) and a fake interrupt line (stubs_vm.c): registers, the
 * divisor latch (HOSTILE.md U3), THRE interrupts, input only while the
 * guest listens and never more than the FIFO (U2), a full console (U1),
 * loopback, and a long random run that must keep LSR and IIR consistent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "device.h"
#include "serial.h"
#include "vm.h"
#include "unit.h"

/* What the stubs recorded (stubs_vm.c, stubs_console.c). */
extern unsigned stub_irq_calls, stub_irq_gsi;
extern int stub_irq_level, stub_irq_ret;
extern size_t stub_con_room, stub_con_out_len, stub_con_pending_len, stub_con_max_fed;
extern uint8_t stub_con_out[1 << 16], stub_con_pending[1 << 16];
extern unsigned stub_con_polls, stub_con_attached;
extern struct console_guest stub_con_guest;

static struct unit u = { .file = "serial" };

#define COM1 X86_COM1_PORT
enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5,
	MSR = 6, SCR = 7 };

static struct vm vm;
static struct console fake_console;	/* only its address is used: the stubs stand in */
static struct serial *s;

static void out(unsigned reg, uint8_t v)
{
	bus_write(&vm.pio, COM1 + reg, &v, 1);
}

static uint8_t in(unsigned reg)
{
	uint8_t v = 0;

	bus_read(&vm.pio, COM1 + reg, &v, 1);
	return v;
}

/* fresh: a new VM with only the UART, the console idle with room, the line low. */
static int fresh(void)
{
	void *state = NULL;
	char why[128];

	if (s) {
		s->tx_dropped = 0;	/* the teardown report is tested on its own */
		serial_ops.destroy(&vm, s);
		s = NULL;
	}
	memset(&vm, 0, sizeof(vm));
	vm.console = &fake_console;
	stub_con_room = CONSOLE_OUT_SIZE;
	stub_con_out_len = 0;
	stub_con_pending_len = 0;
	stub_con_max_fed = 0;
	stub_irq_calls = 0;
	stub_irq_level = -1;
	stub_irq_ret = 0;
	if (serial_ops.create(&vm, NULL, &state, why, sizeof(why)) || !state)
		return -1;
	s = state;
	return 0;
}

static void paste(const void *p, size_t n)
{
	memcpy(stub_con_pending + stub_con_pending_len, p, n);
	stub_con_pending_len += n;
}

/* capture_stderr: run fn with fd 2 in a temp file; returns what it wrote. */
static const char *capture_stderr(void (*fn)(void))
{
	static char buf[1024];
	char path[] = "/tmp/ringvm-serial-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0 || saved < 0)
		return buf;
	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

static void test_setup(void)
{
	struct dev_desc desc;
	void *state;
	char why[128];
	uint8_t v;

	UNIT_OK(&u, fresh() == 0, "create makes one instance");
	UNIT_OK(&u, s->irq == X86_COM1_IRQ && serial_ops.describe(s, &desc) == 1 &&
	    !strcmp(desc.acpi_hid, "PNP0501") && !strcmp(desc.acpi_name, "COM1") &&
	    desc.irq == X86_COM1_IRQ && desc.nr_res == 1 && desc.res[0].kind == DEV_RES_PIO &&
	    desc.res[0].base == X86_COM1_PORT && desc.res[0].len == 8,
	    "describes itself as COM1: PNP0501, ports 0x3f8-0x3ff, IRQ 4");
	UNIT_OK(&u, bus_read(&vm.pio, COM1, &v, 1) && bus_read(&vm.pio, COM1 + 7, &v, 1) &&
	    !bus_read(&vm.pio, COM1 + 8, &v, 1) && !bus_read(&vm.pio, COM1 - 1, &v, 1),
	    "claims exactly ports 0x3f8-0x3ff");
	UNIT_OK(&u, stub_con_attached >= 1 && stub_con_guest.dev == s &&
	    stub_con_guest.room == serial_room && stub_con_guest.input == serial_input &&
	    stub_con_guest.drained == serial_drained, "attached to the console");
	UNIT_OK(&u, in(IER) == 0 && in(LCR) == 0 && in(MCR) == 0 && in(SCR) == 0,
	    "reset: IER, LCR, MCR, SCR are 0");
	UNIT_OK(&u, in(LSR) == 0x60, "reset: LSR = THRE | TEMT");
	UNIT_OK(&u, in(IIR) == 0x01, "reset: IIR = no interrupt");
	UNIT_OK(&u, in(MSR) == 0xb0, "reset: MSR = DCD | DSR | CTS");
	out(LCR, 0x80);
	UNIT_OK(&u, in(DLL) == 12 && in(DLM) == 0, "reset: divisor 12 (9600 baud)");
	out(LCR, 0x00);
	UNIT_OK(&u, stub_irq_calls == 0, "no interrupt edge at reset");

	/* Failure paths leave nothing behind. */
	serial_ops.destroy(&vm, s);
	s = NULL;
	UNIT_OK(&u, !bus_read(&vm.pio, COM1, &v, 1), "teardown releases the ports");
	memset(&vm, 0, sizeof(vm));
	vm.console = &fake_console;
	bus_add(&vm.pio, COM1 + 4, 1, &serial_bus_ops, NULL, "squatter");
	state = NULL;
	UNIT_OK(&u, serial_ops.create(&vm, NULL, &state, why, sizeof(why)) == -EEXIST && !state &&
	    !strcmp(why, "ports 0x3f8-0x3ff are taken"), "ports taken: -EEXIST and the reason");
}

static void test_registers(void)
{
	unsigned ok = 1;

	fresh();
	for (unsigned v = 0; v < 256; v++) {
		out(SCR, (uint8_t)v);
		ok &= in(SCR) == v;
	}
	UNIT_OK(&u, ok, "scratch register keeps all 256 values");
	out(IER, 0xff);
	UNIT_OK(&u, in(IER) == 0x0f, "IER keeps its 4 defined bits");
	out(IER, 0);
	out(MCR, 0xff);
	UNIT_OK(&u, in(MCR) == 0x1f, "MCR keeps its 5 defined bits");
	out(MCR, 0);
	out(LCR, 0x1b);
	UNIT_OK(&u, in(LCR) == 0x1b, "LCR reads back");
	out(LSR, 0x00);
	out(MSR, 0x00);
	UNIT_OK(&u, in(LSR) == 0x60 && in(MSR) == 0xb0, "LSR and MSR ignore writes");

	/* DLAB: offsets 0 and 1 become the divisor latch; no guest value divides anything. */
	out(IER, 0x05);
	out(LCR, 0x83);
	UNIT_OK(&u, in(LCR) == 0x83, "LCR with DLAB reads back");
	out(DLL, 0x00);
	out(DLM, 0x00);
	UNIT_OK(&u, in(DLL) == 0 && in(DLM) == 0, "divisor 0 is stored");
	UNIT_OK(&u, stub_con_out_len == 0, "THR writes under DLAB do not transmit");
	out(LCR, 0x03);
	UNIT_OK(&u, in(IER) == 0x05, "IER survives divisor writes");
	out(THR, 'A');
	UNIT_OK(&u, stub_con_out_len == 1 && stub_con_out[0] == 'A' && (in(LSR) & 0x60) == 0x60,
	    "divisor 0: the UART still transmits");
	out(LCR, 0x83);
	out(DLL, 0xff);
	out(DLM, 0xff);
	UNIT_OK(&u, in(DLL) == 0xff && in(DLM) == 0xff, "divisor 0xffff is stored");
	out(LCR, 0x03);
	out(THR, 'B');
	UNIT_OK(&u, stub_con_out_len == 2 && stub_con_out[1] == 'B', "divisor 0xffff: still transmits");
	for (unsigned i = 0; i < 1000; i++) {
		out(LCR, (uint8_t)(i & 1 ? 0x80 : 0x00));
		out(DLL, (uint8_t)i);
	}
	out(LCR, 0x80);
	ok = in(DLL) == (uint8_t)999;
	out(LCR, 0x00);
	UNIT_OK(&u, ok && stub_con_out_len == 2 + 500 && in(IER) == 0x05,
	    "DLAB toggling: odd writes to the latch, even ones transmitted");
}

static void test_thre_irq(void)
{
	unsigned calls, ok = 1;

	fresh();
	out(MCR, 0x08);
	out(IER, 0x02);
	UNIT_OK(&u, stub_irq_calls == 1 && stub_irq_gsi == 4 && stub_irq_level == 1,
	    "enabling THRI with THR empty raises IRQ 4");
	UNIT_OK(&u, in(IIR) == 0x02, "IIR reports THRE");
	UNIT_OK(&u, stub_irq_calls == 2 && stub_irq_level == 0, "reading IIR lowers the line");
	UNIT_OK(&u, in(IIR) == 0x01, "and acknowledges THRE");
	out(IER, 0x02);
	UNIT_OK(&u, stub_irq_calls == 2 && in(IIR) == 0x01, "rewriting IER.THRI does not re-raise");
	out(IER, 0x00);
	out(IER, 0x02);
	UNIT_OK(&u, stub_irq_calls == 3 && stub_irq_level == 1, "THRI off and on raises again");
	out(IER, 0x00);
	UNIT_OK(&u, stub_irq_calls == 4 && stub_irq_level == 0, "masking THRI lowers the line");
	out(IER, 0x02);
	in(IIR);
	calls = stub_irq_calls;
	for (unsigned i = 0; i < 1000; i++) {
		out(THR, (uint8_t)('a' + i % 26));
		ok &= stub_irq_level == 1 && in(IIR) == 0x02 && stub_irq_level == 0 && in(IIR) == 0x01;
	}
	UNIT_OK(&u, ok, "THR write / IIR read ping-pong, 1000 rounds");
	UNIT_OK(&u, stub_irq_calls == calls + 2000, "exactly two edges per round");
	out(FCR, 0x01);
	out(THR, 'x');
	UNIT_OK(&u, in(IIR) == 0xc2 && in(IIR) == 0xc1, "with the FIFO on IIR has bits 7:6 set");

	/* A pending THRE hidden behind received data survives an IIR read. */
	fresh();
	out(MCR, 0x08);
	out(IER, 0x03);
	serial_input(s, (const uint8_t *)"z", 1);
	UNIT_OK(&u, in(IIR) == 0x04, "received data outranks THRE");
	UNIT_OK(&u, in(RBR) == 'z' && in(IIR) == 0x02 && in(IIR) == 0x01,
	    "after RBR is read, the THRE interrupt is still there");
	out(IER, 0x05);
	serial_input(s, (const uint8_t *)"12", 2);
	UNIT_OK(&u, in(IIR) == 0x06 && in(LSR) == 0x63 && in(IIR) == 0x04 && in(LSR) == 0x61,
	    "overrun: IIR line status first, LSR.OE once, then data");
}

static void test_input(void)
{
	static uint8_t flood[10000];
	unsigned got = 0, ok = 1, maxlen = 0;

	fresh();
	paste("abc", 3);
	out(IER, 0x00);
	out(MCR, 0x00);
	UNIT_OK(&u, s->rx_len == 0 && !(in(LSR) & 0x01) && stub_con_pending_len == 3,
	    "no input while IER.RDI and OUT2 are off");
	out(IER, 0x01);
	UNIT_OK(&u, s->rx_len == 0 && stub_con_pending_len == 3, "IER.RDI without OUT2: no input");
	out(IER, 0x00);
	out(MCR, 0x08);
	UNIT_OK(&u, s->rx_len == 0 && stub_con_pending_len == 3, "OUT2 without IER.RDI: no input");
	out(MCR, 0x18);
	out(IER, 0x01);
	UNIT_OK(&u, s->rx_len == 0 && stub_con_pending_len == 3, "loopback: no host input");
	UNIT_OK(&u, serial_room(s) == 0, "loopback: no room offered");
	out(MCR, 0x08);
	UNIT_OK(&u, s->rx_len == 1 && stub_con_pending_len == 2 && in(LSR) == 0x61 &&
	    stub_irq_level == 1 && in(IIR) == 0x04, "IER.RDI and OUT2: one byte without a FIFO");
	UNIT_OK(&u, in(RBR) == 'a' && in(RBR) == 'b' && in(RBR) == 'c' && in(LSR) == 0x60 &&
	    stub_con_pending_len == 0, "each RBR read pulls the next byte, in order");
	UNIT_OK(&u, stub_irq_level == 0 && in(IIR) == 0x01, "empty again: line low");
	UNIT_OK(&u, in(RBR) == 0 && in(LSR) == 0x60, "RBR read when empty gives 0, no data");

	/* A pasted flood arrives whole and in order, never more than the FIFO at once. */
	out(FCR, 0x07);
	for (size_t i = 0; i < sizeof(flood); i++)
		flood[i] = (uint8_t)(i * 7 + i / 251);
	paste(flood, sizeof(flood));
	out(IER, 0x01);	/* any poll starts the feed */
	for (unsigned guard = 0; guard < 20000 && (in(LSR) & 0x01); guard++) {
		uint8_t lsr, b;

		if (s->rx_len > maxlen)
			maxlen = s->rx_len;
		lsr = in(LSR);
		ok &= !(lsr & 0x02);
		b = in(RBR);
		ok &= got < sizeof(flood) && b == flood[got];
		got++;
	}
	UNIT_OK(&u, ok && got == sizeof(flood), "10000 pasted bytes arrive in order, no overrun");
	UNIT_OK(&u, maxlen <= SERIAL_FIFO && maxlen > 1 && stub_con_max_fed <= SERIAL_FIFO,
	    "receive buffer bounded by the 16-byte FIFO");

	/* A console that pushes more than the room is cut at the FIFO and flags overrun. */
	fresh();
	out(FCR, 0x01);
	memset(flood, 'q', 100);
	serial_input(s, flood, 100);
	UNIT_OK(&u, s->rx_len == SERIAL_FIFO && in(LSR) == 0x63 && in(LSR) == 0x61,
	    "100 bytes at once: 16 kept, overrun reported once");
	out(FCR, 0x00);
	UNIT_OK(&u, s->rx_len == 1, "FIFO off: only the holding register remains");
	serial_input(s, (const uint8_t *)"r", 1);
	UNIT_OK(&u, s->rx_len == 1 && in(LSR) == 0x63 && in(RBR) == 'q',
	    "FIFO off: a second byte overruns, the first is kept");
	out(FCR, 0x01);
	serial_input(s, flood, 10);
	out(FCR, 0x03);
	UNIT_OK(&u, s->rx_len == 0 && in(LSR) == 0x60, "FCR clear-RX empties the FIFO");
}

static void test_loopback(void)
{
	unsigned ok = 1;

	fresh();
	out(MCR, 0x10);
	out(THR, 'x');
	UNIT_OK(&u, stub_con_out_len == 0 && in(LSR) == 0x61 && in(RBR) == 'x',
	    "loopback: THR comes back in RBR, not on the console");
	UNIT_OK(&u, in(MSR) == 0x00, "loopback, modem outputs off: MSR 0");
	out(MCR, 0x11);
	ok &= in(MSR) == 0x20;
	out(MCR, 0x12);
	ok &= in(MSR) == 0x10;
	out(MCR, 0x14);
	ok &= in(MSR) == 0x40;
	out(MCR, 0x18);
	ok &= in(MSR) == 0x80;
	out(MCR, 0x1f);
	ok &= in(MSR) == 0xf0;
	UNIT_OK(&u, ok, "loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD");
	out(FCR, 0x01);
	for (unsigned i = 0; i < 17; i++)
		out(THR, (uint8_t)('A' + i));
	UNIT_OK(&u, s->rx_len == SERIAL_FIFO && in(LSR) == 0x63, "17 looped bytes: 16 kept, overrun");
	ok = 1;
	for (unsigned i = 0; i < 16; i++)
		ok &= in(RBR) == 'A' + i;
	UNIT_OK(&u, ok && in(LSR) == 0x60, "looped bytes read back in order");
	out(MCR, 0x00);
	UNIT_OK(&u, in(MSR) == 0xb0, "loopback off: the cable is back");
}

static void test_console_full(void)
{
	static uint8_t msg[100000];
	size_t sent = 0, polls = 0;
	unsigned ok = 1;

	fresh();
	out(MCR, 0x08);
	stub_con_room = 0;
	UNIT_OK(&u, in(LSR) == 0x00, "console full: LSR has neither THRE nor TEMT");
	out(IER, 0x02);
	UNIT_OK(&u, stub_irq_calls == 0 && in(IIR) == 0x01, "console full: enabling THRI raises nothing");
	out(THR, '!');
	UNIT_OK(&u, s->tx_dropped == 1 && stub_con_out_len == 0,
	    "a byte written anyway is dropped and counted");
	UNIT_OK(&u, stub_irq_level != 1 && in(IIR) == 0x01, "no THRE interrupt for it");
	stub_con_room = CONSOLE_OUT_SIZE / 2;
	stub_con_guest.drained(stub_con_guest.dev);
	UNIT_OK(&u, stub_irq_level == 1 && in(IIR) == 0x02 && in(LSR) == 0x60,
	    "console drained: THRE interrupt and LSR.THRE again");
	out(THR, 'y');
	UNIT_OK(&u, stub_con_out_len == 1 && stub_con_out[0] == 'y' && s->tx_dropped == 1,
	    "transmitting again");

	/* A guest that waits for THRE before each byte loses nothing, however slow the reader. */
	fresh();
	stub_con_room = 0;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(' ' + i % 95);
	while (sent < sizeof(msg) && polls < 10 * sizeof(msg)) {
		polls++;
		if (!(in(LSR) & 0x20)) {
			stub_con_room += polls % 3;	/* the reader takes a byte now and then */
			continue;
		}
		out(THR, msg[sent++]);
	}
	ok = sent == sizeof(msg) && s->tx_dropped == 0 && stub_con_out_len == sizeof(msg) &&
	    !memcmp(stub_con_out, msg, sizeof(stub_con_out) < sizeof(msg) ? sizeof(stub_con_out) :
	    sizeof(msg));
	UNIT_OK(&u, ok, "polling guest, slow console: every byte delivered, none dropped");

	/*
	 * A 16550A's THRE means an empty 16-byte transmit FIFO, so a driver
	 * writes up to 16 bytes per THRE (Linux's serial8250_tx_chars writes
	 * tx_loadsz = 16 without looking at LSR in between). ringvm reports
	 * FIFOs (IIR bits 7:6), so THRE with less room than that loses output.
	 */
	fresh();
	out(FCR, 0x01);
	stub_con_room = 5;
	if (in(LSR) & 0x20)
		for (unsigned i = 0; i < SERIAL_FIFO; i++)
			out(THR, (uint8_t)('0' + i));
	UNIT_OK(&u, s->tx_dropped == 0,
	    "FIFO on: a 16-byte burst after LSR.THRE loses nothing (THRE needs 16 bytes of room)");
}

static void toggle_failing_line(void)
{
	fresh();
	stub_irq_ret = -EIO;
	out(MCR, 0x08);
	for (unsigned i = 0; i < 100; i++) {
		out(IER, 0x02);
		out(IER, 0x00);
	}
	stub_irq_ret = 0;
}

static void drop_and_teardown(void)
{
	fresh();
	stub_con_room = 0;
	out(THR, 1);
	out(THR, 2);
	out(THR, 3);
	serial_ops.destroy(&vm, s);
	s = NULL;
}

static void test_logs(void)
{
	const char *e;
	uint8_t v;

	e = capture_stderr(toggle_failing_line);
	UNIT_OK(&u, s->irq_errors == 200 && !strcmp(e, "ringvm: serial: cannot drive IRQ 4\n"),
	    "a failing IRQ line: every failure counted, one log line");
	UNIT_OK(&u, s->irq_level == 0, "the model's line follows IIR even when KVM refuses");
	e = capture_stderr(drop_and_teardown);
	UNIT_OK(&u, !strcmp(e, "ringvm: serial: the console is full; dropping guest output (count at exit)\n"
	    "ringvm: serial: 3 output bytes dropped while the console was full\n"),
	    "the first drop is said at once, the teardown reports the count in one line");
	UNIT_OK(&u, !bus_read(&vm.pio, COM1, &v, 1), "teardown released the ports");
}

/* model_iir: what IIR must read, from the state alone. */
static uint8_t model_iir(const struct serial *m)
{
	uint8_t fifo = (m->fcr & 1) ? 0xc0 : 0;

	if ((m->ier & 0x04) && m->overrun)
		return fifo | 0x06;
	if ((m->ier & 0x01) && m->rx_len)
		return fifo | 0x04;
	if ((m->ier & 0x02) && m->thri)
		return fifo | 0x02;
	return fifo | 0x01;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void test_random(void)
{
	static const size_t rooms[] = { 0, 1, 5, 16, 1000 };
	unsigned bad_lsr = 0, bad_iir = 0, bad_state = 0, bad_line = 0, bad_dlab = 0;
	uint8_t bytes[24];

	fresh();
	for (unsigned op = 0; op < 300000; op++) {
		unsigned r = rnd(), reg = r % 8, kind = (r >> 3) % 16;
		int level_before = stub_irq_level < 0 ? 0 : stub_irq_level;	/* starts low */
		unsigned calls_before = stub_irq_calls;

		if (kind < 6) {
			out(reg, (uint8_t)(r >> 8));
		} else if (kind < 10) {
			struct serial before = *s;
			uint8_t v = in(reg);

			if (reg == LSR) {
				size_t room = stub_con_room;

				bad_lsr += (v & 0x9c) != 0 || !!(v & 0x01) != (before.rx_len > 0) ||
				    !!(v & 0x02) != before.overrun || !!(v & 0x20) != (room >= ((before.fcr & 1) ? 16u : 1u)) ||
				    !!(v & 0x40) != !!(v & 0x20) || s->overrun;
			} else if (reg == IIR) {
				bad_iir += v != model_iir(&before) || (v & 0x30);
			} else if ((before.lcr & 0x80) && reg <= 1) {
				bad_dlab += v != (reg ? before.dlm : before.dll);
			}
		} else if (kind < 12) {
			size_t n = rnd() % sizeof(bytes);

			for (size_t i = 0; i < n; i++)
				bytes[i] = (uint8_t)rnd();
			serial_input(s, bytes, n);
		} else if (kind < 14) {
			stub_con_room = rooms[rnd() % 5];
		} else if (kind < 15) {
			serial_drained(s);
		} else {
			if (stub_con_pending_len < 1000)
				paste(bytes, 8);
			console_poll_input(NULL);
		}
		bad_state += s->rx_len > ((s->fcr & 1) ? SERIAL_FIFO : 1) || s->rx_head >= SERIAL_FIFO ||
		    s->ier > 0x0f || s->mcr > 0x1f;
		/* The line follows IIR, and every call to KVM is an edge. */
		bad_line += s->irq_level != !(model_iir(s) & 0x01);
		if (stub_irq_calls != calls_before)
			bad_line += stub_irq_level != s->irq_level ||
			    ((stub_irq_calls - calls_before) % 2 == 1) != (stub_irq_level != level_before);
	}
	UNIT_OK(&u, bad_state == 0, "random ops: FIFO bounds and register masks hold");
	UNIT_OK(&u, bad_lsr == 0, "random ops: LSR matches the state and clears OE");
	UNIT_OK(&u, bad_iir == 0, "random ops: IIR shows the highest-priority source");
	UNIT_OK(&u, bad_dlab == 0, "random ops: the divisor latch reads back under DLAB");
	UNIT_OK(&u, bad_line == 0, "random ops: the IRQ line follows IIR, edges only");
	if (bad_state || bad_lsr || bad_iir || bad_line || bad_dlab)
		printf("# state %u lsr %u iir %u line %u dlab %u\n", bad_state, bad_lsr, bad_iir,
		    bad_line, bad_dlab);
}

int main(void)
{
	test_setup();
	test_registers();
	test_thre_irq();
	test_input();
	test_loopback();
	test_console_full();
	test_logs();
	test_random();
	if (s) {
		s->tx_dropped = 0;
		serial_ops.destroy(&vm, s);
	}
	return unit_done(&u);
}
