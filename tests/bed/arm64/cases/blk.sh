# blk.sh (arm64): virtio-blk over PCI: bytes the host wrote reach the guest,
# and the guest's fsync'd writes reach the host file.
. "$here/lib64.sh"

t_read() {
	have_ringvm || return
	dd if=/dev/urandom of="$WORK/a64.img" bs=65536 count=64 2>/dev/null
	sum=$(dd if="$WORK/a64.img" bs=65536 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
	rv "$1" -d "$WORK/a64.img,serial=rv-arm64" -a "quiet rvtest=blk"
	expect_status 0
	expect_line "$1" "^RINGVM-DISK vda size=8192 ro=0 serial=rv-arm64 ring=[a-z]+ md5=$sum\$"
}

t_write_fsync() {
	have_ringvm || return
	dd if=/dev/urandom of="$WORK/a64.img" bs=65536 count=64 2>/dev/null
	want=$(yes RINGVM-WRITE-PATTERN | head -c 1048576 | md5sum | cut -d' ' -f1)
	rv "$1" -d "$WORK/a64.img" -a "quiet rvtest=blk rv.blk=write"
	expect_status 0
	expect_line "$1" '^RINGVM-WRITE 0$'
	got=$(dd if="$WORK/a64.img" bs=65536 skip=16 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "image region md5 $got, expected $want"
}
