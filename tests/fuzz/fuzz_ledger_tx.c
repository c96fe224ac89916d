/* fuzz_ledger_tx - the ledger executing arbitrary transaction bytes.
 *
 * Input: a block of txs, each as u16 length (LE) then the tx bytes, delivered
 * with APP_TX_SIG_VERIFIED (so the fuzzer reaches execution). Genesis funds the
 * senders whose public key is 32 bytes of 0x00, 0x01, 0x02 or 0x03. Checks: no
 * crash, commit succeeds, and money is conserved: the balances of every address
 * involved sum to genesis minus the fees of the txs that succeeded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/kv_mem.h"
#include "cairn/proof.h"

#define FUNDED 4
#define TXS_MAX 16
#define BALANCE 1000000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        if (crypto_init()) abort();
        init = 1;
    }
    chain_id_t cid;
    if (chain_id_set(&cid, "fuzz")) abort();
    kv_mem *store = kv_mem_new();
    app_t *app;
    if (!store || ledger_new(&cid, kv_mem_reader(store), &app)) abort();
    app_genesis_account_t g[FUNDED];
    for (int i = 0; i < FUNDED; i++) {
        uint8_t pub[PUBKEY_BYTES];
        memset(pub, i, sizeof pub);
        key_address(g[i].address, pub);
        g[i].balance = BALANCE;
    }
    uint8_t hash[HASH_BYTES];
    kv_batch b;
    kv_batch_init(&b);
    if (app_init_chain(app, g, FUNDED, hash, &b) || kv_mem_apply(store, &b)) abort();
    kv_batch_deinit(&b);

    uint8_t addrs[FUNDED + 2 * TXS_MAX][ADDR_BYTES];
    size_t n_addrs = 0;
    for (int i = 0; i < FUNDED; i++) memcpy(addrs[n_addrs++], g[i].address, ADDR_BYTES);
    header_t h;
    memset(&h, 0, sizeof h);
    h.chain_id = cid;
    h.height = 1;
    if (app_begin_block(app, &h)) abort();
    uint64_t burnt = 0;
    size_t pos = 0;
    for (int t = 0; t < TXS_MAX && size - pos >= 2; t++) {
        size_t len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
        pos += 2;
        if (len > size - pos) len = size - pos;
        const uint8_t *raw = data + pos;
        pos += len;
        app_result_t res;
        if (app_deliver_tx(app, raw, len, APP_TX_SIG_VERIFIED, &res)) abort();
        tx_t tx;
        if (tx_decode(&tx, raw, len) != CAIRN_OK) {
            if (res.code == APP_CODE_OK) abort(); /* undecodable yet accepted */
            continue;
        }
        key_address(addrs[n_addrs++], tx.sender);
        if (tx.type == TX_TRANSFER) memcpy(addrs[n_addrs++], tx.to, ADDR_BYTES);
        if (res.code == APP_CODE_OK) burnt += tx.fee;
    }
    kv_batch_init(&b);
    if (app_commit(app, hash, &b) || kv_mem_apply(store, &b)) abort();
    kv_batch_deinit(&b);

    uint64_t total = 0;
    for (size_t i = 0; i < n_addrs; i++) {
        int dup = 0;
        for (size_t j = 0; j < i; j++) dup |= memcmp(addrs[i], addrs[j], ADDR_BYTES) == 0;
        if (dup) continue;
        app_query_result_t q;
        if (app_query(app, "/account", addrs[i], ADDR_BYTES, 0, true, &q)) abort();
        if (q.value) {
            ledger_account_t a;
            if (ledger_account_decode(&a, q.value, q.value_len)) abort();
            total += a.balance;
        }
        if (cairn_proof_verify(hash, q.key, q.key_len, q.value, q.value_len, q.proof,
                               q.proof_len))
            abort();
        app_query_result_free(&q);
    }
    if (total != FUNDED * BALANCE - burnt) abort();
    app_free(app);
    kv_mem_free(store);
    return 0;
}
