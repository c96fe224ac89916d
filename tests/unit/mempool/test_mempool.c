#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mempool/mempool.h"

/* A pending tx as the node would hand it over: raw bytes and hash. */
typedef struct {
    uint8_t raw[64];
    size_t len;
    uint8_t hash[HASH_BYTES];
} fake_tx;

static void make_tx(fake_tx *f, uint8_t sender, uint64_t nonce, size_t len)
{
    memset(f, 0, sizeof *f);
    f->len = len;
    f->raw[0] = sender;
    memcpy(f->raw + 1, &nonce, 8);
    tx_hash(f->hash, f->raw, f->len);
}

static mempool_t *new_pool(size_t max_txs, size_t max_bytes)
{
    mempool_config cfg;
    mempool_config_defaults(&cfg);
    cfg.max_txs = max_txs;
    cfg.max_bytes = max_bytes;
    cfg.max_tx_bytes = 40;
    cfg.cache_size = 16;
    mempool_t *mp;
    assert_int_equal(mempool_new(&cfg, &mp), CAIRN_OK);
    return mp;
}

static cairn_err add(mempool_t *mp, const fake_tx *f)
{
    return mempool_add(mp, f->raw, f->len, f->hash);
}

static void rejections_are_distinct_and_change_nothing(void **state)
{
    (void)state;
    mempool_t *mp = new_pool(2, 1000);
    fake_tx a, b, c, big;
    make_tx(&a, 1, 0, 20);
    make_tx(&b, 1, 1, 20);
    make_tx(&c, 2, 0, 20);
    make_tx(&big, 3, 0, 41);
    assert_int_equal(add(mp, &a), CAIRN_OK);
    assert_int_equal(add(mp, &a), CAIRN_EDUPLICATE);
    assert_int_equal(add(mp, &big), CAIRN_ETOO_LARGE);
    assert_int_equal(add(mp, &b), CAIRN_OK);
    assert_int_equal(mempool_precheck(mp, c.hash, c.len), CAIRN_EMEMPOOL_FULL);
    assert_int_equal(add(mp, &c), CAIRN_EMEMPOOL_FULL);
    assert_int_equal(mempool_count(mp), 2);
    assert_int_equal(mempool_bytes(mp), 40);
    mempool_free(mp);

    mp = new_pool(10, 30);
    assert_int_equal(add(mp, &a), CAIRN_OK);
    assert_int_equal(add(mp, &c), CAIRN_EMEMPOOL_FULL); /* bytes bound */
    mempool_free(mp);
}

static void reap_respects_count_and_byte_limits_in_arrival_order(void **state)
{
    (void)state;
    mempool_t *mp = new_pool(10, 1000);
    fake_tx t[5];
    for (int i = 0; i < 5; i++) {
        make_tx(&t[i], (uint8_t)(10 + i), 0, 10 + (size_t)i);
        assert_int_equal(add(mp, &t[i]), CAIRN_OK);
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

/* The re-check: keep what the table marks as still valid. */
static bool keep_marked(void *ctx, const uint8_t *raw, size_t len)
{
    (void)len;
    return ((const bool *)ctx)[raw[0]];
}

static void update_removes_committed_and_rechecks_the_rest_in_order(void **state)
{
    (void)state;
    mempool_t *mp = new_pool(20, 10000);
    fake_tx t[6];
    for (int i = 0; i < 6; i++) {
        make_tx(&t[i], (uint8_t)i, 0, 20);
        assert_int_equal(add(mp, &t[i]), CAIRN_OK);
    }
    bool keep[256];
    memset(keep, 1, sizeof keep);
    keep[3] = false; /* no longer valid against the new state */
    bytes_view committed[2] = {{t[0].raw, t[0].len}, {t[5].raw, t[5].len}};
    assert_int_equal(mempool_update(mp, committed, 2, keep_marked, keep), 1);
    assert_false(mempool_contains(mp, t[0].hash));
    assert_false(mempool_contains(mp, t[3].hash));
    assert_false(mempool_contains(mp, t[5].hash));
    assert_int_equal(mempool_count(mp), 3);
    bytes_view out[6];
    assert_int_equal(mempool_reap(mp, 10000, 10, out), 3);
    assert_memory_equal(out[0].p, t[1].raw, t[1].len);
    assert_memory_equal(out[1].p, t[2].raw, t[2].len);
    assert_memory_equal(out[2].p, t[4].raw, t[4].len);
    /* A committed tx that comes back by gossip is a duplicate, not re-added. */
    assert_int_equal(add(mp, &t[0]), CAIRN_EDUPLICATE);
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
        assert_int_equal(add(mp, &t[i]), CAIRN_OK);
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
        cmocka_unit_test(reap_respects_count_and_byte_limits_in_arrival_order),
        cmocka_unit_test(update_removes_committed_and_rechecks_the_rest_in_order),
        cmocka_unit_test(visit_from_a_cursor_sees_each_transaction_once),
        cmocka_unit_test(signature_cache_forgets_the_oldest_when_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
