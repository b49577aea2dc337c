# blk.sh: virtio-blk with a real Linux guest: the bytes the host wrote reach
# the guest, the guest's fsync'd writes reach the host file, a file system
# survives a round trip and an fsck, read-only disks refuse writes, two disks
# at once. The data tests run twice: packed rings (what Linux takes when
# offered) and split rings (ring=split).

# img FILE: a 4 MiB image of random bytes; prints the md5 of its first MiB.
img() {
	dd if=/dev/urandom of="$1" bs=65536 count=64 2>/dev/null
	dd if="$1" bs=65536 count=16 2>/dev/null | md5sum | cut -d' ' -f1
}

# region_md5 FILE: md5 of the second MiB, where rv.blk=write writes.
region_md5() { dd if="$1" bs=65536 skip=16 count=16 2>/dev/null | md5sum | cut -d' ' -f1; }

blk_read() {	# OUT RING
	sum=$(img "$WORK/a.img")
	rv "$1" -d "$WORK/a.img,serial=rv-$2,ring=$2" -a "quiet rvtest=blk"
	expect_status 0
	expect_line "$1" "^RINGVM-DISK vda size=8192 ro=0 serial=rv-$2 ring=$2 md5=$sum\$"
}

blk_write() {	# OUT RING
	img "$WORK/a.img" > /dev/null
	want=$(yes RINGVM-WRITE-PATTERN | head -c 1048576 | md5sum | cut -d' ' -f1)
	rv "$1" -d "$WORK/a.img,ring=$2" -a "quiet rvtest=blk rv.blk=write"
	expect_status 0
	expect_line "$1" '^RINGVM-WRITE 0$'
	# The guest powered off right after fsync returned: the bytes must be in the file.
	got=$(region_md5 "$WORK/a.img")
	[ "$got" = "$want" ] || fail "image region md5 $got, expected $want"
}

blk_fs() {	# OUT RING
	truncate -s 0 "$WORK/fs.img"
	truncate -s 32M "$WORK/fs.img"
	rv "$1" -d "$WORK/fs.img,ring=$2" -a "quiet rvtest=blk rv.blk=mkfs"
	expect_status 0
	sum=$(sed -n 's/^RINGVM-MKFS 0 md5=\([0-9a-f]*\)$/\1/p' "$1")
	[ -n "$sum" ] || { fail "guest mkfs/mount/write/umount failed"; return; }
	e2fsck -fn "$WORK/fs.img" > "$1.fsck" 2>&1 || { fail "e2fsck on the host: $(tail -n 2 "$1.fsck" | tr '\n' ' ')"; return; }
	rv "$1" -d "$WORK/fs.img,ring=$2" -a "quiet rvtest=blk rv.blk=readfs"
	expect_status 0
	expect_line "$1" "^RINGVM-READFS 0 md5=$sum\$"
}

t_read_packed() { blk_read "$1" packed; }
t_read_split() { blk_read "$1" split; }
t_write_fsync_packed() { blk_write "$1" packed; }
t_write_fsync_split() { blk_write "$1" split; }
t_fs_roundtrip_packed() { blk_fs "$1" packed; }
t_fs_roundtrip_split() { blk_fs "$1" split; }

t_readonly() {
	sum=$(img "$WORK/ro.img")
	before=$(md5sum < "$WORK/ro.img")
	rv "$1" -d "$WORK/ro.img,ro" -a "quiet rvtest=blk rv.blk=rotry"
	expect_status 0
	expect_line "$1" "^RINGVM-DISK vda size=8192 ro=1 .* md5=$sum\$"
	no_line "$1" '^RINGVM-ROTRY 0$'
	[ "$(md5sum < "$WORK/ro.img")" = "$before" ] || fail "the read-only image changed"
}

t_two_disks() {
	a=$(img "$WORK/a.img")
	b=$(img "$WORK/b.img")
	rv "$1" -d "$WORK/a.img,serial=first" -d "$WORK/b.img,serial=second" -a "quiet rvtest=blk"
	expect_status 0
	expect_line "$1" "^RINGVM-DISK vda .* serial=first .* md5=$a\$"
	expect_line "$1" "^RINGVM-DISK vdb .* serial=second .* md5=$b\$"
}
