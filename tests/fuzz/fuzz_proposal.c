/* fuzz_proposal: proposal_decode on arbitrary bytes; accepted input must re-encode
 * to the same bytes. Seeds: tests/fuzz/corpus/proposal/ (tests/unit/chain/test_seeds.c). */
#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "roundtrip.h"

FUZZ_ROUNDTRIP(proposal_t, proposal_decode, proposal_encode)
