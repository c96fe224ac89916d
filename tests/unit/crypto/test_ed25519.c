/* Ed25519 against RFC 8032 section 7.1 (tests/vectors/rfc8032_ed25519.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "crypto/crypto.h"
#include "../../vectors/rfc8032_ed25519.h"

#define N_VECTORS (sizeof RFC8032_ED25519 / sizeof RFC8032_ED25519[0])

static void unhex(uint8_t *out, size_t max, size_t *len, const char *hex)
{
    assert_int_equal(hex_decode_var(out, max, len, hex, strlen(hex)), CAIRN_OK);
}

static int setup(void **s)
{
    (void)s;
    return crypto_init() == CAIRN_OK ? 0 : -1;
}

static void all_four_rfc_vectors_are_present(void **s)
{
    (void)s;
    assert_int_equal(N_VECTORS, 4);
    assert_string_equal(RFC8032_ED25519[3].name, "TEST 1024");
    assert_int_equal(strlen(RFC8032_ED25519[3].msg), 2 * 1023);
}

static void public_keys_match_rfc8032(void **s)
{
    (void)s;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const rfc8032_vector *v = &RFC8032_ED25519[i];
        uint8_t seed[SEED_BYTES], pub[PUBKEY_BYTES];
        size_t n;
        unhex(seed, sizeof seed, &n, v->secret);
        unhex(pub, sizeof pub, &n, v->pub);
        keypair_t kp;
        key_from_seed(&kp, seed);
        assert_memory_equal(kp.pub, pub, PUBKEY_BYTES);
    }
}

static void signatures_match_rfc8032_exactly(void **s)
{
    (void)s;
    static uint8_t msg[1024];
    for (size_t i = 0; i < N_VECTORS; i++) {
        const rfc8032_vector *v = &RFC8032_ED25519[i];
        uint8_t seed[SEED_BYTES], want[SIG_BYTES], sig[SIG_BYTES];
        size_t n, msg_len;
        unhex(seed, sizeof seed, &n, v->secret);
        unhex(want, sizeof want, &n, v->sig);
        unhex(msg, sizeof msg, &msg_len, v->msg);
        keypair_t kp;
        key_from_seed(&kp, seed);
        key_sign(sig, &kp, msg, msg_len);
        assert_memory_equal(sig, want, SIG_BYTES);
        assert_int_equal(key_verify(want, kp.pub, msg, msg_len), CAIRN_OK);
    }
}

static void altered_message_signature_or_key_fails(void **s)
{
    (void)s;
    static uint8_t msg[1025];
    for (size_t i = 0; i < N_VECTORS; i++) {
        const rfc8032_vector *v = &RFC8032_ED25519[i];
        uint8_t pub[PUBKEY_BYTES], sig[SIG_BYTES];
        size_t n, msg_len;
        unhex(pub, sizeof pub, &n, v->pub);
        unhex(sig, sizeof sig, &n, v->sig);
        unhex(msg, sizeof msg, &msg_len, v->msg);
        msg[msg_len] = 0; /* one byte appended */
        assert_int_equal(key_verify(sig, pub, msg, msg_len + 1), CAIRN_EBAD_SIGNATURE);
        if (msg_len) {
            msg[msg_len - 1] ^= 0x01;
            assert_int_equal(key_verify(sig, pub, msg, msg_len), CAIRN_EBAD_SIGNATURE);
            msg[msg_len - 1] ^= 0x01;
        }
        sig[0] ^= 0x01;
        assert_int_equal(key_verify(sig, pub, msg, msg_len), CAIRN_EBAD_SIGNATURE);
        sig[0] ^= 0x01;
        sig[63] ^= 0x40;
        assert_int_equal(key_verify(sig, pub, msg, msg_len), CAIRN_EBAD_SIGNATURE);
        sig[63] ^= 0x40;
        uint8_t other[PUBKEY_BYTES];
        unhex(other, sizeof other, &n, RFC8032_ED25519[(i + 1) % N_VECTORS].pub);
        assert_int_equal(key_verify(sig, other, msg, msg_len), CAIRN_EBAD_SIGNATURE);
        assert_int_equal(key_verify(sig, pub, msg, msg_len), CAIRN_OK);
    }
}

static void small_order_public_key_is_rejected(void **s)
{
    (void)s;
    uint8_t identity[PUBKEY_BYTES] = {1}; /* the neutral point, order 1 */
    uint8_t sig[SIG_BYTES] = {1};         /* R = identity, S = 0 */
    assert_int_equal(key_verify(sig, identity, "x", 1), CAIRN_EBAD_SIGNATURE);
}

static void address_is_first_20_bytes_of_sha256_of_the_key(void **s)
{
    (void)s;
    uint8_t pub[PUBKEY_BYTES], addr[ADDR_BYTES], h[HASH_BYTES];
    size_t n;
    unhex(pub, sizeof pub, &n, RFC8032_ED25519[0].pub);
    key_address(addr, pub);
    hash_sha256(h, pub, PUBKEY_BYTES);
    assert_memory_equal(addr, h, ADDR_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_four_rfc_vectors_are_present),
        cmocka_unit_test(public_keys_match_rfc8032),
        cmocka_unit_test(signatures_match_rfc8032_exactly),
        cmocka_unit_test(altered_message_signature_or_key_fails),
        cmocka_unit_test(small_order_public_key_is_rejected),
        cmocka_unit_test(address_is_first_20_bytes_of_sha256_of_the_key),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
