#!/bin/sh
# arm64-build.sh: cross-build ringvm and ringvm-init for arm64 out of tree,
# in build/arm64 (../../configure --host=aarch64-linux-gnu; the in-tree x86
# build is not touched), then check what came out: aarch64 ELF files, and no
# architecture's code in the other's ringvm (no x86_ symbol in the arm64
# ringvm, no arm64_ symbol in the x86 one). Prints TAP lines
# "ok - arm64 build: ..." / "not ok - arm64 build: ..." for tests/check.sh,
# with "# " lines for context; exits 1 when one is not ok.
#
# Needs Debian's aarch64 cross toolchain and the :arm64 libraries:
# scripts/install-deps.sh --arm64 (the default run installs them too).
# ARM64_BUILD=DIR builds elsewhere; JOBS=N for make -jN (2).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build=${ARM64_BUILD:-$top/build/arm64}
host=aarch64-linux-gnu
jobs=${JOBS:-2}
fails=0

ok() { echo "ok - arm64 build: $*"; }
notok() { echo "not ok - arm64 build: $*"; fails=$((fails + 1)); }
# show FILE: the last lines of FILE as TAP comments.
show() { tail -n "${2:-15}" "$1" | sed 's/^/# /'; }

if ! command -v $host-gcc >/dev/null 2>&1; then
	notok "$host-gcc is missing (scripts/install-deps.sh --arm64 installs it)"
	exit 1
fi

mkdir -p "$build" || { notok "cannot create $build"; exit 1; }
cd "$build" || exit 1
if "$top/configure" --host=$host >configure.out 2>&1; then
	ok "configure --host=$host in ${build#"$top"/}"
else
	notok "configure --host=$host in ${build#"$top"/} (see $build/config.log)"
	show configure.out
	exit 1
fi

if make -k -j"$jobs" ringvm ringvm-init >make.log 2>&1; then
	ok "make ringvm ringvm-init"
else
	notok "make ringvm ringvm-init (see $build/make.log)"
	undef=$(sed -n "s/.*undefined reference to [\`']\([^']*\)'.*/\1/p" make.log | sort -u)
	if [ -n "$undef" ]; then
		echo "# undefined at the link ($(echo "$undef" | wc -l)): $(echo $undef)"
	else
		grep -E 'error|Error' make.log | head -n 15 | sed 's/^/# /'
	fi
fi

# elf FILE: FILE's machine per readelf ("AArch64", "Advanced Micro Devices X86-64").
elf() { readelf -h "$1" 2>/dev/null | sed -n 's/^ *Machine: *//p'; }

for f in ringvm ringvm-init; do
	if [ ! -f "$f" ]; then
		notok "$f is an aarch64 ELF (not built)"
		continue
	fi
	m=$(elf "$f")
	if [ "$m" = AArch64 ]; then
		ok "$f is an aarch64 ELF ($(file -b "$f" | cut -d, -f1,2))"
	else
		notok "$f is an aarch64 ELF (machine: ${m:-not an ELF file})"
	fi
done
if [ -f ringvm-init ]; then
	if readelf -l ringvm-init | grep -q INTERP; then
		notok "ringvm-init is static (it has a program interpreter)"
	else
		ok "ringvm-init is static"
	fi
fi

# nosyms NM FILE PATTERN WHAT: FILE defines no code symbol matching PATTERN.
nosyms() {
	bad=$($1 --defined-only "$2" 2>/dev/null | awk '$2 ~ /^[TtWw]$/ { print $3 }' | grep -E "$3")
	if [ -z "$bad" ]; then
		ok "$4"
	else
		notok "$4 ($(echo "$bad" | wc -l): $(echo $bad | cut -c1-200))"
	fi
}
if [ -f ringvm ]; then
	nosyms $host-nm ringvm '(^|_)[xX]86_' "the arm64 ringvm has no x86 code (x86_ symbols)"
	nosyms $host-nm ringvm '^kcache_|^kimage_' "the arm64 ringvm links no kernel cache (kcache_, kimage_: x86 only)"
else
	notok "the arm64 ringvm has no x86 code (not built)"
fi
# The in-tree (x86) ringvm: make check builds it before this runs.
if [ ! -f "$top/ringvm" ]; then
	notok "the x86 ringvm has no arm64 code (no in-tree ringvm: ./configure && make)"
elif [ "$(elf "$top/ringvm")" = AArch64 ]; then
	nosyms nm "$top/ringvm" '(^|_)[xX]86_' "the native arm64 ringvm has no x86 code (x86_ symbols)"
else
	nosyms nm "$top/ringvm" '(^|_)(arm64|aarch64|ARM64|AARCH64)_' "the x86 ringvm has no arm64 code (arm64_ symbols)"
fi
# Every header an arm64 build sees (the core's, src/arch/arm64/'s, the
# devices' and backends') compiles alone with the cross compiler.
if make -s headers > headers.log 2>&1; then
	ok "the arm64 build's headers are self-contained"
else
	notok "the arm64 build's headers are self-contained"
	tail -n 10 headers.log | sed 's/^/# /'
fi

[ "$fails" = 0 ]
