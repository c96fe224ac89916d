/* block.c - saving blocks in one write batch, and reading them back verified
 * (store.h invariants 1-3). The checks shared with the scrubber live in
 * store_height_verify(). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/store_int.h"

/* ------------------------------------------------------------- damage lists */

void store_damage_add(store_damage_list *l, store_cf cf, uint64_t height,
                      const uint8_t *key, size_t key_len, cairn_err err,
                      const char *fmt, ...)
{
    if (l->n >= STORE_DAMAGE_LIST_MAX) {
        l->dropped++;
        return;
    }
    store_damage_t *d = &l->d[l->n++];
    memset(d, 0, sizeof *d);
    d->cf = cf;
    d->height = height;
    d->key_len = (uint32_t)(key_len > STORE_SCRUB_KEY_MAX ? STORE_SCRUB_KEY_MAX : key_len);
    memcpy(d->key, key, d->key_len);
    d->err = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof d->reason, fmt, ap);
    va_end(ap);
}

void store_damage_format(const store_damage_t *d, char *out, size_t out_len)
{
    char desc[128];
    store_key_describe(d->cf, d->key, d->key_len, desc, sizeof desc);
    snprintf(out, out_len, "%s: %s%s", desc, d->reason,
             d->err == CAIRN_ENOT_FOUND ? " (missing)" : "");
}

static void damage_log(const store_damage_list *l)
{
    for (uint32_t i = 0; i < l->n; i++) {
        char line[256];
        store_damage_format(&l->d[i], line, sizeof line);
        log_error("store: damaged record %s", line);
    }
}

/* ------------------------------------------------------------- results */

cairn_err store_results_encode(const bytes_view *tx, uint32_t n, const uint8_t *block,
                               size_t block_len, buf_t *out)
{
    if (n > BLOCK_TXS_MAX) return CAIRN_ETOO_LARGE;
    codec_writer w;
    codec_writer_init(&w, out);
    codec_put_u8(&w, RESULTS_VERSION);
    codec_put_u32(&w, n);
    for (uint32_t i = 0; i < n && !w.err; i++) {
        if (tx[i].len > STORE_VALUE_MAX) return CAIRN_ETOO_LARGE;
        codec_put_bytes(&w, tx[i].p, tx[i].len);
    }
    if (block_len > STORE_VALUE_MAX) return CAIRN_ETOO_LARGE;
    codec_put_bytes(&w, block, block_len);
    return w.err;
}

cairn_err store_results_parse(const uint8_t *p, size_t n, uint32_t *count,
                               bytes_view *tx, uint32_t tx_max, bytes_view *block)
{
    codec_reader r;
    codec_reader_init(&r, p, n);
    if (codec_get_u8(&r) != RESULTS_VERSION) codec_reader_fail(&r, CAIRN_EBAD_VERSION);
    uint32_t c = codec_get_u32(&r);
    if (r.err == CAIRN_OK && c > BLOCK_TXS_MAX) codec_reader_fail(&r, CAIRN_ETOO_LARGE);
    for (uint32_t i = 0; i < c && r.err == CAIRN_OK; i++) {
        const uint8_t *q;
        uint32_t len;
        codec_get_bytes(&r, &q, &len, STORE_VALUE_MAX);
        if (tx && i < tx_max) tx[i] = (bytes_view){q, len};
    }
    const uint8_t *q;
    uint32_t len;
    codec_get_bytes(&r, &q, &len, STORE_VALUE_MAX);
    if (block) *block = (bytes_view){q, len};
    *count = c;
    return codec_reader_finish(&r);
}

void store_results_free(store_results_t *r)
{
    free(r->tx);
    free(r->mem);
    memset(r, 0, sizeof *r);
}

