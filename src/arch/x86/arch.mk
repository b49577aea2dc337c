# arch.mk (x86): what the Makefile takes from this architecture beyond src/arch/x86/*.c.
# ARCH_DEVICE_SRC: the files that define ARCH_DEVICES' ops (arch_types.h),
# linked with the device table wherever a test links it.
ARCH_DEVICE_SRC = src/arch/x86/pm.c src/arch/x86/pvpanic.c
# ARCH_CORE_SRC: the core (src/) files only this architecture links: the
# kernel cache, whose kimage_* (the bzImage payload) are src/arch/x86/kimage.c's.
ARCH_CORE_SRC = src/kcache.c src/kcache_evict.c src/kcache_memo.c
