/* fuzz_smt_node - the decoder of state tree nodes read back from the store,
 * with the encode(decode(b)) == b round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/smt.h"
#include "base/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smt_node nd;
    if (smt_node_decode(&nd, data, size) != CAIRN_OK) return 0;
    buf_t b;
    buf_init(&b, SMT_VALUE_MAX + 128);
    if (smt_node_encode(&nd, &b) != CAIRN_OK) abort();
    if (b.len != size || memcmp(b.data, data, size) != 0) abort();
    uint8_t h[SMT_HASH_BYTES];
    smt_node_hash(&nd, h);
    buf_deinit(&b);
    return 0;
}
