#!/bin/sh
# check.sh: everything `make check` runs, in order of cost: unit tests (no
# KVM), header and man page checks, fuzz smoke runs, host tests with the tiny
# guest on this machine's KVM, then real Linux guests in the test bed.
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

section "headers and man page"
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

section "host tests (this machine's KVM, tiny guest)"
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	tests/host/badinput.sh "$TOP/ringvm" "$TOP/obj/tiny" "$W/badinput" 2>&1 | report
	tests/host/tiny.sh "$TOP/ringvm" "$TOP/obj/tiny" "$W/tiny" 2>&1 | report
else
	echo "not ok - host tests: /dev/kvm is missing or not accessible" | report
fi

section "guest tests (real Linux in the bed)"
tests/bed/run.sh 2>&1 | report

pass=$(grep -c '^ok ' "$LOG")
fail=$(grep -c '^not ok ' "$LOG")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
