#!/bin/sh
# install-deps.sh: install, from Debian's archive, everything ringvm needs to
# build (compiler, libev, libslirp, libfdt, liburing, libseccomp, and for the
# kernel cache zlib, liblzma, libzstd, liblz4, libbz2, libxxhash), to run its tests
# (mandoc, clang with libFuzzer, cpio, dtc) and its guest test bed (Debian's kernel,
# busybox-static, QEMU for the nested outer VM, cpio, lz4), for both
# architectures:
#
#   x86-64  the native build and bed: the packages below, amd64.
#   arm64   the cross build (`configure --host=aarch64-linux-gnu`, which
#           tests/arm64-build.sh runs): gcc-aarch64-linux-gnu, the arm64
#           libc, pkgconf:arm64 (aarch64-linux-gnu-pkg-config) and the
#           :arm64 -dev package of every library configure probes (dpkg's
#           arm64 architecture is added when missing); the arm64 bed:
#           qemu-system-arm and Debian's arm64 kernel and busybox-static,
#           unpacked (not installed) into /usr/local/lib/ringvm-bed/arm64/
#           (boot/vmlinuz-*, lib/modules/*/ with depmod's modules.dep,
#           bin/busybox).
#
# libfdt-dev is not Multi-Arch: same (it cannot be installed for amd64 and
# arm64 at once): its arm64 package is unpacked into
# /usr/local/lib/ringvm-cross/arm64/ and described by
# /usr/local/lib/aarch64-linux-gnu/pkgconfig/libfdt.pc, where
# aarch64-linux-gnu-pkg-config finds it.
#
#   scripts/install-deps.sh          everything `make check` needs (both)
#   scripts/install-deps.sh --arm64  only what the arm64 cross build needs
#
# Runs as root; as another user it re-runs itself through sudo. Safe to run
# again: when every package and unpacked file is present it changes nothing.
set -eu

mode=all
case ${1-} in
'') ;;
--arm64) mode=arm64 ;;
-h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
*) echo "install-deps: unknown option '$1' (--arm64, --help)" >&2; exit 2 ;;
esac

BUILD_PKGS="gcc make pkg-config binutils linux-libc-dev libev-dev libslirp-dev
libglib2.0-dev libfdt-dev liburing-dev libseccomp-dev
zlib1g-dev liblzma-dev libzstd-dev liblz4-dev libbz2-dev libxxhash-dev"
# cpio: test_cpio reads ringvm's archives back with it. dtc: the device
# tree unit test decompiles what ringvm writes.
TEST_PKGS="mandoc clang libclang-rt-dev bsdutils procps cpio jq device-tree-compiler"
# initramfs-tools makes /boot/initrd.img for the README's Debian example; iproute2
# gives the man page's TAP example its `ip tuntap`.
BED_PKGS="linux-image-amd64 initramfs-tools busybox-static kmod qemu-system-x86 lz4 xz-utils
gzip e2fsprogs iproute2"
# The arm64 cross build: the toolchain, pkgconf:arm64 for
# aarch64-linux-gnu-pkg-config, and the :arm64 libraries (libfdt1 only:
# libfdt-dev is unpacked, see above).
ARM64_CROSS_PKGS="gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross
make pkg-config pkgconf:arm64 libev-dev:arm64 libfdt1:arm64 libslirp-dev:arm64
libglib2.0-dev:arm64 liburing-dev:arm64 libseccomp-dev:arm64 zlib1g-dev:arm64
liblzma-dev:arm64 libzstd-dev:arm64 liblz4-dev:arm64 libbz2-dev:arm64 libxxhash-dev:arm64"
# The arm64 bed's outer VM.
ARM64_BED_PKGS="qemu-system-arm"

BED_ARM64=/usr/local/lib/ringvm-bed/arm64
FDT_ARM64=/usr/local/lib/ringvm-cross/arm64
FDT_PC=/usr/local/lib/aarch64-linux-gnu/pkgconfig/libfdt.pc

if [ "$mode" = arm64 ]; then
	PKGS=$(echo $ARM64_CROSS_PKGS)
else
	PKGS=$(echo $BUILD_PKGS $TEST_PKGS $BED_PKGS $ARM64_CROSS_PKGS $ARM64_BED_PKGS)
