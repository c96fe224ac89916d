/* fuzz_state: chain_state_decode on arbitrary bytes (what the store reads back
 * from disk); accepted input must re-encode to the same bytes.
 * Seeds: tests/fuzz/corpus/state/ (tests/unit/chain/test_seeds.c). */
#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static chain_state_t st; /* ~20 KiB */
    if (chain_state_decode(&st, data, size) != CAIRN_OK) return 0;
    buf_t out;
    buf_init(&out, 0);
    fuzz_same_bytes("chain_state_t", chain_state_encode(&st, &out), &out, data, size);
    buf_deinit(&out);
    return 0;
}
