#!/bin/sh
# badinput.sh: every bad host input gets one clear line on stderr, a
# documented non-zero status, no crash and no core (HOSTILE.md H1-H7).
# Needs /dev/kvm only for the cases that must reach KVM (the vCPU limit).
# usage: badinput.sh RINGVM TINYDIR WORKDIR
set -u
RINGVM=$1
TINY=$2
W=$3
mkdir -p "$W"
cd "$W" || exit 1
rm -f core core.*

# bad NAME STATUS REGEX ARG...: run ringvm, expect STATUS, exactly one stderr
# line matching REGEX, nothing on stdout.
bad() {
	name=$1 want=$2 re=$3
	shift 3
	timeout -s KILL 20 "$RINGVM" "$@" > out 2> err < /dev/null
	st=$?
	lines=$(wc -l < err)
	why=
	[ "$st" = "$want" ] || why="status $st, expected $want"
	[ -z "$why" ] && [ "$lines" -ne 1 ] && why="$lines lines on stderr, expected 1"
	[ -z "$why" ] && ! grep -Eq -- "$re" err && why="stderr '$(head -c 200 err)' does not match '$re'"
	[ -z "$why" ] && [ -s out ] && why="unexpected stdout"
	[ -z "$why" ] && ls core* > /dev/null 2>&1 && why="left a core file"
	if [ -z "$why" ]; then
		echo "ok - badinput/$name"
	else
		echo "not ok - badinput/$name: $why"
		sed 's/^/#   /' err | head -n 5
	fi
}

K=$TINY/tiny.bzImage
head -c 65536 /dev/urandom > random.bin
head -c 100 /dev/urandom > tiny.bin
mkdir -p adir
: > empty
: > afile
head -c $((300 * 1024 * 1024)) /dev/zero > big.initrd 2>/dev/null || truncate -s 300M big.initrd
long=$(head -c 3000 /dev/zero | tr '\0' a)

