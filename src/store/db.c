/* db.c - RocksDB handles, column families, error translation, sealed values,
 * meta, the state reader, evidence and the raw debug API. See store.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/store_int.h"

static const char *const CF_NAMES[STORE_CF__COUNT] = {
    [STORE_CF_META] = "meta",         [STORE_CF_BLOCKS] = "blocks",
    [STORE_CF_BLOCK_HASH] = "block_hash", [STORE_CF_COMMITS] = "commits",
    [STORE_CF_TX_INDEX] = "tx_index", [STORE_CF_STATE] = "state",
    [STORE_CF_RESULTS] = "results",   [STORE_CF_EVIDENCE] = "evidence",
};

#define CHECKSUM_CRC32C 1 /* rocksdb::kCRC32c */

const char *store_cf_name(store_cf cf)
{
    if ((unsigned)cf >= STORE_CF__COUNT) return NULL;
    return CF_NAMES[cf];
}

void store_options_default(store_options *o)
{
    memset(o, 0, sizeof *o);
    o->sync = true;
    o->create_if_missing = true;
    o->verify_next = true;
    o->block_cache_bytes = (size_t)32 << 20;
    o->max_open_files = 256;
}

/* ------------------------------------------------------------- little helpers */

void store_put_u64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t store_get_u64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

void store_put_u32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t store_get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

void store_height_key(uint8_t out[static 8], uint64_t height)
{
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)(height >> (56 - 8 * i));
}

