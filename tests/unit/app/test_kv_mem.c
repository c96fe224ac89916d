/* The in-memory kv map: agrees with a simple model under random puts and
 * deletes (backward-shift deletion keeps every key findable), batches apply in
 * order, iteration sees every entry once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/kv_mem.h"

#define KEYS 2000

static void random_puts_and_deletes_match_a_model(void **state)
{
    (void)state;
    static int model[KEYS]; /* -1 absent, else value */
    for (int i = 0; i < KEYS; i++) model[i] = -1;
    kv_mem *m = kv_mem_new();
    uint64_t x = 3;
    for (int step = 0; step < 50000; step++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int k = (int)((x >> 33) % KEYS);
        uint32_t key = (uint32_t)k * 2654435761u;
        if ((x >> 20) % 3 == 0) {
            kv_mem_del(m, &key, sizeof key);
            model[k] = -1;
        } else {
            int v = step;
            assert_int_equal(kv_mem_put(m, &key, sizeof key, &v, sizeof v), CAIRN_OK);
            model[k] = v;
        }
    }
    size_t present = 0;
    kv_reader r = kv_mem_reader(m);
    for (int k = 0; k < KEYS; k++) {
        uint32_t key = (uint32_t)k * 2654435761u;
        uint8_t *v;
        size_t n;
        cairn_err rc = kv_get(&r, (uint8_t *)&key, sizeof key, &v, &n);
        if (model[k] < 0) {
            assert_int_equal(rc, CAIRN_ENOT_FOUND);
            continue;
        }
        present++;
        assert_int_equal(rc, CAIRN_OK);
        assert_int_equal(n, sizeof(int));
        int got;
        memcpy(&got, v, sizeof got);
        assert_int_equal(got, model[k]);
        free(v);
    }
    assert_int_equal(kv_mem_count(m), present);
    kv_mem_free(m);
}

static void batch_applies_in_order_and_later_writes_win(void **state)
{
    (void)state;
    kv_mem *m = kv_mem_new();
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(kv_batch_put(&b, "a", 1, "1", 1), CAIRN_OK);
    assert_int_equal(kv_batch_put(&b, "b", 1, "2", 1), CAIRN_OK);
    assert_int_equal(kv_batch_put(&b, "a", 1, "3", 1), CAIRN_OK);
    assert_int_equal(kv_batch_del(&b, "b", 1), CAIRN_OK);
    assert_int_equal(kv_batch_put(&b, "e", 1, "", 0), CAIRN_OK);
    assert_int_equal(kv_mem_apply(m, &b), CAIRN_OK);
    kv_batch_deinit(&b);
    size_t n;
    const uint8_t *v = kv_mem_peek(m, "a", 1, &n);
    assert_non_null(v);
    assert_int_equal(v[0], '3');
    assert_null(kv_mem_peek(m, "b", 1, &n));
    assert_non_null(kv_mem_peek(m, "e", 1, &n)); /* empty value is present */
    assert_int_equal(n, 0);
    assert_int_equal(kv_mem_count(m), 2);
    kv_mem_free(m);
}

static void iteration_visits_every_entry_once_and_clear_empties(void **state)
{
    (void)state;
    kv_mem *m = kv_mem_new();
    for (uint32_t i = 0; i < 500; i++) assert_int_equal(kv_mem_put(m, &i, 4, &i, 4), CAIRN_OK);
    static int seen[500];
    size_t pos = 0, kn, vn, count = 0;
    const uint8_t *k, *v;
    while (kv_mem_next(m, &pos, &k, &kn, &v, &vn)) {
        uint32_t i;
        memcpy(&i, k, 4);
        assert_true(i < 500);
        assert_int_equal(seen[i]++, 0);
        count++;
    }
    assert_int_equal(count, 500);
    kv_mem_clear(m);
    assert_int_equal(kv_mem_count(m), 0);
    pos = 0;
    assert_false(kv_mem_next(m, &pos, &k, &kn, &v, &vn));
    kv_mem_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_puts_and_deletes_match_a_model),
        cmocka_unit_test(batch_applies_in_order_and_later_writes_win),
        cmocka_unit_test(iteration_visits_every_entry_once_and_clear_empties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
