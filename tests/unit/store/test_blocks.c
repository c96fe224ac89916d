/* test_blocks.c - saving blocks atomically and reading them back verified:
 * round trips, reopen, refusals that write nothing, crash atomicity, and
 * damage (flipped bytes, truncation, swapped blocks, deleted or altered index
 * entries, altered commits and results) that must read as CAIRN_ECORRUPT. */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "base/log.h"
#include "store/store.h"
#include "store_chain_fixture.h"
#include "store_test_util.h"

#define N_BLOCKS 60
#define MAX_TXS 4

typedef struct {
    char dir[256];
    char path[300];
    store_t *s;
    fx_chain c;
} fixture;

static fx_chain g_chain; /* built once: signing is the slow part */

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

static void save_all(store_t *s, uint64_t upto)
{
    for (uint64_t i = 0; i < upto; i++) {
        store_block_save_args a = fx_save_args(&g_chain.b[i]);
        assert_int_equal(store_block_save(s, &a), CAIRN_OK);
    }
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || tmpdir_make(f->dir) != 0) return -1;
    snprintf(f->path, sizeof f->path, "%s/db", f->dir);
    if (store_open(f->path, NULL, &f->s) != CAIRN_OK) return -1;
    *state = f;
    return 0;
}

static int setup_filled(void **state)
{
    if (setup(state) != 0) return -1;
    fixture *f = *state;
    save_all(f->s, N_BLOCKS);
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

static void reopen(fixture *f)
{
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->path, NULL, &f->s), CAIRN_OK);
}

static void assert_block_reads_ok(store_t *s, uint64_t h)
{
    const fx_block *fb = &g_chain.b[h - 1];
    block_t b;
    assert_int_equal(store_block_get(s, h, &b), CAIRN_OK);
    assert_int_equal(b.header.height, h);
    assert_int_equal(b.n_txs, fb->n_txs);
    uint8_t id[HASH_BYTES];
    assert_int_equal(header_hash(&b.header, id), CAIRN_OK);
    assert_memory_equal(id, fb->id, HASH_BYTES);
    block_free(&b);
    buf_t raw;
    buf_init(&raw, BLOCK_BYTES_MAX);
    assert_int_equal(store_block_get_raw(s, h, &raw, id), CAIRN_OK);
    assert_int_equal(raw.len, fb->raw.len);
    assert_memory_equal(raw.data, fb->raw.data, raw.len);
    assert_memory_equal(id, fb->id, HASH_BYTES);
    buf_deinit(&raw);
}

static cairn_err block_rc(store_t *s, uint64_t h)
{
    block_t b;
    cairn_err rc = store_block_get(s, h, &b);
    if (rc == CAIRN_OK) block_free(&b);
    return rc;
}

/* The scrub report lists (cf, height) for some entry. */
static bool report_has(const store_scrub_report *r, store_cf cf, uint64_t height)
{
    for (uint32_t i = 0; i < r->n_entries; i++)
        if (r->entries[i].cf == cf && r->entries[i].height == height) return true;
    return false;
}

static void put_raw_height(store_t *s, store_cf cf, uint64_t h, const uint8_t *v,
                           size_t n)
{
    uint8_t k[8];
    store_height_key(k, h);
    assert_int_equal(store_debug_put_raw(s, cf, k, 8, v, n), CAIRN_OK);
}

/* ------------------------------------------------------------- round trips */

static void test_saved_blocks_read_back_by_height_and_hash(void **state)
{
    fixture *f = *state;
    assert_int_equal(store_height(f->s), N_BLOCKS);
    assert_int_equal(store_base_height(f->s), 1);
    for (uint64_t h = 1; h <= N_BLOCKS; h++) {
        assert_block_reads_ok(f->s, h);
        block_t b;
        uint64_t got = 0;
        assert_int_equal(store_block_get_by_hash(f->s, g_chain.b[h - 1].id, &b, &got),
                         CAIRN_OK);
        assert_int_equal(got, h);
        block_free(&b);
    }
    assert_int_equal(block_rc(f->s, N_BLOCKS + 1), CAIRN_ENOT_FOUND);
    assert_int_equal(block_rc(f->s, 0), CAIRN_ENOT_FOUND);
    uint8_t unknown[HASH_BYTES] = {1};
    block_t b;
    assert_int_equal(store_block_get_by_hash(f->s, unknown, &b, NULL), CAIRN_ENOT_FOUND);
}

