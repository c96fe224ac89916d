/* state_check.c - integrity of the application state beyond the store's seals
 * (docs/storage.md "State"). A seal is a checksum anyone can recompute, so a
 * state value rewritten with a fresh seal passes store_scrub. The state tree is
 * authenticated (every node by its parent, the root by the app hash in the
 * signed headers), but the latest-value index ('L' entries, src/app/smt.h),
 * which reads and block execution use, is not. This walks the tree and compares
 * the index with it both ways; a wrong index entry is rebuilt from the tree.
 *
 * Threads: node_state_check on any thread (store reads only);
 * node_state_index_repair on the loop (it writes). */
#include <stdlib.h>
#include <string.h>

#include "app/smt.h"
#include "base/log.h"
#include "node/node_int.h"

static void list_bad(node_state_report *out, const uint8_t kh[32])
{
    out->index_bad++;
    if (out->n_listed < NODE_STATE_LISTED) memcpy(out->listed[out->n_listed++], kh, 32);
}

/* The tree's leaves and the index, both in key hash order, merged: an entry
 * with a leaf must hold its value, one without must say "absent" (unless
 * either was written after the checked version). One pass, no walk per entry. */
typedef struct {
    node_state_report *out;
    store_state_cursor *cur;
    const uint8_t *key, *val; /* the cursor's current entry; key NULL at the end */
    size_t key_len, val_len;
    cairn_err rc; /* a read error of the cursor */
} merge_ctx;

static void merge_advance(merge_ctx *m)
{
    cairn_err rc = store_state_cursor_next(m->cur, &m->key, &m->key_len, &m->val, &m->val_len);
    if (rc != CAIRN_OK) m->key = NULL;
    if (rc != CAIRN_OK && rc != CAIRN_ENOT_FOUND) m->rc = rc;
}

/* The current entry has no leaf: it must be a tombstone (or newer). */
static void merge_unmatched(merge_ctx *m)
{
    m->out->index_checked++;
    if (m->key_len != 1 + SMT_HASH_BYTES) { /* not an index key: cannot name a leaf */
        m->out->index_bad++;
        return;
    }
    if (smt_latest_agrees(m->val, m->val_len, m->out->version, false, NULL, 0) != CAIRN_OK)
        list_bad(m->out, m->key + 1);
}

/* The order of 'L' | kh keys (RocksDB's bytewise order) against a key hash;
 * a key of another length (damage) still compares without reading past it. */
static int entry_cmp(const uint8_t *key, size_t key_len, const uint8_t kh[SMT_HASH_BYTES])
{
    size_t n = key_len - 1 < SMT_HASH_BYTES ? key_len - 1 : SMT_HASH_BYTES;
    int c = memcmp(key + 1, kh, n);
    if (c) return c;
    return key_len - 1 < SMT_HASH_BYTES ? -1 : key_len - 1 > SMT_HASH_BYTES ? 1 : 0;
}

static cairn_err merge_leaf(void *ctx, const uint8_t kh[SMT_HASH_BYTES], const uint8_t *val,
                            uint32_t val_len)
{
    merge_ctx *m = ctx;
    while (m->key && entry_cmp(m->key, m->key_len, kh) < 0) {
        merge_unmatched(m);
        merge_advance(m);
    }
    if (m->key && entry_cmp(m->key, m->key_len, kh) == 0) {
        m->out->index_checked++;
        if (smt_latest_agrees(m->val, m->val_len, m->out->version, true, val, val_len) !=
            CAIRN_OK)
            list_bad(m->out, kh);
        merge_advance(m);
    } else {
        list_bad(m->out, kh); /* a leaf without its entry: reads would call it absent */
    }
    return m->rc;
}

cairn_err node_state_check(store_t *st, uint64_t version, const uint8_t app_hash[32],
                           node_state_report *out)
{
    memset(out, 0, sizeof *out);
    out->version = version;
    kv_reader r = store_state_reader(st);
    uint8_t root[SMT_HASH_BYTES];
    cairn_err rc = smt_root(&r, version, root);
    if (rc) return rc; /* pruned meanwhile, or unreadable */
    out->root_bad = memcmp(root, app_hash, 32) != 0;
    static const uint8_t prefix[1] = {'L'};
    merge_ctx m = {.out = out};
    CAIRN_TRY(store_state_cursor_open(st, prefix, 1, &m.cur));
    merge_advance(&m);
    smt_scrub_stats stats;
    out->tree_rc = smt_scrub_each(&r, version, &stats, out->tree_path, merge_leaf, &m);
    out->leaves = stats.leaves;
    out->internal = stats.internal;
    if (m.rc == CAIRN_OK && out->tree_rc == CAIRN_OK) {
        while (m.key) { /* entries past the last leaf */
            merge_unmatched(&m);
            merge_advance(&m);
        }
    }
    store_state_cursor_close(m.cur);
    return m.rc; /* a cursor read error: the check did not run through */
}

cairn_err node_state_index_repair(struct node *n, const uint8_t kh[32], bool *rewritten)
{
    *rewritten = false;
    kv_reader r = store_state_reader(n->store);
    uint64_t version = n->st.last_height;
    uint8_t lk[1 + SMT_HASH_BYTES] = {'L'};
    memcpy(lk + 1, kh, SMT_HASH_BYTES);
    uint8_t *raw = NULL;
    size_t len = 0;
    cairn_err rc = kv_get(&r, lk, sizeof lk, &raw, &len);
    if (rc == CAIRN_OK) rc = smt_latest_check(&r, version, kh, raw, len);
    free(raw);
    if (rc == CAIRN_OK) return CAIRN_OK; /* right again (a block rewrote it) */
    if (rc != CAIRN_ECORRUPT && rc != CAIRN_ENOT_FOUND) return rc;
    kv_batch b;
    kv_batch_init(&b);
    rc = smt_latest_rebuild(&r, version, kh, &b);
    if (rc == CAIRN_OK) rc = store_state_write(n->store, &b);
    kv_batch_deinit(&b);
    if (rc == CAIRN_OK) *rewritten = true;
    return rc;
}
