# netbackends.mk: unit tests for the network backends (netbackends/): option
# parsing, "none", slirp ("user") through its ops with the bounded RX queue,
# and TAP when /dev/net/tun and root are available. No KVM, no stubs needed.
UNIT_BIN += obj/tests/test_netbackends
obj/tests/test_netbackends: obj/tests/unit/test_netbackends.o obj/tests/unit/gframe.o obj/netbackends/slirp.o obj/netbackends/slirp_opts.o obj/netbackends/tcp_guard.o obj/netbackends/ipframe.o obj/netbackends/slirp_flows.o \
	obj/netbackends/none.o obj/netbackends/tap.o obj/netbackends/tap_opts.o $(UNIT_COMMON)

# test_tcp_guard: the guard alone, then the reassembly attack on the real
# user backend and libslirp.
UNIT_BIN += obj/tests/test_tcp_guard
obj/tests/test_tcp_guard: obj/tests/unit/test_tcp_guard.o obj/tests/unit/gframe.o obj/netbackends/slirp.o \
	obj/netbackends/slirp_opts.o obj/netbackends/tcp_guard.o obj/netbackends/ipframe.o obj/netbackends/slirp_flows.o $(UNIT_COMMON)

# test_slirp_flows: the guest's host-socket cap and the cost of iterations
# slirp did not cause; libslirp's fill and poll are counted through --wrap.
UNIT_BIN += obj/tests/test_slirp_flows
obj/tests/test_slirp_flows: LDFLAGS += -Wl,--wrap=slirp_pollfds_fill,--wrap=slirp_pollfds_poll
obj/tests/test_slirp_flows: obj/tests/unit/test_slirp_flows.o obj/tests/unit/gframe.o obj/netbackends/slirp.o \
	obj/netbackends/slirp_opts.o obj/netbackends/tcp_guard.o obj/netbackends/ipframe.o obj/netbackends/slirp_flows.o \
	$(UNIT_COMMON)

# test_tap_fd: -n tap,fd=N: the option, the descriptor's check, adoption.
UNIT_BIN += obj/tests/test_tap_fd
obj/tests/test_tap_fd: obj/tests/unit/test_tap_fd.o obj/netbackends/tap.o obj/netbackends/tap_opts.o \
	$(UNIT_COMMON)