uint64_t store_height_from_key(const uint8_t key[static 8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | key[i];
    return v;
}

void store_tip_encode(uint8_t out[static META_TIP_BYTES], const store_meta_t *m)
{
    store_put_u64le(out, m->height);
    store_put_u64le(out + 8, m->base_height);
    memcpy(out + 16, m->last_block_id, HASH_BYTES);
    memcpy(out + 16 + HASH_BYTES, m->app_hash, HASH_BYTES);
}

void store_tip_decode(store_meta_t *m, const uint8_t in[static META_TIP_BYTES])
{
    m->height = store_get_u64le(in);
    m->base_height = store_get_u64le(in + 8);
    memcpy(m->last_block_id, in + 16, HASH_BYTES);
    memcpy(m->app_hash, in + 16 + HASH_BYTES, HASH_BYTES);
}

static bool cf_has_height_keys(store_cf cf)
{
    return cf == STORE_CF_BLOCKS || cf == STORE_CF_COMMITS || cf == STORE_CF_RESULTS;
}

void store_key_describe(store_cf cf, const uint8_t *key, size_t key_len, char *out,
                        size_t out_len)
{
    const char *name = store_cf_name(cf) ? store_cf_name(cf) : "?";
    if (cf_has_height_keys(cf) && key_len == 8) {
        snprintf(out, out_len, "%s/height=%llu", name,
                 (unsigned long long)store_height_from_key(key));
        return;
    }
    if (cf == STORE_CF_META) {
        size_t n = key_len > 32 ? 32 : key_len;
        snprintf(out, out_len, "%s/%.*s", name, (int)n, (const char *)key);
        return;
    }
    char hex[2 * 32 + 1];
    size_t n = key_len > 32 ? 32 : key_len;
    hex_encode_upper(hex, key, n);
    snprintf(out, out_len, "%s/%s%s", name, hex, key_len > n ? "..." : "");
}

/* ------------------------------------------------------------- errors */

cairn_err store_db_error(const char *what, store_cf cf, const uint8_t *key,
                         size_t key_len, char *err)
{
    cairn_err rc = strncmp(err, "Corruption", 10) == 0 ? CAIRN_ECORRUPT : CAIRN_EDB;
    char desc[128] = "";
    if (key) store_key_describe(cf, key, key_len, desc, sizeof desc);
    log_error("store: %s%s%s: rocksdb: %s", what, key ? " " : "", desc, err);
    rocksdb_free(err);
    return rc;
}

cairn_err store_corrupt(store_cf cf, const uint8_t *key, size_t key_len,
                        const char *reason)
{
    char desc[128];
    store_key_describe(cf, key, key_len, desc, sizeof desc);
    log_error("store: damaged record %s: %s", desc, reason);
    return CAIRN_ECORRUPT;
}

/* ------------------------------------------------------------- raw access */

cairn_err store_raw_get(store_t *s, store_cf cf, const uint8_t *key, size_t key_len,
                        char **val, size_t *val_len)
{
    char *err = NULL;
    *val = rocksdb_get_cf(s->db, s->ropts, s->cf[cf], (const char *)key, key_len,
                          val_len, &err);
    if (err) return store_db_error("read", cf, key, key_len, err);
    if (!*val) return CAIRN_ENOT_FOUND;
    return CAIRN_OK;
}

void store_seal(uint8_t out[static STORE_SEAL_BYTES], store_cf cf, const uint8_t *key,
                size_t key_len, const uint8_t *payload, size_t payload_len)
{
    static const char tag[] = "cairn/store/seal/v1";
    uint8_t hdr[5];
    hdr[0] = (uint8_t)cf;
    store_put_u32le(hdr + 1, (uint32_t)key_len);
    hash_ctx c;
    hash_init(&c);
    hash_update(&c, tag, sizeof tag - 1);
    hash_update(&c, hdr, sizeof hdr);
    hash_update(&c, key, key_len);
    hash_update(&c, payload, payload_len);
    uint8_t h[HASH_BYTES];
    hash_final(&c, h);
    memcpy(out, h, STORE_SEAL_BYTES);
}

cairn_err store_unseal(store_cf cf, const uint8_t *key, size_t key_len,
                       const char *val, size_t *len)
{
    if (*len < STORE_SEAL_BYTES)
        return store_corrupt(cf, key, key_len, "value shorter than its seal");
    size_t n = *len - STORE_SEAL_BYTES;
    uint8_t seal[STORE_SEAL_BYTES];
    store_seal(seal, cf, key, key_len, (const uint8_t *)val, n);
    if (memcmp(seal, val + n, STORE_SEAL_BYTES) != 0)
        return store_corrupt(cf, key, key_len, "seal does not match the value");
    *len = n;
    return CAIRN_OK;
}

cairn_err store_sealed_get(store_t *s, store_cf cf, const uint8_t *key, size_t key_len,
                           char **val, size_t *len)
{
    cairn_err rc = store_raw_get(s, cf, key, key_len, val, len);
    if (rc != CAIRN_OK) return rc;
    rc = store_unseal(cf, key, key_len, *val, len);
    if (rc != CAIRN_OK) {
        rocksdb_free(*val);
        *val = NULL;
    }
    return rc;
}

void store_batch_put_sealed(store_t *s, rocksdb_writebatch_t *wb, store_cf cf,
                            const uint8_t *key, size_t key_len, const uint8_t *payload,
                            size_t payload_len)
{
    uint8_t seal[STORE_SEAL_BYTES];
    store_seal(seal, cf, key, key_len, payload, payload_len);
    const char *keys[1] = {(const char *)key};
    size_t key_lens[1] = {key_len};
    const char *vals[2] = {payload_len ? (const char *)payload : "", (const char *)seal};
    size_t val_lens[2] = {payload_len, STORE_SEAL_BYTES};
    rocksdb_writebatch_putv_cf(wb, s->cf[cf], 1, keys, key_lens, 2, vals, val_lens);
}

cairn_err store_batch_write(store_t *s, rocksdb_writebatch_t *wb)
{
    char *err = NULL;
    rocksdb_write(s->db, s->wopts, wb, &err);
    if (err) return store_db_error("write batch", STORE_CF_META, NULL, 0, err);
    return CAIRN_OK;
}

/* ------------------------------------------------------------- iterators */

cairn_err store_iter_open(store_t *s, store_iter *it, store_cf cf, const uint8_t *lo,
                          size_t lo_len, const uint8_t *hi, size_t hi_len)
{
    memset(it, 0, sizeof *it);
    CAIRN_ASSERT(lo_len <= sizeof it->lo && hi_len <= sizeof it->hi);
    it->ro = rocksdb_readoptions_create();
    if (!it->ro) return CAIRN_ENOMEM;
    rocksdb_readoptions_set_verify_checksums(it->ro, 1);
    rocksdb_readoptions_set_fill_cache(it->ro, 0); /* a scan must not evict hot data */
    if (hi) {
        memcpy(it->hi, hi, hi_len);
        rocksdb_readoptions_set_iterate_upper_bound(it->ro, (const char *)it->hi, hi_len);
    }
    it->it = rocksdb_create_iterator_cf(s->db, it->ro, s->cf[cf]);
    if (!it->it) {
        rocksdb_readoptions_destroy(it->ro);
        it->ro = NULL;
        return CAIRN_ENOMEM;
    }
    if (lo) {
        memcpy(it->lo, lo, lo_len);
        rocksdb_iter_seek(it->it, (const char *)it->lo, lo_len);
    } else {
        rocksdb_iter_seek_to_first(it->it);
    }
    return CAIRN_OK;
}

cairn_err store_iter_status(store_iter *it, store_cf cf)
{
    if (rocksdb_iter_valid(it->it)) return CAIRN_OK;
    char *err = NULL;
    rocksdb_iter_get_error(it->it, &err);
    if (err) return store_db_error("iterate", cf, NULL, 0, err);
    return CAIRN_ENOT_FOUND;
}

void store_iter_close(store_iter *it)
{
    if (it->it) rocksdb_iter_destroy(it->it);
    if (it->ro) rocksdb_readoptions_destroy(it->ro);
    it->it = NULL;
    it->ro = NULL;
}

/* ------------------------------------------------------------- open / close */

static cairn_err options_create(store_t *s)
{
    s->dbopts = rocksdb_options_create();
    s->bbto = rocksdb_block_based_options_create();
    s->cache = rocksdb_cache_create_lru(s->opt.block_cache_bytes);
    s->ropts = rocksdb_readoptions_create();
    s->wopts = rocksdb_writeoptions_create();
    if (!s->dbopts || !s->bbto || !s->cache || !s->ropts || !s->wopts)
        return CAIRN_ENOMEM;
    rocksdb_block_based_options_set_checksum(s->bbto, CHECKSUM_CRC32C);
    rocksdb_block_based_options_set_block_cache(s->bbto, s->cache);
    rocksdb_options_set_block_based_table_factory(s->dbopts, s->bbto);
    rocksdb_options_set_create_if_missing(s->dbopts, s->opt.create_if_missing);
    rocksdb_options_set_create_missing_column_families(s->dbopts, 1);
    rocksdb_options_set_paranoid_checks(s->dbopts, 1);
    rocksdb_options_set_max_open_files(s->dbopts, s->opt.max_open_files);
    rocksdb_options_set_keep_log_file_num(s->dbopts, 4);
    rocksdb_options_set_max_log_file_size(s->dbopts, (size_t)8 << 20);
    rocksdb_readoptions_set_verify_checksums(s->ropts, 1);
    rocksdb_writeoptions_set_sync(s->wopts, s->opt.sync);
    return CAIRN_OK;
}

/* The CF names to open: every one on disk plus every one we need. */
static cairn_err cf_names_collect(store_t *s, const char *path, char ***names_out,
                                  size_t *n_out)
{
    size_t n_disk = 0;
    char *err = NULL;
    char **disk = rocksdb_list_column_families(s->dbopts, path, &n_disk, &err);
    if (err) { /* no database yet (or unreadable: the open will say why) */
        rocksdb_free(err);
        free(disk); /* RocksDB allocates the (empty) array even on error */
        disk = NULL;
        n_disk = 0;
    }
    size_t cap = n_disk + STORE_CF__COUNT + 1;
    char **names = calloc(cap, sizeof *names);
    if (!names) {
        if (disk) rocksdb_list_column_families_destroy(disk, n_disk);
        return CAIRN_ENOMEM;
    }
    size_t n = 0;
    names[n++] = strdup("default");
    for (size_t i = 0; i < n_disk; i++)
        if (strcmp(disk[i], "default") != 0) names[n++] = strdup(disk[i]);
    if (disk) rocksdb_list_column_families_destroy(disk, n_disk);
    for (int c = 0; c < STORE_CF__COUNT; c++) {
        bool have = false;
        for (size_t i = 0; i < n; i++)
            if (names[i] && strcmp(names[i], CF_NAMES[c]) == 0) have = true;
        if (!have) names[n++] = strdup(CF_NAMES[c]);
    }
    for (size_t i = 0; i < n; i++) {
        if (!names[i]) {
            for (size_t j = 0; j < n; j++) free(names[j]);
            free(names);
            return CAIRN_ENOMEM;
        }
    }
    *names_out = names;
    *n_out = n;
    return CAIRN_OK;
}

static cairn_err db_open(store_t *s, const char *path)
{
    char **names = NULL;
    size_t n = 0;
    cairn_err rc = cf_names_collect(s, path, &names, &n);
    if (rc != CAIRN_OK) return rc;
    const rocksdb_options_t **cfopts = calloc(n, sizeof *cfopts);
    s->handles = calloc(n, sizeof *s->handles);
    if (!cfopts || !s->handles) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) cfopts[i] = s->dbopts;
    char *err = NULL;
    s->db = rocksdb_open_column_families(s->dbopts, path, (int)n,
                                         (const char *const *)names, cfopts,
                                         s->handles, &err);
    if (err) {
        char what[300];
        snprintf(what, sizeof what, "cannot open store at %s", path);
        rc = store_db_error(what, STORE_CF_META, NULL, 0, err);
        s->db = NULL;
        goto out;
    }
    s->n_handles = n;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < STORE_CF__COUNT; c++)
            if (strcmp(names[i], CF_NAMES[c]) == 0) s->cf[c] = s->handles[i];
    for (int c = 0; c < STORE_CF__COUNT; c++) CAIRN_ASSERT(s->cf[c] != NULL);
