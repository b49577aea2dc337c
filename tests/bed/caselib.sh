# caselib.sh: helpers for bed cases. Sourced by run-cases.sh, which runs in the
# outer VM (nested mode) or on the host (direct mode), with RINGVM, KERNEL,
# VMLINUX (the ELF kernel inside KERNEL), INITRD, STAMP and WORK set.
RV_TIMEOUT=${RV_TIMEOUT:-150}	# seconds for one inner run, boot included
NETFLOOD=${NETFLOOD:-/bed/netflood}	# tests/bed/netflood.c, packed by mkouter.sh
UDSIO=${UDSIO:-/bed/udsio}	# tests/bed/udsio.c, packed by mkouter.sh
TAPFD=${TAPFD:-/bed/tapfd}	# tests/bed/tapfd.c, packed by mkouter.sh
MEMHOST=${MEMHOST:-/bed/memhost}	# tests/bed/memhost.c, packed by mkouter.sh
ROOTIMG=${ROOTIMG:-/rv/root.ext4}	# the test initramfs's tree as ext4 (mkguest.sh)

# rv OUT ARG...: run ringvm on the test guest; output in OUT, status in $rv_status.
rv() {
	_out=$1
	shift
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -i "$INITRD" "$@" \
	    > "$_out" 2>&1 < /dev/null
	rv_status=$?
	crlf "$_out"
}

# crlf OUT: the guest's tty ends lines with CR LF; drop the CRs.
crlf() {
	tr -d '\r' < "$1" > "$1.lf" && mv "$1.lf" "$1"
}

# fail MSG: record why the current case failed (the first reason wins).
fail() { [ -n "$case_fail" ] || case_fail=$*; }

expect_status() {
	[ "$rv_status" = "$1" ] || fail "exit status $rv_status, expected $1"
}

# expect_line OUT REGEX: some line of OUT matches the extended regex.
expect_line() {
	crlf "$1"
	grep -Eq -- "$2" "$1" || fail "no line matching '$2'"
}

# no_line OUT REGEX: no line of OUT matches.
no_line() {
	! grep -Eq -- "$2" "$1" || fail "unexpected line matching '$2'"
}

# wait_line OUT REGEX SECONDS: wait until OUT has a matching line.
wait_line() {
	_n=0
	while [ "$_n" -lt "$3" ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 1
		_n=$((_n + 1))
	done
	fail "no line matching '$2' within $3 s"
	return 1
}

# own_rss PID: ringvm's resident memory in KiB without the guest's RAM (the
# largest mapping, bounded by -m and touched as the guest pleases): what
# ringvm itself holds. Needs /proc/PID/smaps (root reads it; ringvm is not
# dumpable).
own_rss() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { n++ } /^Size:/ { size[n] = $2 } /^Rss:/ { rss[n] = $2; all += $2 }
	    END { for (i in size) if (size[i] > max) { max = size[i]; big = rss[i] }
	        if (n) print all - big }' "/proc/$1/smaps" 2>/dev/null
}
