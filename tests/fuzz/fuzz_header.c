/* fuzz_header: header_decode on arbitrary bytes; accepted input must re-encode
 * to the same bytes. Seeds: tests/fuzz/corpus/header/ (tests/unit/chain/test_seeds.c). */
#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "roundtrip.h"

FUZZ_ROUNDTRIP(header_t, header_decode, header_encode)
