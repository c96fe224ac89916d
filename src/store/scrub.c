/* scrub.c - walks the whole store and lists every damaged record (store_scrub in
 * store.h). Heights are walked from the tip down so each block's link check uses
 * the already verified next block. Every loop is bounded: heights by base..tip,
 * column-family walks by their iterator's end and STORE_SCRUB_RECORDS_MAX. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/store_int.h"

#define STORE_SCRUB_IDS_MAX ((uint64_t)1 << 20) /* block ids kept for the index pass */
#define STORE_SCRUB_RECORDS_MAX ((uint64_t)1 << 40)
#define PROGRESS_EVERY 1000

typedef struct {
    store_t *s;
    store_scrub_report *rep;
    uint64_t base, tip;
    uint8_t (*ids)[HASH_BYTES]; /* ids[h - base] of verified heights, or NULL */
    uint8_t *id_ok;
} scrub_ctx;

void store_scrub_report_free(store_scrub_report *r)
{
    free(r->entries);
    memset(r, 0, sizeof *r);
}

static void report_add(store_scrub_report *rep, const store_damage_t *d)
{
    rep->damaged++;
    if (rep->n_entries >= STORE_SCRUB_REPORT_MAX) return;
    if (!rep->entries) {
        rep->entries = calloc(STORE_SCRUB_REPORT_MAX, sizeof *rep->entries);
        if (!rep->entries) return; /* still counted */
    }
    rep->entries[rep->n_entries++] = *d;
}

static void report_list(store_scrub_report *rep, const store_damage_list *dl)
{
    for (uint32_t i = 0; i < dl->n; i++) report_add(rep, &dl->d[i]);
    rep->damaged += dl->dropped;
}

/* The tx at (h, i) of a stored block hashes to want. */
static bool tx_at_matches(store_t *s, uint64_t h, uint32_t i, const uint8_t want[HASH_BYTES])
{
    uint8_t hk[8];
    store_height_key(hk, h);
    char *v = NULL;
    size_t len = 0;
    if (store_raw_get(s, STORE_CF_BLOCKS, hk, 8, &v, &len) != CAIRN_OK) return false;
    block_t b;
    memset(&b, 0, sizeof b);
    bool ok = false;
    if (block_decode(&b, (const uint8_t *)v, len) == CAIRN_OK && i < b.n_txs) {
        uint8_t th[HASH_BYTES];
        tx_hash(th, b.txs[i].p, b.txs[i].len);
        ok = memcmp(th, want, HASH_BYTES) == 0;
    }
    block_free(&b);
    rocksdb_free(v);
    return ok;
}

cairn_err store_tx_index_entry_check(store_t *s, uint64_t h, uint32_t i,
                                     const uint8_t th[static HASH_BYTES], cairn_err *verdict)
{
    *verdict = CAIRN_ECORRUPT;
    char *v = NULL;
    size_t len = 0;
    cairn_err rc = store_raw_get(s, STORE_CF_TX_INDEX, th, HASH_BYTES, &v, &len);
    if (rc == CAIRN_ENOT_FOUND || rc == CAIRN_ECORRUPT) {
        *verdict = rc;
        return CAIRN_OK;
    }
    if (rc != CAIRN_OK) return rc;
    bool shape = len == TX_INDEX_VALUE_BYTES;
    uint64_t ih = shape ? store_get_u64le((const uint8_t *)v) : 0;
    uint32_t ii = shape ? store_get_u32le((const uint8_t *)v + 8) : 0;
    rocksdb_free(v);
    if (shape && ih == h && ii == i) {
        *verdict = CAIRN_OK;
        return CAIRN_OK;
    }
    /* Another location is fine if it holds the same tx (a repeated tx). */
    uint64_t base = store_base_height(s), tip = store_height(s);
    if (shape && ih != h && ih >= base && ih <= tip && ih > 0 && tx_at_matches(s, ih, ii, th))
        *verdict = CAIRN_OK;
    return CAIRN_OK;
}

static cairn_err tx_index_check(store_t *s, uint64_t h, const block_t *b,
                                store_damage_list *dl, uint64_t *records)
{
    for (uint32_t i = 0; i < b->n_txs; i++) {
        uint8_t th[HASH_BYTES];
        tx_hash(th, b->txs[i].p, b->txs[i].len);
        cairn_err verdict = CAIRN_OK;
        (*records)++;
        CAIRN_TRY(store_tx_index_entry_check(s, h, i, th, &verdict));
        if (verdict == CAIRN_ECORRUPT)
            store_damage_add(dl, STORE_CF_TX_INDEX, h, th, HASH_BYTES, CAIRN_ECORRUPT,
                             "does not point to tx %u of block %llu", i,
                             (unsigned long long)h);
        else if (verdict != CAIRN_OK)
            store_damage_add(dl, STORE_CF_TX_INDEX, h, th, HASH_BYTES, verdict,
                             "index entry for tx %u of block %llu", i,
                             (unsigned long long)h);
    }
    return CAIRN_OK;
}

