#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "codec/codec.h"

static void base64_round_trips_rfc4648_examples(void **state)
{
    (void)state;
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char enc[16];
        base64_encode(enc, (const uint8_t *)in[i], strlen(in[i]));
        assert_string_equal(enc, want[i]);
        uint8_t dec[16];
        size_t n;
        assert_int_equal(base64_decode(dec, sizeof dec, &n, enc, strlen(enc)), CAIRN_OK);
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(dec, in[i], n);
    }
}

static void base64_rejects_malformed_input(void **state)
{
    (void)state;
    uint8_t dec[16];
    size_t n;
    assert_int_equal(base64_decode(dec, sizeof dec, &n, "Zg=", 3), CAIRN_EBAD_ENCODING);
    assert_int_equal(base64_decode(dec, sizeof dec, &n, "Zh==", 4), CAIRN_ENONCANONICAL);
    assert_int_equal(base64_decode(dec, sizeof dec, &n, "Z!==", 4), CAIRN_EBAD_ENCODING);
    assert_int_equal(base64_decode(dec, sizeof dec, &n, "AA=A", 4), CAIRN_EBAD_ENCODING);
    assert_int_equal(base64_decode(dec, 2, &n, "Zm9v", 4), CAIRN_ETOO_LARGE);
}

static void hex_decodes_either_case_and_rejects_bad_digits(void **state)
{
    (void)state;
    uint8_t out[2];
    assert_int_equal(hex_decode(out, 2, "aBcD"), CAIRN_OK);
    assert_int_equal(out[0], 0xab);
    assert_int_equal(out[1], 0xcd);
    assert_int_equal(hex_decode(out, 2, "abc"), CAIRN_EBAD_ENCODING);
    assert_int_equal(hex_decode(out, 2, "abcg"), CAIRN_EBAD_ENCODING);
    char s[5];
    hex_encode_upper(s, out, 2);
    assert_string_equal(s, "ABCD");
}

static void buf_refuses_to_grow_past_its_bound(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b, 10);
    assert_int_equal(buf_append(&b, "0123456789", 10), CAIRN_OK);
    assert_int_equal(buf_append(&b, "x", 1), CAIRN_ELIMIT);
    assert_int_equal(b.len, 10);
    buf_deinit(&b);
}

static void codec_reader_is_strict(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b, 0);
    codec_writer w;
    codec_writer_init(&w, &b);
    codec_put_u64(&w, 0x0102030405060708ull);
    codec_put_bytes(&w, "abc", 3);
    codec_put_bool(&w, true);
    assert_int_equal(w.err, CAIRN_OK);
    assert_int_equal(b.len, 8 + 4 + 3 + 1);
    assert_int_equal(b.data[0], 0x08); /* little-endian */

    codec_reader r;
    codec_reader_init(&r, b.data, b.len);
    assert_true(codec_get_u64(&r) == 0x0102030405060708ull);
    const uint8_t *s;
    uint32_t n;
    codec_get_bytes(&r, &s, &n, 3);
    assert_int_equal(n, 3);
    assert_true(codec_get_bool(&r));
    assert_int_equal(codec_reader_finish(&r), CAIRN_OK);

    codec_reader_init(&r, b.data, b.len);
    codec_get_u64(&r);
    codec_get_bytes(&r, &s, &n, 2); /* over the maximum */
    assert_int_equal(codec_reader_finish(&r), CAIRN_ETOO_LARGE);

    codec_reader_init(&r, b.data, b.len - 1);
    codec_get_u64(&r);
    codec_get_bytes(&r, &s, &n, 3);
    codec_get_bool(&r);
    assert_int_equal(codec_reader_finish(&r), CAIRN_ETRUNCATED);

    b.data[b.len - 1] = 2; /* a bool must be 0 or 1 */
    codec_reader_init(&r, b.data, b.len);
    codec_get_u64(&r);
    codec_get_bytes(&r, &s, &n, 3);
    codec_get_bool(&r);
    assert_int_equal(codec_reader_finish(&r), CAIRN_ENONCANONICAL);

    codec_reader_init(&r, b.data, b.len);
    codec_get_u64(&r);
    assert_int_equal(codec_reader_finish(&r), CAIRN_ETRAILING);
    buf_deinit(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base64_round_trips_rfc4648_examples),
        cmocka_unit_test(base64_rejects_malformed_input),
        cmocka_unit_test(hex_decodes_either_case_and_rejects_bad_digits),
        cmocka_unit_test(buf_refuses_to_grow_past_its_bound),
        cmocka_unit_test(codec_reader_is_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
