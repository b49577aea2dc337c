# blk.sh: virtio-blk with a real Linux guest: the bytes the host wrote reach
# the guest, the guest's fsync'd writes reach the host file, a file system
# survives a round trip and an fsck, read-only disks refuse writes, two disks
# at once. The data tests run twice: packed rings (what Linux takes when
# offered) and split rings (ring=split). Snapshot disks (-d IMAGE,snapshot):
# the guest's writes, discards and write-zeroes read back exactly while the
# image keeps its checksum, a file system on one, and a SIGKILL that leaves
# nothing in TMPDIR.

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

# snap_rw OUT AIO: the guest's "cow" operations on a snapshot of a random
# image read back as the same operations applied to a copy on the host; the
# image itself does not change.
snap_rw() {
	img "$WORK/snap.img" > /dev/null
	before=$(md5sum < "$WORK/snap.img")
	rm -rf "$WORK/snaptmp" && mkdir "$WORK/snaptmp"
	# Exported around rv (a function: a prefix assignment may outlive it in some shells).
	_tmpdir=${TMPDIR:-}
	export TMPDIR="$WORK/snaptmp"
	rv "$1" -d "$WORK/snap.img,snapshot,aio=$2" -a "quiet rvtest=blk rv.blk=cow"
	if [ -n "$_tmpdir" ]; then TMPDIR=$_tmpdir; else unset TMPDIR; fi
	expect_status 0
	# The expected disk: the same writes on a copy, discard and write-zeroes as zeros.
	cp "$WORK/snap.img" "$WORK/snap.want"
	yes RINGVM-WRITE-PATTERN | head -c 1048576 > "$WORK/snap.mib"
	yes RINGVM-SECTOR | head -c 512 > "$WORK/snap.sector"
	yes RINGVM-ACROSS | head -c 1536 > "$WORK/snap.across"
	dd if="$WORK/snap.mib" of="$WORK/snap.want" bs=65536 seek=16 conv=notrunc 2>/dev/null
	dd if="$WORK/snap.sector" of="$WORK/snap.want" bs=512 seek=5 conv=notrunc 2>/dev/null
	dd if="$WORK/snap.across" of="$WORK/snap.want" bs=512 seek=7 conv=notrunc 2>/dev/null
	dd if=/dev/zero of="$WORK/snap.want" bs=65536 seek=32 count=1 conv=notrunc 2>/dev/null
	dd if=/dev/zero of="$WORK/snap.want" bs=8192 seek=384 count=1 conv=notrunc 2>/dev/null
	region=$(md5sum < "$WORK/snap.mib" | cut -d' ' -f1)
	all=$(md5sum < "$WORK/snap.want" | cut -d' ' -f1)
	expect_line "$1" "^RINGVM-COW 0 region=$region disk=$all\$"
	[ "$(md5sum < "$WORK/snap.img")" = "$before" ] || fail "the snapshot's image changed"
	[ -z "$(ls -A "$WORK/snaptmp")" ] || fail "TMPDIR is not empty: $(ls -A "$WORK/snaptmp")"
}

t_snapshot_rw() { snap_rw "$1" uring; }
t_snapshot_rw_sync() { snap_rw "$1" sync; }

# t_snapshot_fs: the guest reads and changes a file system on a snapshot of
# an ext4 image (the test guest's tree), then makes a new one over it; the
# image keeps its checksum and stays clean for e2fsck.
t_snapshot_fs() {
	cp "$ROOTIMG" "$WORK/snapfs.img"
	before=$(md5sum < "$WORK/snapfs.img")
	rv "$1" -d "$WORK/snapfs.img,snapshot" -a "quiet rvtest=blk rv.blk=cowfs"
	expect_status 0
	new=$(yes ringvm-file-data | head -c 300000 | md5sum | cut -d' ' -f1)
	fs=$(yes ringvm-mkfs-data | head -c 200000 | md5sum | cut -d' ' -f1)
	expect_line "$1" "^RINGVM-COWFS 0 new=$new mkfs=$fs\$"
	[ "$(md5sum < "$WORK/snapfs.img")" = "$before" ] || fail "the snapshot's image changed"
	e2fsck -fn "$WORK/snapfs.img" > "$1.fsck" 2>&1 ||
	    fail "e2fsck on the image: $(tail -n 2 "$1.fsck" | tr '\n' ' ')"
}

# t_snapshot_sigkill: ringvm killed while the guest uses a snapshot disk
# leaves nothing in its TMPDIR: the overlay, open while it ran, never had a
# name there.
t_snapshot_sigkill() {
	img "$WORK/sk.img" > /dev/null
	before=$(md5sum < "$WORK/sk.img")
	rm -rf "$WORK/sktmp" && mkdir "$WORK/sktmp"
	TMPDIR=$WORK/sktmp "$RINGVM" -k "$KERNEL" -i "$INITRD" -d "$WORK/sk.img,snapshot" \
	    -a "quiet rvtest=blk rv.blk=cowhold" > "$1" 2>&1 < /dev/null &
	pid=$!
	if wait_line "$1" '^RINGVM-COWHOLD 0' "$RV_TIMEOUT"; then	# the tty's CR follows
		ls -l "/proc/$pid/fd" > "$1.fds" 2>&1
		grep -q "$WORK/sktmp/.* (deleted)" "$1.fds" ||
		    fail "no unnamed overlay in TMPDIR among ringvm's fds: $(grep sktmp "$1.fds")"
		[ -z "$(ls -A "$WORK/sktmp")" ] || fail "TMPDIR has entries while ringvm runs"
	fi
	kill -KILL "$pid"
	wait "$pid"
	rv_status=$?
	expect_status 137
	[ -z "$(ls -A "$WORK/sktmp")" ] || fail "TMPDIR is not empty after SIGKILL: $(ls -A "$WORK/sktmp")"
	[ "$(md5sum < "$WORK/sk.img")" = "$before" ] || fail "the snapshot's image changed"
}
