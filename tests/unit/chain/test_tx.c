/* Transactions: round trips, every decoder rejection, signatures. */
#include "fixture.h"

static const uint8_t KEY[] = "greeting";
static const uint8_t VALUE[] = "hello, world";

static void make_tx(tx_t *tx, uint8_t type, const keypair_t *kp)
{
    memset(tx, 0, sizeof *tx);
    tx->version = CHAIN_VERSION;
    tx->type = type;
    memcpy(tx->sender, kp->pub, PUBKEY_BYTES);
    tx->nonce = 7;
    tx->fee = 10;
    if (type == TX_TRANSFER) {
        memset(tx->to, 0xab, ADDR_BYTES);
        tx->amount = 123456789;
    } else {
        tx->key = KEY;
        tx->key_len = sizeof KEY - 1;
        if (type == TX_PUT) {
            tx->value = VALUE;
            tx->value_len = sizeof VALUE - 1;
        }
    }
    memset(tx->sig, 0x5a, SIG_BYTES);
}

static void encode(const tx_t *tx, buf_t *b)
{
    buf_init(b, 0);
    assert_int_equal(tx_encode(tx, b), CAIRN_OK);
}

static void round_trip(uint8_t type)
{
    keypair_t kp;
    fx_key(&kp, 0);
    tx_t tx, got;
    make_tx(&tx, type, &kp);
    buf_t b;
    encode(&tx, &b);
    assert_int_equal(tx_decode(&got, b.data, b.len), CAIRN_OK);
    assert_int_equal(got.type, type);
    assert_memory_equal(got.sender, kp.pub, PUBKEY_BYTES);
    assert_int_equal(got.nonce, 7);
    assert_int_equal(got.fee, 10);
    assert_memory_equal(got.sig, tx.sig, SIG_BYTES);
    buf_t again;
    encode(&got, &again);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    if (type == TX_TRANSFER) {
        assert_int_equal(got.amount, 123456789);
        assert_memory_equal(got.to, tx.to, ADDR_BYTES);
        assert_int_equal(b.len, 1 + 1 + 32 + 8 + 8 + 20 + 8 + 64);
    } else {
        assert_int_equal(got.key_len, sizeof KEY - 1);
        assert_memory_equal(got.key, KEY, got.key_len);
    }
    if (type == TX_PUT) {
        assert_int_equal(got.value_len, sizeof VALUE - 1);
        assert_memory_equal(got.value, VALUE, got.value_len);
    }
    buf_deinit(&b);
    buf_deinit(&again);
}

static void transfer_round_trips(void **s) { (void)s; round_trip(TX_TRANSFER); }
static void put_round_trips(void **s) { (void)s; round_trip(TX_PUT); }
static void delete_round_trips(void **s) { (void)s; round_trip(TX_DELETE); }

static void put_with_empty_value_round_trips(void **s)
{
    (void)s;
    keypair_t kp;
    fx_key(&kp, 0);
    tx_t tx, got;
    make_tx(&tx, TX_PUT, &kp);
    tx.value = NULL;
    tx.value_len = 0;
    buf_t b;
    encode(&tx, &b);
    assert_int_equal(tx_decode(&got, b.data, b.len), CAIRN_OK);
    assert_int_equal(got.value_len, 0);
    buf_deinit(&b);
}

static void decode_rejects_each_malformed_input(void **s)
{
    (void)s;
    keypair_t kp;
    fx_key(&kp, 0);
    tx_t tx, got;
    make_tx(&tx, TX_PUT, &kp);
    buf_t b;
    encode(&tx, &b);
    uint8_t *p = malloc(b.len + 1);
    memcpy(p, b.data, b.len);

    assert_int_equal(tx_decode(&got, p, 0), CAIRN_ETRUNCATED);
    for (size_t n = 1; n < b.len; n++) assert_int_equal(tx_decode(&got, p, n), CAIRN_ETRUNCATED);
    p[b.len] = 0;
    assert_int_equal(tx_decode(&got, p, b.len + 1), CAIRN_ETRAILING);

    p[0] = 2;
    assert_int_equal(tx_decode(&got, p, b.len), CAIRN_EBAD_VERSION);
    p[0] = 0;
    assert_int_equal(tx_decode(&got, p, b.len), CAIRN_EBAD_VERSION);
    p[0] = 1;
    p[1] = 4;
    assert_int_equal(tx_decode(&got, p, b.len), CAIRN_EBAD_TYPE);
    p[1] = 0;
    assert_int_equal(tx_decode(&got, p, b.len), CAIRN_EBAD_TYPE);
    p[1] = TX_PUT;

    size_t key_at = 1 + 1 + 32 + 8 + 8;
    p[key_at] = 0x01; /* key length 257 */
    p[key_at + 1] = 0x01;
    assert_int_equal(tx_decode(&got, p, b.len), CAIRN_ETOO_LARGE);
    memset(p + key_at, 0, 4); /* empty key */
    assert_int_equal(tx_decode(&got, p, b.len), CAIRN_EBAD_TX);
    memcpy(p, b.data, b.len);
    size_t val_at = key_at + 4 + (sizeof KEY - 1);
    p[val_at + 2] = 0x01; /* value length 65536 + 12 > TX_VALUE_MAX */
    assert_int_equal(tx_decode(&got, p, b.len), CAIRN_ETOO_LARGE);
    free(p);
    buf_deinit(&b);
}

