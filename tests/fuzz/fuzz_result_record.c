/* Stored transaction results (src/node/results.h): strict decode, and an accepted
 * record re-encodes to exactly its bytes. */
#include <string.h>

#include "base/log.h"
#include "node/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    app_result_t res;
    if (result_record_decode(&res, data, size) != CAIRN_OK) return 0;
    buf_t b;
    buf_init(&b, 0);
    CAIRN_ASSERT(result_record_encode(&res, &b) == CAIRN_OK);
    CAIRN_ASSERTF(b.len == size && memcmp(b.data, data, size) == 0, "len %zu vs %zu", b.len, size);
    buf_deinit(&b);
    return 0;
}