static void test_seen_commits_read_back(void **state)
{
    fixture *f = *state;
    for (uint64_t h = 1; h <= N_BLOCKS; h += 7) {
        commit_t c;
        assert_int_equal(store_commit_get(f->s, h, &c), CAIRN_OK);
        assert_int_equal(c.height, h);
        assert_memory_equal(c.block_id, g_chain.b[h - 1].id, HASH_BYTES);
        commit_free(&c);
        buf_t raw;
        buf_init(&raw, 1 << 20);
        assert_int_equal(store_commit_get_raw(f->s, h, &raw), CAIRN_OK);
        assert_int_equal(raw.len, g_chain.b[h - 1].commit.len);
        assert_memory_equal(raw.data, g_chain.b[h - 1].commit.data, raw.len);
        buf_deinit(&raw);
    }
}

static void test_txs_found_by_hash_with_their_results(void **state)
{
    fixture *f = *state;
    int found = 0;
    for (uint64_t h = 1; h <= N_BLOCKS; h++) {
        const fx_block *fb = &g_chain.b[h - 1];
        for (uint32_t i = 0; i < fb->n_txs; i++) {
            uint8_t th[HASH_BYTES];
            tx_hash(th, fb->block.txs[i].p, fb->block.txs[i].len);
            uint64_t gh = 0;
            uint32_t gi = 0;
            buf_t tx, res;
            buf_init(&tx, TX_BYTES_MAX);
            buf_init(&res, 4096);
            assert_int_equal(store_tx_get(f->s, th, &gh, &gi, &tx, &res), CAIRN_OK);
            assert_int_equal(gh, h);
            assert_int_equal(gi, i);
            assert_int_equal(tx.len, fb->block.txs[i].len);
            assert_memory_equal(tx.data, fb->block.txs[i].p, tx.len);
            assert_int_equal(res.len, fb->tx_results[i].len);
            assert_memory_equal(res.data, fb->tx_results[i].data, res.len);
            buf_deinit(&tx);
            buf_deinit(&res);
            found++;
        }
    }
    assert_true(found > N_BLOCKS);
    uint8_t unknown[HASH_BYTES] = {9};
    assert_int_equal(store_tx_get(f->s, unknown, NULL, NULL, NULL, NULL), CAIRN_ENOT_FOUND);
}

static void test_results_meta_and_state_are_saved_with_the_block(void **state)
{
    fixture *f = *state;
    store_results_t r;
    assert_int_equal(store_results_get(f->s, 4, &r), CAIRN_OK);
    assert_int_equal(r.n_tx, g_chain.b[3].n_txs);
    assert_int_equal(r.block.len, 9);
    assert_memory_equal(r.block.p, "end-block", 9);
    store_results_free(&r);

    store_meta_t m;
    assert_int_equal(store_meta_get(f->s, &m), CAIRN_OK);
    assert_int_equal(m.height, N_BLOCKS);
    assert_int_equal(m.base_height, 1);
    assert_memory_equal(m.last_block_id, g_chain.b[N_BLOCKS - 1].id, HASH_BYTES);
    assert_memory_equal(m.app_hash, g_chain.b[N_BLOCKS - 1].app_hash, HASH_BYTES);
    buf_t cs;
    buf_init(&cs, 4096);
    assert_int_equal(store_chain_state_get(f->s, &cs), CAIRN_OK);
    assert_int_equal(cs.len, strlen("chain-state-bytes"));
    buf_deinit(&cs);

    kv_reader rd = store_state_reader(f->s);
    uint8_t *v = NULL;
    size_t n = 0;
    assert_int_equal(kv_get(&rd, (const uint8_t *)"k7_1", 4, &v, &n), CAIRN_OK);
    assert_int_equal(n, strlen("value at 7/1"));
    assert_memory_equal(v, "value at 7/1", n);
    free(v);
}

static void test_reopen_returns_the_same_data(void **state)
{
    fixture *f = *state;
    reopen(f);
    assert_int_equal(store_height(f->s), N_BLOCKS);
    assert_int_equal(store_base_height(f->s), 1);
    for (uint64_t h = 1; h <= N_BLOCKS; h++) assert_block_reads_ok(f->s, h);
    store_scrub_report rep;
    assert_int_equal(store_scrub(f->s, &rep, NULL, NULL), CAIRN_OK);
    assert_int_equal(rep.damaged, 0);
    store_scrub_report_free(&rep);
}

static void test_empty_store_takes_any_first_height_as_base(void **state)
{
    fixture *f = *state;
    for (uint64_t i = 9; i < 20; i++) {
        store_block_save_args a = fx_save_args(&g_chain.b[i]);
        assert_int_equal(store_block_save(f->s, &a), CAIRN_OK);
    }
    assert_int_equal(store_base_height(f->s), 10);
    assert_int_equal(store_height(f->s), 20);
    assert_int_equal(block_rc(f->s, 9), CAIRN_ENOT_FOUND);
    assert_block_reads_ok(f->s, 10);
    reopen(f);
    assert_int_equal(store_base_height(f->s), 10);
    store_scrub_report rep;
    assert_int_equal(store_scrub(f->s, &rep, NULL, NULL), CAIRN_OK);
    assert_int_equal(rep.damaged, 0);
    assert_int_equal(rep.heights_checked, 11);
    store_scrub_report_free(&rep);
}

