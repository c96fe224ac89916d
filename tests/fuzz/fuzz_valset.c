/* fuzz_valset: valset_decode on arbitrary bytes; accepted input must
 * re-encode to the same bytes, and CometBFT's priority arithmetic must stay
 * free of undefined behaviour (UBSan) for any decoded priorities and powers.
 * Seeds: tests/fuzz/corpus/valset/ (tests/unit/chain/test_seeds.c). */
#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    valset_t vs;
    if (valset_decode(&vs, data, size) != CAIRN_OK) return 0;
    buf_t out;
    buf_init(&out, 0);
    fuzz_same_bytes("valset_t", valset_encode(&vs, &out), &out, data, size);
    buf_deinit(&out);
    uint8_t h[HASH_BYTES];
    if (valset_hash(&vs, h) != CAIRN_OK) abort();
    valset_increment_priority(&vs, 1 + data[size - 1] % 8);
    if (vs.proposer_index >= vs.count) abort();
    if (!valset_has_quorum(&vs, vs.total_power)) abort();
    return 0;
}
