/*
 * aml.h (x86): a small ACPI Machine Language encoder for the DSDT.
 *
 * Writes into a caller-owned fixed buffer; the first write that does not
 * fit sets `err` and every later call does nothing, so callers check once at
 * the end. Open/close pairs (scope, device, buffer, package) patch the
 * variable-length PkgLength when closed.
 * Reference: ACPI 6.5, section 20 (ACPI Machine Language Specification).
 */
#ifndef RINGVM_X86_AML_H
#define RINGVM_X86_AML_H

#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int err;		/* 0, or -ENOSPC once the buffer overflowed */
};

/* aml_init: start encoding into buf[0..cap). */
void aml_init(struct aml *aml, uint8_t *buf, size_t cap);

/* aml_bytes: raw bytes. */
void aml_bytes(struct aml *aml, const void *p, size_t n);

/* aml_int: an Integer with the shortest encoding (Zero, One, Byte ... QWord). */
void aml_int(struct aml *aml, uint64_t v);

/* aml_string: a String constant. */
void aml_string(struct aml *aml, const char *s);

/* aml_eisaid: a compressed EISA ID such as "PNP0501", as a DWord integer. */
void aml_eisaid(struct aml *aml, const char *id);

/* aml_name: a NameString: a 4-character segment, optionally "\\"-prefixed. */
void aml_name(struct aml *aml, const char *name);

/* aml_name_int, aml_name_str, aml_name_eisaid: Name(NAME, value). */
void aml_name_int(struct aml *aml, const char *name, uint64_t v);
void aml_name_str(struct aml *aml, const char *name, const char *s);
void aml_name_eisaid(struct aml *aml, const char *name, const char *id);

/*
 * Open constructs return a mark for aml_close(): Scope(name), Device(name),
 * Package(n){...}. aml_resources() opens Name(name, Buffer(){...}) for a
 * resource template, closed by aml_res_end() with its mark.
 */
size_t aml_scope(struct aml *aml, const char *name);
size_t aml_device(struct aml *aml, const char *name);
size_t aml_resources(struct aml *aml, const char *name);
size_t aml_package(struct aml *aml, unsigned nr_elements);
void aml_close(struct aml *aml, size_t mark);

/* Resource descriptors, inside aml_resources(). */
void aml_res_io(struct aml *aml, uint16_t base, uint8_t len);
void aml_res_irq(struct aml *aml, unsigned irq);
void aml_res_end(struct aml *aml, size_t mark);

/* Address space descriptors for a bridge's windows (producer, fixed min and max). */
void aml_res_bus(struct aml *aml, uint16_t min, uint16_t max);
void aml_res_io_window(struct aml *aml, uint16_t min, uint16_t max);
void aml_res_mem32(struct aml *aml, uint32_t min, uint32_t max);

#endif
