#!/bin/sh
# run.sh: the arm64 guest test bed. Runs the arm64 case groups
# (tests/bed/arm64/cases/GROUP.sh) in one outer qemu-system-aarch64 VM (TCG,
# virtualization=on, so its kernel has KVM) where the arm64 ringvm boots
# Debian's arm64 kernel as its guest. Prints one TAP-style line per case,
# "ok - arm64/GROUP/CASE" or "not ok - arm64/GROUP/CASE: why" with the output
# tail, and "not ok - arm64 bed: ..." when the bed itself fails (no outer
# VM, no /dev/kvm in it: a failure, never a skip).
# The pseudo group "gicv2" runs a few of them again in a second outer VM
# whose GIC is a GICv2, for ringvm's GICv2 fallback (no ITS: INTx).
# usage: run.sh [GROUP[:REGEX]...]   (default: every group, then gicv2)
# BED64_MACHINE (-M of the outer VM) and BED64_TOTAL (its time limit, s) test the bed itself.
# RV_BED64_DUMP=1: the outer VM's log (build/bed/arm64/outer-NAME.log) also gets
# every case's whole output, between BED-DUMP-BEGIN/END lines.
# RV_BED64_ARGS="--sandbox off" (a diagnostic): options before every ringvm
# run's own (no commas in them).
set -u
. "$(dirname "$0")/common.sh"
here=$TOP/tests/bed/arm64
[ $# -gt 0 ] || set -- $(cd "$here/cases" && ls *.sh | sed 's/\.sh$//' | grep -v '^gic2$') gicv2
echo "# bed64: arm64 guest kernel ${AKVER:-none}, ringvm $ARINGVM"
fail_bed() { echo "not ok - arm64 bed: $*"; exit 1; }
command -v qemu-system-aarch64 > /dev/null || fail_bed "no qemu-system-aarch64 (qemu-system-arm)"
[ -e "$AKERNEL" ] && [ -e "$ABUSYBOX" ] ||
	fail_bed "no arm64 kernel or busybox under $ARM64_ROOT (linux-image-arm64:arm64, busybox-static:arm64)"
[ -e "$ARINGVM" ] || echo "# bed64: $ARINGVM is missing (tests/arm64-build.sh): every case will fail"
mkdir -p "$ABUILD"
# The watchdog of the x86 bed (the Makefile's rule, the same command).
wd=$TOP/build/bed/watchdog
if [ ! -x "$wd" ] || [ "$TOP/tests/bed/watchdog.c" -nt "$wd" ]; then
	mkdir -p "$(dirname "$wd")"
	${CC:-cc} -O2 -Wall -Wextra -Werror -o "$wd.$$" "$TOP/tests/bed/watchdog.c" && mv "$wd.$$" "$wd" ||
		fail_bed "cannot build $wd"
fi
# The inner initramfs when its inputs changed.
g=$ABUILD/guest.cpio.gz
if [ ! -e "$g" ] || [ -n "$(find "$here/mkguest.sh" "$here/common.sh" "$TOP/tests/bed/guestroot.sh" "$TOP/tests/guest" -newer "$g" 2>/dev/null | head -n 1)" ]; then
	"$here/mkguest.sh" > "$ABUILD/mkguest.log" 2>&1 ||
		{ tail -n 5 "$ABUILD/mkguest.log" | sed 's/^/#   /'; fail_bed "cannot build the inner initramfs"; }
fi
outer=$ABUILD/outer.cpio.lz4
"$here/mkouter.sh" "$outer" > "$ABUILD/mkouter.log" 2>&1 ||
	{ tail -n 5 "$ABUILD/mkouter.log" | sed 's/^/#   /'; fail_bed "cannot build the outer initramfs"; }
# outer_run MACHINE NAME GROUP...: one outer VM of machine MACHINE (-M)
# running the groups; prints their case lines as NAME/GROUP/CASE. Returns 1
# when the bed itself failed.
outer_run() {
	machine=$1 name=$2
	shift 2
	groups=$(echo "$@" | tr ' ' ,)
	log=$ABUILD/outer-$name.log
	# One outer VM at -smp 1 (the x86 bed runs beside it in make check). The
	# watchdog kills it after 120 s of silence (run-cases.sh prints a heartbeat
	# every 30 s) or 330 s in all: the whole arm64 run stays under 6 minutes.
	start=$(date +%s)
	"$wd" 120 "${BED64_TOTAL:-330}" qemu-system-aarch64 -M "$machine" \
	    -cpu max,pauth-impdef=on -smp 1 -m 2048 -nodefaults -no-user-config \
	    -nographic -serial stdio -no-reboot -kernel "$AKERNEL" -initrd "$outer" \
	    -append "console=ttyAMA0 rdinit=/init panic=-1 quiet rvbed.cases=$groups${RV_BED64_DUMP:+ rvbed.dump}${RV_BED64_ARGS:+ rvbed.rvargs=$(echo $RV_BED64_ARGS | tr ' ' ,)}" > "$log" 2>&1 < /dev/null
	st=$?
	tr -d '\r' < "$log" > "$log.lf"
	grep -E '^(ok|not ok) - |^#   |^# bed64: ' "$log.lf" | sed -E "s,^(ok|not ok) - ,\\1 - $name/,"
	up=$(sed -n 's/^BED-OUTER-UP //p' "$log.lf")
	echo "# bed64: $name: outer VM ($machine) up at ${up:-?} s (guest uptime), whole run $(($(date +%s) - start)) s"
	if grep -q '^BED-ERROR' "$log.lf"; then
		echo "not ok - arm64 bed: $name: $(sed -n 's/^BED-ERROR //p' "$log.lf" | head -n 1)"
		tail -n 25 "$log.lf" | sed 's/^/#   /'
		return 1
	fi
	if ! grep -q '^BED-OUTER-DONE' "$log.lf"; then
		where=$(sed -n 's/^BED-\(CASE\|GROUP\) //p' "$log.lf" | tail -n 1)
		why=$(grep '^watchdog:' "$log.lf" | tail -n 1)
		echo "not ok - arm64 bed: $name: the outer VM did not finish (status $st${why:+: $why}) during '${where:-its boot}'; log $log, tail:"
		tail -n 25 "$log.lf" | sed 's/^/#   /'
		return 1
	fi
	return 0
}

# The group "gicv2" is a second outer VM whose GIC is a GICv2 (QEMU's with
# the virtualization extensions), so that its KVM has no vGICv3 and ringvm
# falls back to a vGICv2, without an ITS: PCI interrupts then are INTx.
v3=
v2=no
for g; do
	case $g in
	gicv2) v2=yes ;;
	*) v3="$v3 $g" ;;
	esac
done
bad=0
if [ -n "$v3" ]; then
	outer_run "${BED64_MACHINE:-virt,virtualization=on,gic-version=3}" arm64 $v3 || bad=1
fi
if [ $v2 = yes ]; then
	outer_run virt,virtualization=on,gic-version=2 arm64-gicv2 \
	    'boot:^(one_cpu|two_cpus|panic)$' 'blk:^read$' 'net:' gic2 || bad=1
fi
exit $bad
