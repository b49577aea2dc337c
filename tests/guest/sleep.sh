# sleep: stay up until the host stops ringvm.
echo "RINGVM-SLEEPING"
while :; do sleep 60; done
