# src/arch/x86/arch.mk: included by Makefile.in. ARCH_CORE_SRC: the core
# (src/) files only this architecture links: the kernel cache, whose
# kimage_* (the bzImage payload) are src/arch/x86/kimage.c's.
ARCH_CORE_SRC = src/kcache.c src/kcache_evict.c src/kcache_memo.c