static void test_sync_off_saves_survive_a_clean_close(void **state)
{
    fixture *f = *state;
    store_close(f->s);
    store_options o;
    store_options_default(&o);
    o.sync = false;
    assert_int_equal(store_open(f->path, &o, &f->s), CAIRN_OK);
    save_all(f->s, 10);
    reopen(f);
    assert_int_equal(store_height(f->s), 10);
    for (uint64_t h = 1; h <= 10; h++) assert_block_reads_ok(f->s, h);
}

typedef struct {
    store_t *s;
    atomic_int done;
    int reads, failures;
} reader_state;

static void *reader_main(void *arg)
{
    reader_state *r = arg;
    while (!atomic_load(&r->done)) {
        uint64_t tip = store_height(r->s);
        if (tip == 0) continue;
        block_t b;
        if (store_block_get(r->s, tip, &b) != CAIRN_OK) r->failures++;
        else block_free(&b);
        uint8_t th[HASH_BYTES];
        const fx_block *fb = &g_chain.b[tip - 1];
        if (fb->n_txs) {
            tx_hash(th, fb->block.txs[0].p, fb->block.txs[0].len);
            if (store_tx_get(r->s, th, NULL, NULL, NULL, NULL) != CAIRN_OK) r->failures++;
        }
        r->reads++;
    }
    return NULL;
}

/* A reader on another thread never sees a height whose block, index entries
 * and tx index are not all there. */
