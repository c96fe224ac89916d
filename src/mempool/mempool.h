/* mempool.h - the bounded pool of transactions waiting for a block.
 *
 * Admission is split so the event loop never stalls on crypto: the node decodes a
 * transaction, asks mempool_precheck() (size, duplicate, full, per-sender order),
 * verifies the signature on the thread pool (or finds it in the verified-signature
 * cache), runs the application's check, and only then calls mempool_add().
 *
 * Invariants:
 *  1. count <= max_txs and bytes <= max_bytes at all times.
 *  2. One entry per tx hash.
 *  3. Arrival order is kept, and the application's check (run in arrival order at
 *     admission and again after every commit) admits a sender's nonces only in
 *     sequence, so reaping in arrival order never puts a nonce before its
 *     predecessor.
 *  4. The verified cache only holds hashes whose signature verified under this
 *     chain id; it is bounded (oldest evicted first).
 *
 * Pure: no I/O, no clock. One thread (the node's loop) owns a mempool.
 */
#ifndef CAIRN_MEMPOOL_MEMPOOL_H
#define CAIRN_MEMPOOL_MEMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "chain/chain.h"

typedef struct {
    size_t max_txs;       /* default 10000 */
    size_t max_bytes;     /* default 64 MiB */
    size_t max_tx_bytes;  /* default TX_BYTES_MAX */
    size_t cache_size;    /* verified-signature and recently-seen cache entries */
} mempool_config;

void mempool_config_defaults(mempool_config *cfg);

typedef struct mempool mempool_t;

cairn_err mempool_new(const mempool_config *cfg, mempool_t **out) CAIRN_MUST_CHECK;
void mempool_free(mempool_t *mp);

/* Cheap checks before the signature is verified: CAIRN_ETOO_LARGE, CAIRN_EDUPLICATE
 * (in the pool or recently committed), CAIRN_EMEMPOOL_FULL. Changes nothing. */
cairn_err mempool_precheck(const mempool_t *mp, const uint8_t hash[static HASH_BYTES],
                           size_t tx_len) CAIRN_MUST_CHECK;

/* Adds a transaction that passed precheck, signature and application checks.
 * Copies raw. Repeats the precheck (the pool may have moved while verifying). */
cairn_err mempool_add(mempool_t *mp, const uint8_t *raw, size_t len,
                      const uint8_t hash[static HASH_BYTES]) CAIRN_MUST_CHECK;

bool mempool_contains(const mempool_t *mp, const uint8_t hash[static HASH_BYTES]);
size_t mempool_count(const mempool_t *mp);
size_t mempool_bytes(const mempool_t *mp);

/* Up to max_txs transactions, at most max_bytes of them in all, in arrival order.
 * out[i] borrow from the pool: valid until the next mempool_update/add. */
size_t mempool_reap(const mempool_t *mp, size_t max_bytes, size_t max_txs, bytes_view *out);

/* Visits pending transactions in arrival order, starting after the cursor (0 to
 * start); returns the next cursor or 0 at the end. For gossip. */
typedef void (*mempool_visit_cb)(void *ctx, const uint8_t *raw, size_t len,
                                 const uint8_t hash[HASH_BYTES]);
uint64_t mempool_visit_from(const mempool_t *mp, uint64_t cursor, size_t max, mempool_visit_cb cb,
                            void *ctx);

/* After a block committed: removes its transactions and remembers their hashes
 * as recently committed; then, if keep is not NULL, asks keep() about every
 * remaining transaction in arrival order (the application's re-check against the
 * new state) and drops those it refuses. Returns how many the re-check dropped. */
typedef bool (*mempool_keep_cb)(void *ctx, const uint8_t *raw, size_t len);
size_t mempool_update(mempool_t *mp, const bytes_view *committed, size_t n_committed,
                      mempool_keep_cb keep, void *ctx);

/* Verified-signature cache. */
void mempool_sig_cache_add(mempool_t *mp, const uint8_t hash[static HASH_BYTES]);
bool mempool_sig_cache_has(const mempool_t *mp, const uint8_t hash[static HASH_BYTES]);

#endif
