/* The scrub's state check (src/node/state_check.c) on a real RocksDB store: the
 * tree's leaves merged with the latest-value index finds every kind of false
 * entry, and the store's state stays readable to the tree after a rebuild. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "app/smt.h"
#include "base/log.h"
#include "crypto/crypto.h"
#include "node/node_int.h"
#include "store/store.h"
#include "../store/store_test_util.h"

#define KEYS 300

typedef struct {
    char dir[256];
    store_t *s;
    uint8_t root[32];
} fx;

static void key_of(uint8_t k[8], uint32_t i)
{
    memcpy(k, "key", 3);
    memcpy(k + 3, &i, 4);
    k[7] = 0;
}

static int setup(void **state)
{
    log_level_set(LOG_ERROR);
    fx *f = calloc(1, sizeof *f);
    if (!f || tmpdir_make(f->dir) != 0) return -1;
    store_options o;
    store_options_default(&o);
    o.sync = false;
    if (store_open(f->dir, &o, &f->s) != CAIRN_OK) return -1;
    kv_reader r = store_state_reader(f->s);
    /* version 0: KEYS keys; version 1: every third deleted */
    static uint8_t keys[KEYS][8];
    smt_op ops[KEYS];
    for (uint32_t i = 0; i < KEYS; i++) {
        key_of(keys[i], i);
        ops[i] = (smt_op){keys[i], 8, (const uint8_t *)"value", 5};
    }
    for (int v = 0; v < 2; v++) {
        size_t n = 0;
        for (uint32_t i = 0; i < KEYS; i++) {
            if (v == 1 && i % 3 != 0) continue;
            ops[n++] = (smt_op){keys[i], 8, v ? NULL : (const uint8_t *)"value", v ? 0 : 5};
        }
        kv_batch b;
        kv_batch_init(&b);
        if (smt_apply(&r, v ? 0 : SMT_VERSION_NONE, (uint64_t)v, ops, n, &b, f->root, NULL) !=
                CAIRN_OK ||
            store_state_write(f->s, &b) != CAIRN_OK)
            return -1;
        kv_batch_deinit(&b);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->s);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static void latest_key_of(uint8_t lk[33], const uint8_t *key, size_t n)
{
    lk[0] = 'L';
    hash_sha256(lk + 1, key, n);
}

/* Writes an 'L' entry (with a valid seal, as someone with the disk could). */
static void put_entry(fx *f, const uint8_t lk[33], uint64_t ver, const char *val)
{
    uint8_t v[64] = {0};
    for (int i = 0; i < 8; i++) v[i] = (uint8_t)(ver >> (8 * i));
    size_t n = 9;
    if (val) {
        v[8] = 1;
        uint32_t len = (uint32_t)strlen(val);
        memcpy(v + 9, &len, 4);
        memcpy(v + 13, val, len);
        n = 13 + len;
    }
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(kv_batch_put(&b, lk, 33, v, n), CAIRN_OK);
    assert_int_equal(store_state_write(f->s, &b), CAIRN_OK);
    kv_batch_deinit(&b);
}

static bool listed(const node_state_report *rep, const uint8_t lk[33])
{
    for (uint32_t i = 0; i < rep->n_listed; i++)
        if (!memcmp(rep->listed[i], lk + 1, 32)) return true;
    return false;
}

static void an_intact_state_checks_clean(void **state)
{
    fx *f = *state;
    node_state_report rep;
    assert_int_equal(node_state_check(f->s, 1, f->root, &rep), CAIRN_OK);
    assert_false(rep.root_bad);
    assert_int_equal(rep.tree_rc, CAIRN_OK);
    assert_int_equal(rep.index_bad, 0);
    assert_int_equal(rep.leaves, KEYS - KEYS / 3);
    assert_int_equal(rep.index_checked, KEYS); /* live keys and tombstones */
    uint8_t other[32] = {1};
    assert_int_equal(node_state_check(f->s, 1, other, &rep), CAIRN_OK);
    assert_true(rep.root_bad);
}

static void every_kind_of_false_entry_is_listed(void **state)
{
    fx *f = *state;
    uint8_t k[8], changed[33], revived[33], invented[33], dropped[33];
    key_of(k, 1);
    latest_key_of(changed, k, 8);
    put_entry(f, changed, 0, "false"); /* a live key's value */
    key_of(k, 3);
    latest_key_of(revived, k, 8);
    put_entry(f, revived, 0, "value"); /* a deleted key brought back */
    latest_key_of(invented, (const uint8_t *)"mallory", 7);
    put_entry(f, invented, 1, "1000000"); /* a key that never was */
    key_of(k, 2);
    latest_key_of(dropped, k, 8);
    /* a live key's entry removed */
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(kv_batch_del(&b, dropped, 33), CAIRN_OK);
    assert_int_equal(store_state_write(f->s, &b), CAIRN_OK);
    kv_batch_deinit(&b);
    node_state_report rep;
    assert_int_equal(node_state_check(f->s, 1, f->root, &rep), CAIRN_OK);
    assert_int_equal(rep.tree_rc, CAIRN_OK);
    assert_int_equal(rep.index_bad, 4);
    assert_true(listed(&rep, changed));
    assert_true(listed(&rep, revived));
    assert_true(listed(&rep, invented));
    assert_true(listed(&rep, dropped));
}

static void entries_newer_than_the_checked_version_are_not_false(void **state)
{
    fx *f = *state;
    uint8_t k[8], lk[33], fresh[33];
    key_of(k, 4);
    latest_key_of(lk, k, 8);
    put_entry(f, lk, 2, "changed at 2"); /* a block committed during the check */
    latest_key_of(fresh, (const uint8_t *)"created at 2", 12);
    put_entry(f, fresh, 2, "new");
    node_state_report rep;
    assert_int_equal(node_state_check(f->s, 1, f->root, &rep), CAIRN_OK);
    assert_int_equal(rep.index_bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(an_intact_state_checks_clean, setup, teardown),
        cmocka_unit_test_setup_teardown(every_kind_of_false_entry_is_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(entries_newer_than_the_checked_version_are_not_false,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
