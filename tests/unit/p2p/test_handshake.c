/* The handshake state machine, driven in memory (no sockets). */
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
#include "p2p/handshake.h"

static keypair_t node_a, node_b, node_c;

static int setup(void **state)
{
    (void)state;
    if (crypto_init() != CAIRN_OK) return -1;
    uint8_t seed[SEED_BYTES];
    memset(seed, 0xa1, sizeof seed);
    key_from_seed(&node_a, seed);
    memset(seed, 0xb2, sizeof seed);
    key_from_seed(&node_b, seed);
    memset(seed, 0xc3, sizeof seed);
    key_from_seed(&node_c, seed);
    return 0;
}

/* Moves pending output of `from` into `to`; returns to's feed result. */
static cairn_err pump(p2p_hs *from, p2p_hs *to)
{
    size_t n, used;
    const uint8_t *p = p2p_hs_output(from, &n);
    uint8_t tmp[sizeof from->out];
    memcpy(tmp, p, n);
    if (n == 0) return to->state == P2P_HS_FAILED ? to->err : CAIRN_OK;
    return p2p_hs_feed(to, tmp, n, &used);
}

/* Runs both sides until neither has output; results in *ra, *rb. */
static void run(p2p_hs *i, p2p_hs *r, cairn_err *ri, cairn_err *rr)
{
    *ri = *rr = CAIRN_OK;
    for (int round = 0; round < 4; round++) {
        cairn_err e = pump(i, r);
        if (e != CAIRN_OK) *rr = e;
        e = pump(r, i);
        if (e != CAIRN_OK) *ri = e;
    }
}

static void addr_of(uint8_t out[ADDR_BYTES], const keypair_t *k) { key_address(out, k->pub); }

static void handshake_completes_and_keys_match(void **state)
{
    (void)state;
    p2p_hs i, r;
    uint8_t want_b[ADDR_BYTES];
    addr_of(want_b, &node_b);
    assert_int_equal(p2p_hs_init(&i, true, &node_a, "cairn-test", want_b, NULL), CAIRN_OK);
    assert_int_equal(p2p_hs_init(&r, false, &node_b, "cairn-test", NULL, NULL), CAIRN_OK);
    cairn_err ri, rr;
    run(&i, &r, &ri, &rr);
    assert_int_equal(ri, CAIRN_OK);
    assert_int_equal(rr, CAIRN_OK);
    assert_true(p2p_hs_done(&i));
    assert_true(p2p_hs_done(&r));
    assert_memory_equal(i.remote_pub, node_b.pub, PUBKEY_BYTES);
    assert_memory_equal(r.remote_pub, node_a.pub, PUBKEY_BYTES);
    assert_memory_equal(i.th, r.th, HASH_BYTES);

    /* A frame sealed by one side opens on the other, in both directions. */
    p2p_cipher is, ir, rs, rrc;
    p2p_hs_session(&i, &is, &ir);
    p2p_hs_session(&r, &rs, &rrc);
    assert_memory_equal(is.key, rrc.key, BOX_KEY_BYTES);
    assert_memory_equal(ir.key, rs.key, BOX_KEY_BYTES);
    assert_memory_not_equal(is.key, ir.key, BOX_KEY_BYTES);
    assert_int_equal(is.counter, 2);
    uint8_t w[P2P_FRAME_OVERHEAD + 2];
    assert_int_equal(p2p_frame_seal(&is, 0x20, "hi", 2, w), CAIRN_OK);
    p2p_frame_reader rd;
    p2p_frame_reader_init(&rd, rrc.key, rrc.counter, 64);
    size_t used;
    bool got;
    p2p_frame f;
    assert_int_equal(p2p_frame_reader_feed(&rd, w, sizeof w, &used, &f, &got), CAIRN_OK);
    assert_true(got);
    assert_memory_equal(f.payload, "hi", 2);
    p2p_frame_reader_deinit(&rd);
    p2p_hs_deinit(&i);
    p2p_hs_deinit(&r);
}

static void only_the_hello_is_plaintext(void **state)
{
    (void)state;
    p2p_hs i, r;
    assert_int_equal(p2p_hs_init(&i, true, &node_a, "cairn-test", NULL, NULL), CAIRN_OK);
    assert_int_equal(p2p_hs_init(&r, false, &node_b, "cairn-test", NULL, NULL), CAIRN_OK);
    size_t n, used;
    const uint8_t *p = p2p_hs_output(&i, &n);
    assert_int_equal(n, P2P_HELLO_BYTES);
    assert_memory_equal(p, P2P_MAGIC, 4);
    assert_int_equal(p2p_hs_feed(&r, p, n, &used), CAIRN_OK);
    p = p2p_hs_output(&r, &n);
    /* responder: its HELLO and its AUTH frame; the node key never appears in clear */
    assert_int_equal(n, P2P_HELLO_BYTES + P2P_AUTH_FRAME_BYTES);
    assert_null(memmem(p, n, node_b.pub, 8));
    p2p_hs_deinit(&i);
    p2p_hs_deinit(&r);
}

