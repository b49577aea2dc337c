#!/bin/sh
# man-check.sh: the man page renders without warnings, and `ringvm --help`
# and the man page name exactly the same options.
# usage: man-check.sh RINGVM MANPAGE
set -u
RINGVM=$1
MAN=$2
W=${TMPDIR:-/tmp}/man-check.$$
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT

if ! command -v mandoc > /dev/null; then
	echo "not ok - man page lint: mandoc is missing (install mandoc)"
	echo "not ok - man page and --help list the same options: mandoc is missing"
	exit 0
fi
# -Wwarning reports style problems too; the database notes are not about the page.
mandoc -Tlint -Wwarning "$MAN" 2>&1 | grep -v 'mandoc.db' > "$W/lint"
if [ -s "$W/lint" ]; then
	echo "not ok - man page lint"
	sed 's/^/#   /' "$W/lint" | head -n 10
else
	echo "ok - man page lint"
fi

# Options as "-x, --long" pairs, and long-only options as "- --long" (a
# line that starts with one), from each source.
pairs='s/.*\(-[A-Za-z]\), \(--[a-z][a-z-]*\).*/\1 \2/p; s/^ *\(--[a-z][a-z-]*\)\( .*\)*$/- \1/p'
"$RINGVM" --help | sed -n "$pairs" | sort -u > "$W/help"
mandoc -Tascii "$MAN" 2>/dev/null | col -b | sed -n "$pairs" | sort -u > "$W/man"
if [ ! -s "$W/help" ]; then
	echo "not ok - man page and --help list the same options: --help lists none"
elif cmp -s "$W/help" "$W/man"; then
	echo "ok - man page and --help list the same $(wc -l < "$W/help") options"
else
	echo "not ok - man page and --help list the same options"
	diff "$W/help" "$W/man" | sed 's/^/#   /'
fi

# Sub-options of -d and -n (NAME=) and exit statuses: --help's summary and
# the man page name the same ones.
"$RINGVM" --help | grep -o '[a-z_0-9][a-z_0-9]*=' | sort -u > "$W/help-sub"
grep -o 'Cm [a-z_0-9][a-z_0-9]*=' "$MAN" | sed 's/^Cm //' | sort -u > "$W/man-sub"
if cmp -s "$W/help-sub" "$W/man-sub"; then
	echo "ok - man page and --help list the same $(wc -l < "$W/help-sub") sub-options"
else
	echo "not ok - man page and --help list the same sub-options"
	diff "$W/help-sub" "$W/man-sub" | sed 's/^/#   /'
fi
"$RINGVM" --help | sed -n '/^Exit status/,/^$/p' | grep -o '\<[0-9][0-9]*\>' | grep -vx '128\|130' |
    sort -un > "$W/help-exit"
sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$MAN" | sed -n 's/^\.It \([0-9][0-9]*\)$/\1/p' | sort -un > "$W/man-exit"
if [ -s "$W/help-exit" ] && cmp -s "$W/help-exit" "$W/man-exit"; then
	echo "ok - man page and --help list the same exit statuses ($(tr '\n' ' ' < "$W/help-exit"))"
else
	echo "not ok - man page and --help list the same exit statuses"
	diff "$W/help-exit" "$W/man-exit" | sed 's/^/#   /'
fi
