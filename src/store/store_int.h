/* store_int.h - internals shared by the files of src/store only (not for other modules).
 *
 * db.c owns the RocksDB handles, error translation, raw reads and writes, the
 * seal on opaque values and meta; block.c saves and verifies blocks; scrub.c
 * walks the store.
 */
#ifndef CAIRN_STORE_INT_H
#define CAIRN_STORE_INT_H

#include <rocksdb/c.h>
#include <stdatomic.h>

#include "store/store.h"

#define STORE_FORMAT_VERSION 1
#define META_KEY_FORMAT "format"
#define META_KEY_TIP "tip"
#define META_KEY_CHAIN_STATE "chain_state"
/* tip record: height u64 | base u64 | last_block_id[32] | app_hash[32] (LE). */
#define META_TIP_BYTES (8 + 8 + HASH_BYTES + HASH_BYTES)
/* tx_index value: height u64 | index u32 (LE). */
#define TX_INDEX_VALUE_BYTES 12
/* block_hash value: height u64 (LE). */
#define BLOCK_HASH_VALUE_BYTES 8
#define RESULTS_VERSION 1

struct store {
    rocksdb_t *db;
    rocksdb_options_t *dbopts;
    rocksdb_block_based_table_options_t *bbto;
    rocksdb_cache_t *cache;
    rocksdb_column_family_handle_t *cf[STORE_CF__COUNT];
    rocksdb_column_family_handle_t **handles; /* every opened CF (incl. default) */
    size_t n_handles;
    rocksdb_readoptions_t *ropts;
    rocksdb_writeoptions_t *wopts;
    store_options opt;
    _Atomic uint64_t height;
    _Atomic uint64_t base;
    uint8_t last_block_id[HASH_BYTES]; /* writer thread only */
    uint8_t app_hash[HASH_BYTES];
};

/* "blocks/height=12", "block_hash/ABCD...": for logs and reports. */
void store_key_describe(store_cf cf, const uint8_t *key, size_t key_len, char *out,
                        size_t out_len);
/* Logs err (RocksDB's message), frees it, returns CORRUPT or DB. */
cairn_err store_db_error(const char *what, store_cf cf, const uint8_t *key,
                         size_t key_len, char *err);
/* Logs "<cf>/<key>: <reason>" as damage and returns CAIRN_ECORRUPT. */
cairn_err store_corrupt(store_cf cf, const uint8_t *key, size_t key_len,
                        const char *reason);

/* Raw value: *val allocated by RocksDB (free with rocksdb_free). ENOT_FOUND if
 * absent. */
cairn_err store_raw_get(store_t *s, store_cf cf, const uint8_t *key, size_t key_len,
                        char **val, size_t *val_len) CAIRN_MUST_CHECK;

/* Seal: first 8 bytes of SHA-256("cairn/store/seal/v1" | cf u8 | key_len u32 |
 * key | payload). */
void store_seal(uint8_t out[static STORE_SEAL_BYTES], store_cf cf, const uint8_t *key,
                size_t key_len, const uint8_t *payload, size_t payload_len);
/* Checks and strips the seal of a raw value in place (*len shrinks). */
cairn_err store_unseal(store_cf cf, const uint8_t *key, size_t key_len,
                       const char *val, size_t *len) CAIRN_MUST_CHECK;
/* Raw get + unseal; *val from RocksDB (rocksdb_free). */
cairn_err store_sealed_get(store_t *s, store_cf cf, const uint8_t *key,
                           size_t key_len, char **val, size_t *len) CAIRN_MUST_CHECK;
/* Adds payload || seal to the batch (no copy of payload). */
void store_batch_put_sealed(store_t *s, rocksdb_writebatch_t *wb, store_cf cf,
                            const uint8_t *key, size_t key_len, const uint8_t *payload,
                            size_t payload_len);
/* Adds the kv_batch's writes to the state CF of wb, checking sizes first. */
cairn_err store_batch_add_state(store_t *s, rocksdb_writebatch_t *wb,
                                const kv_batch *b) CAIRN_MUST_CHECK;
/* Writes the batch with the store's sync option. */
cairn_err store_batch_write(store_t *s, rocksdb_writebatch_t *wb) CAIRN_MUST_CHECK;

