/* Sparse Merkle tree: roots against a reference model, versions, proofs,
 * damaged stores. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/kv_mem.h"
#include "app/smt.h"
#include "cairn/proof.h"
#include "crypto/crypto.h"

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ---------------------------------------------------------- reference model */

typedef struct {
    uint8_t key[8];
    uint8_t val[16];
    size_t val_len;
    int present;
} model_ent;

#define MODEL_N 20000
static model_ent model[MODEL_N];
static size_t model_space = 600; /* keys in use: model[0 .. model_space) */

typedef struct {
    uint8_t kh[32];
    uint8_t lh[32];
} kl;

static int kl_cmp(const void *a, const void *b) { return memcmp(a, b, 32); }
static int bit(const uint8_t *h, unsigned i) { return (h[i / 8] >> (7 - i % 8)) & 1; }

/* Root of the canonical tree over sorted leaves [lo, hi) at depth d (test-only
 * recursion over our own data). */
static size_t ref_internal; /* internal nodes counted by ref_root */

static void ref_root(uint8_t out[32], const kl *v, size_t lo, size_t hi, unsigned d)
{
    if (hi == lo) {
        memcpy(out, CAIRN_PROOF_EMPTY_ROOT, 32);
        return;
    }
    if (hi - lo == 1) {
        memcpy(out, v[lo].lh, 32);
        return;
    }
    ref_internal++;
    size_t mid = lo;
    while (mid < hi && !bit(v[mid].kh, d)) mid++;
    uint8_t l[32], r[32];
    ref_root(l, v, lo, mid, d + 1);
    ref_root(r, v, mid, hi, d + 1);
    smt_internal_hash(out, l, r);
}

static void model_root(uint8_t out[32])
{
    static kl v[MODEL_N];
    size_t n = 0;
    for (size_t i = 0; i < MODEL_N; i++) {
        if (!model[i].present) continue;
        uint8_t vh[32];
        hash_sha256(v[n].kh, model[i].key, sizeof model[i].key);
        hash_sha256(vh, model[i].val, model[i].val_len);
        smt_leaf_hash(v[n].lh, v[n].kh, vh);
        n++;
    }
    qsort(v, n, sizeof v[0], kl_cmp);
    ref_root(out, v, 0, n, 0);
}

static void model_init(void)
{
    model_space = 600;
    for (size_t i = 0; i < MODEL_N; i++) {
        memset(&model[i], 0, sizeof model[i]);
        snprintf((char *)model[i].key, sizeof model[i].key, "k%06zu", i);
    }
}

/* ---------------------------------------------------------- helpers */

static void apply_ops(kv_mem *m, uint64_t base, uint64_t ver, const smt_op *ops, size_t n,
                      uint8_t root[32], smt_stats *st)
{
    kv_reader r = kv_mem_reader(m);
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(smt_apply(&r, base, ver, ops, n, &b, root, st), CAIRN_OK);
    assert_int_equal(kv_mem_apply(m, &b), CAIRN_OK);
    kv_batch_deinit(&b);
}

/* One random round over the model: n ops (puts and deletes) as version ver. */
static void random_round(kv_mem *m, uint64_t *seed, uint64_t base, uint64_t ver, size_t n,
                         uint8_t root[32])
{
    smt_op *ops = calloc(n, sizeof *ops);
    for (size_t j = 0; j < n; j++) {
        model_ent *e = &model[rng_next(seed) % model_space];
        ops[j].key = e->key;
        ops[j].key_len = sizeof e->key;
        if (rng_next(seed) % 4 == 0) {
            e->present = 0;
            ops[j].val = NULL;
        } else {
            e->present = 1;
            e->val_len = 1 + rng_next(seed) % 15;
            for (size_t k = 0; k < e->val_len; k++) e->val[k] = (uint8_t)rng_next(seed);
            /* ops borrow: copy into a per-op buffer that outlives the apply */
            uint8_t *copy = malloc(e->val_len);
            memcpy(copy, e->val, e->val_len);
            ops[j].val = copy;
            ops[j].val_len = e->val_len;
        }
    }
    apply_ops(m, base, ver, ops, n, root, NULL);
    for (size_t j = 0; j < n; j++) free((void *)ops[j].val);
    free(ops);
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(crypto_init(), CAIRN_OK);
    model_init();
    return 0;
}

/* ---------------------------------------------------------- roots */

static void empty_root_is_hash_of_0x02(void **state)
{
    (void)state;
    uint8_t h[32], b = 0x02;
    hash_sha256(h, &b, 1);
    assert_memory_equal(h, SMT_EMPTY_ROOT, 32);
    kv_mem *m = kv_mem_new();
    uint8_t root[32];
    apply_ops(m, SMT_VERSION_NONE, 0, NULL, 0, root, NULL);
    assert_memory_equal(root, SMT_EMPTY_ROOT, 32);
    kv_reader r = kv_mem_reader(m);
    uint8_t got[32];
    assert_int_equal(smt_root(&r, 0, got), CAIRN_OK);
    assert_memory_equal(got, SMT_EMPTY_ROOT, 32);
    kv_mem_free(m);
}

static void single_key_root_is_its_leaf_hash(void **state)
{
    (void)state;
    kv_mem *m = kv_mem_new();
    smt_op op = {.key = (const uint8_t *)"a", .key_len = 1, .val = (const uint8_t *)"v",
                 .val_len = 1};
    uint8_t root[32], kh[32], vh[32], lh[32];
    apply_ops(m, SMT_VERSION_NONE, 1, &op, 1, root, NULL);
    hash_sha256(kh, "a", 1);
    hash_sha256(vh, "v", 1);
    smt_leaf_hash(lh, kh, vh);
    assert_memory_equal(root, lh, 32);
    kv_mem_free(m);
}

