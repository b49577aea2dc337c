# vsock.sh: virtio-vsock streams through ringvm's AF_UNIX convention
# (--vsock path=SOCK) between a host program (tests/bed/udsio.c) and a
# guest program (tests/guest/vsockio.c, in the test initramfs), 64 MiB each
# way with a slow reader at the far end: the bytes arrive whole, and
# ringvm's memory stays flat while the reader sleeps, because the device
# holds at most its credit (256 KiB) per connection and reads the host
# socket only into guest buffers (docs/VSOCK.md).

VS_BYTES=67108864	# 64 MiB
VS_STALL=8		# seconds the reader sleeps before reading

# rss_watch PIDFILE OUT: sample the memory of the ringvm under PIDFILE's
# timeout every half second into OUT (KiB, one line each) until it exits:
# its own, without the guest's RAM (own_rss), which the guest may touch as
# it likes (up to -m) while the data flows.
rss_watch() {
	_t=$(cat "$1")
	_p=
	while kill -0 "$_t" 2>/dev/null; do
		# busybox timeout execs the program itself; GNU timeout forks it.
		if [ -z "$_p" ]; then
			if grep -q '^ringvm$' "/proc/$_t/comm" 2>/dev/null; then
				_p=$_t
			else
				_p=$(pgrep -P "$_t" | head -n 1)
			fi
		fi
		[ -n "$_p" ] && own_rss "$_p" >> "$2"
		sleep 0.5
	done
}

# rss_flat OUT: the samples (all taken after the boot, once the connection
# is up) grew by less than 32 MiB.
rss_flat() {
	_n=$(wc -l < "$1")
	[ "$_n" -ge 6 ] || { fail "only $_n RSS samples"; return; }
	_grow=$(sort -n "$1" | sed -n '1p;$p' | tr '\n' ' ' | awk '{ print $2 - $1 }')
	[ "$_grow" -lt 32768 ] ||
		fail "ringvm grew by $_grow KiB while $((VS_BYTES >> 20)) MiB waited for a slow reader"
	echo "#   ringvm RSS over the transfer: $(sort -n "$1" | sed -n '1p;$p' | tr '\n' ' ')KiB"
}

# vs_run OUT ARG...: ringvm in command mode with the test initramfs as root,
# in the background; its timeout's pid in OUT.pid.
vs_run() {
	_o=$1
	shift
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -i "$INITRD" "$@" > "$_o" \
	    2> "$_o.err" < /dev/null &
	echo $! > "$_o.pid"
}

# vs_finish OUT: sample ringvm's memory until it exits (the host program's
# pid in $hpid), then both ends moved all of VS_BYTES, the same bytes (their
# sums agree), and the memory stayed flat.
vs_finish() {
	rss_watch "$1.pid" "$1.rss"
	wait "$(cat "$1.pid")"
	st=$?
	wait "$hpid"
	[ "$st" = 0 ] || fail "ringvm exited $st: $(head -c 300 "$1.err")"
	guest=$(sed -n 's/^vsockio \([0-9]\)/\1/p' "$1")
	host=$(sed -n 's/^udsio \([0-9]\)/\1/p' "$1.host")
	[ -n "$guest" ] && [ "$guest" = "$host" ] && [ "${guest%% *}" = "$VS_BYTES" ] ||
		fail "the guest's end says '$guest', the host's '$host'"
	rss_flat "$1.rss"
}

t_guest_to_host_slow_reader() {
	sock=$WORK/gh.sock
	rm -f "$sock" "${sock}_5000"
	"$UDSIO" listen "${sock}_5000" "$VS_STALL" > "$1.host" &
	hpid=$!
	vs_run "$1" --vsock "path=$sock" -- vsockio send 5000 "$VS_BYTES"
	# Sample from the connection on: the boot before it touches guest memory.
	wait_line "$1.host" '^udsio accepted' 120 || return
	vs_finish "$1"
}

t_host_to_guest_slow_reader() {
	sock=$WORK/hg.sock
	rm -f "$sock"
	vs_run "$1" --vsock "path=$sock" -- vsockio recv 6000 "$VS_STALL"
	wait_line "$1" '^vsockio listening' 120 || return
	"$UDSIO" connect "$sock" 6000 "$VS_BYTES" > "$1.host" &
	hpid=$!
	vs_finish "$1"
}
