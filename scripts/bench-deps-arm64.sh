#!/bin/sh
# bench-deps-arm64.sh: Debian's arm64 QEMU for bench/boot-arm64, unpacked
# into a cache directory (never installed): qemu-system-arm:arm64 (it holds
# qemu-system-aarch64), qemu-system-data, and every :arm64 shared library
# it needs that the machine does not already have as an :arm64 multiarch
# library. Libraries are found by their NEEDED entries (recursively, with
# aarch64-linux-gnu-readelf); a missing one's package is the one that owns
# the same soname on this amd64 machine (dpkg -S), downloaded as PKG:arm64.
# Needs `dpkg --add-architecture arm64` (scripts/install-deps.sh --arm64).
# usage: scripts/bench-deps-arm64.sh [CACHE_DIR]   (build/bench/arm64-qemu)
# Prints the path of qemu-system-aarch64 last.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${1:-$TOP/build/bench/arm64-qemu}
root=$CACHE/root
debs=$CACHE/debs
mkdir -p "$root" "$debs"
die() { echo "bench-deps-arm64: $*" >&2; exit 1; }
libdirs="/usr/lib/aarch64-linux-gnu /lib/aarch64-linux-gnu /usr/aarch64-linux-gnu/lib"

get() {	# get PKG:ARCH: download and unpack once
	stamp=$debs/$(echo "$1" | tr : _).done
	[ -e "$stamp" ] && return 0
	(cd "$debs" && apt-get download -q=2 "$1" > "$CACHE/apt.log" 2>&1) ||
		{ cat "$CACHE/apt.log" >&2; die "apt-get download $1 failed"; }
	# shellcheck disable=SC2012 # debs are named PKG_VERSION_ARCH.deb
	deb=$(ls -t "$debs"/"${1%%:*}"_*.deb | head -n 1)
	dpkg-deb -x "$deb" "$root"
	touch "$stamp"
}

qemu=$root/usr/bin/qemu-system-aarch64
[ -x "$qemu" ] || get qemu-system-arm:arm64
get qemu-system-data:all 2>/dev/null || get qemu-system-data

# find_lib SONAME: a path to it, in the cache first, then the machine.
find_lib() {
	for d in "$root/usr/lib/aarch64-linux-gnu" "$root/lib/aarch64-linux-gnu" $libdirs; do
		[ -e "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}
# Resolve NEEDED until nothing is missing (a few rounds at most).
round=0
while :; do
	missing=
	seen=
	todo=$qemu
	while [ -n "$todo" ]; do
		f=${todo%% *}
		[ "$f" = "$todo" ] && todo= || todo=${todo#* }
		for lib in $(aarch64-linux-gnu-readelf -d "$f" 2>/dev/null |
		    sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			case " $seen " in *" $lib "*) continue ;; esac
			seen="$seen $lib"
			if p=$(find_lib "$lib"); then
				todo="$todo${todo:+ }$p"
			else
				missing="$missing $lib"
			fi
		done
	done
	[ -z "$missing" ] && break
	round=$((round + 1))
	[ $round -le 6 ] || die "still missing after 6 rounds:$missing"
	for lib in $missing; do
		own=$(dpkg -S "/usr/lib/x86_64-linux-gnu/$lib" "/lib/x86_64-linux-gnu/$lib" 2>/dev/null |
		    head -n 1 | cut -d: -f1)
		[ -n "$own" ] || die "no package known for $lib (install its amd64 package or fetch it by hand)"
		echo "bench-deps-arm64: $lib from $own:arm64" >&2
		get "$own:arm64"
	done
done
echo "$qemu"
