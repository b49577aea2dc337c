#!/bin/sh
# mkouter.sh: pack the arm64 outer VM's initramfs: the arm64 busybox, the
# arm64 ringvm with its shared libraries and ringvm-init beside it, the inner
# kernel (Debian's arm64 Image) and initramfs, the case runner with the arm64
# case groups, and for the command mode the inner kernel's modules under
# /lib/modules/RELEASE as on a Debian host.
# Without the arm64 ringvm (tests/arm64-build.sh not run yet) the image is
# still built: the cases then fail, each saying so.
# usage: mkouter.sh OUT.cpio.lz4
set -eu
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/elfcopy.sh"
out=$1
bed_need "$AKERNEL" "$ABUSYBOX" "$ABUILD/guest.cpio.gz"
need_depmod
root=$ABUILD/outer-root.$$
rm -rf "$root"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/rv" "$root/bed/cases" "$root/lib"
cp "$ABUSYBOX" "$root/bin/busybox"
cp "$TOP/tests/bed/arm64/outer-init" "$root/init"
chmod 755 "$root/init"
cp "$TOP/tests/bed/caselib.sh" "$TOP/tests/bed/run-cases.sh" "$TOP/tests/bed/arm64/lib64.sh" "$root/bed/"
cp "$TOP"/tests/bed/arm64/cases/*.sh "$root/bed/cases/"
cp "$AKERNEL" "$root/rv/Image"
cp "$ABUILD/guest.cpio.gz" "$ABUILD/guest.stamp" "$root/rv/"

# The command mode: ringvm packs the modules ringvm-init loads from
# /lib/modules/RELEASE: the two indexes it reads and the module files with
# what they depend on (modprobe -d reads a foreign-architecture tree).
gmods=$root/lib/modules/$AKVER
mkdir -p "$gmods"
cp "$AMODDIR/modules.dep" "$AMODDIR/modules.builtin" "$gmods/"
for m in virtio_pci vmw_vsock_virtio_transport virtio_blk virtio_net virtio_rng overlay ext4 \
    squashfs erofs crc32c_generic; do
	modprobe -d "$ARM64_ROOT" -S "$AKVER" --show-depends "$m" 2>/dev/null |
	    sed -n 's/^insmod \([^ ]*\).*/\1/p'
done | sort -u | while read -r f; do
	rel=${f#"$ARM64_ROOT"}
	mkdir -p "$root$(dirname "$rel")"
	cp "$f" "$root$rel"
done

# The aarch64 programs with their shared libraries (copy_bin, elfcopy.sh),
# found in the cross library paths.
libdirs="/usr/lib/aarch64-linux-gnu /lib/aarch64-linux-gnu /usr/aarch64-linux-gnu/lib"
if [ -e "$ARINGVM" ]; then
	copy_bin "$ARINGVM" /rv/ringvm
	# ringvm finds ringvm-init beside itself.
	[ ! -e "$ARINGVM_INIT" ] || cp "$ARINGVM_INIT" "$root/rv/ringvm-init"
fi
# lz4 -1: the outer VM reaches /init as fast as with -9 (2.1 s), packing takes 1.4 s less; gzip boots 1 s slower.
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | ${BED64_COMPRESS:-lz4 -l -q -1} > "$out.tmp"
mv "$out.tmp" "$out"
