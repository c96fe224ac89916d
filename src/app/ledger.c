/* ledger.c - the built-in application: accounts with balances and nonces,
 * transfers, and records in each sender's own namespace (docs/app.md).
 *
 * Committed state lives in the sparse Merkle tree (smt.h) behind the kv_reader;
 * the block in progress and the mempool's check state are overlays (kv_mem maps
 * from state key to 0x01 | value, or 0x00 for deleted) over the committed state.
 * commit() turns the block overlay into one smt_apply() for version = height.
 * Fees are burnt: they leave the sender's balance and go to no one.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/kv_mem.h"
#include "app/smt.h"
#include "base/log.h"
#include "codec/codec.h"

#define META_KEY "Ameta"
#define META_BYTES (1 + 8 + HASH_BYTES)
#define ACCOUNT_VERSION 1
#define RECORD_VERSION 1

typedef struct {
    app_t base; /* first: app_t * <-> ledger * */
    chain_id_t cid;
    kv_reader reader;
    bool initialized;
    uint64_t height;
    uint8_t app_hash[HASH_BYTES];
    bool in_block;
    uint64_t block_height;
    kv_mem *block; /* writes of the block in progress */
    kv_mem *check; /* check state: writes of txs checked since the last commit */
} ledger;

/* ------------------------------------------------------------ codes, values */

const char *app_code_str(uint32_t code)
{
    switch (code) {
#define XX(name, num, msg)                                                         \
    case num:                                                                      \
        return msg;
        APP_CODE_MAP(XX)
#undef XX
    default:
        return "unknown result code";
    }
}

cairn_err app_result_encode(const app_result_t *res, buf_t *out)
{
    codec_writer w;
    codec_writer_init(&w, out);
    codec_put_u8(&w, 1);
    codec_put_u32(&w, res->code);
    return w.err;
}

void app_query_result_free(app_query_result_t *q)
{
    free(q->key);
    free(q->value);
    free(q->proof);
    q->key = q->value = q->proof = NULL;
    q->key_len = q->value_len = q->proof_len = 0;
}

void ledger_account_encode(const ledger_account_t *a, uint8_t out[static LEDGER_ACCOUNT_BYTES])
{
    out[0] = ACCOUNT_VERSION;
    for (int i = 0; i < 8; i++) {
        out[1 + i] = (uint8_t)(a->balance >> (8 * i));
        out[9 + i] = (uint8_t)(a->nonce >> (8 * i));
    }
}

cairn_err ledger_account_decode(ledger_account_t *a, const uint8_t *p, size_t n)
{
    codec_reader r;
    codec_reader_init(&r, p, n);
    uint8_t v = codec_get_u8(&r);
    if (!r.err && v != ACCOUNT_VERSION) return CAIRN_EBAD_VERSION;
    a->balance = codec_get_u64(&r);
    a->nonce = codec_get_u64(&r);
    return codec_reader_finish(&r);
}

cairn_err ledger_record_encode(const uint8_t *val, size_t n, buf_t *out)
{
    if (n > TX_VALUE_MAX) return CAIRN_ETOO_LARGE;
    codec_writer w;
    codec_writer_init(&w, out);
    codec_put_u8(&w, RECORD_VERSION);
    codec_put_bytes(&w, val, n);
    return w.err;
}

cairn_err ledger_record_decode(const uint8_t *p, size_t n, const uint8_t **val,
                               uint32_t *val_len)
{
    codec_reader r;
    codec_reader_init(&r, p, n);
    uint8_t v = codec_get_u8(&r);
    if (!r.err && v != RECORD_VERSION) return CAIRN_EBAD_VERSION;
    codec_get_bytes(&r, val, val_len, TX_VALUE_MAX);
    return codec_reader_finish(&r);
}

size_t ledger_account_key(uint8_t *out, const uint8_t addr[static ADDR_BYTES])
{
    out[0] = 'a';
    memcpy(out + 1, addr, ADDR_BYTES);
    return 1 + ADDR_BYTES;
}

