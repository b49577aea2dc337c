#!/bin/sh
# layering.sh: the core's layering holds (docs/ARCHITECTURE.md).
#  1. No call cycle among ringvm's objects: from `nm`, object A depends on B
#     when A uses a symbol B defines; a cycle is a set of objects that reach
#     each other. The check is first shown to catch a cycle it is given.
#     A device or backend split into several files for size (devices/
#     virtio_vsock.c, vsock_rx.c, vsock_conn.c, vsock_host.c, sharing
#     vsock_priv.h) is one unit: its files may call each other, but the unit
#     as a whole must sit in the layering like any file. A unit is named by
#     the file name without "virtio_", up to its first "_".
#  2. No architecture in the generic code: src/*.c, devices/ and
#     netbackends/ name no X86_ or ARM64_ constant and no conf1 port; those
#     are src/arch/<arch>/'s, and the generic code asks arch.h.
# usage: layering.sh CC OBJ...   (prints ok / not ok lines)
set -u
CC=$1
shift
W=${TMPDIR:-/tmp}/ringvm-layering.$$
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT

# cycles OBJ...: print each object that is on a dependency cycle, then its
# edges inside the cycle as "A -> B (symbol)".
unit() {
	case $1 in
	*devices/*|*netbackends/*)
		b=${1##*/}
		b=${b%.o}
		b=${b#virtio_}
		echo "${1%/*}/${b%%_*}" ;;
	*) echo "$1" ;;
	esac
}

cycles() {
	for o in "$@"; do
		nm "$o" | awk -v o="$(unit "$o")" '$1 == "U" { print "U", o, $2; next }
		    NF == 3 && $2 ~ /^[TDBRC]$/ { print "D", o, $3 }'
	done | awk '
	$1 == "D" { def[$3] = $2; next }
	$1 == "U" { use[++nu] = $2 " " $3 }
	END {
		for (i = 1; i <= nu; i++) {
			split(use[i], p, " ")
			if (!(p[2] in def) || def[p[2]] == p[1])
				continue
			e[p[1], def[p[2]]] = 1
			why[p[1], def[p[2]]] = p[2]
			node[p[1]] = 1
			node[def[p[2]]] = 1
		}
		for (k in node) for (i in node) for (j in node)
			if (!r[i, j] && (e[i, j] || (r2(i, k) && r2(k, j))))
				r[i, j] = 1
		for (i in node) for (j in node)
			if (e[i, j] && r[j, i])
				print i " -> " j " (" why[i, j] ")"
	}
	function r2(a, b) { return e[a, b] || r[a, b] }' | sort
}

# The check must see a cycle when there is one: two objects calling each other.
printf 'int b(int);\nint a(int x) { return x ? b(x - 1) : 0; }\n' > "$W/a.c"
printf 'int a(int);\nint b(int x) { return x ? a(x - 1) : 1; }\n' > "$W/b.c"
if $CC -c -o "$W/a.o" "$W/a.c" && $CC -c -o "$W/b.o" "$W/b.c" &&
    [ "$(cycles "$W/a.o" "$W/b.o" | wc -l)" -eq 2 ]; then
	echo "ok - layering: the cycle check finds a planted cycle (a.o <-> b.o)"
else
	echo "not ok - layering: the cycle check misses a planted cycle"
fi

cycles "$@" > "$W/found"
if [ -s "$W/found" ]; then
	echo "not ok - layering: no call cycle among the units of $# objects"
	sed 's/^/#   /' "$W/found" | head -n 20
else
	echo "ok - layering: no call cycle among the $(for o in "$@"; do unit "$o"; done | sort -u | wc -l) units of $# objects"
fi

# Generic files only: the architecture's own files and headers may name theirs.
grep -n 'X86_\|ARM64_\|0xcf8\|0xcfc' src/*.c devices/*.c devices/*.h netbackends/*.c \
    netbackends/*.h > "$W/arch" 2>/dev/null
if [ -s "$W/arch" ]; then
	echo "not ok - layering: the generic code (src/*.c, devices/, netbackends/) names no architecture's constant"
	sed 's/^/#   /' "$W/arch" | head -n 10
else
	echo "ok - layering: the generic code (src/*.c, devices/, netbackends/) names no architecture's constant"
fi
