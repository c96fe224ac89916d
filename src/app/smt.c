/* smt.c - the versioned sparse Merkle tree (smt.h has the layout and invariants).
 *
 * smt_apply() loads the parts of the base version that the ops touch into an
 * in-memory working tree (allocated from an arena, freed at the end), applies the
 * ops one by one keeping the tree canonical, then hashes and writes only the
 * changed ("dirty") nodes under the new version, bottom-up with an explicit
 * stack. Unchanged subtrees are referenced by (version, hash) and never loaded.
 */
#include "app/smt.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "codec/codec.h"
#include "crypto/crypto.h"

#define NODE_KEY_MAX (1 + 8 + 2 + SMT_DEPTH_MAX / 8)
#define ROOT_KEY_LEN 9
#define LATEST_KEY_LEN (1 + SMT_HASH_BYTES)

static int path_bit(const uint8_t *h, unsigned i) { return (h[i / 8] >> (7 - i % 8)) & 1; }

static void path_bit_set(uint8_t *h, unsigned i, int b)
{
    uint8_t m = (uint8_t)(0x80u >> (i % 8));
    h[i / 8] = b ? (uint8_t)(h[i / 8] | m) : (uint8_t)(h[i / 8] & ~m);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

/* 'N' | version BE | depth BE | the first `depth` bits of path, zero-padded. */
static size_t node_key(uint8_t out[static NODE_KEY_MAX], uint64_t version, unsigned depth,
                       const uint8_t *path)
{
    out[0] = 'N';
    put_be64(out + 1, version);
    out[9] = (uint8_t)(depth >> 8);
    out[10] = (uint8_t)depth;
    size_t n = (depth + 7) / 8;
    memcpy(out + 11, path, n);
    if (depth % 8) out[11 + n - 1] &= (uint8_t)(0xffu << (8 - depth % 8));
    return 11 + n;
}

static void root_key(uint8_t out[static ROOT_KEY_LEN], uint64_t version)
{
    out[0] = 'R';
    put_be64(out + 1, version);
}

static void latest_key(uint8_t out[static LATEST_KEY_LEN],
                       const uint8_t key_hash[static SMT_HASH_BYTES])
{
    out[0] = 'L';
    memcpy(out + 1, key_hash, SMT_HASH_BYTES);
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    for (unsigned i = 0; i < bits; i++)
        if (path_bit(a, i) != path_bit(b, i)) return false;
    return true;
}

/* ------------------------------------------------------------- node codec */

static void put_ref(codec_writer *w, const smt_ref *ref)
{
    codec_put_u8(w, ref->kind);
    if (ref->kind == SMT_KIND_EMPTY) return;
    codec_put_u64(w, ref->version);
    codec_put_fixed(w, ref->hash, SMT_HASH_BYTES);
}

static void get_ref(codec_reader *r, smt_ref *ref)
{
    memset(ref, 0, sizeof *ref);
    ref->kind = codec_get_u8(r);
    if (r->err) return;
    if (ref->kind == SMT_KIND_EMPTY) {
        memcpy(ref->hash, SMT_EMPTY_ROOT, SMT_HASH_BYTES);
        return;
    }
    if (ref->kind != SMT_KIND_LEAF && ref->kind != SMT_KIND_INTERNAL) {
        codec_reader_fail(r, CAIRN_EBAD_TYPE);
        return;
    }
    ref->version = codec_get_u64(r);
    codec_get_fixed(r, ref->hash, SMT_HASH_BYTES);
}

cairn_err smt_node_encode(const smt_node *nd, buf_t *out)
{
    codec_writer w;
    codec_writer_init(&w, out);
    codec_put_u8(&w, nd->kind);
    if (nd->kind == SMT_KIND_INTERNAL) {
        put_ref(&w, &nd->child[0]);
        put_ref(&w, &nd->child[1]);
    } else if (nd->kind == SMT_KIND_LEAF) {
        codec_put_fixed(&w, nd->key_hash, SMT_HASH_BYTES);
        codec_put_bytes(&w, nd->val, nd->val_len);
    } else {
        return CAIRN_EINVALID_ARG;
    }
    return w.err;
}

cairn_err smt_node_decode(smt_node *nd, const uint8_t *b, size_t n)
{
    codec_reader r;
    codec_reader_init(&r, b, n);
    memset(nd, 0, sizeof *nd);
    nd->kind = codec_get_u8(&r);
    if (r.err) return r.err;
    if (nd->kind == SMT_KIND_INTERNAL) {
        get_ref(&r, &nd->child[0]);
        get_ref(&r, &nd->child[1]);
        if (r.err) return r.err;
        uint8_t k0 = nd->child[0].kind, k1 = nd->child[1].kind;
        /* Invariant 1: an internal node has at least two leaves below it. */
        if ((k0 == SMT_KIND_EMPTY && k1 != SMT_KIND_INTERNAL) ||
            (k1 == SMT_KIND_EMPTY && k0 != SMT_KIND_INTERNAL))
            return CAIRN_ENONCANONICAL;
    } else if (nd->kind == SMT_KIND_LEAF) {
        codec_get_fixed(&r, nd->key_hash, SMT_HASH_BYTES);
        codec_get_bytes(&r, &nd->val, &nd->val_len, SMT_VALUE_MAX);
    } else {
        return CAIRN_EBAD_TYPE;
    }
    return codec_reader_finish(&r);
}

void smt_node_hash(const smt_node *nd, uint8_t out[static SMT_HASH_BYTES])
{
    if (nd->kind == SMT_KIND_LEAF) {
        uint8_t vh[SMT_HASH_BYTES];
        hash_sha256(vh, nd->val, nd->val_len);
        smt_leaf_hash(out, nd->key_hash, vh);
    } else {
        smt_internal_hash(out, nd->child[0].hash, nd->child[1].hash);
    }
}

/* Root reference: u8 kind | (not empty) u64 version | hash[32]. */
static cairn_err root_ref_read(const kv_reader *r, uint64_t version, smt_ref *ref)
{
    uint8_t key[ROOT_KEY_LEN];
    root_key(key, version);
    uint8_t *v = NULL;
    size_t vn = 0;
    cairn_err rc = kv_get(r, key, sizeof key, &v, &vn);
    if (rc) return rc;
    codec_reader cr;
    codec_reader_init(&cr, v, vn);
    get_ref(&cr, ref);
    rc = codec_reader_finish(&cr) ? CAIRN_ECORRUPT : CAIRN_OK;
    free(v);
    return rc;
}

static cairn_err root_ref_write(kv_batch *out, uint64_t version, const smt_ref *ref)
{
    uint8_t key[ROOT_KEY_LEN], val[1 + 8 + SMT_HASH_BYTES];
    buf_t b = {.data = val, .len = 0, .cap = sizeof val, .cap_max = sizeof val};
    codec_writer w;
    codec_writer_init(&w, &b);
    put_ref(&w, ref);
    if (w.err) return w.err;
    root_key(key, version);
    return kv_batch_put(out, key, sizeof key, b.data, b.len);
}

cairn_err smt_root(const kv_reader *r, uint64_t version, uint8_t root[static SMT_HASH_BYTES])
{
    smt_ref ref;
    CAIRN_TRY(root_ref_read(r, version, &ref));
    memcpy(root, ref.hash, SMT_HASH_BYTES);
    return CAIRN_OK;
}

/* Reads and checks the node `ref` at (depth, path): present, well-formed, hashing
 * to ref->hash, of ref's kind, and a leaf lies on its own path (invariant 3).
 * On CAIRN_OK *raw holds the bytes nd borrows from (caller frees). */
static cairn_err node_read(const kv_reader *r, const smt_ref *ref, unsigned depth,
                           const uint8_t *path, smt_node *nd, uint8_t **raw)
{
    uint8_t key[NODE_KEY_MAX];
    size_t kn = node_key(key, ref->version, depth, path);
    size_t vn = 0;
    *raw = NULL;
    cairn_err rc = kv_get(r, key, kn, raw, &vn);
    if (rc == CAIRN_ENOT_FOUND) return CAIRN_ECORRUPT; /* a referenced node is gone */
    if (rc) return rc;
    uint8_t h[SMT_HASH_BYTES];
    if (smt_node_decode(nd, *raw, vn) != CAIRN_OK || nd->kind != ref->kind) goto corrupt;
    smt_node_hash(nd, h);
    if (memcmp(h, ref->hash, SMT_HASH_BYTES) != 0) goto corrupt;
    if (nd->kind == SMT_KIND_LEAF && !prefix_equal(nd->key_hash, path, depth)) goto corrupt;
    if (nd->kind == SMT_KIND_INTERNAL && depth >= SMT_DEPTH_MAX) goto corrupt;
    return CAIRN_OK;
corrupt:
    free(*raw);
    *raw = NULL;
    return CAIRN_ECORRUPT;
}

/* ------------------------------------------------------------- arena */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) uint8_t data[];
} chunk;

