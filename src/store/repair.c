/* repair.c - checking one height and rewriting it from verified data
 * (store_height_check, store_height_repair in store.h).
 *
 * Invariants:
 *  1. Nothing is written unless the new block, commit and results pass every
 *     check the store can make on its own (store.h lists them); a refusal
 *     leaves the store exactly as it was.
 *  2. All records of the height go in one write batch: a repair happens
 *     entirely or not at all, like a block save.
 *  3. Only heights inside base..height are rewritten: repair never extends or
 *     shortens the chain, and never touches meta or state.
 *
 * Threads: store_height_check on any thread; store_height_repair on the writer
 * thread only (it writes).
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/store_int.h"

static bool in_range(store_t *s, uint64_t h)
{
    return h > 0 && h >= store_base_height(s) && h <= store_height(s);
}

static cairn_err check_list(store_t *s, uint64_t h, store_damage_list *dl)
{
    block_t b;
    uint64_t records = 0;
    cairn_err rc = store_height_verify(s, h, NULL, true, &b, NULL, NULL, dl);
    if (rc != CAIRN_OK && rc != CAIRN_ECORRUPT) return rc;
    bool good = rc == CAIRN_OK;
    rc = store_height_extras_check(s, h, good ? &b : NULL, dl, &records);
    if (good) block_free(&b);
    return rc;
}

cairn_err store_height_check(store_t *s, uint64_t h, store_damage_t *out,
                             uint32_t out_max, uint32_t *n_damaged)
{
    if (n_damaged) *n_damaged = 0;
    if (!in_range(s, h)) return CAIRN_ENOT_FOUND;
    store_damage_list dl;
    dl.n = dl.dropped = 0;
    CAIRN_TRY(check_list(s, h, &dl));
    for (uint32_t i = 0; i < dl.n && i < out_max; i++) out[i] = dl.d[i];
    if (n_damaged) *n_damaged = dl.n + dl.dropped;
    return dl.n + dl.dropped ? CAIRN_ECORRUPT : CAIRN_OK;
}

/* The id of block h if it verifies on its own witnesses (commit, hash index;
 * the next block is not consulted, it may be the damaged one). */
static bool verified_id(store_t *s, uint64_t h, uint8_t id[HASH_BYTES], bool fetch_next)
{
    if (!in_range(s, h)) return false;
    store_damage_list dl;
    dl.n = dl.dropped = 0;
    block_t b;
    if (store_height_verify(s, h, NULL, fetch_next, &b, NULL, id, &dl) != CAIRN_OK) return false;
    block_free(&b);
    return true;
}

/* Shape of the new block and commit; the block is decoded into b. */
static cairn_err new_block_check(const store_height_repair_args *a, block_t *b,
                                 uint8_t id[HASH_BYTES])
{
    memset(b, 0, sizeof *b);
    if (!a->block_raw || !a->commit_raw || (a->results_len && !a->results_raw))
        return CAIRN_EINVALID_ARG;
    if (a->block_len > BLOCK_BYTES_MAX) return CAIRN_ETOO_LARGE;
    if (block_decode(b, a->block_raw, a->block_len) != CAIRN_OK) return CAIRN_EBAD_BLOCK;
    cairn_err rc = CAIRN_OK;
    uint8_t x[HASH_BYTES];
    if (b->header.height != a->height) rc = CAIRN_EBAD_HEIGHT;
    if (rc == CAIRN_OK && (block_data_hash(b, x) != CAIRN_OK ||
                           memcmp(x, b->header.data_hash, HASH_BYTES) != 0))
        rc = CAIRN_EBAD_HASH;
    if (rc == CAIRN_OK && (block_evidence_hash(b, x) != CAIRN_OK ||
                           memcmp(x, b->header.evidence_hash, HASH_BYTES) != 0))
        rc = CAIRN_EBAD_HASH;
    if (rc == CAIRN_OK && (commit_hash(&b->last_commit, x) != CAIRN_OK ||
                           memcmp(x, b->header.last_commit_hash, HASH_BYTES) != 0))
        rc = CAIRN_EBAD_HASH;
    if (rc == CAIRN_OK) rc = header_hash(&b->header, id);
    if (rc == CAIRN_OK) {
        /* The bytes must be the block's one encoding: they are what is hashed
         * when read back. */
        buf_t enc;
        buf_init(&enc, BLOCK_BYTES_MAX);
        if (block_encode(b, &enc) != CAIRN_OK || enc.len != a->block_len ||
            memcmp(enc.data, a->block_raw, enc.len) != 0)
            rc = CAIRN_EBAD_BLOCK;
        buf_deinit(&enc);
    }
    if (rc == CAIRN_OK) {
        commit_t c;
        memset(&c, 0, sizeof c);
        if (commit_decode(&c, a->commit_raw, a->commit_len) != CAIRN_OK ||
            c.height != a->height || memcmp(c.block_id, id, HASH_BYTES) != 0)
            rc = CAIRN_EBAD_COMMIT;
        commit_free(&c);
    }
    if (rc != CAIRN_OK) {
        block_free(b);
        memset(b, 0, sizeof *b);
    }
    return rc;
}

