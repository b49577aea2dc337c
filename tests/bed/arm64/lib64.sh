# lib64.sh: helpers of the arm64 case groups (tests/bed/arm64/cases/), on
# top of caselib.sh; each group sources it ($here is run-cases.sh's directory).

# have_ringvm: the outer VM carries the arm64 ringvm; else the case fails
# saying so (mkouter.sh packs build/arm64/ringvm when it exists).
have_ringvm() {
	[ -x "$RINGVM" ] && return 0
	fail "no arm64 ringvm in the outer VM: build/arm64/ringvm was missing when the bed was built (run tests/arm64-build.sh)"
	return 1
}