cairn_err store_results_decode(const uint8_t *p, size_t len, store_results_t *out)
{
    memset(out, 0, sizeof *out);
    uint32_t count = 0;
    cairn_err rc = store_results_parse(p, len, &count, NULL, 0, NULL);
    if (rc != CAIRN_OK) return rc;
    out->mem = malloc(len ? len : 1);
    out->tx = calloc(count ? count : 1, sizeof *out->tx);
    if (!out->mem || !out->tx) {
        store_results_free(out);
        return CAIRN_ENOMEM;
    }
    if (len) memcpy(out->mem, p, len);
    rc = store_results_parse(out->mem, len, &out->n_tx, out->tx, count, &out->block);
    CAIRN_ASSERT(rc == CAIRN_OK);
    return CAIRN_OK;
}

cairn_err store_results_load(store_t *s, uint64_t height, store_results_t *out)
{
    memset(out, 0, sizeof *out);
    uint8_t key[8];
    store_height_key(key, height);
    char *v = NULL;
    size_t len = 0;
    cairn_err rc = store_sealed_get(s, STORE_CF_RESULTS, key, 8, &v, &len);
    if (rc != CAIRN_OK) return rc;
    rc = store_results_decode((const uint8_t *)v, len, out);
    rocksdb_free(v);
    if (rc == CAIRN_ENOMEM) return rc;
    if (rc != CAIRN_OK) return store_corrupt(STORE_CF_RESULTS, key, 8, "results do not parse");
    return CAIRN_OK;
}

cairn_err store_results_get_raw(store_t *s, uint64_t height, buf_t *out)
{
    store_results_t r;
    cairn_err rc = store_results_get(s, height, &r);
    if (rc != CAIRN_OK) return rc;
    buf_reset(out);
    /* encode(parse(b)) == b: re-encoding gives back the stored bytes. */
    rc = store_results_encode(r.tx, r.n_tx, r.block.p, r.block.len, out);
    store_results_free(&r);
    return rc;
}

cairn_err store_results_get(store_t *s, uint64_t height, store_results_t *out)
{
    cairn_err rc = store_results_load(s, height, out);
    if (rc == CAIRN_ENOT_FOUND && height >= store_base_height(s) &&
        height <= store_height(s) && height > 0) {
        uint8_t key[8];
        store_height_key(key, height);
        return store_corrupt(STORE_CF_RESULTS, key, 8, "missing inside the stored range");
    }
    return rc;
}

/* ------------------------------------------------------------- saving */

static cairn_err save_check(store_t *s, const store_block_save_args *a)
{
    if (!a || !a->block_raw || !a->block || !a->block_id || !a->commit_raw ||
        !a->app_hash || (a->n_tx_results && !a->tx_results) ||
        (a->block_result_len && !a->block_result) ||
        (a->chain_state_len && !a->chain_state))
        return CAIRN_EINVALID_ARG;
    if (a->block_len > BLOCK_BYTES_MAX) return CAIRN_ETOO_LARGE;
    if (a->chain_state_len > STORE_CHAIN_STATE_MAX) return CAIRN_ETOO_LARGE;
    const header_t *h = &a->block->header;
    uint64_t tip = store_height(s);
    if (h->height == 0 || (tip > 0 && h->height != tip + 1)) {
        log_warn("store: refusing block %llu: tip is %llu",
                 (unsigned long long)h->height, (unsigned long long)tip);
        return CAIRN_EBAD_HEIGHT;
    }
    if (tip > 0 && memcmp(h->last_block_id, s->last_block_id, HASH_BYTES) != 0) {
        log_warn("store: refusing block %llu: last_block_id does not link to the tip",
                 (unsigned long long)h->height);
        return CAIRN_EBAD_HASH;
    }
    uint8_t id[HASH_BYTES];
    CAIRN_TRY(header_hash(h, id));
    if (memcmp(id, a->block_id, HASH_BYTES) != 0) return CAIRN_EBAD_HASH;
    uint8_t dh[HASH_BYTES];
    CAIRN_TRY(block_data_hash(a->block, dh));
    if (memcmp(dh, h->data_hash, HASH_BYTES) != 0) return CAIRN_EBAD_HASH;
    if (a->n_tx_results != a->block->n_txs) return CAIRN_EINVALID_ARG;
    /* The bytes must be the block: what is read back is checked against them. */
    buf_t enc;
    buf_init(&enc, BLOCK_BYTES_MAX);
    cairn_err rc = block_encode(a->block, &enc);
    if (rc == CAIRN_OK && (enc.len != a->block_len ||
                           memcmp(enc.data, a->block_raw, enc.len) != 0))
        rc = CAIRN_EINVALID_ARG;
    buf_deinit(&enc);
    if (rc != CAIRN_OK) return rc;
    commit_t c;
    memset(&c, 0, sizeof c);
    rc = commit_decode(&c, a->commit_raw, a->commit_len);
    if (rc == CAIRN_OK &&
        (c.height != h->height || memcmp(c.block_id, id, HASH_BYTES) != 0))
        rc = CAIRN_EBAD_COMMIT;
    else if (rc != CAIRN_OK)
        rc = CAIRN_EBAD_COMMIT;
    commit_free(&c);
    return rc;
}

