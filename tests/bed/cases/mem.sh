# mem.sh: the worst-case memory bound (docs/SECURITY.md, "Worst-case
# memory"), measured: one guest drives every device at its limits at once
# and holds them there, and ringvm's memory beyond the guest's RAM stays
# under the documented bound for this configuration.
#
# The load (tests/guest/mem.sh with tests/guest/memload.c, in command mode):
# the user network's 256 guest sockets (sockets=256, the default), each a TCP
# connection to a host listener (tests/bed/memhost.c "sink") that never
# reads and sends 1 MiB the guest never reads; 59 guest-to-host vsock
# connections to a listener that never reads, and 4 host-to-guest ones the
# guest never reads (with the command's own, the device's 64); eight disks,
# two with 80 threads of direct I/O (beyond the 64 requests in flight) and
# six with 4; and before all that, 32 KiB on the serial port while the
# console's reader (a FIFO) never reads.
#
# The measure (memhost "watch", every 0.5 s): ringvm's VmRSS minus the
# resident part of the guest RAM mapping, plus the kernel memory and socket
# buffers a cgroup v2 child charges to ringvm (memory.stat "kernel" and
# "sock"). AF_UNIX buffers are not charged to cgroups: the sink reports the
# bytes ringvm's vsock sockets hold in the kernel, and they are added.
#
# In the nested bed the outer VM's global TCP limit (tcp_mem, about 180 MiB
# for its 2 GiB) stops the sockets short of their own limits, which the unit
# tests check instead. Raising it made the outer VM wedge, twice in two tries.

MEM_GUEST=384		# MiB of guest RAM: fixed by -m, the guest's, not counted
MEM_TCP=256		# guest TCP connections: sockets=256, the default cap
MEM_VS=59		# guest-to-host vsock connections
MEM_VL=4		# host-to-guest vsock connections
MEM_DEEP=80		# threads of direct I/O on disks 1 and 2
MEM_SHALLOW=4		# ... and on disks 3 to 8
MEM_HOLD=30		# seconds everything is held full, serial flood included
MEM_PORT=18100
# The guest kernel's messages are silenced (loglevel=1): the console is
# stalled on purpose, and Linux's 8250 console polls a busy UART up to
# 10,000 times per character, each poll an exit, so one warning (a task
# blocked on the stalled serial port, say) would crawl for minutes.

# mem_cgroup: a cgroup v2 directory with the memory controller for ringvm;
# mounts cgroup2 on /sys/fs/cgroup when nothing is mounted there (the outer
# VM). Prints the directory, or nothing.
mem_cgroup() {
	_root=/sys/fs/cgroup
	if ! grep -q " $_root cgroup2 " /proc/mounts; then
		if grep -q " $_root " /proc/mounts; then
			_root=$WORK/cgroup2
			mkdir -p "$_root"
		fi
		grep -q " $_root cgroup2 " /proc/mounts || mount -t cgroup2 none "$_root" || return
	fi
	grep -qw memory "$_root/cgroup.controllers" || return
	grep -qw memory "$_root/cgroup.subtree_control" ||
	    echo +memory > "$_root/cgroup.subtree_control" || return
	mkdir -p "$_root/ringvm-mem.$$" && echo "$_root/ringvm-mem.$$"
}

# mem_field LINE KEY: the number after KEY= in LINE.
mem_field() { echo "$1" | sed -n "s/.* $2=\([0-9]*\).*/\1/p"; }

# mem_bound_kib: docs/SECURITY.md's bound for this configuration, in KiB:
# what ringvm itself, KVM for 384 MiB and 2 vCPUs hold (measured about 12
# MiB after the boot; 32 MiB allowed), the user network (per socket 3 x
# (128 KiB + MTU) + 1,159 KiB; shared: the 1 MiB RX queue, 286 buffers of
# an MTU and 100 bytes, 64 KiB, the TCP guard's table), the socket device
# (64 x 545 KiB), eight disks (2.6 MiB each), the console (80 KiB) and the
# command runner's pipes (128 KiB).
mem_bound_kib() {
	_mtu=16
	_user=$((MEM_TCP * (3 * (128 + _mtu) + 1159) + 1024 + 286 * (_mtu + 1) + 64 + 40))
	echo $((32 * 1024 + _user + 64 * 545 + 8 * 2662 + 80 + 128))
}

