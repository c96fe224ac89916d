/* store.h - the node's durable storage: blocks, seen commits, tx index, tx
 * results, application state and pending evidence, in one RocksDB database with
 * one column family per kind of record (docs/storage.md has the key and value
 * layouts). src/store is the only module that includes rocksdb/c.h.
 *
 * Invariants:
 *  1. A block is saved with everything that belongs to it (block, hash index,
 *     seen commit, tx index, results, state writes, new meta) in ONE RocksDB write
 *     batch; with options.sync (the default) it is on disk before the call
 *     returns, so nothing is visible that is not durable. A save either happens
 *     entirely or not at all.
 *  2. Heights are contiguous: base_height..height are all present; the first
 *     block saved into an empty store sets base_height.
 *  3. Nothing read from disk is trusted. A block read re-hashes its header and
 *     checks it against the block_hash index, the seen commit's block id and the
 *     next block's last_block_id, and checks data_hash and evidence_hash against
 *     its body. Opaque records (meta, results, state, evidence) carry a seal bound
 *     to their column family and key. A record that fails returns CAIRN_ECORRUPT
 *     and is logged with its column family and key; it is never returned as good.
 *  4. RocksDB errors are translated here: "Corruption" -> CAIRN_ECORRUPT, any
 *     other failure -> CAIRN_EDB; the RocksDB message is logged.
 *
 * Threads: one thread writes (store_block_save, store_evidence_*, store_debug_*);
 * reads (getters, state reader, scrub) may run on any thread concurrently with it
 * (RocksDB is thread-safe; store_height() is an atomic load). store_close() only
 * after every other call has returned.
 */
#ifndef CAIRN_STORE_STORE_H
#define CAIRN_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/error.h"
#include "base/kv.h"
#include "chain/chain.h"
#include "crypto/crypto.h"

/* Column families. STORE_CF_NAMES gives their RocksDB names in this order. */
typedef enum {
    STORE_CF_META = 0,
    STORE_CF_BLOCKS,
    STORE_CF_BLOCK_HASH,
    STORE_CF_COMMITS,
    STORE_CF_TX_INDEX,
    STORE_CF_STATE,
    STORE_CF_RESULTS,
    STORE_CF_EVIDENCE,
    STORE_CF__COUNT
} store_cf;

/* "meta", "blocks", ... ; NULL for an out-of-range value. Static strings. */
const char *store_cf_name(store_cf cf);

#define STORE_KEY_MAX 1024                 /* state and evidence keys */
#define STORE_VALUE_MAX (16u * 1024 * 1024) /* state, evidence, results values */
#define STORE_CHAIN_STATE_MAX (1u << 20)    /* opaque chain state in meta */
#define STORE_SEAL_BYTES 8

typedef struct store store_t;

typedef struct {
    bool sync;              /* fsync every block save (default true) */
    bool create_if_missing; /* default true */
    bool verify_next;       /* block reads also check the next block's link (true) */
    size_t block_cache_bytes; /* RocksDB block cache (default 32 MiB) */
    int max_open_files;     /* default 256 */
} store_options;

void store_options_default(store_options *o);

/* Opens (and creates, if allowed) the database at path with all column families.
 * opt NULL means defaults. On success *out is owned by the caller: store_close().
 * Errors: CAIRN_EDB (cannot open: permissions, lock held by another process,
 * missing with create_if_missing false), CAIRN_ECORRUPT (RocksDB reports
 * corruption or the store's meta record fails its seal), CAIRN_EUNSUPPORTED
 * (written by a newer store format). The reason is logged. */
cairn_err store_open(const char *path, const store_options *opt,
                     store_t **out) CAIRN_MUST_CHECK;
/* Closes and frees; NULL is a no-op. */
void store_close(store_t *s);

/* Writes every column family's memtable to SST files (tests, backups, clean
 * shutdown; durability does not depend on it: the WAL already has every write). */
cairn_err store_flush(store_t *s) CAIRN_MUST_CHECK;

/* Latest saved height (0: empty) and the lowest stored height (0: empty). */
uint64_t store_height(const store_t *s);
uint64_t store_base_height(const store_t *s);

/* ------------------------------------------------------------- saving blocks */

