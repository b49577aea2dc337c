# rng.sh: the entropy device (virtio-rng) with a real Linux guest: on by
# default, /dev/hwrng delivers bytes that look random; the rate limit holds
# by a wide margin; --rng off leaves no device; the command mode loads the
# driver when the device is on. The guest side is tests/guest/rng.sh.

# rng_secs OUT: the seconds the guest's read took, or nothing.
rng_secs() { sed -n 's/^RINGVM-RNG read=[0-9]* distinct=[0-9]* secs=\([0-9.]*\)$/\1/p' "$1"; }

t_hwrng_delivers() {
	rv "$1" -a "quiet rvtest=rng"
	expect_status 0
	expect_line "$1" '^RINGVM-RNG-DEVS 1$'
	expect_line "$1" '^RINGVM-RNG-CURRENT virtio_rng\.0$'
	expect_line "$1" '^RINGVM-RNG read=4096 '
	# 4096 random bytes hold (nearly) every byte value; all zeros hold one.
	d=$(sed -n 's/^RINGVM-RNG read=[0-9]* distinct=\([0-9]*\) .*/\1/p' "$1")
	[ -n "$d" ] && [ "$d" -ge 200 ] || fail "$d distinct byte values in 4096 bytes, expected 200 or more"
}

# With rate=8K/s and burst=1K, reading 96 KiB takes at least (96K - 1K) / 8K
# = 11.9 s; at rate=1M/s with burst=1M it takes what the guest's round
# trips cost (about a second in the nested bed). The bounds sit between
# the two by a factor: at least 6 s limited, and the unlimited read at
# least 3 times faster. A broken limit fails both.
t_rate_limit_holds() {
	rv "$1.fast" --rng rate=1M/s,burst=1M -a "quiet rvtest=rng rv.rng_bytes=98304"
	expect_status 0
	expect_line "$1.fast" '^RINGVM-RNG read=98304 '
	fast=$(rng_secs "$1.fast")
	rv "$1" --rng rate=8K/s,burst=1K -a "quiet rvtest=rng rv.rng_bytes=98304"
	expect_status 0
	expect_line "$1" '^RINGVM-RNG read=98304 '
	slow=$(rng_secs "$1")
	echo "#   rng: 96 KiB from /dev/hwrng in ${fast}s at 1M/s, ${slow}s at 8K/s"
	[ -n "$fast" ] && [ -n "$slow" ] || { fail "no timing from the guest"; return; }
	awk "BEGIN { exit !($slow >= 6) }" ||
		fail "96 KiB at 8 KiB/s took ${slow}s, expected 6 s or more (at least 11.9 s if the limit holds)"
	awk "BEGIN { exit !($fast * 3 <= $slow) }" ||
		fail "the unlimited read (${fast}s) is not 3 times faster than the limited one (${slow}s)"
}

t_off_leaves_none() {
	rv "$1" --rng off -a "quiet rvtest=rng"
	expect_status 0
	expect_line "$1" '^RINGVM-RNG-DEVS 0$'
	expect_line "$1" '^RINGVM-RNG-CURRENT none$'
}

# The command mode packs and loads virtio_rng only when the device is on.
t_command_mode() {
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -- \
	    sh -c 'cat /sys/class/misc/hw_random/rng_current; head -c 64 /dev/hwrng | wc -c' \
	    > "$1" 2> "$1.err" < /dev/null
	rv_status=$?
	expect_status 0
	printf 'virtio_rng.0\n64\n' | cmp -s - "$1" || fail "rng on: '$(head -c 200 "$1")'"
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" --rng off -- \
	    sh -c 'cat /sys/class/misc/hw_random/rng_current; grep -c virtio_rng /proc/modules || :' \
	    > "$1.off" 2> "$1.err" < /dev/null
	rv_status=$?
	expect_status 0
	printf 'none\n0\n' | cmp -s - "$1.off" || fail "rng off: '$(head -c 200 "$1.off")'"
}
