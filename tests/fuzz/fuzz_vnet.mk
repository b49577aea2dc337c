# fuzz_vnet.mk: the virtio-net fuzz target (the recipe is fuzz.mk's).
# The device runs on the fake backend of tests/unit/vnetfake.c, which also
# defines the net_*_ops the backend table names; of netbackends/ only the
# table is compiled. virtio_net.h includes netbackend.h: -Inetbackends.
FUZZ_BIN += obj/fuzz/fuzz_vnet
obj/fuzz/fuzz_vnet: FUZZ_FLAGS += -Inetbackends
obj/fuzz/fuzz_vnet: tests/fuzz/fuzz_vnet.c tests/unit/vnetfake.c tests/unit/vnetfake.h \
	devices/virtio_net.c netbackends/netbackends.c $(FUZZ_VIRTIO) $(HEADERS)
ifneq ($(FUZZ_CC),)
fuzz: obj/fuzz/fuzz_vnet
endif

# fuzz_slirp: what a guest sends, straight into the user backend and
# libslirp's parsers (HOSTILE.md N9), with restrict=on.
FUZZ_BIN += obj/fuzz/fuzz_slirp
obj/fuzz/fuzz_slirp: FUZZ_FLAGS += -Inetbackends
obj/fuzz/fuzz_slirp: tests/fuzz/fuzz_slirp.c netbackends/slirp.c netbackends/slirp_opts.c netbackends/tcp_guard.c netbackends/ipframe.c netbackends/slirp_flows.c \
	src/log.c $(HEADERS)
ifneq ($(FUZZ_CC),)
fuzz: obj/fuzz/fuzz_slirp
endif