size_t ledger_record_key(uint8_t *out, const uint8_t addr[static ADDR_BYTES], const uint8_t *key,
                         size_t key_len)
{
    CAIRN_ASSERT(key_len <= TX_KEY_MAX);
    out[0] = 'r';
    memcpy(out + 1, addr, ADDR_BYTES);
    memcpy(out + 1 + ADDR_BYTES, key, key_len);
    return 1 + ADDR_BYTES + key_len;
}

/* ------------------------------------------------------------ state access */

/* The account at addr as the overlay sees it (absent: zero balance, nonce 0). */
static cairn_err account_read(ledger *L, const kv_mem *ovl, const uint8_t addr[ADDR_BYTES],
                              ledger_account_t *acc)
{
    uint8_t key[1 + ADDR_BYTES];
    size_t kn = ledger_account_key(key, addr);
    memset(acc, 0, sizeof *acc);
    size_t vn;
    const uint8_t *v = kv_mem_peek(ovl, key, kn, &vn);
    if (v) {
        if (vn == 0 || v[0] == 0) return CAIRN_OK;
        return ledger_account_decode(acc, v + 1, vn - 1) ? CAIRN_EINTERNAL : CAIRN_OK;
    }
    uint8_t *raw = NULL;
    cairn_err rc = smt_get(&L->reader, L->height, key, kn, &raw, &vn);
    if (rc == CAIRN_ENOT_FOUND) return CAIRN_OK;
    if (rc) return rc;
    rc = ledger_account_decode(acc, raw, vn) ? CAIRN_ECORRUPT : CAIRN_OK;
    free(raw);
    return rc;
}

static cairn_err account_write(kv_mem *ovl, const uint8_t addr[ADDR_BYTES],
                               const ledger_account_t *acc)
{
    uint8_t key[1 + ADDR_BYTES], val[1 + LEDGER_ACCOUNT_BYTES];
    size_t kn = ledger_account_key(key, addr);
    val[0] = 1;
    ledger_account_encode(acc, val + 1);
    return kv_mem_put(ovl, key, kn, val, sizeof val);
}

static cairn_err record_write(kv_mem *ovl, const uint8_t addr[ADDR_BYTES], const tx_t *tx)
{
    uint8_t key[LEDGER_STATE_KEY_MAX];
    size_t kn = ledger_record_key(key, addr, tx->key, tx->key_len);
    if (tx->type == TX_DELETE) {
        static const uint8_t deleted = 0;
        return kv_mem_put(ovl, key, kn, &deleted, 1);
    }
    buf_t b;
    buf_init(&b, TX_VALUE_MAX + 16);
    cairn_err rc = buf_append(&b, "\x01", 1);
    if (!rc) rc = ledger_record_encode(tx->value, tx->value_len, &b);
    if (!rc) rc = kv_mem_put(ovl, key, kn, b.data, b.len);
    buf_deinit(&b);
    return rc;
}

/* ------------------------------------------------------------ execution */

static void result_set(app_result_t *res, uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void result_set(app_result_t *res, uint32_t code, const char *fmt, ...)
{
    res->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->log, sizeof res->log, fmt, ap);
    va_end(ap);
}

static void attr_add(app_event_t *ev, const char *key, const char *value)
{
    CAIRN_ASSERT(ev->n_attrs < APP_EVENT_ATTRS_MAX);
    app_attr_t *a = &ev->attrs[ev->n_attrs++];
    snprintf(a->key, sizeof a->key, "%s", key);
    snprintf(a->value, sizeof a->value, "%s", value);
}

