# vsock.mk: unit tests for virtio-vsock (devices/virtio_vsock.c, vsock_rx.c,
# vsock_conn.c, vsock_host.c) behind the real transport and the virtio objects test_vblk
# links (VIRTIO_TEST_OBJ, virtio.mk). vsockfake.o is the fake driver, shared
# with tests/fuzz/fuzz_vsock.c; host programs are AF_UNIX sockets in a
# scratch directory under /tmp.
VSOCK_OBJ = obj/devices/virtio_vsock.o obj/devices/vsock_rx.o obj/devices/vsock_conn.o obj/devices/vsock_host.o

UNIT_BIN += obj/tests/test_vsock
obj/tests/test_vsock: obj/tests/unit/test_vsock.o obj/tests/unit/test_vsock_flow.o \
	obj/tests/unit/vsockfake.o $(VSOCK_OBJ) $(VIRTIO_TEST_OBJ)
