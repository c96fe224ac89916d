/* CometBFT v0.38 JSON shapes of cairn's chain types (json_chain.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "rpc/json_chain.h"

#define EMPTY_HASH_HEX "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"

static void time_format_case(int64_t ns, const char *want)
{
    char s[JSON_TIME_LEN + 1];
    json_chain_time_format(s, ns);
    assert_string_equal(s, want);
    assert_int_equal(strlen(s), JSON_TIME_LEN);
}

static void times_are_rfc3339_with_nine_fraction_digits_and_z(void **state)
{
    (void)state;
    time_format_case(0, "1970-01-01T00:00:00.000000000Z");
    time_format_case(1, "1970-01-01T00:00:00.000000001Z");
    time_format_case(1718114877125195170LL, "2024-06-11T14:07:57.125195170Z");
    time_format_case(1709164800000000005LL, "2024-02-29T00:00:00.000000005Z"); /* leap day */
}

static void times_before_1970_and_int64_extremes_are_formatted(void **state)
{
    (void)state;
    time_format_case(-1, "1969-12-31T23:59:59.999999999Z");
    time_format_case(-1000000000LL, "1969-12-31T23:59:59.000000000Z");
    time_format_case(INT64_MIN, "1677-09-21T00:12:43.145224192Z");
    time_format_case(INT64_MAX, "2262-04-11T23:47:16.854775807Z");
}

static void header_fill(header_t *h, uint64_t height)
{
    memset(h, 0, sizeof *h);
    h->version = 1;
    memcpy(h->chain_id.id, "cairn-test", 11); /* fields only: no chain.c needed */
    h->chain_id.len = 10;
    h->height = height;
    h->time_ns = 1718114877125195170LL;
    if (height > 1) memset(h->last_block_id, 0xAB, HASH_BYTES);
    memset(h->data_hash, 0x01, HASH_BYTES);
    memset(h->app_hash, 0xCD, HASH_BYTES);
    memset(h->proposer, 0xEF, ADDR_BYTES);
}

static const char *sget(const json_t *o, const char *path)
{
    /* dotted path lookup for objects only */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *cur = o;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
        cur = json_object_get(cur, tok);
    return json_string_value(cur);
}

static void header_at_height_one_has_empty_last_block_id(void **state)
{
    (void)state;
    header_t h;
    header_fill(&h, 1);
    json_t *j = json_chain_header(&h);
    assert_non_null(j);
    const json_t *lb = json_object_get(j, "last_block_id");
    assert_string_equal(json_string_value(json_object_get(lb, "hash")), "");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(lb, "parts"), "total")), 0);
    assert_string_equal(sget(j, "height"), "1");
    assert_string_equal(sget(j, "chain_id"), "cairn-test");
    assert_string_equal(sget(j, "version.block"), JSON_BLOCK_PROTOCOL);
    json_decref(j);
}

