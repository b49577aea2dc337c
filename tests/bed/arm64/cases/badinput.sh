# badinput.sh (arm64): every bad arm64 kernel file and arm64 limit gets one
# clear line on stderr and its documented status (ringvm(1), EXIT STATUS),
# with nothing on stdout. Files are made from the real Image's header with a
# byte changed, so each case breaks exactly one rule of booting.rst.
. "$here/lib64.sh"

# bad OUT STATUS REGEX ARG...: run ringvm, expect STATUS and exactly one
# stderr line matching REGEX.
bad() {
	_out=$1 _want=$2 _re=$3
	shift 3
	timeout -s KILL 30 "$RINGVM" "$@" > "$_out.stdout" 2> "$_out" < /dev/null
	rv_status=$?
	expect_status "$_want"
	[ "$(wc -l < "$_out")" -eq 1 ] || fail "$(wc -l < "$_out") lines on stderr, expected 1"
	grep -Eq -- "$_re" "$_out" || fail "stderr does not match '$_re'"
	[ ! -s "$_out.stdout" ] || fail "unexpected stdout"
}

# patch FILE OFFSET OCTAL: set one byte of FILE.
patch() { printf "\\$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2> /dev/null; }

# head64 FILE: the real Image's first 64 KiB (its header and code).
head64() { head -c 65536 "$KERNEL" > "$1"; }

t_random_file() {
	have_ringvm || return
	head -c 65536 /dev/urandom > "$WORK/random.bin"
	bad "$1" 3 "^ringvm: kernel '.*random.bin' is not an arm64 Image \\(no ARM.x64 magic at 0x38\\)$" \
	    -k "$WORK/random.bin"
}

t_tiny_file() {
	have_ringvm || return
	head -c 40 "$KERNEL" > "$WORK/tiny.bin"
	bad "$1" 3 "kernel '.*tiny.bin' is too small to be a kernel \\(40 bytes\\)$" -k "$WORK/tiny.bin"
}

# The Image header has no file size: a cut Image is found by its PE headers
# (the EFI stub's, in Debian's kernel), whose sections must lie in the file.
t_truncated_in_headers() {
	have_ringvm || return
	head -c 100 "$KERNEL" > "$WORK/cut100.img"
	bad "$1" 3 "kernel '.*cut100.img' is truncated: its PE headers end past its 100 bytes$" \
	    -k "$WORK/cut100.img"
}

t_truncated_in_sections() {
	have_ringvm || return
	head -c 1048576 "$KERNEL" > "$WORK/cut1m.img"
	bad "$1" 3 "kernel '.*cut1m.img' is truncated: its PE sections end at byte [0-9]+, the file has 1048576$" \
	    -k "$WORK/cut1m.img"
}

t_gzip_image() {
	have_ringvm || return
	head -c 1048576 "$KERNEL" | gzip -c > "$WORK/Image.gz"
	bad "$1" 3 "is gzip-compressed \\(an Image.gz\\): .*unpack it with gunzip$" -k "$WORK/Image.gz"
}

t_big_endian() {
	have_ringvm || return
	head64 "$WORK/be.img"
	patch "$WORK/be.img" 24 013	# flags: bit 0, big-endian
	bad "$1" 3 "is a big-endian kernel" -k "$WORK/be.img"
}

t_text_offset_unaligned() {
	have_ringvm || return
	head64 "$WORK/off.img"
	patch "$WORK/off.img" 8 001
	bad "$1" 3 "asks for text_offset 0x1 \\(must be page aligned, below 2 MiB\\)$" -k "$WORK/off.img"
}

t_image_size_below_file() {
	have_ringvm || return
	cp "$KERNEL" "$WORK/small.img"
	# image_size = 0x1000: less than the file holds.
	patch "$WORK/small.img" 16 000
	patch "$WORK/small.img" 17 020
	for i in 18 19 20 21 22 23; do patch "$WORK/small.img" $i 000; done
	bad "$1" 3 "says its image is 4096 bytes, but the file has [0-9]+$" -k "$WORK/small.img"
	rm -f "$WORK/small.img"
}

t_memory_too_small() {
	have_ringvm || return
	bad "$1" 2 "^ringvm: memory size 16M is too small for kernel '.*': it needs [0-9]+M$" \
	    -k "$KERNEL" -m 16M
}

t_initrd_too_big() {
	have_ringvm || return
	dd if=/dev/zero of="$WORK/big.cpio" bs=1M count=48 2> /dev/null
	bad "$1" 3 "initrd '.*big.cpio' \\([0-9]+ bytes\\) does not fit in guest memory" \
	    -k "$KERNEL" -i "$WORK/big.cpio" -m 64M
	rm -f "$WORK/big.cpio"
}

t_dump_dtb_unwritable() {
	have_ringvm || return
	bad "$1" 1 "^ringvm: --dump-dtb: cannot create '/nonexistent/x.dtb': No such file or directory$" \
	    -k "$KERNEL" --dump-dtb /nonexistent/x.dtb
}
