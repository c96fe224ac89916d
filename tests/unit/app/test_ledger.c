/* The ledger application: transfers, records, rejections with distinct codes,
 * determinism of the app hash, queries with proofs, restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/app.h"
#include "app/kv_mem.h"
#include "app/smt.h"
#include "cairn/proof.h"

#define N_ACCOUNTS 64
#define GENESIS_BALANCE 1000000000ULL

static chain_id_t CID;
static keypair_t KP[N_ACCOUNTS];
static uint8_t ADDR[N_ACCOUNTS][ADDR_BYTES];

typedef struct {
    kv_mem *store;
    app_t *app;
    uint8_t hash[HASH_BYTES];
} node;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(crypto_init(), CAIRN_OK);
    assert_int_equal(chain_id_set(&CID, "ledger-test"), CAIRN_OK);
    for (int i = 0; i < N_ACCOUNTS; i++) {
        uint8_t seed[SEED_BYTES] = {0};
        seed[0] = (uint8_t)i;
        seed[1] = 0x5e;
        key_from_seed(&KP[i], seed);
        key_address(ADDR[i], KP[i].pub);
    }
    return 0;
}

static void persist(node *nd, kv_batch *b)
{
    assert_int_equal(kv_mem_apply(nd->store, b), CAIRN_OK);
    kv_batch_deinit(b);
}

static void node_start(node *nd, uint64_t balance)
{
    nd->store = kv_mem_new();
    assert_int_equal(ledger_new(&CID, kv_mem_reader(nd->store), &nd->app), CAIRN_OK);
    app_genesis_account_t g[N_ACCOUNTS];
    for (int i = 0; i < N_ACCOUNTS; i++) {
        memcpy(g[i].address, ADDR[i], ADDR_BYTES);
        g[i].balance = balance;
    }
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(app_init_chain(nd->app, g, N_ACCOUNTS, nd->hash, &b), CAIRN_OK);
    persist(nd, &b);
}

static void node_stop(node *nd)
{
    app_free(nd->app);
    kv_mem_free(nd->store);
}

/* A signed tx; raw bytes appended to out. */
typedef struct {
    uint8_t type;
    int from;
    uint64_t nonce, fee;
    int to; /* account index; -1: a fresh address (0xEE..) */
    uint64_t amount;
    const char *key, *value;
} txspec;

static void tx_build(const txspec *s, buf_t *out)
{
    tx_t tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_VERSION;
    tx.type = s->type;
    memcpy(tx.sender, KP[s->from].pub, PUBKEY_BYTES);
    tx.nonce = s->nonce;
    tx.fee = s->fee;
    if (s->type == TX_TRANSFER) {
        if (s->to >= 0)
            memcpy(tx.to, ADDR[s->to], ADDR_BYTES);
        else
            memset(tx.to, 0xee, ADDR_BYTES);
        tx.amount = s->amount;
    } else {
        tx.key = (const uint8_t *)s->key;
        tx.key_len = (uint32_t)strlen(s->key);
        if (s->type == TX_PUT) {
            tx.value = (const uint8_t *)s->value;
            tx.value_len = (uint32_t)strlen(s->value);
        }
    }
    assert_int_equal(tx_sign(&tx, &CID, &KP[s->from]), CAIRN_OK);
    assert_int_equal(tx_encode(&tx, out), CAIRN_OK);
}

static uint32_t block_one(node *nd, uint64_t height, const txspec *s)
{
    header_t h;
    memset(&h, 0, sizeof h);
    h.chain_id = CID;
    h.height = height;
    assert_int_equal(app_begin_block(nd->app, &h), CAIRN_OK);
    buf_t raw;
    buf_init(&raw, TX_BYTES_MAX);
    tx_build(s, &raw);
    app_result_t res;
    assert_int_equal(app_deliver_tx(nd->app, raw.data, raw.len, 0, &res), CAIRN_OK);
    buf_deinit(&raw);
    size_t nu;
    assert_int_equal(app_end_block(nd->app, height, NULL, 0, &nu), CAIRN_OK);
    assert_int_equal(nu, 0);
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(app_commit(nd->app, nd->hash, &b), CAIRN_OK);
    persist(nd, &b);
    return res.code;
}

