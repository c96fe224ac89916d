/* Frames and the crypto box under them: round trips, counters, tampering, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "crypto/box.h"
#include "crypto/crypto.h"
#include "p2p/frame.h"

static const uint8_t KEY[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static int setup(void **state)
{
    (void)state;
    return crypto_init() == CAIRN_OK ? 0 : -1;
}

static void hkdf_matches_rfc5869_case_1(void **state)
{
    (void)state;
    uint8_t ikm[22], salt[13], info[10], okm[42], want[42];
    memset(ikm, 0x0b, sizeof ikm);
    for (int i = 0; i < 13; i++) salt[i] = (uint8_t)i;
    for (int i = 0; i < 10; i++) info[i] = (uint8_t)(0xf0 + i);
    assert_int_equal(hex_decode(want, sizeof want,
                                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                                "34007208d5b887185865"),
                     CAIRN_OK);
    assert_int_equal(box_hkdf_sha256(okm, sizeof okm, salt, sizeof salt, ikm, sizeof ikm, info,
                                     sizeof info),
                     CAIRN_OK);
    assert_memory_equal(okm, want, sizeof want);
}

static void shared_secret_refuses_low_order_points(void **state)
{
    (void)state;
    const char *bad[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    box_keypair_t kp;
    box_keypair_generate(&kp);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t pub[32], ss[32];
        assert_int_equal(hex_decode(pub, 32, bad[i]), CAIRN_OK);
        memset(ss, 0xaa, sizeof ss);
        assert_int_equal(box_shared(ss, kp.sec, pub), CAIRN_EBAD_KEY);
        assert_true(bytes_is_zero(ss, sizeof ss));
    }
}

static void shared_secret_agrees_on_both_sides(void **state)
{
    (void)state;
    box_keypair_t a, b;
    box_keypair_generate(&a);
    box_keypair_generate(&b);
    uint8_t sa[32], sb[32];
    assert_int_equal(box_shared(sa, a.sec, b.pub), CAIRN_OK);
    assert_int_equal(box_shared(sb, b.sec, a.pub), CAIRN_OK);
    assert_memory_equal(sa, sb, 32);
}

static void frames_round_trip_in_order_byte_by_byte(void **state)
{
    (void)state;
    p2p_cipher tx;
    p2p_cipher_init(&tx, KEY, 2);
    p2p_frame_reader rx;
    p2p_frame_reader_init(&rx, KEY, 2, 1024);
    const char *msgs[] = {"consensus vote", "", "a mempool tx of some length"};
    const uint8_t chans[] = {0x20, 0x30, 0x30};
    uint8_t wire[3 * (64 + P2P_FRAME_OVERHEAD)];
    size_t wlen = 0;
    for (int i = 0; i < 3; i++) {
        uint32_t n = (uint32_t)strlen(msgs[i]);
        assert_int_equal(p2p_frame_seal(&tx, chans[i], msgs[i], n, wire + wlen), CAIRN_OK);
        wlen += p2p_frame_sealed_len(n);
    }
    int seen = 0;
    for (size_t pos = 0; pos < wlen; pos++) {
        size_t used;
        bool got;
        p2p_frame f;
        assert_int_equal(p2p_frame_reader_feed(&rx, wire + pos, 1, &used, &f, &got), CAIRN_OK);
        assert_int_equal(used, 1);
        if (got) {
            assert_int_equal(f.channel, chans[seen]);
            assert_int_equal(f.len, strlen(msgs[seen]));
            assert_memory_equal(f.payload, msgs[seen], f.len);
            seen++;
        }
    }
    assert_int_equal(seen, 3);
    assert_int_equal(tx.counter, 2 + 3 * 2);
    assert_int_equal(rx.cipher.counter, tx.counter);
    p2p_frame_reader_deinit(&rx);
}

static void counter_advances_and_equal_payloads_encrypt_differently(void **state)
{
    (void)state;
    p2p_cipher tx;
    p2p_cipher_init(&tx, KEY, 7);
    uint8_t a[P2P_FRAME_OVERHEAD + 4], b[P2P_FRAME_OVERHEAD + 4];
    assert_int_equal(p2p_frame_seal(&tx, 0x20, "same", 4, a), CAIRN_OK);
    assert_int_equal(tx.counter, 9);
    assert_int_equal(p2p_frame_seal(&tx, 0x20, "same", 4, b), CAIRN_OK);
    assert_int_equal(tx.counter, 11);
    assert_memory_not_equal(a, b, sizeof a);
}

static void replayed_frame_is_refused(void **state)
{
    (void)state;
    p2p_cipher tx;
    p2p_cipher_init(&tx, KEY, 2);
    p2p_frame_reader rx;
    p2p_frame_reader_init(&rx, KEY, 2, 1024);
    uint8_t w[P2P_FRAME_OVERHEAD + 3];
    assert_int_equal(p2p_frame_seal(&tx, 0x40, "abc", 3, w), CAIRN_OK);
    size_t used;
    bool got;
    p2p_frame f;
    assert_int_equal(p2p_frame_reader_feed(&rx, w, sizeof w, &used, &f, &got), CAIRN_OK);
    assert_true(got);
    assert_int_equal(p2p_frame_reader_feed(&rx, w, sizeof w, &used, &f, &got), CAIRN_EBAD_MAC);
    assert_false(got);
    p2p_frame_reader_deinit(&rx);
}

static void tampered_header_or_body_is_refused_and_sticky(void **state)
{
    (void)state;
    for (size_t flip = 0; flip < P2P_FRAME_OVERHEAD + 5; flip += 3) {
        p2p_cipher tx;
        p2p_cipher_init(&tx, KEY, 2);
        p2p_frame_reader rx;
        p2p_frame_reader_init(&rx, KEY, 2, 1024);
        uint8_t w[2 * (P2P_FRAME_OVERHEAD + 5)];
        assert_int_equal(p2p_frame_seal(&tx, 0x50, "hello", 5, w), CAIRN_OK);
        assert_int_equal(p2p_frame_seal(&tx, 0x50, "world", 5, w + P2P_FRAME_OVERHEAD + 5),
                         CAIRN_OK);
        w[flip] ^= 0x01;
        size_t used;
        bool got;
        p2p_frame f;
        cairn_err rc = p2p_frame_reader_feed(&rx, w, sizeof w, &used, &f, &got);
        /* A flipped length bit may also read as an oversized frame; never accepted. */
        assert_true(rc == CAIRN_EBAD_MAC || rc == CAIRN_EBAD_FRAME);
        assert_false(got);
        /* The good second frame is refused too: the reader stays failed. */
        assert_int_equal(p2p_frame_reader_feed(&rx, w + P2P_FRAME_OVERHEAD + 5,
                                               P2P_FRAME_OVERHEAD + 5, &used, &f, &got),
                         rc);
        assert_int_equal(used, 0);
        p2p_frame_reader_deinit(&rx);
    }
}

