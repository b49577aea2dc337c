# virtio.mk: unit tests for the virtio core and virtio-blk (no KVM).
# test_virtq and test_virtq_ev need only the walker and guest memory;
# test_vpci and test_vblk link the real transport and device (sync and
# io_uring engines) with stubs_virtio.o standing in for irq.c and the KVM
# ioctls. vfake.o is the fake driver the fuzzers share (tests/fuzz/fuzz.mk).
VIRTIO_TEST_OBJ = obj/tests/unit/vfake.o obj/tests/unit/stubs_virtio.o \
	obj/src/virtio_pci.o obj/src/kick.o obj/src/virtq.o obj/src/gmem.o obj/src/msix.o \
	obj/src/pci.o obj/src/bus.o obj/src/arch/x86/machine.o obj/src/disk.o obj/src/disk_io.o obj/src/disk_cow.o obj/src/disk_tmp.o \
	obj/devices/virtio_blk.o obj/src/devinst.o obj/src/log.o

UNIT_BIN += obj/tests/test_virtq obj/tests/test_virtq_ev obj/tests/test_vpci obj/tests/test_vblk
obj/tests/test_virtq: obj/tests/unit/test_virtq.o obj/tests/unit/vfake.o obj/src/virtq.o \
	obj/src/gmem.o obj/src/log.o
obj/tests/test_virtq_ev: obj/tests/unit/test_virtq_ev.o obj/tests/unit/vfake.o obj/src/virtq.o \
	obj/src/gmem.o obj/src/log.o
obj/tests/test_vpci: obj/tests/unit/test_vpci.o $(VIRTIO_TEST_OBJ)
obj/tests/test_vblk: obj/tests/unit/test_vblk.o $(VIRTIO_TEST_OBJ)

# test_disk: the disk engine's host-failure paths, injected with --wrap.
UNIT_BIN += obj/tests/test_disk
obj/tests/test_disk: LDFLAGS += -Wl,--wrap=io_uring_submit,--wrap=fdatasync,--wrap=close
obj/tests/test_disk: obj/tests/unit/test_disk.o $(VIRTIO_TEST_OBJ)

# The queue notification watcher and its empty-storm pause (src/kick.c).
UNIT_BIN += obj/tests/test_kick
obj/tests/test_kick: obj/tests/unit/test_kick.o obj/src/kick.o $(UNIT_COMMON)

# test_vrng: the entropy device behind the real transport; its bucket reads
# a fake clock, and getrandom fails on demand through --wrap.
UNIT_BIN += obj/tests/test_vrng
obj/tests/test_vrng: LDFLAGS += -Wl,--wrap=getrandom
obj/tests/test_vrng: obj/tests/unit/test_vrng.o obj/devices/virtio_rng.o $(VIRTIO_TEST_OBJ)

# test_disk_cow: snapshot disks on both engines; open (to force the mkstemp
# fallback) and fdatasync (to see which file a flush syncs) are wrapped.
UNIT_BIN += obj/tests/test_disk_cow
obj/tests/test_disk_cow: LDFLAGS += -Wl,--wrap=open,--wrap=fdatasync
obj/tests/test_disk_cow: obj/tests/unit/test_disk_cow.o $(VIRTIO_TEST_OBJ)