static ledger_account_t account(node *nd, const uint8_t *addr)
{
    app_query_result_t q;
    assert_int_equal(app_query(nd->app, "/account", addr, ADDR_BYTES, 0, false, &q), CAIRN_OK);
    assert_int_equal(q.code, APP_CODE_OK);
    ledger_account_t a = {0, 0};
    if (q.value) assert_int_equal(ledger_account_decode(&a, q.value, q.value_len), CAIRN_OK);
    app_query_result_free(&q);
    return a;
}

/* ------------------------------------------------------------ basics */

static void genesis_accounts_are_queryable_and_hash_is_the_tree_root(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 500);
    ledger_account_t a = account(&nd, ADDR[3]);
    assert_int_equal(a.balance, 500);
    assert_int_equal(a.nonce, 0);
    app_info_t info;
    app_info(nd.app, &info);
    assert_true(info.initialized);
    assert_int_equal(info.height, 0);
    assert_memory_equal(info.app_hash, nd.hash, HASH_BYTES);
    kv_reader r = kv_mem_reader(nd.store);
    uint8_t root[HASH_BYTES];
    assert_int_equal(smt_root(&r, 0, root), CAIRN_OK);
    assert_memory_equal(root, nd.hash, HASH_BYTES);
    node_stop(&nd);
}

static void genesis_rejects_duplicate_address_and_second_init(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1);
    kv_batch b;
    kv_batch_init(&b);
    app_genesis_account_t g = {.balance = 1};
    uint8_t h[HASH_BYTES];
    assert_int_equal(app_init_chain(nd.app, &g, 1, h, &b), CAIRN_EEXISTS);
    node_stop(&nd);
    kv_mem *m = kv_mem_new();
    app_t *app;
    assert_int_equal(ledger_new(&CID, kv_mem_reader(m), &app), CAIRN_OK);
    app_genesis_account_t two[2] = {{.balance = 1}, {.balance = 2}};
    assert_int_equal(app_init_chain(app, two, 2, h, &b), CAIRN_EINVALID_ARG);
    kv_batch_deinit(&b);
    app_free(app);
    kv_mem_free(m);
}

static void transfer_moves_amount_and_burns_fee(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    txspec s = {TX_TRANSFER, 0, 0, 7, 1, 300, NULL, NULL};
    assert_int_equal(block_one(&nd, 1, &s), APP_CODE_OK);
    assert_int_equal(account(&nd, ADDR[0]).balance, 1000 - 300 - 7);
    assert_int_equal(account(&nd, ADDR[0]).nonce, 1);
    assert_int_equal(account(&nd, ADDR[1]).balance, 1300);
    assert_int_equal(account(&nd, ADDR[1]).nonce, 0);
    /* A new address is created by receiving. */
    txspec s2 = {TX_TRANSFER, 0, 1, 0, -1, 5, NULL, NULL};
    assert_int_equal(block_one(&nd, 2, &s2), APP_CODE_OK);
    uint8_t fresh[ADDR_BYTES];
    memset(fresh, 0xee, ADDR_BYTES);
    assert_int_equal(account(&nd, fresh).balance, 5);
    node_stop(&nd);
}

static void transfer_to_self_costs_only_the_fee(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    txspec s = {TX_TRANSFER, 2, 0, 10, 2, 900, NULL, NULL};
    assert_int_equal(block_one(&nd, 1, &s), APP_CODE_OK);
    assert_int_equal(account(&nd, ADDR[2]).balance, 990);
    node_stop(&nd);
}

/* ------------------------------------------------------------ rejections */

static void replayed_tx_is_rejected_as_bad_nonce(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    txspec s = {TX_TRANSFER, 0, 0, 1, 1, 10, NULL, NULL};
    assert_int_equal(block_one(&nd, 1, &s), APP_CODE_OK);
    uint8_t before[HASH_BYTES];
    memcpy(before, nd.hash, HASH_BYTES);
    assert_int_equal(block_one(&nd, 2, &s), APP_CODE_BAD_NONCE);
    assert_memory_equal(before, nd.hash, HASH_BYTES); /* nothing changed */
    assert_int_equal(account(&nd, ADDR[1]).balance, 1010);
    node_stop(&nd);
}

static void nonce_from_the_future_is_rejected(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    txspec s = {TX_TRANSFER, 0, 1, 1, 1, 10, NULL, NULL};
    assert_int_equal(block_one(&nd, 1, &s), APP_CODE_BAD_NONCE);
    node_stop(&nd);
}