static void test_reader_thread_never_sees_a_partial_block(void **state)
{
    fixture *f = *state;
    reader_state r = {.s = f->s};
    atomic_init(&r.done, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
    save_all(f->s, N_BLOCKS);
    atomic_store(&r.done, 1);
    pthread_join(t, NULL);
    assert_true(r.reads > 0);
    assert_int_equal(r.failures, 0);
}

/* ------------------------------------------------------------- refusals */

static void assert_nothing_of_block_saved(store_t *s, uint64_t tip, const fx_block *fb)
{
    assert_int_equal(store_height(s), tip);
    assert_int_equal(block_rc(s, fb->height), CAIRN_ENOT_FOUND);
    block_t b;
    assert_int_equal(store_block_get_by_hash(s, fb->id, &b, NULL), CAIRN_ENOT_FOUND);
    store_results_t r;
    assert_int_equal(store_results_get(s, fb->height, &r), CAIRN_ENOT_FOUND);
    commit_t c;
    assert_int_equal(store_commit_get(s, fb->height, &c), CAIRN_ENOT_FOUND);
    for (uint32_t i = 0; i < fb->n_txs; i++) {
        uint8_t th[HASH_BYTES];
        tx_hash(th, fb->block.txs[i].p, fb->block.txs[i].len);
        assert_int_equal(store_tx_get(s, th, NULL, NULL, NULL, NULL), CAIRN_ENOT_FOUND);
    }
    kv_reader rd = store_state_reader(s);
    for (size_t i = 0; i < fb->state.n; i++) {
        uint8_t *v = NULL;
        size_t n = 0;
        assert_int_equal(kv_get(&rd, fb->state.items[i].key, fb->state.items[i].key_len,
                                &v, &n),
                         CAIRN_ENOT_FOUND);
    }
}

static void test_save_refuses_a_height_gap(void **state)
{
    fixture *f = *state;
    save_all(f->s, 3);
    store_block_save_args a = fx_save_args(&g_chain.b[4]);
    assert_int_equal(store_block_save(f->s, &a), CAIRN_EBAD_HEIGHT);
    assert_nothing_of_block_saved(f->s, 3, &g_chain.b[4]);
    a = fx_save_args(&g_chain.b[2]); /* again */
    assert_int_equal(store_block_save(f->s, &a), CAIRN_EBAD_HEIGHT);
}

static void test_save_refuses_a_block_not_linked_to_the_tip(void **state)
{
    fixture *f = *state;
    save_all(f->s, 3);
    fx_block other;
    uint8_t wrong_prev[HASH_BYTES];
    memset(wrong_prev, 0xee, sizeof wrong_prev);
    assert_int_equal(fx_block_make(&other, &g_chain, 4, wrong_prev, 2, 0), 0);
    store_block_save_args a = fx_save_args(&other);
    assert_int_equal(store_block_save(f->s, &a), CAIRN_EBAD_HASH);
    assert_nothing_of_block_saved(f->s, 3, &other);
    fx_block_free(&other);
}

static void test_save_refuses_a_wrong_block_id(void **state)
{
    fixture *f = *state;
    store_block_save_args a = fx_save_args(&g_chain.b[0]);
    uint8_t bad[HASH_BYTES];
    memcpy(bad, g_chain.b[0].id, HASH_BYTES);
    bad[0] ^= 1;
    a.block_id = bad;
    assert_int_equal(store_block_save(f->s, &a), CAIRN_EBAD_HASH);
    assert_nothing_of_block_saved(f->s, 0, &g_chain.b[0]);
}

static void test_save_refuses_a_commit_for_another_block(void **state)
{
    fixture *f = *state;
    store_block_save_args a = fx_save_args(&g_chain.b[0]);
    a.commit_raw = g_chain.b[1].commit.data;
    a.commit_len = g_chain.b[1].commit.len;
    assert_int_equal(store_block_save(f->s, &a), CAIRN_EBAD_COMMIT);
    a.commit_raw = (const uint8_t *)"junk";
    a.commit_len = 4;
    assert_int_equal(store_block_save(f->s, &a), CAIRN_EBAD_COMMIT);
    assert_nothing_of_block_saved(f->s, 0, &g_chain.b[0]);
}

static void test_save_refuses_bytes_that_are_not_the_block(void **state)
{
    fixture *f = *state;
    store_block_save_args a = fx_save_args(&g_chain.b[2]);
    save_all(f->s, 2);
    a.block_raw = g_chain.b[1].raw.data;
    a.block_len = g_chain.b[1].raw.len;
    assert_int_equal(store_block_save(f->s, &a), CAIRN_EINVALID_ARG);
    assert_nothing_of_block_saved(f->s, 2, &g_chain.b[2]);
}

static void test_save_refuses_a_result_count_unlike_the_tx_count(void **state)
{
    fixture *f = *state;
    store_block_save_args a = fx_save_args(&g_chain.b[0]); /* height 1: 1 tx */
    assert_true(g_chain.b[0].n_txs > 0);
    a.n_tx_results = 0;
    assert_int_equal(store_block_save(f->s, &a), CAIRN_EINVALID_ARG);
    assert_nothing_of_block_saved(f->s, 0, &g_chain.b[0]);
}

static void test_failed_batch_late_in_the_save_leaves_nothing(void **state)
{
    fixture *f = *state;
    save_all(f->s, 1);
    const fx_block *fb = &g_chain.b[1];
    kv_batch st;
    kv_batch_init(&st);
    for (size_t i = 0; i < fb->state.n; i++)
        assert_int_equal(kv_batch_put(&st, fb->state.items[i].key,
                                      fb->state.items[i].key_len, "x", 1),
                         CAIRN_OK);
    uint8_t big[STORE_KEY_MAX + 1];
    memset(big, 'z', sizeof big);
    assert_int_equal(kv_batch_put(&st, big, sizeof big, "v", 1), CAIRN_OK);
    store_block_save_args a = fx_save_args(fb);
    a.state = &st;
    assert_int_equal(store_block_save(f->s, &a), CAIRN_EINVALID_ARG);
    kv_batch_deinit(&st);
    assert_nothing_of_block_saved(f->s, 1, fb);
    reopen(f);
    assert_nothing_of_block_saved(f->s, 1, fb);
    a = fx_save_args(fb);
    assert_int_equal(store_block_save(f->s, &a), CAIRN_OK);
    assert_block_reads_ok(f->s, 2);
}

/* A child saves blocks with sync on and reports each save that returned through
 * a pipe; it is killed with SIGKILL right after a report. After reopening, every
 * reported block is there (durable before visible), every height up to the tip is
 * whole, and nothing of a later block is visible. */
static void test_kill_during_saves_leaves_whole_blocks_only(void **state)
{
    fixture *f = *state;
    store_close(f->s);
    f->s = NULL;
    uint64_t reported = 0;
    for (int round = 0; round < 3; round++) {
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(pfd[0]);
            store_t *s = NULL;
            if (store_open(f->path, NULL, &s) != CAIRN_OK) _exit(2);
            for (uint64_t i = store_height(s); i < N_BLOCKS; i++) {
                store_block_save_args a = fx_save_args(&g_chain.b[i]);
                if (store_block_save(s, &a) != CAIRN_OK) _exit(3);
                uint64_t h = i + 1;
                if (write(pfd[1], &h, sizeof h) != sizeof h) _exit(4);
            }
            _exit(0); /* no close: like a crash */
        }
        close(pfd[1]);
        uint64_t target = reported + 5 + (uint64_t)round * 3, h = 0;
        while (h < target && read(pfd[0], &h, sizeof h) == sizeof h) reported = h;
        kill(pid, SIGKILL);
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        close(pfd[0]);
        assert_true(reported >= target);
        assert_int_equal(store_open(f->path, NULL, &f->s), CAIRN_OK);
        uint64_t tip = store_height(f->s);
        assert_true(tip >= reported);
        for (uint64_t k = 1; k <= tip; k++) assert_block_reads_ok(f->s, k);
        if (tip < N_BLOCKS) assert_nothing_of_block_saved(f->s, tip, &g_chain.b[tip]);
        store_scrub_report rep;
        assert_int_equal(store_scrub(f->s, &rep, NULL, NULL), CAIRN_OK);
        assert_int_equal(rep.damaged, 0);
        store_scrub_report_free(&rep);
        store_close(f->s);
        f->s = NULL;
        reported = tip;
    }
    assert_int_equal(store_open(f->path, NULL, &f->s), CAIRN_OK);
}