static cairn_err save_batch_fill(store_t *s, rocksdb_writebatch_t *wb,
                                 const store_block_save_args *a, buf_t *results)
{
    const block_t *b = a->block;
    uint64_t height = b->header.height;
    uint8_t hk[8], hv[BLOCK_HASH_VALUE_BYTES];
    store_height_key(hk, height);
    store_put_u64le(hv, height);
    rocksdb_writebatch_put_cf(wb, s->cf[STORE_CF_BLOCKS], (const char *)hk, 8,
                              (const char *)a->block_raw, a->block_len);
    rocksdb_writebatch_put_cf(wb, s->cf[STORE_CF_BLOCK_HASH], (const char *)a->block_id,
                              HASH_BYTES, (const char *)hv, sizeof hv);
    rocksdb_writebatch_put_cf(wb, s->cf[STORE_CF_COMMITS], (const char *)hk, 8,
                              (const char *)a->commit_raw, a->commit_len);
    for (uint32_t i = 0; i < b->n_txs; i++) {
        uint8_t th[HASH_BYTES], tv[TX_INDEX_VALUE_BYTES];
        tx_hash(th, b->txs[i].p, b->txs[i].len);
        store_put_u64le(tv, height);
        store_put_u32le(tv + 8, i);
        rocksdb_writebatch_put_cf(wb, s->cf[STORE_CF_TX_INDEX], (const char *)th,
                                  HASH_BYTES, (const char *)tv, sizeof tv);
    }
    CAIRN_TRY(store_results_encode(a->tx_results, a->n_tx_results, a->block_result,
                                   a->block_result_len, results));
    store_batch_put_sealed(s, wb, STORE_CF_RESULTS, hk, 8, results->data, results->len);
    if (a->state) CAIRN_TRY(store_batch_add_state(s, wb, a->state));
    store_meta_t m = {.height = height,
                      .base_height = store_base_height(s) ? store_base_height(s) : height};
    memcpy(m.last_block_id, a->block_id, HASH_BYTES);
    memcpy(m.app_hash, a->app_hash, HASH_BYTES);
    uint8_t tip[META_TIP_BYTES];
    store_tip_encode(tip, &m);
    store_batch_put_sealed(s, wb, STORE_CF_META, (const uint8_t *)META_KEY_TIP,
                           strlen(META_KEY_TIP), tip, sizeof tip);
    if (a->chain_state)
        store_batch_put_sealed(s, wb, STORE_CF_META, (const uint8_t *)META_KEY_CHAIN_STATE,
                               strlen(META_KEY_CHAIN_STATE), a->chain_state,
                               a->chain_state_len);
    return CAIRN_OK;
}