static void decode_rejects_oversize_input(void **s)
{
    (void)s;
    uint8_t *p = calloc(1, TX_BYTES_MAX + 1);
    p[0] = CHAIN_VERSION;
    p[1] = TX_TRANSFER;
    tx_t got;
    assert_int_equal(tx_decode(&got, p, TX_BYTES_MAX + 1), CAIRN_ETOO_LARGE);
    free(p);
}

static void decode_leaves_output_untouched_on_error(void **s)
{
    (void)s;
    tx_t got;
    memset(&got, 0x77, sizeof got);
    uint8_t bad[] = {1, 9};
    assert_int_equal(tx_decode(&got, bad, sizeof bad), CAIRN_EBAD_TYPE);
    assert_int_equal(got.nonce, 0x7777777777777777ULL);
}

static void encode_rejects_what_decode_would(void **s)
{
    (void)s;
    keypair_t kp;
    fx_key(&kp, 0);
    tx_t tx;
    buf_t b;
    buf_init(&b, 0);
    make_tx(&tx, TX_PUT, &kp);
    tx.key_len = 0;
    assert_int_equal(tx_encode(&tx, &b), CAIRN_EBAD_TX);
    tx.key_len = TX_KEY_MAX + 1;
    assert_int_equal(tx_encode(&tx, &b), CAIRN_ETOO_LARGE);
    make_tx(&tx, 9, &kp);
    assert_int_equal(tx_encode(&tx, &b), CAIRN_EBAD_TYPE);
    make_tx(&tx, TX_TRANSFER, &kp);
    tx.version = 3;
    assert_int_equal(tx_encode(&tx, &b), CAIRN_EBAD_VERSION);
    assert_int_equal(b.len, 0);
    buf_deinit(&b);
}

static void signed_tx_verifies(void **s)
{
    (void)s;
    keypair_t kp;
    fx_key(&kp, 1);
    chain_id_t cid;
    fx_chain_id(&cid, "cairn-test");
    tx_t tx;
    make_tx(&tx, TX_PUT, &kp);
    assert_int_equal(tx_sign(&tx, &cid, &kp), CAIRN_OK);
    assert_int_equal(tx_verify(&tx, &cid), CAIRN_OK);
}

static void tampered_tx_fails_to_verify(void **s)
{
    (void)s;
    keypair_t kp;
    fx_key(&kp, 1);
    chain_id_t cid;
    fx_chain_id(&cid, "cairn-test");
    tx_t tx;
    make_tx(&tx, TX_TRANSFER, &kp);
    assert_int_equal(tx_sign(&tx, &cid, &kp), CAIRN_OK);
    tx.amount++;
    assert_int_equal(tx_verify(&tx, &cid), CAIRN_EBAD_SIGNATURE);
    tx.amount--;
    tx.nonce++;
    assert_int_equal(tx_verify(&tx, &cid), CAIRN_EBAD_SIGNATURE);
    tx.nonce--;
    tx.sig[0] ^= 1;
    assert_int_equal(tx_verify(&tx, &cid), CAIRN_EBAD_SIGNATURE);
}

