# ooo: the reassembly attack from inside the guest (tests/guest/tcpooo.c), at
# 10.0.2.16, an address the guest kernel does not own:
#   rv.mode=connect rv.peer=IP rv.port=P rv.n=N  open a connection to IP:P
#   rv.mode=accept rv.port=P rv.n=N             take one a port forward sends
# Then wait for the host's "go" on the console, so it can look at ringvm
# while libslirp still holds whatever it kept.
arg() { sed -n "s/.*\\<$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
ip link set eth0 up || { echo "RINGVM-NET no eth0"; exit 1; }
sleep 1
echo "RINGVM-OOO-READY"
if [ "$(arg rv.mode)" = accept ]; then
	tcpooo accept eth0 10.0.2.16 "$(arg rv.port)" "$(arg rv.n)"
else
	tcpooo connect eth0 10.0.2.16 "$(arg rv.peer)" "$(arg rv.port)" "$(arg rv.n)"
fi
echo "RINGVM-OOO-DONE"
read -t 120 go
