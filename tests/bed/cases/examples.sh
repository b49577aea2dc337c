# examples.sh: every command README.md and man/ringvm.1 EXAMPLES show runs
# here with the output or status they show (issue 15). KERNEL and INITRD
# are the kernel and initramfs `make demo` builds (the examples' vmlinuz and
# initrd.img); DEBIAN_INITRD is Debian's own initramfs for the same kernel.
# Lines are checked in the order shown; the guest's boot messages between
# them are allowed.

# in_order OUT LINE...: each LINE is a whole line of OUT, after the previous one.
in_order() {
	_f=$1
	shift
	awk -v want="$(printf '%s\n' "$@")" '
		BEGIN { n = split(want, w, "\n"); i = 1 }
		i <= n && $0 == w[i] { i++ }
		END { exit !(i > n) }' "$_f" || fail "lines '$*' not all found, in this order"
}

# README: one command on 2 vCPUs and 1 GiB, its output, status 0.
t_readme_command() {
	rv "$1" -c 2 -m 1G -a 'quiet rvcmd="uname -s"'
	expect_status 0
	in_order "$1" "Linux" "RINGVM-STATUS 0"
}

# README and man: commands through a pipe; the log holds their output once.
t_readme_pipe() {
	printf 'uname -s\npoweroff -f\n' |
	    timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -i "$INITRD" -a quiet > "$1" 2>&1
	rv_status=$?
	crlf "$1"
	expect_status 0
	n=$(grep -c Linux "$1")
	[ "$n" = 1 ] || fail "grep -c Linux log gives $n, the README shows 1"
}

# README: two disks, the second read-only, and a port forward.
t_readme_disks_and_forward() {
	rm -f "$WORK/disk.img" "$WORK/data.img"
	truncate -s 64M "$WORK/disk.img" "$WORK/data.img"
	rv "$1" -d "$WORK/disk.img" -d "$WORK/data.img,ro" -n user,hostfwd=tcp::2222-:22 \
	    -a 'quiet rvcmd="ls /sys/block"'
	expect_status 0
	in_order "$1" "vda  vdb" "RINGVM-STATUS 0"
}

# man: the same with serial=data1 on the read-only disk, which the guest sees.
t_man_disks_serial() {
	rm -f "$WORK/root.img" "$WORK/data.img"
	truncate -s 64M "$WORK/root.img" "$WORK/data.img"
	rv "$1" -d "$WORK/root.img" -d "$WORK/data.img,ro,serial=data1" \
	    -n user,hostfwd=tcp::2222-:22 -a 'quiet rvcmd="ls /sys/block"'
	expect_status 0
	in_order "$1" "vda  vdb" "RINGVM-STATUS 0"
}

# README: Debian's own initramfs with no root device stops in its rescue
# shell (ringvm's defaults must not make it reboot); poweroff -f gives 0.
t_readme_debian_initramfs() {
	printf 'poweroff -f\n' |
	    timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -i "$DEBIAN_INITRD" -c 2 -m 1G -a quiet \
	    > "$1" 2>&1
	rv_status=$?
	crlf "$1"
	expect_status 0
	expect_line "$1" '\(initramfs\)'
}

# man: a TAP interface (created with busybox tunctl: the bed has no iproute2 tuntap).
t_man_tap() {
	busybox tunctl -t tap0 > /dev/null || { fail "cannot create tap0"; return; }
	ip link set tap0 up
	rv "$1" -n tap,ifname=tap0 -a 'quiet rvcmd="cat /sys/class/net/eth0/address"'
	busybox tunctl -d tap0 > /dev/null
	expect_status 0
	in_order "$1" "52:54:00:12:34:56" "RINGVM-STATUS 0"
}

# man: act on how the guest stopped: clean, and (not shown) a panic.
t_man_case() {
	rv "$1" -a 'quiet rvcmd=true'
	got=$(case $rv_status in 0) echo clean;; 5) echo panic;; *) echo other;; esac)
	[ "$got" = clean ] || fail "the case statement says '$got' (status $rv_status), the man page shows clean"
	rv "$1.p" -a "quiet rvtest=panic"
	got=$(case $rv_status in 0) echo clean;; 5) echo panic;; *) echo other;; esac)
	[ "$got" = panic ] || fail "a panicking guest gives '$got' (status $rv_status)"
}

# man: --check refuses a bad spec with exit 2, no KVM needed.
t_man_check() {
	"$RINGVM" --check -k "$KERNEL" -i "$INITRD" -n user,sockets=0 > "$1" 2>&1
	rv_status=$?
	expect_status 2
	in_order "$1" "ringvm: net 'user,sockets=0': sockets '0': expected a number from 1 to 4096"
}
