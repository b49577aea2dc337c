# vnet.mk: unit tests for virtio-net.
# test_vnet links the real device (virtio_net.o) behind the real transport
# and the virtio objects test_vblk links (VIRTIO_TEST_OBJ, virtio.mk);
# vnetfake.o is its backend: it defines net_tap_ops, net_user_ops and
# net_none_ops as fakes, so of netbackends/ only the table is linked.
VNET_TEST_OBJ = obj/tests/unit/test_vnet.o obj/tests/unit/test_vnet_rx.o \
	obj/tests/unit/vnetfake.o obj/devices/virtio_net.o obj/netbackends/netbackends.o

UNIT_BIN += obj/tests/test_vnet
obj/tests/test_vnet: $(VNET_TEST_OBJ) $(VIRTIO_TEST_OBJ) obj/src/log.o
