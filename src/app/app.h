/* app.h - the application interface: what the node calls to run transactions
 * against the authenticated state (DESIGN.md section 6), and the built-in ledger
 * that implements it (ledger_new). docs/app.md has the result codes and the
 * state layout.
 *
 * Call sequence, per node, from one thread:
 *   app_info                   after opening: last committed height and app hash
 *   app_init_chain             once, on a fresh state (height 0 = genesis)
 *   app_check_tx*              any time between blocks (mempool admission)
 *   per block h = last + 1:
 *     app_begin_block(header) app_deliver_tx* app_end_block app_commit
 *   app_query                  any time between blocks
 * Invariants:
 *  1. State after height h depends only on genesis and blocks 1..h: no clock, no
 *     randomness, no local configuration enters a result or the app hash.
 *  2. app_commit and app_init_chain hand back a kv_batch that holds everything
 *     the state needs; the caller persists it atomically (with the block) BEFORE
 *     calling the app again. The app reads committed state only through the
 *     kv_reader it was given.
 *  3. A transaction that fails (result code != APP_CODE_OK) changes nothing:
 *     no balance, no nonce, no record.
 *  4. Errors returned as cairn_err (not result codes) are the node's problem
 *     (storage damaged, out of memory, calls out of order): stop the block.
 * Pure module: no I/O besides the kv_reader, no clock. Not thread-safe: one
 * owner thread.
 */
#ifndef CAIRN_APP_APP_H
#define CAIRN_APP_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/kv.h"
#include "chain/chain.h"

/* Result codes of check_tx, deliver_tx and query (docs/app.md). Stable numbers:
 * they are part of the results hash and of the RPC output. */
#define APP_CODE_MAP(XX)                                                           \
    XX(OK, 0, "ok")                                                                \
    XX(BAD_ENCODING, 1, "transaction bytes are malformed")                        \
    XX(BAD_SIGNATURE, 2, "signature does not verify")                             \
    XX(BAD_NONCE, 3, "nonce is not the account's next nonce")                     \
    XX(INSUFFICIENT_FUNDS, 4, "balance does not cover amount plus fee")           \
    XX(OVERSIZE, 5, "key, value or transaction too large")                        \
    XX(UNKNOWN_TYPE, 6, "unknown transaction type")                               \
    XX(BAD_CHAIN_ID, 7, "wrong chain id")                                         \
    XX(OVERFLOW, 8, "balance or nonce would overflow")                            \
    XX(UNKNOWN_PATH, 9, "unknown query path")                                     \
    XX(BAD_HEIGHT, 10, "no state at that height")                                 \
    XX(BAD_QUERY, 11, "malformed query key")

enum app_code {
#define XX(name, num, msg) APP_CODE_##name = num,
    APP_CODE_MAP(XX)
#undef XX
};

/* Static text for a result code; never NULL. */
const char *app_code_str(uint32_t code);

/* Flags of check_tx / deliver_tx. */
#define APP_TX_SIG_VERIFIED 0x1u /* the caller verified this tx's signature */
#define APP_TX_DRY_RUN 0x2u      /* check_tx only: report the result, change no state */

#define APP_LOG_MAX 160
#define APP_EVENT_ATTRS_MAX 5
#define APP_ATTR_KEY_MAX 16
#define APP_ATTR_VALUE_MAX (2 * TX_KEY_MAX + 1) /* hex of the longest key */
#define APP_EVENTS_MAX 1

typedef struct {
    char key[APP_ATTR_KEY_MAX];
    char value[APP_ATTR_VALUE_MAX];
} app_attr_t;

typedef struct {
    char type[APP_ATTR_KEY_MAX];
    uint32_t n_attrs;
    app_attr_t attrs[APP_EVENT_ATTRS_MAX];
} app_event_t;

/* Outcome of one transaction; fixed size, no allocation. Only `code` is
 * consensus-critical (app_result_encode); log and events are for clients. */
typedef struct {
    uint32_t code;
    char log[APP_LOG_MAX];
    uint32_t n_events;
    app_event_t events[APP_EVENTS_MAX];
} app_result_t;

/* Canonical bytes of a result for the header's results hash: u8 version 1 |
 * u32 code. Appends to out. */
cairn_err app_result_encode(const app_result_t *res, buf_t *out) CAIRN_MUST_CHECK;

