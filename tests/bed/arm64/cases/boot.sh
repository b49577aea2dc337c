# boot.sh (arm64): Debian's arm64 kernel boots to the test init under the
# arm64 ringvm: one and two vCPUs, the command line and initramfs reach it,
# the console works both ways, and poweroff, reboot and panic end ringvm with
# statuses 0, 4 and 5 (no pvpanic on arm64: the panic is a PSCI warm reset).
. "$here/lib64.sh"

# Also the console's output way: every RINGVM- line came through the UART.
t_one_cpu() {
	have_ringvm || return
	rv "$1" -c 1 -a "quiet rvtest=hello"
	expect_status 0
	expect_line "$1" '^RINGVM-INIT uptime=[0-9.]+ cpus=1$'
	expect_line "$1" '^RINGVM-CPUS 1$'
	expect_line "$1" '^RINGVM-STATUS 0$'
}

t_two_cpus() {
	have_ringvm || return
	rv "$1" -c 2 -a "quiet rvtest=hello"
	expect_status 0
	expect_line "$1" '^RINGVM-INIT uptime=[0-9.]+ cpus=2$'
	expect_line "$1" '^RINGVM-CPUS 2$'
}

t_cmdline_and_initrd() {
	have_ringvm || return
	rv "$1" -m 512M -a "quiet rvtest=hello rv.token=t0k3n-64"
	expect_status 0
	# ringvm's defaults first (console=ttyS0, the UART), the user's text after them.
	expect_line "$1" '^RINGVM-CMDLINE console=ttyS0 .*rvtest=hello rv.token=t0k3n-64'
	expect_line "$1" "^RINGVM-STAMP $STAMP\$"
	kib=$(sed -n 's/^RINGVM-MEM \([0-9]*\).*/\1/p' "$1")
	[ -n "$kib" ] && [ "$kib" -gt 400000 ] && [ "$kib" -le 524288 ] ||
		fail "guest MemTotal '$kib' KiB is not about 512 MiB"
}

# The console's input way: commands piped into ringvm's stdin reach the
# guest's shell, which answers on the console.
t_console_input() {
	have_ringvm || return
	printf 'echo PIPED-$((6*7))\npoweroff -f\n' |
	    timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -i "$INITRD" \
	    -a "quiet rvtest=shell" > "$1" 2>&1
	rv_status=$?
	crlf "$1"
	expect_status 0
	expect_line "$1" '^RINGVM-SHELL'
	expect_line "$1" 'PIPED-42'
}

t_reboot() {
	have_ringvm || return
	rv "$1" -a "quiet rvtest=reboot"
	expect_status 4
	expect_line "$1" '^RINGVM-REBOOTING'
}

t_panic() {
	have_ringvm || return
	rv "$1" -a "quiet rvtest=panic"
	expect_status 5
	expect_line "$1" '^RINGVM-PANICKING'
	expect_line "$1" '^ringvm: guest kernel panicked$'
}

# --dump-dtb: the tree a start would give, written and nothing run. The
# unit test (tests/unit/test_fdt.c) checks the builder node by node; this
# checks what ringvm writes for a real configuration.
t_dump_dtb() {
	have_ringvm || return
	rm -f "$WORK/vm.dtb"
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -i "$INITRD" -c 2 -a "rv.token=dtb-9" \
	    --dump-dtb "$WORK/vm.dtb" > "$1" 2>&1 < /dev/null
	rv_status=$?
	expect_status 0
	[ -s "$WORK/vm.dtb" ] || { fail "no device tree written"; return; }
	[ "$(head -c 4 "$WORK/vm.dtb" | od -An -tx1 | tr -d ' \n')" = d00dfeed ] ||
		fail "not a flattened device tree (magic $(head -c 4 "$WORK/vm.dtb" | od -An -tx1))"
	for s in ns16550a pci-host-ecam-generic arm,gic-v3 arm,gic-v3-its arm,psci-0.2 \
	    arm,armv8-timer "rv.token=dtb-9" "reboot=panic_warm" cpu@1; do
		grep -aq -- "$s" "$WORK/vm.dtb" || fail "the tree has no '$s'"
	done
	! grep -aq cpu@2 "$WORK/vm.dtb" || fail "a third CPU in a 2-vCPU tree"
	[ ! -s "$1" ] || fail "output from a dump: $(head -c 200 "$1")"
}

# PCI MSI-X goes through the GIC ITS (the device tree's msi-map): the
# virtio devices' vectors are ITS-MSI interrupts in the guest, not INTx.
t_msi_through_its() {
	have_ringvm || return
	dd if=/dev/zero of="$WORK/msi.img" bs=1M count=4 2> /dev/null
	rv "$1" -d "$WORK/msi.img" -a 'quiet rvcmd="echo ITS-MSI-COUNT=$(grep -c ITS-MSI /proc/interrupts); grep virtio /proc/interrupts"'
	expect_status 0
	n=$(sed -n 's/^ITS-MSI-COUNT=\([0-9]*\)$/\1/p' "$1")
	expect_line "$1" 'ITS-MSI.*virtio'
	[ "${n:-0}" -ge 2 ] || fail "only '${n:-none}' ITS-MSI interrupts in the guest"
	rm -f "$WORK/msi.img"
}

# Pointer authentication reaches the guest (the outer VM's -cpu max has it,
# and ringvm asks KVM for it where KVM offers it).
t_pointer_auth() {
	have_ringvm || return
	rv "$1" -a 'quiet rvcmd="grep -m1 ^Features /proc/cpuinfo"'
	expect_status 0
	expect_line "$1" '^Features.* paca .*pacg'
}
