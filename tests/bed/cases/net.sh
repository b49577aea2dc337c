# net.sh: virtio-net with a real Linux guest: a DHCP lease from slirp, a file
# fetched from an HTTP server on the host side through 10.0.2.2, a host client
# reaching a guest service through a port forward, restricted mode refusing
# outbound connections, a TAP link with a checksummed transfer (attached by
# name, and through a descriptor a parent passed), and the MAC option. The
# host side is busybox (httpd, nc, tunctl, ip) and iproute2's ip.

# www: a 300 KB file of random bytes under $WORK/www; prints its md5.
www() {
	mkdir -p "$WORK/www"
	head -c 300000 /dev/urandom > "$WORK/www/data"
	md5sum < "$WORK/www/data" | cut -d' ' -f1
}

# httpd ADDR:PORT: serve $WORK/www in the background; $httpd_pid is its pid.
httpd() {
	busybox httpd -f -p "$1" -h "$WORK/www" &
	httpd_pid=$!
}

t_dhcp() {
	rv "$1" -n user -a "quiet rvtest=net rv.net=dhcp"
	expect_status 0
	expect_line "$1" '^RINGVM-MAC 52:54:00:12:34:56$'
	expect_line "$1" '^RINGVM-LEASE ip=10.0.2.15 router=10.0.2.2 dns=10.0.2.3$'
}

t_fetch_from_host() {
	sum=$(www)
	httpd 127.0.0.1:18080
	rv "$1" -n user -a "quiet rvtest=net rv.net=fetch rv.url=http://10.0.2.2:18080/data"
	kill "$httpd_pid" 2>/dev/null
	expect_status 0
	expect_line "$1" "^RINGVM-FETCH ok md5=$sum bytes=300000\$"
}

t_fetch_split_ring() {
	sum=$(www)
	httpd 127.0.0.1:18080
	rv "$1" -n user,ring=split -a "quiet rvtest=net rv.net=fetch rv.url=http://10.0.2.2:18080/data"
	kill "$httpd_pid" 2>/dev/null
	expect_status 0
	expect_line "$1" "^RINGVM-FETCH ok md5=$sum bytes=300000\$"
}

