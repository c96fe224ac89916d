/* cairn/light.h - light client: believe what an untrusted cairn node says only
 * after checking it against validator signatures (DESIGN.md s.1, s.9).
 *
 * Trust starts from the genesis validator set (light_init_genesis*) or from a
 * header hash the user trusts (light_init_trusted*). From there each signed
 * header is accepted only if (light_update*):
 *   1. its hash (header_hash) equals the block id its commit signs,
 *   2. it is for the trusted chain id, at a height above the trusted one,
 *   3. its validators_hash is the hash of the trusted validator set, and the
 *      commit's signatures from that set verify and carry > 2/3 of its power
 *      (commit_verify); at height trusted + 1 its last_block_id must also be
 *      the trusted header's hash,
 *   4. if its next_validators_hash differs, the caller supplies the next
 *      validator set (from /validators) and it must hash to that value.
 * A header more than one above the trusted height is accepted directly only
 * if the validator set did not change (its validators_hash is the trusted
 * set's hash); otherwise the caller walks the heights in between (sequential
 * verification, client_light_sync in src/client/client.h does this).
 *
 * A state proof (abci_query with prove=true at height H) is checked against the
 * app_hash of the trusted header H + 1: the state after block H is committed in
 * the next header (light_verify_query).
 *
 * Every failure returns a cairn_err and writes one specific sentence to `why`
 * (LIGHT_WHY_MAX bytes are enough): "header hash does not match the commit",
 * "commit signed by less than 2/3 of the validators ...", "bad signature from
 * validator <ADDR> ...", "value does not match the proof", "proof is for height
 * H but ...", "app hash mismatch: ...".
 *
 * Ownership: light_t is a plain value (no heap memory; copy it with `=`).
 * JSON strings passed in are only read. light_query_t owns its heap fields:
 * light_query_free(). Not thread-safe per light_t; distinct objects may be used
 * from any thread. Pure: no I/O, no clock (src/client/client.h fetches).
 * Builds inside the cairn tree (-Isrc -Iinclude) and links with libcairn.a.
 */
#ifndef CAIRN_LIGHT_H
#define CAIRN_LIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "chain/chain.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LIGHT_WHY_MAX 320
/* Longest state key a query names: 'r' | address | record key. */
#define LIGHT_STATE_KEY_MAX (1 + ADDR_BYTES + TX_KEY_MAX)
#define LIGHT_LOG_MAX 256

typedef struct {
    chain_id_t chain_id;
    uint64_t height;                      /* trusted header height; 0 = genesis */
    uint8_t hash[HASH_BYTES];             /* its block id; all zero at genesis */
    header_t header;                      /* the trusted header (height > 0) */
    valset_t validators;                  /* the set that signs height + 1 */
    uint8_t validators_hash[HASH_BYTES];  /* valset_hash(&validators) */
} light_t;

/* ------------------------------------------------------------ start of trust */

/* Trust a chain id and the validator set of its first height. */
cairn_err light_init_genesis(light_t *lc, const chain_id_t *cid, const valset_t *vs,
                             char *why, size_t why_len) CAIRN_MUST_CHECK;
/* The same from the text of a genesis.json (src/node/genesis.h). */
cairn_err light_init_genesis_json(light_t *lc, const char *genesis_json, size_t len,
                                  char *why, size_t why_len) CAIRN_MUST_CHECK;
/* Trust the header whose hash is `hash`: `h` must hash to it and `next_vs`
 * must hash to h->next_validators_hash (it signs height + 1). */
cairn_err light_init_trusted(light_t *lc, const uint8_t hash[static HASH_BYTES],
                             const header_t *h, const valset_t *next_vs, char *why,
                             size_t why_len) CAIRN_MUST_CHECK;
/* The same from a /commit result at the trusted height and a /validators
 * result at the height above it (JSON text of the "result" objects). */
cairn_err light_init_trusted_json(light_t *lc, const uint8_t hash[static HASH_BYTES],
                                  const char *commit_json, const char *next_validators_json,
                                  char *why, size_t why_len) CAIRN_MUST_CHECK;

/* ------------------------------------------------------------ headers */

