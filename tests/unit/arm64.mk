# arm64.mk: the arm64 code that runs as host unit tests on any architecture:
# the device-tree builder (src/arch/arm64/arm64_fdt.c) and the Image checks
# (src/arch/arm64/image.c). Their objects get their own rules and
# directories, so that ringvm's own objects (obj/src/arch/$(ARCH)) never hold
# arm64 code. -iquote src/arch/arm64 comes first for "arch_types.h" and
# "arm64_fdt.h": as -I it would also shadow libfdt's own <fdt.h>, which
# <libfdt.h> includes with angle brackets.
FDT_CPPFLAGS = -iquote src/arch/arm64 -Itests/unit $(CPPFLAGS)

obj/tests/arm64/%.o: src/arch/arm64/%.c
	@mkdir -p $(dir $@)
	$(E) CC $<
	$(Q)$(CC) $(FDT_CPPFLAGS) $(DEP_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

obj/tests/unit/fdt/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(E) CC $<
	$(Q)$(CC) $(FDT_CPPFLAGS) $(DEP_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

UNIT_BIN += obj/tests/test_fdt
obj/tests/test_fdt: obj/tests/unit/fdt/test_fdt.o obj/tests/arm64/arm64_fdt.o $(UNIT_COMMON)

-include $(wildcard obj/tests/arm64/*.d obj/tests/unit/fdt/*.d)

# The arm64 Image checks (src/arch/arm64/image.c): pure, no arch_types.h.
UNIT_BIN += obj/tests/test_arm64_image
obj/tests/test_arm64_image: obj/tests/unit/fdt/test_arm64_image.o obj/tests/arm64/image.o \
	$(UNIT_COMMON)