out:
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    free(cfopts);
    return rc;
}

/* Reads or writes the format record and loads the tip into memory. */
static cairn_err meta_load(store_t *s)
{
    const uint8_t *fkey = (const uint8_t *)META_KEY_FORMAT;
    size_t fkey_len = strlen(META_KEY_FORMAT);
    char *v = NULL;
    size_t len = 0;
    cairn_err rc = store_sealed_get(s, STORE_CF_META, fkey, fkey_len, &v, &len);
    if (rc == CAIRN_ENOT_FOUND) {
        uint8_t ver[4];
        store_put_u32le(ver, STORE_FORMAT_VERSION);
        rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
        if (!wb) return CAIRN_ENOMEM;
        store_batch_put_sealed(s, wb, STORE_CF_META, fkey, fkey_len, ver, sizeof ver);
        rc = store_batch_write(s, wb);
        rocksdb_writebatch_destroy(wb);
        if (rc != CAIRN_OK) return rc;
    } else if (rc != CAIRN_OK) {
        return rc;
    } else {
        uint32_t ver = len == 4 ? store_get_u32le((const uint8_t *)v) : 0;
        rocksdb_free(v);
        if (ver != STORE_FORMAT_VERSION) {
            log_error("store: format version %u is not supported (this build: %u)",
                      ver, STORE_FORMAT_VERSION);
            return len == 4 ? CAIRN_EUNSUPPORTED : CAIRN_ECORRUPT;
        }
    }

    const uint8_t *tkey = (const uint8_t *)META_KEY_TIP;
    rc = store_sealed_get(s, STORE_CF_META, tkey, strlen(META_KEY_TIP), &v, &len);
    if (rc == CAIRN_ENOT_FOUND) return CAIRN_OK; /* empty store */
    if (rc != CAIRN_OK) return rc;
    if (len != META_TIP_BYTES) {
        rocksdb_free(v);
        return store_corrupt(STORE_CF_META, tkey, strlen(META_KEY_TIP),
                             "tip record has the wrong size");
    }
    store_meta_t m;
    store_tip_decode(&m, (const uint8_t *)v);
    rocksdb_free(v);
    if (m.height == 0 || m.base_height == 0 || m.base_height > m.height)
        return store_corrupt(STORE_CF_META, tkey, strlen(META_KEY_TIP),
                             "tip heights are inconsistent");
    atomic_store(&s->height, m.height);
    atomic_store(&s->base, m.base_height);
    memcpy(s->last_block_id, m.last_block_id, HASH_BYTES);
    memcpy(s->app_hash, m.app_hash, HASH_BYTES);
    return CAIRN_OK;
}

