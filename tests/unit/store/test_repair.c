/* test_repair.c - store_height_check and store_height_repair: damaged records of
 * one height are named, rewritten from good data in one batch and verify again;
 * wrong blocks, commits and results are refused and nothing is written then. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/log.h"
#include "store/store.h"
#include "store_chain_fixture.h"
#include "store_test_util.h"

#define N_BLOCKS 40
#define MAX_TXS 4 /* block h carries h % 5 txs */

typedef struct {
    char dir[256];
    char path[300];
    store_t *s;
} fixture;

/* The good records of one height, read before any damage. */
typedef struct {
    buf_t block, commit, results;
} good_height;

static fx_chain g_chain;

static int group_setup(void **state)
{
    (void)state;
    return fx_chain_make(&g_chain, N_BLOCKS, MAX_TXS);
}

static int group_teardown(void **state)
{
    (void)state;
    fx_chain_free(&g_chain);
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || tmpdir_make(f->dir) != 0) return -1;
    snprintf(f->path, sizeof f->path, "%s/db", f->dir);
    if (store_open(f->path, NULL, &f->s) != CAIRN_OK) return -1;
    for (uint64_t i = 0; i < N_BLOCKS; i++) {
        store_block_save_args a = fx_save_args(&g_chain.b[i]);
        if (store_block_save(f->s, &a) != CAIRN_OK) return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->s);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static void good_read(store_t *s, uint64_t h, good_height *g)
{
    buf_init(&g->block, BLOCK_BYTES_MAX);
    buf_init(&g->commit, 1 << 20);
    buf_init(&g->results, STORE_VALUE_MAX);
    assert_int_equal(store_block_get_raw(s, h, &g->block, NULL), CAIRN_OK);
    assert_int_equal(store_commit_get_raw(s, h, &g->commit), CAIRN_OK);
    assert_int_equal(store_results_get_raw(s, h, &g->results), CAIRN_OK);
}

static void good_free(good_height *g)
{
    buf_deinit(&g->block);
    buf_deinit(&g->commit);
    buf_deinit(&g->results);
}

static store_height_repair_args args_of(uint64_t h, const good_height *g)
{
    store_height_repair_args a = {
        .height = h,
        .block_raw = g->block.data, .block_len = g->block.len,
        .commit_raw = g->commit.data, .commit_len = g->commit.len,
        .results_raw = g->results.data, .results_len = g->results.len,
    };
    return a;
}

/* The same, but with another block (and its commit) for the height. */
static store_height_repair_args args_with_block(uint64_t h, const good_height *g,
                                                const fx_block *alt)
{
    store_height_repair_args a = args_of(h, g);
    a.block_raw = alt->raw.data;
    a.block_len = alt->raw.len;
    a.commit_raw = alt->commit.data;
    a.commit_len = alt->commit.len;
    return a;
}

static void put_height(store_t *s, store_cf cf, uint64_t h, const void *v, size_t len)
{
    uint8_t k[8];
    store_height_key(k, h);
    assert_int_equal(store_debug_put_raw(s, cf, k, 8, v, len), CAIRN_OK);
}

static void flip_block(store_t *s, uint64_t h)
{
    const fx_block *fb = &g_chain.b[h - 1];
    uint8_t *v = malloc(fb->raw.len);
    assert_non_null(v);
    memcpy(v, fb->raw.data, fb->raw.len);
    v[fb->raw.len / 2] ^= 0x10;
    put_height(s, STORE_CF_BLOCKS, h, v, fb->raw.len);
    free(v);
}

static uint64_t scrub_damaged(store_t *s)
{
    store_scrub_report rep;
    assert_int_equal(store_scrub(s, &rep, NULL, NULL), CAIRN_OK);
    uint64_t d = rep.damaged;
    store_scrub_report_free(&rep);
    return d;
}

/* Every raw record of height h (block, commit, results, hash index of the
 * good id, tx index of its txs), concatenated: to prove nothing changed. */
