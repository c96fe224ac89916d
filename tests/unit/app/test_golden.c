/* A known answer for the ledger's app hash: fixed genesis, fixed block of
 * transfers, puts and deletes, fixed resulting root. The same value on every
 * machine and compiler is what "state depends on nothing but the blocks" means
 * in practice (byte order, padding, hashing order); a change of the state
 * encoding must change this constant knowingly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "app/app.h"
#include "app/kv_mem.h"
#include "base/bytes.h"

#define N_ACC 64
#define N_TX 2000

/* Recorded from this test's first run (x86_64, gcc 12, Debian 12). */
static const char GOLDEN_GENESIS[] = "EEEDC2C5BF536268B15F0CC3812C56712D2D3BB5BDADC2248EB3EAFE6A90F6A1";
static const char GOLDEN_BLOCK1[] = "23C1A237065DE6205126BB33A95A37CD79DC3393E2D782FC9F54CC39697FE918";

static void app_hash_of_a_fixed_block_is_a_known_constant(void **state)
{
    (void)state;
    assert_int_equal(crypto_init(), CAIRN_OK);
    chain_id_t cid;
    assert_int_equal(chain_id_set(&cid, "golden-1"), CAIRN_OK);
    keypair_t kp[N_ACC];
    app_genesis_account_t g[N_ACC];
    for (int i = 0; i < N_ACC; i++) {
        uint8_t seed[SEED_BYTES];
        memset(seed, 0, sizeof seed);
        seed[0] = (uint8_t)i;
        seed[31] = 0x42;
        key_from_seed(&kp[i], seed);
        key_address(g[i].address, kp[i].pub);
        g[i].balance = 1000000 + (uint64_t)i;
    }
    kv_mem *m = kv_mem_new();
    app_t *app;
    assert_int_equal(ledger_new(&cid, kv_mem_reader(m), &app), CAIRN_OK);
    uint8_t hash[HASH_BYTES];
    char hex[2 * HASH_BYTES + 1];
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(app_init_chain(app, g, N_ACC, hash, &b), CAIRN_OK);
    assert_int_equal(kv_mem_apply(m, &b), CAIRN_OK);
    kv_batch_deinit(&b);
    hex_encode_upper(hex, hash, HASH_BYTES);
    printf("genesis app hash %s\n", hex);
    assert_string_equal(hex, GOLDEN_GENESIS);

    header_t h;
    memset(&h, 0, sizeof h);
    h.chain_id = cid;
    h.height = 1;
    assert_int_equal(app_begin_block(app, &h), CAIRN_OK);
    uint64_t nonce[N_ACC] = {0};
    uint32_t ok = 0;
    for (int i = 0; i < N_TX; i++) {
        int from = (i * 7) % N_ACC, to = (i * 13 + 5) % N_ACC;
        tx_t tx;
        memset(&tx, 0, sizeof tx);
        tx.version = CHAIN_VERSION;
        memcpy(tx.sender, kp[from].pub, PUBKEY_BYTES);
        tx.nonce = nonce[from];
        tx.fee = (uint64_t)(i % 3);
        char key[16], val[32];
        snprintf(key, sizeof key, "k%d", i % 50);
        snprintf(val, sizeof val, "value-%d", i);
        switch (i % 10) {
        case 0:
            tx.type = TX_PUT;
            tx.key = (const uint8_t *)key;
            tx.key_len = (uint32_t)strlen(key);
            tx.value = (const uint8_t *)val;
            tx.value_len = (uint32_t)strlen(val);
            break;
        case 1:
            tx.type = TX_DELETE;
            tx.key = (const uint8_t *)key;
            tx.key_len = (uint32_t)strlen(key);
            break;
        default:
            tx.type = TX_TRANSFER;
            key_address(tx.to, kp[to].pub);
            tx.amount = 1 + (uint64_t)(i % 97);
        }
        buf_t raw;
        buf_init(&raw, TX_BYTES_MAX);
        assert_int_equal(tx_sign(&tx, &cid, &kp[from]), CAIRN_OK);
        assert_int_equal(tx_encode(&tx, &raw), CAIRN_OK);
        app_result_t res;
        assert_int_equal(app_deliver_tx(app, raw.data, raw.len, APP_TX_SIG_VERIFIED, &res), CAIRN_OK);
        buf_deinit(&raw);
        if (res.code == APP_CODE_OK) {
            nonce[from]++;
            ok++;
        }
    }
    size_t nu;
    assert_int_equal(app_end_block(app, 1, NULL, 0, &nu), CAIRN_OK);
    kv_batch_init(&b);
    assert_int_equal(app_commit(app, hash, &b), CAIRN_OK);
    kv_batch_deinit(&b);
    hex_encode_upper(hex, hash, HASH_BYTES);
    printf("block 1: %u of %d txs succeeded, app hash %s\n", ok, N_TX, hex);
    assert_int_equal(ok, N_TX); /* every nonce in sequence, every balance enough */
    assert_string_equal(hex, GOLDEN_BLOCK1);
    app_free(app);
    kv_mem_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(app_hash_of_a_fixed_block_is_a_known_constant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