static void overdraft_including_fee_is_rejected_and_changes_nothing(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    uint8_t before[HASH_BYTES];
    memcpy(before, nd.hash, HASH_BYTES);
    txspec over = {TX_TRANSFER, 0, 0, 0, 1, 1001, NULL, NULL};
    assert_int_equal(block_one(&nd, 1, &over), APP_CODE_INSUFFICIENT_FUNDS);
    txspec fee = {TX_TRANSFER, 0, 0, 1, 1, 1000, NULL, NULL};
    assert_int_equal(block_one(&nd, 2, &fee), APP_CODE_INSUFFICIENT_FUNDS);
    txspec wrap = {TX_TRANSFER, 0, 0, UINT64_MAX, 1, 2, NULL, NULL};
    assert_int_equal(block_one(&nd, 3, &wrap), APP_CODE_INSUFFICIENT_FUNDS);
    txspec putfee = {TX_PUT, 0, 0, 1001, 0, 0, "k", "v"};
    assert_int_equal(block_one(&nd, 4, &putfee), APP_CODE_INSUFFICIENT_FUNDS);
    assert_memory_equal(before, nd.hash, HASH_BYTES);
    assert_int_equal(account(&nd, ADDR[0]).nonce, 0);
    txspec exact = {TX_TRANSFER, 0, 0, 1, 1, 999, NULL, NULL};
    assert_int_equal(block_one(&nd, 5, &exact), APP_CODE_OK);
    assert_int_equal(account(&nd, ADDR[0]).balance, 0);
    node_stop(&nd);
}

static void recipient_balance_overflow_is_rejected(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, UINT64_MAX - 5);
    txspec s = {TX_TRANSFER, 0, 0, 0, 1, 6, NULL, NULL};
    assert_int_equal(block_one(&nd, 1, &s), APP_CODE_OVERFLOW);
    txspec ok = {TX_TRANSFER, 0, 0, 0, 1, 5, NULL, NULL};
    assert_int_equal(block_one(&nd, 2, &ok), APP_CODE_OK);
    assert_int_equal(account(&nd, ADDR[1]).balance, UINT64_MAX);
    node_stop(&nd);
}

static uint32_t deliver_raw(node *nd, uint64_t height, const uint8_t *raw, size_t n,
                            unsigned flags)
{
    header_t h;
    memset(&h, 0, sizeof h);
    h.chain_id = CID;
    h.height = height;
    assert_int_equal(app_begin_block(nd->app, &h), CAIRN_OK);
    app_result_t res;
    assert_int_equal(app_deliver_tx(nd->app, raw, n, flags, &res), CAIRN_OK);
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(app_commit(nd->app, nd->hash, &b), CAIRN_OK);
    persist(nd, &b);
    return res.code;
}

static void bad_signature_is_rejected_unless_caller_says_verified(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    buf_t raw;
    buf_init(&raw, TX_BYTES_MAX);
    txspec s = {TX_TRANSFER, 0, 0, 1, 1, 10, NULL, NULL};
    tx_build(&s, &raw);
    raw.data[raw.len - 1] ^= 1; /* last byte of the signature */
    assert_int_equal(deliver_raw(&nd, 1, raw.data, raw.len, 0), APP_CODE_BAD_SIGNATURE);
    assert_int_equal(account(&nd, ADDR[0]).nonce, 0);
    /* The node vouches for the signature: deliver does not verify again. */
    assert_int_equal(deliver_raw(&nd, 2, raw.data, raw.len, APP_TX_SIG_VERIFIED), APP_CODE_OK);
    assert_int_equal(account(&nd, ADDR[0]).nonce, 1);
    buf_deinit(&raw);
    node_stop(&nd);
}

static void tx_signed_for_another_chain_fails_signature_check(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    chain_id_t other;
    assert_int_equal(chain_id_set(&other, "other-chain"), CAIRN_OK);
    tx_t tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_VERSION;
    tx.type = TX_TRANSFER;
    memcpy(tx.sender, KP[0].pub, PUBKEY_BYTES);
    memcpy(tx.to, ADDR[1], ADDR_BYTES);
    tx.amount = 1;
    assert_int_equal(tx_sign(&tx, &other, &KP[0]), CAIRN_OK);
    buf_t raw;
    buf_init(&raw, TX_BYTES_MAX);
    assert_int_equal(tx_encode(&tx, &raw), CAIRN_OK);
    assert_int_equal(deliver_raw(&nd, 1, raw.data, raw.len, 0), APP_CODE_BAD_SIGNATURE);
    buf_deinit(&raw);
    node_stop(&nd);
}

/* A put tx with chosen key/value lengths, encoded by hand (tx_encode refuses
 * oversize fields). */