static void snapshot(store_t *s, uint64_t h, buf_t *out)
{
    buf_init(out, 64 << 20);
    store_cf cfs[] = {STORE_CF_BLOCKS, STORE_CF_COMMITS, STORE_CF_RESULTS};
    uint8_t k[8];
    store_height_key(k, h);
    buf_t v;
    buf_init(&v, 0);
    for (size_t i = 0; i < 3; i++) {
        cairn_err rc = store_debug_get_raw(s, cfs[i], k, 8, &v);
        assert_int_equal(buf_append(out, &rc, sizeof rc), CAIRN_OK);
        if (rc == CAIRN_OK) assert_int_equal(buf_append(out, v.data, v.len), CAIRN_OK);
    }
    const fx_block *fb = &g_chain.b[h - 1];
    cairn_err rc = store_debug_get_raw(s, STORE_CF_BLOCK_HASH, fb->id, HASH_BYTES, &v);
    assert_int_equal(buf_append(out, &rc, sizeof rc), CAIRN_OK);
    if (rc == CAIRN_OK) assert_int_equal(buf_append(out, v.data, v.len), CAIRN_OK);
    for (uint32_t i = 0; i < fb->block.n_txs; i++) {
        uint8_t th[HASH_BYTES];
        tx_hash(th, fb->block.txs[i].p, fb->block.txs[i].len);
        rc = store_debug_get_raw(s, STORE_CF_TX_INDEX, th, HASH_BYTES, &v);
        assert_int_equal(buf_append(out, &rc, sizeof rc), CAIRN_OK);
        if (rc == CAIRN_OK) assert_int_equal(buf_append(out, v.data, v.len), CAIRN_OK);
    }
    buf_deinit(&v);
}

static void assert_same_snapshot(const buf_t *a, const buf_t *b)
{
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
}

/* ------------------------------------------------------------- check */

static void test_height_check_of_an_intact_height_is_ok(void **state)
{
    fixture *f = *state;
    uint32_t n = 99;
    assert_int_equal(store_height_check(f->s, 12, NULL, 0, &n), CAIRN_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_height_check(f->s, N_BLOCKS + 1, NULL, 0, &n), CAIRN_ENOT_FOUND);
}

static void test_height_check_names_each_damaged_record_of_the_height(void **state)
{
    fixture *f = *state;
    const uint64_t h = 14; /* 4 txs */
    put_height(f->s, STORE_CF_RESULTS, h, "junk", 4);
    const fx_block *fb = &g_chain.b[h - 1];
    uint8_t th[HASH_BYTES];
    tx_hash(th, fb->block.txs[2].p, fb->block.txs[2].len);
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_TX_INDEX, th, HASH_BYTES, NULL, 0),
                     CAIRN_OK);
    store_damage_t d[8];
    uint32_t n = 0;
    assert_int_equal(store_height_check(f->s, h, d, 8, &n), CAIRN_ECORRUPT);
    assert_int_equal(n, 2);
    bool results = false, index = false;
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(d[i].height, h);
        results |= d[i].cf == STORE_CF_RESULTS;
        index |= d[i].cf == STORE_CF_TX_INDEX && memcmp(d[i].key, th, HASH_BYTES) == 0;
    }
    assert_true(results && index);
}

static void test_height_check_names_the_next_block_when_its_link_is_wrong(void **state)
{
    fixture *f = *state;
    const uint64_t h = 16;
    /* Block 17 replaced by a well-formed block 17 on top of another block 16. */
    uint8_t other_prev[HASH_BYTES];
    memset(other_prev, 0x5c, HASH_BYTES);
    fx_block alt;
    assert_int_equal(fx_block_make(&alt, &g_chain, h + 1, other_prev, 2, 3), 0);
    put_height(f->s, STORE_CF_BLOCKS, h + 1, alt.raw.data, alt.raw.len);
    store_damage_t d[8];
    uint32_t n = 0;
    assert_int_equal(store_height_check(f->s, h, d, 8, &n), CAIRN_ECORRUPT);
    assert_true(n >= 1);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(d[i].height, h + 1); /* block 16 itself is fine */
        assert_int_equal(d[i].cf, STORE_CF_BLOCKS);
    }
    fx_block_free(&alt);
}

/* ------------------------------------------------------------- repair */