static void header_uses_strings_for_heights_and_upper_hex_for_hashes(void **state)
{
    (void)state;
    header_t h;
    header_fill(&h, 12345678901234ULL);
    json_t *j = json_chain_header(&h);
    assert_non_null(j);
    assert_string_equal(sget(j, "height"), "12345678901234");
    assert_string_equal(sget(j, "time"), "2024-06-11T14:07:57.125195170Z");
    assert_string_equal(sget(j, "app_hash"),
                        "CDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCD");
    assert_string_equal(sget(j, "proposer_address"), "EFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEF");
    assert_string_equal(sget(j, "consensus_hash"), EMPTY_HASH_HEX);
    assert_string_equal(sget(j, "last_block_id.hash"),
                        "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB");
    const json_t *parts = json_object_get(json_object_get(j, "last_block_id"), "parts");
    assert_true(json_is_integer(json_object_get(parts, "total")));
    assert_int_equal(json_integer_value(json_object_get(parts, "total")), 1);
    assert_string_equal(json_string_value(json_object_get(parts, "hash")), EMPTY_HASH_HEX);
    /* every field CometBFT clients require is there */
    const char *fields[] = {"last_commit_hash", "data_hash", "validators_hash",
                            "next_validators_hash", "last_results_hash", "evidence_hash"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        assert_int_equal(strlen(sget(j, fields[i])), 64);
    json_decref(j);
}

static void block_renders_txs_base64_and_the_empty_first_commit(void **state)
{
    (void)state;
    block_t b;
    memset(&b, 0, sizeof b);
    header_fill(&b.header, 1);
    bytes_view txs[2] = {{(const uint8_t *)"hello", 5}, {(const uint8_t *)"", 0}};
    b.n_txs = 2;
    b.txs = txs;
    uint8_t id[HASH_BYTES];
    memset(id, 0x11, sizeof id);
    json_t *j = json_chain_block_result(&b, id);
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT);
    assert_non_null(strstr(s, "\"data\":{\"txs\":[\"aGVsbG8=\",\"\"]}"));
    assert_non_null(strstr(s, "\"evidence\":{\"evidence\":[]}"));
    assert_non_null(strstr(s, "\"last_commit\":{\"height\":\"0\",\"round\":0,\"block_id\":"
                              "{\"hash\":\"\",\"parts\":{\"total\":0,\"hash\":\"\"}},"
                              "\"signatures\":[]}"));
    assert_non_null(strstr(s, "{\"block_id\":{\"hash\":\"1111111111111111111111111111111111111"
                              "111111111111111111111111111\",\"parts\":{\"total\":1,"));
    free(s);
    json_decref(j);
}

static void commit_signatures_carry_flag_numbers_and_absent_slots(void **state)
{
    (void)state;
    commit_sig_t sigs[3];
    memset(sigs, 0, sizeof sigs);
    sigs[0].flag = COMMIT_FOR_BLOCK;
    memset(sigs[0].validator, 0xA1, ADDR_BYTES);
    sigs[0].time_ns = 500;
    memset(sigs[0].sig, 0xFF, SIG_BYTES);
    sigs[1].flag = COMMIT_ABSENT;
    sigs[2].flag = COMMIT_NIL;
    memset(sigs[2].validator, 0xB2, ADDR_BYTES);
    commit_t c = {.height = 7, .round = 2, .n_sigs = 3, .sigs = sigs};
    memset(c.block_id, 0x22, HASH_BYTES);
    json_t *j = json_chain_commit(&c);
    assert_non_null(j);
    assert_string_equal(sget(j, "height"), "7");
    assert_int_equal(json_integer_value(json_object_get(j, "round")), 2);
    const json_t *arr = json_object_get(j, "signatures");
    assert_int_equal(json_array_size(arr), 3);
    const json_t *s0 = json_array_get(arr, 0), *s1 = json_array_get(arr, 1),
                 *s2 = json_array_get(arr, 2);
    assert_int_equal(json_integer_value(json_object_get(s0, "block_id_flag")), 2);
    assert_string_equal(sget(s0, "timestamp"), "1970-01-01T00:00:00.000000500Z");
    assert_int_equal(strlen(sget(s0, "signature")), 88); /* base64 of 64 bytes */
    assert_int_equal(json_integer_value(json_object_get(s1, "block_id_flag")), 1);
    assert_string_equal(sget(s1, "validator_address"), "");
    assert_true(json_is_null(json_object_get(s1, "signature")));
    assert_string_equal(sget(s1, "timestamp"), "0001-01-01T00:00:00Z");
    assert_int_equal(json_integer_value(json_object_get(s2, "block_id_flag")), 3);
    assert_string_equal(sget(s2, "validator_address"), "B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2");
    json_decref(j);
}

static void validators_render_amino_pub_keys_and_string_powers(void **state)
{
    (void)state;
    valset_t *vs = calloc(1, sizeof *vs);
    vs->count = 2;
    for (int i = 0; i < 2; i++) {
        memset(vs->v[i].pub, 0x10 + i, PUBKEY_BYTES);
        memset(vs->v[i].address, 0x20 + i, ADDR_BYTES);
        vs->v[i].power = 100 - i;
        vs->v[i].proposer_priority = -5 + i;
    }
    vs->total_power = 199;
    json_t *j = json_chain_validators(vs, 9, 1, 30);
    assert_non_null(j);
    assert_string_equal(sget(j, "block_height"), "9");
    assert_string_equal(sget(j, "count"), "1");
    assert_string_equal(sget(j, "total"), "2");
    const json_t *v = json_array_get(json_object_get(j, "validators"), 0);
    assert_string_equal(sget(v, "address"), "2121212121212121212121212121212121212121");
    assert_string_equal(sget(v, "pub_key.type"), "tendermint/PubKeyEd25519");
    assert_string_equal(sget(v, "pub_key.value"), "ERERERERERERERERERERERERERERERERERERERERERE=");
    assert_string_equal(sget(v, "voting_power"), "99");
    assert_string_equal(sget(v, "proposer_priority"), "-4");
    json_decref(j);
    free(vs);
}