static void dialer_refuses_unexpected_peer_id_and_stays_silent(void **state)
{
    (void)state;
    p2p_hs i, r;
    uint8_t want_c[ADDR_BYTES];
    addr_of(want_c, &node_c); /* we dial C, but B answers */
    assert_int_equal(p2p_hs_init(&i, true, &node_a, "cairn-test", want_c, NULL), CAIRN_OK);
    assert_int_equal(p2p_hs_init(&r, false, &node_b, "cairn-test", NULL, NULL), CAIRN_OK);
    cairn_err ri, rr;
    run(&i, &r, &ri, &rr);
    assert_int_equal(ri, CAIRN_EBAD_PEER);
    assert_false(p2p_hs_done(&i));
    /* The responder never got our AUTH, so it never accepts us either. */
    assert_false(p2p_hs_done(&r));
    assert_int_equal(r.state, P2P_HS_WAIT_AUTH);
    p2p_hs_deinit(&i);
    p2p_hs_deinit(&r);
}

static void listener_refuses_unexpected_peer_id(void **state)
{
    (void)state;
    p2p_hs i, r;
    uint8_t want_c[ADDR_BYTES];
    addr_of(want_c, &node_c); /* responder expects C, A connects */
    assert_int_equal(p2p_hs_init(&i, true, &node_a, "cairn-test", NULL, NULL), CAIRN_OK);
    assert_int_equal(p2p_hs_init(&r, false, &node_b, "cairn-test", want_c, NULL), CAIRN_OK);
    cairn_err ri, rr;
    run(&i, &r, &ri, &rr);
    assert_int_equal(rr, CAIRN_EBAD_PEER);
    assert_false(p2p_hs_done(&r));
    p2p_hs_deinit(&i);
    p2p_hs_deinit(&r);
}

static void different_chains_refuse_each_other_with_chain_id_error(void **state)
{
    (void)state;
    p2p_hs i, r;
    assert_int_equal(p2p_hs_init(&i, true, &node_a, "cairn-main", NULL, NULL), CAIRN_OK);
    assert_int_equal(p2p_hs_init(&r, false, &node_b, "cairn-test", NULL, NULL), CAIRN_OK);
    /* Both HELLOs are on the wire before either is read. */
    size_t n, used;
    uint8_t hi[P2P_HELLO_BYTES], hr[P2P_HELLO_BYTES];
    memcpy(hi, p2p_hs_output(&i, &n), sizeof hi);
    memcpy(hr, p2p_hs_output(&r, &n), sizeof hr);
    assert_int_equal(p2p_hs_feed(&r, hi, sizeof hi, &used), CAIRN_EBAD_CHAIN_ID);
    assert_int_equal(p2p_hs_feed(&i, hr, sizeof hr, &used), CAIRN_EBAD_CHAIN_ID);
    p2p_hs_output(&r, &n);
    assert_int_equal(n, 0); /* no AUTH sent to a node of another chain */
    p2p_hs_deinit(&i);
    p2p_hs_deinit(&r);
}

static void hello_with(uint8_t m[P2P_HELLO_BYTES], const char *chain_id, uint16_t version,
                       const uint8_t eph[32])
{
    memcpy(m, P2P_MAGIC, 4);
    m[4] = (uint8_t)version;
    m[5] = (uint8_t)(version >> 8);
    hash_sha256(m + 6, chain_id, strlen(chain_id));
    memcpy(m + 6 + HASH_BYTES, eph, 32);
}

static void low_order_ephemeral_keys_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        for (int role = 0; role < 2; role++) {
            p2p_hs hs;
            assert_int_equal(p2p_hs_init(&hs, role, &node_a, "cairn-test", NULL, NULL),
                             CAIRN_OK);
            size_t n, used;
            p2p_hs_output(&hs, &n);
            uint8_t eph[32], m[P2P_HELLO_BYTES];
            assert_int_equal(hex_decode(eph, 32, bad[k]), CAIRN_OK);
            hello_with(m, "cairn-test", P2P_PROTOCOL_VERSION, eph);
            assert_int_equal(p2p_hs_feed(&hs, m, sizeof m, &used), CAIRN_EBAD_KEY);
            p2p_hs_output(&hs, &n);
            assert_int_equal(n, 0);
            p2p_hs_deinit(&hs);
        }
    }
}