static size_t raw_put(uint8_t *out, uint32_t key_len, uint32_t val_len, uint8_t type)
{
    size_t n = 0;
    out[n++] = CHAIN_VERSION;
    out[n++] = type;
    memcpy(out + n, KP[0].pub, PUBKEY_BYTES);
    n += PUBKEY_BYTES;
    memset(out + n, 0, 16); /* nonce, fee */
    n += 16;
    memcpy(out + n, &key_len, 4); /* little-endian host */
    n += 4;
    memset(out + n, 'k', key_len);
    n += key_len;
    memcpy(out + n, &val_len, 4);
    n += 4;
    memset(out + n, 'v', val_len);
    n += val_len;
    memset(out + n, 0, SIG_BYTES);
    return n + SIG_BYTES;
}

static void oversize_unknown_and_malformed_txs_get_their_own_codes(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    static uint8_t raw[TX_BYTES_MAX + 1024];
    size_t n = raw_put(raw, 4, TX_VALUE_MAX + 1, TX_PUT);
    assert_int_equal(deliver_raw(&nd, 1, raw, n, APP_TX_SIG_VERIFIED), APP_CODE_OVERSIZE);
    n = raw_put(raw, TX_KEY_MAX + 1, 4, TX_PUT);
    assert_int_equal(deliver_raw(&nd, 2, raw, n, APP_TX_SIG_VERIFIED), APP_CODE_OVERSIZE);
    n = raw_put(raw, 4, 4, 9);
    assert_int_equal(deliver_raw(&nd, 3, raw, n, APP_TX_SIG_VERIFIED), APP_CODE_UNKNOWN_TYPE);
    n = raw_put(raw, 4, 4, TX_PUT);
    assert_int_equal(deliver_raw(&nd, 4, raw, n - 1, APP_TX_SIG_VERIFIED),
                     APP_CODE_BAD_ENCODING);
    /* The well-formed one passes decoding (and then fails its signature). */
    assert_int_equal(deliver_raw(&nd, 5, raw, n, 0), APP_CODE_BAD_SIGNATURE);
    node_stop(&nd);
}

static void result_codes_are_distinct(void **state)
{
    (void)state;
    const uint32_t codes[] = {
#define XX(name, num, msg) APP_CODE_##name,
        APP_CODE_MAP(XX)
#undef XX
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) assert_int_not_equal(codes[i], codes[j]);
    assert_string_equal(app_code_str(APP_CODE_BAD_NONCE),
                        "nonce is not the account's next nonce");
}

static void begin_block_checks_height_and_chain_id(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1);
    header_t h;
    memset(&h, 0, sizeof h);
    h.chain_id = CID;
    h.height = 2;
    assert_int_equal(app_begin_block(nd.app, &h), CAIRN_EBAD_HEIGHT);
    h.height = 1;
    assert_int_equal(chain_id_set(&h.chain_id, "elsewhere"), CAIRN_OK);
    assert_int_equal(app_begin_block(nd.app, &h), CAIRN_EBAD_CHAIN_ID);
    node_stop(&nd);
}

static void next_block_refuses_to_run_on_an_unpersisted_commit(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    header_t h;
    memset(&h, 0, sizeof h);
    h.chain_id = CID;
    h.height = 1;
    assert_int_equal(app_begin_block(nd.app, &h), CAIRN_OK);
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(app_commit(nd.app, nd.hash, &b), CAIRN_OK);
    h.height = 2;
    assert_int_equal(app_begin_block(nd.app, &h), CAIRN_EINVALID_ARG); /* not persisted */
    persist(&nd, &b);
    assert_int_equal(app_begin_block(nd.app, &h), CAIRN_OK);
    node_stop(&nd);
}

/* ------------------------------------------------------------ records */

static app_query_result_t record(node *nd, int owner, const char *key, bool prove)
{
    uint8_t k[ADDR_BYTES + TX_KEY_MAX];
    memcpy(k, ADDR[owner], ADDR_BYTES);
    memcpy(k + ADDR_BYTES, key, strlen(key));
    app_query_result_t q;
    assert_int_equal(
        app_query(nd->app, "/record", k, ADDR_BYTES + strlen(key), 0, prove, &q), CAIRN_OK);
    assert_int_equal(q.code, APP_CODE_OK);
    return q;
}

