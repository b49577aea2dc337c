#!/bin/sh
# mkguest.sh: build the guest kernel and initramfs from Debian packages only:
# Debian's vmlinuz, busybox-static, the virtio (virtio-rng too) and pvpanic
# modules, and the /init and test scripts in tests/guest/. Output: $BUILD/vmlinuz, $BUILD/guest.cpio.gz,
# and $BUILD/vmlinux, the ELF kernel inside that vmlinuz (booted through its PVH entry).
set -eu
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/guestroot.sh"
bed_need "$KERNEL_SRC" "$BUSYBOX" "$MODDIR"
file "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
	ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic' || bed_die "$BUSYBOX is not static: install busybox-static"

mkdir -p "$BUILD"
root=$BUILD/guest-root
guest_root "$root" "$BUSYBOX"
guest_modules "$root" "$MODDIR" drivers/virtio/virtio.ko drivers/virtio/virtio_ring.ko \
    drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci_legacy_dev.ko \
    drivers/virtio/virtio_pci.ko drivers/block/virtio_blk.ko net/core/failover.ko \
    drivers/net/net_failover.ko drivers/net/virtio_net.ko \
    drivers/misc/pvpanic/pvpanic.ko drivers/misc/pvpanic/pvpanic-mmio.ko \
    drivers/char/hw_random/virtio-rng.ko \
    lib/crc16.ko crypto/crc32c_generic.ko fs/mbcache.ko fs/jbd2/jbd2.ko fs/ext4/ext4.ko
# The raw TCP endpoint of the reassembly test, static like busybox.
${CC:-cc} -static -O2 -Wall -Wextra -Werror -o "$root/bin/tcpooo" "$TOP/tests/guest/tcpooo.c"
# The guest's end of the vsock stream tests (tests/bed/cases/vsock.sh).
${CC:-cc} -static -O2 -Wall -Wextra -Werror -o "$root/bin/vsockio" "$TOP/tests/guest/vsockio.c"
# Write-zeroes from the guest (BLKZEROOUT), for the snapshot disk tests (tests/bed/cases/blk.sh).
${CC:-cc} -static -O2 -Wall -Wextra -Werror -o "$root/bin/blkzero" "$TOP/tests/guest/blkzero.c"
# The guest's load in the worst-case memory test (tests/bed/cases/mem.sh).
${CC:-cc} -static -O2 -Wall -Wextra -Werror -pthread -o "$root/bin/memload" "$TOP/tests/guest/memload.c"
guest_pack "$root" "$BUILD"
# The same tree as an ext4 image, for the command mode's --root (tests/bed/cases/run.sh).
rm -f "$BUILD/root.ext4"
"$(command -v mkfs.ext4 || echo /sbin/mkfs.ext4)" -q -F -L rvroot -d "$root" "$BUILD/root.ext4" 24M
cp "$KERNEL_SRC" "$BUILD/vmlinuz"

# unpack_vmlinux BZIMAGE OUT: the ELF vmlinux a bzImage carries. Its payload
# is the compressed, stripped vmlinux; Debian's is xz (CONFIG_KERNEL_XZ), so
# try xz from each offset where the xz stream magic (FD 37 7A 58 5A 00)
# could start, and keep the first output that is an ELF file. grep -abo
# gives the offset of "7zXZ"; the stream starts one byte (0xFD) earlier.
unpack_vmlinux() {
	for pos in $(LC_ALL=C grep -abo '7zXZ' "$1" | cut -d: -f1); do
		[ "$pos" -ge 1 ] || continue
		tail -c +"$pos" "$1" | xz -dcq > "$2.tmp" 2>/dev/null
		if [ "$(od -An -c -N4 "$2.tmp" | tr -d ' ')" = '177ELF' ]; then
			mv "$2.tmp" "$2"
			return 0
		fi
	done
	rm -f "$2.tmp"
	return 1
}
unpack_vmlinux "$KERNEL_SRC" "$BUILD/vmlinux" ||
	bed_die "no xz-compressed ELF vmlinux found in $KERNEL_SRC"
echo "bed: guest kernel $KVER and initramfs built in $BUILD"
