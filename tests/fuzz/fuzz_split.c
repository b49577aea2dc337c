/* fuzz_split.c: the split virtqueue walker against a hostile driver (see fuzz_ring.h). */
#include "fuzz_ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fr_run(data, size, false);
}
