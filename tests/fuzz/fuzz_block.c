/* fuzz_block: block_decode on arbitrary bytes; accepted input must re-encode
 * to the same bytes, and its hashes must be computable. The decoded block
 * must not borrow from the input (it is re-encoded after the input copy is
 * wiped). Seeds: tests/fuzz/corpus/block/ (tests/unit/chain/test_seeds.c). */
#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    block_t b;
    cairn_err rc = block_decode(&b, copy, size);
    if (size) memset(copy, 0xA5, size);
    free(copy);
    if (rc != CAIRN_OK) return 0;
    buf_t out;
    buf_init(&out, 0);
    fuzz_same_bytes("block_t", block_encode(&b, &out), &out, data, size);
    uint8_t h[HASH_BYTES];
    if (block_data_hash(&b, h) != CAIRN_OK || block_evidence_hash(&b, h) != CAIRN_OK ||
        header_hash(&b.header, h) != CAIRN_OK)
        abort();
    buf_deinit(&out);
    block_free(&b);
    return 0;
}
