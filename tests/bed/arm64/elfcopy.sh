# elfcopy.sh: copy an aarch64 program into an initramfs tree with the shared
# libraries it needs: its NEEDED entries, recursively, and its program
# interpreter, looked up with the cross binutils (ldd cannot run a foreign
# binary). Sourced by tests/bed/arm64/mkouter.sh and bench/boot-arm64; the
# caller sets `root` (the tree), `libdirs` (where to look, in order) and
# defines bed_die.

# copy_libs FILE: FILE's libraries, recursively, into $root/lib.
copy_libs() {
	for lib in $(aarch64-linux-gnu-readelf -d "$1" 2>/dev/null |
	    sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -e "$root/lib/$lib" ] && continue
		found=
		for d in $libdirs; do
			if [ -e "$d/$lib" ]; then found=$d/$lib; break; fi
		done
		[ -n "$found" ] || bed_die "$lib (needed by $1) not found in $libdirs"
		cp -L "$found" "$root/lib/$lib"
		copy_libs "$found"
	done
}
# copy_bin FILE DEST: FILE as $root/DEST, with its libraries and interpreter.
copy_bin() {
	cp "$1" "$root$2"
	copy_libs "$1"
	interp=$(aarch64-linux-gnu-readelf -l "$1" 2>/dev/null |
	    sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p')
	if [ -n "$interp" ] && [ ! -e "$root$interp" ]; then
		mkdir -p "$root$(dirname "$interp")"
		for d in $libdirs; do
			if [ -e "$d/$(basename "$interp")" ]; then
				cp -L "$d/$(basename "$interp")" "$root$interp"
				break
			fi
		done
		[ -e "$root$interp" ] || bed_die "interpreter $interp of $1 not found"
	fi
}