static void tx_signature_does_not_verify_under_another_chain_id(void **s)
{
    (void)s;
    keypair_t kp;
    fx_key(&kp, 1);
    chain_id_t a, b;
    fx_chain_id(&a, "cairn-a");
    fx_chain_id(&b, "cairn-b");
    tx_t tx;
    make_tx(&tx, TX_DELETE, &kp);
    assert_int_equal(tx_sign(&tx, &a, &kp), CAIRN_OK);
    assert_int_equal(tx_verify(&tx, &b), CAIRN_EBAD_SIGNATURE);
}

static void sign_refuses_a_key_that_is_not_the_sender(void **s)
{
    (void)s;
    keypair_t kp, other;
    fx_key(&kp, 1);
    fx_key(&other, 2);
    chain_id_t cid;
    fx_chain_id(&cid, "cairn-test");
    tx_t tx;
    make_tx(&tx, TX_PUT, &kp);
    assert_int_equal(tx_sign(&tx, &cid, &other), CAIRN_EINVALID_ARG);
}

static void sign_bytes_start_with_tag_and_chain_id(void **s)
{
    (void)s;
    keypair_t kp;
    fx_key(&kp, 1);
    chain_id_t cid;
    fx_chain_id(&cid, "xyz");
    tx_t tx;
    make_tx(&tx, TX_TRANSFER, &kp);
    buf_t b, enc;
    buf_init(&b, 0);
    assert_int_equal(tx_sign_bytes(&tx, &cid, &b), CAIRN_OK);
    const uint8_t want[] = "cairn/tx/v1\x03\x00\x00\x00xyz";
    assert_memory_equal(b.data, want, sizeof want - 1);
    encode(&tx, &enc);
    /* then the encoding without the signature */
    assert_int_equal(b.len, sizeof want - 1 + enc.len - SIG_BYTES);
    assert_memory_equal(b.data + sizeof want - 1, enc.data, enc.len - SIG_BYTES);
    buf_deinit(&b);
    buf_deinit(&enc);
}

static void tx_hash_is_sha256_of_the_encoding(void **s)
{
    (void)s;
    uint8_t h[HASH_BYTES], want[HASH_BYTES];
    const uint8_t raw[] = {1, 2, 3};
    tx_hash(h, raw, 3);
    hash_sha256(want, raw, 3);
    assert_memory_equal(h, want, HASH_BYTES);
}

static void chain_id_set_checks_length_and_characters(void **s)
{
    (void)s;
    chain_id_t cid;
    assert_int_equal(chain_id_set(&cid, ""), CAIRN_EINVALID_ARG);
    assert_int_equal(chain_id_set(&cid, "has space"), CAIRN_EINVALID_ARG);
    assert_int_equal(chain_id_set(&cid, "tab\t"), CAIRN_EINVALID_ARG);
    char long_id[CHAIN_ID_MAX + 2];
    memset(long_id, 'a', sizeof long_id);
    long_id[CHAIN_ID_MAX + 1] = 0;
    assert_int_equal(chain_id_set(&cid, long_id), CAIRN_EINVALID_ARG);
    long_id[CHAIN_ID_MAX] = 0;
    assert_int_equal(chain_id_set(&cid, long_id), CAIRN_OK);
    assert_int_equal(cid.len, CHAIN_ID_MAX);
    chain_id_t other;
    fx_chain_id(&other, "cairn-1");
    assert_false(chain_id_equal(&cid, &other));
    assert_true(chain_id_equal(&other, &other));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transfer_round_trips),
        cmocka_unit_test(put_round_trips),
        cmocka_unit_test(delete_round_trips),
        cmocka_unit_test(put_with_empty_value_round_trips),
        cmocka_unit_test(decode_rejects_each_malformed_input),
        cmocka_unit_test(decode_rejects_oversize_input),
        cmocka_unit_test(decode_leaves_output_untouched_on_error),
        cmocka_unit_test(encode_rejects_what_decode_would),
        cmocka_unit_test(signed_tx_verifies),
        cmocka_unit_test(tampered_tx_fails_to_verify),
        cmocka_unit_test(tx_signature_does_not_verify_under_another_chain_id),
        cmocka_unit_test(sign_refuses_a_key_that_is_not_the_sender),
        cmocka_unit_test(sign_bytes_start_with_tag_and_chain_id),
        cmocka_unit_test(tx_hash_is_sha256_of_the_encoding),
        cmocka_unit_test(chain_id_set_checks_length_and_characters),
    };
    return cmocka_run_group_tests(tests, fx_setup, NULL);
}
