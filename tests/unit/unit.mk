# unit.mk: unit tests for the boot slice (issue 2). Owned by its writer.