/* ------------------------------------------------------------- damage */

static void scrub_expect(store_t *s, store_cf cf, uint64_t height)
{
    store_scrub_report rep;
    assert_int_equal(store_scrub(s, &rep, NULL, NULL), CAIRN_OK);
    assert_true(rep.damaged >= 1);
    assert_true(report_has(&rep, cf, height));
    store_scrub_report_free(&rep);
}

static void test_flipped_bytes_in_a_stored_block_read_as_corrupt(void **state)
{
    fixture *f = *state;
    const uint64_t h = 20;
    const fx_block *fb = &g_chain.b[h - 1];
    buf_t v;
    buf_init(&v, BLOCK_BYTES_MAX);
    assert_int_equal(buf_append(&v, fb->raw.data, fb->raw.len), CAIRN_OK);
    size_t offsets[] = {0, 1, 5, 20, 60, 100, 150, v.len / 2, v.len - 40, v.len - 1};
    for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
        size_t off = offsets[k];
        v.data[off] ^= 0x04;
        put_raw_height(f->s, STORE_CF_BLOCKS, h, v.data, v.len);
        assert_int_equal(block_rc(f->s, h), CAIRN_ECORRUPT);
        buf_t raw;
        buf_init(&raw, BLOCK_BYTES_MAX);
        assert_int_equal(store_block_get_raw(f->s, h, &raw, NULL), CAIRN_ECORRUPT);
        buf_deinit(&raw);
        block_t b;
        assert_int_equal(store_block_get_by_hash(f->s, fb->id, &b, NULL), CAIRN_ECORRUPT);
        scrub_expect(f->s, STORE_CF_BLOCKS, h);
        v.data[off] ^= 0x04;
    }
    put_raw_height(f->s, STORE_CF_BLOCKS, h, v.data, v.len);
    assert_block_reads_ok(f->s, h);
    buf_deinit(&v);
}

static void test_truncated_block_reads_as_corrupt(void **state)
{
    fixture *f = *state;
    const fx_block *fb = &g_chain.b[9];
    put_raw_height(f->s, STORE_CF_BLOCKS, 10, fb->raw.data, fb->raw.len - 7);
    assert_int_equal(block_rc(f->s, 10), CAIRN_ECORRUPT);
    scrub_expect(f->s, STORE_CF_BLOCKS, 10);
    put_raw_height(f->s, STORE_CF_BLOCKS, 10, fb->raw.data, 0);
    assert_int_equal(block_rc(f->s, 10), CAIRN_ECORRUPT);
}

static void test_valid_block_stored_at_the_wrong_height_reads_as_corrupt(void **state)
{
    fixture *f = *state;
    const fx_block *b3 = &g_chain.b[2];
    put_raw_height(f->s, STORE_CF_BLOCKS, 5, b3->raw.data, b3->raw.len);
    assert_int_equal(block_rc(f->s, 5), CAIRN_ECORRUPT);
    assert_block_reads_ok(f->s, 3);
    scrub_expect(f->s, STORE_CF_BLOCKS, 5);
}

static void test_missing_block_inside_the_range_reads_as_corrupt(void **state)
{
    fixture *f = *state;
    put_raw_height(f->s, STORE_CF_BLOCKS, 30, NULL, 0);
    assert_int_equal(block_rc(f->s, 30), CAIRN_ECORRUPT);
    scrub_expect(f->s, STORE_CF_BLOCKS, 30);
}

