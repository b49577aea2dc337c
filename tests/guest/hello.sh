# hello: report what the guest sees; the host checks the lines.
echo "RINGVM-CPUS $(nproc)"
echo "RINGVM-CMDLINE $(cat /proc/cmdline)"
echo "RINGVM-STAMP $(cat /etc/rv-stamp)"
echo "RINGVM-MEM $(sed -n 's/MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
