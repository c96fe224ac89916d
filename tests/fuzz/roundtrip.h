/* roundtrip.h - the check every chain fuzz target makes: a decoder either
 * rejects the input or accepts bytes that re-encode to exactly themselves
 * (chain.h invariant 2: encode(decode(b)) == b). */
#ifndef CAIRN_FUZZ_ROUNDTRIP_H
#define CAIRN_FUZZ_ROUNDTRIP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"

static inline void fuzz_same_bytes(const char *what, cairn_err enc_rc, const buf_t *out,
                                   const uint8_t *data, size_t size)
{
    if (enc_rc != CAIRN_OK) {
        fprintf(stderr, "%s: accepted input fails to re-encode: %s\n", what,
                cairn_errname(enc_rc));
        abort();
    }
    if (out->len != size || (size && memcmp(out->data, data, size) != 0)) {
        fprintf(stderr, "%s: re-encoding differs (%zu vs %zu bytes)\n", what, out->len, size);
        abort();
    }
}

/* Defines LLVMFuzzerTestOneInput for a type whose decoded value needs no
 * freeing. */
#define FUZZ_ROUNDTRIP(type, decode, encode)                                       \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                   \
    {                                                                              \
        type v;                                                                    \
        if (decode(&v, data, size) != CAIRN_OK) return 0;                          \
        buf_t out;                                                                 \
        buf_init(&out, 0);                                                         \
        fuzz_same_bytes(#type, encode(&v, &out), &out, data, size);                \
        buf_deinit(&out);                                                          \
        return 0;                                                                  \
    }

#endif
