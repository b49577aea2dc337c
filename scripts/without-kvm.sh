#!/bin/sh
# without-kvm.sh: run a command as on a machine that has no /dev/kvm at all,
# to try the test suite's choice of mode there (docs/TESTING.md). The command
# runs in a private mount namespace whose /dev holds every entry of the real
# one except kvm; nothing outside the command sees a change. Needs root.
# usage: scripts/without-kvm.sh COMMAND [ARG...]
#   e.g. scripts/without-kvm.sh make check
set -eu
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
exec unshare -m sh -c '
set -eu
mount --make-rprivate /
old=$(mktemp -d)
mount --rbind /dev "$old"
mount -t tmpfs -o mode=755 nokvm /dev
for e in "$old"/* "$old"/.[!.]*; do
	[ -e "$e" ] || [ -L "$e" ] || continue
	n=${e##*/}
	case $n in kvm|pts|ptmx) continue ;; esac
	if [ -L "$e" ]; then
		cp -P "$e" "/dev/$n"
	elif [ -d "$e" ]; then
		mkdir "/dev/$n"
		mount --rbind "$e" "/dev/$n"
	else
		: > "/dev/$n"
		mount --bind "$e" "/dev/$n"
	fi
done
# Terminals of their own, as a machine has: a devpts instance and its ptmx
# (a bind of the outer ones left /dev/ptmx unusable for new terminals).
mkdir /dev/pts
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
exec "$@"' without-kvm "$@"
