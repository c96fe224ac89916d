#include "mempool/mempool.h"

#include <stdlib.h>
#include <string.h>

#include "base/hmap.h"
#include "base/log.h"

typedef struct entry {
    struct entry *prev, *next; /* arrival order */
    uint64_t seq;
    uint8_t hash[HASH_BYTES];
    size_t len;
    uint8_t *raw;
} entry;

/* A bounded FIFO set of hashes: the oldest is forgotten first. */
typedef struct {
    hmap_t set;
    uint8_t (*ring)[HASH_BYTES];
    size_t cap, head, count;
} hash_fifo;

struct mempool {
    mempool_config cfg;
    uint8_t hash_key[SHORTHASH_KEY_BYTES];
    hmap_t by_hash; /* tx hash -> entry */
    entry *head, *tail;
    uint64_t next_seq;
    size_t count, bytes;
    hash_fifo committed; /* recently committed: gossip echoes are duplicates */
    hash_fifo verified;  /* signatures verified under this chain id */
};

void mempool_config_defaults(mempool_config *cfg)
{
    cfg->max_txs = 10000;
    cfg->max_bytes = 64u << 20;
    cfg->max_tx_bytes = TX_BYTES_MAX;
    cfg->cache_size = 100000;
}

static uint64_t siphash_cb(const void *key, size_t len, void *ctx)
{
    return hash_short(ctx, key, len);
}

static cairn_err fifo_init(hash_fifo *f, size_t cap, uint8_t *key)
{
    f->ring = calloc(cap, HASH_BYTES);
    f->cap = cap;
    f->head = f->count = 0;
    if (!f->ring) return CAIRN_ENOMEM;
    return hmap_init(&f->set, HASH_BYTES, cap, siphash_cb, key);
}

static void fifo_deinit(hash_fifo *f)
{
    free(f->ring);
    hmap_deinit(&f->set);
}

static bool fifo_has(const hash_fifo *f, const uint8_t *h) { return hmap_get(&f->set, h) != NULL; }

static void fifo_add(hash_fifo *f, const uint8_t *h)
{
    if (fifo_has(f, h)) return;
    if (f->count == f->cap) { /* forget the oldest */
        hmap_del(&f->set, f->ring[f->head]);
        f->head = (f->head + 1) % f->cap;
        f->count--;
    }
    size_t slot = (f->head + f->count) % f->cap;
    memcpy(f->ring[slot], h, HASH_BYTES);
    cairn_err rc = hmap_put(&f->set, f->ring[slot], f->ring[slot]);
    CAIRN_ASSERTF(rc == CAIRN_OK, "fifo set sized for its ring: %s", cairn_strerror(rc));
    f->count++;
}

cairn_err mempool_new(const mempool_config *cfg, mempool_t **out)
{
    mempool_t *mp = calloc(1, sizeof *mp);
    if (!mp) return CAIRN_ENOMEM;
    mp->cfg = *cfg;
    if (mp->cfg.cache_size == 0) mp->cfg.cache_size = 1;
    crypto_random(mp->hash_key, sizeof mp->hash_key);
    cairn_err rc = hmap_init(&mp->by_hash, HASH_BYTES, cfg->max_txs, siphash_cb, mp->hash_key);
    if (!rc) rc = fifo_init(&mp->committed, mp->cfg.cache_size, mp->hash_key);
    if (!rc) rc = fifo_init(&mp->verified, mp->cfg.cache_size, mp->hash_key);
    if (rc) {
        mempool_free(mp);
        return rc;
    }
    mp->next_seq = 1;
    *out = mp;
    return CAIRN_OK;
}

static void entry_unlink(mempool_t *mp, entry *e)
{
    if (e->prev) e->prev->next = e->next; else mp->head = e->next;
    if (e->next) e->next->prev = e->prev; else mp->tail = e->prev;
}

void mempool_free(mempool_t *mp)
{
    if (!mp) return;
    for (entry *e = mp->head, *n; e; e = n) {
        n = e->next;
        free(e->raw);
        free(e);
    }
    hmap_deinit(&mp->by_hash);
    fifo_deinit(&mp->committed);
    fifo_deinit(&mp->verified);
    free(mp);
}

