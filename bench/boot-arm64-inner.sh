#!/bin/sh
# boot-arm64-inner.sh: the arm64 boot benchmark's runs, inside the outer
# arm64 VM (its kernel has KVM). Interleaves ringvm and QEMU -M virt -accel
# kvm round by round (rotating the order) so that drift in the machine's
# speed hits all alike. Rows: ringvm; qemu-virt (-cpu host, as asked: its
# guest gets pointer authentication, as ringvm's does, and SVE and a PMU,
# which ringvm's vCPU does not offer); qemu-virt-samecpu
# (-cpu host,sve=off,pmu=off: the vCPU features of ringvm's guest), when
# that QEMU accepts it.
# Prints "RESULT vmm run key=value..." (boottime's line), "EXEC"/"BARE"
# lines (start-up costs) and "# ..." notes.
# Environment: RINGVM KERNEL INITRD BOOTTIME QEMU RUNS MEM_MB VCPUS.
BOOTTIME=${BOOTTIME:-/bench/boottime}
RINGVM=${RINGVM:-/rv/ringvm}
KERNEL=${KERNEL:-/rv/Image}
INITRD=${INITRD:-/rv/guest.cpio.gz}
QEMU=${QEMU:-/usr/bin/qemu-system-aarch64}
RUNS=${RUNS:-7}
MEM_MB=${MEM_MB:-256}
VCPUS=${VCPUS:-1}
mem=$((MEM_MB * 1024 * 1024))
append="quiet rvcmd=true"
# What ringvm's arm64 boot puts before -a (src/arch/arm64/boot.c), with the
# console on QEMU virt's PL011 instead of ringvm's ns16550a.
full="console=ttyAMA0 sysctl.kernel.panic=-1 reboot=panic_warm $append"
samecpu="host,sve=off,pmu=off"

# boot VMM KERNEL EXTRA [WRAPPER...]: run VMM (a row's name) on KERNEL and
# the initrd, EXTRA after the shared command line text, under WRAPPER (the
# timer) when given: the VMM is WRAPPER's child itself, no shell between.
boot() {
	bv=$1 bk=$2 bx=$3
	shift 3
	case $bv in
	ringvm) "$@" "$RINGVM" -k "$bk" -i "$INITRD" -m "${MEM_MB}M" -c "$VCPUS" -a "$append${bx:+ $bx}" ;;
	qemu-virt*)
		cpu=host
		[ "$bv" = qemu-virt-samecpu ] && cpu=$samecpu
		"$@" "$QEMU" -M virt,gic-version=3 -accel kvm -cpu "$cpu" -m "$MEM_MB" -smp "$VCPUS" -nodefaults \
		    -no-user-config -nographic -serial stdio -no-reboot \
		    -kernel "$bk" -initrd "$INITRD" -append "$full${bx:+ $bx}" ;;
	esac
}

echo "# qemu: $("$QEMU" --version | head -n 1)"
echo "# kvm: $(ls -l /dev/kvm)"
vmms="ringvm qemu-virt"
# A QEMU that does not take the vCPU options stops before it reads -kernel.
why=$(boot qemu-virt-samecpu /nonexistent "" 2>&1 < /dev/null | grep -v ': warning: ' | head -n 1)
if ! echo "$why" | grep -q nonexistent; then
	echo "# qemu-virt-samecpu: left out, this QEMU does not take -cpu $samecpu: $why"
else
	vmms="$vmms qemu-virt-samecpu"
fi

# A look at each machine once, outside the timed runs: what each guest sees
# (its command line, devices, memory, CPU features; that QEMU's is on KVM),
# how much of its RAM is in huge pages (the outer VM's THP), its exits to
# init (KVM's statistics in debugfs).
probe="rvcmd=\"sleep 2; cat /proc/cmdline; ls /sys/bus/amba/devices /sys/bus/pci/devices /sys/bus/platform/devices; grep MemTotal /proc/meminfo; \
dmesg | grep -i -E 'smccc|GICv3: [0-9]+ SPIs|authentication|Scalable Vector|perfevents|\\] pci |ttyS0|ttyAMA0'\""
for v in $vmms; do
	boot "$v" "$KERNEL" "$probe" exec < /dev/null > /tmp/probe.out 2>&1 &
	vpid=$!
	n=0
	# Read at init, while the guest sleeps before it prints what it sees.
	while ! grep -q 'RINGVM-INIT' /tmp/probe.out && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
	echo "# thp $v: $(awk -v min="$mem" '
	    /^Size:/ { big = $2 * 1024 >= min }
	    big && /^Rss:/ { rss += $2 } big && /^AnonHugePages:/ { huge += $2 }
	    END { printf "guest RAM resident %d KiB, of it in huge pages %d KiB", rss, huge }' "/proc/$vpid/smaps" 2>&1)"
	for d in /sys/kernel/debug/kvm/"$vpid"-*; do
		[ -e "$d/exits" ] || continue
		st=
		for k in exits mmio_exit_user mmio_exit_kernel hvc_exit_stat wfe_exit_stat wfi_exit_stat signal_exits; do
			[ -e "$d/$k" ] && st="$st $k=$(cat "$d/$k")"
		done
		echo "# exits $v (to init):$st"
	done
	wait $vpid
	tr -d '\r' < /tmp/probe.out | sed "s/^/# $v-probe: /" | head -n 200
done

# The cost of starting each program at all (exec, dynamic linking: under
# the outer VM's TCG that is not small): --version, timed the same way.
for i in 1 2 3; do
	echo "EXEC ringvm $i $("$BOOTTIME" RINGVM-NONE RINGVM-NONE 1 "$RINGVM" --version | head -n 1)"
	echo "EXEC qemu-virt $i $("$BOOTTIME" RINGVM-NONE RINGVM-NONE 1 "$QEMU" --version | head -n 1)"
done
# The VMM's fixed cost: the same files, but a kernel that powers off at its
# first instruction (bench/boot-arm64-null.S, padded to the real Image's size).
if [ -e "$KERNEL.null" ]; then
	for i in 1 2 3; do
		for v in $vmms; do
			echo "BARE $v $i $(boot "$v" "$KERNEL.null" "" "$BOOTTIME" RINGVM-NONE RINGVM-NONE 1 | head -n 1)"
		done
	done
fi

i=1
while [ "$i" -le "$RUNS" ]; do
	# Rotate the order each round, so that none always follows another.
	order=$vmms
	r=1
	while [ $r -lt "$i" ]; do order="${order#* } ${order%% *}"; r=$((r + 1)); done
	for v in $order; do
		echo "RESULT $v $i $(boot "$v" "$KERNEL" "" "$BOOTTIME" RINGVM-INIT RINGVM-STATUS "$mem" | head -n 2 | tr '\n' ' ')"
	done
	i=$((i + 1))
done