static void records_live_in_the_senders_namespace(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    txspec p0 = {TX_PUT, 0, 0, 1, 0, 0, "name", "alice"};
    txspec p1 = {TX_PUT, 1, 0, 1, 0, 0, "name", "bob"};
    assert_int_equal(block_one(&nd, 1, &p0), APP_CODE_OK);
    assert_int_equal(block_one(&nd, 2, &p1), APP_CODE_OK);
    app_query_result_t q = record(&nd, 0, "name", true);
    const uint8_t *v;
    uint32_t vn;
    assert_non_null(q.value);
    assert_int_equal(ledger_record_decode(q.value, q.value_len, &v, &vn), CAIRN_OK);
    assert_int_equal(vn, 5);
    assert_memory_equal(v, "alice", 5);
    assert_int_equal(cairn_proof_verify(nd.hash, q.key, q.key_len, q.value, q.value_len,
                                        q.proof, q.proof_len),
                     CAIRN_PROOF_OK);
    app_query_result_free(&q);
    q = record(&nd, 1, "name", false);
    assert_int_equal(ledger_record_decode(q.value, q.value_len, &v, &vn), CAIRN_OK);
    assert_memory_equal(v, "bob", 3);
    app_query_result_free(&q);
    txspec d0 = {TX_DELETE, 0, 1, 1, 0, 0, "name", NULL};
    assert_int_equal(block_one(&nd, 3, &d0), APP_CODE_OK);
    q = record(&nd, 0, "name", true);
    assert_null(q.value);
    assert_int_equal(cairn_proof_verify(nd.hash, q.key, q.key_len, NULL, 0, q.proof, q.proof_len),
                     CAIRN_PROOF_OK);
    app_query_result_free(&q);
    q = record(&nd, 1, "name", false);
    assert_non_null(q.value); /* bob's record is untouched */
    app_query_result_free(&q);
    assert_int_equal(account(&nd, ADDR[0]).balance, 998);
    node_stop(&nd);
}

/* ------------------------------------------------------------ check_tx */

static void check_tx_tracks_pending_nonces_until_commit(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 100);
    buf_t t0, t1, big;
    buf_init(&t0, TX_BYTES_MAX);
    buf_init(&t1, TX_BYTES_MAX);
    buf_init(&big, TX_BYTES_MAX);
    txspec s0 = {TX_TRANSFER, 0, 0, 1, 1, 10, NULL, NULL};
    txspec s1 = {TX_TRANSFER, 0, 1, 1, 1, 10, NULL, NULL};
    txspec sb = {TX_TRANSFER, 0, 2, 1, 1, 85, NULL, NULL};
    tx_build(&s0, &t0);
    tx_build(&s1, &t1);
    tx_build(&sb, &big);
    app_result_t res;
    assert_int_equal(app_check_tx(nd.app, t1.data, t1.len, 0, &res), CAIRN_OK);
    assert_int_equal(res.code, APP_CODE_BAD_NONCE);
    assert_int_equal(app_check_tx(nd.app, t0.data, t0.len, 0, &res), CAIRN_OK);
    assert_int_equal(res.code, APP_CODE_OK);
    assert_int_equal(app_check_tx(nd.app, t0.data, t0.len, 0, &res), CAIRN_OK);
    assert_int_equal(res.code, APP_CODE_BAD_NONCE); /* replay into the mempool */
    assert_int_equal(app_check_tx(nd.app, t1.data, t1.len, 0, &res), CAIRN_OK);
    assert_int_equal(res.code, APP_CODE_OK);
    /* 100 - 22 = 78 left in the check state: 85 + 1 does not fit. */
    assert_int_equal(app_check_tx(nd.app, big.data, big.len, 0, &res), CAIRN_OK);
    assert_int_equal(res.code, APP_CODE_INSUFFICIENT_FUNDS);
    /* check_tx never touches committed state. */
    assert_int_equal(account(&nd, ADDR[0]).nonce, 0);
    assert_int_equal(block_one(&nd, 1, &s0), APP_CODE_OK);
    /* After commit the check state is the committed state again. */
    assert_int_equal(app_check_tx(nd.app, t1.data, t1.len, 0, &res), CAIRN_OK);
    assert_int_equal(res.code, APP_CODE_OK);
    buf_deinit(&t0);
    buf_deinit(&t1);
    buf_deinit(&big);
    node_stop(&nd);
}

/* ------------------------------------------------------------ determinism */

#define BIG 10000

static buf_t big_txs[BIG];

