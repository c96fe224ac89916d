/* bench_state - throughput of the state machine (src/app): transfers executed
 * and committed, Ed25519 verification, proofs, and state tree update cost.
 *
 * Everything runs on one core against the in-memory kv (src/app/kv_mem.c), not
 * RocksDB: the figures are for execution and hashing, not disk. Runs in well
 * under two minutes. `bench_state --quick` skips the 10^6-account tree;
 * `--transfers` runs only the first (no signature checks) figure, for profiling. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "app/kv_mem.h"
#include "app/smt.h"
#include "cairn/proof.h"

/* CPU time of this process: on a machine shared with other jobs, wall time
 * would measure the neighbours too. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#define CHECK(expr)                                                                \
    do {                                                                           \
        cairn_err rc_ = (expr);                                                    \
        if (rc_ != CAIRN_OK) {                                                     \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr,          \
                    cairn_strerror(rc_));                                          \
            exit(1);                                                               \
        }                                                                          \
    } while (0)

/* ------------------------------------------------------------ transfers */

#define ACCOUNTS 10000
#define SENDERS 1000
#define BLOCK_TXS 10000
#define BLOCKS 5

static chain_id_t cid;
static keypair_t *senders;
static buf_t *txs;

static void addr_of(uint8_t out[ADDR_BYTES], uint32_t i)
{
    if (i < SENDERS) {
        key_address(out, senders[i].pub);
        return;
    }
    memset(out, 0, ADDR_BYTES);
    memcpy(out, &i, sizeof i);
    out[19] = 0xaa;
}

static void txs_build(void)
{
    senders = calloc(SENDERS, sizeof *senders);
    txs = calloc(BLOCKS * BLOCK_TXS, sizeof *txs);
    for (uint32_t i = 0; i < SENDERS; i++) {
        uint8_t seed[SEED_BYTES] = {0};
        memcpy(seed, &i, sizeof i);
        key_from_seed(&senders[i], seed);
    }
    uint64_t s = 1, nonce[SENDERS] = {0};
    for (int i = 0; i < BLOCKS * BLOCK_TXS; i++) {
        uint32_t from = (uint32_t)(i % SENDERS);
        tx_t tx;
        memset(&tx, 0, sizeof tx);
        tx.version = CHAIN_VERSION;
        tx.type = TX_TRANSFER;
        memcpy(tx.sender, senders[from].pub, PUBKEY_BYTES);
        tx.nonce = nonce[from]++;
        tx.fee = 1;
        addr_of(tx.to, (uint32_t)(rng(&s) % ACCOUNTS));
        tx.amount = 1 + rng(&s) % 100;
        CHECK(tx_sign(&tx, &cid, &senders[from]));
        buf_init(&txs[i], TX_BYTES_MAX);
        CHECK(tx_encode(&tx, &txs[i]));
    }
}

/* Runs BLOCKS blocks of BLOCK_TXS transfers; returns transfers per second. */
static double run_blocks(unsigned flags, double *commit_share, double *persist_share)
{
    kv_mem *store = kv_mem_new();
    app_t *app;
    CHECK(ledger_new(&cid, kv_mem_reader(store), &app));
    app_genesis_account_t *g = calloc(ACCOUNTS, sizeof *g);
    for (uint32_t i = 0; i < ACCOUNTS; i++) {
        addr_of(g[i].address, i);
        g[i].balance = 1000000000;
    }
    uint8_t hash[HASH_BYTES];
    kv_batch b;
    kv_batch_init(&b);
    CHECK(app_init_chain(app, g, ACCOUNTS, hash, &b));
    CHECK(kv_mem_apply(store, &b));
    kv_batch_deinit(&b);
    free(g);
    double t_commit = 0, t_persist = 0, t0 = now_s();
    for (int blk = 0; blk < BLOCKS; blk++) {
        header_t h;
        memset(&h, 0, sizeof h);
        h.chain_id = cid;
        h.height = (uint64_t)blk + 1;
        CHECK(app_begin_block(app, &h));
        for (int i = 0; i < BLOCK_TXS; i++) {
            app_result_t res;
            const buf_t *t = &txs[blk * BLOCK_TXS + i];
            CHECK(app_deliver_tx(app, t->data, t->len, flags, &res));
            if (res.code != APP_CODE_OK) {
                fprintf(stderr, "tx failed: %s\n", res.log);
                exit(1);
            }
        }
        size_t nu;
        CHECK(app_end_block(app, h.height, NULL, 0, &nu));
        double tc = now_s();
        kv_batch_init(&b);
        CHECK(app_commit(app, hash, &b));
        double ta = now_s();
        CHECK(kv_mem_apply(store, &b));
        double tb = now_s();
        kv_batch_deinit(&b);
        t_commit += now_s() - tc;
        t_persist += now_s() - ta;
        (void)tb;
    }
    double dt = now_s() - t0;
    *commit_share = t_commit / dt;
    *persist_share = t_persist / dt;
    app_free(app);
    kv_mem_free(store);
    return BLOCKS * BLOCK_TXS / dt;
}