/* The new block against what the store itself still vouches for. */
static cairn_err witnesses_check(store_t *s, const block_t *b, const uint8_t id[HASH_BYTES])
{
    uint64_t h = b->header.height;
    uint8_t wid[HASH_BYTES];
    if (h == store_height(s) && memcmp(id, s->last_block_id, HASH_BYTES) != 0) {
        log_warn("store: repair of %llu refused: not the block the tip record names",
                 (unsigned long long)h);
        return CAIRN_EBAD_HASH;
    }
    if (h < store_height(s) && verified_id(s, h + 1, wid, true)) {
        block_t nb;
        uint8_t hk[8];
        store_height_key(hk, h + 1);
        char *v = NULL;
        size_t len = 0;
        CAIRN_TRY(store_raw_get(s, STORE_CF_BLOCKS, hk, 8, &v, &len));
        cairn_err rc = block_decode(&nb, (const uint8_t *)v, len);
        rocksdb_free(v);
        if (rc != CAIRN_OK) return CAIRN_ECORRUPT; /* changed under us */
        bool ok = memcmp(nb.header.last_block_id, id, HASH_BYTES) == 0;
        block_free(&nb);
        if (!ok) {
            log_warn("store: repair of %llu refused: block %llu links to another block",
                     (unsigned long long)h, (unsigned long long)(h + 1));
            return CAIRN_EBAD_HASH;
        }
    }
    if (h > store_base_height(s) && verified_id(s, h - 1, wid, false) &&
        memcmp(b->header.last_block_id, wid, HASH_BYTES) != 0) {
        log_warn("store: repair of %llu refused: it does not link to block %llu",
                 (unsigned long long)h, (unsigned long long)(h - 1));
        return CAIRN_EBAD_HASH;
    }
    return CAIRN_OK;
}

static cairn_err batch_fill(store_t *s, rocksdb_writebatch_t *wb,
                            const store_height_repair_args *a, const block_t *b,
                            const uint8_t id[HASH_BYTES])
{
    uint64_t h = a->height;
    uint8_t hk[8], hv[BLOCK_HASH_VALUE_BYTES];
    store_height_key(hk, h);
    store_put_u64le(hv, h);
    rocksdb_writebatch_put_cf(wb, s->cf[STORE_CF_BLOCKS], (const char *)hk, 8,
                              (const char *)a->block_raw, a->block_len);
    rocksdb_writebatch_put_cf(wb, s->cf[STORE_CF_BLOCK_HASH], (const char *)id, HASH_BYTES,
                              (const char *)hv, sizeof hv);
    rocksdb_writebatch_put_cf(wb, s->cf[STORE_CF_COMMITS], (const char *)hk, 8,
                              (const char *)a->commit_raw, a->commit_len);
    for (uint32_t i = 0; i < b->n_txs; i++) {
        uint8_t th[HASH_BYTES], tv[TX_INDEX_VALUE_BYTES];
        tx_hash(th, b->txs[i].p, b->txs[i].len);
        cairn_err verdict = CAIRN_OK;
        CAIRN_TRY(store_tx_index_entry_check(s, h, i, th, &verdict));
        if (verdict == CAIRN_OK) continue; /* right already, or names an earlier copy of the tx */
        store_put_u64le(tv, h);
        store_put_u32le(tv + 8, i);
        rocksdb_writebatch_put_cf(wb, s->cf[STORE_CF_TX_INDEX], (const char *)th, HASH_BYTES,
                                  (const char *)tv, sizeof tv);
    }
    store_batch_put_sealed(s, wb, STORE_CF_RESULTS, hk, 8, a->results_raw, a->results_len);
    return CAIRN_OK;
}

static void damage_log_left(uint64_t h, const store_damage_list *dl)
{
    for (uint32_t i = 0; i < dl->n; i++) {
        char line[256];
        store_damage_format(&dl->d[i], line, sizeof line);
        log_error("store: after repair of %llu still damaged: %s", (unsigned long long)h, line);
    }
}

cairn_err store_height_repair(store_t *s, const store_height_repair_args *a)
{
    if (!a) return CAIRN_EINVALID_ARG;
    if (!in_range(s, a->height)) return CAIRN_EBAD_HEIGHT;
    block_t b;
    uint8_t id[HASH_BYTES];
    CAIRN_TRY(new_block_check(a, &b, id));
    rocksdb_writebatch_t *wb = NULL;
    store_results_t r;
    memset(&r, 0, sizeof r);
    cairn_err rc = store_results_decode(a->results_raw, a->results_len, &r);
    if (rc == CAIRN_OK && r.n_tx != b.n_txs) rc = CAIRN_EBAD_ENCODING;
    else if (rc != CAIRN_OK && rc != CAIRN_ENOMEM) rc = CAIRN_EBAD_ENCODING;
    if (rc == CAIRN_OK && a->results_len > STORE_VALUE_MAX) rc = CAIRN_ETOO_LARGE;
    if (rc == CAIRN_OK) rc = witnesses_check(s, &b, id);
    if (rc != CAIRN_OK) goto out;
    wb = rocksdb_writebatch_create();
    if (!wb) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    rc = batch_fill(s, wb, a, &b, id);
    if (rc == CAIRN_OK) rc = store_batch_write(s, wb);
    if (rc != CAIRN_OK) goto out;
    store_damage_list dl;
    dl.n = dl.dropped = 0;
    rc = check_list(s, a->height, &dl);
    if (rc == CAIRN_OK) {
        /* Damage of block h+1 (its link) is h+1's to repair, not h's. */
        uint32_t left = dl.dropped;
        for (uint32_t i = 0; i < dl.n; i++) left += dl.d[i].height == a->height;
        if (left) {
            damage_log_left(a->height, &dl);
            rc = CAIRN_ECORRUPT;
        }
    }
    if (rc == CAIRN_OK)
        log_info("store: height %llu rewritten (%u txs) and verified",
                 (unsigned long long)a->height, b.n_txs);
out:
    if (wb) rocksdb_writebatch_destroy(wb);
    store_results_free(&r);
    block_free(&b);
    return rc;
}