# H1: missing or unopenable files.
bad missing_kernel 3 "cannot open kernel 'nope': No such file" -k nope
bad kernel_not_a_path 3 "cannot open kernel 'afile/x': Not a directory" -k afile/x
bad kernel_directory 3 "kernel 'adir' is not a regular file" -k adir
bad missing_initrd 3 "cannot open initrd 'nope': No such file" -k "$K" -i nope
bad initrd_directory 3 "initrd 'adir' is not a regular file" -k "$K" -i adir
bad empty_initrd 3 "initrd 'empty' is empty" -k "$K" -i empty
# H2: kernels that are not what they claim.
bad kernel_random 3 "kernel 'random.bin' is not a bzImage" -k random.bin
bad kernel_tiny_file 3 "kernel 'tiny.bin' is too small to be a kernel \\(100 bytes\\)" -k tiny.bin
bad dump_dtb_on_x86 2 "^ringvm: --dump-dtb: an x86 guest is described by ACPI tables, not a device tree$" -k "$K" --dump-dtb x.dtb
bad kernel_empty 3 "kernel 'empty' is too small to be a kernel \\(0 bytes\\)" -k empty
bad kernel_elf_program 3 "kernel '.*' is not an ELF executable \\(type 3\\)" -k "$RINGVM"
bad kernel_no_magic 3 "is not a bzImage \\(no HdrS" -k "$TINY/nomagic.bzImage"
bad kernel_old_protocol 3 "boot protocol 2.01; ringvm needs 2.12" -k "$TINY/oldproto.bzImage"
bad kernel_not_64bit 3 "is not a 64-bit kernel" -k "$TINY/not64.bzImage"
bad kernel_truncated 3 "is truncated: need [0-9]+ bytes, file has [0-9]+" -k "$TINY/truncated.bzImage"
# H2 for ELF kernels (vmlinux through the PVH entry): the file is told from
# a bzImage by its content; every header, segment and note is checked.
# The builders below print printf escapes (text: a command substitution
# would drop NUL bytes); mkelf and elf_body turn them into bytes.
# le N VALUE: VALUE as N little-endian bytes.
le() {
	_n=$1 _v=$2 _s=
	while [ "$_n" -gt 0 ]; do
		_s="$_s\\$(printf %03o $((_v & 255)))"
		_v=$((_v >> 8))
		_n=$((_n - 1))
	done
	printf '%s' "$_s"
}
# phdr TYPE OFFSET PADDR FILESZ MEMSZ: one Elf64_Phdr.
phdr() { le 4 "$1"; le 4 7; le 8 "$2"; le 8 "$3"; le 8 "$3"; le 8 "$4"; le 8 "$5"; le 8 4096; }
# mkelf FILE CLASS MACHINE PHNUM PHDRS: an ELF header, then the program
# headers at 64, as in a vmlinux.
mkelf() {
	printf "\\177ELF$(le 1 "$2")$(le 2 257)$(le 9 0)$(le 2 2)$(le 2 "$3")$(le 4 1)$(le 8 0x1000000)$(le 8 64)$(le 8 0)$(le 4 0)$(le 2 64)$(le 2 56)$(le 2 "$4")$(le 2 64)$(le 4 0)$5" > "$1"
}
# A good layout: PT_LOAD (4 KiB at file offset 4096 to 16 MiB), PT_NOTE at 512.
good_ph="$(phdr 1 4096 0x1000000 4096 8192)$(phdr 4 512 0 24 24)"
pad_to() { head -c $(($1 - $(wc -c < "$2"))) /dev/zero >> "$2"; }
# elf_body FILE [ENTRY]: Xen's PVH entry note at 512 (8 bytes, as Linux
# writes it; entry 16 MiB unless given), the file padded to 8 KiB.
elf_body() {
	pad_to 512 "$1"
	printf "$(le 4 4)$(le 4 8)$(le 4 18)Xen\\000$(le 8 "${2:-0x1000000}")" >> "$1"
	pad_to 8192 "$1"
}
mkelf elf32.elf 1 62 2 "$good_ph"; elf_body elf32.elf
bad kernel_elf_32bit 3 "kernel 'elf32.elf' is a 32-bit ELF file; ringvm boots 64-bit x86 kernels" -k elf32.elf
mkelf arm64.elf 2 183 2 "$good_ph"; elf_body arm64.elf
bad kernel_elf_arm64 3 "kernel 'arm64.elf' is an ELF file for machine 183, not x86-64" -k arm64.elf
mkelf phnum.elf 2 62 1000 "$good_ph"; elf_body phnum.elf
bad kernel_elf_phnum 3 "has 1000 ELF program headers \\(1 to 64 allowed\\)" -k phnum.elf
mkelf nonote.elf 2 62 1 "$good_ph"; elf_body nonote.elf
bad kernel_elf_no_pvh_note 3 "kernel 'nonote.elf' has no PVH entry note \\(XEN_ELFNOTE_PHYS32_ENTRY\\); build the kernel with CONFIG_PVH" -k nonote.elf
mkelf entry.elf 2 62 2 "$good_ph"; elf_body entry.elf 0x2000000
bad kernel_elf_entry_outside 3 "has its PVH entry point 0x2000000 outside its loaded segments" -k entry.elf
mkelf hole.elf 2 62 2 "$(phdr 1 4096 0xbffff000 4096 8192)$(phdr 4 512 0 24 24)"; elf_body hole.elf
bad kernel_elf_in_hole 3 "program header 0: segment at 0xbffff000 of 0x2000 bytes lies outside low RAM" -k hole.elf
mkelf low.elf 2 62 2 "$(phdr 1 4096 0x8000 4096 4096)$(phdr 4 512 0 24 24)"; elf_body low.elf
bad kernel_elf_below_1m 3 "program header 0: segment at 0x8000 of 0x1000 bytes lies outside low RAM" -k low.elf
mkelf overlap.elf 2 62 3 "$good_ph$(phdr 1 4096 0x1001000 4096 4096)"; elf_body overlap.elf
bad kernel_elf_overlap 3 "program header 2: segment at 0x1001000 of 0x1000 bytes overlaps the one at 0x1000000" -k overlap.elf
mkelf trunc.elf 2 62 2 "$(phdr 1 4096 0x1000000 65536 65536)$(phdr 4 512 0 24 24)"; elf_body trunc.elf
bad kernel_elf_truncated 3 "is truncated: program header 0 needs 0x10000 bytes at 0x1000, file has 8192" -k trunc.elf
mkelf big.elf 2 62 2 "$(phdr 1 4096 0x1000000 4096 0x8000000)$(phdr 4 512 0 24 24)"; elf_body big.elf
bad kernel_elf_mem_too_small 2 "memory size 64M is too small for kernel 'big.elf': it needs 144M" -k big.elf -m 64M
# H3: an initrd larger than guest memory, with both sizes named.
bad initrd_too_big 3 "initrd 'big.initrd' \\(314572800 bytes\\) does not fit in guest memory \\(67108864 bytes\\)" -k "$K" -i big.initrd -m 64M
# H4: a command line longer than the kernel accepts.
bad cmdline_too_long 2 "kernel command line is [0-9]+ bytes; this kernel accepts at most 2047" -k "$K" -a "$long"
# H7: the command line itself.
bad mem_not_number 2 "memory size 'abc' is not a size" -k "$K" -m abc
bad mem_zero 2 "memory size '0' is too small" -k "$K" -m 0
bad mem_too_small 2 "memory size '8M' is too small: the minimum is 16M" -k "$K" -m 8M
bad mem_overflow 2 "memory size '18446744073709551616' is too large" -k "$K" -m 18446744073709551616
bad mem_overflow_suffix 2 "memory size '16777216T' is too large" -k "$K" -m 16777216T
bad mem_over_host 2 "memory size [0-9]+M is more than the host has" -k "$K" -m 64T
bad mem_bad_suffix 2 "memory size '12Q' is not a size" -k "$K" -m 12Q
bad cpus_zero 2 "cpu count 0 is out of range: use 1 to 64" -k "$K" -c 0
bad cpus_too_many 2 "cpu count 65 is out of range" -k "$K" -c 65
bad cpus_not_number 2 "cpu count 'two' is not a number" -k "$K" -c two
bad cpus_negative 2 "cpu count '-1' is not a number" -k "$K" -c -1
bad cpus_overflow 2 "cpu count 99999999999999999999 is out of range" -k "$K" -c 99999999999999999999
bad unknown_long 2 "unknown option '--bogus'" -k "$K" --bogus
bad unknown_short 2 "unknown option '-x'" -k "$K" -x
bad missing_argument 2 "option -k needs an argument" -k
bad repeated_kernel 2 "option -k given twice" -k "$K" -k "$K"
bad repeated_memory 2 "option --memory given twice" -k "$K" --memory 64M --memory 128M
bad no_kernel 2 "no kernel given" -m 64M
bad stray_argument 2 "unexpected argument 'extra'" -k "$K" extra
# The kernel needs more memory than given (a usage error, named with both figures).
bad mem_below_kernel 2 "memory size 16M is too small for kernel" -k "$TINY/bigkernel.bzImage" -m 16M
# H5, H6: disk images and disk specs.
head -c 1000 /dev/zero > odd.img
head -c 1048576 /dev/zero > ok.img
rm -f fifo && mkfifo fifo
bad disk_missing 3 "disk 'nope' cannot be opened: No such file or directory" -k "$K" -d nope
bad disk_directory 3 "disk 'adir' is not a regular file" -k "$K" -d adir,ro
bad disk_directory_rw 3 "disk 'adir' cannot be opened: Is a directory" -k "$K" -d adir
bad disk_fifo 3 "disk 'fifo' is not a regular file" -k "$K" -d fifo,ro
bad disk_empty 3 "disk 'empty' is empty" -k "$K" -d empty
bad disk_odd_size 3 "disk 'odd.img' has 1000 bytes, not a multiple of 512" -k "$K" -d odd.img
bad disk_no_path 2 "disk ',ro': no image path" -k "$K" -d ,ro
bad disk_unknown_option 2 "disk 'ok.img,bogus': unknown option 'bogus'" -k "$K" -d ok.img,bogus
bad disk_bad_ring 2 "unknown option 'ring=ring'" -k "$K" -d ok.img,ring=ring
bad disk_bad_aio 2 "unknown option 'aio=posix'" -k "$K" -d ok.img,aio=posix
bad disk_long_serial 2 "serial longer than 20 bytes" -k "$K" -d ok.img,serial=123456789012345678901
set -- -k "$K"
for i in 1 2 3 4 5 6 7 8 9; do set -- "$@" -d ok.img,ro; done
bad disk_too_many 2 "more than 8 disks" "$@"
# H6: a read-write disk whose file cannot be written. Root writes through
# file modes, so root gets a read-only bind mount in a private mount namespace.
cp ok.img ro.img
chmod 444 ro.img
if [ "$(id -u)" = 0 ]; then
	RINGVM_REAL=$RINGVM
	cat > ro-wrap.sh <<EOS
