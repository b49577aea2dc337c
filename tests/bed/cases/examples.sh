# examples.sh: every example README.md and man/ringvm.1 EXAMPLES show runs
# as shown (issue 15). EXAMPLES is their text, extracted by tests/docex.sh
# ("@ FILE:LINE", then the block's lines). Each block runs in a fresh
# directory, as root, in one dash (Debian's sh; busybox sh would run its own
# applets before the PATH's programs), with stdin from /dev/null: "$ " and "# "
# lines (and their "\" continuations) are its commands; every other line is
# output that must appear, whole, in the order shown, in the block's output
# (stdout and stderr; the guest's boot messages may come between them). A
# command must exit 0 unless the next command shows its status ($?).
# In the directory, `ringvm` (also on PATH), build/bed/vmlinuz and
# build/bed/guest.cpio.gz, vmlinuz and initrd.img are the ones under test;
# /vmlinuz and /initrd.img are Debian's (mkouter.sh links them in the outer VM).

# in_order OUT EXPECTED: each line of EXPECTED is a whole line of OUT, after the previous one.
in_order() {
	awk 'NR == FNR { w[++n] = $0; next }
		i < n && $0 == w[i + 1] { i++ }
		END { if (i < n) { print w[i + 1]; exit 1 } }' "$2" "$1"
}

# ex_split BLOCK DIR: write DIR/script (the commands, each followed by a
# record of its status on fd 3, with $? restored) and DIR/expected.
ex_split() {
	awk -v dir="$2" '
		function flush() {
			if (cmd == "") return
			nc++
			print cmd > (dir "/script")
			printf "__s=$?; echo \"%d $__s\" >&3; (exit $__s)\n", nc > (dir "/script")
			printf "%d %s\n", nc, (cmd ~ /\$\?/) ? "shows" : "-" > (dir "/cmds")
			cmd = ""
		}
		cont { cmd = cmd "\n" $0; cont = /\\$/; next }
		/^[$#] / { flush(); cmd = substr($0, 3); cont = /\\$/; next }
		{ flush(); print > (dir "/expected") }
		END { flush() }' "$1"
	touch "$2/expected"
}

# ex_statuses DIR: every command exited 0, or the next one shows its status.
ex_statuses() {
	awk 'NR == FNR { shows[$1] = ($2 == "shows"); n = $1; next }
		{ st[$1] = $2 }
		END {
			for (i = 1; i <= n; i++) {
				if (!(i in st)) { print "command " i " did not finish"; exit 1 }
				if (st[i] != 0 && !shows[i + 1]) {
					print "command " i " exited " st[i] ", and no later command shows it"
					exit 1
				}
			}
		}' "$1/cmds" "$1/status"
}

# ex_run OUT WHERE BLOCK: run one example; on failure, say where it is.
ex_run() {
	d=$WORK/example.$$
	rm -rf "$d"
	mkdir -p "$d/build/bed"
	ln -s "$RINGVM" "$d/ringvm"
	ln -s "$KERNEL" "$d/vmlinuz"
	ln -s "$INITRD" "$d/initrd.img"
	ln -s "$KERNEL" "$d/build/bed/vmlinuz"
	ln -s "$INITRD" "$d/build/bed/guest.cpio.gz"
	ex_split "$3" "$d"
	runs=$(grep -c ringvm "$d/script")
	echo "# $2" >> "$1"
	(cd "$d" && USER=${USER:-$(id -u)} PATH="$d:/usr/sbin:$PATH" \
	    timeout -s KILL $((RV_TIMEOUT * (runs + 1))) "$(command -v dash || echo sh)" ./script \
	    > "$d/out" 2>&1 3> "$d/status" < /dev/null)
	# The man page's TAP example creates tap0; leave no interface behind.
	if grep -q 'tuntap add tap0' "$d/script"; then ip link del tap0 2> /dev/null; fi
	crlf "$d/out"
	cat "$d/out" >> "$1"
	if ! why=$(ex_statuses "$d"); then
		fail "$2: $why"
	elif ! line=$(in_order "$d/out" "$d/expected"); then
		fail "$2: the output lacks '$line' (in the order shown)"
	fi
	rm -rf "$d"
}

# ex_all OUT PREFIX: run every example whose "@ " line starts with PREFIX;
# there must be at least one.
ex_all() {
	n=0
	blk=$WORK/example-block.$$
	for at in $(sed -n "s|^@ \\($2[^ ]*\\)\$|\\1|p" "$EXAMPLES"); do
		awk -v at="@ $at" '$0 == at { on = 1; next } /^@ / { on = 0 } on' "$EXAMPLES" > "$blk"
		ex_run "$1" "$at" "$blk"
		n=$((n + 1))
	done
	rm -f "$blk"
	[ "$n" -gt 0 ] || fail "no examples from $2 in $EXAMPLES"
	echo "# $n examples from $2" >> "$1"
}

t_readme() {
	ex_all "$1" README.md
}

t_man_page() {
	ex_all "$1" man/ringvm.1
}
