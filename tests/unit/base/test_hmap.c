#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/hmap.h"

/* A deliberately bad hash: every key lands in one of four slots, so probe runs
 * are long and deletion has to shift entries back correctly. */
static uint64_t clumping_hash(const void *key, size_t len, void *ctx)
{
    (void)ctx;
    (void)len;
    return ((const uint8_t *)key)[0] & 3;
}

static void put_get_delete_agree_with_a_reference_under_collisions(void **state)
{
    (void)state;
    hmap_t m;
    assert_int_equal(hmap_init(&m, 4, 200, clumping_hash, NULL), CAIRN_OK);
    static int present[1000];
    uint32_t rng = 12345;
    for (int step = 0; step < 20000; step++) {
        rng = rng * 1103515245u + 12345u;
        uint32_t k = (rng >> 8) % 300;
        uint8_t key[4];
        memcpy(key, &k, 4);
        if ((rng >> 4) & 1) {
            cairn_err rc = hmap_put(&m, key, (void *)(uintptr_t)(k + 1));
            if (rc == CAIRN_OK) present[k] = 1;
            else assert_int_equal(rc, CAIRN_ELIMIT);
        } else {
            void *v = hmap_del(&m, key);
            assert_true(present[k] ? v == (void *)(uintptr_t)(k + 1) : v == NULL);
            present[k] = 0;
        }
        size_t count = 0;
        for (uint32_t j = 0; j < 300; j++) {
            uint8_t kj[4];
            memcpy(kj, &j, 4);
            void *v = hmap_get(&m, kj);
            assert_true(present[j] ? v == (void *)(uintptr_t)(j + 1) : v == NULL);
            count += present[j];
        }
        assert_int_equal(count, m.count);
    }
    hmap_deinit(&m);
}

static void put_beyond_max_entries_fails_with_limit(void **state)
{
    (void)state;
    hmap_t m;
    assert_int_equal(hmap_init(&m, 1, 3, clumping_hash, NULL), CAIRN_OK);
    for (uint8_t k = 0; k < 3; k++) assert_int_equal(hmap_put(&m, &k, &m), CAIRN_OK);
    uint8_t k = 9;
    assert_int_equal(hmap_put(&m, &k, &m), CAIRN_ELIMIT);
    k = 1;
    assert_int_equal(hmap_put(&m, &k, (void *)&k), CAIRN_OK); /* replace is fine */
    hmap_deinit(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_get_delete_agree_with_a_reference_under_collisions),
        cmocka_unit_test(put_beyond_max_entries_fails_with_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
