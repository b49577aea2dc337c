# fuzz.mk: libFuzzer targets, built by `make fuzz` (not part of `all`) with
# FUZZ_CC (clang, set by configure; empty when clang or libFuzzer is missing).
# Each target compiles the sources it exercises directly, with ASan and UBSan.
#
#   make fuzz && tests/fuzz/smoke.sh      short runs over the committed corpora
#
# A long run of one target (work on a copy: libFuzzer adds to its corpus dir):
#   mkdir -p /tmp/c && cp tests/fuzz/corpus/NAME/* /tmp/c
#   obj/fuzz/NAME /tmp/c -max_total_time=600
# or, to grow the committed corpus on purpose:
#   obj/fuzz/NAME tests/fuzz/corpus/NAME -max_total_time=600
# A crash leaves crash-<sha1> in the current directory; replay with
#   obj/fuzz/NAME crash-<sha1>
FUZZ_FLAGS = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-g -O1 -D_GNU_SOURCE -Isrc -Isrc/arch/$(ARCH) -Idevices -Itests/unit \
	-DRINGVM_VERSION='"$(VERSION)"' $(DEP_CFLAGS)
FUZZ_NAMES = fuzz_split fuzz_packed fuzz_vblk fuzz_vpci fuzz_serial fuzz_bzimage fuzz_pvh \
	fuzz_kimage fuzz_arm64_image
FUZZ_BIN += $(FUZZ_NAMES:%=obj/fuzz/%)

FUZZ_RING = tests/fuzz/fuzz_ring.h tests/unit/vfake.c tests/unit/vfake.h src/virtq.c \
	src/gmem.c src/log.c
FUZZ_VIRTIO = tests/unit/vfake.c tests/unit/vfake.h tests/unit/stubs_virtio.c \
	src/virtio_pci.c src/kick.c src/virtq.c src/gmem.c src/msix.c src/pci.c src/bus.c \
	src/arch/x86/machine.c src/disk.c src/disk_io.c src/disk_cow.c src/disk_tmp.c \
	devices/virtio_blk.c src/devinst.c src/log.c
obj/fuzz/fuzz_split: tests/fuzz/fuzz_split.c $(FUZZ_RING) $(HEADERS)
obj/fuzz/fuzz_packed: tests/fuzz/fuzz_packed.c $(FUZZ_RING) $(HEADERS)
obj/fuzz/fuzz_vblk: tests/fuzz/fuzz_vblk.c $(FUZZ_VIRTIO) $(HEADERS)
obj/fuzz/fuzz_vpci: tests/fuzz/fuzz_vpci.c $(FUZZ_VIRTIO) $(HEADERS)
obj/fuzz/fuzz_serial: tests/fuzz/fuzz_serial.c devices/serial.c src/bus.c \
	src/log.c $(HEADERS)
obj/fuzz/fuzz_bzimage: tests/fuzz/fuzz_bzimage.c src/arch/x86/boot.c src/bootfile.c src/arch/x86/pvh.c src/gmem.c \
	src/kcache.c src/kcache_evict.c src/kcache_memo.c src/arch/x86/kimage.c src/log.c $(HEADERS)
obj/fuzz/fuzz_pvh: tests/fuzz/fuzz_pvh.c src/arch/x86/pvh.c src/gmem.c src/log.c $(HEADERS)
obj/fuzz/fuzz_kimage: tests/fuzz/fuzz_kimage.c src/arch/x86/kimage.c src/log.c $(HEADERS)
# arm64's Image checks, pure: built on any host like test_arm64_image.
obj/fuzz/fuzz_arm64_image: tests/fuzz/fuzz_arm64_image.c src/arch/arm64/image.c \
	src/arch/arm64/image.h

# The recipe for every fuzz target, this file's or a later fragment's: each
# lists its sources as prerequisites (headers too, for rebuilds).
obj/fuzz/%:
	@mkdir -p $(dir $@)
	$(E) FUZZ $@
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(filter %.c,$^) $(LIBS)

# `fuzz` builds FUZZ_BIN as it stands once every fragment was read.
.SECONDEXPANSION:
ifeq ($(FUZZ_CC),)
fuzz:
	@echo "fuzz: FUZZ_CC is empty (clang with libFuzzer missing: install clang libclang-rt-dev); nothing built"
else
fuzz: $$(FUZZ_BIN)
endif

.PHONY: fuzz
