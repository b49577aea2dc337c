# src/arch/arm64/arch.mk: included by Makefile.in. ARCH_CORE_SRC: the core
# (src/) files only this architecture links. None: the kernel cache
# (src/kcache*.c) needs an x86 bzImage's kimage_* and is not linked on arm64.
ARCH_CORE_SRC =