typedef struct {
    uint8_t pub[PUBKEY_BYTES];
    int64_t power; /* 0: remove */
} app_validator_update_t;

typedef struct {
    bool initialized;  /* false until app_init_chain's batch is persisted */
    uint64_t height;   /* last committed height (0: genesis) */
    uint8_t app_hash[HASH_BYTES];
} app_info_t;

/* Query answer. Heap fields are malloc'd, owned by the result:
 * app_query_result_free(). */
typedef struct {
    uint32_t code;
    char log[APP_LOG_MAX];
    uint64_t height;            /* the state height answered */
    uint8_t *key;               /* the state key the proof is for */
    size_t key_len;
    uint8_t *value;             /* NULL: absent */
    size_t value_len;
    uint8_t *proof;             /* NULL unless prove; include/cairn/proof.h */
    size_t proof_len;
} app_query_result_t;

void app_query_result_free(app_query_result_t *q);

typedef struct {
    uint8_t address[ADDR_BYTES];
    uint64_t balance;
} app_genesis_account_t;

typedef struct app app_t;

/* The operations an application implements. Applications embed app_t first. */
typedef struct {
    const char *name;
    void (*info)(app_t *a, app_info_t *out);
    cairn_err (*init_chain)(app_t *a, const app_genesis_account_t *accounts, size_t n,
                            uint8_t app_hash[static HASH_BYTES], kv_batch *out);
    cairn_err (*check_tx)(app_t *a, const uint8_t *raw, size_t n, unsigned flags,
                          app_result_t *res);
    cairn_err (*begin_block)(app_t *a, const header_t *h);
    cairn_err (*deliver_tx)(app_t *a, const uint8_t *raw, size_t n, unsigned flags,
                            app_result_t *res);
    cairn_err (*end_block)(app_t *a, uint64_t height, app_validator_update_t *updates,
                           size_t max, size_t *n_updates);
    cairn_err (*commit)(app_t *a, uint8_t app_hash[static HASH_BYTES], kv_batch *out);
    cairn_err (*query)(app_t *a, const char *path, const uint8_t *key, size_t key_len,
                       uint64_t height, bool prove, app_query_result_t *out);
    cairn_err (*prune)(app_t *a, uint64_t height, kv_batch *out);
    cairn_err (*oldest)(app_t *a, uint64_t *height);
    void (*free)(app_t *a);
} app_ops;

struct app {
    const app_ops *ops;
};

/* Last committed state as the app sees it through its kv_reader. */
static inline void app_info(app_t *a, app_info_t *out) { a->ops->info(a, out); }

/* Writes the genesis state as height 0. EXISTS if the state is already
 * initialized; INVALID_ARG for a duplicate address. */
static inline CAIRN_MUST_CHECK cairn_err app_init_chain(app_t *a,
                                                        const app_genesis_account_t *acc,
                                                        size_t n, uint8_t app_hash[static HASH_BYTES],
                                                        kv_batch *out)
{
    return a->ops->init_chain(a, acc, n, app_hash, out);
}

/* Mempool admission: decodes, verifies the signature (unless flags has
 * APP_TX_SIG_VERIFIED), and runs the tx against the check state: the committed
 * state plus every tx that passed check_tx since the last commit. app_commit
 * resets the check state to the committed state, so the mempool re-checks its
 * remaining txs, in order, after each commit. Result in res->code. */
static inline CAIRN_MUST_CHECK cairn_err app_check_tx(app_t *a, const uint8_t *raw, size_t n,
                                                      unsigned flags, app_result_t *res)
{
    return a->ops->check_tx(a, raw, n, flags, res);
}

/* Starts block h->height, which must be the last committed height + 1, on
 * chain h->chain_id (else BAD_HEIGHT / BAD_CHAIN_ID). */
static inline CAIRN_MUST_CHECK cairn_err app_begin_block(app_t *a, const header_t *h)
{
    return a->ops->begin_block(a, h);
}

/* Executes one tx of the block. With APP_TX_SIG_VERIFIED the signature is not
 * checked again (the node caches hashes of verified txs). */
static inline CAIRN_MUST_CHECK cairn_err app_deliver_tx(app_t *a, const uint8_t *raw, size_t n,
                                                        unsigned flags, app_result_t *res)
{
    return a->ops->deliver_tx(a, raw, n, flags, res);
}

