/* fuzz_store_results.c - the results record read back from disk
 * (store_results_parse): never crashes, never reads out of bounds, and every
 * accepted input re-encodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t count = 0;
    if (store_results_parse(data, size, &count, NULL, 0, NULL) != CAIRN_OK) return 0;
    bytes_view *tx = calloc(count ? count : 1, sizeof *tx);
    if (!tx) return 0;
    bytes_view block;
    uint32_t count2 = 0;
    cairn_err rc = store_results_parse(data, size, &count2, tx, count, &block);
    CAIRN_ASSERT(rc == CAIRN_OK && count2 == count);
    buf_t out;
    buf_init(&out, BUF_DEFAULT_MAX);
    rc = store_results_encode(tx, count, block.p, block.len, &out);
    CAIRN_ASSERTF(rc == CAIRN_OK, "re-encode failed: %s", cairn_strerror(rc));
    CAIRN_ASSERTF(out.len == size && memcmp(out.data, data, size) == 0,
                  "round trip differs: %zu vs %zu bytes", out.len, size);
    buf_deinit(&out);
    free(tx);
    return 0;
}
