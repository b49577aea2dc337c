#!/bin/sh
# demo.sh: boot Debian's kernel with the test initramfs in ringvm, to a shell
# (no arguments) or to a command (arguments), and power off after it. Runs
# ringvm directly where the CPU has vmx/svm, else inside the nested outer
# VM, as the tests do. Ctrl-A x quits.
# usage: demo.sh [COMMAND...]   (or CMD='command' in the environment, from make demo)
set -eu
. "$(dirname "$0")/common.sh"
cmd="${*:-${CMD:-}}"
case $cmd in *\"*) bed_die "the demo command may not contain double quotes" ;; esac
mode=$(bed_mode)
if [ -n "$cmd" ]; then append="quiet rvcmd=\"$cmd\""; else append="quiet"; fi
echo "demo: $mode mode; guest kernel $KVER; ${cmd:+command: $cmd; }Ctrl-A x quits" >&2
if [ "$mode" = direct ]; then
	exec "$TOP/ringvm" -k "$BUILD/vmlinuz" -i "$BUILD/guest.cpio.gz" -c 2 -m 512M -a "$append"
fi

# Nested: an outer QEMU VM runs ringvm on its console, which is this terminal.
inner=$BUILD/demo-inner.sh
cat > "$inner" <<INNER
#!/bin/sh
/rv/ringvm -k /rv/vmlinuz -i /rv/guest.cpio.gz -c 2 -m 512M -a '$append'
echo "demo: ringvm exited with status \$?"
INNER
chmod +x "$inner"
"$TOP/tests/bed/mkouter.sh" "$BUILD/demo.cpio.lz4" "$inner"
echo "demo: starting the outer VM (about 5 s), then the guest (about 8 s)..." >&2
exec qemu-system-x86_64 -M q35 -accel tcg,thread=multi -smp 1 -cpu EPYC,+svm,+npt \
    -m 2048 -nodefaults -no-user-config -display none -serial stdio -no-reboot \
    -kernel "$KERNEL_SRC" -initrd "$BUILD/demo.cpio.lz4" \
    -append "console=ttyS0 quiet loglevel=0 panic=-1 tsc=reliable softlockup_panic=1 rvbed.cmd=demo-inner.sh" 2>/dev/null
