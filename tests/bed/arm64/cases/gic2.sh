# gic2.sh (arm64): what only a GICv2 machine shows; run.sh runs this group
# in the outer VM whose GIC is a GICv2 (the pseudo group gicv2), never in
# the GICv3 one.
. "$here/lib64.sh"

# A GICv2 serves at most 8 CPUs: a ninth is a usage error, said in one line
# (KVM's own KVM_CAP_MAX_VCPUS says 8 there, before machine.c's own check).
t_nine_cpus_refused() {
	have_ringvm || return
	timeout -s KILL "$RV_TIMEOUT" "$RINGVM" -k "$KERNEL" -i "$INITRD" -c 9 \
	    > "$1.stdout" 2> "$1" < /dev/null
	rv_status=$?
	expect_status 2
	expect_line "$1" '^ringvm: cpu count 9 is above what KVM allows \(8\)$'
	[ "$(wc -l < "$1")" -eq 1 ] || fail "$(wc -l < "$1") lines on stderr, expected 1"
}

# Without an ITS the virtio devices' interrupts are INTx lines (SPIs 3-6),
# level-triggered, and the guest uses them.
t_intx_without_its() {
	have_ringvm || return
	rv "$1" -a 'quiet rvcmd="echo ITS-MSI-COUNT=$(grep -c ITS-MSI /proc/interrupts); grep virtio /proc/interrupts"'
	expect_status 0
	expect_line "$1" '^ITS-MSI-COUNT=0$'
	expect_line "$1" 'GIC-0 +3[5-8] Level +virtio'
}
