# mem.sh: the guest's side of the worst-case memory test
# (tests/bed/cases/mem.sh), run in command mode with the test initramfs as
# root: busybox sh /tests/mem.sh TCPPORT NTCP VSPORT NVS VLPORT NVL HOLD DISK:THREADS...
# Loads every device and keeps it loaded (tests/guest/memload.c): first 32
# KiB for the serial port, whose host reader never reads, so ringvm's console
# ring and its pipe (one page: memhost shrinks it) fill;
# then NTCP TCP connections to 10.0.2.2:TCPPORT (the user network), written
# to until they block, never read; NVS vsock connections to the host's port
# VSPORT, the same; THREADS threads of direct I/O on each disk; all held for
# HOLD s. A vsock listener on VLPORT takes NVL connections from the host and
# never reads them.
# The serial writes come first, alone: under nested virtualisation a burst of
# port writes on top of the rest of the load wedged the outer VM (5 of 10
# runs; none in 3 without it).
# Markers on stdout (the command's, through vsock, unaffected by the serial
# port): RINGVM-MEM-VLISTEN, RINGVM-MEM-CONSOLE, RINGVM-MEM-LOADED ...,
# RINGVM-MEM-DONE ...
/bin/busybox --install -s /bin 2> /dev/null
export PATH=/bin:/sbin
tcpport=$1 ntcp=$2 vsport=$3 nvs=$4 vlport=$5 nvl=$6 hold=$7
shift 7

memload vlisten "$vlport" "$nvl" < /dev/null > /tmp/vl.log 2>&1 &
for i in $(seq 50); do grep -q ready /tmp/vl.log && break; usleep 100000; done
echo "RINGVM-MEM-VLISTEN $(cat /tmp/vl.log)"
# Every background job's stdio is redirected as a whole: one still holding
# the command's stdout would keep ringvm-init from ever seeing its end.
(head -c 32768 /dev/zero | tr '\0' x) < /dev/null > /dev/ttyS0 2> /dev/null &
flood=$!
sleep 20
echo "RINGVM-MEM-CONSOLE"
# The vsock connections first, alone: each request is answered by ringvm's
# loop, which the TCP and disk storms that follow keep busy.
memload vsock "$vsport" "$nvs" < /dev/null > /tmp/vs.log 2>&1 &
for i in $(seq 120); do grep -q connected /tmp/vs.log && break; sleep 1; done
memload tcp 10.0.2.2 "$tcpport" "$ntcp" < /dev/null > /tmp/tcp.log 2>&1 &
for d; do
	memload disk "/dev/${d%:*}" "${d#*:}" < /dev/null > "/tmp/disk.${d%:*}.log" 2>&1 &
done
# Until both streams are stalled (every buffer on the way is full), at most 300 s.
for i in $(seq 300); do
	grep -q stalled /tmp/tcp.log && grep -q stalled /tmp/vs.log && break
	sleep 1
done
echo "RINGVM-MEM-LOADED after ${i}s: $(cat /tmp/tcp.log /tmp/vs.log /tmp/disk.*.log | tr '\n' ' ')"
sleep "$hold"
# The serial writer still blocked: ringvm's console ring and its pipe are full.
# (its state from /proc: a finished one may linger as a zombie, Z)
st=$(sed 's/.*) //; s/ .*//' "/proc/$flood/stat" 2> /dev/null)
case "$st" in S|D) serial=blocked ;; *) serial="done${st:+ ($st)}" ;; esac
echo "RINGVM-MEM-DONE serial=$serial $(cat /tmp/vl.log /tmp/tcp.log /tmp/vs.log | tr '\n' ' ')"
exit 0
