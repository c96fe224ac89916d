/* fuzz_vote: vote_decode on arbitrary bytes; accepted input must re-encode
 * to the same bytes. Seeds: tests/fuzz/corpus/vote/ (tests/unit/chain/test_seeds.c). */
#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "roundtrip.h"

FUZZ_ROUNDTRIP(vote_t, vote_decode, vote_encode)