static void big_txs_build(int changed)
{
    /* Deterministic transfers: sender i % N pays a pseudo-random other account. */
    uint64_t nonce[N_ACCOUNTS] = {0};
    uint64_t x = 12345;
    for (int i = 0; i < BIG; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int from = i % N_ACCOUNTS;
        int to = (int)((x >> 33) % N_ACCOUNTS);
        txspec s = {TX_TRANSFER, from, nonce[from]++, (x >> 20) % 5, to, 1 + (x >> 40) % 1000,
                    NULL, NULL};
        if (i == changed) s.amount++;
        buf_deinit(&big_txs[i]);
        buf_init(&big_txs[i], TX_BYTES_MAX);
        tx_build(&s, &big_txs[i]);
    }
}

/* Runs txs [0, BIG) in blocks of `per_block`; returns final hash in out. */
static void run_big(unsigned flags, int per_block, uint8_t out[HASH_BYTES])
{
    node nd;
    node_start(&nd, GENESIS_BALANCE);
    uint64_t height = 0;
    for (int i = 0; i < BIG;) {
        header_t h;
        memset(&h, 0, sizeof h);
        h.chain_id = CID;
        h.height = ++height;
        assert_int_equal(app_begin_block(nd.app, &h), CAIRN_OK);
        for (int j = 0; j < per_block && i < BIG; j++, i++) {
            app_result_t res;
            assert_int_equal(
                app_deliver_tx(nd.app, big_txs[i].data, big_txs[i].len, flags, &res), CAIRN_OK);
            assert_int_equal(res.code, APP_CODE_OK);
        }
        kv_batch b;
        kv_batch_init(&b);
        assert_int_equal(app_commit(nd.app, nd.hash, &b), CAIRN_OK);
        persist(&nd, &b);
    }
    memcpy(out, nd.hash, HASH_BYTES);
    node_stop(&nd);
}

static void block_of_10000_transfers_gives_one_app_hash(void **state)
{
    (void)state;
    uint8_t one[HASH_BYTES], again[HASH_BYTES], split[HASH_BYTES], changed[HASH_BYTES];
    big_txs_build(-1);
    run_big(0, BIG, one); /* with signature verification */
    run_big(APP_TX_SIG_VERIFIED, BIG, again);
    assert_memory_equal(one, again, HASH_BYTES);
    run_big(APP_TX_SIG_VERIFIED, 997, split); /* 11 blocks */
    assert_memory_equal(one, split, HASH_BYTES);
    big_txs_build(4321);
    run_big(APP_TX_SIG_VERIFIED, BIG, changed);
    assert_memory_not_equal(one, changed, HASH_BYTES);
    for (int i = 0; i < BIG; i++) buf_deinit(&big_txs[i]);
}

/* Random txs, valid and not, one block each: a failing tx leaves the app hash
 * as it was, and the total of all balances is genesis minus the fees of the
 * txs that succeeded. */
static void random_txs_conserve_supply_and_failures_change_nothing(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    uint64_t nonce[N_ACCOUNTS] = {0}, burnt = 0, x = 77;
    int ok = 0, failed = 0;
    static const char *keys[] = {"a", "bb", "ccc"};
    for (uint64_t height = 1; height <= 400; height++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int from = (int)((x >> 33) % 8);
        txspec s = {TX_TRANSFER, from, nonce[from], (x >> 10) % 50, (int)((x >> 40) % 9) - 1,
                    (x >> 20) % 700, NULL, NULL};
        if ((x >> 50) % 5 == 0) s.nonce += 1 + (x >> 55) % 2; /* wrong nonce */
        if ((x >> 45) % 4 == 0) {
            s.type = (x >> 47) % 2 ? TX_PUT : TX_DELETE;
            s.key = keys[(x >> 52) % 3];
            s.value = "v";
        }
        uint8_t before[HASH_BYTES];
        memcpy(before, nd.hash, HASH_BYTES);
        uint32_t code = block_one(&nd, height, &s);
        if (code == APP_CODE_OK) {
            ok++;
            nonce[from]++;
            burnt += s.fee;
        } else {
            failed++;
            assert_memory_equal(before, nd.hash, HASH_BYTES);
        }
    }
    assert_true(ok > 100 && failed > 50);
    uint64_t total = 0;
    for (int i = 0; i < N_ACCOUNTS; i++) {
        ledger_account_t a = account(&nd, ADDR[i]);
        total += a.balance;
        assert_int_equal(a.nonce, nonce[i]);
    }
    uint8_t fresh[ADDR_BYTES];
    memset(fresh, 0xee, ADDR_BYTES);
    total += account(&nd, fresh).balance;
    assert_int_equal(total, 1000ULL * N_ACCOUNTS - burnt);
    node_stop(&nd);
}

