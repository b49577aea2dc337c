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
}