static void events_fill(app_result_t *res, const tx_t *tx, const uint8_t from[ADDR_BYTES])
{
    char hex[APP_ATTR_VALUE_MAX], num[24];
    app_event_t *ev = &res->events[0];
    memset(ev, 0, sizeof *ev);
    res->n_events = 1;
    hex_encode_upper(hex, from, ADDR_BYTES);
    if (tx->type == TX_TRANSFER) {
        snprintf(ev->type, sizeof ev->type, "transfer");
        attr_add(ev, "sender", hex);
        hex_encode_upper(hex, tx->to, ADDR_BYTES);
        attr_add(ev, "recipient", hex);
        snprintf(num, sizeof num, "%" PRIu64, tx->amount);
        attr_add(ev, "amount", num);
    } else {
        snprintf(ev->type, sizeof ev->type, "record");
        attr_add(ev, "action", tx->type == TX_PUT ? "put" : "delete");
        attr_add(ev, "owner", hex);
        hex_encode_upper(hex, tx->key, tx->key_len);
        attr_add(ev, "key", hex);
    }
    snprintf(num, sizeof num, "%" PRIu64, tx->fee);
    attr_add(ev, "fee", num);
}

/* Runs a decoded tx against ovl (over committed state). Either every check
 * passes and all its writes land in ovl, or res->code says why and ovl is
 * unchanged (invariant 3). Returns only internal errors. */
static cairn_err execute(ledger *L, kv_mem *ovl, const tx_t *tx, bool dry, app_result_t *res)
{
    uint8_t from[ADDR_BYTES];
    key_address(from, tx->sender);
    if (tx->type == TX_PUT || tx->type == TX_DELETE) {
        if (tx->key_len == 0 || !tx->key || (tx->value_len && !tx->value)) {
            result_set(res, APP_CODE_BAD_ENCODING, "empty record key");
            return CAIRN_OK;
        }
        if (tx->key_len > TX_KEY_MAX || tx->value_len > TX_VALUE_MAX) {
            result_set(res, APP_CODE_OVERSIZE, "key of %u bytes, value of %u bytes",
                       tx->key_len, tx->value_len);
            return CAIRN_OK;
        }
    } else if (tx->type != TX_TRANSFER) {
        result_set(res, APP_CODE_UNKNOWN_TYPE, "type %u", tx->type);
        return CAIRN_OK;
    }
    ledger_account_t s, r;
    CAIRN_TRY(account_read(L, ovl, from, &s));
    if (tx->nonce != s.nonce) {
        result_set(res, APP_CODE_BAD_NONCE, "nonce %" PRIu64 ", expected %" PRIu64, tx->nonce,
                   s.nonce);
        return CAIRN_OK;
    }
    if (s.nonce == UINT64_MAX) {
        result_set(res, APP_CODE_OVERFLOW, "nonce exhausted");
        return CAIRN_OK;
    }
    uint64_t amount = tx->type == TX_TRANSFER ? tx->amount : 0;
    uint64_t need;
    if (__builtin_add_overflow(amount, tx->fee, &need) || need > s.balance) {
        result_set(res, APP_CODE_INSUFFICIENT_FUNDS,
                   "balance %" PRIu64 " < amount %" PRIu64 " + fee %" PRIu64, s.balance, amount,
                   tx->fee);
        return CAIRN_OK;
    }
    bool to_self = tx->type == TX_TRANSFER && memcmp(tx->to, from, ADDR_BYTES) == 0;
    if (tx->type == TX_TRANSFER && !to_self) {
        CAIRN_TRY(account_read(L, ovl, tx->to, &r));
        if (__builtin_add_overflow(r.balance, amount, &r.balance)) {
            result_set(res, APP_CODE_OVERFLOW, "recipient balance would overflow");
            return CAIRN_OK;
        }
    }
    /* All checks passed: from here on only writes. */
    if (dry) {
        result_set(res, APP_CODE_OK, "%s", "");
        events_fill(res, tx, from);
        return CAIRN_OK;
    }
    s.balance -= to_self ? tx->fee : need;
    s.nonce++;
    CAIRN_TRY(account_write(ovl, from, &s));
    if (tx->type == TX_TRANSFER && !to_self) CAIRN_TRY(account_write(ovl, tx->to, &r));
    if (tx->type != TX_TRANSFER) CAIRN_TRY(record_write(ovl, from, tx));
    result_set(res, APP_CODE_OK, "%s", "");
    events_fill(res, tx, from);
    return CAIRN_OK;
}