static void bench_ed25519(void)
{
    keypair_t kp;
    uint8_t seed[SEED_BYTES] = {7}, msg[200] = {1}, sig[SIG_BYTES];
    key_from_seed(&kp, seed);
    key_sign(sig, &kp, msg, sizeof msg);
    int n = 20000;
    double t0 = now_s();
    for (int i = 0; i < n; i++) CHECK(key_verify(sig, kp.pub, msg, sizeof msg));
    printf("ed25519 verifications/s                %10.0f\n", n / (now_s() - t0));
}

/* ------------------------------------------------------------ tree */

typedef struct {
    kv_mem *store;
    uint64_t version;
    uint8_t root[SMT_HASH_BYTES];
} tree;

static void key_of(uint8_t k[8], uint64_t i) { memcpy(k, &i, 8); }

/* Inserts n accounts in batches of `chunk`, one version per batch. */
static void tree_build(tree *t, uint64_t n, uint64_t chunk)
{
    t->store = kv_mem_new();
    t->version = SMT_VERSION_NONE;
    smt_op *ops = calloc(chunk, sizeof *ops);
    uint8_t (*keys)[8] = calloc(chunk, 8);
    uint8_t val[LEDGER_ACCOUNT_BYTES];
    ledger_account_t a = {1000, 0};
    ledger_account_encode(&a, val);
    kv_reader r = kv_mem_reader(t->store);
    for (uint64_t done = 0; done < n; done += chunk) {
        uint64_t m = n - done < chunk ? n - done : chunk;
        for (uint64_t j = 0; j < m; j++) {
            key_of(keys[j], done + j);
            ops[j] = (smt_op){keys[j], 8, val, sizeof val};
        }
        kv_batch b;
        kv_batch_init(&b);
        uint64_t next = t->version == SMT_VERSION_NONE ? 0 : t->version + 1;
        CHECK(smt_apply(&r, t->version, next, ops, m, &b, t->root, NULL));
        CHECK(kv_mem_apply(t->store, &b));
        kv_batch_deinit(&b);
        t->version = next;
    }
    free(ops);
    free(keys);
}

/* `rounds` versions of `per` random updates of existing keys. */
static void tree_updates(tree *t, uint64_t n, int rounds, int per, double *us_per_update,
                         double *nodes_per_update)
{
    smt_op *ops = calloc((size_t)per, sizeof *ops);
    uint8_t (*keys)[8] = calloc((size_t)per, 8);
    uint8_t (*vals)[LEDGER_ACCOUNT_BYTES] = calloc((size_t)per, LEDGER_ACCOUNT_BYTES);
    kv_reader r = kv_mem_reader(t->store);
    smt_stats st = {0};
    uint64_t s = 42 + (uint64_t)per;
    double dt = 0;
    for (int k = 0; k < rounds; k++) {
        for (int j = 0; j < per; j++) {
            key_of(keys[j], rng(&s) % n);
            ledger_account_t a = {rng(&s), (uint64_t)k + 1};
            ledger_account_encode(&a, vals[j]);
            ops[j] = (smt_op){keys[j], 8, vals[j], LEDGER_ACCOUNT_BYTES};
        }
        kv_batch b;
        kv_batch_init(&b);
        double t0 = now_s();
        CHECK(smt_apply(&r, t->version, t->version + 1, ops, (size_t)per, &b, t->root, &st));
        dt += now_s() - t0;
        CHECK(kv_mem_apply(t->store, &b));
        kv_batch_deinit(&b);
        t->version++;
    }
    *us_per_update = dt * 1e6 / ((double)rounds * per);
    *nodes_per_update = (double)st.nodes_written / ((double)rounds * per);
    free(ops);
    free(keys);
    free(vals);
}

