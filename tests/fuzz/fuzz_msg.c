/* Peer messages: strict decode, and re-encoding an accepted message gives back
 * exactly the input bytes. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static msg_t m;
    if (msg_decode(&m, data, size) != CAIRN_OK) return 0;
    buf_t b;
    buf_init(&b, 0);
    CAIRN_ASSERT(msg_encode(&m, &b) == CAIRN_OK);
    CAIRN_ASSERTF(b.len == size && memcmp(b.data, data, size) == 0, "len %zu vs %zu", b.len, size);
    buf_deinit(&b);
    return 0;
}
