/* Fuzz the signing-state decoder: never crashes, and every accepted input
 * re-encodes to exactly the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "wal/signer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        if (crypto_init() != CAIRN_OK) abort();
        inited = 1;
    }
    signer_state_t st;
    if (signer_state_decode(&st, data, size) != CAIRN_OK) return 0;
    if (size != SIGNER_STATE_BYTES) abort();
    if (st.step > SIGNER_STEP_PRECOMMIT) abort();
    if (st.step != SIGNER_STEP_NONE && st.height == 0) abort();
    uint8_t again[SIGNER_STATE_BYTES];
    signer_state_encode(&st, again);
    if (memcmp(again, data, size) != 0) abort();
    return 0;
}