/* Checks 1 and 3 above for one signed header against the set `vs`, without
 * touching any state: the hash, the commit's height and block id, every
 * present signature (naming the first bad one), and > 2/3 of the power. */
cairn_err light_verify_signed_header(const chain_id_t *cid, const valset_t *vs,
                                     const header_t *h, const commit_t *c, char *why,
                                     size_t why_len) CAIRN_MUST_CHECK;
/* Advances lc to h (see the rules above). next_vs may be NULL when
 * h->next_validators_hash == h->validators_hash. lc changes only on success. */
cairn_err light_update(light_t *lc, const header_t *h, const commit_t *c,
                       const valset_t *next_vs, char *why, size_t why_len) CAIRN_MUST_CHECK;
/* The same from a /commit result and (or NULL) a /validators result for h+1. */
cairn_err light_update_json(light_t *lc, const char *commit_json,
                            const char *next_validators_json, char *why,
                            size_t why_len) CAIRN_MUST_CHECK;

/* Where light_sync gets signed headers and validator sets: a node over RPC
 * (src/client/client.h: client_light_sync), a cache, a test. Callbacks decode
 * but need not verify; signed_header_cb allocates c->sigs only on success
 * (light_sync frees it with commit_free). */
typedef struct {
    void *ctx;
    cairn_err (*signed_header_cb)(void *ctx, uint64_t height, header_t *h, commit_t *c,
                                  char *why, size_t why_len);
    cairn_err (*valset_cb)(void *ctx, uint64_t height, valset_t *vs, char *why,
                           size_t why_len);
} light_source_t;

/* Moves lc to `target` (>= lc->height): directly if header `target` names
 * the trusted validator set, else header by header from lc->height + 1
 * (sequential verification), getting the next validator set wherever a
 * header's next_validators_hash changes. *headers (may be NULL) gets the
 * number of headers verified. On failure lc holds the last header that
 * verified. At most LIGHT_SYNC_HEADERS_MAX headers per call. */
#define LIGHT_SYNC_HEADERS_MAX 1000000
cairn_err light_sync(const light_source_t *src, light_t *lc, uint64_t target,
                     uint64_t *headers, char *why, size_t why_len) CAIRN_MUST_CHECK;

/* ------------------------------------------------------------ state proofs */

/* What /abci_query answered. Heap fields are owned: light_query_free(). */
typedef struct {
    uint32_t code;          /* app result code (app.h); 0 = ok */
    char log[LIGHT_LOG_MAX];
    uint64_t height;        /* state height the node says it answered */
    bool exists;            /* a value was returned */
    uint8_t *value;         /* the stored encoding (NULL when absent) */
    size_t value_len;
    uint8_t *proof;         /* include/cairn/proof.h encoding (NULL: none) */
    size_t proof_len;
} light_query_t;

void light_query_free(light_query_t *q);
/* Parses an /abci_query result ({"response":{...}}). q is written only on
 * success. */
cairn_err light_query_from_json(light_query_t *q, const char *abci_query_json, char *why,
                                size_t why_len) CAIRN_MUST_CHECK;

/* The state key a query is about, computed by the client (never taken from the
 * node): "/account" with a 20-byte address, "/record" with address || key,
 * "/state" with a raw state key. out holds LIGHT_STATE_KEY_MAX bytes. */
cairn_err light_state_key(const char *path, const uint8_t *data, size_t n,
                          uint8_t out[static LIGHT_STATE_KEY_MAX], size_t *out_len) CAIRN_MUST_CHECK;

/* Checks that the trusted header `next` (height H + 1) proves the answer `q`
 * for state key `key` at state height `height` (H): q->height == H,
 * next->height == H + 1, a proof is present and cairn_proof_verify() accepts
 * q's value (or absence) under next->app_hash. */
cairn_err light_verify_state(const header_t *next, uint64_t height, const uint8_t *key,
                             size_t key_len, const light_query_t *q, char *why,
                             size_t why_len) CAIRN_MUST_CHECK;
/* light_verify_state with lc's trusted header as `next` and the state key of
 * (path, data); lc->height must be q's height + 1. */
cairn_err light_verify_query(const light_t *lc, const char *path, const uint8_t *data,
                             size_t n, const light_query_t *q, char *why,
                             size_t why_len) CAIRN_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif
