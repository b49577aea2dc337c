# run.sh: the command mode, `ringvm -k KERNEL [options] -- COMMAND` (issue 8):
# ringvm-init runs the command in the guest; its status, stdout and stderr
# come back as its own. The guest kernel is the bed's Debian kernel, booted
# without -i: ringvm's own initramfs (ringvm-init, the kernel's modules from
# /lib/modules, a static busybox) is the whole root.

# cmd OUT ERR ARG...: ringvm in command mode; stdout in OUT, stderr in ERR,
# stdin from $CMD_IN (default /dev/null), status in $rv_status.
cmd() {
	_o=$1
	_e=$2
	shift 2
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" "$@" > "$_o" 2> "$_e" \
	    < "${CMD_IN:-/dev/null}"
	rv_status=$?
}

# same OUT TEXT: OUT holds exactly TEXT and a newline.
same() {
	printf '%s\n' "$2" | cmp -s - "$1" || fail "output '$(head -c 200 "$1")', expected '$2'"
}

t_uname() {
	cmd "$1" "$1.err" -- uname -a
	expect_status 0
	expect_line "$1" '^Linux ringvm 6\.'
	[ ! -s "$1.err" ] || fail "stderr not empty: $(head -c 200 "$1.err")"
}

t_statuses() {
	for st in 0 1 42; do
		cmd "$1" "$1.err" -- sh -c "exit $st"
		expect_status "$st"
	done
}

t_not_found_and_not_executable() {
	cmd "$1" "$1.err" -- no-such-command
	expect_status 127
	expect_line "$1.err" 'no-such-command'
	# The module list ringvm-init reads is a file, not a program.
	cmd "$1" "$1.err" -- /ringvm/modules
	expect_status 126
}

t_signal() {
	cmd "$1" "$1.err" -- sh -c 'kill -9 $$'
	expect_status 137
}

t_streams_apart() {
	cmd "$1" "$1.err" -- sh -c 'echo to-stdout; echo to-stderr >&2; echo more-stdout'
	expect_status 0
	printf 'to-stdout\nmore-stdout\n' | cmp -s - "$1" || fail "stdout: $(head -c 200 "$1")"
	printf 'to-stderr\n' | cmp -s - "$1.err" || fail "stderr: $(head -c 200 "$1.err")"
}

t_stdin_eof() {
	printf 'abc' > "$1.in"
	CMD_IN=$1.in cmd "$1" "$1.err" -- wc -c
	expect_status 0
	[ "$(tr -d ' \n' < "$1")" = 3 ] || fail "wc -c said '$(cat "$1")', expected 3"
}

# 10 MiB of random bytes through stdin to cat in the guest and back.
t_stdin_binary_10m() {
	head -c 10485760 /dev/urandom > "$1.in"
	CMD_IN=$1.in cmd "$1" "$1.err" -- cat
	expect_status 0
	cmp -s "$1.in" "$1" || fail "10 MiB through cat: $(wc -c < "$1") bytes back, not the same"
	rm -f "$1.in" "$1"
}

t_timeout() {
	# Long enough for the boot under a loaded nested bed; the command then sleeps past it.
	cmd "$1" "$1.err" --timeout 45 -- sh -c 'echo before-the-timeout; sleep 600'
	expect_status 124
	expect_line "$1" '^before-the-timeout$'
	expect_line "$1.err" 'ran out of time'
}

t_guest_panic() {
	cmd "$1" "$1.err" -- sh -c 'echo c > /proc/sysrq-trigger'
	expect_status 125
	expect_line "$1.err" '^ringvm: the guest'
}

t_env_workdir() {
	cmd "$1" "$1.err" -e RV_TOKEN=t0k3n -w /ringvm -- sh -c 'echo "$RV_TOKEN $(pwd)"'
	expect_status 0
	same "$1" 't0k3n /ringvm'
}

t_bad_option_is_125() {
	cmd "$1" "$1.err" --timeout soon -- true
	expect_status 125
	expect_line "$1.err" "timeout 'soon' is not a time"
}