static void roots_match_reference_model_over_random_rounds(void **state)
{
    (void)state;
    model_init();
    kv_mem *m = kv_mem_new();
    uint64_t seed = 7;
    uint8_t root[32], want[32];
    uint64_t base = SMT_VERSION_NONE;
    for (uint64_t ver = 1; ver <= 40; ver++) {
        random_round(m, &seed, base, ver, 1 + rng_next(&seed) % 60, root);
        model_root(want);
        assert_memory_equal(root, want, 32);
        base = ver;
    }
    kv_mem_free(m);
}

static void roots_match_reference_model_on_a_large_tree(void **state)
{
    (void)state;
    model_init();
    model_space = MODEL_N;
    kv_mem *m = kv_mem_new();
    uint64_t seed = 11;
    uint8_t root[32], want[32];
    uint64_t base = SMT_VERSION_NONE;
    for (uint64_t ver = 1; ver <= 6; ver++) {
        random_round(m, &seed, base, ver, 15000, root);
        model_root(want);
        assert_memory_equal(root, want, 32);
        base = ver;
    }
    /* Stale lists this long span several chunks; pruning all but the newest
     * version leaves exactly the newest tree's nodes. */
    uint8_t chunk1[13] = {'S', 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 1};
    size_t n;
    assert_non_null(kv_mem_peek(m, chunk1, sizeof chunk1, &n));
    kv_reader r = kv_mem_reader(m);
    for (uint64_t v = 1; v <= 6; v++) {
        kv_batch b;
        kv_batch_init(&b);
        uint64_t pruned;
        assert_int_equal(smt_prune(&r, v, &b, &pruned), CAIRN_OK);
        assert_int_equal(kv_mem_apply(m, &b), CAIRN_OK);
        kv_batch_deinit(&b);
    }
    smt_scrub_stats st;
    uint8_t bad[32];
    assert_int_equal(smt_scrub(&r, 6, true, &st, bad), CAIRN_OK);
    size_t pos = 0, kn, vn, nodes = 0;
    const uint8_t *k, *v;
    while (kv_mem_next(m, &pos, &k, &kn, &v, &vn)) nodes += k[0] == 'N';
    assert_int_equal(nodes, st.leaves + st.internal);
    kv_mem_free(m);
}

static void root_does_not_depend_on_update_order_or_batching(void **state)
{
    (void)state;
    enum { N = 300 };
    uint8_t keys[N][4], vals[N][4];
    smt_op ops[N];
    for (int i = 0; i < N; i++) {
        memcpy(keys[i], &i, 4);
        int v = i * 7 + 1;
        memcpy(vals[i], &v, 4);
        ops[i] = (smt_op){keys[i], 4, vals[i], 4};
    }
    uint8_t r1[32], r2[32], r3[32];
    kv_mem *a = kv_mem_new(), *b = kv_mem_new(), *c = kv_mem_new();
    apply_ops(a, SMT_VERSION_NONE, 1, ops, N, r1, NULL);
    smt_op rev[N];
    for (int i = 0; i < N; i++) rev[i] = ops[N - 1 - i];
    apply_ops(b, SMT_VERSION_NONE, 1, rev, N, r2, NULL);
    uint64_t base = SMT_VERSION_NONE;
    for (int i = 0; i < N; i += 37) { /* small batches, one version each */
        int n = N - i < 37 ? N - i : 37;
        apply_ops(c, base, (uint64_t)i + 1, ops + i, (size_t)n, r3, NULL);
        base = (uint64_t)i + 1;
    }
    assert_memory_equal(r1, r2, 32);
    assert_memory_equal(r1, r3, 32);
    kv_mem_free(a);
    kv_mem_free(b);
    kv_mem_free(c);
}

static void deleting_every_key_returns_to_the_empty_root(void **state)
{
    (void)state;
    enum { N = 200 };
    uint32_t keys[N];
    smt_op ops[N], dels[N];
    for (uint32_t i = 0; i < N; i++) {
        keys[i] = i * 2654435761u;
        ops[i] = (smt_op){(uint8_t *)&keys[i], 4, (uint8_t *)"x", 1};
        dels[i] = (smt_op){(uint8_t *)&keys[N - 1 - i], 4, NULL, 0};
    }
    kv_mem *m = kv_mem_new();
    uint8_t root[32];
    apply_ops(m, SMT_VERSION_NONE, 1, ops, N, root, NULL);
    assert_memory_not_equal(root, SMT_EMPTY_ROOT, 32);
    apply_ops(m, 1, 2, dels, N, root, NULL);
    assert_memory_equal(root, SMT_EMPTY_ROOT, 32);
    kv_mem_free(m);
}

static void later_op_on_same_key_wins_within_a_batch(void **state)
{
    (void)state;
    smt_op ops[3] = {{(uint8_t *)"k", 1, (uint8_t *)"1", 1},
                     {(uint8_t *)"k", 1, NULL, 0},
                     {(uint8_t *)"k", 1, (uint8_t *)"2", 1}};
    smt_op one = {(uint8_t *)"k", 1, (uint8_t *)"2", 1};
    kv_mem *a = kv_mem_new(), *b = kv_mem_new();
    uint8_t r1[32], r2[32];
    apply_ops(a, SMT_VERSION_NONE, 1, ops, 3, r1, NULL);
    apply_ops(b, SMT_VERSION_NONE, 1, &one, 1, r2, NULL);
    assert_memory_equal(r1, r2, 32);
    kv_reader r = kv_mem_reader(a);
    uint8_t *v;
    size_t n;
    assert_int_equal(smt_get(&r, 1, (uint8_t *)"k", 1, &v, &n), CAIRN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0], '2');
    free(v);
    kv_mem_free(a);
    kv_mem_free(b);
}

