#!/bin/sh
# tiny.sh: ringvm with the tiny test guest (tests/tiny/tiny.S) on this
# host's KVM: exit statuses, host signals, a terminal session with the
# escape key, and the hostile-UART rows of HOSTILE.md (U1-U3).
# usage: tiny.sh RINGVM TINYDIR WORKDIR
set -u
RINGVM=$1
K=$2/tiny.bzImage
W=$3
mkdir -p "$W"
cd "$W" || exit 1

result() {	# result NAME WHY(empty = pass) [FILE to show]
	if [ -z "$2" ]; then
		echo "ok - tiny/$1"
	else
		echo "not ok - tiny/$1: $2"
		[ -n "${3:-}" ] && tail -n 5 "$3" | sed 's/^/#   /'
	fi
}

run() {	# run MODE: ringvm -> out/err, status in $st
	timeout -s KILL 60 "$RINGVM" -k "$K" -m 32M -a "rvt=$1" > out 2> err < /dev/null
	st=$?
}

run h
why=
[ "$st" = 0 ] || why="status $st, expected 0"
grep -q 'hello from the tiny guest' out || why="${why:-no greeting on stdout}"
result poweroff_status_0 "$why" err

for m in "r 4 reboot_acpi_status_4" "k 4 reboot_i8042_status_4" "p 5 pvpanic_status_5"; do
	set -- $m
	run "$1"
	why=
	[ "$st" = "$2" ] || why="status $st, expected $2"
	result "$3" "$why" err
done

# Host signals: orderly exit with 128 + signal, terminal untouched, output kept.
for s in "TERM 15" "INT 2" "HUP 1"; do
	set -- $s
	sig=$1
	"$RINGVM" -k "$K" -m 32M -a rvt=s > out 2> err < /dev/null &
	pid=$!
	sleep 1
	kill -"$sig" "$pid"
	wait "$pid"
	st=$?
	want=$((128 + $2))
	why=
	[ "$st" = "$want" ] || why="status $st after SIG$sig, expected $want"
	result "sig${sig}_status_$want" "$why" err
done

# U1: the guest floods the UART (128 KiB, never looking at LSR) into a pipe
# whose reader stalls. ringvm must not block or grow: it drops what the
# bounded ring cannot hold, counts it, and still powers off with status 0.
# The reader does not start until ringvm has said on stderr that it drops
# (so the drop is caused, not hoped for, however slow the machine), then
# reads at full speed; the guest's final line, written with LSR polling,
# waits for room meanwhile and must arrive.
rm -f err st.f
{ timeout -s KILL 400 "$RINGVM" -k "$K" -m 32M -a rvt=f 2> err < /dev/null; echo $? > st.f; } | (
	n=0
	until grep -q 'dropping guest output' err 2> /dev/null || [ $n -ge 300 ]; do
		sleep 1
		n=$((n + 1))
	done
	cat > out)
st=$(cat st.f 2> /dev/null)
xs=$(tr -cd x < out | wc -c)
why=
[ "$st" = 0 ] || why="status $st"
[ -z "$why" ] && ! grep -q 'dropping guest output' err && why="ringvm never said it drops"
[ -z "$why" ] && [ "$xs" -ge 131072 ] && why="all $xs bytes arrived: nothing was dropped, so nothing was bounded"
[ -z "$why" ] && [ "$xs" -lt 16384 ] && why="only $xs bytes arrived"
[ -z "$why" ] && ! grep -q 'output bytes dropped' err && why="no drop count on stderr"
[ -z "$why" ] && ! grep -q '^done' out && why="the guest's final line (written with LSR polling) was lost"
result uart_flood_slow_reader "$why" err