static void test_repair_rewrites_a_damaged_block_so_it_reads_again(void **state)
{
    fixture *f = *state;
    const uint64_t h = 22;
    good_height g;
    good_read(f->s, h, &g);
    flip_block(f->s, h);
    block_t b;
    assert_int_equal(store_block_get(f->s, h, &b), CAIRN_ECORRUPT);
    store_height_repair_args a = args_of(h, &g);
    assert_int_equal(store_height_repair(f->s, &a), CAIRN_OK);
    assert_int_equal(store_block_get(f->s, h, &b), CAIRN_OK);
    assert_int_equal(b.header.height, h);
    block_free(&b);
    assert_int_equal(store_height_check(f->s, h, NULL, 0, NULL), CAIRN_OK);
    assert_int_equal(scrub_damaged(f->s), 0);
    good_free(&g);
}

static void test_repair_rewrites_every_record_of_the_height_at_once(void **state)
{
    fixture *f = *state;
    const uint64_t h = 24; /* 4 txs */
    good_height g;
    good_read(f->s, h, &g);
    const fx_block *fb = &g_chain.b[h - 1];
    flip_block(f->s, h);
    put_height(f->s, STORE_CF_COMMITS, h, "not a commit", 12);
    put_height(f->s, STORE_CF_RESULTS, h, NULL, 0);
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_BLOCK_HASH, fb->id, HASH_BYTES, NULL, 0),
                     CAIRN_OK);
    for (uint32_t i = 0; i < fb->block.n_txs; i++) {
        uint8_t th[HASH_BYTES], wrong[12] = {0};
        tx_hash(th, fb->block.txs[i].p, fb->block.txs[i].len);
        assert_int_equal(store_debug_put_raw(f->s, STORE_CF_TX_INDEX, th, HASH_BYTES, wrong, 12),
                         CAIRN_OK);
    }
    assert_true(scrub_damaged(f->s) >= 2); /* block unusable: its txs are not checked */
    store_height_repair_args a = args_of(h, &g);
    assert_int_equal(store_height_repair(f->s, &a), CAIRN_OK);
    assert_int_equal(scrub_damaged(f->s), 0);
    for (uint32_t i = 0; i < fb->block.n_txs; i++) {
        uint8_t th[HASH_BYTES];
        tx_hash(th, fb->block.txs[i].p, fb->block.txs[i].len);
        uint64_t th_h = 0;
        uint32_t idx = 99;
        buf_t res;
        buf_init(&res, 0);
        assert_int_equal(store_tx_get(f->s, th, &th_h, &idx, NULL, &res), CAIRN_OK);
        assert_int_equal(th_h, h);
        assert_int_equal(idx, i);
        assert_int_equal(res.len, fb->tx_results[i].len);
        assert_memory_equal(res.data, fb->tx_results[i].data, res.len);
        buf_deinit(&res);
    }
    commit_t c;
    assert_int_equal(store_commit_get(f->s, h, &c), CAIRN_OK);
    assert_memory_equal(c.block_id, fb->id, HASH_BYTES);
    commit_free(&c);
    good_free(&g);
}

static void test_repair_of_the_tip_accepts_the_block_the_tip_record_names(void **state)
{
    fixture *f = *state;
    good_height g;
    good_read(f->s, N_BLOCKS, &g);
    flip_block(f->s, N_BLOCKS);
    store_height_repair_args a = args_of(N_BLOCKS, &g);
    assert_int_equal(store_height_repair(f->s, &a), CAIRN_OK);
    assert_int_equal(scrub_damaged(f->s), 0);
    good_free(&g);
}

static void test_repair_of_an_intact_height_changes_nothing_visible(void **state)
{
    fixture *f = *state;
    good_height g;
    good_read(f->s, 9, &g);
    buf_t before, after;
    snapshot(f->s, 9, &before);
    store_height_repair_args a = args_of(9, &g);
    assert_int_equal(store_height_repair(f->s, &a), CAIRN_OK);
    snapshot(f->s, 9, &after);
    assert_same_snapshot(&before, &after);
    buf_deinit(&before);
    buf_deinit(&after);
    good_free(&g);
}

/* Repairs the damaged height h with the given args; it must fail with want and
 * leave every record of h as it was. */
