# run.sh (arm64): the command mode, `ringvm -k KERNEL -- COMMAND`: ringvm's
# own initramfs (ringvm-init, the arm64 modules from /lib/modules/RELEASE,
# the static arm64 busybox) runs the command; its output and status come back.
. "$here/lib64.sh"

t_command_status() {
	have_ringvm || return
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" \
	    -- sh -c 'echo hi; exit 7' > "$1" 2> "$1.err" < /dev/null
	rv_status=$?
	expect_status 7
	printf 'hi\n' | cmp -s - "$1" || fail "stdout '$(head -c 200 "$1")', expected 'hi'"
	# Only ringvm's own words on stderr (no console lines of the guest's).
	[ -z "$case_fail" ] || { echo "-- stderr:"; cat "$1.err"; } >> "$1"
}
