/* cli.h: command-line parsing into struct rv_config, with one-line errors (cli.c). */
#ifndef RINGVM_CLI_H
#define RINGVM_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

enum cli_result {
	CLI_RUN = 0,		/* cfg is filled: boot the guest */
	CLI_EXIT_OK = 1,	/* --help or --version was printed */
	CLI_ERROR = -1,		/* `err` holds a one-line message */
};

/*
 * cli_parse: parse argv into `cfg` (zeroed first, then defaults): the core
 * options here, each device option through its device's parse hook (the
 * device table), then the devices every VM has (devices_configure). Prints
 * --help and --version text to `out`. On CLI_ERROR, `err` (of `errlen`
 * bytes) names the problem; nothing is printed and nothing is held. On
 * CLI_RUN the caller frees the parsed specs with devinst_free(cfg).
 * Opens nothing. Reentrant: resets getopt.
 */
enum cli_result cli_parse(int argc, char **argv, struct rv_config *cfg,
    FILE *out, char *err, size_t errlen);

/*
 * cli_parse_size: parse "256M", "1G", "4096K", "2T" or a bare number of
 * MiB into bytes. Suffixes are binary (K = 1024) and case-insensitive.
 * Returns 0, or -EINVAL for a malformed string, -ERANGE when the value does
 * not fit in 64 bits.
 */
int cli_parse_size(const char *s, uint64_t *bytes);

/*
 * cli_parse_duration: parse "10" (seconds), "2.5s", "500ms", "3m" or "1h"
 * into milliseconds, at most 30 days. Returns 0, -EINVAL for a malformed
 * string, or -ERANGE.
 */
int cli_parse_duration(const char *s, uint64_t *ms);

/* cli_usage: print the option summary (the same list as man/ringvm.1). */
void cli_usage(FILE *out);

#endif