typedef struct {
    chunk *head;
} arena;

static void *arena_alloc(arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > (1u << 16) ? n : (1u << 16);
        chunk *c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

static void arena_free(arena *a)
{
    while (a->head) {
        chunk *c = a->head;
        a->head = c->next;
        free(c);
    }
}

/* ------------------------------------------------------------- working tree */

typedef struct wnode {
    uint8_t kind;
    bool loaded; /* contents present (children, or leaf key and value) */
    bool dirty;  /* changed in this apply: hash stale, to be written */
    uint64_t version;
    uint8_t hash[SMT_HASH_BYTES];
    struct wnode *child[2];
    uint8_t key_hash[SMT_HASH_BYTES];
    uint8_t val_hash[SMT_HASH_BYTES];
    const uint8_t *val;
    uint32_t val_len;
    /* Nodes loaded from the store remember where they came from, so the ones
     * this version replaces can be listed as stale (for pruning). */
    uint8_t orig_kind;
    bool gone;          /* a stored leaf lifted into its parent's place */
    uint8_t *orig_key;  /* node key in the store (arena), NULL if never stored */
    uint8_t orig_key_len;
    struct wnode *next_loaded;
} wnode;

typedef struct {
    const kv_reader *r;
    arena a;
    wnode *root;
    wnode *loaded; /* every node loaded from the store, linked by next_loaded */
    smt_stats st;
} work;

static wnode *wnode_new(work *w, uint8_t kind)
{
    wnode *n = arena_alloc(&w->a, sizeof *n);
    if (!n) return NULL;
    memset(n, 0, sizeof *n);
    n->kind = kind;
    if (kind == SMT_KIND_EMPTY) {
        n->loaded = true;
        memcpy(n->hash, SMT_EMPTY_ROOT, SMT_HASH_BYTES);
    }
    return n;
}

static wnode *wnode_from_ref(work *w, const smt_ref *ref)
{
    wnode *n = wnode_new(w, ref->kind);
    if (!n) return NULL;
    n->version = ref->version;
    memcpy(n->hash, ref->hash, SMT_HASH_BYTES);
    return n;
}

static void leaf_copy(wnode *dst, const wnode *src)
{
    dst->kind = SMT_KIND_LEAF;
    dst->loaded = true;
    memcpy(dst->key_hash, src->key_hash, SMT_HASH_BYTES);
    memcpy(dst->val_hash, src->val_hash, SMT_HASH_BYTES);
    dst->val = src->val;
    dst->val_len = src->val_len;
    dst->child[0] = dst->child[1] = NULL;
}

/* Loads n's contents from the store if it is a stored node not yet loaded. */
static cairn_err wnode_load(work *w, wnode *n, unsigned depth, const uint8_t *path)
{
    if (n->loaded) return CAIRN_OK;
    smt_ref ref = {.kind = n->kind, .version = n->version};
    memcpy(ref.hash, n->hash, SMT_HASH_BYTES);
    smt_node nd;
    uint8_t *raw;
    CAIRN_TRY(node_read(w->r, &ref, depth, path, &nd, &raw));
    w->st.nodes_read++;
    cairn_err rc = CAIRN_ENOMEM;
    uint8_t key[NODE_KEY_MAX];
    size_t kn = node_key(key, n->version, depth, path);
    if (!(n->orig_key = arena_alloc(&w->a, kn))) goto out;
    memcpy(n->orig_key, key, kn);
    n->orig_key_len = (uint8_t)kn;
    n->orig_kind = n->kind;
    n->next_loaded = w->loaded;
    w->loaded = n;
    if (nd.kind == SMT_KIND_LEAF) {
        uint8_t *v = arena_alloc(&w->a, nd.val_len ? nd.val_len : 1);
        if (!v) goto out;
        memcpy(v, nd.val, nd.val_len);
        memcpy(n->key_hash, nd.key_hash, SMT_HASH_BYTES);
        hash_sha256(n->val_hash, v, nd.val_len);
        n->val = v;
        n->val_len = nd.val_len;
    } else {
        for (int i = 0; i < 2; i++)
            if (!(n->child[i] = wnode_from_ref(w, &nd.child[i]))) goto out;
    }
    n->loaded = true;
    rc = CAIRN_OK;
out:
    free(raw);
    return rc;
}

static void leaf_set(wnode *n, const uint8_t kh[static SMT_HASH_BYTES],
                     const uint8_t vh[static SMT_HASH_BYTES], const uint8_t *val,
                     uint32_t val_len)
{
    n->kind = SMT_KIND_LEAF;
    n->loaded = true;
    n->dirty = true;
    memcpy(n->key_hash, kh, SMT_HASH_BYTES);
    memcpy(n->val_hash, vh, SMT_HASH_BYTES);
    n->val = val;
    n->val_len = val_len;
    n->child[0] = n->child[1] = NULL;
}

/* n is a loaded leaf of another key at depth d on kh's path: push both leaves
 * down to the first bit where their paths differ. */
static cairn_err split(work *w, wnode *n, unsigned d, const uint8_t *kh, const uint8_t *vh,
                       const uint8_t *val, uint32_t val_len)
{
    wnode *old = wnode_new(w, SMT_KIND_LEAF);
    wnode *nw = wnode_new(w, SMT_KIND_LEAF);
    if (!old || !nw) return CAIRN_ENOMEM;
    leaf_copy(old, n);
    old->dirty = true; /* it moves, so it is written again at its new position */
    leaf_set(nw, kh, vh, val, val_len);
    wnode *cur = n;
    /* Bounded: the key hashes differ, so some d < 256 separates them. */
    while (path_bit(old->key_hash, d) == path_bit(kh, d)) {
        int b = path_bit(kh, d);
        wnode *down = wnode_new(w, SMT_KIND_INTERNAL);
        wnode *empty = wnode_new(w, SMT_KIND_EMPTY);
        if (!down || !empty) return CAIRN_ENOMEM;
        cur->kind = SMT_KIND_INTERNAL;
        cur->loaded = cur->dirty = true;
        cur->child[b] = down;
        cur->child[!b] = empty;
        cur = down;
        d++;
        CAIRN_ASSERT(d < SMT_DEPTH_MAX);
    }
    cur->kind = SMT_KIND_INTERNAL;
    cur->loaded = cur->dirty = true;
    cur->child[path_bit(kh, d)] = nw;
    cur->child[path_bit(old->key_hash, d)] = old;
    return CAIRN_OK;
}

/* After the leaf below stk[depth-1] became empty, lift a lone leaf sibling and
 * fold away internal nodes left with fewer than two leaves (invariant 1). */
static cairn_err collapse(work *w, wnode **stk, unsigned depth, const uint8_t *kh)
{
    uint8_t path[SMT_HASH_BYTES];
    for (unsigned i = depth; i-- > 0;) {
        wnode *p = stk[i];
        wnode *c0 = p->child[0], *c1 = p->child[1];
        if (c0->kind == SMT_KIND_EMPTY && c1->kind == SMT_KIND_EMPTY) {
            p->kind = SMT_KIND_EMPTY;
            p->child[0] = p->child[1] = NULL;
            memcpy(p->hash, SMT_EMPTY_ROOT, SMT_HASH_BYTES);
            continue;
        }
        int lone = c0->kind == SMT_KIND_EMPTY ? 1 : c1->kind == SMT_KIND_EMPTY ? 0 : -1;
        if (lone < 0 || p->child[lone]->kind != SMT_KIND_LEAF) return CAIRN_OK;
        /* The sibling sits at depth i+1 on the path kh with bit i flipped. */
        memcpy(path, kh, SMT_HASH_BYTES);
        path_bit_set(path, i, lone);
        wnode *leaf = p->child[lone];
        CAIRN_TRY(wnode_load(w, leaf, i + 1, path));
        leaf_copy(p, leaf);
        p->dirty = true;
        leaf->gone = true; /* it lives on at p's position */
    }
    return CAIRN_OK;
}

/* Applies one op; *changed tells whether the tree changed. */
static cairn_err apply_one(work *w, const uint8_t *kh, const uint8_t *val, uint32_t val_len,
                           bool *changed)
{
    wnode *stk[SMT_DEPTH_MAX + 1];
    unsigned d = 0;
    wnode *n = w->root;
    *changed = false;
    for (;;) {
        CAIRN_TRY(wnode_load(w, n, d, kh));
        if (n->kind != SMT_KIND_INTERNAL) break;
        if (d >= SMT_DEPTH_MAX) return CAIRN_ECORRUPT;
        stk[d] = n;
        n = n->child[path_bit(kh, d)];
        d++;
    }
    bool same_key = n->kind == SMT_KIND_LEAF && memcmp(n->key_hash, kh, SMT_HASH_BYTES) == 0;
    if (val) {
        uint8_t vh[SMT_HASH_BYTES];
        hash_sha256(vh, val, val_len);
        if (same_key && memcmp(n->val_hash, vh, SMT_HASH_BYTES) == 0) return CAIRN_OK;
        if (n->kind == SMT_KIND_LEAF && !same_key)
            CAIRN_TRY(split(w, n, d, kh, vh, val, val_len));
        else
            leaf_set(n, kh, vh, val, val_len);
    } else {
        if (!same_key) return CAIRN_OK; /* deleting an absent key */
        n->kind = SMT_KIND_EMPTY;
        n->dirty = false;
        memcpy(n->hash, SMT_EMPTY_ROOT, SMT_HASH_BYTES);
        CAIRN_TRY(collapse(w, stk, d, kh));
    }
    for (unsigned i = 0; i < d; i++)
        if (stk[i]->kind != SMT_KIND_EMPTY) stk[i]->dirty = true;
    *changed = true;
    return CAIRN_OK;
}

/* Hashes and writes every dirty node, children before parents. */
static cairn_err write_dirty(work *w, uint64_t version, kv_batch *out)
{
    struct frame {
        wnode *n;
        uint16_t depth;
        uint8_t state;
    } stk[SMT_DEPTH_MAX + 1];
    uint8_t path[SMT_HASH_BYTES] = {0};
    uint8_t key[NODE_KEY_MAX];
    buf_t enc;
    buf_init(&enc, SMT_VALUE_MAX + 128);
    cairn_err rc = CAIRN_OK;
    int sp = 0;
    if (w->root->dirty && w->root->kind != SMT_KIND_EMPTY)
        stk[sp++] = (struct frame){w->root, 0, 0};
    while (sp > 0) {
        struct frame *f = &stk[sp - 1];
        wnode *n = f->n;
        if (n->kind == SMT_KIND_INTERNAL && f->state < 2) {
            int b = f->state++;
            wnode *c = n->child[b];
            if (c->dirty && c->kind != SMT_KIND_EMPTY) {
                CAIRN_ASSERT(sp < SMT_DEPTH_MAX + 1);
                path_bit_set(path, f->depth, b);
                stk[sp++] = (struct frame){c, (uint16_t)(f->depth + 1), 0};
            }
            continue;
        }
        smt_node nd = {.kind = n->kind};
        if (n->kind == SMT_KIND_LEAF) {
            memcpy(nd.key_hash, n->key_hash, SMT_HASH_BYTES);
            nd.val = n->val;
            nd.val_len = n->val_len;
            smt_leaf_hash(n->hash, n->key_hash, n->val_hash);
        } else {
            for (int i = 0; i < 2; i++) {
                wnode *c = n->child[i];
                nd.child[i].kind = c->kind;
                nd.child[i].version = c->kind == SMT_KIND_EMPTY ? 0 : c->version;
                memcpy(nd.child[i].hash, c->hash, SMT_HASH_BYTES);
            }
            smt_internal_hash(n->hash, n->child[0]->hash, n->child[1]->hash);
        }
        n->version = version;
        n->dirty = false;
        buf_reset(&enc);
        if ((rc = smt_node_encode(&nd, &enc))) goto out;
        size_t kn = node_key(key, version, f->depth,
                             n->kind == SMT_KIND_LEAF ? n->key_hash : path);
        if ((rc = kv_batch_put(out, key, kn, enc.data, enc.len))) goto out;
        w->st.nodes_written++;
        sp--;
    }
out:
    buf_deinit(&enc);
    return rc;
}

/* 'S' | version[8 BE] | chunk[4 BE] -> u32 count | count x bytes(node key): the
 * stored nodes that the tree of `version` no longer references, in chunks of at
 * most STALE_CHUNK keys (chunk 0 always exists) so no value grows large. Only
 * versions before `version` need those nodes; smt_prune() deletes them. */
#define STALE_KEY_LEN 13
#define STALE_CHUNK 16384u
#define STALE_CHUNKS_MAX (1u << 20)

static void stale_key(uint8_t out[static STALE_KEY_LEN], uint64_t version, uint32_t part)
{
    out[0] = 'S';
    put_be64(out + 1, version);
    for (int i = 0; i < 4; i++) out[9 + i] = (uint8_t)(part >> (24 - 8 * i));
}

static bool is_stale(const wnode *n) { return n->dirty || n->gone || n->kind != n->orig_kind; }

static cairn_err stale_write(work *w, uint64_t version, kv_batch *out)
{
    buf_t b;
    buf_init(&b, (size_t)STALE_CHUNK * (4 + NODE_KEY_MAX) + 4);
    cairn_err rc = CAIRN_OK;
    const wnode *n = w->loaded;
    uint32_t part = 0;
    do {
        uint32_t count = 0;
        const wnode *m = n;
        for (; m && count < STALE_CHUNK; m = m->next_loaded) count += is_stale(m);
        buf_reset(&b);
        codec_writer cw;
        codec_writer_init(&cw, &b);
        codec_put_u32(&cw, count);
        for (uint32_t k = 0; k < count; n = n->next_loaded) {
            if (!is_stale(n)) continue;
            codec_put_bytes(&cw, n->orig_key, n->orig_key_len);
            k++;
        }
        w->st.nodes_stale += count;
        uint8_t key[STALE_KEY_LEN];
        stale_key(key, version, part++);
        rc = cw.err ? cw.err : kv_batch_put(out, key, sizeof key, b.data, b.len);
        /* skip non-stale nodes so the loop ends when none remain */
        while (n && !is_stale(n)) n = n->next_loaded;
    } while (!rc && n);
    buf_deinit(&b);
    return rc;
}

/* Deletes the nodes listed in one stale chunk, and the chunk. */
static cairn_err prune_chunk(const uint8_t *raw, size_t n, const uint8_t key[STALE_KEY_LEN],
                             kv_batch *out, uint64_t *pruned)
{
    codec_reader cr;
    codec_reader_init(&cr, raw, n);
    uint32_t count = codec_get_u32(&cr);
    if (count > STALE_CHUNK) return CAIRN_ECORRUPT;
    for (uint32_t i = 0; i < count && !cr.err; i++) {
        const uint8_t *nk;
        uint32_t nkn;
        codec_get_bytes(&cr, &nk, &nkn, NODE_KEY_MAX);
        if (cr.err) break;
        if (nkn < 11 || nk[0] != 'N') return CAIRN_ECORRUPT;
        CAIRN_TRY(kv_batch_del(out, nk, nkn));
        (*pruned)++;
    }
    if (codec_reader_finish(&cr) != CAIRN_OK) return CAIRN_ECORRUPT;
    return kv_batch_del(out, key, STALE_KEY_LEN);
}

cairn_err smt_prune(const kv_reader *r, uint64_t version, kv_batch *out, uint64_t *pruned)
{
    *pruned = 0;
    if (version == 0 || version == SMT_VERSION_NONE) return CAIRN_EINVALID_ARG;
    cairn_err rc = CAIRN_OK;
    uint32_t part = 0;
    for (; part < STALE_CHUNKS_MAX; part++) {
        uint8_t key[STALE_KEY_LEN];
        stale_key(key, version, part);
        uint8_t *raw = NULL;
        size_t n = 0;
        rc = kv_get(r, key, sizeof key, &raw, &n);
        if (rc == CAIRN_ENOT_FOUND && part > 0) {
            rc = CAIRN_OK; /* past the last chunk */
            break;
        }
        if (rc) return rc; /* chunk 0 missing: NOT_FOUND */
        rc = prune_chunk(raw, n, key, out, pruned);
        free(raw);
        if (rc) return rc;
    }
    if (part == STALE_CHUNKS_MAX) return CAIRN_ECORRUPT;
    uint8_t rk[ROOT_KEY_LEN];
    root_key(rk, version - 1);
    return kv_batch_del(out, rk, sizeof rk);
}

static cairn_err latest_write(kv_batch *out, uint64_t version, const uint8_t *kh,
                              const uint8_t *val, size_t val_len)
{
    uint8_t key[LATEST_KEY_LEN];
    latest_key(key, kh);
    buf_t b;
    buf_init(&b, SMT_VALUE_MAX + 16);
    codec_writer w;
    codec_writer_init(&w, &b);
    codec_put_u64(&w, version);
    codec_put_bool(&w, val != NULL);
    if (val) codec_put_bytes(&w, val, val_len);
    cairn_err rc = w.err ? w.err : kv_batch_put(out, key, sizeof key, b.data, b.len);
    buf_deinit(&b);
    return rc;
}

cairn_err smt_apply(const kv_reader *r, uint64_t base_version, uint64_t new_version,
                    const smt_op *ops, size_t n, kv_batch *out,
                    uint8_t root[static SMT_HASH_BYTES], smt_stats *stats)
{
    if (new_version == SMT_VERSION_NONE ||
        (base_version != SMT_VERSION_NONE && new_version <= base_version))
        return CAIRN_EINVALID_ARG;
    work w = {.r = r};
    cairn_err rc = CAIRN_ENOMEM;
    smt_ref base = {.kind = SMT_KIND_EMPTY};
    memcpy(base.hash, SMT_EMPTY_ROOT, SMT_HASH_BYTES);
    if (base_version != SMT_VERSION_NONE) {
        rc = root_ref_read(r, base_version, &base);
        if (rc) goto out;
    }
    if (!(w.root = wnode_from_ref(&w, &base))) goto out;
    for (size_t i = 0; i < n; i++) {
        const smt_op *op = &ops[i];
        if (op->key_len > SMT_KEY_MAX || (op->val && op->val_len > SMT_VALUE_MAX)) {
            rc = CAIRN_ETOO_LARGE;
            goto out;
        }
        uint8_t kh[SMT_HASH_BYTES];
        hash_sha256(kh, op->key, op->key_len);
        bool changed;
        rc = apply_one(&w, kh, op->val, (uint32_t)op->val_len, &changed);
        if (rc) goto out;
        if (!changed) continue;
        w.st.ops_changed++;
        rc = latest_write(out, new_version, kh, op->val, op->val_len);
        if (rc) goto out;
    }
    /* Before write_dirty, which clears the dirty marks stale_write reads. */
    if ((rc = stale_write(&w, new_version, out))) goto out;
    if ((rc = write_dirty(&w, new_version, out))) goto out;
    smt_ref ref = {.kind = w.root->kind, .version = w.root->version};
    memcpy(ref.hash, w.root->hash, SMT_HASH_BYTES);
    if ((rc = root_ref_write(out, new_version, &ref))) goto out;
    memcpy(root, ref.hash, SMT_HASH_BYTES);
    if (stats) {
        stats->nodes_written += w.st.nodes_written;
        stats->nodes_read += w.st.nodes_read;
        stats->ops_changed += w.st.ops_changed;
        stats->nodes_stale += w.st.nodes_stale;
    }
out:
    arena_free(&w.a);
    return rc;
}

/* ------------------------------------------------------------- reads */

/* Walks version's tree along kh. Fills p (if not NULL) and, if the path ends in
 * kh's own leaf, *val (malloc'd) and *found. */
static cairn_err walk(const kv_reader *r, uint64_t version, const uint8_t *kh, smt_proof *p,
                      uint8_t **val, size_t *val_len, bool *found)
{
    smt_ref cur;
    *found = false;
    if (val) *val = NULL;
    cairn_err rrc = root_ref_read(r, version, &cur);
    if (rrc == CAIRN_ENOT_FOUND) return CAIRN_EBAD_HEIGHT; /* never written, or pruned */
    if (rrc) return rrc;
    if (p) memset(p, 0, offsetof(smt_proof, siblings));
    unsigned d = 0;
    for (;;) { /* bounded: node_read rejects internal nodes at depth 256 */
        if (cur.kind == SMT_KIND_EMPTY) {
            if (p) p->kind = SMT_PROOF_EMPTY;
            break;
        }
        smt_node nd;
        uint8_t *raw;
        CAIRN_TRY(node_read(r, &cur, d, kh, &nd, &raw));
        if (nd.kind == SMT_KIND_LEAF) {
            cairn_err rc = CAIRN_OK;
            if (p) {
                p->kind = SMT_PROOF_LEAF;
                memcpy(p->leaf_key_hash, nd.key_hash, SMT_HASH_BYTES);
                hash_sha256(p->leaf_val_hash, nd.val, nd.val_len);
            }
            if (memcmp(nd.key_hash, kh, SMT_HASH_BYTES) == 0) {
                *found = true;
                if (val) {
                    *val = malloc(nd.val_len ? nd.val_len : 1);
                    if (*val) {
                        memcpy(*val, nd.val, nd.val_len);
                        *val_len = nd.val_len;
                    } else {
                        rc = CAIRN_ENOMEM;
                    }
                }
            }
            free(raw);
            return rc;
        }
        int b = path_bit(kh, d);
        if (p) {
            const smt_ref *sib = &nd.child[!b];
            if (sib->kind != SMT_KIND_EMPTY) {
                path_bit_set(p->bitmap, d, 1);
                memcpy(p->siblings[p->n_siblings++], sib->hash, SMT_HASH_BYTES);
            }
            p->depth = (uint16_t)(d + 1);
        }
        cur = nd.child[b];
        free(raw);
        d++;
    }
    return CAIRN_OK;
}

/* An 'L' entry: u64 version | bool present | bytes value (if present); v
 * borrows from raw. CAIRN_ECORRUPT if it does not decode. */
static cairn_err latest_decode(const uint8_t *raw, size_t n, uint64_t *ver, bool *present,
                               const uint8_t **v, uint32_t *vn)
{
    codec_reader cr;
    codec_reader_init(&cr, raw, n);
    *ver = codec_get_u64(&cr);
    *present = codec_get_bool(&cr);
    *v = NULL;
    *vn = 0;
    if (*present) codec_get_bytes(&cr, v, vn, SMT_VALUE_MAX);
    return codec_reader_finish(&cr) == CAIRN_OK ? CAIRN_OK : CAIRN_ECORRUPT;
}

cairn_err smt_get(const kv_reader *r, uint64_t version, const uint8_t *key, size_t key_len,
                  uint8_t **val, size_t *val_len)
{
    uint8_t kh[SMT_HASH_BYTES], lk[LATEST_KEY_LEN];
    hash_sha256(kh, key, key_len);
    latest_key(lk, kh);
    uint8_t *raw = NULL;
    size_t n = 0;
    cairn_err rc = kv_get(r, lk, sizeof lk, &raw, &n);
    if (rc) return rc;
    uint64_t ver;
    bool present;
    const uint8_t *v;
    uint32_t vn;
    if (latest_decode(raw, n, &ver, &present, &v, &vn) != CAIRN_OK) {
        rc = CAIRN_ECORRUPT;
    } else if (ver <= version) {
        rc = CAIRN_ENOT_FOUND;
        if (present) {
            *val = malloc(vn ? vn : 1);
            rc = *val ? CAIRN_OK : CAIRN_ENOMEM;
            if (*val) {
                memcpy(*val, v, vn);
                *val_len = vn;
            }
        }
    } else {
        bool found; /* changed since `version`: read that version's tree */
        rc = walk(r, version, kh, NULL, val, val_len, &found);
        if (!rc && !found) rc = CAIRN_ENOT_FOUND;
    }
    free(raw);
    return rc;
}

cairn_err smt_prove(const kv_reader *r, uint64_t version, const uint8_t *key, size_t key_len,
                    buf_t *proof, uint8_t **val, size_t *val_len, bool *found)
{
    uint8_t kh[SMT_HASH_BYTES];
    hash_sha256(kh, key, key_len);
    smt_proof *p = malloc(sizeof *p);
    if (!p) return CAIRN_ENOMEM;
    cairn_err rc = walk(r, version, kh, p, val, val_len, found);
    if (!rc) rc = smt_proof_encode(p, proof);
    if (rc && val) {
        free(*val);
        *val = NULL;
    }
    free(p);
    return rc;
}

/* ------------------------------------------------------------- scrub */

cairn_err smt_latest_agrees(const uint8_t *raw, size_t n, uint64_t version, bool found,
                            const uint8_t *val, uint32_t val_len)
{
    uint64_t ver;
    bool present;
    const uint8_t *v;
    uint32_t vn;
    if (latest_decode(raw, n, &ver, &present, &v, &vn) != CAIRN_OK) return CAIRN_ECORRUPT;
    if (ver > version) return CAIRN_OK;
    if (present != found) return CAIRN_ECORRUPT;
    if (present && (vn != val_len || (vn && memcmp(v, val, vn) != 0))) return CAIRN_ECORRUPT;
    return CAIRN_OK;
}

/* Does the 'L' entry of kh hold exactly val (or was it written after version)? */
static cairn_err latest_matches(const kv_reader *r, uint64_t version, const uint8_t *kh,
                                const uint8_t *val, uint32_t val_len)
{
    uint8_t lk[LATEST_KEY_LEN];
    latest_key(lk, kh);
    uint8_t *raw = NULL;
    size_t n = 0;
    cairn_err rc = kv_get(r, lk, sizeof lk, &raw, &n);
    if (rc == CAIRN_ENOT_FOUND) return CAIRN_ECORRUPT;
    if (rc) return rc;
    rc = smt_latest_agrees(raw, n, version, true, val, val_len);
    free(raw);
    return rc;
}

cairn_err smt_latest_check(const kv_reader *r, uint64_t version,
                           const uint8_t kh[static SMT_HASH_BYTES], const uint8_t *lval,
                           size_t lval_len)
{
    uint8_t *val = NULL;
    size_t val_len = 0;
    bool found;
    cairn_err rc = walk(r, version, kh, NULL, &val, &val_len, &found);
    if (rc == CAIRN_OK)
        rc = smt_latest_agrees(lval, lval_len, version, found, val, (uint32_t)val_len);
    free(val);
    return rc;
}

cairn_err smt_latest_rebuild(const kv_reader *r, uint64_t version,
                             const uint8_t kh[static SMT_HASH_BYTES], kv_batch *out)
{
    uint8_t *val = NULL;
    size_t val_len = 0;
    bool found;
    cairn_err rc = walk(r, version, kh, NULL, &val, &val_len, &found);
    /* `version` as the change height: older reads then walk their own tree */
    if (rc == CAIRN_OK) rc = latest_write(out, version, kh, found ? val : NULL, val_len);
    free(val);
    return rc;
}

typedef struct {
    const kv_reader *r;
    uint64_t version;
} latest_ctx;

static cairn_err leaf_latest_matches(void *ctx, const uint8_t key_hash[SMT_HASH_BYTES],
                                     const uint8_t *val, uint32_t val_len)
{
    latest_ctx *c = ctx;
    return latest_matches(c->r, c->version, key_hash, val, val_len);
}

cairn_err smt_scrub(const kv_reader *r, uint64_t version, bool check_latest,
                    smt_scrub_stats *stats, uint8_t bad_path[static SMT_HASH_BYTES])
{
    latest_ctx c = {r, version};
    return smt_scrub_each(r, version, stats, bad_path, check_latest ? leaf_latest_matches : NULL,
                          &c);
}

cairn_err smt_scrub_each(const kv_reader *r, uint64_t version, smt_scrub_stats *stats,
                         uint8_t bad_path[static SMT_HASH_BYTES], smt_leaf_cb leaf, void *ctx)
{
    struct frame {
        smt_ref ref;
        uint16_t depth;
        uint8_t side; /* which child of its parent */
    } *stk = malloc((SMT_DEPTH_MAX + 2) * sizeof *stk);
    if (!stk) return CAIRN_ENOMEM;
    uint8_t path[SMT_HASH_BYTES] = {0};
    memset(stats, 0, sizeof *stats);
    memset(bad_path, 0, SMT_HASH_BYTES);
    int sp = 0;
    cairn_err rc = root_ref_read(r, version, &stk[0].ref);
    if (rc) goto out;
    stk[0].depth = 0;
    stk[0].side = 0;
    if (stk[0].ref.kind != SMT_KIND_EMPTY) sp = 1;
    /* Depth-first, right child pushed first. The stack holds at most one
     * pending sibling per level plus the current node: <= 257 + 1 frames. */
    while (sp > 0) {
        struct frame f = stk[--sp];
        /* Bits [0, depth-1) of path still hold the parent's route: nodes
         * visited since the parent were deeper and set only later bits. */
        if (f.depth > 0) path_bit_set(path, f.depth - 1u, f.side);
        smt_node nd;
        uint8_t *raw;
        rc = node_read(r, &f.ref, f.depth, path, &nd, &raw);
        if (rc) {
            memcpy(bad_path, path, SMT_HASH_BYTES);
            goto out;
        }
        if (nd.kind == SMT_KIND_LEAF) {
            stats->leaves++;
            stats->value_bytes += nd.val_len;
            if (leaf) rc = leaf(ctx, nd.key_hash, nd.val, nd.val_len);
            if (rc) memcpy(bad_path, nd.key_hash, SMT_HASH_BYTES);
        } else {
            stats->internal++;
            for (int b = 1; b >= 0; b--) {
                if (nd.child[b].kind == SMT_KIND_EMPTY) continue;
                CAIRN_ASSERT(sp < SMT_DEPTH_MAX + 2);
                stk[sp++] = (struct frame){nd.child[b], (uint16_t)(f.depth + 1), (uint8_t)b};
            }
        }
        free(raw);
        if (rc) goto out;
    }
out:
    free(stk);
    return rc;
}
