# fuzz.mk: libFuzzer targets (FUZZ_CC) and their smoke runs.