cairn_err mempool_precheck(const mempool_t *mp, const uint8_t hash[static HASH_BYTES],
                           size_t tx_len)
{
    if (tx_len > mp->cfg.max_tx_bytes) return CAIRN_ETOO_LARGE;
    if (hmap_get(&mp->by_hash, hash) || fifo_has(&mp->committed, hash)) return CAIRN_EDUPLICATE;
    if (mp->count >= mp->cfg.max_txs || tx_len > mp->cfg.max_bytes - mp->bytes)
        return CAIRN_EMEMPOOL_FULL;
    return CAIRN_OK;
}

cairn_err mempool_add(mempool_t *mp, const uint8_t *raw, size_t len,
                      const uint8_t hash[static HASH_BYTES])
{
    CAIRN_TRY(mempool_precheck(mp, hash, len));
    entry *e = calloc(1, sizeof *e);
    if (e) e->raw = malloc(len ? len : 1);
    if (!e || !e->raw || hmap_put(&mp->by_hash, hash, e) != CAIRN_OK) {
        if (e) free(e->raw);
        free(e);
        return CAIRN_ENOMEM;
    }
    memcpy(e->raw, raw, len);
    e->len = len;
    memcpy(e->hash, hash, HASH_BYTES);
    e->seq = mp->next_seq++;
    e->prev = mp->tail;
    if (mp->tail) mp->tail->next = e; else mp->head = e;
    mp->tail = e;
    mp->count++;
    mp->bytes += len;
    return CAIRN_OK;
}

bool mempool_contains(const mempool_t *mp, const uint8_t hash[static HASH_BYTES])
{
    return hmap_get(&mp->by_hash, hash) != NULL;
}

size_t mempool_count(const mempool_t *mp) { return mp->count; }
size_t mempool_bytes(const mempool_t *mp) { return mp->bytes; }

size_t mempool_reap(const mempool_t *mp, size_t max_bytes, size_t max_txs, bytes_view *out)
{
    size_t n = 0, bytes = 0;
    for (const entry *e = mp->head; e && n < max_txs; e = e->next) {
        if (e->len > max_bytes - bytes) break; /* keep per-sender nonce order */
        out[n].p = e->raw;
        out[n].len = e->len;
        bytes += e->len;
        n++;
    }
    return n;
}

uint64_t mempool_visit_from(const mempool_t *mp, uint64_t cursor, size_t max, mempool_visit_cb cb,
                            void *ctx)
{
    const entry *e = mp->head;
    while (e && e->seq <= cursor) e = e->next;
    for (size_t i = 0; e && i < max; i++, e = e->next) {
        cb(ctx, e->raw, e->len, e->hash);
        cursor = e->seq;
    }
    return e ? cursor : (mp->tail ? mp->tail->seq : cursor);
}

static void entry_remove(mempool_t *mp, entry *e)
{
    hmap_del(&mp->by_hash, e->hash);
    entry_unlink(mp, e);
    mp->count--;
    mp->bytes -= e->len;
    free(e->raw);
    free(e);
}

size_t mempool_update(mempool_t *mp, const bytes_view *committed, size_t n_committed,
                      mempool_keep_cb keep, void *ctx)
{
    for (size_t i = 0; i < n_committed; i++) {
        uint8_t h[HASH_BYTES];
        tx_hash(h, committed[i].p, committed[i].len);
        fifo_add(&mp->committed, h);
        entry *e = hmap_get(&mp->by_hash, h);
        if (e) entry_remove(mp, e);
    }
    size_t dropped = 0;
    if (!keep) return 0;
    for (entry *e = mp->head, *n; e; e = n) {
        n = e->next;
        if (keep(ctx, e->raw, e->len)) continue;
        entry_remove(mp, e);
        dropped++;
    }
    return dropped;
}

void mempool_sig_cache_add(mempool_t *mp, const uint8_t hash[static HASH_BYTES])
{
    fifo_add(&mp->verified, hash);
}

bool mempool_sig_cache_has(const mempool_t *mp, const uint8_t hash[static HASH_BYTES])
{
    return fifo_has(&mp->verified, hash);
}