/* Validator changes to apply from height + 2 (none yet for the ledger). */
static inline CAIRN_MUST_CHECK cairn_err app_end_block(app_t *a, uint64_t height,
                                                       app_validator_update_t *updates,
                                                       size_t max, size_t *n_updates)
{
    return a->ops->end_block(a, height, updates, max, n_updates);
}

/* Ends the block: app_hash = root of the new state; out gets every write that
 * state needs (persist it before the next call, invariant 2). */
static inline CAIRN_MUST_CHECK cairn_err app_commit(app_t *a, uint8_t app_hash[static HASH_BYTES],
                                                    kv_batch *out)
{
    return a->ops->commit(a, app_hash, out);
}

/* Reads committed state at `height` (0: latest). Paths: "/account" (key: 20-byte
 * address), "/record" (key: address || record key), "/state" (key: a raw state
 * key). With prove, out->proof proves out->value (or its absence) under
 * out->key against the app hash of state `height`, which is the app_hash in the
 * header of block height + 1. Problems with the query itself are result codes;
 * errors are storage failures (CORRUPT when stored state fails its hashes). */
static inline CAIRN_MUST_CHECK cairn_err app_query(app_t *a, const char *path, const uint8_t *key,
                                                   size_t key_len, uint64_t height, bool prove,
                                                   app_query_result_t *out)
{
    return a->ops->query(a, path, key, key_len, height, prove, out);
}

/* Bounds storage: out gets the deletes that make the state of height - 1 (and,
 * with earlier calls, all older state) unreadable. Call for height = oldest
 * kept + 1 in increasing order, up to the last committed height; persist out.
 * Queries with prove for pruned heights then answer APP_CODE_BAD_HEIGHT. */
static inline CAIRN_MUST_CHECK cairn_err app_prune(app_t *a, uint64_t height, kv_batch *out)
{
    return a->ops->prune(a, height, out);
}

/* The oldest height whose state is still readable (0 if nothing was pruned):
 * pruning forgets heights from the bottom, so oldest..latest are all kept.
 * INVALID_ARG before the state is initialized. */
static inline CAIRN_MUST_CHECK cairn_err app_oldest_height(app_t *a, uint64_t *height)
{
    return a->ops->oldest(a, height);
}

static inline void app_free(app_t *a)
{
    if (a) a->ops->free(a);
}

/* ------------------------------------------------------------ the ledger */

/* Opens the built-in ledger over committed state read through `reader` (which
 * must outlive the app). A fresh store gives an uninitialized app: call
 * app_init_chain. Free with app_free(). */
cairn_err ledger_new(const chain_id_t *cid, kv_reader reader, app_t **out) CAIRN_MUST_CHECK;

/* Accounts: u8 version 1 | u64 balance | u64 nonce (17 bytes). */
#define LEDGER_ACCOUNT_BYTES 17
typedef struct {
    uint64_t balance;
    uint64_t nonce; /* the nonce the account's next tx must carry */
} ledger_account_t;

void ledger_account_encode(const ledger_account_t *a, uint8_t out[static LEDGER_ACCOUNT_BYTES]);
cairn_err ledger_account_decode(ledger_account_t *a, const uint8_t *p, size_t n) CAIRN_MUST_CHECK;

/* Records: u8 version 1 | bytes value (u32 length, <= TX_VALUE_MAX). Borrows. */
cairn_err ledger_record_encode(const uint8_t *val, size_t n, buf_t *out) CAIRN_MUST_CHECK;
cairn_err ledger_record_decode(const uint8_t *p, size_t n, const uint8_t **val,
                               uint32_t *val_len) CAIRN_MUST_CHECK;

/* State keys (what proofs are about): 'a' | address for an account, 'r' |
 * address | record key for a record. Return the key length; out must hold
 * LEDGER_STATE_KEY_MAX bytes. */
#define LEDGER_STATE_KEY_MAX (1 + ADDR_BYTES + TX_KEY_MAX)
size_t ledger_account_key(uint8_t *out, const uint8_t addr[static ADDR_BYTES]);
size_t ledger_record_key(uint8_t *out, const uint8_t addr[static ADDR_BYTES], const uint8_t *key,
                         size_t key_len);

#endif
