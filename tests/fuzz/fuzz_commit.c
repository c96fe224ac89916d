/* fuzz_commit: commit_decode on arbitrary bytes; accepted input must
 * re-encode to the same bytes, and the decoded commit is freed (ASan checks
 * leaks). Seeds: tests/fuzz/corpus/commit/ (tests/unit/chain/test_seeds.c). */
#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    commit_t c;
    if (commit_decode(&c, data, size) != CAIRN_OK) return 0;
    buf_t out;
    buf_init(&out, 0);
    fuzz_same_bytes("commit_t", commit_encode(&c, &out), &out, data, size);
    uint8_t h[HASH_BYTES];
    if (commit_hash(&c, h) != CAIRN_OK) abort();
    buf_deinit(&out);
    commit_free(&c);
    return 0;
}
