#!/bin/sh
# mkguest.sh: the arm64 inner guest's initramfs, $ABUILD/guest.cpio.gz, from
# Debian's arm64 packages only: busybox-static:arm64, the virtio, virtio-rng
# and ext4 modules of linux-image-*-arm64, and the /init and test scripts of
# tests/guest/ (the same as x86's). The kernel is Debian's arm64 Image itself.
# On arm64 virtio and virtio_ring are built in and there is no pvpanic: init's
# insmod of those fails quietly.
set -eu
. "$(dirname "$0")/common.sh"
bed_need "$AKERNEL" "$ABUSYBOX" "$AMODDIR"
mkdir -p "$ABUILD"
root=$ABUILD/guest-root
rm -rf "$root"
mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/lib/modules" "$root/tests" "$root/root"
cp "$ABUSYBOX" "$root/bin/busybox"
for m in drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci_legacy_dev.ko \
    drivers/virtio/virtio_pci.ko drivers/block/virtio_blk.ko net/core/failover.ko \
    drivers/net/net_failover.ko drivers/net/virtio_net.ko \
    drivers/char/hw_random/virtio-rng.ko \
    lib/crc16.ko crypto/crc32c_generic.ko fs/mbcache.ko fs/jbd2/jbd2.ko fs/ext4/ext4.ko; do
	src=$AMODDIR/kernel/$m
	[ -e "$src" ] || src=$(ls "$src".* 2>/dev/null | head -n 1)
	[ -e "$src" ] || bed_die "module $m not found under $AMODDIR"
	case $src in
	*.xz) xz -dc "$src" > "$root/lib/modules/$(basename "$m")" ;;
	*.zst) zstd -qdc "$src" > "$root/lib/modules/$(basename "$m")" ;;
	*) cp "$src" "$root/lib/modules/" ;;
	esac
done
cp "$TOP/tests/guest/init" "$root/init"
chmod 755 "$root/init"
cp "$TOP"/tests/guest/*.sh "$TOP"/tests/guest/*.script "$root/tests/"
chmod 755 "$root"/tests/*.script
# A stamp the tests read back to prove the initrd's contents reached the guest.
stamp=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
echo "$stamp" > "$root/etc/rv-stamp"
echo "$stamp" > "$ABUILD/guest.stamp"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -9 > "$ABUILD/guest.cpio.gz.tmp"
mv "$ABUILD/guest.cpio.gz.tmp" "$ABUILD/guest.cpio.gz"
echo "bed64: arm64 guest initramfs ($AKVER) built in $ABUILD"