static void test_deleted_hash_index_entry_is_found(void **state)
{
    fixture *f = *state;
    const fx_block *fb = &g_chain.b[11];
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_BLOCK_HASH, fb->id, HASH_BYTES,
                                         NULL, 0),
                     CAIRN_OK);
    assert_int_equal(block_rc(f->s, 12), CAIRN_ECORRUPT);
    scrub_expect(f->s, STORE_CF_BLOCK_HASH, 12);
    store_scrub_report rep;
    assert_int_equal(store_scrub(f->s, &rep, NULL, NULL), CAIRN_OK);
    assert_false(report_has(&rep, STORE_CF_BLOCKS, 12)); /* the block itself is fine */
    assert_int_equal(rep.entries[0].err, CAIRN_ENOT_FOUND);
    assert_memory_equal(rep.entries[0].key, fb->id, HASH_BYTES);
    store_scrub_report_free(&rep);
}

static void test_hash_index_entry_pointing_elsewhere_is_found(void **state)
{
    fixture *f = *state;
    uint8_t v[8];
    v[0] = 13; /* little-endian height 13 */
    memset(v + 1, 0, 7);
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_BLOCK_HASH, g_chain.b[11].id,
                                         HASH_BYTES, v, 8),
                     CAIRN_OK);
    assert_int_equal(block_rc(f->s, 12), CAIRN_ECORRUPT);
    block_t b;
    assert_int_equal(store_block_get_by_hash(f->s, g_chain.b[11].id, &b, NULL),
                     CAIRN_ECORRUPT);
    scrub_expect(f->s, STORE_CF_BLOCK_HASH, 12);
}

static void test_deleted_tx_index_entry_is_listed_by_scrub(void **state)
{
    fixture *f = *state;
    const fx_block *fb = &g_chain.b[6]; /* height 7: 2 txs */
    assert_true(fb->n_txs >= 1);
    uint8_t th[HASH_BYTES];
    tx_hash(th, fb->block.txs[0].p, fb->block.txs[0].len);
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_TX_INDEX, th, HASH_BYTES, NULL, 0),
                     CAIRN_OK);
    store_scrub_report rep;
    assert_int_equal(store_scrub(f->s, &rep, NULL, NULL), CAIRN_OK);
    assert_int_equal(rep.damaged, 1);
    assert_int_equal(rep.entries[0].cf, STORE_CF_TX_INDEX);
    assert_int_equal(rep.entries[0].height, 7);
    assert_int_equal(rep.entries[0].err, CAIRN_ENOT_FOUND);
    assert_memory_equal(rep.entries[0].key, th, HASH_BYTES);
    store_scrub_report_free(&rep);
}

static void test_tx_index_pointing_to_another_tx_reads_as_corrupt(void **state)
{
    fixture *f = *state;
    const fx_block *fb = &g_chain.b[6];
    uint8_t th[HASH_BYTES];
    tx_hash(th, fb->block.txs[0].p, fb->block.txs[0].len);
    uint8_t v[12] = {7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}; /* height 7, index 1 */
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_TX_INDEX, th, HASH_BYTES, v, 12),
                     CAIRN_OK);
    assert_int_equal(store_tx_get(f->s, th, NULL, NULL, NULL, NULL), CAIRN_ECORRUPT);
    scrub_expect(f->s, STORE_CF_TX_INDEX, 7);
}

static void test_seen_commit_for_another_block_reads_as_corrupt(void **state)
{
    fixture *f = *state;
    /* A well-formed commit for height 8 but naming block 9's id. */
    buf_t c;
    buf_init(&c, 1 << 20);
    commit_sig_t sig;
    memset(&sig, 0, sizeof sig);
    sig.flag = COMMIT_FOR_BLOCK;
    commit_t cm = {.height = 8, .n_sigs = 1, .sigs = &sig};
    memcpy(cm.block_id, g_chain.b[8].id, HASH_BYTES);
    assert_int_equal(commit_encode(&cm, &c), CAIRN_OK);
    put_raw_height(f->s, STORE_CF_COMMITS, 8, c.data, c.len);
    commit_t got;
    assert_int_equal(store_commit_get(f->s, 8, &got), CAIRN_ECORRUPT);
    assert_int_equal(block_rc(f->s, 8), CAIRN_ECORRUPT);
    store_scrub_report rep;
    assert_int_equal(store_scrub(f->s, &rep, NULL, NULL), CAIRN_OK);
    assert_true(report_has(&rep, STORE_CF_COMMITS, 8));
    assert_false(report_has(&rep, STORE_CF_BLOCKS, 8)); /* next block vouches for it */
    store_scrub_report_free(&rep);
    put_raw_height(f->s, STORE_CF_COMMITS, 8, (const uint8_t *)"xx", 2);
    assert_int_equal(store_commit_get(f->s, 8, &got), CAIRN_ECORRUPT);
    buf_deinit(&c);
}