/* What one block brings to the store. Everything is borrowed for the call. */
typedef struct {
    const uint8_t *block_raw; /* the block's canonical encoding */
    size_t block_len;
    const block_t *block;     /* block_raw decoded */
    const uint8_t *block_id;  /* [HASH_BYTES]: header_hash(&block->header) */
    const uint8_t *commit_raw; /* the seen commit: >2/3 precommits for block_id */
    size_t commit_len;
    /* Results of executing the block: one opaque entry per tx (n_tx_results ==
     * block->n_txs) and one for the block as a whole (end-block output, may be
     * empty). */
    const bytes_view *tx_results;
    uint32_t n_tx_results;
    const uint8_t *block_result;
    size_t block_result_len;
    const kv_batch *state;   /* the app's state writes; NULL: none */
    const uint8_t *app_hash; /* [HASH_BYTES] state root after this block */
    /* Opaque caller data kept in meta (e.g. the encoded chain_state_t); may be
     * NULL. Replaced on every save. */
    const uint8_t *chain_state;
    size_t chain_state_len;
} store_block_save_args;

/* Saves one block atomically (invariant 1). The block must be the next height
 * (store_height()+1; any height >= 1 in an empty store) and link to the stored
 * tip by last_block_id; block_id must be its header hash, data_hash must match
 * its txs, and the seen commit must be for (height, block_id).
 * Errors: CAIRN_EBAD_HEIGHT, CAIRN_EBAD_HASH, CAIRN_EBAD_COMMIT, CAIRN_EINVALID_ARG
 * (sizes, result count), CAIRN_ETOO_LARGE, CAIRN_EDB; on any error nothing was
 * written. */
cairn_err store_block_save(store_t *s, const store_block_save_args *a) CAIRN_MUST_CHECK;

/* ------------------------------------------------------------- reading blocks */

/* Loads and verifies the block at height (invariant 3) into *out (block_free()).
 * CAIRN_ENOT_FOUND outside base..height; CAIRN_ECORRUPT if any check fails
 * (including a record missing inside base..height). */
cairn_err store_block_get(store_t *s, uint64_t height, block_t *out) CAIRN_MUST_CHECK;
/* The same by block id; *height_out may be NULL. */
cairn_err store_block_get_by_hash(store_t *s, const uint8_t id[static HASH_BYTES],
                                  block_t *out, uint64_t *height_out) CAIRN_MUST_CHECK;
/* The verified canonical bytes (for RPC), appended to out after buf_reset(out).
 * id_out (may be NULL) receives the block id. */
cairn_err store_block_get_raw(store_t *s, uint64_t height, buf_t *out,
                              uint8_t id_out[HASH_BYTES]) CAIRN_MUST_CHECK;
cairn_err store_block_get_raw_by_hash(store_t *s, const uint8_t id[static HASH_BYTES],
                                      buf_t *out, uint64_t *height_out) CAIRN_MUST_CHECK;

/* The seen commit of height (commit_free()). Checked: it decodes, is for this
 * height, and its block id is the one the block_hash index maps to this height. */
cairn_err store_commit_get(store_t *s, uint64_t height, commit_t *out) CAIRN_MUST_CHECK;
cairn_err store_commit_get_raw(store_t *s, uint64_t height, buf_t *out) CAIRN_MUST_CHECK;

/* A transaction by hash, from a verified block: its height and index, its bytes
 * (tx) and its result entry (result); either buffer may be NULL. */
cairn_err store_tx_get(store_t *s, const uint8_t hash[static HASH_BYTES],
                       uint64_t *height, uint32_t *index, buf_t *tx,
                       buf_t *result) CAIRN_MUST_CHECK;

/* The results saved with a block, checked by seal. Heap object:
 * store_results_free(). tx[i] and block point into the object's memory. */
typedef struct {
    uint32_t n_tx;
    bytes_view *tx;
    bytes_view block;
    uint8_t *mem;
} store_results_t;

cairn_err store_results_get(store_t *s, uint64_t height,
                            store_results_t *out) CAIRN_MUST_CHECK;
void store_results_free(store_results_t *r);

/* Meta saved with the latest block. */
typedef struct {
    uint64_t height;
    uint64_t base_height;
    uint8_t last_block_id[HASH_BYTES];
    uint8_t app_hash[HASH_BYTES];
} store_meta_t;

/* CAIRN_ENOT_FOUND if no block was saved yet. */
cairn_err store_meta_get(store_t *s, store_meta_t *out) CAIRN_MUST_CHECK;
/* The opaque chain state saved with the latest block, into out (after reset).
 * CAIRN_ENOT_FOUND if none was saved. */
