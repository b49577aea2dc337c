#!/bin/sh
# docex.sh: extract the shell examples that README.md and the man page's
# EXAMPLES section show, for tests/bed/cases/examples.sh to run as shown.
# An example is a README ```sh block, or a man page .Bd -literal display in
# EXAMPLES, that has at least one "$ " command line. Each is printed as
# "@ FILE:LINE" followed by its lines as a reader sees them (the man page's
# \e escapes become backslashes). Blocks without a "$ " line (the README's
# "Two commands", which make check and make demo are) are left out.
# usage: docex.sh README.md man/ringvm.1 > examples.txt
set -eu
readme=$1
man=$2

# README: fenced ```sh blocks.
awk -v f="$(basename "$readme")" '
	/^```sh$/ { inb = 1; n = 0; start = NR + 1; next }
	inb && /^```$/ {
		inb = 0
		if (has) { print "@ " f ":" start; for (i = 1; i <= n; i++) print l[i] }
		has = 0
		next
	}
	inb { l[++n] = $0; if ($0 ~ /^\$ /) has = 1 }' "$readme"

# Man page: literal displays inside .Sh EXAMPLES.
awk -v f="man/$(basename "$man")" '
	/^\.Sh / { inex = ($0 == ".Sh EXAMPLES"); next }
	inex && /^\.Bd -literal/ { inb = 1; n = 0; start = NR + 1; next }
	inb && /^\.Ed/ {
		inb = 0
		if (has) { print "@ " f ":" start; for (i = 1; i <= n; i++) print l[i] }
		has = 0
		next
	}
	inb {
		s = $0
		gsub(/\\e/, "\\", s)
		gsub(/\\&/, "", s)
		gsub(/\\-/, "-", s)
		l[++n] = s
		if (s ~ /^\$ /) has = 1
	}' "$man"
