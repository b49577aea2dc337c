#!/bin/sh
# boot-arm64-inner.sh: the arm64 boot benchmark's runs, inside the outer
# arm64 VM (its kernel has KVM). Interleaves ringvm and QEMU -M virt -accel
# kvm round by round so that drift in the machine's speed hits both alike.
# Prints "RESULT vmm run key=value..." (boottime's line), "# ..." notes.
# Environment: RINGVM KERNEL INITRD BOOTTIME QEMU RUNS MEM_MB.
BOOTTIME=${BOOTTIME:-/bench/boottime}
RINGVM=${RINGVM:-/rv/ringvm}
KERNEL=${KERNEL:-/rv/Image}
INITRD=${INITRD:-/rv/guest.cpio.gz}
QEMU=${QEMU:-/usr/bin/qemu-system-aarch64}
RUNS=${RUNS:-7}
MEM_MB=${MEM_MB:-256}
mem=$((MEM_MB * 1024 * 1024))
append="quiet rvcmd=true"
# What ringvm's arm64 boot puts before -a (src/arch/arm64/boot.c), with the
# console on QEMU virt's PL011 instead of ringvm's ns16550a.
full="console=ttyAMA0 sysctl.kernel.panic=-1 reboot=panic_warm $append"

run() {	# run NAME COMMAND...
	name=$1
	shift
	echo "RESULT $name $i $("$BOOTTIME" RINGVM-INIT RINGVM-STATUS "$mem" "$@")"
}

qemu_args="-M virt,gic-version=3 -accel kvm -cpu host -m $MEM_MB -smp 1 -nodefaults \
-no-user-config -nographic -serial stdio -no-reboot"

# A look at each machine once, outside the timed runs: QEMU really on KVM,
# and what each guest sees (its command line, devices, memory).
echo "# qemu: $("$QEMU" --version | head -n 1)"
echo "# kvm: $(ls -l /dev/kvm)"
probe="rvcmd=\"cat /proc/cmdline; ls /sys/bus/amba/devices /sys/bus/pci/devices /sys/bus/platform/devices; grep MemTotal /proc/meminfo; dmesg\""
i=0
# shellcheck disable=SC2086 # qemu_args is a list of arguments
"$QEMU" $qemu_args -kernel "$KERNEL" -initrd "$INITRD" \
    -append "$full $probe" \
    < /dev/null 2>&1 | tr -d '\r' | sed 's/^/# qemu-probe: /' | head -n 600
"$RINGVM" -k "$KERNEL" -i "$INITRD" -m "${MEM_MB}M" -c 1 \
    -a "$append $probe" \
    < /dev/null 2>&1 | tr -d '\r' | sed 's/^/# ringvm-probe: /' | head -n 600

# Is each VMM's guest RAM backed by huge pages (in the outer VM: THP)? The
# guest sleeps at init while its VMM's mappings of at least the guest's
# size are read: resident and AnonHugePages KiB.
thp_probe() {	# thp_probe NAME COMMAND...
	name=$1
	shift
	"$@" > /tmp/thp.out 2>&1 < /dev/null &
	pid=$!
	n=0
	while ! grep -q RINGVM-INIT /tmp/thp.out && [ $n -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
	echo "# thp $name: $(awk -v min="$mem" '
	    /^Size:/ { big = $2 * 1024 >= min }
	    big && /^Rss:/ { rss += $2 } big && /^AnonHugePages:/ { huge += $2 }
	    END { printf "guest RAM resident %d KiB, of it in huge pages %d KiB", rss, huge }' "/proc/$pid/smaps" 2>&1)"
	# The VM's exits up to its init, from KVM's statistics in debugfs.
	for d in /sys/kernel/debug/kvm/"$pid"-*; do
		[ -e "$d/exits" ] || continue
		st=
		for k in exits mmio_exit_user mmio_exit_kernel hvc_exit_stat wfe_exit_stat wfi_exit_stat irq_exits signal_exits; do
			[ -e "$d/$k" ] && st="$st $k=$(cat "$d/$k")"
		done
		echo "# exits $name (to init):$st"
	done
	wait $pid
}
thp_probe ringvm "$RINGVM" -k "$KERNEL" -i "$INITRD" -m "${MEM_MB}M" -c 1 -a "$append rvcmd=\"sleep 2\""
# shellcheck disable=SC2086
thp_probe qemu-virt "$QEMU" $qemu_args -kernel "$KERNEL" -initrd "$INITRD" -append "$full rvcmd=\"sleep 2\""

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
		echo "BARE ringvm $i $("$BOOTTIME" RINGVM-NONE RINGVM-NONE 1 "$RINGVM" -k "$KERNEL.null" -i "$INITRD" -m "${MEM_MB}M" -c 1 -a "$append" | head -n 1)"
		# shellcheck disable=SC2086
		echo "BARE qemu-virt $i $("$BOOTTIME" RINGVM-NONE RINGVM-NONE 1 "$QEMU" $qemu_args -kernel "$KERNEL.null" -initrd "$INITRD" -append "$full" | head -n 1)"
	done
fi

i=1
while [ "$i" -le "$RUNS" ]; do
	# Alternate which one goes first, so neither always follows the other.
	if [ $((i % 2)) = 1 ]; then
		run ringvm "$RINGVM" -k "$KERNEL" -i "$INITRD" -m "${MEM_MB}M" -c 1 -a "$append"
		# shellcheck disable=SC2086
		run qemu-virt "$QEMU" $qemu_args -kernel "$KERNEL" -initrd "$INITRD" -append "$full"
	else
		# shellcheck disable=SC2086
		run qemu-virt "$QEMU" $qemu_args -kernel "$KERNEL" -initrd "$INITRD" -append "$full"
		run ringvm "$RINGVM" -k "$KERNEL" -i "$INITRD" -m "${MEM_MB}M" -c 1 -a "$append"
	fi
	i=$((i + 1))
done
