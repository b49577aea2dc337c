# vnet.mk: unit tests for virtio-net.