#!/bin/sh
exec unshare -m sh -c 'mount --bind ro.img ro.img && mount -o remount,bind,ro ro.img && exec "\$0" "\$@"' "$RINGVM_REAL" "\$@"
EOS
	chmod 755 ro-wrap.sh
	RINGVM=$W/ro-wrap.sh
fi
bad disk_readonly_file 3 "disk 'ro.img' is read-only \\((Read-only file system|Permission denied)\\); add ,ro or ,snapshot" -k "$K" -d ro.img
RINGVM=${RINGVM_REAL:-$RINGVM}
# Snapshot disks: ro contradicts them; the overlay's directory (TMPDIR) is
# named when it cannot hold the overlay; the map's bound (512 GiB).
bad disk_snapshot_ro 2 "disk 'ok.img,ro,snapshot': ro and snapshot exclude each other" -k "$K" -d ok.img,ro,snapshot
export TMPDIR="$W/no-such-dir"
bad disk_snapshot_tmpdir_missing 3 "disk 'ok.img' cannot have its snapshot overlay in '$W/no-such-dir' \\(TMPDIR\\): No such file or directory" \
    -k "$K" -d ok.img,snapshot
export TMPDIR="$W/afile"
bad disk_snapshot_tmpdir_file 3 "disk 'ok.img' cannot have its snapshot overlay in '$W/afile' \\(TMPDIR\\): Not a directory" \
    -k "$K" -d ok.img,snapshot
