# agent.mk: tests of the agent protocol and of ringvm-init (issue 8), no VM.
# test_agent: the codec (src/agent.c) on its own.
# test_agent_e2e: ringvm-init in test mode (--agent-fd N) over a
# socketpair, speaking the protocol as ringvm does; it runs both the static
# ringvm-init that `make` ships and obj/tests/ringvm-init-dyn, the same
# sources built like every other object (with the sanitizers when
# configured with --enable-sanitizers, which a static link cannot have).
INIT_OBJ = $(INIT_SRC:%.c=obj/%.o)

obj/tests/ringvm-init-dyn: $(INIT_OBJ)
	@mkdir -p $(dir $@)
	$(E) LINK $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $(INIT_OBJ)

UNIT_BIN += obj/tests/test_agent
obj/tests/test_agent: obj/tests/unit/test_agent.o obj/src/agent.o

# The agent binaries are order-only: the test runs them, it does not link them.
UNIT_BIN += obj/tests/test_agent_e2e
obj/tests/test_agent_e2e: obj/tests/unit/test_agent_e2e.o obj/tests/unit/agent_host.o \
	obj/src/agent.o | ringvm-init obj/tests/ringvm-init-dyn
