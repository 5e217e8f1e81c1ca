/* fuzz_json: the JSON loader, then the round trip through both
 * writers (tests/fuzz/roundtrip.h). A crash, a leak or an unstable round
 * trip aborts, so libFuzzer saves the input. */
#include <stddef.h>
#include <stdint.h>

#include "tests/fuzz/roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rt_fuzz_one(data, size, RUNBOOK_JSON);
	return 0;
}
