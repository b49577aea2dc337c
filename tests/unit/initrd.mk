# initrd.mk: unit tests and the fuzz target for ringvm's own initramfs
# (issue 8): the newc writer (src/cpio.c) and the guest kernel's modules
# (src/kmod.c, src/kmod_dep.c, src/kmod_walk.c). No KVM and no guest:
# test_cpio reads its archives back with tests/unit/newc.c and the host's
# cpio; test_kmod resolves and packs fake module trees in a scratch
# directory; test_kmod_version reads bzImage versions, then this machine's
# installed Debian kernel and its /lib/modules tree when there is one.
INITRD_TEST_OBJ = obj/tests/unit/newc.o obj/tests/unit/tmptree.o
INITRD_KMOD_OBJ = obj/src/kmod.o obj/src/kmod_dep.o obj/src/kmod_walk.o obj/src/cpio.o \
	$(INITRD_TEST_OBJ)

UNIT_BIN += obj/tests/test_cpio
obj/tests/test_cpio: obj/tests/unit/test_cpio.o obj/src/cpio.o $(INITRD_TEST_OBJ)

UNIT_BIN += obj/tests/test_kmod obj/tests/test_kmod_version
obj/tests/test_kmod: obj/tests/unit/test_kmod.o $(INITRD_KMOD_OBJ)
obj/tests/test_kmod_version: obj/tests/unit/test_kmod_version.o $(INITRD_KMOD_OBJ)

# fuzz_kmod: kmod_kernel_version on a file's bytes, and the modules.dep /
# modules.builtin parser with the dependency walk (the recipe is fuzz.mk's).
FUZZ_BIN += obj/fuzz/fuzz_kmod
obj/fuzz/fuzz_kmod: tests/fuzz/fuzz_kmod.c src/kmod.c src/kmod_dep.c src/kmod_walk.c src/cpio.c $(HEADERS)
ifneq ($(FUZZ_CC),)
fuzz: obj/fuzz/fuzz_kmod
endif
