# net.sh: virtio-net with a real Linux guest: a DHCP lease from slirp, a file
# fetched from an HTTP server on the host side through 10.0.2.2, a host client
# reaching a guest service through a port forward, restricted mode refusing
# outbound connections, a TAP link with a checksummed transfer, and the MAC
# option. The host side is busybox (httpd, nc, tunctl, ip).

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
		got=$(busybox wget -q -O - http://127.0.0.1:17777/rv-stamp)
		[ "$got" = "$STAMP" ] || fail "got '$got' through the forward, expected '$STAMP'"
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

t_mac_option() {
	rv "$1" -n none,mac=52:54:00:aa:bb:cc -a "quiet rvtest=net rv.net=none"
	expect_status 0
	expect_line "$1" '^RINGVM-MAC 52:54:00:aa:bb:cc$'
}

# Back-pressure (HOSTILE.md N7): the guest has no network driver, so it posts
# no RX buffers, while the host floods the TAP link. ringvm stops reading the
# TAP and sleeps: its CPU time over 5 s stays under 2% of a core. Once the
# driver loads, what the TAP queued arrives and nothing ringvm took is dropped.
t_backpressure_no_rx_buffers() {
	busybox tunctl -t rvtap1 > /dev/null || { fail "cannot create tap rvtap1"; return; }
	ip link set rvtap1 up
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -i "$INITRD" -n tap,ifname=rvtap1 \
	    -a "quiet rvtest=net rv.net=late rv.wait=12" > "$1" 2>&1 < /dev/null &
	pid=$!
	if wait_line "$1" '^RINGVM-NODRIVER' 90; then
		"$NETFLOOD" rvtap1 5 "$pid" > "$1.flood" 2>&1 || fail "netflood failed"
	fi
	wait "$pid"
	rv_status=$?
	busybox tunctl -d rvtap1 > /dev/null
	crlf "$1"
	cat "$1.flood" >> "$1" 2>/dev/null
	expect_status 0
	pct=$(sed -n 's/^NETFLOOD .*cpu_pct=\([0-9.]*\)$/\1/p' "$1")
	frames=$(sed -n 's/^NETFLOOD frames=\([0-9]*\) .*/\1/p' "$1")
	[ -n "$pct" ] || { fail "no NETFLOOD line"; return; }
	[ "${frames:-0}" -ge 1000 ] || fail "the flood sent only $frames frames"
	awk "BEGIN { exit !($pct < 2.0) }" || fail "ringvm used $pct% of a core while the guest took nothing"
	rx=$(sed -n 's/^RINGVM-RX packets=\([0-9]*\)$/\1/p' "$1")
	[ "${rx:-0}" -ge 100 ] || fail "the guest received ${rx:-no} frames once its driver loaded"
	no_line "$1" 'dropped'
	echo "#   backpressure: ringvm used ${pct}% of a core over 5 s of a $frames-frame flood; the guest then received $rx frames"
}