static void bad_magic_version_and_echoed_key_are_refused(void **state)
{
    (void)state;
    p2p_hs hs;
    size_t n, used;
    uint8_t m[P2P_HELLO_BYTES];
    box_keypair_t other;
    box_keypair_generate(&other);

    assert_int_equal(p2p_hs_init(&hs, false, &node_a, "cairn-test", NULL, NULL), CAIRN_OK);
    hello_with(m, "cairn-test", P2P_PROTOCOL_VERSION, other.pub);
    m[0] = 'X';
    assert_int_equal(p2p_hs_feed(&hs, m, sizeof m, &used), CAIRN_EHANDSHAKE);
    p2p_hs_deinit(&hs);

    assert_int_equal(p2p_hs_init(&hs, false, &node_a, "cairn-test", NULL, NULL), CAIRN_OK);
    hello_with(m, "cairn-test", P2P_PROTOCOL_VERSION + 1, other.pub);
    assert_int_equal(p2p_hs_feed(&hs, m, sizeof m, &used), CAIRN_EBAD_VERSION);
    p2p_hs_deinit(&hs);

    /* Our own HELLO reflected back. */
    assert_int_equal(p2p_hs_init(&hs, false, &node_a, "cairn-test", NULL, NULL), CAIRN_OK);
    const uint8_t *own = p2p_hs_output(&hs, &n);
    memcpy(m, own, sizeof m);
    assert_int_equal(p2p_hs_feed(&hs, m, sizeof m, &used), CAIRN_EHANDSHAKE);
    p2p_hs_output(&hs, &n);
    assert_int_equal(n, 0);
    p2p_hs_deinit(&hs);
}

static void tampered_auth_ciphertext_is_refused(void **state)
{
    (void)state;
    for (size_t off = 0; off < P2P_AUTH_FRAME_BYTES; off += 11) {
        p2p_hs i, r;
        assert_int_equal(p2p_hs_init(&i, true, &node_a, "cairn-test", NULL, NULL), CAIRN_OK);
        assert_int_equal(p2p_hs_init(&r, false, &node_b, "cairn-test", NULL, NULL), CAIRN_OK);
        assert_int_equal(pump(&i, &r), CAIRN_OK);
        size_t n, used;
        const uint8_t *p = p2p_hs_output(&r, &n);
        assert_int_equal(n, P2P_HELLO_BYTES + P2P_AUTH_FRAME_BYTES);
        uint8_t w[P2P_HELLO_BYTES + P2P_AUTH_FRAME_BYTES];
        memcpy(w, p, n);
        w[P2P_HELLO_BYTES + off] ^= 0x40;
        assert_int_equal(p2p_hs_feed(&i, w, n, &used), CAIRN_EBAD_MAC);
        assert_false(p2p_hs_done(&i));
        p2p_hs_output(&i, &n);
        assert_int_equal(n, 0);
        p2p_hs_deinit(&i);
        p2p_hs_deinit(&r);
    }
}

static void signature_over_another_transcript_is_refused(void **state)
{
    (void)state;
    p2p_hs i, r;
    assert_int_equal(p2p_hs_init(&i, true, &node_a, "cairn-test", NULL, NULL), CAIRN_OK);
    assert_int_equal(p2p_hs_init(&r, false, &node_b, "cairn-test", NULL, NULL), CAIRN_OK);
    assert_int_equal(pump(&i, &r), CAIRN_OK);
    size_t n, used;
    const uint8_t *p = p2p_hs_output(&r, &n);
    uint8_t hello[P2P_HELLO_BYTES];
    memcpy(hello, p, sizeof hello);
    /* A well-encrypted AUTH whose signature covers a different transcript. */
    uint8_t payload[P2P_AUTH_PAYLOAD_BYTES];
    memcpy(payload, node_b.pub, PUBKEY_BYTES);
    key_sign(payload + PUBKEY_BYTES, &node_b, "not the transcript", 18);
    p2p_cipher c;
    p2p_cipher_init(&c, r.send_key, 0);
    uint8_t frame[P2P_AUTH_FRAME_BYTES];
    assert_int_equal(p2p_frame_seal(&c, P2P_CHANNEL_HANDSHAKE, payload, sizeof payload, frame),
                     CAIRN_OK);
    assert_int_equal(p2p_hs_feed(&i, hello, sizeof hello, &used), CAIRN_OK);
    assert_int_equal(p2p_hs_feed(&i, frame, sizeof frame, &used), CAIRN_EBAD_SIGNATURE);
    p2p_hs_deinit(&i);
    p2p_hs_deinit(&r);
}

