#!/bin/sh
# check.sh: everything `make check` runs, in order of cost: unit tests (no
# KVM), header and man page checks, fuzz smoke runs, host tests with the tiny
# guest (on this machine's KVM when it runs them, else in the test bed's
# outer VM), then real Linux guests in the test bed, then the arm64 cross
# build and real arm64 Linux guests in the emulated arm64 bed.
# Every line is "ok - ..." or "not ok - ..."; the last line counts them.
# A missing KVM or bed is a failure, never a skip.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
LOG=build/check.log
mkdir -p build
: > "$LOG"
W=${TMPDIR:-/tmp}/ringvm-check.$$
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT

section() { echo "# $*" | tee -a "$LOG"; }
report() { tee -a "$LOG"; }

section "unit tests"
for t in obj/tests/test_*; do
	[ -x "$t" ] || continue
	"$t" 2>&1 | report
done

section "layering, headers and man page"
make -s layering 2>&1 | report
if make -s headers > "$W/headers" 2>&1; then
	echo "ok - headers are self-contained" | report
else
	echo "not ok - headers are self-contained" | report
	sed 's/^/#   /' "$W/headers" | head -n 10 | report
fi
tests/man-check.sh ./ringvm man/ringvm.1 2>&1 | report

section "fuzz smoke runs"
if [ -x tests/fuzz/smoke.sh ]; then
	tests/fuzz/smoke.sh 2>&1 | report
fi

# host_mode: "direct" when this machine's /dev/kvm runs the tiny guest, else
# "nested: WHY". Machines differ: some have no /dev/kvm at all, some one that
# cannot run a guest (BRIEF.md); there the host tests go to the outer VM.
# RINGVM_HOST_MODE=direct|nested overrides the probe.
host_mode() {
	if [ -n "${RINGVM_HOST_MODE:-}" ]; then
		echo "$RINGVM_HOST_MODE: set by RINGVM_HOST_MODE"
	elif [ ! -e /dev/kvm ]; then
		echo "nested: this machine has no /dev/kvm"
	elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "nested: /dev/kvm is not accessible to $(id -un)"
	elif timeout -s KILL 60 ./ringvm -k obj/tiny/tiny.bzImage -m 32M -a rvt=h \
	    > "$W/probe.out" 2> "$W/probe.err" < /dev/null &&
	    grep -q 'hello from the tiny guest' "$W/probe.out"; then
		echo direct
	else
		echo "nested: the tiny guest does not run on this /dev/kvm ($(head -n 1 "$W/probe.err"))"
	fi
}

section "host tests (tiny guest)"
hmode=$(host_mode)
echo "# host tests: mode $hmode" | report
case $hmode in
direct*)
	tests/host/badinput.sh "$TOP/ringvm" "$TOP/obj/tiny" "$W/badinput" 2>&1 | report
	tests/host/tiny.sh "$TOP/ringvm" "$TOP/obj/tiny" "$W/tiny" 2>&1 | report
	tests/host/sandbox.sh "$TOP/ringvm" "$TOP/obj/tiny" "$W/sandbox" 2>&1 | report
	bed_host=
	;;
*)
	echo "# host tests: they run in the test bed's outer VM, with the guest tests" | report
	bed_host=host
	;;
esac

section "guest tests (real Linux in the bed)"
# The host group first: run.sh deals groups round-robin, and it is the longest.
tests/bed/run.sh $bed_host $(cd tests/bed/cases && ls *.sh | sed 's/\.sh$//') 2>&1 | report

section "arm64: cross build and guest tests (emulated arm64 bed)"
# The arm64 ringvm, cross-built out of tree (build/arm64), then Debian's
# arm64 kernel under it in an outer qemu-system-aarch64 VM whose KVM runs it
# (tests/bed/arm64/run.sh; no arm64 KVM on these machines).
if tests/arm64-build.sh > "$W/arm64-build" 2>&1; then
	report < "$W/arm64-build"
	tests/bed/arm64/run.sh 2>&1 | report
else
	report < "$W/arm64-build"
	echo "not ok - arm64 bed: not run, the arm64 build failed" | report
fi

section "demo"
# The README's demo with a command reports, and exits with, that command's
# own status (the guest's RINGVM-STATUS), not ringvm's.
tests/bed/demo.sh 'exit 3' > "$W/demo" 2>&1
st=$?
if [ "$st" = 3 ] && grep -q '^demo: the command exited with status 3$' "$W/demo"; then
	echo "ok - demo: make demo CMD='exit 3' reports and exits 3" | report
else
	echo "not ok - demo: make demo CMD='exit 3' reports and exits 3 (exit $st)" | report
	tr -d '\r' < "$W/demo" | tail -n 15 | sed 's/^/#   /' | report
fi

pass=$(grep -c '^ok ' "$LOG")
fail=$(grep -c '^not ok ' "$LOG")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