# -n user: eth0 has the user network's address and resolver with no DHCP.
t_user_net() {
	cmd "$1" "$1.err" -n user -- sh -c 'ip -4 addr show eth0; cat /etc/resolv.conf'
	expect_status 0
	expect_line "$1" 'inet 10\.0\.2\.15/24'
	expect_line "$1" '^nameserver 10\.0\.2\.3'
}

# Eight runs at once (128 MiB each: the outer VM has 2 GiB), each with its
# own token: no run sees another's, and each command outlives the others'
# boots (it sleeps 5 s), so all eight really overlap. Waits for the runs'
# own pids: a bare `wait` would also wait for run-cases.sh's heartbeat.
t_parallel_8() {
	pids=
	for i in 1 2 3 4 5 6 7 8; do
		( cmd "$1.$i" "$1.$i.err" -m 128M -- sh -c "sleep 5; echo token-$i"
		    echo "$rv_status" > "$1.$i.st" ) &
		pids="$pids $!"
	done
	wait $pids
	for i in 1 2 3 4 5 6 7 8; do
		[ "$(cat "$1.$i.st")" = 0 ] || fail "run $i: status $(cat "$1.$i.st"): $(head -c 200 "$1.$i.err")"
		printf 'token-%s\n' "$i" | cmp -s - "$1.$i" || fail "run $i printed '$(cat "$1.$i")'"
	done
}

# A terminal on stdin (script(1) gives one): the command gets a pty of the
# terminal's size, and the terminal's settings come back afterwards.
t_pty() {
	script -qec "stty rows 33 cols 101; stty -g > $1.before; \
	    $RINGVM -k $KERNEL -- sh -c 'tty; stty size'; echo rv=\$?; stty -g > $1.after" \
	    /dev/null > "$1" 2>&1 < /dev/null
	crlf "$1"
	# script(1) shows the byte it types at its stdin's end of file as "^@" first.
	expect_line "$1" '^(\^@)?/dev/pts/[0-9]+$'
	expect_line "$1" '^33 101$'
	expect_line "$1" '^rv=0$'
	cmp -s "$1.before" "$1.after" || fail "terminal settings changed: $(cat "$1.before") -> $(cat "$1.after")"
}

# --root IMAGE: the command's root is the image, read-only under a tmpfs
# overlay; the guest writes over it freely and the image never changes.
t_root_image_unchanged() {
	cp "$ROOTIMG" "$1.img"
	before=$(md5sum < "$1.img")
	# The image holds busybox without its links: the command makes them (in the overlay).
	cmd "$1" "$1.err" --root "$1.img" -- /bin/busybox sh -c \
	    '/bin/busybox --install -s /bin && test -x /bin/tcpooo && echo root-is-the-image; \
	    echo new > /bin/busybox-was-here; rm -f /init; echo overwritten > /tests/hello.sh; \
	    cat /bin/busybox-was-here; sync'
	expect_status 0
	expect_line "$1" '^root-is-the-image$'
	expect_line "$1" '^new$'
	[ "$(md5sum < "$1.img")" = "$before" ] || fail "the root image changed"
	rm -f "$1.img"
}

t_result_limit_console() {
	cmd "$1" "$1.err" --result "$1.json" --console "$1.con" -- sh -c 'echo hi; exit 7'
	expect_status 7
	grep -q '"status": 7,' "$1.json" && grep -q '"stdout_bytes": 3,' "$1.json" &&
	    grep -q '"cause": null' "$1.json" || fail "--result: $(cat "$1.json")"
	grep -q 'Linux version' "$1.con" || fail "--console has no kernel messages"
	cmd "$1" "$1.err" --output-limit 1K -- sh -c 'head -c 100000 /dev/zero; echo late >&2'
	expect_status 153
	[ "$(wc -c < "$1")" = 1024 ] || fail "--output-limit 1K let $(wc -c < "$1") bytes through"
	expect_line "$1.err" 'output-limit'
}

t_user() {
	cmd "$1" "$1.err" -u 1000:1001 -- sh -c 'id -u; id -g'
	expect_status 0
	printf '1000\n1001\n' | cmp -s - "$1" || fail "id said '$(cat "$1")', expected 1000 and 1001"
}
