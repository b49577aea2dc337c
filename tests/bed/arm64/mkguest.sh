#!/bin/sh
# mkguest.sh: the arm64 inner guest's initramfs, $ABUILD/guest.cpio.gz, from
# Debian's arm64 packages only: busybox-static:arm64, the virtio, virtio-rng
# and ext4 modules of linux-image-*-arm64, and the /init and test scripts of
# tests/guest/ (the same as x86's). The kernel is Debian's arm64 Image itself.
# On arm64 virtio and virtio_ring are built in and there is no pvpanic: init's
# insmod of those fails quietly.
set -eu
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../guestroot.sh"
bed_need "$AKERNEL" "$ABUSYBOX" "$AMODDIR"
mkdir -p "$ABUILD"
root=$ABUILD/guest-root
guest_root "$root" "$ABUSYBOX"
guest_modules "$root" "$AMODDIR/kernel" \
    drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci_legacy_dev.ko \
    drivers/virtio/virtio_pci.ko drivers/block/virtio_blk.ko net/core/failover.ko \
    drivers/net/net_failover.ko drivers/net/virtio_net.ko \
    drivers/char/hw_random/virtio-rng.ko \
    lib/crc16.ko crypto/crc32c_generic.ko fs/mbcache.ko fs/jbd2/jbd2.ko fs/ext4/ext4.ko
guest_pack "$root" "$ABUILD"
echo "bed64: arm64 guest initramfs ($AKVER) built in $ABUILD"
