/*
 * serial.c: an 8250/16550A UART, connected to the host console. Where it
 * sits is the architecture's (arch_types.h): COM1's ports and IRQ 4 on
 * x86, an ns16550a with byte registers on MMIO on arm64.
 *
 * Output: each THR write goes to the console's bounded ring. While the ring
 * is full, LSR reports the transmitter busy (THRE = 0), so an interrupt-
 * driven guest waits; a byte written anyway is dropped and counted
 * (HOSTILE.md U1). Input: the console reads stdin only while the receive
 * FIFO has room (U2). No guest value is ever a divisor (U3): the baud rate
 * is stored, never computed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "device.h"
#include "serial.h"
#include "vm.h"

/* Register offsets. */
#define UART_RBR 0	/* read, DLAB = 0 */
#define UART_THR 0	/* write, DLAB = 0 */
#define UART_IER 1
#define UART_IIR 2	/* read */
#define UART_FCR 2	/* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01	/* received data available */
#define IER_THRI 0x02	/* transmitter holding register empty */
#define IER_RLSI 0x04	/* receiver line status */
#define IER_MSI 0x08	/* modem status */
#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

void serial_reset(struct serial *s)
{
	s->ier = s->lcr = s->mcr = s->scr = s->fcr = 0;
	s->dll = 12;	/* 9600 baud, for the record */
	s->dlm = 0;
	s->overrun = false;
	s->thri = false;
	s->rx_head = s->rx_len = 0;
}

/*
 * serial_tx_ready: whether THRE may be shown. With the FIFO on, Linux's 8250
 * driver writes up to 16 bytes per THRE without reading LSR again, so THRE
 * needs room for a whole FIFO, or a well-behaved guest would lose output.
 */
static bool serial_tx_ready(const struct serial *s)
{
	size_t need = (s->fcr & FCR_ENABLE) ? SERIAL_FIFO : 1;

	return !s->con || console_out_room(s->con) >= need;
}

/* serial_iir: the highest-priority pending interrupt, as IIR shows it. */
static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((s->ier & IER_RLSI) && s->overrun)
		return fifo | IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_len)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thri)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

/* serial_update_irq: drive the line to match IIR; edges only when it changes. */
static void serial_update_irq(struct serial *s)
{
	bool level = !(serial_iir(s) & IIR_NONE);

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	if (s->vm && irq_line(s->vm, s->irq, level) < 0) {
		s->irq_errors++;
		log_guest(&s->irq_fail, "serial: cannot drive IRQ %u", s->irq);
	}
}

static void serial_rx_push(struct serial *s, uint8_t b)
{
	if (s->rx_len == ((s->fcr & FCR_ENABLE) ? SERIAL_FIFO : 1)) {
		s->overrun = true;
		return;
	}
	s->rx[(s->rx_head + s->rx_len) % SERIAL_FIFO] = b;
	s->rx_len++;
}

static uint8_t serial_msr(const struct serial *s)
{
	/* Loopback wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD (the 8250 self-test). */
	if (s->mcr & MCR_LOOP)
		return (uint8_t)((s->mcr & MCR_RTS ? MSR_CTS : 0) |
		    (s->mcr & MCR_DTR ? MSR_DSR : 0) | (s->mcr & MCR_OUT1 ? MSR_RI : 0) |
		    (s->mcr & MCR_OUT2 ? MSR_DCD : 0));
	return MSR_DCD | MSR_DSR | MSR_CTS;	/* a cable is always attached */
}

static uint64_t serial_read(void *dev, uint64_t off, unsigned size)
{
	struct serial *s = dev;
	uint8_t v = 0;

	(void)size;	/* wider accesses read the byte register, as on ISA */
	switch (off) {
	case UART_RBR:
		if (s->lcr & LCR_DLAB) {
			v = s->dll;
			break;
		}
		if (s->rx_len) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_FIFO;
			s->rx_len--;
			if (s->con)
				console_poll_input(s->con);
		}
		break;
	case UART_IER:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case UART_IIR:
		v = serial_iir(s);
		/* Reading IIR acknowledges a THRE interrupt it reports. */
		if ((v & 0x0f) == IIR_THRI)
			s->thri = false;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = (s->rx_len ? LSR_DR : 0) | (s->overrun ? LSR_OE : 0) |
		    (serial_tx_ready(s) ? LSR_THRE | LSR_TEMT : 0);
		s->overrun = false;
		break;
	case UART_MSR:
		v = serial_msr(s);
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	serial_update_irq(s);
	return v;
}

/*
 * serial_drop: a byte the guest wrote without waiting for THRE met a full
 * console. Count it; say so at once the first time (the total comes at
 * exit), so whoever reads the console knows output is being lost now.
 */
static void serial_drop(struct serial *s)
{
	if (s->tx_dropped++ == 0)
		log_warnx("serial: the console is full; dropping guest output (count at exit)");
}