static void expect_refused(store_t *s, uint64_t h, const store_height_repair_args *a,
                           cairn_err want)
{
    buf_t before, after;
    snapshot(s, h, &before);
    assert_int_equal(store_height_repair(s, a), want);
    snapshot(s, h, &after);
    assert_same_snapshot(&before, &after);
    buf_deinit(&before);
    buf_deinit(&after);
    block_t b;
    assert_int_equal(store_block_get(s, h, &b), CAIRN_ECORRUPT);
}

static void test_repair_refuses_the_block_of_another_height(void **state)
{
    fixture *f = *state;
    good_height g20, g21;
    good_read(f->s, 20, &g20);
    good_read(f->s, 21, &g21);
    flip_block(f->s, 20);
    store_height_repair_args a = args_of(21, &g21);
    a.height = 20;
    expect_refused(f->s, 20, &a, CAIRN_EBAD_HEIGHT);
    good_free(&g20);
    good_free(&g21);
}

static void test_repair_refuses_a_different_block_for_the_height(void **state)
{
    fixture *f = *state;
    const uint64_t h = 21;
    good_height g;
    good_read(f->s, h, &g);
    /* A well-formed block of height 21 on top of block 20, with a commit for it:
     * only the chain above (block 22's link) tells it is not the stored one. */
    fx_block alt;
    assert_int_equal(fx_block_make(&alt, &g_chain, h, g_chain.b[h - 2].id, 1, 777), 0);
    flip_block(f->s, h);
    store_height_repair_args a = args_with_block(h, &g, &alt);
    expect_refused(f->s, h, &a, CAIRN_EBAD_HASH);
    fx_block_free(&alt);
    good_free(&g);
}

static void test_repair_refuses_a_block_not_linked_to_the_block_below(void **state)
{
    fixture *f = *state;
    const uint64_t h = 26;
    good_height g;
    good_read(f->s, h, &g);
    /* Block h+1 is damaged too, so only block h-1 can witness. */
    uint8_t other_prev[HASH_BYTES];
    memset(other_prev, 0x3e, HASH_BYTES);
    fx_block alt;
    assert_int_equal(fx_block_make(&alt, &g_chain, h, other_prev, 1, 0), 0);
    flip_block(f->s, h);
    flip_block(f->s, h + 1);
    store_height_repair_args a = args_with_block(h, &g, &alt);
    expect_refused(f->s, h, &a, CAIRN_EBAD_HASH);
    a = args_of(h, &g); /* the real block passes on the same witness */
    assert_int_equal(store_height_repair(f->s, &a), CAIRN_OK);
    fx_block_free(&alt);
    good_free(&g);
}

static void test_repair_refuses_a_different_tip_block(void **state)
{
    fixture *f = *state;
    const uint64_t h = N_BLOCKS;
    good_height g;
    good_read(f->s, h, &g);
    fx_block alt;
    assert_int_equal(fx_block_make(&alt, &g_chain, h, g_chain.b[h - 2].id, 0, 555), 0);
    flip_block(f->s, h);
    store_height_repair_args a = args_with_block(h, &g, &alt);
    expect_refused(f->s, h, &a, CAIRN_EBAD_HASH);
    fx_block_free(&alt);
    good_free(&g);
}

static void test_repair_refuses_a_commit_for_another_block(void **state)
{
    fixture *f = *state;
    good_height g20, g21;
    good_read(f->s, 20, &g20);
    good_read(f->s, 21, &g21);
    flip_block(f->s, 20);
    store_height_repair_args a = args_of(20, &g20);
    a.commit_raw = g21.commit.data;
    a.commit_len = g21.commit.len;
    expect_refused(f->s, 20, &a, CAIRN_EBAD_COMMIT);
    good_free(&g20);
    good_free(&g21);
}