void store_put_u64le(uint8_t *p, uint64_t v);
uint64_t store_get_u64le(const uint8_t *p);
void store_put_u32le(uint8_t *p, uint32_t v);
uint32_t store_get_u32le(const uint8_t *p);
uint64_t store_height_from_key(const uint8_t key[static 8]);

/* Tip meta encoding (META_TIP_BYTES). */
void store_tip_encode(uint8_t out[static META_TIP_BYTES], const store_meta_t *m);
void store_tip_decode(store_meta_t *m, const uint8_t in[static META_TIP_BYTES]);

/* Damage found while verifying one height (store_height_verify). */
#define STORE_DAMAGE_LIST_MAX 16
typedef struct {
    store_damage_t d[STORE_DAMAGE_LIST_MAX];
    uint32_t n;
    uint32_t dropped; /* beyond STORE_DAMAGE_LIST_MAX */
} store_damage_list;

void store_damage_add(store_damage_list *l, store_cf cf, uint64_t height,
                      const uint8_t *key, size_t key_len, cairn_err err,
                      const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Loads the block at h into *out (block_free) and verifies it (store.h
 * invariant 3). The next block's last_block_id is next_link when given, else it is
 * read when fetch_next. raw_out (may be NULL) gets the stored bytes, id_out (may
 * be NULL) the block id. Returns CAIRN_OK; CAIRN_ENOT_FOUND outside the stored
 * range; CAIRN_ECORRUPT with the damaged keys added to dl (out is then empty);
 * or CAIRN_EDB/CAIRN_ENOMEM. */
cairn_err store_height_verify(store_t *s, uint64_t h, const uint8_t *next_link,
                              bool fetch_next, block_t *out, buf_t *raw_out,
                              uint8_t id_out[HASH_BYTES],
                              store_damage_list *dl) CAIRN_MUST_CHECK;
/* Whether the tx_index entry th is good for tx i of block h: *verdict CAIRN_OK
 * when it names (h, i), or another stored location holding the same tx (a
 * repeated tx); CAIRN_ENOT_FOUND when missing; CAIRN_ECORRUPT when unreadable
 * or wrong. Returns an error only for CAIRN_EDB/ENOMEM. */
cairn_err store_tx_index_entry_check(store_t *s, uint64_t h, uint32_t i,
                                     const uint8_t th[static HASH_BYTES],
                                     cairn_err *verdict) CAIRN_MUST_CHECK;
/* The records of height h besides block, hash index and seen commit: the tx
 * index entries of b's txs (b NULL: skipped, the block is unusable) and the
 * results record. Damage goes to dl; *records counts what was read. */
cairn_err store_height_extras_check(store_t *s, uint64_t h, const block_t *b,
                                    store_damage_list *dl,
                                    uint64_t *records) CAIRN_MUST_CHECK;

/* Results at height, seal-checked and parsed; ENOT_FOUND if absent. */
cairn_err store_results_load(store_t *s, uint64_t height,
                             store_results_t *out) CAIRN_MUST_CHECK;

/* Results record (docs/storage.md): version u8 | n u32 | n x (len u32 | bytes) |
 * len u32 | block bytes. Parse is strict (encode(parse(b)) == b); views point
 * into p; tx may be NULL (count only), at most tx_max views are filled. */
cairn_err store_results_encode(const bytes_view *tx, uint32_t n, const uint8_t *block,
                               size_t block_len, buf_t *out) CAIRN_MUST_CHECK;
cairn_err store_results_parse(const uint8_t *p, size_t n, uint32_t *count,
                              bytes_view *tx, uint32_t tx_max,
                              bytes_view *block) CAIRN_MUST_CHECK;

/* Iterator over one CF with bounds [lo, hi) (either may be NULL). Owns copies
 * of the bounds. */
typedef struct {
    rocksdb_iterator_t *it;
    rocksdb_readoptions_t *ro;
    uint8_t lo[64], hi[64];
} store_iter;

cairn_err store_iter_open(store_t *s, store_iter *it, store_cf cf, const uint8_t *lo,
                          size_t lo_len, const uint8_t *hi, size_t hi_len) CAIRN_MUST_CHECK;
/* CAIRN_OK while positioned; CAIRN_ENOT_FOUND at the end; an error if RocksDB
 * failed while iterating. */
cairn_err store_iter_status(store_iter *it, store_cf cf) CAIRN_MUST_CHECK;
void store_iter_close(store_iter *it);

#endif
