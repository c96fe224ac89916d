/* store_chain_fixture.h - a chain of real, linked blocks for the store tests and
 * bench/bench_store.c: signed txs, data/evidence hashes, last commits, seen
 * commits, per-tx results and state writes. Header-only (static functions). */
#ifndef CAIRN_TESTS_STORE_CHAIN_FIXTURE_H
#define CAIRN_TESTS_STORE_CHAIN_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/kv.h"
#include "chain/chain.h"
#include "crypto/crypto.h"
#include "store/store.h"

typedef struct {
    uint64_t height;
    uint8_t id[HASH_BYTES];
    buf_t raw;     /* block encoding */
    buf_t commit;  /* seen commit encoding */
    block_t block; /* raw decoded */
    uint32_t n_txs;
    buf_t *tx_results; /* n_txs result entries ("ok:<height>:<i>") */
    bytes_view *result_views;
    kv_batch state; /* one state write per tx */
    uint8_t app_hash[HASH_BYTES];
} fx_block;

typedef struct {
    uint64_t n;
    fx_block *b; /* b[i] has height first + i */
    keypair_t kp;
    chain_id_t cid;
} fx_chain;

static int fx_fail_(const char *what, cairn_err rc)
{
    fprintf(stderr, "fixture: %s: %s\n", what, cairn_strerror(rc));
    return -1;
}

static int fx_commit_make_(buf_t *out, uint64_t height, const uint8_t id[HASH_BYTES],
                           const keypair_t *kp)
{
    commit_sig_t sig;
    memset(&sig, 0, sizeof sig);
    sig.flag = COMMIT_FOR_BLOCK;
    key_address(sig.validator, kp->pub);
    sig.time_ns = (int64_t)height * 1000000000;
    memset(sig.sig, 0x5a, SIG_BYTES);
    commit_t c = {.height = height, .round = 0, .n_sigs = 1, .sigs = &sig};
    memcpy(c.block_id, id, HASH_BYTES);
    cairn_err rc = commit_encode(&c, out);
    return rc == CAIRN_OK ? 0 : fx_fail_("commit_encode", rc);
}

/* Builds block `height` on top of prev_id (NULL at the first height) with n_txs
 * txs. time_bias lets a test build a different block for the same height. */
static int fx_block_make(fx_block *fb, const fx_chain *c, uint64_t height,
                         const uint8_t *prev_id, uint32_t n_txs, int64_t time_bias)
{
    memset(fb, 0, sizeof *fb);
    fb->height = height;
    fb->n_txs = n_txs;
    buf_init(&fb->raw, BLOCK_BYTES_MAX);
    buf_init(&fb->commit, 1 << 20);
    kv_batch_init(&fb->state);
    buf_t txbufs[64];
    bytes_view views[64];
    if (n_txs > 64) return -1;
    cairn_err rc = CAIRN_OK;
    fb->tx_results = calloc(n_txs ? n_txs : 1, sizeof *fb->tx_results);
    fb->result_views = calloc(n_txs ? n_txs : 1, sizeof *fb->result_views);
    for (uint32_t i = 0; i < n_txs; i++) {
        char key[32], val[48];
        snprintf(key, sizeof key, "k%llu_%u", (unsigned long long)height, i);
        snprintf(val, sizeof val, "value at %llu/%u", (unsigned long long)height, i);
        tx_t tx;
        memset(&tx, 0, sizeof tx);
        tx.version = CHAIN_VERSION;
        tx.type = TX_PUT;
        memcpy(tx.sender, c->kp.pub, PUBKEY_BYTES);
        tx.nonce = height * 1000 + i;
        tx.fee = 1;
        tx.key = (const uint8_t *)key;
        tx.key_len = (uint32_t)strlen(key);
        tx.value = (const uint8_t *)val;
        tx.value_len = (uint32_t)strlen(val);
        if ((rc = tx_sign(&tx, &c->cid, &c->kp)) != CAIRN_OK) return fx_fail_("tx_sign", rc);
        buf_init(&txbufs[i], TX_BYTES_MAX);
        if ((rc = tx_encode(&tx, &txbufs[i])) != CAIRN_OK) return fx_fail_("tx_encode", rc);
        views[i] = (bytes_view){txbufs[i].data, txbufs[i].len};
        buf_init(&fb->tx_results[i], 256);
        char res[64];
        int rn = snprintf(res, sizeof res, "ok:%llu:%u", (unsigned long long)height, i);
        if (buf_append(&fb->tx_results[i], res, (size_t)rn) != CAIRN_OK) return -1;
        fb->result_views[i] = (bytes_view){fb->tx_results[i].data, fb->tx_results[i].len};
        if (kv_batch_put(&fb->state, key, strlen(key), val, strlen(val)) != CAIRN_OK)
            return -1;
    }
    block_t b;
    memset(&b, 0, sizeof b);
    header_t *h = &b.header;
    h->version = CHAIN_VERSION;
    h->chain_id = c->cid;
    h->height = height;
    h->time_ns = (int64_t)height * 1000000000 + time_bias;
    if (prev_id) memcpy(h->last_block_id, prev_id, HASH_BYTES);
    memset(h->validators_hash, 0x11, HASH_BYTES);
    memset(h->next_validators_hash, 0x11, HASH_BYTES);
    memset(h->app_hash, (int)(height & 0xff), HASH_BYTES);
    memset(h->results_hash, 0x22, HASH_BYTES);
    key_address(h->proposer, c->kp.pub);
    b.n_txs = n_txs;
    b.txs = views;
    commit_sig_t lsig;
    memset(&lsig, 0, sizeof lsig);
    if (prev_id) {
        lsig.flag = COMMIT_FOR_BLOCK;
        key_address(lsig.validator, c->kp.pub);
        lsig.time_ns = (int64_t)(height - 1) * 1000000000;
        memset(lsig.sig, 0x33, SIG_BYTES);
        b.last_commit.height = height - 1;
        memcpy(b.last_commit.block_id, prev_id, HASH_BYTES);
        b.last_commit.n_sigs = 1;
        b.last_commit.sigs = &lsig;
        if ((rc = commit_hash(&b.last_commit, h->last_commit_hash)) != CAIRN_OK)
            return fx_fail_("commit_hash", rc);
    } else {
        if ((rc = commit_hash(&b.last_commit, h->last_commit_hash)) != CAIRN_OK)
            return fx_fail_("commit_hash", rc);
    }
    if ((rc = block_data_hash(&b, h->data_hash)) != CAIRN_OK)
        return fx_fail_("block_data_hash", rc);
    if ((rc = block_evidence_hash(&b, h->evidence_hash)) != CAIRN_OK)
        return fx_fail_("block_evidence_hash", rc);
    if ((rc = header_hash(h, fb->id)) != CAIRN_OK) return fx_fail_("header_hash", rc);
    if ((rc = block_encode(&b, &fb->raw)) != CAIRN_OK) return fx_fail_("block_encode", rc);
    for (uint32_t i = 0; i < n_txs; i++) buf_deinit(&txbufs[i]);
    if ((rc = block_decode(&fb->block, fb->raw.data, fb->raw.len)) != CAIRN_OK)
        return fx_fail_("block_decode", rc);
    memset(fb->app_hash, (int)((height + 1) & 0xff), HASH_BYTES);
    return fx_commit_make_(&fb->commit, height, fb->id, &c->kp);
}