cairn_err store_block_save(store_t *s, const store_block_save_args *a)
{
    cairn_err rc = save_check(s, a);
    if (rc != CAIRN_OK) return rc;
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    buf_t results;
    buf_init(&results, STORE_VALUE_MAX);
    if (!wb) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    rc = save_batch_fill(s, wb, a, &results);
    if (rc == CAIRN_ELIMIT) rc = CAIRN_ETOO_LARGE;
    if (rc != CAIRN_OK) goto out;
    rc = store_batch_write(s, wb);
    if (rc != CAIRN_OK) goto out;
    uint64_t height = a->block->header.height;
    memcpy(s->last_block_id, a->block_id, HASH_BYTES);
    memcpy(s->app_hash, a->app_hash, HASH_BYTES);
    if (store_base_height(s) == 0) atomic_store(&s->base, height);
    atomic_store(&s->height, height);
out:
    if (wb) rocksdb_writebatch_destroy(wb);
    buf_deinit(&results);
    return rc;
}

/* ------------------------------------------------------------- verifying */

static bool in_range(store_t *s, uint64_t h)
{
    return h > 0 && h >= store_base_height(s) && h <= store_height(s);
}

/* The last_block_id the block at height h+1 names, into link. CAIRN_ENOT_FOUND if
 * there is no usable next block (absent, or damaged: its own check reports it). */
static cairn_err next_link_get(store_t *s, uint64_t h, uint8_t link[HASH_BYTES])
{
    if (h + 1 > store_height(s)) return CAIRN_ENOT_FOUND;
    uint8_t key[8];
    store_height_key(key, h + 1);
    char *v = NULL;
    size_t len = 0;
    cairn_err rc = store_raw_get(s, STORE_CF_BLOCKS, key, 8, &v, &len);
    if (rc != CAIRN_OK) return rc == CAIRN_ECORRUPT ? CAIRN_ENOT_FOUND : rc;
    block_t nb;
    memset(&nb, 0, sizeof nb);
    rc = block_decode(&nb, (const uint8_t *)v, len);
    rocksdb_free(v);
    if (rc == CAIRN_OK && nb.header.height == h + 1)
        memcpy(link, nb.header.last_block_id, HASH_BYTES);
    else
        rc = CAIRN_ENOT_FOUND;
    block_free(&nb);
    return rc;
}

/* Checks the seen commit of h against the block id; adds damage. */
static cairn_err commit_check(store_t *s, uint64_t h, const uint8_t id[HASH_BYTES],
                              bool *commit_agrees, store_damage_list *dl)
{
    uint8_t key[8];
    store_height_key(key, h);
    *commit_agrees = false;
    char *v = NULL;
    size_t len = 0;
    cairn_err rc = store_raw_get(s, STORE_CF_COMMITS, key, 8, &v, &len);
    if (rc == CAIRN_ENOT_FOUND || rc == CAIRN_ECORRUPT) {
        store_damage_add(dl, STORE_CF_COMMITS, h, key, 8, rc,
                         rc == CAIRN_ENOT_FOUND ? "seen commit missing"
                                                : "rocksdb reports corruption");
        return CAIRN_OK;
    }
    if (rc != CAIRN_OK) return rc;
    commit_t c;
    memset(&c, 0, sizeof c);
    rc = commit_decode(&c, (const uint8_t *)v, len);
    rocksdb_free(v);
    if (rc != CAIRN_OK) {
        store_damage_add(dl, STORE_CF_COMMITS, h, key, 8, CAIRN_ECORRUPT,
                         "seen commit does not decode (%s)", cairn_errname(rc));
    } else if (c.height != h) {
        store_damage_add(dl, STORE_CF_COMMITS, h, key, 8, CAIRN_ECORRUPT,
                         "seen commit is for height %llu", (unsigned long long)c.height);
    } else {
        *commit_agrees = memcmp(c.block_id, id, HASH_BYTES) == 0;
    }
    commit_free(&c);
    return CAIRN_OK;
}