static uint32_t decode_code(cairn_err rc)
{
    switch (rc) {
    case CAIRN_ETOO_LARGE:
        return APP_CODE_OVERSIZE;
    case CAIRN_EBAD_TYPE:
        return APP_CODE_UNKNOWN_TYPE;
    case CAIRN_EBAD_CHAIN_ID:
        return APP_CODE_BAD_CHAIN_ID;
    default:
        return APP_CODE_BAD_ENCODING;
    }
}

static cairn_err run_tx(ledger *L, kv_mem *ovl, const uint8_t *raw, size_t n, unsigned flags,
                        app_result_t *res)
{
    memset(res, 0, sizeof *res);
    tx_t tx;
    cairn_err rc = tx_decode(&tx, raw, n);
    if (rc) {
        result_set(res, decode_code(rc), "decode: %s", cairn_strerror(rc));
        return CAIRN_OK;
    }
    if (!(flags & APP_TX_SIG_VERIFIED)) {
        rc = tx_verify(&tx, &L->cid);
        if (rc == CAIRN_EBAD_CHAIN_ID) {
            result_set(res, APP_CODE_BAD_CHAIN_ID, "%s", cairn_strerror(rc));
            return CAIRN_OK;
        }
        if (rc) {
            result_set(res, APP_CODE_BAD_SIGNATURE, "%s", cairn_strerror(rc));
            return CAIRN_OK;
        }
    }
    return execute(L, ovl, &tx, (flags & APP_TX_DRY_RUN) != 0, res);
}

/* ------------------------------------------------------------ app_ops */

static ledger *self(app_t *a) { return (ledger *)a; }

static void l_info(app_t *a, app_info_t *out)
{
    ledger *L = self(a);
    out->initialized = L->initialized;
    out->height = L->height;
    memcpy(out->app_hash, L->app_hash, HASH_BYTES);
}

static cairn_err meta_write(kv_batch *out, uint64_t height, const uint8_t hash[HASH_BYTES])
{
    uint8_t v[META_BYTES];
    v[0] = 1;
    for (int i = 0; i < 8; i++) v[1 + i] = (uint8_t)(height >> (8 * i));
    memcpy(v + 9, hash, HASH_BYTES);
    return kv_batch_put(out, META_KEY, strlen(META_KEY), v, sizeof v);
}

static cairn_err l_init_chain(app_t *a, const app_genesis_account_t *accounts, size_t n,
                              uint8_t app_hash[static HASH_BYTES], kv_batch *out)
{
    ledger *L = self(a);
    if (L->initialized) return CAIRN_EEXISTS;
    kv_mem *g = kv_mem_new();
    smt_op *ops = calloc(n ? n : 1, sizeof *ops);
    cairn_err rc = CAIRN_ENOMEM;
    if (!g || !ops) goto out;
    for (size_t i = 0; i < n; i++) {
        uint8_t key[1 + ADDR_BYTES];
        size_t vn;
        size_t kn = ledger_account_key(key, accounts[i].address);
        if (kv_mem_peek(g, key, kn, &vn)) {
            rc = CAIRN_EINVALID_ARG; /* the same address twice */
            goto out;
        }
        ledger_account_t acc = {.balance = accounts[i].balance, .nonce = 0};
        if ((rc = account_write(g, accounts[i].address, &acc))) goto out;
    }
    size_t pos = 0, k = 0;
    const uint8_t *key, *val;
    size_t kn, vn;
    while (kv_mem_next(g, &pos, &key, &kn, &val, &vn))
        ops[k++] = (smt_op){key, kn, val + 1, vn - 1};
    uint8_t root[HASH_BYTES];
    if ((rc = smt_apply(&L->reader, SMT_VERSION_NONE, 0, ops, k, out, root, NULL))) goto out;
    if ((rc = meta_write(out, 0, root))) goto out;
    L->initialized = true;
    L->height = 0;
    memcpy(L->app_hash, root, HASH_BYTES);
    memcpy(app_hash, root, HASH_BYTES);
out:
    free(ops);
    kv_mem_free(g);
    return rc;
}