# S6: the console reads and writes without blocking through descriptions of
# its own: stdout and stderr share one (2>&1) and stdin comes from a pipe
# whose description the writer shares, and none of them may turn
# non-blocking, or log lines written to stderr during a console flood are
# lost (and the user's shell would inherit O_NONBLOCK).
rm -f fifo infifo && mkfifo fifo infifo
cat fifo > out &
catpid=$!
exec 4<> infifo	# a writer that stays, so stdin never ends
"$RINGVM" -k "$K" -m 32M -a rvt=s < infifo > fifo 2>&1 &
pid=$!
n=0
while [ $n -lt 300 ]; do	# until the console owns descriptions of its own (3 + 2)
	[ "$(ls -l /proc/$pid/fd 2>/dev/null | grep -c fifo)" -ge 5 ] && break
	sleep 0.1 2>/dev/null || sleep 1
	n=$((n + 1))
done
why=
for fd in 0 1 2; do
	f=$(sed -n 's/^flags:[[:space:]]*//p' /proc/$pid/fdinfo/$fd 2>/dev/null)
	[ -n "$f" ] || { why="cannot read the flags of fd $fd"; break; }
	[ $((0$f & 04000)) = 0 ] || { why="fd $fd was made non-blocking (flags $f)"; break; }
done
[ -z "$why" ] && [ "$(ls -l /proc/$pid/fd 2>/dev/null | grep -c fifo)" -lt 5 ] &&
    why="the console did not open its FIFOs again"
kill -TERM "$pid"
wait "$pid" 2>/dev/null
kill "$catpid" 2>/dev/null
exec 4>&-
result console_leaves_shared_fds_blocking "$why"

# U2: the host floods stdin while the guest does not read: ringvm reads only
# what the UART can take, so the writer blocks instead of ringvm buffering.
(trap '' PIPE; dd if=/dev/zero bs=1024 count=65536 2> dd.err) | "$RINGVM" -k "$K" -m 32M -a rvt=s > out 2> err &
pid=$!	# the last process of the pipeline: ringvm
sleep 2
kill -TERM "$pid"
wait
recs=$(sed -n 's/^\([0-9]*\)+[0-9]* records out/\1/p' dd.err)
why=
[ -n "$recs" ] || why="dd did not report"
[ -z "$why" ] && [ "$recs" -gt 256 ] && why="$recs KiB of stdin consumed by a guest that reads nothing"
result stdin_flood_not_buffered "$why" dd.err

# Input reaches a listening guest intact, through a pipe: 4 KiB, 16 times
# what ringvm holds for the guest, so flow control must work. (Each byte
# costs the polling guest several port exits: about 5 s here for 20 KB on a
# kvm_pvm host, ten times that in the outer VM.)
(head -c 4096 /dev/zero | tr '\0' z; echo q) |
    timeout -s KILL 300 "$RINGVM" -k "$K" -m 32M -a rvt=e > out 2> err
st=$?
as=$(tr -cd z < out | wc -c)
why=
[ "$st" = 0 ] || why="status $st"
[ -z "$why" ] && [ "$as" != 4096 ] && why="$as of 4096 bytes echoed"
result stdin_pipe_echo "$why" err

# U3: hostile UART register writes (divisor 0, DLAB toggles, IER ping-pong).
run u
why=
[ "$st" = 0 ] || why="status $st"
grep -q '^alive' out || why="${why:-guest did not survive its own UART abuse}"
result uart_hostile_registers "$why" err

# A terminal session: raw mode while running, Ctrl-A x quits with 130, and
# the terminal settings are exactly restored afterwards.
if command -v script > /dev/null; then
	rm -f st before after
	# Ctrl-A x once a second until ringvm has gone, however slowly it starts.
	(i=0; while [ $i -lt 60 ]; do sleep 1; printf '\001x'; i=$((i + 1)); done) 2> /dev/null |
	    timeout -s KILL 90 script -qfec "stty -g > before; $RINGVM -k $K -m 32M -a rvt=s; echo \$? > st; stty -g > after" /dev/null > /dev/null 2>&1
	why=
	[ "$(cat st 2>/dev/null)" = 130 ] || why="status '$(cat st 2>/dev/null)' after Ctrl-A x, expected 130"
	[ -z "$why" ] && ! cmp -s before after && why="terminal settings changed: $(cat before) -> $(cat after)"
	result tty_escape_and_restore "$why"
else
	result tty_escape_and_restore "script(1) is missing: install bsdutils"
fi
