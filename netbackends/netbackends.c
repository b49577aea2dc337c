/*
 * netbackends.c: the network backend table, the only registry of backends:
 * the -n spec's first word is looked up here, and --help prints each
 * backend's lines from here. A new backend is one file in netbackends/ and
 * one row below.
 */
#include <stdio.h>
#include <string.h>

#include "netbackend.h"

const struct net_backend_ops *const net_backends[] = {
	&net_user_ops,
	&net_tap_ops,
	&net_none_ops,
	NULL,
};

const struct net_backend_ops *net_backend_find(const char *name, size_t len)
{
	for (const struct net_backend_ops *const *b = net_backends; *b; b++)
		if (strlen((*b)->name) == len && !strncmp(name, (*b)->name, len))
			return *b;
	return NULL;
}

const char *net_backend_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; net_backends[i] && used < len; i++) {
		const char *sep = i == 0 ? "" : net_backends[i + 1] ? ", " : " or ";
		int n = snprintf(buf + used, len - used, "%s%s", sep, net_backends[i]->name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

void net_backends_usage(FILE *out)
{
	for (const struct net_backend_ops *const *b = net_backends; *b; b++) {
		char left[24];

		snprintf(left, sizeof(left), "%s", (*b)->name);
		fprintf(out, "  %-17s  %s%s\n", left, (*b)->summary, (*b)->help ? "; options:" : "");
		if ((*b)->help)
			fputs((*b)->help, out);
	}
}
