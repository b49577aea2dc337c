#!/bin/sh
# demo.sh: boot Debian's kernel in ringvm and run a command in it, with
# ringvm's command mode (`ringvm -k KERNEL -- COMMAND`): the guest agent
# ringvm-init runs it, its output is ringvm's, and the demo exits with the
# command's own status. Without a command, an interactive shell (`exit`
# leaves it). Runs ringvm directly where the CPU has vmx/svm, else inside
# the nested outer VM, as the tests do.
# usage: demo.sh [COMMAND...]   (or CMD='command' in the environment, from make demo)
set -eu
. "$(dirname "$0")/common.sh"
cmd="${*:-${CMD:-}}"
mode=$(bed_mode)
echo "demo: $mode mode; guest kernel $KVER; ${cmd:+command: $cmd}${cmd:-an interactive shell: exit leaves it}" >&2

# report STATUS: say what the command's status was, and exit with it.
report() {
	echo "demo: the command exited with status $1" >&2
	exit "$1"
}

if [ "$mode" = direct ]; then
	if [ -z "$cmd" ]; then
		exec "$TOP/ringvm" -k "$BUILD/vmlinuz" -c 2 -m 512M -- /bin/sh
	fi
	st=0
	"$TOP/ringvm" -k "$BUILD/vmlinuz" -c 2 -m 512M -- sh -c "$cmd" < /dev/null || st=$?
	report "$st"
fi

# Nested: an outer QEMU VM runs ringvm on its console, which is this terminal.
log=$BUILD/demo.log
inner=$BUILD/demo-inner.sh
if [ -n "$cmd" ]; then
	cat > "$inner" <<INNER
#!/bin/sh
/rv/ringvm -k /rv/vmlinuz -c 2 -m 512M -- sh -c '$(printf '%s' "$cmd" | sed "s/'/'\\\\''/g")' < /dev/null
echo "RINGVM-EXIT \$?"
INNER
else
	printf '#!/bin/sh\n/rv/ringvm -k /rv/vmlinuz -c 2 -m 512M -- /bin/sh\n' > "$inner"
fi
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
st=$(tr -d '\r' < "$log" | sed -n 's/^RINGVM-EXIT \([0-9]*\)$/\1/p' | tail -n 1)
[ -n "$st" ] || { echo "demo: the run's status did not arrive" >&2; exit 1; }
report "$st"
