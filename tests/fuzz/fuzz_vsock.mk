# fuzz_vsock.mk: the virtio-vsock fuzz target (the recipe is fuzz.mk's).
# The device runs with in-process port handlers only (socketpairs, no
# files), driven by the fake driver of tests/unit/vsockfake.c.
FUZZ_BIN += obj/fuzz/fuzz_vsock
obj/fuzz/fuzz_vsock: tests/fuzz/fuzz_vsock.c tests/unit/vsockfake.c tests/unit/vsockfake.h \
	devices/virtio_vsock.c devices/vsock_rx.c devices/vsock_conn.c devices/vsock_host.c $(FUZZ_VIRTIO) $(HEADERS)
ifneq ($(FUZZ_CC),)
fuzz: obj/fuzz/fuzz_vsock
endif
