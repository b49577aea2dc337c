# arch.mk (arm64): what the Makefile takes from this architecture beyond src/arch/arm64/*.c.
# ARCH_DEVICE_SRC: the files that define ARCH_DEVICES' ops (arch_types.h): none.
ARCH_DEVICE_SRC =
