#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mempool/mempool.h"

/* A pending tx as the node would hand it over: raw bytes, decoded fields, hash. */
typedef struct {
    uint8_t raw[64];
    size_t len;
    tx_t tx;
    uint8_t hash[HASH_BYTES];
} fake_tx;

static void make_tx(fake_tx *f, uint8_t sender, uint64_t nonce, size_t len)
{
    memset(f, 0, sizeof *f);
    f->len = len;
    f->raw[0] = sender;
    memcpy(f->raw + 1, &nonce, 8);
    f->tx.version = 1;
    f->tx.type = TX_TRANSFER;
    memset(f->tx.sender, sender, PUBKEY_BYTES);
    f->tx.nonce = nonce;
    tx_hash(f->hash, f->raw, f->len);
}

static mempool_t *new_pool(size_t max_txs, size_t max_bytes)
{
    mempool_config cfg;
    mempool_config_defaults(&cfg);
    cfg.max_txs = max_txs;
    cfg.max_bytes = max_bytes;
    cfg.cache_size = 16;
    mempool_t *mp;
    assert_int_equal(mempool_new(&cfg, &mp), CAIRN_OK);
    return mp;
}

static cairn_err add(mempool_t *mp, const fake_tx *f, uint64_t committed_nonce)
{
    return mempool_add(mp, f->raw, f->len, &f->tx, f->hash, committed_nonce);
}

static void rejections_are_distinct_and_change_nothing(void **state)
{
    (void)state;
    mempool_t *mp = new_pool(2, 1000);
    fake_tx a, b, c, gap;
    make_tx(&a, 1, 0, 20);
    make_tx(&b, 1, 1, 20);
    make_tx(&c, 2, 0, 20);
    make_tx(&gap, 3, 5, 20);
    assert_int_equal(add(mp, &a, 0), CAIRN_OK);
    assert_int_equal(add(mp, &a, 0), CAIRN_EDUPLICATE);
    assert_int_equal(add(mp, &gap, 0), CAIRN_EBAD_NONCE);
    assert_int_equal(add(mp, &b, 0), CAIRN_OK);
    assert_int_equal(add(mp, &c, 0), CAIRN_EMEMPOOL_FULL);
    assert_int_equal(mempool_count(mp), 2);
    assert_int_equal(mempool_bytes(mp), 40);
    mempool_free(mp);

    mp = new_pool(10, 30);
    assert_int_equal(add(mp, &a, 0), CAIRN_OK);
    assert_int_equal(add(mp, &c, 0), CAIRN_EMEMPOOL_FULL); /* bytes bound */
    mempool_free(mp);
}

static void next_nonce_counts_pending_transactions(void **state)
{
    (void)state;
    mempool_t *mp = new_pool(10, 1000);
    fake_tx t[3];
    for (int i = 0; i < 3; i++) {
        make_tx(&t[i], 7, 4 + (uint64_t)i, 16);
        assert_int_equal(add(mp, &t[i], 4), CAIRN_OK);
    }
    uint8_t sender[PUBKEY_BYTES];
    memset(sender, 7, sizeof sender);
    assert_int_equal(mempool_next_nonce(mp, sender, 4), 7);
    memset(sender, 8, sizeof sender);
    assert_int_equal(mempool_next_nonce(mp, sender, 9), 9);
    mempool_free(mp);
}

static void reap_respects_count_and_byte_limits_in_arrival_order(void **state)
{
    (void)state;
    mempool_t *mp = new_pool(10, 1000);
    fake_tx t[5];
    for (int i = 0; i < 5; i++) {
        make_tx(&t[i], (uint8_t)(10 + i), 0, 10 + (size_t)i);
        assert_int_equal(add(mp, &t[i], 0), CAIRN_OK);
    }
    bytes_view out[5];
    assert_int_equal(mempool_reap(mp, 1000, 3, out), 3);
    assert_ptr_not_equal(out[0].p, t[0].raw); /* copied in */
    assert_memory_equal(out[0].p, t[0].raw, t[0].len);
    assert_memory_equal(out[2].p, t[2].raw, t[2].len);
    assert_int_equal(mempool_reap(mp, 10 + 11 + 12, 10, out), 3);
    assert_int_equal(mempool_reap(mp, 10 + 11 + 11, 10, out), 2);
    mempool_free(mp);
}

static uint64_t nonce_table(void *ctx, const uint8_t sender[PUBKEY_BYTES])
{
    return ((const uint64_t *)ctx)[sender[0]];
}

