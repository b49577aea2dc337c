#!/bin/sh
# sandbox.sh: ringvm's confinement with the tiny guest (docs/SECURITY.md):
# each thread's forbidden calls end the run with status 159 and one line
# naming the call (obj/ringvm-test, a test build whose RINGVM_TEST_SANDBOX
# makes a thread misbehave); --sandbox off; no_new_privs, the filters on
# every thread, no capabilities, the limits, and no inherited fd kept.
# usage: sandbox.sh RINGVM TINYDIR WORKDIR
set -u
RINGVM=$1
K=$2/tiny.bzImage
W=$3
# The test build sits in obj/ beside a source tree's ringvm, or beside the bed's.
RTEST=$(dirname "$RINGVM")/obj/ringvm-test
[ -x "$RTEST" ] || RTEST=$(dirname "$RINGVM")/ringvm-test
mkdir -p "$W"
cd "$W" || exit 1

result() {	# result NAME WHY(empty = pass) [FILE to show]
	if [ -z "$2" ]; then
		echo "ok - sandbox/$1"
	else
		echo "not ok - sandbox/$1: $2"
		[ -n "${3:-}" ] && tail -n 5 "$3" | sed 's/^/#   /'
	fi
}

[ -x "$RTEST" ] || { result test_build "no ringvm-test beside $RINGVM (make obj/ringvm-test)"; exit 0; }

# Each forbidden call: KIND:CALL, and the name the report gives.
for t in loop:execve:execve loop:fork:fork loop:ptrace:ptrace loop:mmap-exec:mmap \
    loop:socket-packet:socket loop:open-write:openat vcpu:execve:execve \
    vcpu:ioctl-create-vm:ioctl vcpu:socket-packet:socket vcpu:open-write:openat; do
	trig=${t%:*}
	name=${t##*:}
	who=loop
	[ "${trig%%:*}" = vcpu ] && who=vCPU
	RINGVM_TEST_SANDBOX=$trig timeout -s KILL 60 "$RTEST" -k "$K" -m 32M -a rvt=h \
	    > out 2> err < /dev/null
	st=$?
	why=
	[ "$st" = 159 ] || why="status $st, expected 159"
	[ "$(wc -l < err)" = 1 ] || why="${why:-$(wc -l < err) lines on stderr, expected 1}"
	grep -Eq "^ringvm: sandbox: the $who thread made a system call it is not allowed: $name \(" err ||
		why="${why:-no report naming $name}"
	[ ! -e /tmp/ringvm-sandbox-test ] || why="${why:-the forbidden open created its file}"
	rm -f /tmp/ringvm-sandbox-test
	result "forbidden_${trig%%:*}_${trig#*:}_is_159" "$why" err
done

# The same binary without a trigger runs the guest: the filters allow what it does.
timeout -s KILL 60 "$RTEST" -k "$K" -m 32M -a rvt=h > out 2> err < /dev/null
st=$?
why=
[ "$st" = 0 ] || why="status $st, expected 0"
grep -q 'hello from the tiny guest' out || why="${why:-no greeting}"
result test_build_without_trigger_runs "$why" err

# At exit the console waits for a slow reader (up to 2 s) before it gives
# up on the guest's last words; that wait is allowed. The FIFO's pipe is
# full before ringvm starts, and its reader never reads.
rm -f fifo
mkfifo fifo
exec 7<> fifo
head -c 65536 /dev/zero >&7
timeout -s KILL 60 "$RINGVM" -k "$K" -m 32M -a rvt=h > fifo 2> err < /dev/null
st=$?
exec 7<&-
rm -f fifo
why=
[ "$st" = 0 ] || why="status $st, expected 0"
grep -q 'sandbox' err && why="${why:-the sandbox stopped it}"
result exit_flush_to_a_stalled_reader "$why" err

# --sandbox off: no filter, so the trigger has nothing to trip.
RINGVM_TEST_SANDBOX=loop:fork timeout -s KILL 60 "$RTEST" --sandbox off -k "$K" -m 32M -a rvt=h \
    > out 2> err < /dev/null
st=$?
result sandbox_off_loads_no_filter "$([ "$st" = 0 ] || echo "status $st, expected 0")" err
"$RINGVM" --sandbox maybe -k "$K" > out 2> err < /dev/null
st=$?
why=
[ "$st" = 2 ] || why="status $st, expected 2"
grep -q "sandbox 'maybe' is not on or off" err || why="${why:-no message}"
result sandbox_bad_value_is_2 "$why" err

# A running VM, started with fds 7 (a file) and 8 (a pipe) open, its
# output into a pipe: what /proc says about it.
exec 7< /etc/passwd
rm -f fifo
mkfifo fifo
sleep 600 > fifo &
holder=$!
exec 8< fifo
"$RINGVM" -k "$K" -m 32M -a rvt=s < /dev/null 2>&1 | cat > out &
sleep 0.5
pid=$(pgrep -n -f "^$RINGVM -k $K -m 32M -a rvt=s" 2>/dev/null || true)
exec 7<&- 8<&-
kill "$holder" 2>/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -n "$pid" ] && grep -q 'Seccomp:.*2' "/proc/$pid/status" 2>/dev/null && break
	sleep 0.5
	pid=${pid:-$(pgrep -n -f "^$RINGVM -k $K -m 32M -a rvt=s" 2>/dev/null || true)}
done
if [ -z "$pid" ] || [ ! -r "/proc/$pid/status" ]; then
	result proc_checks "ringvm did not stay up" err
else
	st=/proc/$pid/status
	why=
	grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" || why="NoNewPrivs is not 1"
	result no_new_privs "$why"
	why=
	for task in /proc/$pid/task/*; do
		grep -q '^Seccomp:[[:space:]]*2$' "$task/status" ||
			why="${why:-thread ${task##*/} has no seccomp filter}"
	done
	[ "$(ls /proc/$pid/task | wc -l)" -ge 2 ] || why="${why:-fewer than 2 threads}"
	result filter_on_every_thread "$why"
	why=
	grep -q '^CapEff:[[:space:]]*0*$' "$st" || why="CapEff $(sed -n 's/^CapEff:[[:space:]]*//p' "$st")"
	grep -q '^CapPrm:[[:space:]]*0*$' "$st" || why="${why:-CapPrm is not empty}"
	grep -q '^CapBnd:[[:space:]]*0*$' "$st" || why="${why:-CapBnd is not empty}"
	result no_capabilities "$why"
	why=
	core=$(awk '/^Max core file size/ { print $5 }' "/proc/$pid/limits")
	nofile=$(awk '/^Max open files/ { print $4 }' "/proc/$pid/limits")
	fsize=$(awk '/^Max file size/ { print $4 }' "/proc/$pid/limits")
	[ "$core" = 0 ] || why="core limit $core"
	[ "$nofile" -lt 64 ] 2> /dev/null || why="${why:-open files limit $nofile, expected a few dozen}"
	[ "$fsize" = 0 ] || why="${why:-file size limit $fsize, expected 0 (no disk, output into a pipe)}"
	result limits_lowered "$why"
	why=
	for fd in /proc/$pid/fd/*; do
		case $(readlink "$fd") in
		/etc/passwd|*fifo*) why="inherited fd ${fd##*/} still open: $(readlink "$fd")" ;;
		esac
	done
	[ -e "/proc/$pid/fd/7" ] && [ "$(readlink "/proc/$pid/fd/7")" = /etc/passwd ] &&
		why="fd 7 kept"
	result inherited_fds_closed "$why"
	kill -TERM "$pid"
fi
wait
rm -f fifo
