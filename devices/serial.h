/* serial.h: the 16550A UART model, exposed for unit tests and fuzzing. */
#ifndef RINGVM_SERIAL_H
#define RINGVM_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "bus.h"
#include "log.h"

struct vm;
struct console;

#define SERIAL_FIFO 16

struct serial {
	struct vm *vm;
	struct console *con;
	unsigned irq;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool overrun;			/* LSR.OE, cleared by reading LSR */
	bool thri;			/* THR-empty interrupt pending */
	bool irq_level;			/* what we last drove on the line */
	uint8_t rx[SERIAL_FIFO];
	unsigned rx_head, rx_len;
	unsigned long tx_dropped;	/* guest bytes refused by a full console */
	unsigned long irq_errors;
	struct log_once irq_fail;
};

extern const struct bus_ops serial_bus_ops;

/* serial_reset: power-on register state. */
void serial_reset(struct serial *s);

/* serial_room, serial_input, serial_drained: the console_guest callbacks. */
size_t serial_room(void *dev);
void serial_input(void *dev, const uint8_t *buf, size_t n);
void serial_drained(void *dev);

/* The device, for the table in src/devices.c and for tests. */
extern const struct device_ops serial_ops;

#endif