t_port_forward() {
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -i "$INITRD" \
	    -n user,hostfwd=tcp:127.0.0.1:17777-:7777 -a "quiet rvtest=net rv.net=serve" \
	    > "$1" 2>&1 < /dev/null &
	pid=$!
	if wait_line "$1" '^RINGVM-SERVING' 90; then
		# A few tries: the first SYN through the forward can race the
		# guest's own ARP and DHCP traffic; a working forward answers
		# within them, a broken one never does.
		for try in 1 2 3 4 5; do
			got=$(timeout 20 busybox wget -q -O - http://127.0.0.1:17777/rv-stamp 2>/dev/null)
			[ "$got" = "$STAMP" ] && break
			sleep 2
		done
		[ "$got" = "$STAMP" ] || fail "got '$got' through the forward after $try tries, expected '$STAMP'"
	fi
	wait "$pid"
	rv_status=$?
	crlf "$1"
	expect_status 0
	expect_line "$1" '^RINGVM-SERVED 0$'
}

t_restricted() {
	www > /dev/null
	httpd 127.0.0.1:18080
	rv "$1" -n user,restrict=on -a "quiet rvtest=net rv.net=fetch rv.url=http://10.0.2.2:18080/data"
	kill "$httpd_pid" 2>/dev/null
	expect_line "$1" '^RINGVM-LEASE ip=10.0.2.15 '
	expect_line "$1" '^RINGVM-FETCH failed$'
	no_line "$1" '^RINGVM-FETCH ok'
}

t_tap() {
	sum=$(www)
	busybox tunctl -t rvtap0 > /dev/null || { fail "cannot create tap rvtap0"; return; }
	ip addr add 192.168.77.1/24 dev rvtap0
	ip link set rvtap0 up
	httpd 192.168.77.1:18081
	rv "$1" -n tap,ifname=rvtap0 \
	    -a "quiet rvtest=net rv.net=static rv.ip=192.168.77.2/24 rv.url=http://192.168.77.1:18081/data"
	kill "$httpd_pid" 2>/dev/null
	busybox tunctl -d rvtap0 > /dev/null
	expect_status 0
	expect_line "$1" "^RINGVM-FETCH ok md5=$sum bytes=300000\$"
}

# -n tap,fd=N: the interface belongs to another user (nobody), so only a
# privileged process may attach to it. A parent (tests/bed/tapfd.c, as
# libvirt would) attaches, gives up every capability, and execs ringvm with
# the descriptor as fd 3: the guest fetches through it. The control: the
# same unprivileged ringvm attaching by name is refused.
t_tap_fd() {
	sum=$(www)
	# iproute2's ip, not busybox's applet (which has no tuntap) that PATH finds first.
	iproute=/usr/sbin/ip
	[ -x "$iproute" ] || iproute=/sbin/ip
	"$iproute" tuntap add rvtap2 mode tap user 65534 || { fail "cannot create tap rvtap2"; return; }
	ip addr add 192.168.78.1/24 dev rvtap2
	ip link set rvtap2 up
	httpd 192.168.78.1:18082
	timeout -s KILL "$RV_TIMEOUT" "$TAPFD" -p -v rvtap2 3 "$RINGVM" -k "$KERNEL" -i "$INITRD" \
	    -n tap,fd=3 \
	    -a "quiet rvtest=net rv.net=static rv.ip=192.168.78.2/24 rv.url=http://192.168.78.1:18082/data" \
	    > "$1" 2>&1 < /dev/null
	rv_status=$?
	crlf "$1"
	kill "$httpd_pid" 2>/dev/null
	"$TAPFD" -p rvtap2 3 "$RINGVM" --check -k "$KERNEL" -n tap,fd=3 > "$1.check" 2>&1 ||
	    fail "--check with fd=3 failed: $(head -c 200 "$1.check")"
	# Bounded, and a guest that powers off at once, should the attach wrongly succeed.
	timeout -s KILL 60 "$TAPFD" -p - 3 "$RINGVM" -k "$KERNEL" -i "$INITRD" -n tap,ifname=rvtap2 \
	    -a "quiet rvcmd=true" > "$1.byname" 2>&1 < /dev/null
	"$iproute" tuntap del rvtap2 mode tap
	expect_status 0
	expect_line "$1" "^RINGVM-FETCH ok md5=$sum bytes=300000\$"
	grep -q "cannot attach: Operation not permitted" "$1.byname" ||
	    fail "without privilege, attaching by name did not fail: $(head -c 200 "$1.byname")"
}

t_mac_option() {
	rv "$1" -n none,mac=52:54:00:aa:bb:cc -a "quiet rvtest=net rv.net=none"
	expect_status 0
	expect_line "$1" '^RINGVM-MAC 52:54:00:aa:bb:cc$'
}

# Back-pressure (HOSTILE.md N7): the guest has no network driver, so it posts
# no RX buffers, while the host floods the TAP link. ringvm stops reading the
# TAP and sleeps. netflood watches ringvm idle for 3 s, then floods for 5 s:
# a sleeping device's loop thread wakes about as often as when idle, whatever
# the frame count, and uses next to no CPU; one that wakes per frame or
# spins is off by orders of magnitude (hundreds of thousands of wakeups, or
# a large share of a core). Neither depends on how loaded the machine is.
# Once the flood is over the host says "go" on the console; the guest loads
# its driver and what the TAP queued arrives; nothing ringvm took is dropped.
t_backpressure_no_rx_buffers() {
	busybox tunctl -t rvtap1 > /dev/null || { fail "cannot create tap rvtap1"; return; }
	ip link set rvtap1 up
	rm -f "$WORK/bp.in"
	mkfifo "$WORK/bp.in"
	exec 3<> "$WORK/bp.in"
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -i "$INITRD" -n tap,ifname=rvtap1 \
	    -a "quiet rvtest=net rv.net=late rv.wait=120" > "$1" 2>&1 < "$WORK/bp.in" &
	pid=$!
	if wait_line "$1" '^RINGVM-NODRIVER' 90; then
		"$NETFLOOD" rvtap1 5 "$pid" 3 > "$1.flood" 2>&1 || fail "netflood failed"
	fi
	echo go >&3
	wait "$pid"
	rv_status=$?
	exec 3>&-
	busybox tunctl -d rvtap1 > /dev/null
	crlf "$1"
	cat "$1.flood" >> "$1" 2>/dev/null
	expect_status 0
	line=$(grep '^NETFLOOD ' "$1")
	[ -n "$line" ] || { fail "no NETFLOOD line"; return; }
	val() { echo "$line" | sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
	frames=$(val frames) wall=$(val wall_ms) pct=$(val cpu_pct) lcpu=$(val loop_cpu_ms)
	wk=$(val loop_wakeups) idle=$(val idle_ms) iwk=$(val idle_loop_wakeups)
	[ "${frames:-0}" -ge 5000 ] || fail "the flood sent only $frames frames"
	# Wakeups allowed: the idle rate over the flood's length, four times over, plus 100.
	allow=$(awk "BEGIN { printf \"%d\", 100 + 4 * $iwk * $wall / ($idle > 0 ? $idle : 1) }")
	[ "$wk" -le "$allow" ] ||
	    fail "ringvm's loop woke $wk times during a $frames-frame flood (idle: $iwk in ${idle} ms; allowed $allow)"
	awk "BEGIN { exit !($lcpu * 10 < $wall) }" ||
	    fail "ringvm's loop used $lcpu ms of CPU in $wall ms while the guest took nothing"
	rx=$(sed -n 's/^RINGVM-RX packets=\([0-9]*\)$/\1/p' "$1")
	[ "${rx:-0}" -ge 100 ] || fail "the guest received ${rx:-no} frames once its driver loaded"
	no_line "$1" 'dropped'
	echo "#   backpressure: $frames frames in $wall ms; loop woke $wk times (idle $iwk in $idle ms), loop CPU $lcpu ms, ringvm ${pct}% of a core; the guest then received $rx frames"
}

# The reassembly attack (issue 14, C1) from a guest: 40,000 one-byte TCP
# segments that each skip a byte, through a connection to a host listener
# via 10.0.2.2, and through a port-forwarded connection. Unguarded,
# libslirp kept every one (+82 MiB of RSS per 20,000 measured) and walked
# them all on each insert. Guarded, ringvm's RSS moves by a few MiB at most
# (asserted: under 32 MiB, with the guest's own memory use in it), and the
# connection still takes in-order data.
OOO_N=40000

# rss_kib PID: resident memory of a process.
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }

# ooo_run OUT HOSTCMD NETSPEC APPEND: boot the guest, run HOSTCMD (in the
# background) once it is ready, measure ringvm's RSS around the attack.
ooo_run() {
	rm -f "$WORK/ooo.in"
	mkfifo "$WORK/ooo.in"
	exec 4<> "$WORK/ooo.in"
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -i "$INITRD" -n "$3" -a "$4" \
	    > "$1" 2>&1 < "$WORK/ooo.in" &
	pid=$!
	rss0= rss1=
	if wait_line "$1" '^RINGVM-OOO-READY' 90; then
		rss0=$(rss_kib "$pid")
		sh -c "$2" > "$1.host" 2>&1 &
		hpid=$!
		wait_line "$1" '^RINGVM-OOO-DONE' 120 && rss1=$(rss_kib "$pid")
		kill "$hpid" 2>/dev/null
	fi
	echo go >&4
	wait "$pid"
	rv_status=$?
	exec 4>&-
	crlf "$1"
	expect_status 0
	expect_line "$1" "^TCPOOO sent=$OOO_N acked=1\$"
	[ -n "$rss0" ] && [ -n "$rss1" ] || { fail "no RSS figures"; return; }
	grow=$(( (rss1 - rss0) / 1024 ))
	[ "$grow" -lt 32 ] || fail "ringvm grew by $grow MiB during $OOO_N out-of-order segments"
	echo "#   reassembly: $OOO_N out-of-order segments, ringvm RSS $rss0 -> $rss1 KiB"
}

t_reassembly_via_host() {
	# The listener is up before the guest boots: its SYN must find it.
	busybox nc -l -p 18090 > /dev/null &
	nc_pid=$!
	ooo_run "$1" "true" user \
	    "quiet rvtest=ooo rv.mode=connect rv.peer=10.0.2.2 rv.port=18090 rv.n=$OOO_N"
	kill "$nc_pid" 2>/dev/null
}

t_reassembly_via_hostfwd() {
	ooo_run "$1" "sleep 1; busybox nc 127.0.0.1 18091 < /dev/zero > /dev/null" \
	    "user,hostfwd=tcp:127.0.0.1:18091-10.0.2.16:7" \
	    "quiet rvtest=ooo rv.mode=accept rv.port=7 rv.n=$OOO_N"
}
