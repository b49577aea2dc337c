# net: virtio-net in a real guest. rv.net= names the operation:
#   dhcp    take a lease from slirp's DHCP server
#   fetch   take a lease, then fetch rv.url= and print its md5
#   serve   take a lease, serve /etc/rv-stamp over HTTP on TCP port 7777 once
#   static  set rv.ip= on eth0 (TAP), then fetch rv.url=
#   late    the driver is not loaded at boot (init skips it): wait for the
#           host's "go" on the console (its flood is over), then load the
#           driver and count what arrives
arg() { sed -n "s/.*\\<$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
op=$(arg rv.net)
url=$(arg rv.url)
ip link set lo up
if [ "$op" = late ]; then
	echo "RINGVM-NODRIVER"
	# The host says "go" on the console once its flood is over (at most rv.wait s).
	read -t "$(arg rv.wait)" go
	insmod /lib/modules/virtio_net.ko
	ip link set eth0 up
	sleep 3
	echo "RINGVM-RX packets=$(cat /sys/class/net/eth0/statistics/rx_packets)"
	exit 0
fi
ip link set eth0 up || { echo "RINGVM-NET no eth0"; exit 1; }
echo "RINGVM-MAC $(cat /sys/class/net/eth0/address)"
lease() { udhcpc -i eth0 -n -q -t 5 -T 2 -s /tests/udhcpc.script 2>/dev/null; }
# fetch URL: retry for a while (a TAP peer may come up after the guest).
fetch() {
	for i in 1 2 3 4 5 6 7 8 9 10; do
		# No -T: busybox 1.35 static wget crashes on it; timeout bounds it instead.
		if timeout 10 wget -q -O /tmp/got "$1" 2>/dev/null; then
			echo "RINGVM-FETCH ok md5=$(md5sum < /tmp/got | cut -d' ' -f1) bytes=$(wc -c < /tmp/got)"
			return 0
		fi
		sleep 1
	done
	echo "RINGVM-FETCH failed"
	return 1
}
case $op in
dhcp) lease ;;
fetch) lease && fetch "$url" ;;
serve)
	# An HTTP server (closes each connection cleanly, unlike nc) until one
	# request was answered, or 90 s.
	lease || exit 1
	httpd -f -v -p 7777 -h /etc 2> /tmp/httpd.log &
	# Say SERVING only once the socket listens (port 7777 = 0x1E61, state
	# 0A): before that, a forwarded connection is refused by the guest.
	for i in $(seq 100); do
		cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q ':1E61 [0-9A-F:]* 0A ' && break
		usleep 100000
	done
	echo "RINGVM-SERVING"
	for i in $(seq 90); do
		grep -q 'response:200' /tmp/httpd.log && break
		sleep 1
	done
	kill %1 2>/dev/null
	grep -q 'response:200' /tmp/httpd.log
	echo "RINGVM-SERVED $?"
	;;
static)
	ip addr add "$(arg rv.ip)" dev eth0
	fetch "$url"
	;;
esac
