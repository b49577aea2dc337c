# fuzz_agent.mk: the agent protocol codec (src/agent.c): the frame parser
# in both directions over arbitrary splits, and every payload decoder
# (tests/fuzz/fuzz_agent.c). The recipe is fuzz.mk's.
FUZZ_BIN += obj/fuzz/fuzz_agent
obj/fuzz/fuzz_agent: tests/fuzz/fuzz_agent.c src/agent.c src/agent.h src/agent_proto.h
ifneq ($(FUZZ_CC),)
fuzz: obj/fuzz/fuzz_agent
endif