static cairn_err results_check(store_t *s, uint64_t h, const block_t *b,
                               store_damage_list *dl, uint64_t *records)
{
    uint8_t hk[8];
    store_height_key(hk, h);
    store_results_t r;
    cairn_err rc = store_results_load(s, h, &r);
    (*records)++;
    if (rc == CAIRN_ENOT_FOUND || rc == CAIRN_ECORRUPT) {
        store_damage_add(dl, STORE_CF_RESULTS, h, hk, 8, rc,
                         rc == CAIRN_ENOT_FOUND ? "results missing"
                                                : "results fail their seal");
        return CAIRN_OK;
    }
    if (rc != CAIRN_OK) return rc;
    if (b && r.n_tx != b->n_txs)
        store_damage_add(dl, STORE_CF_RESULTS, h, hk, 8, CAIRN_ECORRUPT,
                         "%u results for %u txs", r.n_tx, b->n_txs);
    store_results_free(&r);
    return CAIRN_OK;
}

cairn_err store_height_extras_check(store_t *s, uint64_t h, const block_t *b,
                                    store_damage_list *dl, uint64_t *records)
{
    cairn_err rc = CAIRN_OK;
    if (b) rc = tx_index_check(s, h, b, dl, records);
    if (rc == CAIRN_OK) rc = results_check(s, h, b, dl, records);
    return rc;
}

static void tip_check(scrub_ctx *c, const uint8_t id[HASH_BYTES], store_damage_list *dl)
{
    store_meta_t m;
    const uint8_t *k = (const uint8_t *)META_KEY_TIP;
    cairn_err rc = store_meta_get(c->s, &m);
    if (rc != CAIRN_OK)
        store_damage_add(dl, STORE_CF_META, 0, k, strlen(META_KEY_TIP), rc,
                         "tip record unreadable");
    else if (m.height > c->tip)
        return; /* a block was saved since the walk began: nothing to compare */
    else if (m.height != c->tip || memcmp(m.last_block_id, id, HASH_BYTES) != 0)
        store_damage_add(dl, STORE_CF_META, 0, k, strlen(META_KEY_TIP), CAIRN_ECORRUPT,
                         "tip does not name the stored tip block");
}

static cairn_err heights_walk(scrub_ctx *c, store_scrub_progress_cb progress, void *ctx)
{
    uint8_t next_link[HASH_BYTES];
    bool have_next = false;
    uint64_t total = c->tip ? c->tip - c->base + 1 : 0;
    uint64_t done = 0;
    for (uint64_t h = c->tip; h >= c->base && h > 0; h--) {
        store_damage_list dl;
        dl.n = dl.dropped = 0;
        block_t b;
        uint8_t id[HASH_BYTES];
        cairn_err rc = store_height_verify(c->s, h, have_next ? next_link : NULL, false,
                                           &b, NULL, id, &dl);
        c->rep->records_checked += 3; /* block, commit, hash index */
        if (rc != CAIRN_OK && rc != CAIRN_ECORRUPT) return rc;
        bool good = rc == CAIRN_OK;
        if (good) {
            memcpy(next_link, b.header.last_block_id, HASH_BYTES);
            if (c->ids) {
                memcpy(c->ids[h - c->base], id, HASH_BYTES);
                c->id_ok[h - c->base] = 1;
            }
            if (h == c->tip) tip_check(c, id, &dl);
        }
        rc = store_height_extras_check(c->s, h, good ? &b : NULL, &dl,
                                       &c->rep->records_checked);
        if (good) block_free(&b);
        if (rc != CAIRN_OK) return rc;
        have_next = good;
        report_list(c->rep, &dl);
        c->rep->heights_checked++;
        done++;
        if (progress && (done % PROGRESS_EVERY == 0 || done == total) &&
            !progress(done, total, ctx))
            return CAIRN_ECLOSED;
    }
    return CAIRN_OK;
}

