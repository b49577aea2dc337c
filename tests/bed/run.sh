#!/bin/sh
# run.sh: run bed case groups with a real Linux guest and print one TAP-style
# line per case. Picks the mode by itself: "direct" where the CPU flags show
# vmx or svm (ringvm runs on this host), "nested" elsewhere (ringvm runs in an
# outer QEMU VM with nested SVM, see BRIEF.md). Groups are split over at most
# RV_BED_JOBS outer VMs (default: one per core, at most 2) that run side by
# side. The group "host" is the host tests with the tiny guest
# (tests/host/), for machines whose own /dev/kvm cannot run them.
# usage: run.sh GROUP...
set -u
. "$(dirname "$0")/common.sh"
mode=$(bed_mode)
echo "# bed: mode $mode (kernel $KVER)"
[ $# -gt 0 ] || set -- $(cd "$TOP/tests/bed/cases" && ls *.sh | sed 's/\.sh$//')

if [ "$mode" = direct ]; then
	[ -w /dev/kvm ] || { echo "not ok - bed: /dev/kvm is not usable"; exit 1; }
	"$TOP/tests/docex.sh" "$TOP/README.md" "$TOP/man/ringvm.1" > "$BUILD/examples.txt"
	RINGVM=$TOP/ringvm KERNEL=$BUILD/vmlinuz INITRD=$BUILD/guest.cpio.gz \
	    STAMP=$(cat "$BUILD/guest.stamp") WORK=$BUILD/work NETFLOOD=$BUILD/netflood \
	    UDSIO=$BUILD/udsio ROOTIMG=$BUILD/root.ext4 \
	    TINY=$TOP/obj/tiny HOSTTESTS=$TOP/tests/host EXAMPLES=$BUILD/examples.txt \
	    "$TOP/tests/bed/run-cases.sh" "$@"
	exit 0
fi

bed_need "$KERNEL_SRC" "$(command -v qemu-system-x86_64 || echo qemu-system-x86_64)" "$BUILD/watchdog"
outer=$BUILD/outer.cpio.lz4
"$TOP/tests/bed/mkouter.sh" "$outer" || { echo "not ok - bed: cannot build the outer VM"; exit 1; }
cores=$(nproc 2>/dev/null || echo 1)
jobs=${RV_BED_JOBS:-$((cores < 2 ? cores : 2))}

# outer_run LOG GROUPS(comma-separated): one outer VM; prints its case lines.
outer_run() {
	"$BUILD/watchdog" 120 2400 qemu-system-x86_64 -M q35 -accel tcg,thread=multi \
	    -smp "${RV_BED_SMP:-1}" -cpu EPYC,+svm,+npt -m 2048 -nodefaults -no-user-config \
	    -nographic -serial stdio -no-reboot -kernel "$KERNEL_SRC" -initrd "$outer" \
	    -append "console=ttyS0 quiet panic=-1 tsc=reliable softlockup_panic=1 rvbed.cases=$2" \
	    > "$1" 2>&1
	st=$?
	grep -E '^(ok|not ok) - |^#   ' "$1" | tr -d '\r'
	if ! grep -q '^BED-OUTER-DONE' "$1"; then
		echo "not ok - bed: outer VM for '$2' did not finish (status $st); log tail:"
		tail -n 25 "$1" | tr -d '\r' | sed 's/^/#   /'
	fi
}

# Deal the groups round-robin to the outer VMs.
i=0
for g; do
	eval "set_$((i % jobs))=\"\${set_$((i % jobs)):-}\${set_$((i % jobs)):+,}$g\""
	i=$((i + 1))
done
pids=
for j in $(seq 0 $((jobs - 1))); do
	eval "groups=\${set_$j:-}"
	[ -n "$groups" ] || continue
	outer_run "$BUILD/outer-$j.log" "$groups" > "$BUILD/outer-$j.result" &
	pids="$pids $!"
done
wait $pids
for j in $(seq 0 $((jobs - 1))); do
	[ -f "$BUILD/outer-$j.result" ] && cat "$BUILD/outer-$j.result" && rm -f "$BUILD/outer-$j.result"
done
