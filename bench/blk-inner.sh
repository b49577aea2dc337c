#!/bin/sh
# blk-inner.sh: bench/blk's runs, on a machine with KVM (the outer VM in
# nested mode). Each run boots one VMM with the same kernel, initramfs (the
# test guest plus blkbench), memory and a raw image file, and runs in the
# guest: sequential 1 MiB O_DIRECT reads and writes, the written range read
# again (reread), then 4 KiB random reads at queue depths 1 and 8. The VMMs
# alternate round by round so that drift in the machine's speed hits them
# alike. ringvm-snap and ringvm-snap-sync run the same image as a snapshot
# disk (-d IMG,snapshot): seqread reads the image through the overlay's map,
# seqwrite fills fresh overlay clusters, reread reads them back, randread
# mixes both; the overlay goes in the image's directory (TMPDIR), so both
# live on the same file system. Prints "RESULT vmm run line...".
# Environment: RINGVM KERNEL INITRD QEMU RUNS IMG SEQ_MIB RAND_SECS
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=${RUNS:-3}
IMG=${IMG:-/tmp/bench.img}
SEQ_MIB=${SEQ_MIB:-128}
RAND_SECS=${RAND_SECS:-4}
mem=256
# In the outer VM the bench initramfs comes with the bed files.
[ -e /bed/blkguest.cpio.gz ] && INITRD=/bed/blkguest.cpio.gz
cmd="blkbench /dev/vda seqread $SEQ_MIB; blkbench /dev/vda seqwrite $SEQ_MIB;"
cmd="$cmd blkbench /dev/vda reread $SEQ_MIB;"
cmd="$cmd blkbench /dev/vda randread $RAND_SECS 1; blkbench /dev/vda randread $RAND_SECS 8"
append="quiet rvcmd=\"$cmd\""
full="console=ttyS0 sysctl.kernel.panic=-1 $append"	# what ringvm passes: its defaults + -a

# In the outer VM: the image goes on the ext4 file system of its virtio disk.
if [ -e /bed/ext4.ko ]; then
	for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
	    virtio_blk crc16 crc32c_generic mbcache jbd2 ext4; do
		insmod /bed/$m.ko
	done
	mkdir -p /mnt/disk
	mdev -s 2>/dev/null
	mount -t ext4 /dev/vda /mnt/disk || echo "blk-inner: cannot mount the outer disk"
	IMG=/mnt/disk/bench.img
fi
dd if=/dev/urandom of="$IMG" bs=1048576 count=256 2>/dev/null

run() {	# run NAME COMMAND...
	name=$1
	shift
	"$@" < /dev/null 2>&1 | tr -d '\r' | sed -n "s/^BENCH /RESULT $name $i /p"
}

i=1
while [ "$i" -le "$RUNS" ]; do
	run ringvm "$RINGVM" -k "$KERNEL" -i "$INITRD" -m ${mem}M -d "$IMG" -a "$append"
	run ringvm-sync "$RINGVM" -k "$KERNEL" -i "$INITRD" -m ${mem}M -d "$IMG,aio=sync" -a "$append"
	export TMPDIR="$(dirname "$IMG")"
	run ringvm-snap "$RINGVM" -k "$KERNEL" -i "$INITRD" -m ${mem}M -d "$IMG,snapshot" -a "$append"
	run ringvm-snap-sync "$RINGVM" -k "$KERNEL" -i "$INITRD" -m ${mem}M \
	    -d "$IMG,snapshot,aio=sync" -a "$append"
	unset TMPDIR
	# QEMU's virtio-blk over PCI as a user would start it: default cache
	# (writeback, as ringvm: the host page cache, flushes on guest flush) and
	# its default thread-pool AIO.
	run qemu "$QEMU" -M pc -enable-kvm -cpu host -m $mem -smp 1 \
	    -nodefaults -no-user-config -display none -serial stdio -no-reboot \
	    -drive "file=$IMG,if=none,id=d0,format=raw" -device virtio-blk-pci,drive=d0 \
	    -kernel "$KERNEL" -initrd "$INITRD" -append "$full"
	i=$((i + 1))
done