/* ------------------------------------------------------------ queries */

static void account_proofs_verify_against_the_app_hash(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    txspec s = {TX_TRANSFER, 0, 0, 1, 1, 10, NULL, NULL};
    assert_int_equal(block_one(&nd, 1, &s), APP_CODE_OK);
    uint8_t h1[HASH_BYTES];
    memcpy(h1, nd.hash, HASH_BYTES);
    txspec s2 = {TX_TRANSFER, 0, 1, 1, 1, 10, NULL, NULL};
    assert_int_equal(block_one(&nd, 2, &s2), APP_CODE_OK);
    for (int i = 0; i < N_ACCOUNTS; i++) {
        app_query_result_t q;
        assert_int_equal(app_query(nd.app, "/account", ADDR[i], ADDR_BYTES, 0, true, &q),
                         CAIRN_OK);
        assert_int_equal(q.height, 2);
        assert_non_null(q.value);
        assert_int_equal(cairn_proof_verify(nd.hash, q.key, q.key_len, q.value, q.value_len,
                                            q.proof, q.proof_len),
                         CAIRN_PROOF_OK);
        assert_int_not_equal(cairn_proof_verify(h1, q.key, q.key_len, q.value, q.value_len,
                                                q.proof, q.proof_len),
                             CAIRN_PROOF_OK);
        app_query_result_free(&q);
    }
    uint8_t nobody[ADDR_BYTES];
    memset(nobody, 0x77, ADDR_BYTES);
    app_query_result_t q;
    assert_int_equal(app_query(nd.app, "/account", nobody, ADDR_BYTES, 0, true, &q), CAIRN_OK);
    assert_null(q.value);
    assert_int_equal(cairn_proof_verify(nd.hash, q.key, q.key_len, NULL, 0, q.proof, q.proof_len),
                     CAIRN_PROOF_OK);
    app_query_result_free(&q);
    /* At height 1 the sender had paid once, and the proof is for h1. */
    assert_int_equal(app_query(nd.app, "/account", ADDR[0], ADDR_BYTES, 1, true, &q), CAIRN_OK);
    ledger_account_t a;
    assert_int_equal(ledger_account_decode(&a, q.value, q.value_len), CAIRN_OK);
    assert_int_equal(a.balance, 989);
    assert_int_equal(cairn_proof_verify(h1, q.key, q.key_len, q.value, q.value_len, q.proof,
                                        q.proof_len),
                     CAIRN_PROOF_OK);
    app_query_result_free(&q);
    node_stop(&nd);
}

static void pruned_heights_answer_bad_height_and_later_ones_still_work(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    for (uint64_t h = 1; h <= 3; h++) {
        txspec s = {TX_TRANSFER, 0, h - 1, 1, 1, 10, NULL, NULL};
        assert_int_equal(block_one(&nd, h, &s), APP_CODE_OK);
    }
    uint64_t oldest = 99;
    assert_int_equal(app_oldest_height(nd.app, &oldest), CAIRN_OK);
    assert_int_equal(oldest, 0); /* nothing pruned: the genesis state is there */
    for (uint64_t h = 1; h <= 2; h++) { /* forget heights 0 and 1 */
        kv_batch b;
        kv_batch_init(&b);
        assert_int_equal(app_prune(nd.app, h, &b), CAIRN_OK);
        persist(&nd, &b);
        assert_int_equal(app_oldest_height(nd.app, &oldest), CAIRN_OK);
        assert_int_equal(oldest, h);
    }
    app_query_result_t q;
    assert_int_equal(app_query(nd.app, "/account", ADDR[0], ADDR_BYTES, 1, true, &q), CAIRN_OK);
    assert_int_equal(q.code, APP_CODE_BAD_HEIGHT);
    assert_int_equal(app_query(nd.app, "/account", ADDR[0], ADDR_BYTES, 1, false, &q), CAIRN_OK);
    assert_int_equal(q.code, APP_CODE_BAD_HEIGHT);
    assert_int_equal(app_query(nd.app, "/account", ADDR[0], ADDR_BYTES, 2, true, &q), CAIRN_OK);
    assert_int_equal(q.code, APP_CODE_OK);
    ledger_account_t a;
    assert_int_equal(ledger_account_decode(&a, q.value, q.value_len), CAIRN_OK);
    assert_int_equal(a.nonce, 2);
    app_query_result_free(&q);
    txspec s = {TX_TRANSFER, 0, 3, 1, 1, 10, NULL, NULL};
    assert_int_equal(block_one(&nd, 4, &s), APP_CODE_OK);
    assert_int_equal(account(&nd, ADDR[1]).balance, 1040);
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(app_prune(nd.app, 5, &b), CAIRN_EINVALID_ARG); /* beyond the last */
    kv_batch_deinit(&b);
    node_stop(&nd);
}