static cairn_err l_check_tx(app_t *a, const uint8_t *raw, size_t n, unsigned flags,
                            app_result_t *res)
{
    ledger *L = self(a);
    if (!L->initialized) return CAIRN_EINVALID_ARG;
    return run_tx(L, L->check, raw, n, flags, res);
}

/* The height recorded in the store's meta record (invariant 2 check). */
static cairn_err meta_height(ledger *L, uint64_t *height)
{
    uint8_t *v = NULL;
    size_t n = 0;
    CAIRN_TRY(kv_get(&L->reader, (const uint8_t *)META_KEY, strlen(META_KEY), &v, &n));
    cairn_err rc = CAIRN_ECORRUPT;
    if (n == META_BYTES && v[0] == 1) {
        *height = 0;
        for (int i = 0; i < 8; i++) *height |= (uint64_t)v[1 + i] << (8 * i);
        rc = CAIRN_OK;
    }
    free(v);
    return rc;
}

static cairn_err l_begin_block(app_t *a, const header_t *h)
{
    ledger *L = self(a);
    if (!L->initialized || L->in_block) return CAIRN_EINVALID_ARG;
    /* One read per block: executing on top of an unpersisted commit would read
     * stale state, so refuse loudly (app.h invariant 2). */
    uint64_t stored;
    cairn_err rc = meta_height(L, &stored);
    if (rc == CAIRN_ENOT_FOUND || (!rc && stored != L->height)) {
        log_error("app: store holds state %" PRIu64 ", app committed %" PRIu64
                  ": persist the commit batch before the next block",
                  rc ? 0 : stored, L->height);
        return CAIRN_EINVALID_ARG;
    }
    if (rc) return rc;
    if (h->chain_id.len != L->cid.len || memcmp(h->chain_id.id, L->cid.id, L->cid.len) != 0)
        return CAIRN_EBAD_CHAIN_ID;
    if (h->height != L->height + 1) return CAIRN_EBAD_HEIGHT;
    L->in_block = true;
    L->block_height = h->height;
    kv_mem_clear(L->block);
    return CAIRN_OK;
}

static cairn_err l_deliver_tx(app_t *a, const uint8_t *raw, size_t n, unsigned flags,
                              app_result_t *res)
{
    ledger *L = self(a);
    if (!L->in_block) return CAIRN_EINVALID_ARG;
    return run_tx(L, L->block, raw, n, flags, res);
}

static cairn_err l_end_block(app_t *a, uint64_t height, app_validator_update_t *updates,
                             size_t max, size_t *n_updates)
{
    ledger *L = self(a);
    (void)updates;
    (void)max;
    if (!L->in_block || height != L->block_height) return CAIRN_EINVALID_ARG;
    *n_updates = 0;
    return CAIRN_OK;
}

