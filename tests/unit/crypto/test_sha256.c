/* SHA-256 against NIST FIPS 180-2 Appendix B (tests/vectors/nist_sha256.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "crypto/crypto.h"
#include "../../vectors/nist_sha256.h"

static void check(const void *msg, size_t n, const char *want_hex)
{
    uint8_t got[HASH_BYTES], want[HASH_BYTES];
    assert_int_equal(hex_decode(want, HASH_BYTES, want_hex), CAIRN_OK);
    hash_sha256(got, msg, n);
    assert_memory_equal(got, want, HASH_BYTES);
}

static void abc_matches_fips_180_2_b1(void **s)
{
    (void)s;
    check(NIST_SHA256_ABC_MSG, 3, NIST_SHA256_ABC);
}

static void two_block_448_bit_message_matches_b2(void **s)
{
    (void)s;
    assert_int_equal(strlen(NIST_SHA256_448_MSG) * 8, 448);
    check(NIST_SHA256_448_MSG, strlen(NIST_SHA256_448_MSG), NIST_SHA256_448);
}

static void one_million_a_matches_b3(void **s)
{
    (void)s;
    uint8_t *m = malloc(NIST_SHA256_MILLION_A_LEN);
    memset(m, 'a', NIST_SHA256_MILLION_A_LEN);
    check(m, NIST_SHA256_MILLION_A_LEN, NIST_SHA256_MILLION_A);
    free(m);
}

static void streaming_in_odd_chunks_gives_the_same_digest(void **s)
{
    (void)s;
    uint8_t chunk[997], got[HASH_BYTES], want[HASH_BYTES];
    memset(chunk, 'a', sizeof chunk);
    hash_ctx c;
    hash_init(&c);
    size_t left = NIST_SHA256_MILLION_A_LEN;
    while (left) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        hash_update(&c, chunk, n);
        left -= n;
    }
    hash_final(&c, got);
    assert_int_equal(hex_decode(want, HASH_BYTES, NIST_SHA256_MILLION_A), CAIRN_OK);
    assert_memory_equal(got, want, HASH_BYTES);
}

static void empty_string_is_hash_empty(void **s)
{
    (void)s;
    check("", 0, NIST_SHA256_EMPTY);
    uint8_t want[HASH_BYTES];
    assert_int_equal(hex_decode(want, HASH_BYTES, NIST_SHA256_EMPTY), CAIRN_OK);
    assert_memory_equal(HASH_EMPTY, want, HASH_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(abc_matches_fips_180_2_b1),
        cmocka_unit_test(two_block_448_bit_message_matches_b2),
        cmocka_unit_test(one_million_a_matches_b3),
        cmocka_unit_test(streaming_in_odd_chunks_gives_the_same_digest),
        cmocka_unit_test(empty_string_is_hash_empty),
    };
    if (crypto_init() != CAIRN_OK) return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