static void tx_result_has_cometbft_fields_and_null_data(void **state)
{
    (void)state;
    rpc_event_attr attrs[] = {{"k", "v", true}};
    rpc_event ev[] = {{"app", attrs, 1}};
    rpc_tx_result r = {.code = 0, .gas_wanted = 1, .gas_used = 0, .events = ev, .n_events = 1};
    json_t *j = json_chain_tx_result(&r);
    char *s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "{\"code\":0,\"data\":null,\"log\":\"\",\"info\":\"\",\"gas_wanted\":\"1\","
                           "\"gas_used\":\"0\",\"events\":[{\"type\":\"app\",\"attributes\":"
                           "[{\"key\":\"k\",\"value\":\"v\",\"index\":true}]}],\"codespace\":\"\"}");
    free(s);
    json_decref(j);
    uint8_t hash[HASH_BYTES] = {0};
    uint8_t data[2] = {1, 2};
    r.data = data;
    r.data_len = 2;
    r.code = 5;
    r.log = "insufficient funds";
    j = json_chain_tx(hash, 3, 0, &r, (const uint8_t *)"tx", 2);
    assert_string_equal(sget(j, "height"), "3");
    assert_string_equal(sget(j, "tx"), "dHg=");
    assert_string_equal(sget(j, "tx_result.data"), "AQI=");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "tx_result"), "code")), 5);
    json_decref(j);
}

static void tx_proof_has_the_shape_cosmjs_decodes(void **state)
{
    (void)state;
    merkle_proof p;
    memset(&p, 0, sizeof p);
    p.index = 1;
    p.total = 3;
    p.n_aunts = 2;
    memset(p.aunts[0], 0xAA, HASH_BYTES);
    memset(p.aunts[1], 0xBB, HASH_BYTES);
    uint8_t root[HASH_BYTES], leaf[HASH_BYTES];
    memset(root, 0x0C, sizeof root);
    memset(leaf, 0x0D, sizeof leaf);
    json_t *j = json_chain_tx_proof(root, (const uint8_t *)"tx", 2, leaf, &p);
    assert_non_null(j);
    assert_string_equal(sget(j, "root_hash"),
                        "0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C");
    assert_string_equal(sget(j, "data"), "dHg=");
    assert_string_equal(sget(j, "proof.total"), "3");
    assert_string_equal(sget(j, "proof.index"), "1");
    assert_string_equal(sget(j, "proof.leaf_hash"), "DQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0=");
    const json_t *aunts = json_object_get(json_object_get(j, "proof"), "aunts");
    assert_int_equal(json_array_size(aunts), 2);
    assert_string_equal(json_string_value(json_array_get(aunts, 1)),
                        "u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7s=");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(times_are_rfc3339_with_nine_fraction_digits_and_z),
        cmocka_unit_test(times_before_1970_and_int64_extremes_are_formatted),
        cmocka_unit_test(header_at_height_one_has_empty_last_block_id),
        cmocka_unit_test(header_uses_strings_for_heights_and_upper_hex_for_hashes),
        cmocka_unit_test(block_renders_txs_base64_and_the_empty_first_commit),
        cmocka_unit_test(commit_signatures_carry_flag_numbers_and_absent_slots),
        cmocka_unit_test(validators_render_amino_pub_keys_and_string_powers),
        cmocka_unit_test(tx_result_has_cometbft_fields_and_null_data),
        cmocka_unit_test(tx_proof_has_the_shape_cosmjs_decodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