/* Checks that the block_hash index maps id to h. */
static cairn_err index_check(store_t *s, uint64_t h, const uint8_t id[HASH_BYTES],
                             bool *index_agrees, bool *index_missing)
{
    char *v = NULL;
    size_t len = 0;
    *index_agrees = *index_missing = false;
    cairn_err rc = store_raw_get(s, STORE_CF_BLOCK_HASH, id, HASH_BYTES, &v, &len);
    if (rc == CAIRN_ENOT_FOUND || rc == CAIRN_ECORRUPT) {
        *index_missing = true;
        return CAIRN_OK;
    }
    if (rc != CAIRN_OK) return rc;
    *index_agrees = len == BLOCK_HASH_VALUE_BYTES && store_get_u64le((uint8_t *)v) == h;
    rocksdb_free(v);
    return CAIRN_OK;
}

/* Witnesses of the block id of h: the seen commit, the next block's link and the
 * hash index. A link handed in by the caller comes from a verified block (the
 * scrubber walks down from the tip) and decides alone. Otherwise the block is
 * taken as undamaged if at least one independent witness (commit or next link)
 * agrees, and each disagreeing witness is then the damaged record; if none
 * agrees the block is. Any disagreement makes the read fail. */
static cairn_err links_check(store_t *s, uint64_t h, const uint8_t id[HASH_BYTES],
                             const uint8_t *next_link, bool fetch_next,
                             store_damage_list *dl)
{
    uint8_t hk[8];
    store_height_key(hk, h);
    bool commit_ok = false, index_ok = false, index_missing = false;
    CAIRN_TRY(commit_check(s, h, id, &commit_ok, dl));
    CAIRN_TRY(index_check(s, h, id, &index_ok, &index_missing));
    uint8_t fetched[HASH_BYTES];
    bool next_trusted = next_link != NULL; /* from a block already verified */
    bool have_next = next_link != NULL;
    if (!have_next && fetch_next) {
        cairn_err rc = next_link_get(s, h, fetched);
        if (rc == CAIRN_OK) {
            next_link = fetched;
            have_next = true;
        } else if (rc != CAIRN_ENOT_FOUND) {
            return rc;
        }
    }
    bool next_ok = have_next && memcmp(next_link, id, HASH_BYTES) == 0;
    bool commit_usable = true;
    for (uint32_t i = 0; i < dl->n; i++)
        if (dl->d[i].cf == STORE_CF_COMMITS && dl->d[i].height == h) commit_usable = false;
    if (next_trusted && !next_ok) {
        /* The verified chain above outranks a commit the store cannot verify. */
        store_damage_add(dl, STORE_CF_BLOCKS, h, hk, 8, CAIRN_ECORRUPT,
                         "header hash is not the verified next block's last_block_id");
        return CAIRN_OK;
    }
    if (!commit_ok && !next_ok) {
        if (commit_usable || have_next) {
            store_damage_add(dl, STORE_CF_BLOCKS, h, hk, 8, CAIRN_ECORRUPT,
                             "header hash matches neither the seen commit nor the "
                             "next block's last_block_id");
            return CAIRN_OK;
        }
        if (!index_ok) { /* no witness left: the block cannot be vouched for */
            store_damage_add(dl, STORE_CF_BLOCKS, h, hk, 8, CAIRN_ECORRUPT,
                             "no usable seen commit or next block, and the hash "
                             "index does not know its header hash");
            return CAIRN_OK;
        }
    }
    if (commit_usable && !commit_ok)
        store_damage_add(dl, STORE_CF_COMMITS, h, hk, 8, CAIRN_ECORRUPT,
                         "seen commit is for another block id");
    if (have_next && !next_ok) {
        uint8_t nk[8];
        store_height_key(nk, h + 1);
        store_damage_add(dl, STORE_CF_BLOCKS, h + 1, nk, 8, CAIRN_ECORRUPT,
                         "last_block_id does not match block %llu",
                         (unsigned long long)h);
    }
    if (!index_ok)
        store_damage_add(dl, STORE_CF_BLOCK_HASH, h, id, HASH_BYTES,
                         index_missing ? CAIRN_ENOT_FOUND : CAIRN_ECORRUPT,
                         index_missing ? "index entry for block %llu"
                                       : "does not map to block %llu",
                         (unsigned long long)h);
    return CAIRN_OK;
}

