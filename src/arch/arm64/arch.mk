# arch.mk (arm64): what the Makefile takes from this architecture beyond src/arch/arm64/*.c.
# ARCH_DEVICE_SRC: the files that define ARCH_DEVICES' ops (arch_types.h): none.
ARCH_DEVICE_SRC =
# ARCH_CORE_SRC: the core (src/) files only this architecture links: none.
# The kernel cache (src/kcache*.c) needs x86's kimage_* (a bzImage's payload).
ARCH_CORE_SRC =
