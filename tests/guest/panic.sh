# panic: crash the guest kernel; pvpanic must make ringvm exit with the panic status.
echo "RINGVM-PANICKING"
echo 1 > /proc/sys/kernel/sysrq
echo c > /proc/sysrq-trigger
sleep 30