static void fx_block_free(fx_block *fb)
{
    buf_deinit(&fb->raw);
    buf_deinit(&fb->commit);
    block_free(&fb->block);
    for (uint32_t i = 0; fb->tx_results && i < fb->n_txs; i++)
        buf_deinit(&fb->tx_results[i]);
    free(fb->tx_results);
    free(fb->result_views);
    kv_batch_deinit(&fb->state);
    memset(fb, 0, sizeof *fb);
}

/* n linked blocks at heights 1..n; block h carries h % (max_txs + 1) txs. */
static int fx_chain_make(fx_chain *c, uint64_t n, uint32_t max_txs)
{
    memset(c, 0, sizeof *c);
    if (crypto_init() != CAIRN_OK) return -1;
    uint8_t seed[SEED_BYTES];
    memset(seed, 7, sizeof seed);
    key_from_seed(&c->kp, seed);
    if (chain_id_set(&c->cid, "store-test") != CAIRN_OK) return -1;
    c->b = calloc(n, sizeof *c->b);
    if (!c->b) return -1;
    c->n = n;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t ntx = max_txs ? (uint32_t)((i + 1) % (max_txs + 1)) : 0;
        if (fx_block_make(&c->b[i], c, i + 1, i ? c->b[i - 1].id : NULL, ntx, 0) != 0)
            return -1;
    }
    return 0;
}

static void fx_chain_free(fx_chain *c)
{
    for (uint64_t i = 0; i < c->n; i++) fx_block_free(&c->b[i]);
    free(c->b);
    memset(c, 0, sizeof *c);
}

static store_block_save_args fx_save_args(const fx_block *fb)
{
    static const char chain_state[] = "chain-state-bytes";
    store_block_save_args a = {
        .block_raw = fb->raw.data,
        .block_len = fb->raw.len,
        .block = &fb->block,
        .block_id = fb->id,
        .commit_raw = fb->commit.data,
        .commit_len = fb->commit.len,
        .tx_results = fb->result_views,
        .n_tx_results = fb->n_txs,
        .block_result = (const uint8_t *)"end-block",
        .block_result_len = 9,
        .state = &fb->state,
        .app_hash = fb->app_hash,
        .chain_state = (const uint8_t *)chain_state,
        .chain_state_len = sizeof chain_state - 1,
    };
    return a;
}

#endif