static cairn_err l_commit(app_t *a, uint8_t app_hash[static HASH_BYTES], kv_batch *out)
{
    ledger *L = self(a);
    if (!L->in_block) return CAIRN_EINVALID_ARG;
    size_t n = kv_mem_count(L->block);
    smt_op *ops = calloc(n ? n : 1, sizeof *ops);
    if (!ops) return CAIRN_ENOMEM;
    size_t pos = 0, k = 0;
    const uint8_t *key, *val;
    size_t kn, vn;
    while (kv_mem_next(L->block, &pos, &key, &kn, &val, &vn)) {
        CAIRN_ASSERT(k < n && vn >= 1);
        ops[k++] = (smt_op){key, kn, val[0] ? val + 1 : NULL, vn - 1};
    }
    uint8_t root[HASH_BYTES];
    cairn_err rc = smt_apply(&L->reader, L->height, L->block_height, ops, k, out, root, NULL);
    if (!rc) rc = meta_write(out, L->block_height, root);
    free(ops);
    if (rc) return rc;
    L->height = L->block_height;
    memcpy(L->app_hash, root, HASH_BYTES);
    memcpy(app_hash, root, HASH_BYTES);
    L->in_block = false;
    kv_mem_clear(L->block);
    kv_mem_clear(L->check);
    return CAIRN_OK;
}

static void query_fail(app_query_result_t *out, uint32_t code, const char *why)
{
    out->code = code;
    snprintf(out->log, sizeof out->log, "%s", why);
}

/* Roots are kept for one contiguous range of versions ending at the latest
 * (pruning deletes them from the bottom, in order): binary search its start. */
static cairn_err l_oldest(app_t *a, uint64_t *height)
{
    ledger *L = self(a);
    if (!L->initialized) return CAIRN_EINVALID_ARG;
    uint64_t lo = 0, hi = L->height; /* the answer is in [lo, hi]; hi has a root */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint8_t root[HASH_BYTES];
        cairn_err rc = smt_root(&L->reader, mid, root);
        if (rc == CAIRN_OK) hi = mid;
        else if (rc == CAIRN_ENOT_FOUND) lo = mid + 1;
        else return rc;
    }
    *height = lo;
    return CAIRN_OK;
}

/* The root of `height` is gone: pruned (storage.keep_state_heights). */
static cairn_err pruned_fail(app_t *a, app_query_result_t *out, uint64_t height)
{
    uint64_t oldest = 0;
    cairn_err rc = l_oldest(a, &oldest);
    app_query_result_free(out);
    if (rc) return rc;
    out->code = APP_CODE_BAD_HEIGHT;
    out->height = height;
    snprintf(out->log, sizeof out->log,
             "the state of height %llu is no longer kept: this node keeps heights %llu..%llu",
             (unsigned long long)height, (unsigned long long)oldest,
             (unsigned long long)self(a)->height);
    return CAIRN_OK;
}

static cairn_err l_query(app_t *a, const char *path, const uint8_t *key, size_t key_len,
                         uint64_t height, bool prove, app_query_result_t *out)
{
    ledger *L = self(a);
    memset(out, 0, sizeof *out);
    uint8_t skey[LEDGER_STATE_KEY_MAX];
    size_t sn;
    if (!path || (!key && key_len)) return CAIRN_EINVALID_ARG;
    if (strcmp(path, "/account") == 0) {
        if (key_len != ADDR_BYTES) {
            query_fail(out, APP_CODE_BAD_QUERY, "account key must be a 20-byte address");
            return CAIRN_OK;
        }
        sn = ledger_account_key(skey, key);
    } else if (strcmp(path, "/record") == 0) {
        if (key_len <= ADDR_BYTES || key_len > ADDR_BYTES + TX_KEY_MAX) {
            query_fail(out, APP_CODE_BAD_QUERY, "record key must be address || key");
            return CAIRN_OK;
        }
        sn = ledger_record_key(skey, key, key + ADDR_BYTES, key_len - ADDR_BYTES);
    } else if (strcmp(path, "/state") == 0) {
        if (key_len == 0 || key_len > LEDGER_STATE_KEY_MAX) {
            query_fail(out, APP_CODE_BAD_QUERY, "state key length out of range");
            return CAIRN_OK;
        }
        memcpy(skey, key, key_len);
        sn = key_len;
    } else {
        query_fail(out, APP_CODE_UNKNOWN_PATH, "paths: /account, /record, /state");
        return CAIRN_OK;
    }
    if (height == 0) height = L->height;
    if (!L->initialized || height > L->height) {
        query_fail(out, APP_CODE_BAD_HEIGHT, "no state at that height");
        return CAIRN_OK;
    }
    out->height = height;
    if (!(out->key = malloc(sn))) return CAIRN_ENOMEM;
    memcpy(out->key, skey, sn);
    out->key_len = sn;
    cairn_err rc;
    if (prove) {
        buf_t pf;
        buf_init(&pf, CAIRN_PROOF_BYTES_MAX);
        bool found;
        rc = smt_prove(&L->reader, height, skey, sn, &pf, &out->value, &out->value_len, &found);
        if (!rc) out->proof = buf_steal(&pf, &out->proof_len);
        buf_deinit(&pf);
        if (rc == CAIRN_EBAD_HEIGHT) return pruned_fail(a, out, height);
    } else {
        rc = smt_get(&L->reader, height, skey, sn, &out->value, &out->value_len);
        if (rc == CAIRN_ENOT_FOUND) rc = CAIRN_OK;
        if (rc == CAIRN_EBAD_HEIGHT) return pruned_fail(a, out, height);
    }
    if (rc) {
        app_query_result_free(out);
        return rc;
    }
    snprintf(out->log, sizeof out->log, "%s", out->value ? "exists" : "does not exist");
    return CAIRN_OK;
}

