#!/bin/sh
# boot-inner.sh: the boot benchmark's runs, on a machine with KVM (the outer
# VM in nested mode). Interleaves the VMMs round by round so that drift in
# the machine's speed hits them alike. Prints "RESULT vmm run key=value...".
# Environment: RINGVM KERNEL INITRD BOOTTIME QEMU RUNS MEM_MB, and VMLINUX
# (the ELF kernel inside KERNEL, booted through its PVH entry) for the
# "-elf" rows when it is there. Rows: ringvm-bz (the bzImage, --kcache off:
# the guest unpacks it), ringvm-cache (the bzImage through the kernel cache,
# a hit; ringvm-cache-miss is the first, once), ringvm-elf (-k vmlinux), and
# QEMU -M microvm and -M pc with each kernel form.
BOOTTIME=${BOOTTIME:-/bed/boottime}
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=${RUNS:-5}
MEM_MB=${MEM_MB:-256}
mem=$((MEM_MB * 1024 * 1024))
append="quiet rvcmd=true"
full="console=ttyS0 sysctl.kernel.panic=-1 $append"	# what ringvm passes: its defaults + -a

run() {	# run NAME COMMAND...
	name=$1
	shift
	echo "RESULT $name $i $("$BOOTTIME" RINGVM-INIT RINGVM-STATUS "$mem" "$@")"
}

qemu_common="-enable-kvm -cpu host -m $MEM_MB -smp 1 -nodefaults -no-user-config -display none -serial stdio -no-reboot"

# The kernel cache's first run in this machine is a miss (ringvm unpacks
# the bzImage on the host): timed once, as its own row, in a fresh cache.
export XDG_CACHE_HOME=${WORK:-/tmp}/bench-kcache
rm -rf "$XDG_CACHE_HOME"
i=1
run ringvm-cache-miss "$RINGVM" -k "$KERNEL" -i "$INITRD" -m "${MEM_MB}M" -a "$append"
while [ "$i" -le "$RUNS" ]; do
	# The bzImage as the guest unpacks it, and through the cache (a hit).
	run ringvm-bz "$RINGVM" --kcache off -k "$KERNEL" -i "$INITRD" -m "${MEM_MB}M" -a "$append"
	run ringvm-cache "$RINGVM" -k "$KERNEL" -i "$INITRD" -m "${MEM_MB}M" -a "$append"
	# shellcheck disable=SC2086 # qemu_common is a list of arguments
	run qemu-microvm "$QEMU" -M microvm $qemu_common \
	    -kernel "$KERNEL" -initrd "$INITRD" -append "$full"
	# shellcheck disable=SC2086
	run qemu-pc "$QEMU" -M pc $qemu_common \
	    -kernel "$KERNEL" -initrd "$INITRD" -append "$full"
	if [ -n "${VMLINUX:-}" ] && [ -f "$VMLINUX" ]; then
		run ringvm-elf "$RINGVM" -k "$VMLINUX" -i "$INITRD" -m "${MEM_MB}M" -a "$append"
		# shellcheck disable=SC2086
		run qemu-microvm-elf "$QEMU" -M microvm $qemu_common \
		    -kernel "$VMLINUX" -initrd "$INITRD" -append "$full"
		# shellcheck disable=SC2086
		run qemu-pc-elf "$QEMU" -M pc $qemu_common \
		    -kernel "$VMLINUX" -initrd "$INITRD" -append "$full"
	fi
	i=$((i + 1))
done