/* Every block_hash entry maps the id of the block it names. */
static cairn_err hash_index_walk(scrub_ctx *c)
{
    if (!c->ids) return CAIRN_OK;
    store_iter it;
    CAIRN_TRY(store_iter_open(c->s, &it, STORE_CF_BLOCK_HASH, NULL, 0, NULL, 0));
    cairn_err rc;
    uint64_t n = 0;
    while ((rc = store_iter_status(&it, STORE_CF_BLOCK_HASH)) == CAIRN_OK &&
           n++ < STORE_SCRUB_RECORDS_MAX) {
        size_t kl = 0, vl = 0;
        const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it.it, &kl);
        const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it.it, &vl);
        c->rep->records_checked++;
        uint64_t h = vl == BLOCK_HASH_VALUE_BYTES ? store_get_u64le(v) : 0;
        store_damage_t d;
        memset(&d, 0, sizeof d);
        const char *why = NULL;
        if (kl != HASH_BYTES || vl != BLOCK_HASH_VALUE_BYTES) why = "malformed entry";
        else if (h < c->base || h > c->tip || h == 0) why = "points outside the stored heights";
        else if (c->id_ok[h - c->base] && memcmp(c->ids[h - c->base], k, HASH_BYTES) != 0)
            why = "names a block with another hash";
        if (why) {
            store_damage_list dl;
            dl.n = dl.dropped = 0;
            store_damage_add(&dl, STORE_CF_BLOCK_HASH, h, k, kl, CAIRN_ECORRUPT, "%s", why);
            report_list(c->rep, &dl);
        }
        rocksdb_iter_next(it.it);
    }
    store_iter_close(&it);
    return rc == CAIRN_ENOT_FOUND ? CAIRN_OK : rc;
}

/* Every value of a sealed column family passes its seal. */
static cairn_err seal_walk(scrub_ctx *c, store_cf cf)
{
    store_iter it;
    CAIRN_TRY(store_iter_open(c->s, &it, cf, NULL, 0, NULL, 0));
    cairn_err rc;
    uint64_t n = 0;
    while ((rc = store_iter_status(&it, cf)) == CAIRN_OK && n++ < STORE_SCRUB_RECORDS_MAX) {
        size_t kl = 0, vl = 0;
        const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it.it, &kl);
        const char *v = rocksdb_iter_value(it.it, &vl);
        c->rep->records_checked++;
        bool ok = vl >= STORE_SEAL_BYTES;
        if (ok) {
            uint8_t seal[STORE_SEAL_BYTES];
            store_seal(seal, cf, k, kl, (const uint8_t *)v, vl - STORE_SEAL_BYTES);
            ok = memcmp(seal, v + vl - STORE_SEAL_BYTES, STORE_SEAL_BYTES) == 0;
        }
        if (!ok) {
            store_damage_list dl;
            dl.n = dl.dropped = 0;
            store_damage_add(&dl, cf, 0, k, kl, CAIRN_ECORRUPT, "value fails its seal");
            report_list(c->rep, &dl);
        }
        rocksdb_iter_next(it.it);
    }
    store_iter_close(&it);
    return rc == CAIRN_ENOT_FOUND ? CAIRN_OK : rc;
}

cairn_err store_scrub(store_t *s, store_scrub_report *report,
                      store_scrub_progress_cb progress, void *ctx)
{
    memset(report, 0, sizeof *report);
    scrub_ctx c = {.s = s, .rep = report};
    c.tip = store_height(s);
    c.base = store_base_height(s);
    uint64_t n = c.tip ? c.tip - c.base + 1 : 0;
    if (n > 0 && n <= STORE_SCRUB_IDS_MAX) {
        c.ids = calloc(n, sizeof *c.ids);
        c.id_ok = calloc(n, 1);
        if (!c.ids || !c.id_ok) {
            free(c.ids);
            free(c.id_ok);
            c.ids = NULL;
            c.id_ok = NULL;
        }
    }
    if (n > 0 && !c.ids)
        log_warn("store: scrub skips the stale block_hash entry pass (%llu heights)",
                 (unsigned long long)n);
    cairn_err rc = heights_walk(&c, progress, ctx);
    if (rc == CAIRN_OK) rc = hash_index_walk(&c);
    if (rc == CAIRN_OK) rc = seal_walk(&c, STORE_CF_META);
    if (rc == CAIRN_OK) rc = seal_walk(&c, STORE_CF_STATE);
    if (rc == CAIRN_OK) rc = seal_walk(&c, STORE_CF_EVIDENCE);
    free(c.ids);
    free(c.id_ok);
    if (rc == CAIRN_OK)
        log_info("store: scrub checked %llu heights, %llu records: %llu damaged",
                 (unsigned long long)report->heights_checked,
                 (unsigned long long)report->records_checked,
                 (unsigned long long)report->damaged);
    for (uint32_t i = 0; i < report->n_entries; i++) {
        char line[256];
        store_damage_format(&report->entries[i], line, sizeof line);
        log_warn("store: scrub: damaged %s", line);
    }
    return rc;
}
