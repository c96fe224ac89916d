/* repair.h - checking a peer's answer to a repair request before anything of
 * it reaches the store (docs/storage.md "Repair"). Pure: no I/O, no clock.
 *
 * A peer is untrusted. Its answer for height h (block, commit, results record)
 * is believed only when:
 *  1. the block decodes, is for chain `chain_id` and height h, and its data,
 *     evidence and last-commit hashes match its body;
 *  2. the commit is for (h, header hash) and carries signatures of more than
 *     2/3 of the voting power of `validators` (commit_verify, as block sync);
 *  3. the header hash is the block id the local chain names for h, when the
 *     caller knows it (an intact header h+1's last_block_id, or the chain
 *     state's last_block_id at the tip);
 *  4. the results record parses strictly, has one entry per tx and an empty
 *     block entry (this node never stores one), each entry is a canonical
 *     result record, and the Merkle root of their consensus part (code) is the
 *     results hash the chain names for h (header h+1's results_hash, or the
 *     chain state's last_results_hash at the tip).
 * Only each result's code is covered by the results hash: its log and events
 * are checked for shape, not content (see docs/storage.md).
 */
#ifndef CAIRN_NODE_REPAIR_H
#define CAIRN_NODE_REPAIR_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "chain/chain.h"

typedef struct {
    uint64_t height;
    const chain_id_t *chain_id;
    const valset_t *validators;        /* that signs height */
    const uint8_t *block_id;           /* [HASH_BYTES] the id the chain names, or NULL */
    const uint8_t *results_hash;       /* [HASH_BYTES] required */
} repair_expect;

/* CAIRN_OK when the answer passes 1-4 above. Errors: CAIRN_EBAD_BLOCK (does
 * not decode), CAIRN_EBAD_HEIGHT, CAIRN_EBAD_CHAIN_ID, CAIRN_EBAD_HASH (body
 * hashes, block id, results hash, validators hash), CAIRN_EBAD_COMMIT and the
 * errors of commit_verify (BAD_SIGNATURE, BAD_VALIDATOR), CAIRN_EBAD_ENCODING
 * (results shape), CAIRN_EINVALID_ARG (no results hash), CAIRN_ENOMEM. */
cairn_err repair_answer_verify(const repair_expect *e, const uint8_t *block, size_t block_len,
                               const uint8_t *commit, size_t commit_len,
                               const uint8_t *results, size_t results_len) CAIRN_MUST_CHECK;

#endif
