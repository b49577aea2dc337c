#!/bin/sh
# smoke.sh: a short run of every fuzz target `make fuzz` built, each over a
# copy of its committed corpus (tests/fuzz/corpus/NAME; the copy keeps the
# committed one unchanged). One line per target:
#   ok - fuzz NAME: N execs, no crash
#   not ok - fuzz NAME: <what happened>
# Every executable in obj/fuzz runs. Run from anywhere; tests/check.sh runs
# it from the repository top.
# FUZZ_RUNS (default 20000), FUZZ_SECONDS (default 90: the most a target
# runs) and FUZZ_SEED (default 1) change the run.
# A crashing input is kept in build/fuzz/ with the command that replays it.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
RUNS=${FUZZ_RUNS:-20000}
SEED=${FUZZ_SEED:-1}
# This file's targets must be there; any other target in obj/fuzz runs too.
TARGETS="fuzz_split fuzz_packed fuzz_vblk fuzz_vpci fuzz_serial fuzz_bzimage fuzz_pvh fuzz_kimage fuzz_vnet fuzz_slirp fuzz_kmod fuzz_agent fuzz_vsock fuzz_arm64_image"

fuzz_cc=$(sed -n 's/^FUZZ_CC *= *//p' Makefile 2>/dev/null)
if [ -z "$fuzz_cc" ] || [ ! -d obj/fuzz ]; then
	echo "not ok - fuzz: clang with libFuzzer missing (install clang libclang-rt-dev)"
	exit 1
fi

for f in obj/fuzz/*; do
	n=${f##*/}
	[ -f "$f" ] && [ -x "$f" ] || continue
	case " $TARGETS " in *" $n "*) ;; *) TARGETS="$TARGETS $n" ;; esac
done

# Leaks inside libslirp are not ours to fix here (tests/fuzz/lsan.supp).
LSAN_OPTIONS=suppressions=$TOP/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
export LSAN_OPTIONS
W=$(mktemp -d "${TMPDIR:-/tmp}/ringvm-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
status=0
for name in $TARGETS; do
	bin=$TOP/obj/fuzz/$name
	if [ ! -x "$bin" ]; then
		echo "not ok - fuzz $name: obj/fuzz/$name was not built (make fuzz)"
		status=1
		continue
	fi
	mkdir -p "$W/$name/corpus"
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp "tests/fuzz/corpus/$name"/* "$W/$name/corpus/" 2>/dev/null
	fi
	# Each target runs in its own directory so stray files stay in $W.
	# FUZZ_RUNS inputs, or FUZZ_SECONDS (default 90) of them on a loaded
	# machine, whichever comes first: a slow machine runs fewer inputs, it
	# does not fail. -timeout catches one input that hangs; the outer
	# timeout only a fuzzer that is stuck outside an input.
	(cd "$W/$name" && exec timeout 300 "$bin" -runs="$RUNS" -seed="$SEED" -max_len=4096 \
	    -max_total_time="${FUZZ_SECONDS:-90}" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$W/$name/" corpus) > "$W/$name/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$W/$name/log" | tail -n 1)
	execs=${execs:-0}
	crash=$(ls "$W/$name" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | head -n 1)
	if [ "$rc" -eq 0 ] && [ -z "$crash" ] && ! grep -q 'runtime error:' "$W/$name/log"; then
		echo "ok - fuzz $name: $execs execs, no crash"
		continue
	fi
	status=1
	if [ "$rc" -eq 124 ]; then
		echo "not ok - fuzz $name: still running after 300 s ($execs execs)"
	else
		echo "not ok - fuzz $name: failed after $execs execs (exit $rc)"
	fi
	# The reason: our invariant line, or the sanitizer's summary.
	grep -E 'invariant broken|runtime error:|^SUMMARY:|ERROR: (AddressSanitizer|libFuzzer)' "$W/$name/log" |
	    head -n 3 | sed 's/^/#   /'
	if [ -n "$crash" ]; then
		mkdir -p build/fuzz
		cp "$W/$name/$crash" "build/fuzz/$name-$crash"
		echo "#   input kept: build/fuzz/$name-$crash; replay: obj/fuzz/$name build/fuzz/$name-$crash"
	fi
done
exit $status
