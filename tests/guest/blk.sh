# blk: report the virtio disks, the ring layout in use, and a checksum of the
# first MiB of each; then run the operation named by rv.blk= on /dev/vda:
#   write  write 1 MiB of a known pattern at 1 MiB with conv=fsync
#   mkfs   make an ext2 file system, write a file, unmount
#   readfs mount it again and checksum the file
#   rotry  try to write a read-only disk
for d in /sys/block/vd*; do
	[ -e "$d" ] || continue
	n=${d##*/}
	# Feature bit 34 is VIRTIO_F_RING_PACKED; sysfs lists bits from 0, left to right.
	f=$(cat "$d/device/features")
	ring=split
	[ "$(echo "$f" | cut -c35)" = 1 ] && ring=packed
	sum=$(dd if=/dev/$n bs=65536 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
	echo "RINGVM-DISK $n size=$(cat $d/size) ro=$(cat $d/ro) serial=$(cat $d/serial) ring=$ring md5=$sum"
done
op=$(sed -n 's/.*rv\.blk=\([a-z]*\).*/\1/p' /proc/cmdline)
# ext2 is served by the ext4 module and its dependencies.
case $op in mkfs|readfs) for m in crc16 crc32c_generic mbcache jbd2 ext4; do insmod /lib/modules/$m.ko; done ;; esac
case $op in
write)
	yes RINGVM-WRITE-PATTERN | head -c 1048576 | dd of=/dev/vda bs=65536 seek=16 oflag=direct conv=fsync 2>/dev/null
	echo "RINGVM-WRITE $?"
	;;
mkfs)
	mke2fs -q /dev/vda && mount -t ext2 /dev/vda /mnt &&
	    yes ringvm-file-data | head -c 300000 > /mnt/data && sync &&
	    sum=$(md5sum < /mnt/data | cut -d' ' -f1) && umount /mnt
	echo "RINGVM-MKFS $? md5=$sum"
	;;
readfs)
	mount -t ext2 /dev/vda /mnt && sum=$(md5sum < /mnt/data | cut -d' ' -f1) && umount /mnt
	echo "RINGVM-READFS $? md5=$sum"
	;;
rotry)
	dd if=/dev/zero of=/dev/vda bs=512 count=8 oflag=direct conv=fsync 2>/dev/null
	echo "RINGVM-ROTRY $?"
	;;
esac