cairn_err store_chain_state_get(store_t *s, buf_t *out) CAIRN_MUST_CHECK;

/* ------------------------------------------------------------- state */

/* A reader over the state column family, reading the latest committed values.
 * Valid while s is open. Values are sealed on disk: a damaged one is
 * CAIRN_ECORRUPT. */
kv_reader store_state_reader(store_t *s);

/* Applies state writes on their own, atomically and durably (sync per options):
 * for the genesis state, written before the first block. Block state goes with
 * store_block_save. CAIRN_EINVALID_ARG for an empty or oversize key,
 * CAIRN_ETOO_LARGE for an oversize value; nothing is written then. */
cairn_err store_state_write(store_t *s, const kv_batch *b) CAIRN_MUST_CHECK;

/* A cursor over the state values whose key starts with prefix (at most 64
 * bytes), in key order, over a snapshot taken when it opens. _next gives the
 * next value, unsealed, borrowed until the next call: CAIRN_OK, CAIRN_ENOT_FOUND
 * at the end, or a read error. Values that fail their seal are skipped
 * (store_scrub lists those). Any thread; close before store_close(). */
typedef struct store_state_cursor store_state_cursor;
cairn_err store_state_cursor_open(store_t *s, const uint8_t *prefix, size_t prefix_len,
                                  store_state_cursor **out) CAIRN_MUST_CHECK;
cairn_err store_state_cursor_next(store_state_cursor *c, const uint8_t **key, size_t *key_len,
                                  const uint8_t **val, size_t *val_len) CAIRN_MUST_CHECK;
void store_state_cursor_close(store_state_cursor *c);

/* ------------------------------------------------------------- evidence */

/* Opaque pending evidence, by caller key; written durably (sync per options). */
cairn_err store_evidence_put(store_t *s, const uint8_t *key, size_t key_len,
                             const uint8_t *val, size_t val_len) CAIRN_MUST_CHECK;
/* *val malloc'd, caller frees. */
cairn_err store_evidence_get(store_t *s, const uint8_t *key, size_t key_len,
                             uint8_t **val, size_t *val_len) CAIRN_MUST_CHECK;
cairn_err store_evidence_del(store_t *s, const uint8_t *key,
                             size_t key_len) CAIRN_MUST_CHECK;
/* Calls cb for at most max_items entries in key order (key and value are valid
 * only during the call); cb returns false to stop. Values failing their seal are
 * logged, skipped and counted in *n_damaged (may be NULL). */
typedef bool (*store_evidence_cb)(const uint8_t *key, size_t key_len, const uint8_t *val,
                                  size_t val_len, void *ctx);
cairn_err store_evidence_foreach(store_t *s, size_t max_items, size_t *n_damaged,
                                 store_evidence_cb cb, void *ctx) CAIRN_MUST_CHECK;

/* ------------------------------------------------------------- scrub */

#define STORE_SCRUB_REPORT_MAX 1024 /* damaged keys listed; more are only counted */
#define STORE_SCRUB_KEY_MAX 40      /* bytes of a key kept in a report entry */

typedef struct {
    store_cf cf;
    uint64_t height; /* the height the damage concerns; 0 if none */
    uint8_t key[STORE_SCRUB_KEY_MAX];
    uint32_t key_len; /* bytes kept (keys are cut at STORE_SCRUB_KEY_MAX) */
    cairn_err err;    /* CORRUPT (fails a check) or NOT_FOUND (missing record) */
    char reason[80];
} store_damage_t;

typedef struct {
    uint64_t heights_checked;
    uint64_t records_checked;
    uint64_t damaged;   /* total, even beyond STORE_SCRUB_REPORT_MAX */
    uint32_t n_entries; /* listed in entries */
    store_damage_t *entries; /* quarantine list; store_scrub_report_free() */
} store_scrub_report;

/* Called after every 1000 heights and at the end; return false to stop early. */
typedef bool (*store_scrub_progress_cb)(uint64_t done, uint64_t total, void *ctx);

/* Walks every height from base to tip, verifying each block (header hash, hash
 * index, chain links, data and evidence hashes), its seen commit, its tx index
 * entries and results seal; then every index entry points at a block that has
 * it; then the seals of meta, state and evidence values. It does not stop at the
 * first damage: *report lists every damaged key. Returns CAIRN_OK when the walk
 * completed (damage or not: look at report->damaged), CAIRN_ECLOSED if progress
 * stopped it, or an error that prevented the walk (CAIRN_EDB, CAIRN_ENOMEM).
 * progress may be NULL. report is initialised here; free it in every case. */
