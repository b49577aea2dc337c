#!/bin/sh
# exits-inner.sh: the exit benchmark's runs, on a machine whose KVM runs both
# ringvm and QEMU (the outer VM in nested mode). Round by round: the bare
# KVM_RUN floor (bareexit), ringvm (and with --sandbox off), QEMU -M microvm and -M pc, each booting
# the tiny guest's mode b (2000 port writes to COM1's scratch register, 2000
# MMIO writes to an unassigned address, then as many reads of each, timed
# with rdtsc inside the guest; bareexit does writes only).
# Prints "RESULT vmm run n=N pio=C mmio=C pio_in=C mmio_rd=C" (C: cycles for
# N exits, -1 when not measured) and "TSC_PER_US X".
# Environment: RINGVM TINY_IMAGE BAREEXIT QEMU RUNS
RINGVM=${RINGVM:-/rv/ringvm}
TINY_IMAGE=${TINY_IMAGE:-/rv/tiny/tiny.bzImage}
BAREEXIT=${BAREEXIT:-/bed/bareexit}
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=${RUNS:-3}
N=2000

# result NAME: turn the guest's "RVB pio N C" / "RVB mmio N C" lines into one RESULT line;
# a run without them shows its output's tail.
result() {
	tr -d '\r' > /tmp/run.out
	grep -q '^RVB mmio' /tmp/run.out || tail -n 5 /tmp/run.out | sed "s/^/# $1: /"
	awk -v name="$1" -v run="$i" '
	$1 == "RVB" { v[$2] = $4; n = $3 }
	END {
		printf "RESULT %s %d n=%s", name, run, n
		split("pio mmio pio_in mmio_rd", k, " ")
		for (j = 1; j <= 4; j++) printf " %s=%s", k[j], v[k[j]] ? v[k[j]] : -1
		printf "\n"
	}' /tmp/run.out
}

qemu() {	# qemu MACHINE
	timeout 120 "$QEMU" -M "$1" -enable-kvm -cpu host -m 64 -smp 1 -nodefaults -no-user-config \
	    -display none -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4 \
	    -kernel "$TINY_IMAGE" -append rvt=b < /dev/null 2>&1
}

i=1
while [ "$i" -le "$RUNS" ]; do
	"$BAREEXIT" "$N" > /tmp/bare.out 2>&1
	grep TSC_PER_US /tmp/bare.out
	result bare < /tmp/bare.out
	timeout 120 "$RINGVM" -k "$TINY_IMAGE" -m 64M -a rvt=b < /dev/null 2>&1 | result ringvm
	# A second build to compare with (bench/exits: RINGVM_BASE=...), same guest, same run.
	if [ -x /bed/ringvm-base ]; then
		timeout 120 /bed/ringvm-base -k "$TINY_IMAGE" -m 64M -a rvt=b < /dev/null 2>&1 |
		    result ringvm-base
	fi
	# The seccomp filters' share: every system call of the hand-off runs them.
	timeout 120 "$RINGVM" --sandbox off -k "$TINY_IMAGE" -m 64M -a rvt=b < /dev/null 2>&1 |
	    result ringvm-nosandbox
	qemu microvm | result qemu-microvm
	qemu pc | result qemu-pc
	i=$((i + 1))
done