static void apply_rejects_version_not_after_base(void **state)
{
    (void)state;
    kv_mem *m = kv_mem_new();
    uint8_t root[32];
    apply_ops(m, SMT_VERSION_NONE, 5, NULL, 0, root, NULL);
    kv_reader r = kv_mem_reader(m);
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(smt_apply(&r, 5, 5, NULL, 0, &b, root, NULL), CAIRN_EINVALID_ARG);
    assert_int_equal(smt_apply(&r, 5, 4, NULL, 0, &b, root, NULL), CAIRN_EINVALID_ARG);
    assert_int_equal(smt_apply(&r, 6, 7, NULL, 0, &b, root, NULL), CAIRN_ENOT_FOUND);
    kv_batch_deinit(&b);
    kv_mem_free(m);
}

/* ---------------------------------------------------------- versions */

static void old_versions_stay_readable(void **state)
{
    (void)state;
    kv_mem *m = kv_mem_new();
    uint8_t r1[32], r2[32], r3[32], got[32];
    smt_op v1[2] = {{(uint8_t *)"alice", 5, (uint8_t *)"10", 2},
                    {(uint8_t *)"bob", 3, (uint8_t *)"20", 2}};
    smt_op v2[2] = {{(uint8_t *)"alice", 5, (uint8_t *)"11", 2},
                    {(uint8_t *)"carol", 5, (uint8_t *)"30", 2}};
    smt_op v3[1] = {{(uint8_t *)"bob", 3, NULL, 0}};
    apply_ops(m, SMT_VERSION_NONE, 1, v1, 2, r1, NULL);
    apply_ops(m, 1, 2, v2, 2, r2, NULL);
    apply_ops(m, 2, 3, v3, 1, r3, NULL);
    kv_reader r = kv_mem_reader(m);
    uint8_t *v;
    size_t n;
    assert_int_equal(smt_get(&r, 1, (uint8_t *)"alice", 5, &v, &n), CAIRN_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(v, "10", 2);
    free(v);
    assert_int_equal(smt_get(&r, 3, (uint8_t *)"alice", 5, &v, &n), CAIRN_OK);
    assert_memory_equal(v, "11", 2);
    free(v);
    assert_int_equal(smt_get(&r, 2, (uint8_t *)"bob", 3, &v, &n), CAIRN_OK);
    assert_memory_equal(v, "20", 2);
    free(v);
    assert_int_equal(smt_get(&r, 3, (uint8_t *)"bob", 3, &v, &n), CAIRN_ENOT_FOUND);
    assert_int_equal(smt_get(&r, 1, (uint8_t *)"carol", 5, &v, &n), CAIRN_ENOT_FOUND);
    assert_int_equal(smt_get(&r, 3, (uint8_t *)"dave", 4, &v, &n), CAIRN_ENOT_FOUND);
    assert_int_equal(smt_root(&r, 1, got), CAIRN_OK);
    assert_memory_equal(got, r1, 32);
    assert_int_equal(smt_root(&r, 2, got), CAIRN_OK);
    assert_memory_equal(got, r2, 32);
    kv_mem_free(m);
}

typedef struct {
    int leaves;
    uint8_t last[SMT_HASH_BYTES];
    bool ascending;
} leaf_seen;

static cairn_err see_leaf(void *ctx, const uint8_t key_hash[SMT_HASH_BYTES], const uint8_t *val,
                          uint32_t val_len)
{
    (void)val;
    (void)val_len;
    leaf_seen *s = ctx;
    if (s->leaves++ && memcmp(s->last, key_hash, SMT_HASH_BYTES) >= 0) s->ascending = false;
    memcpy(s->last, key_hash, SMT_HASH_BYTES);
    return CAIRN_OK;
}

/* A three-version tree (alice 11, carol 30; bob deleted at 3). */
static kv_mem *three_versions(void)
{
    kv_mem *m = kv_mem_new();
    uint8_t root[32];
    smt_op v1[2] = {{(uint8_t *)"alice", 5, (uint8_t *)"10", 2},
                    {(uint8_t *)"bob", 3, (uint8_t *)"20", 2}};
    smt_op v2[2] = {{(uint8_t *)"alice", 5, (uint8_t *)"11", 2},
                    {(uint8_t *)"carol", 5, (uint8_t *)"30", 2}};
    smt_op v3[1] = {{(uint8_t *)"bob", 3, NULL, 0}};
    apply_ops(m, SMT_VERSION_NONE, 1, v1, 2, root, NULL);
    apply_ops(m, 1, 2, v2, 2, root, NULL);
    apply_ops(m, 2, 3, v3, 1, root, NULL);
    return m;
}

static void latest_key_of(uint8_t lk[33], const char *key)
{
    lk[0] = 'L';
    hash_sha256(lk + 1, (const uint8_t *)key, strlen(key));
}

/* The 'L' entry of key: u64 version | u8 present | bytes value. */
static void latest_put(kv_mem *m, const char *key, uint64_t ver, const char *val)
{
    uint8_t lk[33], v[64] = {0};
    latest_key_of(lk, key);
    for (int i = 0; i < 8; i++) v[i] = (uint8_t)(ver >> (8 * i));
    size_t n = 9;
    if (val) {
        v[8] = 1;
        uint32_t len = (uint32_t)strlen(val);
        for (int i = 0; i < 4; i++) v[9 + i] = (uint8_t)(len >> (8 * i));
        memcpy(v + 13, val, len);
        n = 13 + len;
    }
    assert_int_equal(kv_mem_put(m, lk, sizeof lk, v, n), CAIRN_OK);
}

static cairn_err latest_check(kv_mem *m, const char *key)
{
    kv_reader r = kv_mem_reader(m);
    uint8_t lk[33], *raw = NULL;
    size_t n = 0;
    latest_key_of(lk, key);
    cairn_err rc = kv_get(&r, lk, sizeof lk, &raw, &n);
    if (rc == CAIRN_OK) rc = smt_latest_check(&r, 3, lk + 1, raw, n);
    free(raw);
    return rc;
}

static void a_false_latest_entry_is_caught_and_rebuilt_from_the_tree(void **state)
{
    (void)state;
    kv_mem *m = three_versions();
    kv_reader r = kv_mem_reader(m);
    uint8_t *v;
    size_t n;
    assert_int_equal(latest_check(m, "alice"), CAIRN_OK);
    assert_int_equal(latest_check(m, "bob"), CAIRN_OK); /* a tombstone the tree agrees with */
    /* what someone with the disk can do: a false value, a deleted key brought
     * back, a key that never was */
    latest_put(m, "alice", 2, "99");
    latest_put(m, "bob", 3, "20");
    latest_put(m, "mallory", 3, "1000000");
    assert_int_equal(smt_get(&r, 3, (uint8_t *)"alice", 5, &v, &n), CAIRN_OK); /* served! */
    assert_memory_equal(v, "99", 2);
    free(v);
    assert_int_equal(latest_check(m, "alice"), CAIRN_ECORRUPT);
    assert_int_equal(latest_check(m, "bob"), CAIRN_ECORRUPT);
    assert_int_equal(latest_check(m, "mallory"), CAIRN_ECORRUPT);
    uint8_t bad[32];
    smt_scrub_stats st;
    assert_int_equal(smt_scrub(&r, 3, true, &st, bad), CAIRN_ECORRUPT); /* alice's leaf */
    static const char *const keys[] = {"alice", "bob", "mallory"};
    for (int i = 0; i < 3; i++) {
        uint8_t lk[33];
        latest_key_of(lk, keys[i]);
        kv_batch b;
        kv_batch_init(&b);
        assert_int_equal(smt_latest_rebuild(&r, 3, lk + 1, &b), CAIRN_OK);
        assert_int_equal(kv_mem_apply(m, &b), CAIRN_OK);
        kv_batch_deinit(&b);
        assert_int_equal(latest_check(m, keys[i]), CAIRN_OK);
    }
    assert_int_equal(smt_get(&r, 3, (uint8_t *)"alice", 5, &v, &n), CAIRN_OK);
    assert_memory_equal(v, "11", 2);
    free(v);
    assert_int_equal(smt_get(&r, 3, (uint8_t *)"bob", 3, &v, &n), CAIRN_ENOT_FOUND);
    assert_int_equal(smt_get(&r, 3, (uint8_t *)"mallory", 7, &v, &n), CAIRN_ENOT_FOUND);
    /* older versions still read right: the rebuilt entries send them to the tree */
    assert_int_equal(smt_get(&r, 1, (uint8_t *)"alice", 5, &v, &n), CAIRN_OK);
    assert_memory_equal(v, "10", 2);
    free(v);
    assert_int_equal(smt_get(&r, 2, (uint8_t *)"bob", 3, &v, &n), CAIRN_OK);
    assert_memory_equal(v, "20", 2);
    free(v);
    assert_int_equal(smt_scrub(&r, 3, true, &st, bad), CAIRN_OK);
    kv_mem_free(m);
}

static void an_entry_newer_than_the_checked_version_is_not_called_false(void **state)
{
    (void)state;
    kv_mem *m = three_versions();
    kv_reader r = kv_mem_reader(m);
    /* a block committed during a scrub of version 2 changed alice: not damage */
    uint8_t lk[33], *raw = NULL, bad[32];
    size_t n = 0;
    latest_key_of(lk, "alice");
    latest_put(m, "alice", 3, "12");
    assert_int_equal(kv_get(&r, lk, sizeof lk, &raw, &n), CAIRN_OK);
    assert_int_equal(smt_latest_check(&r, 2, lk + 1, raw, n), CAIRN_OK);
    free(raw);
    smt_scrub_stats st;
    assert_int_equal(smt_scrub(&r, 2, true, &st, bad), CAIRN_OK);
    kv_mem_free(m);
}

static void leaves_are_walked_in_key_hash_order_like_the_index(void **state)
{
    (void)state;
    model_init();
    kv_mem *m = kv_mem_new();
    uint64_t seed = 7;
    uint8_t root[32];
    for (int v = 0; v < 4; v++) random_round(m, &seed, v ? (uint64_t)v - 1 : SMT_VERSION_NONE,
                                             (uint64_t)v, 200, root);
    kv_reader r = kv_mem_reader(m);
    uint8_t bad[32];
    smt_scrub_stats st;
    leaf_seen seen = {.ascending = true};
    assert_int_equal(smt_scrub_each(&r, 3, &st, bad, see_leaf, &seen), CAIRN_OK);
    assert_true(seen.leaves > 100);
    assert_int_equal((uint64_t)seen.leaves, st.leaves);
    assert_true(seen.ascending);
    kv_mem_free(m);
}

static void nodes_written_per_update_is_about_the_tree_depth(void **state)
{
    (void)state;
    enum { N = 4096 };
    static uint32_t keys[N];
    static smt_op ops[N];
    for (uint32_t i = 0; i < N; i++) {
        keys[i] = i;
        ops[i] = (smt_op){(uint8_t *)&keys[i], 4, (uint8_t *)"a", 1};
    }
    kv_mem *m = kv_mem_new();
    uint8_t root[32];
    apply_ops(m, SMT_VERSION_NONE, 1, ops, N, root, NULL);
    smt_stats st = {0};
    smt_op up = {(uint8_t *)&keys[77], 4, (uint8_t *)"b", 1};
    apply_ops(m, 1, 2, &up, 1, root, &st);
    /* log2(4096) = 12; a random tree of 4096 leaves is rarely deeper than 30. */
    assert_true(st.nodes_written >= 12 && st.nodes_written <= 32);
    assert_int_equal(st.ops_changed, 1);
    st = (smt_stats){0};
    apply_ops(m, 2, 3, &up, 1, root, &st); /* same value: no change */
    assert_int_equal(st.nodes_written, 0);
    assert_int_equal(st.ops_changed, 0);
    kv_mem_free(m);
}

/* ---------------------------------------------------------- proofs */

static int verify_proof(const uint8_t root[32], const uint8_t *key, size_t kn,
                        const uint8_t *val, size_t vn, const buf_t *pf)
{
    return cairn_proof_verify(root, key, kn, val, vn, pf->data, pf->len);
}

static void proofs_verify_for_present_and_absent_keys(void **state)
{
    (void)state;
    model_init();
    kv_mem *m = kv_mem_new();
    uint64_t seed = 99;
    uint8_t root[32];
    random_round(m, &seed, SMT_VERSION_NONE, 1, 400, root);
    kv_reader r = kv_mem_reader(m);
    int kinds[2] = {0, 0}, present = 0;
    for (size_t i = 0; i < model_space; i++) {
        model_ent *e = &model[i];
        buf_t pf;
        buf_init(&pf, CAIRN_PROOF_BYTES_MAX);
        uint8_t *v;
        size_t vn;
        bool found;
        assert_int_equal(smt_prove(&r, 1, e->key, 8, &pf, &v, &vn, &found), CAIRN_OK);
        assert_int_equal(found, e->present);
        if (found) {
            present++;
            assert_int_equal(vn, e->val_len);
            assert_memory_equal(v, e->val, vn);
            assert_int_equal(verify_proof(root, e->key, 8, v, vn, &pf), CAIRN_PROOF_OK);
            assert_int_equal(verify_proof(root, e->key, 8, NULL, 0, &pf), CAIRN_PROOF_MISMATCH);
            free(v);
        } else {
            assert_null(v);
            assert_int_equal(verify_proof(root, e->key, 8, NULL, 0, &pf), CAIRN_PROOF_OK);
            assert_int_equal(verify_proof(root, e->key, 8, (uint8_t *)"", 0, &pf),
                             CAIRN_PROOF_MISMATCH);
            kinds[pf.data[1]]++;
        }
        buf_deinit(&pf);
    }
    assert_true(present > 100);
    /* Both kinds of absence occur: an empty subtree and another key's leaf. */
    assert_true(kinds[SMT_PROOF_EMPTY] > 0);
    assert_true(kinds[SMT_PROOF_LEAF] > 0);
    kv_mem_free(m);
}

static void proof_of_absence_in_empty_tree_verifies(void **state)
{
    (void)state;
    kv_mem *m = kv_mem_new();
    uint8_t root[32];
    apply_ops(m, SMT_VERSION_NONE, 0, NULL, 0, root, NULL);
    kv_reader r = kv_mem_reader(m);
    buf_t pf;
    buf_init(&pf, CAIRN_PROOF_BYTES_MAX);
    bool found;
    assert_int_equal(smt_prove(&r, 0, (uint8_t *)"x", 1, &pf, NULL, NULL, &found), CAIRN_OK);
    assert_false(found);
    assert_int_equal(pf.len, 4); /* version, kind, depth 0 */
    assert_int_equal(verify_proof(root, (uint8_t *)"x", 1, NULL, 0, &pf), CAIRN_PROOF_OK);
    buf_deinit(&pf);
    kv_mem_free(m);
}

/* Flips every bit-position byte of key, value, proof and root in turn. */
static void check_every_byte_matters(const kv_reader *r, const uint8_t root[32], const uint8_t *key, size_t kn,
                                     const uint8_t *val, size_t vn, const buf_t *pf)
{
    uint8_t r2[32], k2[64], v2[64], p2[CAIRN_PROOF_BYTES_MAX];
    assert_true(kn <= sizeof k2 && vn <= sizeof v2 && pf->len <= sizeof p2);
    assert_int_equal(verify_proof(root, key, kn, val, vn, pf), CAIRN_PROOF_OK);
    for (size_t i = 0; i < 32; i++) {
        memcpy(r2, root, 32);
        r2[i] ^= 0x01;
        assert_int_not_equal(cairn_proof_verify(r2, key, kn, val, vn, pf->data, pf->len), 0);
    }
    for (size_t i = 0; i < kn; i++) {
        memcpy(k2, key, kn);
        k2[i] ^= 0x80;
        int rc = cairn_proof_verify(root, k2, kn, val, vn, pf->data, pf->len);
        if (val || rc != CAIRN_PROOF_OK) {
            assert_int_not_equal(rc, CAIRN_PROOF_OK);
            continue;
        }
        /* An absence proof shows a whole subtree (empty, or holding one other
         * key) without our key; it also proves, truly, the absence of a changed
         * key that falls in that subtree (chance 2^-depth). Check it is true. */
        uint8_t *v;
        size_t n;
        assert_int_equal(smt_get(r, 1, k2, kn, &v, &n), CAIRN_ENOT_FOUND);
        unsigned depth = (unsigned)pf->data[pf->data[1] ? 66 : 2] |
                         (unsigned)pf->data[pf->data[1] ? 67 : 3] << 8;
        uint8_t h1[32], h2[32];
        hash_sha256(h1, key, kn);
        hash_sha256(h2, k2, kn);
        for (unsigned b = 0; b < depth; b++) assert_int_equal(bit(h1, b), bit(h2, b));
    }
    for (size_t i = 0; val && i < vn; i++) {
        memcpy(v2, val, vn);
        v2[i] ^= 0x10;
        assert_int_not_equal(cairn_proof_verify(root, key, kn, v2, vn, pf->data, pf->len), 0);
    }
    for (size_t i = 0; i < pf->len; i++) {
        for (int bitn = 0; bitn < 8; bitn++) {
            memcpy(p2, pf->data, pf->len);
            p2[i] ^= (uint8_t)(1u << bitn);
            assert_int_not_equal(cairn_proof_verify(root, key, kn, val, vn, p2, pf->len), 0);
        }
    }
    /* Truncated or extended proofs fail too. */
    assert_int_not_equal(cairn_proof_verify(root, key, kn, val, vn, pf->data, pf->len - 1), 0);
    memcpy(p2, pf->data, pf->len);
    p2[pf->len] = 0;
    assert_int_not_equal(cairn_proof_verify(root, key, kn, val, vn, p2, pf->len + 1), 0);
}

static void changing_any_byte_of_key_value_proof_or_root_fails(void **state)
{
    (void)state;
    model_init();
    kv_mem *m = kv_mem_new();
    uint64_t seed = 5;
    uint8_t root[32];
    random_round(m, &seed, SMT_VERSION_NONE, 1, 500, root);
    kv_reader r = kv_mem_reader(m);
    int done_present = 0, done_absent = 0;
    for (size_t i = 0; i < model_space && (done_present < 3 || done_absent < 3); i++) {
        model_ent *e = &model[i];
        if ((e->present && done_present >= 3) || (!e->present && done_absent >= 3)) continue;
        buf_t pf;
        buf_init(&pf, CAIRN_PROOF_BYTES_MAX);
        bool found;
        assert_int_equal(smt_prove(&r, 1, e->key, 8, &pf, NULL, NULL, &found), CAIRN_OK);
        check_every_byte_matters(&r, root, e->key, 8, e->present ? e->val : NULL, e->val_len, &pf);
        if (e->present)
            done_present++;
        else
            done_absent++;
        buf_deinit(&pf);
    }
    assert_int_equal(done_present, 3);
    assert_int_equal(done_absent, 3);
    kv_mem_free(m);
}

static void proof_against_an_old_root_proves_the_old_value(void **state)
{
    (void)state;
    kv_mem *m = kv_mem_new();
    uint8_t r1[32], r2[32];
    smt_op a = {(uint8_t *)"k", 1, (uint8_t *)"old", 3}, b = {(uint8_t *)"k", 1, (uint8_t *)"new", 3};
    smt_op other = {(uint8_t *)"z", 1, (uint8_t *)"1", 1};
    smt_op v1[2] = {a, other};
    apply_ops(m, SMT_VERSION_NONE, 1, v1, 2, r1, NULL);
    apply_ops(m, 1, 2, &b, 1, r2, NULL);
    kv_reader r = kv_mem_reader(m);
    buf_t pf;
    buf_init(&pf, CAIRN_PROOF_BYTES_MAX);
    bool found;
    assert_int_equal(smt_prove(&r, 1, (uint8_t *)"k", 1, &pf, NULL, NULL, &found), CAIRN_OK);
    assert_int_equal(verify_proof(r1, (uint8_t *)"k", 1, (uint8_t *)"old", 3, &pf), 0);
    assert_int_not_equal(verify_proof(r2, (uint8_t *)"k", 1, (uint8_t *)"old", 3, &pf), 0);
    assert_int_not_equal(verify_proof(r1, (uint8_t *)"k", 1, (uint8_t *)"new", 3, &pf), 0);
    buf_deinit(&pf);
    kv_mem_free(m);
}

static void proof_decoder_rejects_noncanonical_encodings(void **state)
{
    (void)state;
    smt_proof p;
    /* depth 3, bitmap with a padding bit set */
    uint8_t pad[] = {1, 0, 3, 0, 0x01};
    assert_int_equal(smt_proof_decode(&p, pad, sizeof pad), CAIRN_ENONCANONICAL);
    /* depth 1 with the empty hash listed as a sibling */
    uint8_t emp[5 + 32] = {1, 0, 1, 0, 0x80};
    memcpy(emp + 5, SMT_EMPTY_ROOT, 32);
    assert_int_equal(smt_proof_decode(&p, emp, sizeof emp), CAIRN_ENONCANONICAL);
    uint8_t deep[] = {1, 0, 0x01, 0x01};
    assert_int_equal(smt_proof_decode(&p, deep, sizeof deep), CAIRN_ETOO_LARGE);
    uint8_t ver[] = {2, 0, 0, 0};
    assert_int_equal(smt_proof_decode(&p, ver, sizeof ver), CAIRN_EBAD_VERSION);
    uint8_t kind[] = {1, 2, 0, 0};
    assert_int_equal(smt_proof_decode(&p, kind, sizeof kind), CAIRN_EBAD_TYPE);
    uint8_t trail[] = {1, 0, 0, 0, 0};
    assert_int_equal(smt_proof_decode(&p, trail, sizeof trail), CAIRN_ETRAILING);
    uint8_t ok[] = {1, 0, 0, 0};
    assert_int_equal(smt_proof_decode(&p, ok, sizeof ok), CAIRN_OK);
    assert_int_equal(smt_proof_decode(&p, ok, 3), CAIRN_ETRUNCATED);
}

static void node_decoder_rejects_internal_node_with_lone_leaf(void **state)
{
    (void)state;
    smt_node nd = {.kind = SMT_KIND_INTERNAL};
    nd.child[0].kind = SMT_KIND_LEAF;
    nd.child[0].version = 3;
    memset(nd.child[0].hash, 7, 32);
    nd.child[1].kind = SMT_KIND_EMPTY;
    buf_t b;
    buf_init(&b, 1024);
    assert_int_equal(smt_node_encode(&nd, &b), CAIRN_OK);
    smt_node out;
    assert_int_equal(smt_node_decode(&out, b.data, b.len), CAIRN_ENONCANONICAL);
    nd.child[1] = nd.child[0];
    buf_reset(&b);
    assert_int_equal(smt_node_encode(&nd, &b), CAIRN_OK);
    assert_int_equal(smt_node_decode(&out, b.data, b.len), CAIRN_OK);
    assert_int_equal(out.child[1].version, 3);
    buf_deinit(&b);
}

/* ---------------------------------------------------------- damaged store */

static void damaged_node_is_reported_as_corrupt_not_served(void **state)
{
    (void)state;
    enum { N = 64 };
    uint32_t keys[N];
    smt_op ops[N];
    for (uint32_t i = 0; i < N; i++) {
        keys[i] = i;
        ops[i] = (smt_op){(uint8_t *)&keys[i], 4, (uint8_t *)"val", 3};
    }
    kv_mem *m = kv_mem_new();
    uint8_t root[32];
    apply_ops(m, SMT_VERSION_NONE, 1, ops, N, root, NULL);
    /* Damage the root node: 'N' | version 1 | depth 0. */
    uint8_t rk[11] = {'N', 0, 0, 0, 0, 0, 0, 0, 1, 0, 0};
    size_t n;
    const uint8_t *p = kv_mem_peek(m, rk, sizeof rk, &n);
    assert_non_null(p);
    uint8_t *copy = malloc(n);
    memcpy(copy, p, n);
    copy[n - 1] ^= 1;
    assert_int_equal(kv_mem_put(m, rk, sizeof rk, copy, n), CAIRN_OK);
    free(copy);
    kv_reader r = kv_mem_reader(m);
    buf_t pf;
    buf_init(&pf, CAIRN_PROOF_BYTES_MAX);
    bool found;
    assert_int_equal(smt_prove(&r, 1, ops[0].key, 4, &pf, NULL, NULL, &found), CAIRN_ECORRUPT);
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(smt_apply(&r, 1, 2, ops, 1, &b, root, NULL), CAIRN_ECORRUPT);
    kv_batch_deinit(&b);
    /* A missing node is corrupt too. */
    kv_mem_del(m, rk, sizeof rk);
    assert_int_equal(smt_prove(&r, 1, ops[0].key, 4, &pf, NULL, NULL, &found), CAIRN_ECORRUPT);
    buf_deinit(&pf);
    kv_mem_free(m);
}

static void scrub_walks_every_node_and_finds_damage(void **state)
{
    (void)state;
    model_init();
    kv_mem *m = kv_mem_new();
    uint64_t seed = 21;
    uint8_t root[32];
    random_round(m, &seed, SMT_VERSION_NONE, 1, 500, root);
    random_round(m, &seed, 1, 2, 300, root);
    size_t present = 0;
    for (size_t i = 0; i < model_space; i++) present += (size_t)model[i].present;
    kv_reader r = kv_mem_reader(m);
    smt_scrub_stats st;
    uint8_t bad[32];
    assert_int_equal(smt_scrub(&r, 2, true, &st, bad), CAIRN_OK);
    assert_int_equal(st.leaves, present);
    uint8_t want[32];
    ref_internal = 0;
    model_root(want);
    assert_memory_equal(want, root, 32);
    assert_int_equal(st.internal, ref_internal); /* every node of the model's tree */
    assert_true(st.internal >= present - 1);
    assert_int_equal(smt_scrub(&r, 1, false, &st, bad), CAIRN_OK);
    /* Damage one leaf's value in the latest-value index: only check_latest sees it. */
    size_t pos = 0, kn, vn;
    const uint8_t *k, *v;
    uint8_t lkey[33], lval[64];
    size_t lvn = 0;
    while (kv_mem_next(m, &pos, &k, &kn, &v, &vn))
        if (k[0] == 'L' && vn > 13 && vn <= sizeof lval) {
            memcpy(lkey, k, 33);
            memcpy(lval, v, vn);
            lvn = vn;
            break;
        }
    assert_true(lvn > 0);
    lval[lvn - 1] ^= 1;
    assert_int_equal(kv_mem_put(m, lkey, 33, lval, lvn), CAIRN_OK);
    assert_int_equal(smt_scrub(&r, 2, false, &st, bad), CAIRN_OK);
    assert_int_equal(smt_scrub(&r, 2, true, &st, bad), CAIRN_ECORRUPT);
    assert_memory_equal(bad, lkey + 1, 32);
    lval[lvn - 1] ^= 1;
    assert_int_equal(kv_mem_put(m, lkey, 33, lval, lvn), CAIRN_OK);
    /* Damage a stored tree node of version 2 (any 'N' key). */
    pos = 0;
    uint8_t nkey[64], nval[256];
    size_t nkn = 0, nvn = 0;
    while (kv_mem_next(m, &pos, &k, &kn, &v, &vn))
        if (k[0] == 'N' && k[8] == 2 && kn <= sizeof nkey && vn <= sizeof nval) {
            memcpy(nkey, k, kn);
            memcpy(nval, v, vn);
            nkn = kn;
            nvn = vn;
            break;
        }
    assert_true(nkn > 0);
    nval[nvn / 2] ^= 0x40;
    assert_int_equal(kv_mem_put(m, nkey, nkn, nval, nvn), CAIRN_OK);
    assert_int_equal(smt_scrub(&r, 2, false, &st, bad), CAIRN_ECORRUPT);
    kv_mem_free(m);
}

static size_t count_prefix(const kv_mem *m, uint8_t prefix)
{
    size_t pos = 0, kn, vn, n = 0;
    const uint8_t *k, *v;
    while (kv_mem_next(m, &pos, &k, &kn, &v, &vn)) n += k[0] == prefix;
    return n;
}

static void pruning_keeps_later_versions_and_bounds_storage(void **state)
{
    (void)state;
    model_init();
    kv_mem *m = kv_mem_new();
    uint64_t seed = 31;
    uint8_t roots[11][32];
    uint64_t base = SMT_VERSION_NONE;
    for (uint64_t ver = 1; ver <= 10; ver++) {
        random_round(m, &seed, base, ver, 200, roots[ver]);
        base = ver;
    }
    kv_reader r = kv_mem_reader(m);
    kv_batch b;
    uint64_t pruned, total = 0;
    for (uint64_t v = 2; v <= 8; v++) { /* keep versions 8, 9, 10 */
        kv_batch_init(&b);
        assert_int_equal(smt_prune(&r, v, &b, &pruned), CAIRN_OK);
        total += pruned;
        assert_int_equal(kv_mem_apply(m, &b), CAIRN_OK);
        kv_batch_deinit(&b);
    }
    assert_true(total > 0);
    smt_scrub_stats st;
    uint8_t bad[32], got[32];
    for (uint64_t v = 8; v <= 10; v++) {
        assert_int_equal(smt_scrub(&r, v, v == 10, &st, bad), CAIRN_OK);
        assert_int_equal(smt_root(&r, v, got), CAIRN_OK);
        assert_memory_equal(got, roots[v], 32);
    }
    assert_int_equal(smt_root(&r, 7, got), CAIRN_ENOT_FOUND);
    buf_t pf;
    buf_init(&pf, CAIRN_PROOF_BYTES_MAX);
    bool found;
    assert_int_equal(smt_prove(&r, 7, model[0].key, 8, &pf, NULL, NULL, &found),
                     CAIRN_EBAD_HEIGHT);
    buf_reset(&pf);
    assert_int_equal(smt_prove(&r, 10, model[0].key, 8, &pf, NULL, NULL, &found), CAIRN_OK);
    assert_int_equal(verify_proof(roots[10], model[0].key, 8,
                                  model[0].present ? model[0].val : NULL,
                                  model[0].present ? model[0].val_len : 0,
                                  &pf),
                     CAIRN_PROOF_OK);
    buf_deinit(&pf);
    /* Keep only version 10: exactly its own nodes remain. */
    for (uint64_t v = 9; v <= 10; v++) {
        kv_batch_init(&b);
        assert_int_equal(smt_prune(&r, v, &b, &pruned), CAIRN_OK);
        assert_int_equal(kv_mem_apply(m, &b), CAIRN_OK);
        kv_batch_deinit(&b);
    }
    assert_int_equal(smt_scrub(&r, 10, true, &st, bad), CAIRN_OK);
    assert_int_equal(count_prefix(m, 'N'), st.leaves + st.internal);
    assert_int_equal(count_prefix(m, 'R'), 1);
    kv_batch_init(&b);
    assert_int_equal(smt_prune(&r, 10, &b, &pruned), CAIRN_ENOT_FOUND); /* done already */
    kv_batch_deinit(&b);
    kv_mem_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_root_is_hash_of_0x02),
        cmocka_unit_test(single_key_root_is_its_leaf_hash),
        cmocka_unit_test(roots_match_reference_model_over_random_rounds),
        cmocka_unit_test(roots_match_reference_model_on_a_large_tree),
        cmocka_unit_test(root_does_not_depend_on_update_order_or_batching),
        cmocka_unit_test(deleting_every_key_returns_to_the_empty_root),
        cmocka_unit_test(later_op_on_same_key_wins_within_a_batch),
        cmocka_unit_test(apply_rejects_version_not_after_base),
        cmocka_unit_test(old_versions_stay_readable),
        cmocka_unit_test(a_false_latest_entry_is_caught_and_rebuilt_from_the_tree),
        cmocka_unit_test(an_entry_newer_than_the_checked_version_is_not_called_false),
        cmocka_unit_test(leaves_are_walked_in_key_hash_order_like_the_index),
        cmocka_unit_test(nodes_written_per_update_is_about_the_tree_depth),
        cmocka_unit_test(proofs_verify_for_present_and_absent_keys),
        cmocka_unit_test(proof_of_absence_in_empty_tree_verifies),
        cmocka_unit_test(changing_any_byte_of_key_value_proof_or_root_fails),
        cmocka_unit_test(proof_against_an_old_root_proves_the_old_value),
        cmocka_unit_test(proof_decoder_rejects_noncanonical_encodings),
        cmocka_unit_test(node_decoder_rejects_internal_node_with_lone_leaf),
        cmocka_unit_test(damaged_node_is_reported_as_corrupt_not_served),
        cmocka_unit_test(scrub_walks_every_node_and_finds_damage),
        cmocka_unit_test(pruning_keeps_later_versions_and_bounds_storage),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
