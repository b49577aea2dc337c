#!/bin/sh
# net-inner.sh: bench/net's runs, on a machine with KVM (the outer VM in
# nested mode). Each run boots one VMM with the same kernel, initramfs (the
# test guest plus netbench), 256 MiB and 1 vCPU, and one virtio-net device on
# one backend: user (libslirp; the guest takes a DHCP lease and reaches this
# machine at 10.0.2.2, which slirp maps to 127.0.0.1 here) or tap (a TAP
# interface $TAP with 192.168.77.1 here and 192.168.77.2 in the guest). In the
# guest, "netbench client" sends to a netbench server here for $SECS seconds
# (dir=send: guest to host), then receives from another one for $SECS seconds
# (dir=recv: host to guest), $REPS times over (each transfer is a new TCP
# connection with its own server and port). Order per round: ringvm user,
# QEMU user, ringvm tap, QEMU tap; the rounds repeat so that drift in the
# machine's speed hits the VMMs alike. Several connections per boot: under
# nested emulation one TCP connection's throughput depends much on how its
# first round trips went (the guest sizes its TSO frames and windows from the
# rates it sees early), so a figure is worth more as a median of many
# connections, and a boot costs more than a transfer.
#
# The figures are the servers' (this machine's clock): bytes that reached the
# other end, over the time from the first byte until the receiver has it all.
# CPU: each server is given the VMM's pid and reads utime + stime of the whole
# process (every thread, exited ones included) from /proc/PID/stat when its
# transfer starts and when it ends, so the CPU figure covers exactly the
# transfer window, with no boot, DHCP or idle time in it. It is everything the
# VMM process costs the host meanwhile: its I/O threads and the vCPU thread,
# including the time the vCPU runs guest code (reported apart as guest=,
# /proc/PID/stat field 43). Not counted: the netbench server and the kernel
# work done in its context (its TCP stack; for tap, the transmit into the
# TAP), the same for both VMMs. The kernel samples CPU time at each tick (250
# Hz on Debian's; /proc reports 10 ms units) and, without
# IRQ_TIME_ACCOUNTING, charges interrupt and softirq work to whichever task
# the tick finds running: some of this machine's network stack work lands
# in the VMM's figure, by chance, alike for both VMMs.
#
# Prints "RESULT vmm backend run.rep dir bytes=N secs=S mbps=M side=server
# cpu=C guest=G" per transfer (mbps: 10^6 bits/s), the guest's own line as
# "GUEST ...", and a "NOTE ..." line for a run that gave no result.
# Environment: RINGVM KERNEL INITRD QEMU RUNS SECS REPS NETBENCH
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=${RUNS:-3}
SECS=${SECS:-5}
REPS=${REPS:-2}
NETBENCH=${NETBENCH:-/bed/netbench}
WORK=${WORK:-/tmp/rvnet}
TAP=${TAP:-rvbtap0}
LIMIT=${LIMIT:-180}	# seconds for one VM run, boot included
mem=256
# In the outer VM the bench initramfs comes with the bed files.
[ -e /bed/netguest.cpio.gz ] && INITRD=/bed/netguest.cpio.gz
mkdir -p "$WORK"

# Transfer k (1, 2, ...) goes to port 15000+k: odd ones dir=send (the guest
# sends, the server sinks), even ones dir=recv (the server sends).
PORT0=15000
NXFER=$((2 * REPS))
client=
k=1
while [ "$k" -le "$NXFER" ]; do
	dir=send
	[ $((k % 2)) -eq 0 ] && dir=recv
	client="$client netbench client \$H $((PORT0 + k)) $dir $SECS;"
	k=$((k + 1))
done
user_cmd="ip link set lo up; ip link set eth0 up; \
udhcpc -i eth0 -n -q -t 5 -T 2 -s /tests/udhcpc.script >/dev/null && H=10.0.2.2 && $client"
tap_cmd="ip link set lo up; ip link set eth0 up; ip addr add 192.168.77.2/24 dev eth0; \
H=192.168.77.1; $client"
user_append="quiet rvcmd=\"$user_cmd\""
tap_append="quiet rvcmd=\"$tap_cmd\""