cairn_err store_scrub(store_t *s, store_scrub_report *report,
                      store_scrub_progress_cb progress, void *ctx) CAIRN_MUST_CHECK;
void store_scrub_report_free(store_scrub_report *r);
/* "blocks/00000000000000aa: header hash not in block_hash index". */
void store_damage_format(const store_damage_t *d, char *out, size_t out_len);

/* ------------------------------------------------------------- repair */

/* Checks every record of height h, as store_scrub does for one height: the
 * block (reading block h+1 for the link check), its block_hash entry, seen
 * commit, the tx_index entries of its txs and its results. Damage found is
 * copied to out (at most out_max entries, out may be NULL when out_max is 0)
 * and counted in *n_damaged (may be NULL). Entries may name another height:
 * block h+1 when its last_block_id disagrees with a block h its commit vouches
 * for. Returns CAIRN_OK when nothing is damaged, CAIRN_ECORRUPT when something
 * is, CAIRN_ENOT_FOUND outside base..height, else CAIRN_EDB/CAIRN_ENOMEM.
 * Any thread. */
cairn_err store_height_check(store_t *s, uint64_t h, store_damage_t *out,
                             uint32_t out_max, uint32_t *n_damaged) CAIRN_MUST_CHECK;

/* What rewrites one height. Everything is borrowed for the call. */
typedef struct {
    uint64_t height;
    const uint8_t *block_raw;   /* canonical block encoding */
    size_t block_len;
    const uint8_t *commit_raw;  /* a commit for (height, block id) */
    size_t commit_len;
    const uint8_t *results_raw; /* the results record (store_results_get_raw) */
    size_t results_len;
} store_height_repair_args;

/* Rewrites every record of one height inside base..height in ONE write batch:
 * block, block_hash entry, seen commit, tx_index entries of its txs (unless an
 * entry already names another stored copy of the same tx) and the sealed
 * results. The caller has verified the commit's signatures (the store does not
 * know the validator set); the store checks what it can witness on its own,
 * before writing anything:
 *   - the block decodes canonically, is for this height, and its data,
 *     evidence and last commit hashes match its body (CAIRN_EBAD_BLOCK,
 *     CAIRN_EBAD_HEIGHT, CAIRN_EBAD_HASH);
 *   - the commit decodes and is for (height, header hash) (CAIRN_EBAD_COMMIT);
 *   - the results record parses strictly with one entry per tx
 *     (CAIRN_EBAD_ENCODING);
 *   - the block id is the one the store's tip record names (at the tip), the
 *     one block h+1 links to when h+1 verifies, and the block links to block
 *     h-1 when h-1 verifies (CAIRN_EBAD_HASH).
 * Then it re-verifies height h (store_height_check); damage left at h after
 * the write is CAIRN_ECORRUPT (logged). Outside base..height: CAIRN_EBAD_HEIGHT.
 * On any error before the write nothing was written. Writer thread only. */
cairn_err store_height_repair(store_t *s,
                              const store_height_repair_args *a) CAIRN_MUST_CHECK;

/* The results record of height (what store_results_get parses), seal-checked,
 * into out after reset: what a peer needs to repair that height. */
cairn_err store_results_get_raw(store_t *s, uint64_t height, buf_t *out) CAIRN_MUST_CHECK;
/* Parses a results record strictly (from a peer): heap object, free with
 * store_results_free(). CAIRN_EBAD_ENCODING (or a codec error) if malformed. */
cairn_err store_results_decode(const uint8_t *p, size_t n,
                               store_results_t *out) CAIRN_MUST_CHECK;

/* ------------------------------------------------------------- test and repair */

/* Raw access that bypasses every check: for tests that damage records and for
 * repair tools. val NULL deletes. Values are written as given (no seal). */
cairn_err store_debug_put_raw(store_t *s, store_cf cf, const uint8_t *key,
                              size_t key_len, const uint8_t *val,
                              size_t val_len) CAIRN_MUST_CHECK;
/* The stored bytes as they are (no checks), into out after reset. */
cairn_err store_debug_get_raw(store_t *s, store_cf cf, const uint8_t *key,
                              size_t key_len, buf_t *out) CAIRN_MUST_CHECK;
/* Height keys as stored: 8 bytes big-endian. */
void store_height_key(uint8_t out[static 8], uint64_t height);

#endif