/* Verifies the tip block once at open, so damage there is reported at start-up.
 * It does not fail the open: the node can still serve, scrub and repair. */
static void tip_probe(store_t *s)
{
    uint64_t tip = atomic_load(&s->height);
    if (tip == 0) return;
    block_t b;
    uint8_t id[HASH_BYTES];
    store_damage_list dl;
    dl.n = dl.dropped = 0;
    cairn_err rc = store_height_verify(s, tip, NULL, false, &b, NULL, id, &dl);
    if (rc == CAIRN_OK) {
        block_free(&b);
        if (memcmp(id, s->last_block_id, HASH_BYTES) != 0)
            log_error("store: tip block %llu is not the block the tip record names",
                      (unsigned long long)tip);
        return;
    }
    log_error("store: tip block %llu fails its checks (%s): run a scrub and repair",
              (unsigned long long)tip, cairn_strerror(rc));
}

cairn_err store_open(const char *path, const store_options *opt, store_t **out)
{
    *out = NULL;
    if (!path || !*path) return CAIRN_EINVALID_ARG;
    cairn_err rc = crypto_init();
    if (rc != CAIRN_OK) return rc;
    store_t *s = calloc(1, sizeof *s);
    if (!s) return CAIRN_ENOMEM;
    if (opt) s->opt = *opt;
    else store_options_default(&s->opt);
    if (s->opt.max_open_files == 0) s->opt.max_open_files = 256;
    atomic_init(&s->height, 0);
    atomic_init(&s->base, 0);
    rc = options_create(s);
    if (rc != CAIRN_OK) goto out;
    rc = db_open(s, path);
    if (rc != CAIRN_OK) goto out;
    rc = meta_load(s);
    if (rc != CAIRN_OK) {
        log_error("store: %s: cannot load meta: %s", path, cairn_strerror(rc));
        goto out;
    }
    tip_probe(s);
    log_info("store: opened %s (heights %llu..%llu, sync=%d)", path,
             (unsigned long long)atomic_load(&s->base),
             (unsigned long long)atomic_load(&s->height), s->opt.sync);
    *out = s;
    s = NULL;
out:
    store_close(s);
    return rc;
}