static void bench_proofs(tree *t, uint64_t n)
{
    kv_reader r = kv_mem_reader(t->store);
    int count = 20000;
    buf_t *pf = calloc((size_t)count, sizeof *pf);
    uint8_t (*keys)[8] = calloc((size_t)count, 8);
    uint8_t **vals = calloc((size_t)count, sizeof *vals);
    size_t *vlens = calloc((size_t)count, sizeof *vlens);
    uint64_t s = 9;
    double t0 = now_s();
    for (int i = 0; i < count; i++) {
        key_of(keys[i], rng(&s) % (2 * n)); /* half present, half absent */
        buf_init(&pf[i], CAIRN_PROOF_BYTES_MAX);
        bool found;
        CHECK(smt_prove(&r, t->version, keys[i], 8, &pf[i], &vals[i], &vlens[i], &found));
    }
    double gen = count / (now_s() - t0);
    size_t bytes = 0;
    t0 = now_s();
    for (int i = 0; i < count; i++) {
        if (cairn_proof_verify(t->root, keys[i], 8, vals[i], vlens[i], pf[i].data, pf[i].len)) {
            fprintf(stderr, "proof %d does not verify\n", i);
            exit(1);
        }
        bytes += pf[i].len;
    }
    double ver = count / (now_s() - t0);
    printf("proofs generated/s (%" PRIu64 " keys)     %10.0f\n", n, gen);
    printf("proofs verified/s                      %10.0f   (mean %zu bytes)\n", ver,
           bytes / (size_t)count);
    for (int i = 0; i < count; i++) {
        buf_deinit(&pf[i]);
        free(vals[i]);
    }
    free(pf);
    free(keys);
    free(vals);
    free(vlens);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    bool transfers_only = argc > 1 && strcmp(argv[1], "--transfers") == 0;
    CHECK(crypto_init());
    CHECK(chain_id_set(&cid, "bench"));
    printf("bench_state: one core, in-memory kv (not RocksDB), rates per CPU second\n");
    double t0 = now_s();
    txs_build();
    printf("(signed %d transfers in %.1f s)\n", BLOCKS * BLOCK_TXS, now_s() - t0);
    double share, pshare;
    double tps = run_blocks(APP_TX_SIG_VERIFIED, &share, &pshare);
    printf("transfers executed+committed/s         %10.0f   (no signature checks; %d accounts,"
           " blocks of %d; commit %.0f%% of time, of which writing the batch to the kv"
           " %.0f%%)\n",
           tps, ACCOUNTS, BLOCK_TXS, share * 100, pshare * 100);
    if (transfers_only) return 0;
    tps = run_blocks(0, &share, &pshare);
    printf("transfers executed+committed/s         %10.0f   (with Ed25519 verification)\n", tps);
    bench_ed25519();
    for (int i = 0; i < BLOCKS * BLOCK_TXS; i++) buf_deinit(&txs[i]);
    free(txs);
    free(senders);

    uint64_t sizes[3] = {10000, 100000, 1000000};
    for (int i = 0; i < (quick ? 2 : 3); i++) {
        tree t;
        t0 = now_s();
        tree_build(&t, sizes[i], 100000);
        double build = now_s() - t0;
        double us1, nodes1, us1k, nodes1k;
        tree_updates(&t, sizes[i], 2000, 1, &us1, &nodes1);
        tree_updates(&t, sizes[i], 10, 1000, &us1k, &nodes1k);
        printf("tree %7" PRIu64 " accounts: build %.1f s; 1 update/version: %.1f us, %.1f nodes"
               " written; 1000 updates/version: %.1f us, %.1f nodes written per update"
               " (kv %zu entries, %zu MB)\n",
               sizes[i], build, us1, nodes1, us1k, nodes1k, kv_mem_count(t.store),
               kv_mem_bytes(t.store) >> 20);
        if (i == 1) bench_proofs(&t, sizes[i]);
        kv_mem_free(t.store);
    }
    return 0;
}
