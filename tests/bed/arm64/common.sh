# common.sh: shared settings of the arm64 guest test bed; sourced by the
# scripts in tests/bed/arm64/. The outer VM is qemu-system-aarch64 (TCG,
# virtualization=on: EL2, so its kernel's built-in KVM gives /dev/kvm);
# ringvm runs in it on an inner arm64 guest. Everything here comes from
# Debian's arm64 packages, extracted under ARM64_ROOT (linux-image-*-arm64
# and busybox-static:arm64).
TOP=${TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
ABUILD=${ABUILD:-$TOP/build/bed/arm64}
ARM64_ROOT=${ARM64_ROOT:-/usr/local/lib/ringvm-bed/arm64}
AKVER=${AKVER:-$(ls "$ARM64_ROOT/lib/modules" 2>/dev/null | sort -V | tail -n 1)}
AKERNEL=$ARM64_ROOT/boot/vmlinuz-$AKVER
AMODDIR=$ARM64_ROOT/lib/modules/$AKVER
ABUSYBOX=$ARM64_ROOT/bin/busybox
# The arm64 ringvm (tests/arm64-build.sh).
ARINGVM=${ARINGVM:-$TOP/build/arm64/ringvm}
ARINGVM_INIT=${ARINGVM_INIT:-$TOP/build/arm64/ringvm-init}

bed_die() { echo "bed64: $*" >&2; exit 1; }

bed_need() {
	for f; do [ -e "$f" ] || bed_die "missing $f"; done
}

# need_depmod: the Debian package has no modules.dep (its postinst runs
# depmod); make the indexes once, as the package's installation would.
need_depmod() {
	[ -s "$AMODDIR/modules.dep" ] || depmod -b "$ARM64_ROOT" "$AKVER" ||
		bed_die "depmod -b $ARM64_ROOT $AKVER failed"
}
