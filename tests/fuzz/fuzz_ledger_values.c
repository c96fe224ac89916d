/* fuzz_ledger_values - decoders of the ledger's stored values (accounts and
 * records), with encode(decode(b)) == b round trips. Byte 0 picks the decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        ledger_account_t a;
        if (ledger_account_decode(&a, p, n) != CAIRN_OK) return 0;
        uint8_t out[LEDGER_ACCOUNT_BYTES];
        ledger_account_encode(&a, out);
        if (n != sizeof out || memcmp(out, p, n) != 0) abort();
    } else {
        const uint8_t *v;
        uint32_t vn;
        if (ledger_record_decode(p, n, &v, &vn) != CAIRN_OK) return 0;
        if (v + vn != p + n) abort(); /* the value is the tail of the input */
        buf_t b;
        buf_init(&b, TX_VALUE_MAX + 16);
        if (ledger_record_encode(v, vn, &b) != CAIRN_OK) abort();
        if (b.len != n || memcmp(b.data, p, n) != 0) abort();
        buf_deinit(&b);
    }
    return 0;
}