static void serial_write(void *dev, uint64_t off, uint64_t val, unsigned size)
{
	struct serial *s = dev;
	uint8_t v = (uint8_t)val;

	(void)size;
	switch (off) {
	case UART_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			break;
		}
		if (s->mcr & MCR_LOOP)
			serial_rx_push(s, v);
		else if (s->con && console_put(s->con, &v, 1) == 0)
			serial_drop(s);
		/* The byte left at once; the holding register is empty again if there is room. */
		s->thri = serial_tx_ready(s);
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI with an empty THR raises it at once, as a 16550 does. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI) && serial_tx_ready(s))
			s->thri = true;
		s->ier = v & 0x0f;
		if (s->con)
			console_poll_input(s->con);	/* RDI decides whether we take input */
		break;
	case UART_FCR:
		s->fcr = v & (FCR_ENABLE | 0xc0);
		if (s->rx_len > 1 && !(s->fcr & FCR_ENABLE))
			s->rx_len = 1;	/* FIFO off: only the holding register remains */
		if (v & FCR_CLEAR_RX) {
			s->rx_head = s->rx_len = 0;
			if (s->con)
				console_poll_input(s->con);
		}
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		if (s->con)
			console_poll_input(s->con);	/* loopback changes our room */
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default:
		break;	/* LSR and MSR are read-only */
	}
	serial_update_irq(s);
}

const struct bus_ops serial_bus_ops = {
	.read = serial_read,
	.write = serial_write,
};

size_t serial_room(void *dev)
{
	struct serial *s = dev;
	unsigned cap = (s->fcr & FCR_ENABLE) ? SERIAL_FIFO : 1;

	/*
	 * Deliver host input only while the guest's driver has the port open:
	 * receive interrupt enabled and OUT2 (the PC's interrupt gate) set, not
	 * in loopback. Linux probes IER and clears the FIFO before that, so
	 * earlier bytes would be lost; they wait in the host pipe instead.
	 */
	if ((s->mcr & (MCR_LOOP | MCR_OUT2)) != MCR_OUT2 || !(s->ier & IER_RDI))
		return 0;
	return s->rx_len < cap ? cap - s->rx_len : 0;
}

void serial_input(void *dev, const uint8_t *buf, size_t n)
{
	struct serial *s = dev;

	for (size_t i = 0; i < n; i++)
		serial_rx_push(s, buf[i]);
	serial_update_irq(s);
}

void serial_drained(void *dev)
{
	struct serial *s = dev;

	s->thri = true;
	serial_update_irq(s);
}

/* serial_bus: the bus the architecture puts the UART on. */
static struct bus *serial_bus(struct vm *vm)
{
	return ARCH_UART_PIO ? &vm->pio : &vm->mmio;
}

static int serial_create(struct vm *vm, const void *conf, void **state, char *err,
    size_t errlen)
{
	struct serial *s = calloc(1, sizeof(*s));
	struct console_guest g;
	int r;

	(void)conf;
	if (!s)
		return -ENOMEM;
	s->vm = vm;
	s->con = vm->console;
	s->irq = ARCH_UART_IRQ;
	serial_reset(s);
	r = bus_add(serial_bus(vm), ARCH_UART_BASE, 8, &serial_bus_ops, s, "serial");
	if (r) {
		snprintf(err, errlen, "%s %#llx-%#llx are taken", ARCH_UART_PIO ? "ports" : "addresses",
		    (unsigned long long)ARCH_UART_BASE, (unsigned long long)ARCH_UART_BASE + 7);
		free(s);
		return r;
	}
	g = (struct console_guest){
		.dev = s, .room = serial_room, .input = serial_input, .drained = serial_drained,
	};
	console_attach(vm->console, &g);
	*state = s;
	return 0;
}

static int serial_destroy(struct vm *vm, void *state)
{
	struct serial *s = state;

	if (s->tx_dropped)
		log_warnx("serial: %lu output bytes dropped while the console was full",
		    s->tx_dropped);
	bus_remove(serial_bus(vm), ARCH_UART_BASE);
	free(s);
	return 0;
}

static int serial_describe(const void *state, struct dev_desc *d)
{
	(void)state;
	*d = (struct dev_desc){
		.acpi_name = "COM1", .acpi_hid = "PNP0501", .acpi_uid = 1,
		.dt_compatible = "ns16550a",
		.res = { { ARCH_UART_PIO ? DEV_RES_PIO : DEV_RES_MMIO, ARCH_UART_BASE, 8 } },
		.nr_res = 1,
		.irq = ARCH_UART_IRQ,
	};
	return 1;
}

const struct device_ops serial_ops = {
	.name = "serial",
	.create = serial_create,
	.destroy = serial_destroy,
	.describe = serial_describe,
};
