# blk: report the virtio disks, the ring layout in use, and a checksum of the
# first MiB of each; then run the operation named by rv.blk= on /dev/vda:
#   write  write 1 MiB of a known pattern at 1 MiB with conv=fsync
#   mkfs   make an ext2 file system, write a file, unmount
#   readfs mount it again and checksum the file
#   rotry  try to write a read-only disk
#   cow    on a snapshot disk: a 1 MiB write at 1 MiB, a sector inside a 4 KiB
#          cluster, three sectors across two, a 64 KiB discard at 2 MiB, an
#          8 KiB write-zeroes at 3 MiB; then checksums read with O_DIRECT
#   cowfs  on a snapshot of an ext4 image: read a file, write one, remount
#          and read it back; then mke2fs over it, write, remount, read
#   cowhold  write 1 MiB, say so, and stay up (the host kills ringvm)
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
case $op in mkfs|readfs|cowfs) for m in crc16 crc32c_generic mbcache jbd2 ext4; do insmod /lib/modules/$m.ko; done ;; esac
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
cow)
	# The small pieces come from files: a pipe may hand dd short blocks.
	yes RINGVM-SECTOR | head -c 512 > /tmp/sector
	yes RINGVM-ACROSS | head -c 1536 > /tmp/across
	yes RINGVM-WRITE-PATTERN | head -c 1048576 > /tmp/mib
	dd if=/tmp/mib of=/dev/vda bs=65536 seek=16 oflag=direct conv=fsync 2>/dev/null &&
	    dd if=/tmp/sector of=/dev/vda bs=512 seek=5 oflag=direct conv=fsync 2>/dev/null &&
	    dd if=/tmp/across of=/dev/vda bs=512 seek=7 oflag=direct conv=fsync 2>/dev/null &&
	    blkdiscard -o 2097152 -l 65536 /dev/vda &&
	    blkzero /dev/vda 3145728 8192 &&
	    region=$(dd if=/dev/vda bs=65536 skip=16 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1) &&
	    all=$(dd if=/dev/vda bs=65536 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
	echo "RINGVM-COW $? region=$region disk=$all"
	;;
cowfs)
	# drop_caches between mounts: the second look reads the disk, not the page cache.
	mount -t ext4 /dev/vda /mnt && cmp /mnt/init /init &&
	    yes ringvm-file-data | head -c 300000 > /mnt/cow-new && rm /mnt/tests/hello.sh &&
	    sync && umount /mnt && echo 3 > /proc/sys/vm/drop_caches &&
	    mount -t ext4 /dev/vda /mnt && new=$(md5sum < /mnt/cow-new | cut -d' ' -f1) &&
	    [ ! -e /mnt/tests/hello.sh ] && umount /mnt &&
	    mke2fs -q /dev/vda && mount -t ext2 /dev/vda /mnt &&
	    yes ringvm-mkfs-data | head -c 200000 > /mnt/data && sync && umount /mnt &&
	    echo 3 > /proc/sys/vm/drop_caches &&
	    mount -t ext2 /dev/vda /mnt && fs=$(md5sum < /mnt/data | cut -d' ' -f1) && umount /mnt
	echo "RINGVM-COWFS $? new=$new mkfs=$fs"
	;;
cowhold)
	dd if=/dev/urandom of=/dev/vda bs=65536 count=16 oflag=direct conv=fsync 2>/dev/null
	echo "RINGVM-COWHOLD $?"
	while :; do sleep 60; done
	;;
esac
