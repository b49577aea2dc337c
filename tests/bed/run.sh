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
	RINGVM=$TOP/ringvm KERNEL=$BUILD/vmlinuz VMLINUX=$BUILD/vmlinux INITRD=$BUILD/guest.cpio.gz \
	    STAMP=$(cat "$BUILD/guest.stamp") WORK=$BUILD/work NETFLOOD=$BUILD/netflood \
	    UDSIO=$BUILD/udsio TAPFD=$BUILD/tapfd MEMHOST=$BUILD/memhost ROOTIMG=$BUILD/root.ext4 \
	    TINY=$TOP/obj/tiny HOSTTESTS=$TOP/tests/host EXAMPLES=$BUILD/examples.txt \
	    "$TOP/tests/bed/run-cases.sh" "$@"
	exit 0
fi

bed_need "$KERNEL_SRC" "$(command -v qemu-system-x86_64 || echo qemu-system-x86_64)" "$BUILD/watchdog"
outer=$BUILD/outer.cpio.lz4
"$TOP/tests/bed/mkouter.sh" "$outer" || { echo "not ok - bed: cannot build the outer VM"; exit 1; }
cores=$(nproc 2>/dev/null || echo 1)
jobs=${RV_BED_JOBS:-$((cores < 2 ? cores : 2))}

# outer_run LOG GROUPS(comma-separated) [RETRY]: one outer VM; prints its
# case lines. The emulated bed can wedge whatever runs in it (BRIEF.md: the
# outer kernel stops, heartbeat and all, under nested SVM in TCG; seen at
# -smp 1 too): the watchdog then kills it after 120 s of silence. The cases
# it did not finish run once more in a fresh outer VM, from the case that was
# running, and the wedge is reported as a comment naming that case; a second
# wedge is a failure with the log tail. ringvm is a process in the outer VM:
# it cannot stop the outer kernel's clock, so a wedge is the bed's, not a
# case's (a case that hangs ringvm fails on its own timeout, with the
# heartbeat still going).
outer_run() {
	"$BUILD/watchdog" 120 2400 qemu-system-x86_64 -M q35 -accel tcg,thread=multi \
	    -smp "${RV_BED_SMP:-1}" -cpu EPYC,+svm,+npt -m 2048 -nodefaults -no-user-config \
	    -nographic -serial stdio -no-reboot -kernel "$KERNEL_SRC" -initrd "$outer" \
	    -append "console=ttyS0 quiet panic=-1 tsc=reliable softlockup_panic=1 rvbed.cases=$2" \
	    > "$1" 2>&1
	st=$?
	tr -d '\r' < "$1" > "$1.lf"
	if grep -q '^BED-OUTER-DONE' "$1.lf"; then
		grep -E '^(ok|not ok) - |^#   ' "$1.lf"
		return
	fi
	# The groups not finished: the one running (from its running case;
	# the host group, whose cases are not t_ functions, from its start),
	# and those not started. Lines of finished cases are kept.
	rest=$(awk -v groups="$2" '
		/^BED-GROUP-DONE / { done[$2] = 1 }
		/^BED-CASE / { cur = $2 }
		END {
			n = split(groups, g, ",")
			for (i = 1; i <= n; i++) {
				name = g[i]; sub(/[+:].*/, "", name)
				if (done[name]) continue
				spec = g[i]
				if (cur != "" && index(cur, name "+") == 1) spec = cur
				out = out (out == "" ? "" : ",") spec
			}
			print out
		}' "$1.lf")
	running=$(sed -n 's/^BED-CASE //p' "$1.lf" | tail -n 1)
	where=$(sed -n 's/^BED-\(CASE\|GROUP\) //p' "$1.lf" | tail -n 1)
	if [ -z "${3:-}" ] && [ -n "$rest" ]; then
		# Kept: finished cases' lines, but not the running case's (it
		# runs again) nor an unfinished host group's.
		hostdone=$(grep -c '^BED-GROUP-DONE host$' "$1.lf")
		awk -v run="$(echo "$running" | tr + /)" -v hostdone="$hostdone" '
		    /^BED-GROUP host$/ { host = !hostdone } /^BED-GROUP-DONE host$/ { host = 0 }
		    /^(ok|not ok) - / { again = run != "" && (index($0, "ok - " run " ") || index($0, "ok - " run ":")) }
		    !host && !again && /^(ok|not ok) - |^#   /' "$1.lf"
		why=$(grep '^watchdog:' "$1.lf" | tail -n 1)
		echo "# bed: the outer VM stopped during '${where:-its boot}' (status $st${why:+: $why});"
		echo "# bed: running '$rest' again in a fresh outer VM; the wedged VM's log: $1"
		outer_run "$1.retry" "$rest" retry
		return
	fi
	grep -E '^(ok|not ok) - |^#   ' "$1.lf"
	echo "not ok - bed: outer VM for '$2' did not finish (status $st) during '${where:-its boot}'; log tail:"
	tail -n 25 "$1.lf" | sed 's/^/#   /'
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