static void connecting_to_ourselves_is_refused(void **state)
{
    (void)state;
    p2p_hs i, r;
    assert_int_equal(p2p_hs_init(&i, true, &node_a, "cairn-test", NULL, NULL), CAIRN_OK);
    assert_int_equal(p2p_hs_init(&r, false, &node_a, "cairn-test", NULL, NULL), CAIRN_OK);
    cairn_err ri, rr;
    run(&i, &r, &ri, &rr);
    assert_int_equal(ri, CAIRN_EBAD_PEER);
    assert_false(p2p_hs_done(&r));
    p2p_hs_deinit(&i);
    p2p_hs_deinit(&r);
}

static void byte_at_a_time_works_and_leaves_frames_after_the_handshake(void **state)
{
    (void)state;
    p2p_hs i, r;
    assert_int_equal(p2p_hs_init(&i, true, &node_a, "cairn-test", NULL, NULL), CAIRN_OK);
    assert_int_equal(p2p_hs_init(&r, false, &node_b, "cairn-test", NULL, NULL), CAIRN_OK);
    size_t n, used;
    uint8_t buf[512];
    const uint8_t *p = p2p_hs_output(&i, &n);
    memcpy(buf, p, n);
    for (size_t k = 0; k < n; k++) assert_int_equal(p2p_hs_feed(&r, buf + k, 1, &used), CAIRN_OK);
    p = p2p_hs_output(&r, &n);
    memcpy(buf, p, n);
    for (size_t k = 0; k < n; k++) assert_int_equal(p2p_hs_feed(&i, buf + k, 1, &used), CAIRN_OK);
    assert_true(p2p_hs_done(&i));
    /* Initiator's AUTH followed by a first data frame, in one read. */
    p = p2p_hs_output(&i, &n);
    assert_int_equal(n, P2P_AUTH_FRAME_BYTES);
    memcpy(buf, p, n);
    p2p_cipher s, rc;
    p2p_hs_session(&i, &s, &rc);
    assert_int_equal(p2p_frame_seal(&s, 0x30, "tx", 2, buf + n), CAIRN_OK);
    size_t total = n + p2p_frame_sealed_len(2);
    assert_int_equal(p2p_hs_feed(&r, buf, total, &used), CAIRN_OK);
    assert_true(p2p_hs_done(&r));
    assert_int_equal(used, P2P_AUTH_FRAME_BYTES);
    /* Done: further feeding consumes nothing. */
    assert_int_equal(p2p_hs_feed(&r, buf + used, total - used, &used), CAIRN_OK);
    assert_int_equal(used, 0);
    p2p_hs_deinit(&i);
    p2p_hs_deinit(&r);
}

static void failure_is_sticky(void **state)
{
    (void)state;
    p2p_hs hs;
    assert_int_equal(p2p_hs_init(&hs, false, &node_a, "cairn-test", NULL, NULL), CAIRN_OK);
    uint8_t junk[P2P_HELLO_BYTES] = {0};
    size_t used;
    assert_int_equal(p2p_hs_feed(&hs, junk, sizeof junk, &used), CAIRN_EHANDSHAKE);
    assert_int_equal(p2p_hs_feed(&hs, junk, sizeof junk, &used), CAIRN_EHANDSHAKE);
    assert_int_equal(used, 0);
    p2p_hs_deinit(&hs);
}

static void chain_id_length_is_checked(void **state)
{
    (void)state;
    p2p_hs hs;
    char long_id[P2P_HS_CHAIN_ID_MAX + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    assert_int_equal(p2p_hs_init(&hs, true, &node_a, "", NULL, NULL), CAIRN_EINVALID_ARG);
    assert_int_equal(p2p_hs_init(&hs, true, &node_a, long_id, NULL, NULL), CAIRN_EINVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_completes_and_keys_match),
        cmocka_unit_test(only_the_hello_is_plaintext),
        cmocka_unit_test(dialer_refuses_unexpected_peer_id_and_stays_silent),
        cmocka_unit_test(listener_refuses_unexpected_peer_id),
        cmocka_unit_test(different_chains_refuse_each_other_with_chain_id_error),
        cmocka_unit_test(low_order_ephemeral_keys_are_refused),
        cmocka_unit_test(bad_magic_version_and_echoed_key_are_refused),
        cmocka_unit_test(tampered_auth_ciphertext_is_refused),
        cmocka_unit_test(signature_over_another_transcript_is_refused),
        cmocka_unit_test(connecting_to_ourselves_is_refused),
        cmocka_unit_test(byte_at_a_time_works_and_leaves_frames_after_the_handshake),
        cmocka_unit_test(failure_is_sticky),
        cmocka_unit_test(chain_id_length_is_checked),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
