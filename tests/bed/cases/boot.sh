# boot.sh: a real Linux guest boots to init and stops with the right status.

t_one_cpu() {
	rv "$1" -c 1 -a "quiet rvtest=hello"
	expect_status 0
	expect_line "$1" '^RINGVM-INIT '
	expect_line "$1" '^RINGVM-CPUS 1$'
	expect_line "$1" '^RINGVM-STATUS 0'
}

t_two_cpus() {
	rv "$1" -c 2 -a "quiet rvtest=hello"
	expect_status 0
	expect_line "$1" '^RINGVM-CPUS 2$'
}

t_cmdline_and_initrd() {
	rv "$1" -m 512M -a "quiet rvtest=hello rv.token=t0k3n-42"
	expect_status 0
	# ringvm's defaults come first, the user's text after them, unchanged.
	expect_line "$1" '^RINGVM-CMDLINE console=ttyS0 .* rvtest=hello rv.token=t0k3n-42'
	# With an initrd, no bare panic= that a distribution initramfs would read.
	no_line "$1" '^RINGVM-CMDLINE.* panic='
	expect_line "$1" "^RINGVM-STAMP $STAMP\$"
	# MemTotal (KiB) is most of the 512 MiB given.
	kib=$(sed -n 's/^RINGVM-MEM \([0-9]*\).*/\1/p' "$1")
	[ -n "$kib" ] && [ "$kib" -gt 460000 ] && [ "$kib" -le 524288 ] ||
		fail "guest MemTotal '$kib' KiB is not about 512 MiB"
}

t_reboot() {
	rv "$1" -a "quiet rvtest=reboot"
	expect_status 4
	expect_line "$1" '^RINGVM-REBOOTING'
}

t_panic() {
	rv "$1" -a "quiet rvtest=panic"
	expect_status 5
	expect_line "$1" '^RINGVM-PANICKING'
	expect_line "$1" 'guest kernel panicked'
}

# Without the pvpanic driver the panic timeout (the sysctl kernel.panic=-1
# among ringvm's defaults) resets the guest at once; Debian's own default
# would halt it for ever, and the run would end in the timeout's kill (137).
t_panic_without_pvpanic() {
	rv "$1" -a "quiet rvtest=panic rv.nopvpanic"
	expect_status 4
	expect_line "$1" '^RINGVM-PANICKING'
	no_line "$1" 'guest kernel panicked'
}

# No initrd: the kernel finds no root file system and panics before init,
# before any sysctl.* applies; the panic=-1 ringvm adds then makes it reset.
t_no_initrd_panic() {
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -a quiet > "$1" 2>&1 < /dev/null
	rv_status=$?
	crlf "$1"
	expect_status 4
	expect_line "$1" 'Kernel panic - not syncing: VFS: Unable to mount root fs'
}

t_sigterm() {
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -i "$INITRD" \
	    -a "quiet rvtest=sleep" > "$1" 2>&1 < /dev/null &
	pid=$!
	if wait_line "$1" '^RINGVM-SLEEPING' "$RV_TIMEOUT"; then
		kill -TERM "$pid"
	else
		kill -KILL "$pid"
	fi
	wait "$pid"
	rv_status=$?
	expect_status 143
}

t_stdin_pipe() {
	printf 'echo PIPED-$((6*7))\npoweroff -f\n' |
	    timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -i "$INITRD" \
	    -a "quiet rvtest=shell" > "$1" 2>&1
	rv_status=$?
	expect_status 0
	expect_line "$1" '^RINGVM-SHELL'
	expect_line "$1" 'PIPED-42'
}

# The same Debian kernel as an ELF vmlinux (mkguest.sh unpacks it from the
# bzImage), booted through its PVH entry: hvm_start_info carries the memory
# map, the command line, the initrd as its one module and the RSDP; two
# CPUs come up from the 32-bit entry as from the 64-bit one.
t_elf_pvh_initrd_cmdline() {
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$VMLINUX" -i "$INITRD" -c 2 -m 512M \
	    -a "quiet rvtest=hello rv.token=elf-pvh-77" > "$1" 2>&1 < /dev/null
	rv_status=$?
	crlf "$1"
	expect_status 0
	expect_line "$1" '^RINGVM-INIT '
	expect_line "$1" '^RINGVM-CPUS 2$'
	expect_line "$1" '^RINGVM-CMDLINE console=ttyS0 .* rvtest=hello rv.token=elf-pvh-77'
	expect_line "$1" "^RINGVM-STAMP $STAMP\$"
	kib=$(sed -n 's/^RINGVM-MEM \([0-9]*\).*/\1/p' "$1")
	[ -n "$kib" ] && [ "$kib" -gt 460000 ] && [ "$kib" -le 524288 ] ||
		fail "guest MemTotal '$kib' KiB is not about 512 MiB"
}