# The TAP link: created once, reused by every run (both VMMs give the guest
# the MAC 52:54:00:12:34:56). Needs CAP_NET_ADMIN; without it only user runs.
backends=user
if busybox tunctl -t "$TAP" > /dev/null 2>&1; then
	ip addr add 192.168.77.1/24 dev "$TAP"
	ip link set "$TAP" up
	backends="user tap"
else
	echo "NOTE cannot create TAP interface $TAP; tap runs skipped"
fi

# zombie_or_gone PID: the child has exited (it stays a zombie until waited for,
# so its pid cannot be reused while we poll it).
zombie_or_gone() {
	[ -e "/proc/$1/stat" ] || return 0
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^Z'
}

# run VMM BACKEND COMMAND...: one VM run with its servers on this side.
run() {
	name=$1
	backend=$2
	shift 2
	log=$WORK/$name-$backend-$i
	"$@" > "$log.out" 2>&1 < /dev/null &
	vpid=$!
	servers=
	k=1
	while [ "$k" -le "$NXFER" ]; do
		"$NETBENCH" server $((PORT0 + k)) "$vpid" > "$log.s$k" 2>&1 &
		servers="$servers $!"
		k=$((k + 1))
	done
	n=0
	until zombie_or_gone "$vpid"; do
		if [ "$n" -ge "$LIMIT" ]; then
			echo "NOTE $name $backend $i: still running after $LIMIT s; killed"
			kill -9 "$vpid"
			break
		fi
		sleep 1
		n=$((n + 1))
	done
	wait "$vpid"
	status=$?
	# A server whose client never came is still listening: end it.
	for s in $servers; do
		zombie_or_gone "$s" || kill "$s" 2>/dev/null
		wait "$s"
	done
	tr -d '\r' < "$log.out" | sed -n "s/^NETBENCH /GUEST $name $backend $i /p"
	got=0
	k=1
	while [ "$k" -le "$NXFER" ]; do
		if grep -q '^NETBENCH .*cpu=' "$log.s$k"; then
			sed -n "s/^NETBENCH dir=/RESULT $name $backend $i.$(((k + 1) / 2)) /p" "$log.s$k"
			got=$((got + 1))
		fi
		k=$((k + 1))
	done
	if [ "$got" -lt "$NXFER" ]; then
		echo "NOTE $name $backend $i: $got of $NXFER transfers gave a result (exit status $status); the tail of its output:"
		tr -d '\r' < "$log.out" | tail -n 15 | sed 's/^/NOTE   /'
		cat "$log".s* | grep -v '^NETBENCH\|listening' | sed 's/^/NOTE   server: /'
	fi
	# The VMM's own drop counters, if it printed any.
	tr -d '\r' < "$log.out" | grep -i 'dropped' | sed "s/^/NOTE $name $backend $i: /"
}

# qemu_vm NETDEV APPEND: QEMU as a user would start it, with the same
# kernel command line as ringvm's (its defaults plus -a). exec: in the
# background subshell run() starts, QEMU keeps the pid the servers watch.
qemu_vm() {
	exec "$QEMU" -M pc -enable-kvm -cpu host -m "$mem" -smp 1 \
	    -nodefaults -no-user-config -display none -serial stdio -no-reboot \
	    -kernel "$KERNEL" -initrd "$INITRD" -append "console=ttyS0 sysctl.kernel.panic=-1 $2" \
	    -netdev "$1" -device virtio-net-pci,netdev=n0,romfile=
}

echo "NOTE net-inner: $RUNS rounds, $REPS x $SECS s per direction per boot, backends: $backends"
i=1
while [ "$i" -le "$RUNS" ]; do
	run ringvm user "$RINGVM" -k "$KERNEL" -i "$INITRD" -m ${mem}M -c 1 -n user -a "$user_append"
	run qemu user qemu_vm user,id=n0 "$user_append"
	if [ "$backends" != user ]; then
		run ringvm tap "$RINGVM" -k "$KERNEL" -i "$INITRD" -m ${mem}M -c 1 \
		    -n "tap,ifname=$TAP" -a "$tap_append"
		run qemu tap qemu_vm "tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=off" "$tap_append"
	fi
	i=$((i + 1))
done
[ "$backends" = user ] || busybox tunctl -d "$TAP" > /dev/null 2>&1
exit 0