fi

has_arm64() { dpkg --print-foreign-architectures | grep -qx arm64; }
has_bed() {
	ls "$BED_ARM64"/boot/vmlinuz-* >/dev/null 2>&1 &&
		ls "$BED_ARM64"/lib/modules/*/modules.dep >/dev/null 2>&1 &&
		[ -x "$BED_ARM64/bin/busybox" ]
}
has_fdt() { [ -f "$FDT_PC" ] && [ -f "$FDT_ARM64/usr/lib/aarch64-linux-gnu/libfdt.a" ]; }

missing=
todo=
has_arm64 || todo="$todo arch"
has_fdt || todo="$todo libfdt"
[ "$mode" = arm64 ] || has_bed || todo="$todo bed"
if has_arm64; then
	for p in $PKGS; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
			missing="$missing $p"
	done
else
	missing=" $PKGS"
fi
if [ -z "$missing$todo" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	command -v sudo > /dev/null || {
		echo "install-deps: run as root to install:$missing$todo" >&2
		exit 1
	}
	exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
if ! has_arm64; then
	echo "install-deps: adding dpkg's arm64 architecture"
	dpkg --add-architecture arm64
fi
if [ -n "$missing" ]; then
	# Only the missing ones: dpkg-query said no to every package when the
	# architecture was new; ask again now.
	m=
	for p in $missing; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
			m="$m $p"
	done
	missing=$m
fi
apt-get update -q
if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi

# unpack_deb PACKAGE DIR: download PACKAGE's .deb (any architecture) and
# unpack it into DIR, without installing it.
dl=
unpack_deb() {
	[ -n "$dl" ] || { dl=$(mktemp -d); chmod 0755 "$dl"; chown _apt "$dl" 2>/dev/null || :; trap 'rm -rf "$dl"' EXIT; }
	(cd "$dl" && rm -f ./*.deb && apt-get download -q "$1") >&2
	mkdir -p "$2"
	dpkg-deb -x "$dl"/*.deb "$2"
	dpkg-deb -f "$dl"/*.deb Version
}

if ! has_fdt; then
	echo "install-deps: unpacking libfdt-dev:arm64 into $FDT_ARM64"
	rm -rf "$FDT_ARM64"
	v=$(unpack_deb libfdt-dev:arm64 "$FDT_ARM64")
	mkdir -p "$(dirname "$FDT_PC")"
	cat >"$FDT_PC" <<EOF
# libfdt-dev:arm64 $v, unpacked by ringvm's scripts/install-deps.sh
# (libfdt-dev is not Multi-Arch: same, so it cannot be installed beside amd64's).
prefix=$FDT_ARM64/usr
Name: libfdt
Description: Flat Device Tree manipulation library (arm64, static)
Version: ${v%%-*}
Cflags: -I\${prefix}/include
Libs: \${prefix}/lib/aarch64-linux-gnu/libfdt.a
EOF
fi

if [ "$mode" = all ] && ! has_bed; then
	kpkg=$(apt-cache depends linux-image-arm64:arm64 |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-arm64\).*/\1/p' | head -n 1)
	[ -n "$kpkg" ] || { echo "install-deps: cannot resolve linux-image-arm64:arm64" >&2; exit 1; }
	echo "install-deps: unpacking ${kpkg%:arm64}:arm64 and busybox-static:arm64 into $BED_ARM64"
	rm -rf "$BED_ARM64.new"
	unpack_deb "${kpkg%:arm64}:arm64" "$BED_ARM64.new" >/dev/null
	unpack_deb busybox-static:arm64 "$BED_ARM64.new" >/dev/null
	# The package ships no modules.dep (its postinst runs depmod): make it.
	for m in "$BED_ARM64.new"/lib/modules/*/; do
		/sbin/depmod -b "$BED_ARM64.new" "$(basename "$m")"
	done
	rm -rf "$BED_ARM64"
	mv "$BED_ARM64.new" "$BED_ARM64"
	has_bed || { echo "install-deps: $BED_ARM64 is incomplete" >&2; exit 1; }
fi
echo "install-deps: done"
