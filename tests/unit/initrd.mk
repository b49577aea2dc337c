# initrd.mk: unit tests and the fuzz target for ringvm's own initramfs
# (issue 8): the newc writer (src/cpio.c) and the guest kernel's modules
# (src/kmod.c, src/kmod_dep.c). No KVM and no guest: test_cpio reads its
# archives back with tests/unit/newc.c and the host's cpio; test_kmod
# resolves fake module trees in a scratch directory and, when installed,
# this machine's Debian kernel and its /lib/modules tree.
INITRD_TEST_OBJ = obj/tests/unit/newc.o obj/tests/unit/tmptree.o

UNIT_BIN += obj/tests/test_cpio
obj/tests/test_cpio: obj/tests/unit/test_cpio.o obj/src/cpio.o $(INITRD_TEST_OBJ)
