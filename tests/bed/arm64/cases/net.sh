# net.sh (arm64): virtio-net in user mode: a DHCP lease from slirp, then a
# file fetched from an HTTP server the outer VM runs on 127.0.0.1, reached
# through the slirp host address 10.0.2.2.
. "$here/lib64.sh"

t_dhcp_fetch() {
	have_ringvm || return
	mkdir -p "$WORK/www64"
	head -c 300000 /dev/urandom > "$WORK/www64/data"
	sum=$(md5sum < "$WORK/www64/data" | cut -d' ' -f1)
	busybox httpd -f -p 127.0.0.1:18064 -h "$WORK/www64" &
	pid=$!
	rv "$1" -n user -a "quiet rvtest=net rv.net=fetch rv.url=http://10.0.2.2:18064/data"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	expect_status 0
	expect_line "$1" '^RINGVM-LEASE ip=10.0.2.15 router=10.0.2.2 dns=10.0.2.3$'
	expect_line "$1" "^RINGVM-FETCH ok md5=$sum bytes=300000\$"
}