static void frame_over_max_is_refused_before_allocating(void **state)
{
    (void)state;
    uint32_t big = 4096;
    uint8_t *payload = calloc(1, big);
    uint8_t *w = malloc(p2p_frame_sealed_len(big));
    assert_non_null(payload);
    assert_non_null(w);
    p2p_cipher tx;
    p2p_cipher_init(&tx, KEY, 2);
    assert_int_equal(p2p_frame_seal(&tx, 0x40, payload, big, w), CAIRN_OK);
    p2p_frame_reader rx;
    p2p_frame_reader_init(&rx, KEY, 2, big - 1);
    size_t used;
    bool got;
    p2p_frame f;
    /* The header alone is enough to refuse it. */
    assert_int_equal(p2p_frame_reader_feed(&rx, w, P2P_FRAME_HDR_BYTES, &used, &f, &got),
                     CAIRN_EBAD_FRAME);
    assert_null(rx.body);
    assert_int_equal(rx.body_cap, 0);
    p2p_frame_reader_deinit(&rx);

    /* Exactly at the maximum is fine. */
    p2p_frame_reader_init(&rx, KEY, 2, big);
    assert_int_equal(p2p_frame_reader_feed(&rx, w, p2p_frame_sealed_len(big), &used, &f, &got),
                     CAIRN_OK);
    assert_true(got);
    assert_int_equal(f.len, big);
    p2p_frame_reader_deinit(&rx);
    free(payload);
    free(w);
}

static void sender_refuses_to_wrap_the_counter(void **state)
{
    (void)state;
    p2p_cipher tx;
    p2p_cipher_init(&tx, KEY, P2P_COUNTER_LAST);
    uint8_t w[P2P_FRAME_OVERHEAD + 1];
    assert_int_equal(p2p_frame_seal(&tx, 0x20, "x", 1, w), CAIRN_OK);
    assert_int_equal(tx.counter, UINT64_MAX);
    uint8_t before[sizeof w];
    memcpy(before, w, sizeof w);
    assert_int_equal(p2p_frame_seal(&tx, 0x20, "y", 1, w), CAIRN_ELIMIT);
    assert_memory_equal(w, before, sizeof w);
    assert_int_equal(tx.counter, UINT64_MAX);
}

static void receiver_refuses_past_the_last_counter(void **state)
{
    (void)state;
    p2p_frame_reader rx;
    p2p_frame_reader_init(&rx, KEY, P2P_COUNTER_LAST + 1, 1024);
    uint8_t w[P2P_FRAME_HDR_BYTES] = {0};
    size_t used;
    bool got;
    p2p_frame f;
    assert_int_equal(p2p_frame_reader_feed(&rx, w, sizeof w, &used, &f, &got), CAIRN_ELIMIT);
    p2p_frame_reader_deinit(&rx);
}

static void wrong_key_is_refused(void **state)
{
    (void)state;
    uint8_t other[32];
    memcpy(other, KEY, 32);
    other[0] ^= 0x80;
    p2p_cipher tx;
    p2p_cipher_init(&tx, other, 2);
    uint8_t w[P2P_FRAME_OVERHEAD + 1];
    assert_int_equal(p2p_frame_seal(&tx, 0x20, "x", 1, w), CAIRN_OK);
    p2p_frame_reader rx;
    p2p_frame_reader_init(&rx, KEY, 2, 1024);
    size_t used;
    bool got;
    p2p_frame f;
    assert_int_equal(p2p_frame_reader_feed(&rx, w, sizeof w, &used, &f, &got), CAIRN_EBAD_MAC);
    p2p_frame_reader_deinit(&rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hkdf_matches_rfc5869_case_1),
        cmocka_unit_test(shared_secret_refuses_low_order_points),
        cmocka_unit_test(shared_secret_agrees_on_both_sides),
        cmocka_unit_test(frames_round_trip_in_order_byte_by_byte),
        cmocka_unit_test(counter_advances_and_equal_payloads_encrypt_differently),
        cmocka_unit_test(replayed_frame_is_refused),
        cmocka_unit_test(tampered_header_or_body_is_refused_and_sticky),
        cmocka_unit_test(frame_over_max_is_refused_before_allocating),
        cmocka_unit_test(sender_refuses_to_wrap_the_counter),
        cmocka_unit_test(receiver_refuses_past_the_last_counter),
        cmocka_unit_test(wrong_key_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