# Command mode on the ELF kernel: ringvm's own initramfs (its appended
# archive, the whole initrd here) reaches the guest, and the command's
# status and output come back. ringvm finds the kernel's modules by the
# release in the vmlinux's "Linux version" banner, as /lib/modules/RELEASE.
t_elf_pvh_command() {
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$VMLINUX" \
	    -- sh -c 'echo elf-$((6*7)); exit 7' > "$1" 2> "$1.err" < /dev/null
	rv_status=$?
	expect_status 7
	grep -qx 'elf-42' "$1" || fail "stdout '$(head -c 200 "$1")', expected 'elf-42'"
}

# The ELF kernel's reboot ends ringvm like the bzImage's (status 4).
t_elf_pvh_reboot() {
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$VMLINUX" -i "$INITRD" \
	    -a "quiet rvtest=reboot" > "$1" 2>&1 < /dev/null
	rv_status=$?
	crlf "$1"
	expect_status 4
	expect_line "$1" '^RINGVM-REBOOTING'
}

# No initrd: hvm_start_info has no module; the kernel finds no root and
# panics, and ringvm's panic=-1 makes it reset (status 4).
t_elf_pvh_no_initrd_panic() {
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$VMLINUX" -a quiet > "$1" 2>&1 < /dev/null
	rv_status=$?
	crlf "$1"
	expect_status 4
	expect_line "$1" 'Kernel panic - not syncing: VFS: Unable to mount root fs'
}

# The kernel cache (--kcache, on by default): a bzImage boots through the ELF
# vmlinux ringvm unpacked on the host, kept under $XDG_CACHE_HOME/ringvm;
# the next boot finds it there; an entry damaged on disk is caught, rebuilt
# and never booted; --kcache off writes nothing and still boots.
kc_run() {	# kc_run OUT CACHEDIR ARG...: a command-mode run with its own cache directory
	_out=$1 _dir=$2
	shift 2
	XDG_CACHE_HOME=$_dir timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" "$@" \
	    -- sh -c 'echo kc-$((6*7)); exit 3' > "$_out" 2> "$_out.err" < /dev/null
	rv_status=$?
}

t_kcache_miss_hit_and_damaged_entry() {
	kc=$WORK/kc
	rm -rf "$kc"
	kc_run "$1" "$kc"
	expect_status 3
	grep -qx 'kc-42' "$1" || fail "first boot (miss): stdout '$(head -c 200 "$1")'"
	set -- "$1" "$kc"/ringvm/*.elf
	[ $# = 2 ] && [ -f "$2" ] || { fail "no single cache entry after the first boot: $(ls "$kc"/ringvm 2>&1)"; return; }
	entry=$2
	sum=$(md5sum < "$entry")
	kc_run "$1" "$kc"
	expect_status 3
	grep -qx 'kc-42' "$1" || fail "second boot (hit): stdout '$(head -c 200 "$1")'"
	# One byte in the middle of the ELF: a hit would boot a damaged kernel.
	chmod u+w "$entry"
	printf 'X' | dd of="$entry" bs=1 seek=$(($(stat -c %s "$entry") / 2)) conv=notrunc 2> /dev/null
	[ "$(md5sum < "$entry")" != "$sum" ] || fail "the entry was not damaged"
	kc_run "$1" "$kc"
	expect_status 3
	grep -qx 'kc-42' "$1" || fail "boot with a damaged entry: stdout '$(head -c 200 "$1")'"
	[ "$(md5sum < "$entry" 2> /dev/null)" = "$sum" ] || fail "the damaged entry was not rebuilt"
	# Cut short: the same.
	chmod u+w "$entry"
	truncate -s $(($(stat -c %s "$entry") / 3)) "$entry"
	kc_run "$1" "$kc"
	expect_status 3
	[ "$(md5sum < "$entry" 2> /dev/null)" = "$sum" ] || fail "the truncated entry was not rebuilt"
	rm -rf "$kc"
}

t_kcache_off_writes_nothing() {
	kc=$WORK/kc-off
	rm -rf "$kc"
	kc_run "$1" "$kc" --kcache off
	expect_status 3
	grep -qx 'kc-42' "$1" || fail "stdout '$(head -c 200 "$1")'"
	[ ! -e "$kc/ringvm" ] || fail "--kcache off made $kc/ringvm"
	rm -rf "$kc"
}
