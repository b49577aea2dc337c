#!/bin/sh
# run-cases.sh: run bed case groups. Each group is tests/bed/cases/GROUP.sh;
# each function in it named t_* is one case. Prints one TAP-style line per
# case ("ok - group/case" or "not ok - group/case: reason", then the output
# tail) and needs RINGVM, KERNEL, INITRD, STAMP in the environment. The group
# "host" runs the host tests (tests/host/, in HOSTTESTS) with the tiny guests
# in TINY; they print their own lines.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/caselib.sh"
WORK=${WORK:-/tmp/rvbed}
mkdir -p "$WORK"
# A heartbeat on the console while cases run: the bed's watchdog kills an
# outer VM after 120 s of silence (a wedged outer kernel), and a slow case
# on a loaded machine (the UART flood, a boot) must not look like one.
# Each case has its own timeout; the lines are not case results.
# Only in the outer VM (RVBED_OUTER, set by outer-init): direct runs have no watchdog.
# It ends when this shell does. Not through an EXIT trap: busybox sh runs
# that trap when a case's ( ... ) subshell exits too, which killed the
# heartbeat in the middle of the run.
# mark LINE: a marker for run.sh, which reads the outer VM's console to
# resume the cases of a wedged outer VM (only there: direct runs need none).
mark() { [ -z "${RVBED_OUTER:-}" ] || echo "$*"; }
if [ -n "${RVBED_OUTER:-}" ]; then
	main=$$
	(while sleep 30 && kill -0 "$main" 2>/dev/null; do
		echo "BED-ALIVE $(cut -d' ' -f1 /proc/uptime)"
	done) &
fi
for group; do
	# GROUP:REGEX runs only the cases of GROUP whose names match REGEX;
	# GROUP+CASE runs GROUP from CASE on (run.sh resumes a wedged outer VM so).
	only= from=
	case $group in
	*:*) only=${group#*:}; group=${group%%:*} ;;
	*+*) from=${group#*+}; group=${group%%+*} ;;
	esac
	# Markers for run.sh: which group and case were running if the outer VM wedges.
	mark "BED-GROUP $group"
	if [ "$group" = host ]; then
		"${HOSTTESTS:-$here/host}/badinput.sh" "$RINGVM" "${TINY:-/rv/tiny}" "$WORK/badinput"
		"${HOSTTESTS:-$here/host}/tiny.sh" "$RINGVM" "${TINY:-/rv/tiny}" "$WORK/tiny"
		"${HOSTTESTS:-$here/host}/sandbox.sh" "$RINGVM" "${TINY:-/rv/tiny}" "$WORK/sandbox"
		mark "BED-GROUP-DONE $group"
		continue
	fi
	[ -f "$here/cases/$group.sh" ] || { echo "not ok - $group: no such case group"; continue; }
	. "$here/cases/$group.sh"
	for t in $(sed -n 's/^\(t_[a-z0-9_]*\)().*/\1/p' "$here/cases/$group.sh"); do
		[ -z "$only" ] || echo "${t#t_}" | grep -Eq -- "$only" || continue
		[ -z "$from" ] || [ "${t#t_}" = "$from" ] || continue
		from=
		mark "BED-CASE $group+${t#t_}"
		case_fail=
		out=$WORK/$group.$t.out
		: > "$out"
		start=$(cut -d' ' -f1 /proc/uptime)
		$t "$out"
		end=$(cut -d' ' -f1 /proc/uptime)
		took=$(awk "BEGIN { printf \"%.1f\", $end - $start }")
		if [ -z "$case_fail" ]; then
			echo "ok - $group/${t#t_} (${took}s)"
		else
			echo "not ok - $group/${t#t_}: $case_fail (${took}s)"
			tail -n 15 "$out" | sed 's/^/#   /'
		fi
	done
	mark "BED-GROUP-DONE $group"
done