# Not writable: root writes through modes, so it gets a read-only bind mount.
rm -rf rotmp && mkdir rotmp && chmod 555 rotmp
export TMPDIR="$W/rotmp"
if [ "$(id -u)" = 0 ]; then
	cat > rotmp-wrap.sh <<EOS
#!/bin/sh
exec unshare -m sh -c 'mount --bind "$W/rotmp" "$W/rotmp" && mount -o remount,bind,ro "$W/rotmp" && exec "\$0" "\$@"' "$RINGVM" "\$@"
EOS
	chmod 755 rotmp-wrap.sh
	RINGVM_REAL=$RINGVM
	RINGVM=$W/rotmp-wrap.sh
fi
bad disk_snapshot_tmpdir_readonly 3 "disk 'ok.img' cannot have its snapshot overlay in '$W/rotmp' \\(TMPDIR\\): (Read-only file system|Permission denied)" \
    -k "$K" -d ok.img,snapshot
RINGVM=${RINGVM_REAL:-$RINGVM}
unset TMPDIR
truncate -s 513G big-snap.img
bad disk_snapshot_too_big 3 "disk 'big-snap.img' has 550829555712 bytes; a snapshot disk may have at most 512 GiB \\(its overlay map, one bit per 4 KiB, is capped at 16 MiB\\)" \
    -k "$K" -d big-snap.img,snapshot
rm -f big-snap.img

# First contact (issue 12): every -d and -n spec, sub-options included, is
# judged before the KVM device is opened, so these fail the same way on a
# machine with no KVM at all (RINGVM_KVM_DEVICE points nowhere for them).
export RINGVM_KVM_DEVICE=$W/no-such-kvm
bad net_bad_hostfwd_port 2 "net 'user,hostfwd=tcp::99999-:22': hostfwd 'tcp::99999-:22': host port '99999' is out of range" \
    -k "$K" -n user,hostfwd=tcp::99999-:22
bad net_bad_user_option 2 "net 'user,restrict=maybe': restrict 'maybe': expected on or off" -k "$K" -n user,restrict=maybe
bad net_bad_tap_option 2 "net 'tap,bogus=1': unknown option 'bogus'" -k "$K" -n tap,bogus=1
# -n tap,fd=N: the descriptor is judged before anything opens (not a number,
# the console's, not open, not a TAP, or with ifname=).
bad net_tap_fd_not_number 2 "net 'tap,fd=abc': fd 'abc': not a descriptor number" -k "$K" -n tap,fd=abc
bad net_tap_fd_console 2 "net 'tap,fd=1': fd 1: descriptors 0, 1 and 2 are the console's" -k "$K" -n tap,fd=1
exec 9<&-
bad net_tap_fd_not_open 2 "net 'tap,fd=9': fd 9: not an open descriptor \\(Bad file descriptor\\)" -k "$K" -n tap,fd=9
exec 8< afile
bad net_tap_fd_not_tap 2 "net 'tap,fd=8': fd 8: not a TAP device \\(not a character device\\)" -k "$K" -n tap,fd=8
exec 8< /dev/null
bad net_tap_fd_null 2 "net 'tap,fd=8': fd 8: not a TAP device \\(TUNGETIFF: " -k "$K" -n tap,fd=8
exec 8<&-
bad net_tap_fd_and_ifname 2 "net 'tap,fd=3,ifname=tap0': fd= and ifname= exclude each other" -k "$K" -n tap,fd=3,ifname=tap0
bad net_none_option 2 "net 'none,x=1': unknown option 'x=1'" -k "$K" -n none,x=1
bad net_bad_mac 2 "mac 'zz' is not a unicast address" -k "$K" -n user,mac=zz
bad net_bad_backend 2 "unknown backend 'vde'" -k "$K" -n vde
bad rng_bad_word 2 "rng 'fast': unknown option 'fast' \\(use off, on, or rate=BYTES\\[/s\\],burst=BYTES\\)" \
    -k "$K" --rng fast