void store_close(store_t *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n_handles; i++)
        rocksdb_column_family_handle_destroy(s->handles[i]);
    free(s->handles);
    if (s->db) rocksdb_close(s->db);
    if (s->ropts) rocksdb_readoptions_destroy(s->ropts);
    if (s->wopts) rocksdb_writeoptions_destroy(s->wopts);
    if (s->dbopts) rocksdb_options_destroy(s->dbopts);
    if (s->bbto) rocksdb_block_based_options_destroy(s->bbto);
    if (s->cache) rocksdb_cache_destroy(s->cache);
    free(s);
}

cairn_err store_flush(store_t *s)
{
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    if (!fo) return CAIRN_ENOMEM;
    rocksdb_flushoptions_set_wait(fo, 1);
    cairn_err rc = CAIRN_OK;
    for (int c = 0; c < STORE_CF__COUNT && rc == CAIRN_OK; c++) {
        char *err = NULL;
        rocksdb_flush_cf(s->db, fo, s->cf[c], &err);
        if (err) rc = store_db_error("flush", (store_cf)c, NULL, 0, err);
    }
    rocksdb_flushoptions_destroy(fo);
    return rc;
}

uint64_t store_height(const store_t *s)
{
    return atomic_load(&((store_t *)s)->height);
}

uint64_t store_base_height(const store_t *s)
{
    return atomic_load(&((store_t *)s)->base);
}

/* ------------------------------------------------------------- meta */

cairn_err store_meta_get(store_t *s, store_meta_t *out)
{
    const uint8_t *tkey = (const uint8_t *)META_KEY_TIP;
    char *v = NULL;
    size_t len = 0;
    cairn_err rc = store_sealed_get(s, STORE_CF_META, tkey, strlen(META_KEY_TIP), &v,
                                    &len);
    if (rc != CAIRN_OK) return rc;
    if (len != META_TIP_BYTES) {
        rocksdb_free(v);
        return store_corrupt(STORE_CF_META, tkey, strlen(META_KEY_TIP),
                             "tip record has the wrong size");
    }
    store_tip_decode(out, (const uint8_t *)v);
    rocksdb_free(v);
    return CAIRN_OK;
}

cairn_err store_chain_state_get(store_t *s, buf_t *out)
{
    const uint8_t *key = (const uint8_t *)META_KEY_CHAIN_STATE;
    char *v = NULL;
    size_t len = 0;
    cairn_err rc = store_sealed_get(s, STORE_CF_META, key, strlen(META_KEY_CHAIN_STATE),
                                    &v, &len);
    if (rc != CAIRN_OK) return rc;
    buf_reset(out);
    rc = buf_append(out, v, len);
    rocksdb_free(v);
    return rc;
}

/* ------------------------------------------------------------- state reader */