/* Body checks: right height; txs, evidence and last commit match the header's
 * hashes, so every byte of the encoding is covered by the block id. */
static void body_check(uint64_t h, const block_t *b, store_damage_list *dl)
{
    uint8_t hk[8], x[HASH_BYTES];
    store_height_key(hk, h);
    if (b->header.height != h) {
        store_damage_add(dl, STORE_CF_BLOCKS, h, hk, 8, CAIRN_ECORRUPT,
                         "holds the block of height %llu",
                         (unsigned long long)b->header.height);
        return;
    }
    if (block_data_hash(b, x) != CAIRN_OK || memcmp(x, b->header.data_hash, HASH_BYTES))
        store_damage_add(dl, STORE_CF_BLOCKS, h, hk, 8, CAIRN_ECORRUPT,
                         "txs do not match data_hash");
    if (block_evidence_hash(b, x) != CAIRN_OK ||
        memcmp(x, b->header.evidence_hash, HASH_BYTES))
        store_damage_add(dl, STORE_CF_BLOCKS, h, hk, 8, CAIRN_ECORRUPT,
                         "evidence does not match evidence_hash");
    if (commit_hash(&b->last_commit, x) != CAIRN_OK ||
        memcmp(x, b->header.last_commit_hash, HASH_BYTES))
        store_damage_add(dl, STORE_CF_BLOCKS, h, hk, 8, CAIRN_ECORRUPT,
                         "last commit does not match last_commit_hash");
}