static void bad_queries_get_codes(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1);
    app_query_result_t q;
    assert_int_equal(app_query(nd.app, "/nope", ADDR[0], ADDR_BYTES, 0, false, &q), CAIRN_OK);
    assert_int_equal(q.code, APP_CODE_UNKNOWN_PATH);
    assert_int_equal(app_query(nd.app, "/account", ADDR[0], 3, 0, false, &q), CAIRN_OK);
    assert_int_equal(q.code, APP_CODE_BAD_QUERY);
    assert_int_equal(app_query(nd.app, "/account", ADDR[0], ADDR_BYTES, 5, false, &q), CAIRN_OK);
    assert_int_equal(q.code, APP_CODE_BAD_HEIGHT);
    node_stop(&nd);
}

static void restart_resumes_at_the_last_committed_height(void **state)
{
    (void)state;
    node nd;
    node_start(&nd, 1000);
    txspec s = {TX_TRANSFER, 0, 0, 1, 1, 10, NULL, NULL};
    assert_int_equal(block_one(&nd, 1, &s), APP_CODE_OK);
    app_free(nd.app);
    assert_int_equal(ledger_new(&CID, kv_mem_reader(nd.store), &nd.app), CAIRN_OK);
    app_info_t info;
    app_info(nd.app, &info);
    assert_true(info.initialized);
    assert_int_equal(info.height, 1);
    assert_memory_equal(info.app_hash, nd.hash, HASH_BYTES);
    txspec s2 = {TX_TRANSFER, 0, 1, 1, 1, 10, NULL, NULL};
    assert_int_equal(block_one(&nd, 2, &s2), APP_CODE_OK);
    assert_int_equal(account(&nd, ADDR[1]).balance, 1020);
    /* A damaged meta record is reported, not trusted. */
    uint8_t bad[41] = {1};
    assert_int_equal(kv_mem_put(nd.store, "Ameta", 5, bad, sizeof bad), CAIRN_OK);
    app_t *other;
    assert_int_equal(ledger_new(&CID, kv_mem_reader(nd.store), &other), CAIRN_ECORRUPT);
    node_stop(&nd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(genesis_accounts_are_queryable_and_hash_is_the_tree_root),
        cmocka_unit_test(genesis_rejects_duplicate_address_and_second_init),
        cmocka_unit_test(transfer_moves_amount_and_burns_fee),
        cmocka_unit_test(transfer_to_self_costs_only_the_fee),
        cmocka_unit_test(replayed_tx_is_rejected_as_bad_nonce),
        cmocka_unit_test(nonce_from_the_future_is_rejected),
        cmocka_unit_test(overdraft_including_fee_is_rejected_and_changes_nothing),
        cmocka_unit_test(recipient_balance_overflow_is_rejected),
        cmocka_unit_test(bad_signature_is_rejected_unless_caller_says_verified),
        cmocka_unit_test(tx_signed_for_another_chain_fails_signature_check),
        cmocka_unit_test(oversize_unknown_and_malformed_txs_get_their_own_codes),
        cmocka_unit_test(result_codes_are_distinct),
        cmocka_unit_test(begin_block_checks_height_and_chain_id),
        cmocka_unit_test(next_block_refuses_to_run_on_an_unpersisted_commit),
        cmocka_unit_test(records_live_in_the_senders_namespace),
        cmocka_unit_test(check_tx_tracks_pending_nonces_until_commit),
        cmocka_unit_test(block_of_10000_transfers_gives_one_app_hash),
        cmocka_unit_test(random_txs_conserve_supply_and_failures_change_nothing),
        cmocka_unit_test(account_proofs_verify_against_the_app_hash),
        cmocka_unit_test(pruned_heights_answer_bad_height_and_later_ones_still_work),
        cmocka_unit_test(bad_queries_get_codes),
        cmocka_unit_test(restart_resumes_at_the_last_committed_height),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