static void test_repair_refuses_results_that_do_not_fit_the_block(void **state)
{
    fixture *f = *state;
    good_height g20, g21;
    good_read(f->s, 20, &g20); /* 0 txs */
    good_read(f->s, 21, &g21); /* 1 tx */
    flip_block(f->s, 20);
    store_height_repair_args a = args_of(20, &g20);
    a.results_raw = g21.results.data;
    a.results_len = g21.results.len;
    expect_refused(f->s, 20, &a, CAIRN_EBAD_ENCODING);
    a.results_raw = (const uint8_t *)"\x01\x00";
    a.results_len = 2;
    expect_refused(f->s, 20, &a, CAIRN_EBAD_ENCODING);
    good_free(&g20);
    good_free(&g21);
}

static void test_repair_refuses_bytes_that_are_not_a_block(void **state)
{
    fixture *f = *state;
    good_height g;
    good_read(f->s, 23, &g);
    flip_block(f->s, 23);
    store_height_repair_args a = args_of(23, &g);
    buf_t bad;
    buf_init(&bad, BLOCK_BYTES_MAX);
    assert_int_equal(buf_append(&bad, g.block.data, g.block.len), CAIRN_OK);
    bad.data[bad.len - 3] ^= 1; /* inside the last commit: hashes no longer match */
    a.block_raw = bad.data;
    a.block_len = bad.len;
    cairn_err rc = store_height_repair(f->s, &a);
    assert_true(rc == CAIRN_EBAD_HASH || rc == CAIRN_EBAD_BLOCK);
    a.block_len = bad.len - 1;
    assert_int_equal(store_height_repair(f->s, &a), CAIRN_EBAD_BLOCK);
    block_t b;
    assert_int_equal(store_block_get(f->s, 23, &b), CAIRN_ECORRUPT);
    buf_deinit(&bad);
    good_free(&g);
}

static void test_repair_refuses_heights_outside_the_store(void **state)
{
    fixture *f = *state;
    good_height g;
    good_read(f->s, N_BLOCKS, &g);
    store_height_repair_args a = args_of(N_BLOCKS + 1, &g);
    assert_int_equal(store_height_repair(f->s, &a), CAIRN_EBAD_HEIGHT);
    a.height = 0;
    assert_int_equal(store_height_repair(f->s, &a), CAIRN_EBAD_HEIGHT);
    assert_int_equal(store_height(f->s), N_BLOCKS);
    good_free(&g);
}

static void test_results_record_round_trips_through_get_raw_and_decode(void **state)
{
    fixture *f = *state;
    buf_t raw;
    buf_init(&raw, STORE_VALUE_MAX);
    assert_int_equal(store_results_get_raw(f->s, 14, &raw), CAIRN_OK);
    store_results_t r;
    assert_int_equal(store_results_decode(raw.data, raw.len, &r), CAIRN_OK);
    assert_int_equal(r.n_tx, 4);
    assert_int_equal(r.tx[3].len, g_chain.b[13].tx_results[3].len);
    assert_memory_equal(r.tx[3].p, g_chain.b[13].tx_results[3].data, r.tx[3].len);
    store_results_free(&r);
    raw.data[raw.len - 1] ^= 1;
    raw.len--; /* truncated */
    assert_int_not_equal(store_results_decode(raw.data, raw.len, &r), CAIRN_OK);
    buf_deinit(&raw);
}

int main(void)
{
    log_level_set(LOG_OFF);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_height_check_of_an_intact_height_is_ok),
        T(test_height_check_names_each_damaged_record_of_the_height),
        T(test_height_check_names_the_next_block_when_its_link_is_wrong),
        T(test_repair_rewrites_a_damaged_block_so_it_reads_again),
        T(test_repair_rewrites_every_record_of_the_height_at_once),
        T(test_repair_of_the_tip_accepts_the_block_the_tip_record_names),
        T(test_repair_of_an_intact_height_changes_nothing_visible),
        T(test_repair_refuses_the_block_of_another_height),
        T(test_repair_refuses_a_different_block_for_the_height),
        T(test_repair_refuses_a_block_not_linked_to_the_block_below),
        T(test_repair_refuses_a_different_tip_block),
        T(test_repair_refuses_a_commit_for_another_block),
        T(test_repair_refuses_results_that_do_not_fit_the_block),
        T(test_repair_refuses_bytes_that_are_not_a_block),
        T(test_repair_refuses_heights_outside_the_store),
        T(test_results_record_round_trips_through_get_raw_and_decode),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