cairn_err store_height_verify(store_t *s, uint64_t h, const uint8_t *next_link,
                              bool fetch_next, block_t *out, buf_t *raw_out,
                              uint8_t id_out[HASH_BYTES], store_damage_list *dl)
{
    uint8_t hk[8];
    store_height_key(hk, h);
    memset(out, 0, sizeof *out);
    char *v = NULL;
    size_t len = 0;
    uint32_t n0 = dl->n + dl->dropped;
    cairn_err rc = store_raw_get(s, STORE_CF_BLOCKS, hk, 8, &v, &len);
    if (rc == CAIRN_ENOT_FOUND && !in_range(s, h)) return CAIRN_ENOT_FOUND;
    if (rc == CAIRN_ENOT_FOUND || rc == CAIRN_ECORRUPT) {
        store_damage_add(dl, STORE_CF_BLOCKS, h, hk, 8, rc,
                         rc == CAIRN_ENOT_FOUND ? "block missing inside the stored range"
                                                : "rocksdb reports corruption");
        return CAIRN_ECORRUPT;
    }
    if (rc != CAIRN_OK) return rc;
    rc = block_decode(out, (const uint8_t *)v, len);
    if (rc != CAIRN_OK) {
        rocksdb_free(v);
        block_free(out);
        memset(out, 0, sizeof *out);
        store_damage_add(dl, STORE_CF_BLOCKS, h, hk, 8, CAIRN_ECORRUPT,
                         "does not decode (%s)", cairn_errname(rc));
        return CAIRN_ECORRUPT;
    }
    if (raw_out) {
        buf_reset(raw_out);
        rc = buf_append(raw_out, v, len);
    }
    rocksdb_free(v);
    uint8_t id[HASH_BYTES];
    if (rc == CAIRN_OK) rc = header_hash(&out->header, id);
    if (rc == CAIRN_OK) body_check(h, out, dl);
    if (rc == CAIRN_OK && dl->n + dl->dropped == n0)
        rc = links_check(s, h, id, next_link, fetch_next, dl);
    if (rc == CAIRN_OK && id_out) memcpy(id_out, id, HASH_BYTES);
    if (rc == CAIRN_OK && dl->n + dl->dropped != n0) rc = CAIRN_ECORRUPT;
    if (rc != CAIRN_OK) {
        block_free(out);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

/* ------------------------------------------------------------- getters */

static cairn_err block_load(store_t *s, uint64_t h, block_t *out, buf_t *raw,
                            uint8_t id[HASH_BYTES])
{
    store_damage_list dl;
    dl.n = dl.dropped = 0;
    block_t tmp;
    block_t *b = out ? out : &tmp;
    cairn_err rc = store_height_verify(s, h, NULL, s->opt.verify_next, b, raw, id, &dl);
    if (rc == CAIRN_ECORRUPT) damage_log(&dl);
    if (!out && rc == CAIRN_OK) block_free(&tmp);
    return rc;
}

cairn_err store_block_get(store_t *s, uint64_t height, block_t *out)
{
    return block_load(s, height, out, NULL, NULL);
}

cairn_err store_block_get_raw(store_t *s, uint64_t height, buf_t *out,
                              uint8_t id_out[HASH_BYTES])
{
    return block_load(s, height, NULL, out, id_out);
}

/* block_hash[id] -> height, checked for shape. */
static cairn_err hash_to_height(store_t *s, const uint8_t id[HASH_BYTES], uint64_t *h)
{
    char *v = NULL;
    size_t len = 0;
    cairn_err rc = store_raw_get(s, STORE_CF_BLOCK_HASH, id, HASH_BYTES, &v, &len);
    if (rc != CAIRN_OK) return rc;
    if (len != BLOCK_HASH_VALUE_BYTES) {
        rocksdb_free(v);
        return store_corrupt(STORE_CF_BLOCK_HASH, id, HASH_BYTES, "value has the wrong size");
    }
    *h = store_get_u64le((const uint8_t *)v);
    rocksdb_free(v);
    if (!in_range(s, *h))
        return store_corrupt(STORE_CF_BLOCK_HASH, id, HASH_BYTES,
                             "points outside the stored heights");
    return CAIRN_OK;
}

static cairn_err by_hash(store_t *s, const uint8_t id[HASH_BYTES], block_t *out,
                         buf_t *raw, uint64_t *height_out)
{
    uint64_t h = 0;
    CAIRN_TRY(hash_to_height(s, id, &h));
    uint8_t got[HASH_BYTES];
    CAIRN_TRY(block_load(s, h, out, raw, got));
    if (memcmp(got, id, HASH_BYTES) != 0) {
        if (out) {
            block_free(out);
            memset(out, 0, sizeof *out);
        }
        return store_corrupt(STORE_CF_BLOCK_HASH, id, HASH_BYTES,
                             "points to a block with another hash");
    }
    if (height_out) *height_out = h;
    return CAIRN_OK;
}

cairn_err store_block_get_by_hash(store_t *s, const uint8_t id[static HASH_BYTES],
                                  block_t *out, uint64_t *height_out)
{
    return by_hash(s, id, out, NULL, height_out);
}

cairn_err store_block_get_raw_by_hash(store_t *s, const uint8_t id[static HASH_BYTES],
                                      buf_t *out, uint64_t *height_out)
{
    return by_hash(s, id, NULL, out, height_out);
}

/* Reads and checks the seen commit; raw (may be NULL) gets the bytes. */
static cairn_err commit_load(store_t *s, uint64_t height, commit_t *out, buf_t *raw)
{
    uint8_t hk[8];
    store_height_key(hk, height);
    char *v = NULL;
    size_t len = 0;
    cairn_err rc = store_raw_get(s, STORE_CF_COMMITS, hk, 8, &v, &len);
    if (rc == CAIRN_ENOT_FOUND && in_range(s, height))
        return store_corrupt(STORE_CF_COMMITS, hk, 8, "missing inside the stored range");
    if (rc != CAIRN_OK) return rc;
    commit_t c;
    memset(&c, 0, sizeof c);
    rc = commit_decode(&c, (const uint8_t *)v, len);
    uint64_t ih = 0;
    if (rc != CAIRN_OK) {
        rc = store_corrupt(STORE_CF_COMMITS, hk, 8, "does not decode");
    } else if (c.height != height) {
        rc = store_corrupt(STORE_CF_COMMITS, hk, 8, "is for another height");
    } else {
        rc = hash_to_height(s, c.block_id, &ih);
        if (rc == CAIRN_ENOT_FOUND || (rc == CAIRN_OK && ih != height))
            rc = store_corrupt(STORE_CF_COMMITS, hk, 8,
                               "block id is not the stored block of this height");
    }
    if (rc == CAIRN_OK && raw) {
        buf_reset(raw);
        rc = buf_append(raw, v, len);
    }
    rocksdb_free(v);
    if (rc == CAIRN_OK && out) *out = c;
    else commit_free(&c);
    return rc;
}

cairn_err store_commit_get(store_t *s, uint64_t height, commit_t *out)
{
    memset(out, 0, sizeof *out);
    return commit_load(s, height, out, NULL);
}

cairn_err store_commit_get_raw(store_t *s, uint64_t height, buf_t *out)
{
    return commit_load(s, height, NULL, out);
}

cairn_err store_tx_get(store_t *s, const uint8_t hash[static HASH_BYTES],
                       uint64_t *height, uint32_t *index, buf_t *tx, buf_t *result)
{
    char *v = NULL;
    size_t len = 0;
    CAIRN_TRY(store_raw_get(s, STORE_CF_TX_INDEX, hash, HASH_BYTES, &v, &len));
    if (len != TX_INDEX_VALUE_BYTES) {
        rocksdb_free(v);
        return store_corrupt(STORE_CF_TX_INDEX, hash, HASH_BYTES, "value has the wrong size");
    }
    uint64_t h = store_get_u64le((const uint8_t *)v);
    uint32_t i = store_get_u32le((const uint8_t *)v + 8);
    rocksdb_free(v);
    if (!in_range(s, h))
        return store_corrupt(STORE_CF_TX_INDEX, hash, HASH_BYTES,
                             "points outside the stored heights");
    block_t b;
    CAIRN_TRY(store_block_get(s, h, &b));
    cairn_err rc = CAIRN_OK;
    uint8_t th[HASH_BYTES];
    if (i >= b.n_txs) {
        rc = store_corrupt(STORE_CF_TX_INDEX, hash, HASH_BYTES, "points past the block's txs");
        goto out;
    }
    tx_hash(th, b.txs[i].p, b.txs[i].len);
    if (memcmp(th, hash, HASH_BYTES) != 0) {
        rc = store_corrupt(STORE_CF_TX_INDEX, hash, HASH_BYTES,
                           "points to another transaction");
        goto out;
    }
    if (tx) {
        buf_reset(tx);
        rc = buf_append(tx, b.txs[i].p, b.txs[i].len);
        if (rc != CAIRN_OK) goto out;
    }
    if (result) {
        store_results_t r;
        rc = store_results_get(s, h, &r);
        if (rc != CAIRN_OK) goto out;
        if (r.n_tx != b.n_txs) {
            uint8_t hk[8];
            store_height_key(hk, h);
            rc = store_corrupt(STORE_CF_RESULTS, hk, 8, "result count differs from txs");
        } else {
            buf_reset(result);
            rc = buf_append(result, r.tx[i].p, r.tx[i].len);
        }
        store_results_free(&r);
        if (rc != CAIRN_OK) goto out;
    }
    if (height) *height = h;
    if (index) *index = i;
out:
    block_free(&b);
    return rc;
}