/* Someone rewrites block 15 as a different valid block and fixes the hash index:
 * the seen commit and block 16 still name the original. */
static void test_rewritten_block_with_fixed_index_reads_as_corrupt(void **state)
{
    fixture *f = *state;
    fx_block forged;
    assert_int_equal(fx_block_make(&forged, &g_chain, 15, g_chain.b[13].id, 1, 777), 0);
    put_raw_height(f->s, STORE_CF_BLOCKS, 15, forged.raw.data, forged.raw.len);
    uint8_t v[8] = {15, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_BLOCK_HASH, forged.id, HASH_BYTES,
                                         v, 8),
                     CAIRN_OK);
    assert_int_equal(block_rc(f->s, 15), CAIRN_ECORRUPT);
    block_t b;
    assert_int_equal(store_block_get_by_hash(f->s, forged.id, &b, NULL), CAIRN_ECORRUPT);
    scrub_expect(f->s, STORE_CF_BLOCKS, 15);
    fx_block_free(&forged);
}

/* Block 15, its seen commit and its hash index entry are all rewritten to agree
 * with each other: only block 16's link still names the original, and the
 * scrubber, trusting the verified chain above, names block 15. */
static void test_rewritten_block_and_commit_are_caught_by_the_chain_above(void **state)
{
    fixture *f = *state;
    fx_block forged;
    assert_int_equal(fx_block_make(&forged, &g_chain, 15, g_chain.b[13].id, 1, 999), 0);
    put_raw_height(f->s, STORE_CF_BLOCKS, 15, forged.raw.data, forged.raw.len);
    put_raw_height(f->s, STORE_CF_COMMITS, 15, forged.commit.data, forged.commit.len);
    uint8_t v[8] = {15, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_BLOCK_HASH, forged.id, HASH_BYTES,
                                         v, 8),
                     CAIRN_OK);
    assert_int_equal(block_rc(f->s, 15), CAIRN_ECORRUPT);
    store_scrub_report rep;
    assert_int_equal(store_scrub(f->s, &rep, NULL, NULL), CAIRN_OK);
    assert_true(report_has(&rep, STORE_CF_BLOCKS, 15));
    assert_false(report_has(&rep, STORE_CF_BLOCKS, 16));
    store_scrub_report_free(&rep);
    fx_block_free(&forged);
}

static void test_rewritten_tip_block_reads_as_corrupt(void **state)
{
    fixture *f = *state;
    fx_block forged;
    assert_int_equal(fx_block_make(&forged, &g_chain, N_BLOCKS,
                                   g_chain.b[N_BLOCKS - 2].id, 0, 5),
                     0);
    put_raw_height(f->s, STORE_CF_BLOCKS, N_BLOCKS, forged.raw.data, forged.raw.len);
    uint8_t v[8] = {N_BLOCKS, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_BLOCK_HASH, forged.id, HASH_BYTES,
                                         v, 8),
                     CAIRN_OK);
    assert_int_equal(block_rc(f->s, N_BLOCKS), CAIRN_ECORRUPT);
    scrub_expect(f->s, STORE_CF_BLOCKS, N_BLOCKS);
    fx_block_free(&forged);
}

static void test_damaged_results_read_as_corrupt(void **state)
{
    fixture *f = *state;
    uint8_t k[8];
    store_height_key(k, 4);
    buf_t v;
    buf_init(&v, 1 << 20);
    assert_int_equal(store_debug_get_raw(f->s, STORE_CF_RESULTS, k, 8, &v), CAIRN_OK);
    v.data[6] ^= 0x10;
    put_raw_height(f->s, STORE_CF_RESULTS, 4, v.data, v.len);
    store_results_t r;
    assert_int_equal(store_results_get(f->s, 4, &r), CAIRN_ECORRUPT);
    const fx_block *fb = &g_chain.b[3];
    uint8_t th[HASH_BYTES];
    tx_hash(th, fb->block.txs[0].p, fb->block.txs[0].len);
    buf_t res;
    buf_init(&res, 4096);
    assert_int_equal(store_tx_get(f->s, th, NULL, NULL, NULL, &res), CAIRN_ECORRUPT);
    buf_deinit(&res);
    scrub_expect(f->s, STORE_CF_RESULTS, 4);
    buf_deinit(&v);
}

