# rng: the entropy device as the guest sees it (tests/bed/cases/rng.sh).
#   RINGVM-RNG-DEVS N          virtio devices of type 4 (entropy)
#   RINGVM-RNG-CURRENT NAME    the hardware RNG Linux uses ("none" without one)
#   RINGVM-RNG read=N distinct=D secs=S
#                              after reading rv.rng_bytes bytes (default 4096)
#                              from /dev/hwrng: bytes read, distinct byte
#                              values among them, seconds the read took
arg() { sed -n "s/.*\\<$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
n=0
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat "$d/device" 2>/dev/null)" = 0x0004 ] && n=$((n + 1))
done
echo "RINGVM-RNG-DEVS $n"
echo "RINGVM-RNG-CURRENT $(cat /sys/class/misc/hw_random/rng_current 2>/dev/null || echo missing)"
[ "$n" -gt 0 ] || exit 0
bytes=$(arg rv.rng_bytes)
[ -n "$bytes" ] || bytes=4096
t0=$(cut -d' ' -f1 /proc/uptime)
head -c "$bytes" /dev/hwrng > /tmp/rng.bin
t1=$(cut -d' ' -f1 /proc/uptime)
got=$(wc -c < /tmp/rng.bin)
distinct=$(od -An -v -tu1 /tmp/rng.bin | tr -s ' ' '\n' | grep . | sort -un | wc -l)
echo "RINGVM-RNG read=$got distinct=$distinct secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")"
