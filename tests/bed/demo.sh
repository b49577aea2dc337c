#!/bin/sh
# demo.sh: boot Debian's kernel with the test initramfs in ringvm, to a shell
# (no arguments) or to a command (arguments), and power off after it. Runs
# ringvm directly where the CPU has vmx/svm, else inside the nested outer
# VM, as the tests do. Ctrl-A x quits. With a command, the demo exits with
# the command's own status, which the guest's init prints as RINGVM-STATUS
# (ringvm's status says how the guest stopped: 0 when it powered off).
# The command travels on the guest's kernel command line: no double quotes,
# and it must fit there (at most 1900 bytes, refused beyond). `make demo`
# prints that status too, but make itself exits 2 whenever the demo fails.
# usage: demo.sh [COMMAND...]   (or CMD='command' in the environment, from make demo)
set -eu
. "$(dirname "$0")/common.sh"
cmd="${*:-${CMD:-}}"
case $cmd in *\"*) bed_die "the demo command may not contain double quotes" ;; esac
[ ${#cmd} -le 1900 ] || bed_die "the demo command is ${#cmd} bytes; the kernel command line holds 1900"
mode=$(bed_mode)
if [ -n "$cmd" ]; then append="quiet rvcmd=\"$cmd\""; else append="quiet"; fi
echo "demo: $mode mode; guest kernel $KVER; ${cmd:+command: $cmd; }Ctrl-A x quits" >&2
log=$BUILD/demo.log

# report: the command's status from the guest's RINGVM-STATUS line, as ours.
report() {
	st=$(tr -d '\r' < "$log" | sed -n 's/^RINGVM-STATUS \([0-9]*\)$/\1/p' | tail -n 1)
	if [ -z "$st" ]; then
		echo "demo: the command's status did not arrive (ringvm: $1)" >&2
		exit 1
	fi
	echo "demo: the command exited with status $st (ringvm: $1)" >&2
	exit "$st"
}

if [ "$mode" = direct ]; then
	if [ -z "$cmd" ]; then
		exec "$TOP/ringvm" -k "$BUILD/vmlinuz" -i "$BUILD/guest.cpio.gz" -c 2 -m 512M -a "$append"
	fi
	{ "$TOP/ringvm" -k "$BUILD/vmlinuz" -i "$BUILD/guest.cpio.gz" -c 2 -m 512M -a "$append" \
	    < /dev/null; echo "RINGVM-EXIT $?"; } | tee "$log"
	report "$(sed -n 's/^RINGVM-EXIT //p' "$log")"
fi

# Nested: an outer QEMU VM runs ringvm on its console, which is this terminal.
inner=$BUILD/demo-inner.sh
cat > "$inner" <<INNER
#!/bin/sh
/rv/ringvm -k /rv/vmlinuz -i /rv/guest.cpio.gz -c 2 -m 512M -a '$(printf '%s' "$append" | sed "s/'/'\\\\''/g")'
echo "RINGVM-EXIT \$?"
INNER
chmod +x "$inner"
"$TOP/tests/bed/mkouter.sh" "$BUILD/demo.cpio.lz4" "$inner"
echo "demo: starting the outer VM (about 5 s), then the guest (about 8 s)..." >&2
outer() {
	qemu-system-x86_64 -M q35 -accel tcg,thread=multi -smp 1 -cpu EPYC,+svm,+npt \
	    -m 2048 -nodefaults -no-user-config -display none -serial stdio -no-reboot \
	    -kernel "$KERNEL_SRC" -initrd "$BUILD/demo.cpio.lz4" \
	    -append "console=ttyS0 quiet loglevel=0 panic=-1 tsc=reliable softlockup_panic=1 rvbed.cmd=demo-inner.sh" 2>/dev/null
}
if [ -z "$cmd" ]; then
	outer
	exit $?
fi
outer < /dev/null | tee "$log"
report "$(tr -d '\r' < "$log" | sed -n 's/^RINGVM-EXIT //p' | tail -n 1)"
