# common.sh: shared settings of the guest test bed; sourced by the bed scripts.
# BUILD is where everything built for the bed is cached (outside git).
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build/bed}
KVER=${KVER:-$(ls /lib/modules 2>/dev/null | sort -V | tail -n 1)}
KERNEL_SRC=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER/kernel
BUSYBOX=/bin/busybox

bed_die() { echo "bed: $*" >&2; exit 1; }

# bed_mode: "direct" when this CPU can run KVM guests itself, else "nested".
bed_mode() {
	if [ -n "${RINGVM_BED_MODE:-}" ]; then
		echo "$RINGVM_BED_MODE"
	elif grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo direct
	else
		echo nested
	fi
}

bed_need() {
	for f; do [ -e "$f" ] || bed_die "missing $f: run scripts/install-deps.sh as root"; done
}
