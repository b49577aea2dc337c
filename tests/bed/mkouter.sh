#!/bin/sh
# mkouter.sh: pack the outer VM's initramfs for the nested bed: busybox, the
# KVM modules, ringvm with its shared libraries, the guest kernel and
# initramfs, the bed scripts, and the host tests with their tiny guests and
# script(1). With --qemu, also QEMU (for benchmarks).
# usage: mkouter.sh OUT.cpio.lz4 [--qemu] [EXTRA_FILE...]
set -eu
. "$(dirname "$0")/common.sh"
out=$1
shift
qemu=no
if [ "${1:-}" = --qemu ]; then qemu=yes; shift; fi
bed_need "$BUILD/vmlinuz" "$BUILD/vmlinux" "$BUILD/guest.cpio.gz" "$TOP/ringvm" "$TOP/obj/ringvm-test" \
    "$TOP/ringvm-init" "$BUILD/netflood" \
    "$BUILD/udsio" "$BUILD/tapfd" "$BUILD/memhost" "$BUILD/root.ext4" \
    "$TOP/obj/tiny/tiny.bzImage" "/boot/initrd.img-$KVER"
root=$BUILD/outer-root.$$
rm -rf "$root"
mkdir -p "$root/bin" "$root/lib/modules" "$root/rv/tiny" "$root/bed/cases" "$root/bed/host" \
    "$root/usr/bin"
cp "$BUSYBOX" "$root/bin/busybox"
for m in virt/lib/irqbypass.ko drivers/crypto/ccp/ccp.ko arch/x86/kvm/kvm.ko \
    arch/x86/kvm/kvm-amd.ko arch/x86/kvm/kvm-intel.ko drivers/net/tun.ko; do
	cp "$MODDIR/$m" "$root/lib/modules/"
done
cp "$TOP/tests/bed/outer-init" "$root/init"
chmod 755 "$root/init"
cp "$TOP/tests/bed/caselib.sh" "$TOP/tests/bed/run-cases.sh" "$root/bed/"
cp "$TOP"/tests/bed/cases/*.sh "$root/bed/cases/"
cp "$TOP/ringvm" "$TOP/ringvm-init" "$BUILD/vmlinuz" "$BUILD/vmlinux" "$BUILD/guest.cpio.gz" "$BUILD/guest.stamp" \
    "$BUILD/root.ext4" "$root/rv/"
# The command mode (tests/bed/cases/run.sh) packs the guest kernel's modules
# that ringvm-init loads, from /lib/modules/$KVER as on a Debian host: the
# module files (with what they depend on) and the two indexes ringvm reads.
gmods=$root/lib/modules/$KVER
mkdir -p "$gmods"
cp "/lib/modules/$KVER/modules.dep" "/lib/modules/$KVER/modules.builtin" "$gmods/"
for m in virtio_pci vmw_vsock_virtio_transport virtio_blk virtio_net virtio_rng overlay ext4 \
    squashfs erofs crc32c_generic pvpanic_mmio; do
	modprobe -S "$KVER" --show-depends "$m" 2>/dev/null | sed -n 's/^insmod \([^ ]*\).*/\1/p'
done | sort -u | while read -r f; do
	mkdir -p "$root$(dirname "$f")"
	cp "$f" "$root$f"
done
cp "$BUILD/netflood" "$BUILD/udsio" "$BUILD/tapfd" "$BUILD/memhost" "$root/bed/"
cp "$TOP"/tests/host/*.sh "$root/bed/host/"
cp "$TOP"/obj/tiny/*.bzImage "$root/rv/tiny/"
# The README's and man page's examples (tests/bed/cases/examples.sh), and
# Debian's own initramfs for the bed kernel, linked as a Debian system does.
"$TOP/tests/docex.sh" "$TOP/README.md" "$TOP/man/ringvm.1" > "$root/bed/examples.txt"
cp "/boot/initrd.img-$KVER" "$root/rv/initrd.img"
ln -s rv/vmlinuz "$root/vmlinuz"
ln -s rv/initrd.img "$root/initrd.img"
for f in "$@"; do cp "$f" "$root/bed/"; done

# copy_bin FILE: a program and the shared libraries it links.
copy_bin() {
	cp "$1" "$root$2"
	for lib in $(ldd "$1" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
		mkdir -p "$root$(dirname "$lib")"
		[ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
	done
}
copy_bin "$TOP/ringvm" /rv/ringvm
# The test build with the sandbox's trigger (tests/host/sandbox.sh).
copy_bin "$TOP/obj/ringvm-test" /rv/ringvm-test
# e2fsck checks what the guest left in a disk image (tests/bed/cases/blk.sh).
mkdir -p "$root/sbin"
copy_bin "$(command -v e2fsck || echo /sbin/e2fsck)" /sbin/e2fsck
# script(1) gives the host tests a terminal (tests/host/tiny.sh); setpriv(1)
# runs ringvm as another user (tests/host/badinput.sh).
copy_bin "$(command -v script || echo /usr/bin/script)" /usr/bin/script
copy_bin "$(command -v setpriv || echo /usr/bin/setpriv)" /usr/bin/setpriv
# iproute2's ip for the man page's TAP example (busybox ip has no tuntap),
# and dash to run the examples in: Debian's /bin/sh, and unlike busybox sh
# it runs the ip found on PATH rather than busybox's own applet.
mkdir -p "$root/usr/sbin"
copy_bin "$(command -v ip || echo /sbin/ip)" /usr/sbin/ip
copy_bin "$(command -v dash || echo /bin/dash)" /usr/bin/dash
if [ $qemu = yes ]; then
	copy_bin "$(command -v qemu-system-x86_64)" /usr/bin/qemu-system-x86_64
	# The firmware -M microvm and -M pc load, from QEMU's search path.
	for d in /usr/share/qemu /usr/share/seabios; do
		mkdir -p "$root$d"
		for f in bios-microvm.bin qboot.rom linuxboot_dma.bin kvmvapic.bin pvh.bin bios-256k.bin; do
			if [ -e "$d/$f" ]; then cp -L "$d/$f" "$root$d/"; fi
		done
	done
fi
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | lz4 -l -q -9 > "$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$root"
