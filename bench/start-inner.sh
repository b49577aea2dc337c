#!/bin/sh
# start-inner.sh: the start benchmark's runs, on a machine whose KVM runs both
# ringvm and QEMU (the outer VM in nested mode). For ringvm, QEMU -M microvm
# and QEMU -M pc, each booting the tiny guest with 64 MiB and 1 vCPU:
#   cpu:   RUNS starts of a guest that powers off at once (tiny mode o), each
#          under startcpu: the process's CPU time (exec to exit), wall, peak RSS
#   rate:  STARTS such VMs one after another, and in 2 and 4 parallel lanes:
#          VMs started (and finished) per second of wall time
#   idle:  a guest that prints "idle" and halts (tiny mode i): the VMM
#          process's RSS and PSS (smaps_rollup) one second after "idle"
# Prints "RESULT vmm cpu|rate|idle key=value...".
# Environment: RINGVM TINY_IMAGE STARTCPU QEMU RUNS STARTS
RINGVM=${RINGVM:-/rv/ringvm}
TINY_IMAGE=${TINY_IMAGE:-/rv/tiny/tiny.bzImage}
STARTCPU=${STARTCPU:-/bed/startcpu}
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=${RUNS:-5}
STARTS=${STARTS:-4}

# vm NAME MODE: the command line that boots the tiny guest's MODE under NAME.
vm() {
	case $1 in
	ringvm) echo "$RINGVM -k $TINY_IMAGE -m 64M -a rvt=$2" ;;
	ringvm-base) echo "/bed/ringvm-base -k $TINY_IMAGE -m 64M -a rvt=$2" ;;
	qemu-*) echo "$QEMU -M ${1#qemu-} -enable-kvm -cpu host -m 64 -smp 1 -nodefaults" \
	    "-no-user-config -display none -serial stdio -no-reboot" \
	    "-device isa-debug-exit,iobase=0xf4 -kernel $TINY_IMAGE -append rvt=$2" ;;
	esac
}

# "lanes P K CMD...": K runs of CMD in P parallel lanes (called through startcpu).
if [ "${1:-}" = lanes ]; then
	p=$2 k=$3
	shift 3
	j=0
	while [ "$j" -lt "$p" ]; do
		(n=0; while [ "$n" -lt $((k / p)) ]; do "$@" > /dev/null 2>&1 < /dev/null; n=$((n + 1)); done) &
		j=$((j + 1))
	done
	wait
	exit 0
fi

VMMS="ringvm qemu-microvm qemu-pc"
# A second build to compare with (bench/start: RINGVM_BASE=...).
[ -x /bed/ringvm-base ] && VMMS="ringvm ringvm-base qemu-microvm qemu-pc"
i=1
while [ "$i" -le "$RUNS" ]; do
	for v in $VMMS; do
		# shellcheck disable=SC2046 # the command line is split on purpose
		echo "RESULT $v cpu $("$STARTCPU" $(vm "$v" o))"
	done
	i=$((i + 1))
done
for p in 1 2 4; do
	for v in ringvm qemu-microvm; do
		# shellcheck disable=SC2046
		echo "RESULT $v rate lanes=$p starts=$STARTS $("$STARTCPU" "$0" lanes "$p" "$STARTS" $(vm "$v" o))"
	done
done
for v in $VMMS; do
	# shellcheck disable=SC2046
	$(vm "$v" i) > /tmp/idle.out 2>&1 < /dev/null &
	pid=$!
	n=0
	while ! grep -q idle /tmp/idle.out 2> /dev/null && kill -0 "$pid" 2> /dev/null &&
	    [ "$n" -lt 600 ]; do
		sleep 0.2
		n=$((n + 1))
	done
	sleep 1
	if kill -0 "$pid" 2> /dev/null; then
		echo "RESULT $v idle $(awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 }
		    END { printf "rss_kib=%d pss_kib=%d", r, p }' "/proc/$pid/smaps_rollup")"
		kill "$pid"
	else
		tail -n 3 /tmp/idle.out | sed "s/^/# $v idle: /"
	fi
	wait "$pid" 2> /dev/null
done
