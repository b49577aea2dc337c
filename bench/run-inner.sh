#!/bin/sh
# run-inner.sh: the command-mode benchmark's runs, on a machine with KVM (the
# outer VM in nested mode). Interleaved round by round so drift in the
# machine's speed hits every variant alike. Prints "RESULT name run ms=N".
#   ringvm-cmd     ringvm -k K -- true: start to exit, agent and all
#   ringvm-init    ringvm -k K -i guest initramfs whose /init runs `true`
#                  and powers off: the same kernel booted to an init
#   qemu-microvm   QEMU -M microvm doing that job as simply as it can
#   parallel-N     N ringvm -- true at once: wall time for all
# Environment: RINGVM KERNEL INITRD QEMU RUNS
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=${RUNS:-5}
append="quiet rvcmd=true"
full="console=ttyS0 sysctl.kernel.panic=-1 $append"

now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

timed() {	# timed NAME COMMAND...: one run, its wall time
	name=$1
	shift
	t0=$(now_ms)
	timeout -s KILL 120 "$@" > /dev/null 2>&1 < /dev/null
	st=$?
	echo "RESULT $name $i ms=$(($(now_ms) - t0)) status=$st"
}

parallel() {	# parallel N: N command-mode runs at once
	t0=$(now_ms)
	n=0
	pids=
	while [ "$n" -lt "$1" ]; do
		"$RINGVM" -k "$KERNEL" -m 128M -- true > /dev/null 2>&1 < /dev/null &
		pids="$pids $!"
		n=$((n + 1))
	done
	wait $pids
	echo "RESULT parallel-$1 $i ms=$(($(now_ms) - t0)) status=0"
}

i=1
while [ "$i" -le "$RUNS" ]; do
	timed ringvm-cmd "$RINGVM" -k "$KERNEL" -- true
	timed ringvm-init "$RINGVM" -k "$KERNEL" -i "$INITRD" -a "$append"
	timed qemu-microvm "$QEMU" -M microvm -enable-kvm -cpu host -m 256 -smp 1 \
	    -nodefaults -no-user-config -display none -serial stdio -no-reboot \
	    -kernel "$KERNEL" -initrd "$INITRD" -append "$full"
	i=$((i + 1))
done
i=1
while [ "$i" -le 2 ]; do
	parallel 2
	parallel 8
	i=$((i + 1))
done
