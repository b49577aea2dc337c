#!/bin/sh
# boot-inner.sh: the boot benchmark's runs, on a machine with KVM (the outer
# VM in nested mode). Interleaves the VMMs round by round so that drift in
# the machine's speed hits them alike. Prints "RESULT vmm run key=value...".
# Environment: RINGVM KERNEL INITRD BOOTTIME QEMU RUNS MEM_MB, and VMLINUX
# (the ELF kernel inside KERNEL, booted through its PVH entry) for the
# "-elf" rows when it is there.
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

i=1
while [ "$i" -le "$RUNS" ]; do
	run ringvm "$RINGVM" -k "$KERNEL" -i "$INITRD" -m "${MEM_MB}M" -a "$append"
	run qemu-microvm "$QEMU" -M microvm -enable-kvm -cpu host -m "$MEM_MB" -smp 1 \
	    -nodefaults -no-user-config -display none -serial stdio -no-reboot \
	    -kernel "$KERNEL" -initrd "$INITRD" -append "$full"
	if [ -n "${VMLINUX:-}" ] && [ -f "$VMLINUX" ]; then
		run ringvm-elf "$RINGVM" -k "$VMLINUX" -i "$INITRD" -m "${MEM_MB}M" -a "$append"
		run qemu-microvm-elf "$QEMU" -M microvm -enable-kvm -cpu host -m "$MEM_MB" -smp 1 \
		    -nodefaults -no-user-config -display none -serial stdio -no-reboot \
		    -kernel "$VMLINUX" -initrd "$INITRD" -append "$full"
	fi
	run qemu-pc "$QEMU" -M pc -enable-kvm -cpu host -m "$MEM_MB" -smp 1 \
	    -nodefaults -no-user-config -display none -serial stdio -no-reboot \
	    -kernel "$KERNEL" -initrd "$INITRD" -append "$full"
	i=$((i + 1))
done
