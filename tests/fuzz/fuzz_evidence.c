/* fuzz_evidence: evidence_decode on arbitrary bytes; accepted input must re-encode
 * to the same bytes. Seeds: tests/fuzz/corpus/evidence/ (tests/unit/chain/test_seeds.c). */
#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "roundtrip.h"

FUZZ_ROUNDTRIP(evidence_t, evidence_decode, evidence_encode)