static cairn_err state_get(void *ctx, const uint8_t *key, size_t key_len,
                           uint8_t **val, size_t *val_len)
{
    store_t *s = ctx;
    *val = NULL;
    *val_len = 0;
    if (key_len == 0 || key_len > STORE_KEY_MAX) return CAIRN_EINVALID_ARG;
    char *v = NULL;
    size_t len = 0;
    cairn_err rc = store_sealed_get(s, STORE_CF_STATE, key, key_len, &v, &len);
    if (rc != CAIRN_OK) return rc;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        rocksdb_free(v);
        return CAIRN_ENOMEM;
    }
    memcpy(copy, v, len);
    rocksdb_free(v);
    *val = copy;
    *val_len = len;
    return CAIRN_OK;
}

cairn_err store_batch_add_state(store_t *s, rocksdb_writebatch_t *wb, const kv_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        const kv_write *w = &b->items[i];
        if (w->key_len == 0 || w->key_len > STORE_KEY_MAX) return CAIRN_EINVALID_ARG;
        if (w->val && w->val_len > STORE_VALUE_MAX) return CAIRN_ETOO_LARGE;
        if (w->val)
            store_batch_put_sealed(s, wb, STORE_CF_STATE, w->key, w->key_len, w->val,
                                   w->val_len);
        else
            rocksdb_writebatch_delete_cf(wb, s->cf[STORE_CF_STATE], (const char *)w->key,
                                         w->key_len);
    }
    return CAIRN_OK;
}

cairn_err store_state_write(store_t *s, const kv_batch *b)
{
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    if (!wb) return CAIRN_ENOMEM;
    cairn_err rc = store_batch_add_state(s, wb, b);
    if (rc == CAIRN_OK) rc = store_batch_write(s, wb);
    rocksdb_writebatch_destroy(wb);
    return rc;
}

struct store_state_cursor {
    store_iter it;
    uint8_t prefix[64];
    size_t prefix_len;
    bool started;
};

cairn_err store_state_cursor_open(store_t *s, const uint8_t *prefix, size_t prefix_len,
                                  store_state_cursor **out)
{
    if (prefix_len > sizeof (*out)->prefix) return CAIRN_EINVALID_ARG;
    store_state_cursor *c = calloc(1, sizeof *c);
    if (!c) return CAIRN_ENOMEM;
    memcpy(c->prefix, prefix, prefix_len);
    c->prefix_len = prefix_len;
    cairn_err rc = store_iter_open(s, &c->it, STORE_CF_STATE, prefix, prefix_len, NULL, 0);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return CAIRN_OK;
}

cairn_err store_state_cursor_next(store_state_cursor *c, const uint8_t **key, size_t *key_len,
                                  const uint8_t **val, size_t *val_len)
{
    for (;;) {
        if (c->started) rocksdb_iter_next(c->it.it);
        c->started = true;
        cairn_err rc = store_iter_status(&c->it, STORE_CF_STATE);
        if (rc) return rc;
        size_t kl = 0, vl = 0;
        const uint8_t *k = (const uint8_t *)rocksdb_iter_key(c->it.it, &kl);
        const uint8_t *v = (const uint8_t *)rocksdb_iter_value(c->it.it, &vl);
        if (kl < c->prefix_len || memcmp(k, c->prefix, c->prefix_len) != 0)
            return CAIRN_ENOT_FOUND;
        if (vl < STORE_SEAL_BYTES) continue;
        uint8_t seal[STORE_SEAL_BYTES];
        store_seal(seal, STORE_CF_STATE, k, kl, v, vl - STORE_SEAL_BYTES);
        if (memcmp(seal, v + vl - STORE_SEAL_BYTES, STORE_SEAL_BYTES) != 0) continue;
        *key = k;
        *key_len = kl;
        *val = v;
        *val_len = vl - STORE_SEAL_BYTES;
        return CAIRN_OK;
    }
}

void store_state_cursor_close(store_state_cursor *c)
{
    if (!c) return;
    store_iter_close(&c->it);
    free(c);
}

kv_reader store_state_reader(store_t *s)
{
    kv_reader r = {.ctx = s, .get = state_get};
    return r;
}

/* ------------------------------------------------------------- evidence */