static void test_scrub_lists_every_damage_not_just_the_first(void **state)
{
    fixture *f = *state;
    const uint8_t junk[] = "not a block";
    put_raw_height(f->s, STORE_CF_BLOCKS, 5, junk, sizeof junk);
    put_raw_height(f->s, STORE_CF_BLOCKS, 25, junk, sizeof junk);
    put_raw_height(f->s, STORE_CF_COMMITS, 40, junk, sizeof junk);
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_STATE, (const uint8_t *)"k3_1", 4,
                                         junk, sizeof junk),
                     CAIRN_OK);
    store_scrub_report rep;
    assert_int_equal(store_scrub(f->s, &rep, NULL, NULL), CAIRN_OK);
    assert_true(report_has(&rep, STORE_CF_BLOCKS, 5));
    assert_true(report_has(&rep, STORE_CF_BLOCKS, 25));
    assert_true(report_has(&rep, STORE_CF_COMMITS, 40));
    assert_true(report_has(&rep, STORE_CF_STATE, 0));
    assert_int_equal(rep.heights_checked, N_BLOCKS);
    for (uint32_t i = 0; i < rep.n_entries; i++) {
        char line[256];
        store_damage_format(&rep.entries[i], line, sizeof line);
        assert_true(strlen(line) > 10);
    }
    store_scrub_report_free(&rep);
}

typedef struct {
    uint64_t calls, last_done, total;
    uint64_t stop_after;
} progress_state;

static bool progress_cb(uint64_t done, uint64_t total, void *ctx)
{
    progress_state *p = ctx;
    p->calls++;
    p->last_done = done;
    p->total = total;
    return p->stop_after == 0 || p->calls < p->stop_after;
}

static void test_scrub_of_a_clean_store_reports_progress_and_no_damage(void **state)
{
    fixture *f = *state;
    progress_state p = {0};
    store_scrub_report rep;
    assert_int_equal(store_scrub(f->s, &rep, progress_cb, &p), CAIRN_OK);
    assert_int_equal(rep.damaged, 0);
    assert_int_equal(rep.n_entries, 0);
    assert_int_equal(rep.heights_checked, N_BLOCKS);
    assert_true(rep.records_checked > 3 * N_BLOCKS);
    assert_true(p.calls >= 1);
    assert_int_equal(p.last_done, N_BLOCKS);
    assert_int_equal(p.total, N_BLOCKS);
    store_scrub_report_free(&rep);
}

static void test_scrub_stops_when_progress_says_so(void **state)
{
    fixture *f = *state;
    progress_state p = {.stop_after = 1};
    store_scrub_report rep;
    assert_int_equal(store_scrub(f->s, &rep, progress_cb, &p), CAIRN_ECLOSED);
    store_scrub_report_free(&rep);
}

int main(void)
{
    log_level_set(LOG_OFF);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define TF(name) cmocka_unit_test_setup_teardown(name, setup_filled, teardown)
    const struct CMUnitTest tests[] = {
        TF(test_saved_blocks_read_back_by_height_and_hash),
        TF(test_seen_commits_read_back),
        TF(test_txs_found_by_hash_with_their_results),
        TF(test_results_meta_and_state_are_saved_with_the_block),
        TF(test_reopen_returns_the_same_data),
        T(test_empty_store_takes_any_first_height_as_base),
        T(test_sync_off_saves_survive_a_clean_close),
        T(test_reader_thread_never_sees_a_partial_block),
        T(test_save_refuses_a_height_gap),
        T(test_save_refuses_a_block_not_linked_to_the_tip),
        T(test_save_refuses_a_wrong_block_id),
        T(test_save_refuses_a_commit_for_another_block),
        T(test_save_refuses_bytes_that_are_not_the_block),
        T(test_save_refuses_a_result_count_unlike_the_tx_count),
        T(test_failed_batch_late_in_the_save_leaves_nothing),
        T(test_kill_during_saves_leaves_whole_blocks_only),
        TF(test_flipped_bytes_in_a_stored_block_read_as_corrupt),
        TF(test_truncated_block_reads_as_corrupt),
        TF(test_valid_block_stored_at_the_wrong_height_reads_as_corrupt),
        TF(test_missing_block_inside_the_range_reads_as_corrupt),
        TF(test_deleted_hash_index_entry_is_found),
        TF(test_hash_index_entry_pointing_elsewhere_is_found),
        TF(test_deleted_tx_index_entry_is_listed_by_scrub),
        TF(test_tx_index_pointing_to_another_tx_reads_as_corrupt),
        TF(test_seen_commit_for_another_block_reads_as_corrupt),
        TF(test_rewritten_block_with_fixed_index_reads_as_corrupt),
        TF(test_rewritten_block_and_commit_are_caught_by_the_chain_above),
        TF(test_rewritten_tip_block_reads_as_corrupt),
        TF(test_damaged_results_read_as_corrupt),
        TF(test_scrub_lists_every_damage_not_just_the_first),
        TF(test_scrub_of_a_clean_store_reports_progress_and_no_damage),
        TF(test_scrub_stops_when_progress_says_so),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