static cairn_err l_prune(app_t *a, uint64_t height, kv_batch *out)
{
    ledger *L = self(a);
    if (!L->initialized || height == 0 || height > L->height) return CAIRN_EINVALID_ARG;
    uint64_t pruned;
    return smt_prune(&L->reader, height, out, &pruned);
}

static void l_free(app_t *a)
{
    ledger *L = self(a);
    kv_mem_free(L->block);
    kv_mem_free(L->check);
    free(L);
}

static const app_ops LEDGER_OPS = {
    .name = "cairn-ledger",
    .info = l_info,
    .init_chain = l_init_chain,
    .check_tx = l_check_tx,
    .begin_block = l_begin_block,
    .deliver_tx = l_deliver_tx,
    .end_block = l_end_block,
    .commit = l_commit,
    .query = l_query,
    .prune = l_prune,
    .oldest = l_oldest,
    .free = l_free,
};

/* Reads the meta record and checks it against the tree's own root. */
static cairn_err meta_load(ledger *L)
{
    uint8_t *v = NULL;
    size_t n = 0;
    cairn_err rc = kv_get(&L->reader, (const uint8_t *)META_KEY, strlen(META_KEY), &v, &n);
    if (rc == CAIRN_ENOT_FOUND) return CAIRN_OK; /* fresh store */
    if (rc) return rc;
    rc = CAIRN_ECORRUPT;
    uint64_t h;
    uint8_t root[HASH_BYTES];
    if (n == META_BYTES && meta_height(L, &h) == CAIRN_OK &&
        smt_root(&L->reader, h, root) == CAIRN_OK && memcmp(root, v + 9, HASH_BYTES) == 0) {
        L->initialized = true;
        L->height = h;
        memcpy(L->app_hash, root, HASH_BYTES);
        rc = CAIRN_OK;
    }
    free(v);
    return rc;
}

cairn_err ledger_new(const chain_id_t *cid, kv_reader reader, app_t **out)
{
    ledger *L = calloc(1, sizeof *L);
    if (!L) return CAIRN_ENOMEM;
    L->base.ops = &LEDGER_OPS;
    L->cid = *cid;
    L->reader = reader;
    memcpy(L->app_hash, SMT_EMPTY_ROOT, HASH_BYTES);
    L->block = kv_mem_new();
    L->check = kv_mem_new();
    cairn_err rc = (L->block && L->check) ? meta_load(L) : CAIRN_ENOMEM;
    if (rc) {
        l_free(&L->base);
        return rc;
    }
    *out = &L->base;
    return CAIRN_OK;
}