cairn_err store_evidence_put(store_t *s, const uint8_t *key, size_t key_len,
                             const uint8_t *val, size_t val_len)
{
    if (key_len == 0 || key_len > STORE_KEY_MAX) return CAIRN_EINVALID_ARG;
    if (val_len > STORE_VALUE_MAX) return CAIRN_ETOO_LARGE;
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    if (!wb) return CAIRN_ENOMEM;
    store_batch_put_sealed(s, wb, STORE_CF_EVIDENCE, key, key_len, val, val_len);
    cairn_err rc = store_batch_write(s, wb);
    rocksdb_writebatch_destroy(wb);
    return rc;
}

cairn_err store_evidence_get(store_t *s, const uint8_t *key, size_t key_len,
                             uint8_t **val, size_t *val_len)
{
    if (key_len == 0 || key_len > STORE_KEY_MAX) return CAIRN_EINVALID_ARG;
    char *v = NULL;
    size_t len = 0;
    cairn_err rc = store_sealed_get(s, STORE_CF_EVIDENCE, key, key_len, &v, &len);
    if (rc != CAIRN_OK) return rc;
    *val = malloc(len ? len : 1);
    if (!*val) {
        rocksdb_free(v);
        return CAIRN_ENOMEM;
    }
    memcpy(*val, v, len);
    *val_len = len;
    rocksdb_free(v);
    return CAIRN_OK;
}

cairn_err store_evidence_del(store_t *s, const uint8_t *key, size_t key_len)
{
    if (key_len == 0 || key_len > STORE_KEY_MAX) return CAIRN_EINVALID_ARG;
    char *err = NULL;
    rocksdb_delete_cf(s->db, s->wopts, s->cf[STORE_CF_EVIDENCE], (const char *)key,
                      key_len, &err);
    if (err) return store_db_error("delete", STORE_CF_EVIDENCE, key, key_len, err);
    return CAIRN_OK;
}

cairn_err store_evidence_foreach(store_t *s, size_t max_items, size_t *n_damaged,
                                 store_evidence_cb cb, void *ctx)
{
    if (n_damaged) *n_damaged = 0;
    store_iter it;
    CAIRN_TRY(store_iter_open(s, &it, STORE_CF_EVIDENCE, NULL, 0, NULL, 0));
    cairn_err rc;
    size_t seen = 0;
    while ((rc = store_iter_status(&it, STORE_CF_EVIDENCE)) == CAIRN_OK &&
           seen < max_items) {
        size_t kl = 0, vl = 0;
        const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it.it, &kl);
        const char *v = rocksdb_iter_value(it.it, &vl);
        if (store_unseal(STORE_CF_EVIDENCE, k, kl, v, &vl) != CAIRN_OK) {
            if (n_damaged) (*n_damaged)++;
        } else {
            seen++;
            if (!cb(k, kl, (const uint8_t *)v, vl, ctx)) break;
        }
        rocksdb_iter_next(it.it);
    }
    store_iter_close(&it);
    return rc == CAIRN_ENOT_FOUND ? CAIRN_OK : rc;
}

/* ------------------------------------------------------------- debug / repair */

cairn_err store_debug_put_raw(store_t *s, store_cf cf, const uint8_t *key,
                              size_t key_len, const uint8_t *val, size_t val_len)
{
    if ((unsigned)cf >= STORE_CF__COUNT) return CAIRN_EINVALID_ARG;
    char *err = NULL;
    if (val)
        rocksdb_put_cf(s->db, s->wopts, s->cf[cf], (const char *)key, key_len,
                       (const char *)val, val_len, &err);
    else
        rocksdb_delete_cf(s->db, s->wopts, s->cf[cf], (const char *)key, key_len, &err);
    if (err) return store_db_error("debug write", cf, key, key_len, err);
    log_warn("store: debug raw %s of %s (bypasses all checks)", val ? "put" : "delete",
             store_cf_name(cf));
    return CAIRN_OK;
}

cairn_err store_debug_get_raw(store_t *s, store_cf cf, const uint8_t *key,
                              size_t key_len, buf_t *out)
{
    if ((unsigned)cf >= STORE_CF__COUNT) return CAIRN_EINVALID_ARG;
    char *v = NULL;
    size_t len = 0;
    cairn_err rc = store_raw_get(s, cf, key, key_len, &v, &len);
    if (rc != CAIRN_OK) return rc;
    buf_reset(out);
    rc = buf_append(out, v, len);
    rocksdb_free(v);
    return rc;
}
