#!/bin/sh
# install-deps.sh: install, from Debian's archive, everything ringvm needs to
# build (compiler, libev, libslirp, libfdt, liburing, libseccomp, and for the
# kernel cache zlib, liblzma, libzstd, liblz4, libbz2, libxxhash), to run its tests
# (mandoc, clang with libFuzzer, cpio) and its guest test bed (Debian's kernel,
# busybox-static, QEMU for the nested outer VM, cpio, lz4). Runs as root; as
# another user it re-runs itself through sudo. Safe to run again: when every
# package is present it changes nothing.
set -eu

BUILD_PKGS="gcc make pkg-config binutils linux-libc-dev libev-dev libslirp-dev
libglib2.0-dev libfdt-dev liburing-dev libseccomp-dev
zlib1g-dev liblzma-dev libzstd-dev liblz4-dev libbz2-dev libxxhash-dev"
# cpio: test_cpio reads ringvm's archives back with it.
TEST_PKGS="mandoc clang libclang-rt-dev bsdutils procps cpio jq"
# initramfs-tools makes /boot/initrd.img for the README's Debian example; iproute2
# gives the man page's TAP example its `ip tuntap`.
BED_PKGS="linux-image-amd64 initramfs-tools busybox-static kmod qemu-system-x86 lz4 xz-utils
gzip e2fsprogs iproute2"
PKGS=$(echo $BUILD_PKGS $TEST_PKGS $BED_PKGS)

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	command -v sudo > /dev/null || {
		echo "install-deps: run as root to install:$missing" >&2
		exit 1
	}
	exec sudo "$0" "$@"
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
