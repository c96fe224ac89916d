/* json_chain.h - cairn's chain types (src/chain/chain.h) rendered as the JSON
 * shapes of CometBFT v0.38's RPC, so CometBFT clients (e.g. @cosmjs/tendermint-rpc)
 * decode them unchanged. docs/rpc.md lists every field mapping.
 *
 * Encoding rules (../shared/notes/cometbft-rpc-compat.md):
 *  - 64-bit integers are JSON strings; 32-bit ones (code, round, parts.total,
 *    block_id_flag, validator_index) are JSON numbers.
 *  - hashes and addresses are upper-case hex; tx bytes, data, signatures and
 *    public keys are standard base64.
 *  - times are RFC 3339 in UTC with exactly nine fractional digits and "Z",
 *    from unix nanoseconds (any int64: 1677-09-21 .. 2262-04-11).
 *  - an all-zero block id (nil, or the last block id at height 1) renders as
 *    {"hash":"","parts":{"total":0,"hash":""}}, as CometBFT does.
 *  - fields cairn does not have: consensus_hash and parts.hash are the SHA-256
 *    of empty input (cairn has no consensus params and no part sets: a block is
 *    one part), version.block is "11", version.app "0".
 *
 * Every json_t * returned is a new reference owned by the caller (json_decref),
 * or NULL if memory ran out. Inputs are only read. Pure apart from allocation;
 * any thread.
 */
#ifndef CAIRN_RPC_JSON_CHAIN_H
#define CAIRN_RPC_JSON_CHAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "chain/chain.h"

#define JSON_TIME_LEN 30 /* "2024-06-11T14:07:57.125195170Z" */
#define JSON_BLOCK_PROTOCOL "11"

/* RFC 3339 with nanoseconds, UTC: out gets JSON_TIME_LEN chars and a NUL.
 * Every int64 is representable (years 1677..2262), so this cannot fail. */
void json_chain_time_format(char out[static JSON_TIME_LEN + 1], int64_t unix_ns);

json_t *json_chain_time(int64_t unix_ns);
json_t *json_chain_hex(const uint8_t *p, size_t n);    /* upper-case */
json_t *json_chain_base64(const uint8_t *p, size_t n); /* "" when n == 0 */
json_t *json_chain_i64(int64_t v);                     /* "123" */
json_t *json_chain_u64(uint64_t v);

/* {"hash":HEX,"parts":{"total":1,"hash":HEX}}; all-zero id: the empty form. */
json_t *json_chain_block_id(const uint8_t id[static HASH_BYTES]);
/* {"type":"tendermint/PubKeyEd25519","value":b64} */
json_t *json_chain_pub_key(const uint8_t pub[static PUBKEY_BYTES]);
json_t *json_chain_header(const header_t *h);
/* The last commit: height, round, block_id, signatures with block_id_flag
 * numbers (1 absent, 2 commit, 3 nil); absent slots carry an empty address,
 * signature null and time "0001-01-01T00:00:00Z", as CometBFT. A commit with
 * height 0 renders as CometBFT's empty commit of block 1. */
json_t *json_chain_commit(const commit_t *c);
/* {"type":"tendermint/DuplicateVoteEvidence","value":{vote_a,vote_b,...}};
 * powers are taken from vs when given (NULL: "0"). */
json_t *json_chain_evidence(const evidence_t *e, const valset_t *vs);
/* The "block" object: header, data.txs, evidence.evidence, last_commit. */
json_t *json_chain_block(const block_t *b);
/* /block and /block_by_hash result: {"block_id":..., "block":...}. */
json_t *json_chain_block_result(const block_t *b, const uint8_t id[static HASH_BYTES]);
/* /blockchain's block_metas entry: {block_id, block_size, header, num_txs}. */
json_t *json_chain_block_meta(const header_t *h, const uint8_t id[static HASH_BYTES],
                              uint64_t block_size, uint32_t num_txs);
/* /commit result: {"signed_header":{"header","commit"},"canonical":bool}. */
json_t *json_chain_signed_header(const header_t *h, const commit_t *c, bool canonical);
/* {"address","pub_key","voting_power","proposer_priority"} */
json_t *json_chain_validator(const validator_t *v);
/* /validators result for validators [first, first+count) of vs:
 * {"block_height","validators":[...],"count","total"}. */
json_t *json_chain_validators(const valset_t *vs, uint64_t height, uint32_t first,
                              uint32_t count);

/* An ABCI-style execution result, the shape of check_tx, tx_result and
 * block_results.txs_results entries. Strings may be NULL (rendered ""). */
typedef struct {
    const char *key;
    const char *value;
    bool index;
} rpc_event_attr;

typedef struct {
    const char *type;
    const rpc_event_attr *attrs;
    size_t n_attrs;
} rpc_event;

typedef struct {
    uint32_t code;
    const uint8_t *data; /* NULL: JSON null */
    size_t data_len;
    const char *log;
    const char *info;
    int64_t gas_wanted;
    int64_t gas_used;
    const rpc_event *events;
    size_t n_events;
    const char *codespace;
} rpc_tx_result;

json_t *json_chain_events(const rpc_event *ev, size_t n);
json_t *json_chain_tx_result(const rpc_tx_result *r);
/* /tx's "proof" (prove=true): {"root_hash":HEX,"data":b64 tx,"proof":{"total":"n",
 * "index":"i","leaf_hash":b64,"aunts":[b64,...]}} for the tx's place in the
 * block's data_hash tree (aunts bottom-up, as crypto.h's merkle_proof). */
json_t *json_chain_tx_proof(const uint8_t root[static HASH_BYTES], const uint8_t *tx,
                            size_t tx_len, const uint8_t leaf_hash[static HASH_BYTES],
                            const merkle_proof *p);
/* /tx result: {"hash","height","index","tx_result","tx"}; add "proof" with
 * json_chain_tx_proof() when asked to prove. */
json_t *json_chain_tx(const uint8_t hash[static HASH_BYTES], uint64_t height,
                      uint32_t index, const rpc_tx_result *r, const uint8_t *tx,
                      size_t tx_len);

#endif