static void update_removes_committed_and_drops_stale_and_orphaned(void **state)
{
    (void)state;
    mempool_t *mp = new_pool(20, 10000);
    fake_tx s1[3], s2[3];
    for (int i = 0; i < 3; i++) {
        make_tx(&s1[i], 1, (uint64_t)i, 20);
        make_tx(&s2[i], 2, (uint64_t)i, 21);
        assert_int_equal(add(mp, &s1[i], 0), CAIRN_OK);
        assert_int_equal(add(mp, &s2[i], 0), CAIRN_OK);
    }
    /* A block commits s1[0]; s2[0] was included elsewhere with other bytes, so the
     * committed nonce of sender 2 moves to 1 and our s2[0] is stale. */
    bytes_view committed[1] = {{s1[0].raw, s1[0].len}};
    uint64_t nonces[256] = {0};
    nonces[1] = 1;
    nonces[2] = 1;
    assert_int_equal(mempool_update(mp, committed, 1, nonce_table, nonces), 1);
    assert_false(mempool_contains(mp, s1[0].hash));
    assert_false(mempool_contains(mp, s2[0].hash));
    assert_true(mempool_contains(mp, s1[1].hash));
    assert_int_equal(mempool_count(mp), 4);
    /* The committed one comes back by gossip: duplicate, not re-added. */
    assert_int_equal(add(mp, &s1[0], 0), CAIRN_EDUPLICATE);

    /* The chain moves sender 1 to nonce 2 (its nonce 1 committed elsewhere): our
     * nonce 1 is stale, nonce 2 continues. Sender 2 jumps to 5: all stale. */
    nonces[1] = 2;
    nonces[2] = 5;
    assert_int_equal(mempool_update(mp, NULL, 0, nonce_table, nonces), 3);
    assert_true(mempool_contains(mp, s1[2].hash));
    assert_int_equal(mempool_count(mp), 1);
    uint8_t sender[PUBKEY_BYTES];
    memset(sender, 1, sizeof sender);
    assert_int_equal(mempool_next_nonce(mp, sender, 2), 3);
    mempool_free(mp);
}

static void a_gap_orphans_the_senders_later_transactions(void **state)
{
    (void)state;
    mempool_t *mp = new_pool(20, 10000);
    fake_tx t[3];
    for (int i = 0; i < 3; i++) {
        make_tx(&t[i], 4, (uint64_t)i, 20);
        assert_int_equal(add(mp, &t[i], 0), CAIRN_OK);
    }
    uint64_t nonces[256] = {0};
    /* t[0] is committed by hash but its nonce did not advance (it failed), so t[1]
     * and t[2] can never execute: they go. */
    bytes_view committed[1] = {{t[0].raw, t[0].len}};
    nonces[4] = 0;
    assert_int_equal(mempool_update(mp, committed, 1, nonce_table, nonces), 2);
    assert_int_equal(mempool_count(mp), 0);
    mempool_free(mp);
}

static void count_visit(void *ctx, const uint8_t *raw, size_t len, const uint8_t hash[HASH_BYTES])
{
    (void)raw;
    (void)len;
    (void)hash;
    (*(size_t *)ctx)++;
}

static void visit_from_a_cursor_sees_each_transaction_once(void **state)
{
    (void)state;
    mempool_t *mp = new_pool(20, 10000);
    fake_tx t[5];
    for (int i = 0; i < 5; i++) {
        make_tx(&t[i], (uint8_t)(20 + i), 0, 20);
        assert_int_equal(add(mp, &t[i], 0), CAIRN_OK);
    }
    size_t seen = 0;
    uint64_t cur = mempool_visit_from(mp, 0, 2, count_visit, &seen);
    assert_int_equal(seen, 2);
    cur = mempool_visit_from(mp, cur, 10, count_visit, &seen);
    assert_int_equal(seen, 5);
    mempool_visit_from(mp, cur, 10, count_visit, &seen);
    assert_int_equal(seen, 5);
    mempool_free(mp);
}

static void signature_cache_forgets_the_oldest_when_full(void **state)
{
    (void)state;
    mempool_t *mp = new_pool(20, 10000); /* cache_size 16 */
    uint8_t h[20][HASH_BYTES];
    for (int i = 0; i < 20; i++) {
        memset(h[i], i + 1, HASH_BYTES);
        mempool_sig_cache_add(mp, h[i]);
    }
    for (int i = 0; i < 4; i++) assert_false(mempool_sig_cache_has(mp, h[i]));
    for (int i = 4; i < 20; i++) assert_true(mempool_sig_cache_has(mp, h[i]));
    mempool_free(mp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rejections_are_distinct_and_change_nothing),
        cmocka_unit_test(next_nonce_counts_pending_transactions),
        cmocka_unit_test(reap_respects_count_and_byte_limits_in_arrival_order),
        cmocka_unit_test(update_removes_committed_and_drops_stale_and_orphaned),
        cmocka_unit_test(a_gap_orphans_the_senders_later_transactions),
        cmocka_unit_test(visit_from_a_cursor_sees_each_transaction_once),
        cmocka_unit_test(signature_cache_forgets_the_oldest_when_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
