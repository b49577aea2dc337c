# guestroot.sh: building a test guest's initramfs tree, the same for every
# architecture's bed (tests/bed/mkguest.sh, tests/bed/arm64/mkguest.sh).
# Sourced after the bed's common.sh (bed_die).

# guest_root ROOT BUSYBOX: a fresh tree with the static busybox in it.
guest_root() {
	rm -rf "$1"
	mkdir -p "$1/bin" "$1/sbin" "$1/etc" "$1/lib/modules" "$1/tests" "$1/root"
	cp "$2" "$1/bin/busybox"
}

# guest_modules ROOT MODDIR MODULE...: each module (a path under MODDIR,
# found as is or compressed .xz or .zst) into ROOT/lib/modules/, unpacked:
# init loads them by name with busybox insmod.
guest_modules() {
	_root=$1 _dir=$2
	shift 2
	for _m; do
		_src=$_dir/$_m
		[ -e "$_src" ] || _src=$(ls "$_src".* 2>/dev/null | head -n 1)
		[ -e "$_src" ] || bed_die "module $_m not found under $_dir"
		case $_src in
		*.xz) xz -dc "$_src" > "$_root/lib/modules/$(basename "$_m")" ;;
		*.zst) zstd -qdc "$_src" > "$_root/lib/modules/$(basename "$_m")" ;;
		*) cp "$_src" "$_root/lib/modules/" ;;
		esac
	done
}

# guest_pack ROOT OUTDIR: tests/guest's /init and scripts into ROOT, a fresh
# stamp (ROOT/etc/rv-stamp and OUTDIR/guest.stamp: the tests read it back to
# prove the initrd's contents reached the guest), then the tree as
# OUTDIR/guest.cpio.gz (newc, gzip).
guest_pack() {
	cp "$TOP/tests/guest/init" "$1/init"
	chmod 755 "$1/init"
	cp "$TOP"/tests/guest/*.sh "$TOP"/tests/guest/*.script "$1/tests/"
	chmod 755 "$1"/tests/*.script
	_stamp=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
	echo "$_stamp" > "$1/etc/rv-stamp"
	echo "$_stamp" > "$2/guest.stamp"
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -9 > "$2/guest.cpio.gz.tmp"
	mv "$2/guest.cpio.gz.tmp" "$2/guest.cpio.gz"
}
