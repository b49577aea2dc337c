# virtio.mk: unit tests for the virtio core and virtio-blk.