bad rng_rate_zero 2 "rng 'rate=0': rate '0' is not 1K/s to 1G/s" -k "$K" --rng rate=0
bad rng_burst_too_big 2 "rng 'burst=1G': burst '1G' is not 64 to 16M bytes" -k "$K" --rng burst=1G
bad rng_twice 2 "option --rng given twice" -k "$K" --rng off --rng on
bad check_bad_disk 3 "disk 'nope' cannot be opened: No such file or directory" --check -k "$K" -d nope

# The command mode: every failure of ringvm's own is 125, with the cause.
bad run_no_command 125 "no command after --" -k "$K" --
bad run_bad_timeout 125 "timeout 'soon' is not a time" -k "$K" --timeout soon -- true
bad run_option_needs_command 2 "option --timeout needs a command after --" -k "$K" --timeout 5
bad run_no_kernel_version 125 "kernel '$K' has no kernel version string" --check -k "$K" -- true
bad run_no_modules 125 "module directory $W/nope: No such file or directory" --check -k "$K" \
    --modules "$W/nope" -- true
bad run_root_not_fs 125 "root image 'random.bin' is not ext4, squashfs or erofs" --check -k "$K" \
    --root random.bin -- true
bad run_root_missing 125 "root image 'nope.img': No such file or directory" --check -k "$K" \
    --root nope.img -- true
# A module tree whose kernel has virtio-pci and vsock built in gets past the modules.
mkdir -p mods
: > mods/modules.dep
printf 'kernel/drivers/virtio/virtio_pci.ko\nkernel/net/vmw_vsock/vmw_vsock_virtio_transport.ko\n' \
    > mods/modules.builtin
bad run_bad_disk 125 "disk 'nope' cannot be opened" --check -k "$K" --modules mods -d nope -- true

# --check: a good command line exits 0 and prints nothing, opening no KVM.
timeout -s KILL 20 "$RINGVM" --check -k "$K" -d ok.img -d ok.img,ro -n user,hostfwd=tcp::2222-:22 \
    -n tap,ifname=rv-none -n none > out 2> err < /dev/null
st=$?
why=
[ "$st" = 0 ] || why="status $st, expected 0"
[ -z "$why" ] && { [ -s out ] || [ -s err ]; } && why="printed '$(head -c 200 out err)'"
if [ -z "$why" ]; then echo "ok - badinput/check_good_exits_0"; else
	echo "not ok - badinput/check_good_exits_0: $why"; sed 's/^/#   /' err | head -n 5; fi

# KVM errors that say what to do: no device, not a KVM device, and a device
# this user may not open (as nobody, when root can switch to it).
bad kvm_missing 1 "cannot open $W/no-such-kvm: No such file or directory: KVM is not available here: load the kvm_intel or kvm_amd module.*nested virtualization" \
    -k "$K"
: > fake-kvm
chmod 600 fake-kvm
export RINGVM_KVM_DEVICE=$W/fake-kvm
bad kvm_not_a_kvm 1 "$W/fake-kvm is not a KVM device: ioctl \\(GET_API_VERSION\\) failed" -k "$K"
# util-linux's setpriv (busybox's has no --reuid and may come first in PATH).
SETPRIV=
for s in /usr/bin/setpriv $(command -v setpriv); do
	"$s" --reuid=0 --regid=0 --clear-groups true 2> /dev/null && { SETPRIV=$s; break; }
done
if [ "$(id -u)" = 0 ] && [ -n "$SETPRIV" ]; then
	cp "$K" k.bzImage
	chmod 644 k.bzImage
	chmod 755 "$W"
	RINGVM_REAL=$RINGVM
	cat > nobody-wrap.sh <<EOS
#!/bin/sh
exec $SETPRIV --reuid=65534 --regid=65534 --clear-groups "$RINGVM_REAL" "\$@"
EOS
	chmod 755 nobody-wrap.sh
	RINGVM=$W/nobody-wrap.sh
	bad kvm_permission_denied 1 "cannot open $W/fake-kvm: Permission denied: this user may not use KVM: add it to the kvm group .*log in again" \
	    -k k.bzImage
	RINGVM=$RINGVM_REAL
elif [ "$(id -u)" != 0 ]; then
	bad kvm_permission_denied 1 "cannot open $W/fake-kvm: Permission denied: this user may not use KVM" -k "$K"
else
	echo "not ok - badinput/kvm_permission_denied: setpriv(1) is missing: install util-linux"
fi
unset RINGVM_KVM_DEVICE
