# fuzz_vnet.mk: the virtio-net fuzz target.
