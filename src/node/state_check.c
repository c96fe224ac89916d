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
    for (uint32_t i = 0; i < out->n_listed; i++)
        if (!memcmp(out->listed[i], kh, 32)) return;
    out->index_bad++;
    if (out->n_listed < NODE_STATE_LISTED) memcpy(out->listed[out->n_listed++], kh, 32);
}

static void leaf_without_entry(void *ctx, const uint8_t key_hash[SMT_HASH_BYTES])
{
    list_bad(ctx, key_hash);
}

typedef struct {
    const kv_reader *r;
    node_state_report *out;
    cairn_err rc; /* a tree read that failed: the walk above reports it */
} scan_ctx;

static bool index_entry(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    scan_ctx *c = ctx;
    c->out->index_checked++;
    if (key_len != 1 + SMT_HASH_BYTES) { /* not an index key: cannot name a leaf */
        c->out->index_bad++;
        return true;
    }
    cairn_err rc = smt_latest_check(c->r, c->out->version, key + 1, val, val_len);
    if (rc == CAIRN_ECORRUPT) {
        /* the entry, or a tree node on its path: tell them apart by a second
         * look with a fresh entry from the tree */
        kv_batch b;
        kv_batch_init(&b);
        rc = smt_latest_rebuild(c->r, c->out->version, key + 1, &b);
        kv_batch_deinit(&b);
        if (rc == CAIRN_OK) list_bad(c->out, key + 1);
    }
    if (rc && rc != CAIRN_ECORRUPT) {
        c->rc = rc;
        return false;
    }
    return true;
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
    smt_scrub_stats stats;
    out->tree_rc = smt_scrub_each(&r, version, true, &stats, out->tree_path, leaf_without_entry,
                                  out);
    out->leaves = stats.leaves;
    out->internal = stats.internal;
    scan_ctx c = {&r, out, CAIRN_OK};
    static const uint8_t prefix[1] = {'L'};
    rc = store_state_scan(st, prefix, 1, index_entry, &c);
    if (rc == CAIRN_OK && c.rc != CAIRN_OK && out->tree_rc == CAIRN_OK) out->tree_rc = c.rc;
    return rc;
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
