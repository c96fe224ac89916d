/* fuzz_tx: tx_decode on arbitrary bytes; accepted input must re-encode
 * to the same bytes. Seeds: tests/fuzz/corpus/tx/ (tests/unit/chain/test_seeds.c). */
#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "roundtrip.h"

FUZZ_ROUNDTRIP(tx_t, tx_decode, tx_encode)