t_every_device_at_its_limits() {
	cg=$(mem_cgroup)
	[ -n "$cg" ] || { fail "no cgroup v2 memory controller"; return; }
	ulimit -n 65536 || { fail "cannot raise ulimit -n to 65536"; return; }
	sock=$WORK/mem.sock
	rm -f "$sock" "${sock}_5000" "$WORK/mem.con"
	mkfifo "$WORK/mem.con"
	# The console's reader: holds the pipe open, never reads.
	exec 6<> "$WORK/mem.con"
	disks= gdisks=
	for i in 1 2 3 4 5 6 7 8; do
		# Written through, not sparse: tmpfs pages are charged to who first
		# writes them, and that must not be ringvm (the images are not its memory).
		dd if=/dev/zero of="$WORK/mem.d$i" bs=1M count=16 2> /dev/null
		disks="$disks -d $WORK/mem.d$i"
		dev=$(echo abcdefgh | cut -c"$i")
		gdisks="$gdisks vd$dev:$([ "$i" -le 2 ] && echo $MEM_DEEP || echo $MEM_SHALLOW)"
	done
	"$MEMHOST" sink "$MEM_PORT" "${sock}_5000" 1048576 "$WORK/mem.con" > "$1.sink" 2>&1 &
	sink=$!
	# ringvm starts inside the cgroup, so every page it ever had is charged there.
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$cg" \
	    timeout -s KILL 900 "$RINGVM" -k "$KERNEL" -i "$INITRD" -m "${MEM_GUEST}M" -c 2 \
	    -n "user,sockets=$MEM_TCP" --vsock "path=$sock" $disks --console "$WORK/mem.con" \
	    -a "loglevel=1" \
	    -- /bin/busybox sh /tests/mem.sh "$MEM_PORT" "$MEM_TCP" 5000 "$MEM_VS" 6000 "$MEM_VL" \
	    "$MEM_HOLD" $gdisks > "$1" 2> "$1.err" < /dev/null &
	rvwrap=$!
	pid=
	for i in $(seq 50); do
		for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do
			grep -qx ringvm "/proc/$p/comm" 2>/dev/null && pid=$p
		done
		[ -n "$pid" ] && break
		sleep 0.2
	done
	if [ -n "$pid" ]; then
		"$MEMHOST" watch "$pid" "$cg" $((MEM_GUEST * 1024)) > "$1.watch" 2>&1 &
		watch=$!
		vconnect=
		if wait_line "$1" '^RINGVM-MEM-VLISTEN' 200; then
			# The baseline: the guest is up, nothing loaded yet.
			kill -USR1 "$watch"
			"$MEMHOST" vconnect "$sock" 6000 "$MEM_VL" > "$1.vconnect" 2>&1 &
			vconnect=$!
		fi
		# The sink's last report while everything is held.
		wait_line "$1" '^RINGVM-MEM-LOADED' 600 && sleep $((MEM_HOLD / 2)) &&
		    tail -n 1 "$1.sink" > "$1.held"
		wait_line "$1" '^RINGVM-MEM-DONE' $((MEM_HOLD + 120))
	else
		fail "ringvm did not start in the cgroup"
	fi
	# Measured: the console's reader reads again. The guest kernel's 8250
	# console polls a UART that stays busy while ringvm's console is full
	# up to 10,000 times per character, each poll an exit, and it prints
	# as it shuts down.
	cat <&6 > /dev/null &
	drain=$!
	wait "$rvwrap"
	rv_status=$?
	[ -n "$pid" ] && wait "$watch"
	kill $sink $vconnect $drain 2> /dev/null
	wait $sink $vconnect $drain 2> /dev/null
	exec 6<&-
	rmdir "$cg" 2> /dev/null
	rm -f "$WORK"/mem.d? "$WORK/mem.con"
	[ "$rv_status" = 0 ] || echo "#   ringvm said: $(tail -n 2 "$1.err" | tr '\n' ' ')"
	expect_status 0
	load=$(grep '^RINGVM-MEM-LOADED' "$1")
	w=$(grep '^MEMWATCH' "$1.watch")
	held=$(cat "$1.held" 2> /dev/null)
	echo "#   $load"
	echo "#   $(grep '^MEMNOW' "$1.watch")"
	echo "#   $w"
	echo "#   sink while held: $held; $(cat "$1.vconnect" 2> /dev/null)"
	echo "#   sink's last: $(tail -n 1 "$1.sink" 2> /dev/null)"
	[ -n "$w" ] || { fail "no MEMWATCH line: $(head -c 200 "$1.watch")"; return; }
	echo "$load" | grep -q "memload tcp connected=$MEM_TCP failed=0" ||
	    fail "not every guest TCP connection came up"
	echo "$load" | grep -q "memload vsock connected=$MEM_VS failed=0" ||
	    fail "not every guest vsock connection came up"
	now=$(grep '^MEMNOW' "$1.watch")
	[ -n "$now" ] || { fail "no baseline (MEMNOW) sample"; return; }
	over=$(mem_field "$w" over)
	vmm=$(mem_field "$w" vmm)
	sockk=$(mem_field "$w" sock)
	inq=$(mem_field "$held" uds_inq)
	con=$(mem_field "$held" console)
	unix=$(( ${inq:-0} / 1024 ))
	total=$((over + unix))
	bound=$(mem_bound_kib)
	echo "#   ringvm beyond guest RAM: $total KiB at peak (RSS $vmm, kernel $(mem_field "$w" kernel), sockets $sockk, AF_UNIX held $unix; console pipe $((${con:-0} / 1024))); idle after boot $(mem_field "$now" over) KiB; bound $bound KiB"
	# The load really loaded: libslirp's and the socket device's buffers
	# grew ringvm's own memory, and its sockets held megabytes.
	[ $((vmm - $(mem_field "$now" vmm))) -ge 32768 ] ||
	    fail "ringvm's own memory grew by only $((vmm - $(mem_field "$now" vmm))) KiB under the load"
	[ "$sockk" -ge 32768 ] || fail "ringvm's sockets held only $sockk KiB under the load"
	[ -n "$inq" ] || fail "no report from the sink while the load was held"
	# The console filled: the guest's serial writer was still blocked at the end.
	grep -q '^RINGVM-MEM-DONE serial=blocked' "$1" || fail "the console never filled (the guest's serial writer finished)"
	[ "$total" -le "$bound" ] ||
	    fail "ringvm used $total KiB beyond guest RAM; the documented bound is $bound KiB"
}
