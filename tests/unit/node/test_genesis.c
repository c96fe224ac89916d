/* test_genesis.c - genesis.json: round trip, hash, validation errors, valset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bytes.h"
#include "node/genesis.h"

static void seeded_pub(uint8_t pub[PUBKEY_BYTES], uint8_t b)
{
    uint8_t seed[SEED_BYTES];
    keypair_t kp;
    memset(seed, b, sizeof seed);
    key_from_seed(&kp, seed);
    memcpy(pub, kp.pub, PUBKEY_BYTES);
}

/* Two validators (powers 10 and 20) and two accounts. */
static void build(genesis_t *g)
{
    char err[GENESIS_ERR_MAX];
    uint8_t pub[PUBKEY_BYTES], addr[ADDR_BYTES];
    assert_int_equal(genesis_new(g, "cairn-test", 1795608000123456789LL, err), CAIRN_OK);
    seeded_pub(pub, 1);
    assert_int_equal(genesis_validator_add(g, pub, 10, "node0", err), CAIRN_OK);
    seeded_pub(pub, 2);
    assert_int_equal(genesis_validator_add(g, pub, 20, "node1", err), CAIRN_OK);
    memset(addr, 0xA1, sizeof addr);
    assert_int_equal(genesis_account_add(g, addr, 1000, err), CAIRN_OK);
    memset(addr, 0xB2, sizeof addr);
    assert_int_equal(genesis_account_add(g, addr, UINT64_MAX - 1000, err), CAIRN_OK);
}

static char *pretty(const genesis_t *g)
{
    char *text = NULL;
    assert_int_equal(genesis_format(g, true, &text), CAIRN_OK);
    return text;
}

/* Replaces the first occurrence of `from` in the pretty form and parses it. */
static cairn_err parse_edited(const char *from, const char *to, char *err)
{
    genesis_t g, back;
    build(&g);
    char *text = NULL;
    if (genesis_format(&g, true, &text) != CAIRN_OK) fail_msg("format failed");
    const char *at = strstr(text, from);
    if (!at) fail_msg("'%s' not in genesis text", from);
    size_t off = (size_t)(at - text), n = strlen(text) + strlen(to) + 1;
    char *edited = malloc(n);
    assert_non_null(edited);
    memcpy(edited, text, off);
    snprintf(edited + off, n - off, "%s%s", to, text + off + strlen(from));
    cairn_err rc = genesis_parse(&back, "genesis.json", edited, strlen(edited), err);
    genesis_deinit(&back);
    genesis_deinit(&g);
    free(text);
    free(edited);
    return rc;
}

static void expect_edit_error(const char *from, const char *to, const char *want)
{
    char err[GENESIS_ERR_MAX] = "";
    assert_int_equal(parse_edited(from, to, err), CAIRN_EBAD_GENESIS);
    if (!strstr(err, want)) fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_format_then_parse_gives_the_same_document(void **state)
{
    (void)state;
    genesis_t g, back;
    build(&g);
    char *text = pretty(&g);
    char err[GENESIS_ERR_MAX] = "";
    cairn_err rc = genesis_parse(&back, "genesis.json", text, strlen(text), err);
    if (rc != CAIRN_OK) fail_msg("%s", err);
    char *again = pretty(&back);
    assert_string_equal(text, again);
    assert_int_equal(back.genesis_time_ns, 1795608000123456789LL);
    assert_int_equal(back.n_validators, 2);
    assert_int_equal(back.validators[1].power, 20);
    assert_string_equal(back.validators[1].name, "node1");
    assert_int_equal(back.accounts[1].balance, UINT64_MAX - 1000);
    assert_non_null(strstr(text, "\"genesis_time\": \"2026-11-25T12:00:00.123456789Z\""));
    assert_non_null(strstr(text, "\"type\": \"tendermint/PubKeyEd25519\""));
    assert_non_null(strstr(text, "\"initial_height\": \"1\""));
    free(text);
    free(again);
    genesis_deinit(&g);
    genesis_deinit(&back);
}

static void test_hash_ignores_formatting_but_not_content(void **state)
{
    (void)state;
    genesis_t g, compact;
    build(&g);
    uint8_t h1[HASH_BYTES], h2[HASH_BYTES], h3[HASH_BYTES];
    assert_int_equal(genesis_hash(&g, h1), CAIRN_OK);
    char *text = NULL;
    assert_int_equal(genesis_format(&g, false, &text), CAIRN_OK);
    char err[GENESIS_ERR_MAX];
    assert_int_equal(genesis_parse(&compact, "g", text, strlen(text), err), CAIRN_OK);
    assert_int_equal(genesis_hash(&compact, h2), CAIRN_OK);
    assert_memory_equal(h1, h2, HASH_BYTES);
    g.accounts[0].balance++;
    assert_int_equal(genesis_hash(&g, h3), CAIRN_OK);
    assert_memory_not_equal(h1, h3, HASH_BYTES);
    free(text);
    genesis_deinit(&g);
    genesis_deinit(&compact);
}

static void test_save_then_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/cairn-genesis-XXXXXX", path[128], err[GENESIS_ERR_MAX] = "";
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/genesis.json", dir);
    genesis_t g, back;
    build(&g);
    assert_int_equal(genesis_save(&g, path, err), CAIRN_OK);
    assert_int_equal(genesis_load(&back, path, err), CAIRN_OK);
    uint8_t h1[HASH_BYTES], h2[HASH_BYTES];
    assert_int_equal(genesis_hash(&g, h1), CAIRN_OK);
    assert_int_equal(genesis_hash(&back, h2), CAIRN_OK);
    assert_memory_equal(h1, h2, HASH_BYTES);
    unlink(path);
    rmdir(dir);
    genesis_deinit(&g);
    genesis_deinit(&back);
}

static void test_valset_has_the_validators_in_cometbft_order(void **state)
{
    (void)state;
    genesis_t g;
    build(&g);
    valset_t vs;
    assert_int_equal(genesis_valset(&g, &vs), CAIRN_OK);
    assert_int_equal(vs.count, 2);
    assert_int_equal(vs.total_power, 30);
    assert_int_equal(vs.v[0].power, 20); /* power descending */
    assert_memory_equal(vs.v[0].address, g.validators[1].address, ADDR_BYTES);
    genesis_deinit(&g);
}

static void test_unknown_and_missing_fields_are_named(void **state)
{
    (void)state;
    expect_edit_error("\"chain_id\"", "\"chainid\"", "(top level): unknown field 'chainid'");
    expect_edit_error("\"power\": \"10\",", "", "validators[0]: missing field 'power'");
    expect_edit_error("\"accounts\"", "\"acounts\"", "app_state: unknown field 'acounts'");
    expect_edit_error("\"max_gas\"", "\"max_gaz\"", "consensus_params.block: unknown field");
}

static void test_bad_values_name_the_field_and_rule(void **state)
{
    (void)state;
    expect_edit_error("\"power\": \"10\"", "\"power\": \"0\"",
                      "validators[0].power: 0 is out of range: allowed 1..");
    expect_edit_error("\"power\": \"10\"", "\"power\": 10",
                      "validators[0].power: must be a decimal string");
    expect_edit_error("\"balance\": \"1000\"", "\"balance\": \"-5\"",
                      "app_state.accounts[0].balance");
    expect_edit_error("\"initial_height\": \"1\"", "\"initial_height\": \"0\"",
                      "initial_height: 0 is out of range");
    expect_edit_error("\"initial_height\": \"1\"", "\"initial_height\": \"01\"",
                      "is not a canonical decimal integer");
    expect_edit_error("2026-11-25T12:00:00.123456789Z", "2026-02-29T12:00:00Z",
                      "genesis_time: must be an RFC 3339 time");
    expect_edit_error("\"chain_id\": \"cairn-test\"", "\"chain_id\": \"has space\"",
                      "chain_id: must be 1 to 50 printable ASCII");
    expect_edit_error("\"max_bytes\": \"8388608\"", "\"max_bytes\": \"8388609\"",
                      "consensus_params.block.max_bytes: 8388609 is out of range");
    expect_edit_error("\"ed25519\"", "\"secp256k1\"", "pub_key_types: must be [\"ed25519\"]");
    expect_edit_error("\"app_hash\": \"\"", "\"app_hash\": \"zz\"", "app_hash: must be");
}

static void test_validator_key_errors(void **state)
{
    (void)state;
    expect_edit_error("tendermint/PubKeyEd25519", "tendermint/PubKeySecp256k1",
                      "validators[0].pub_key: pub_key.type must be \"tendermint/PubKeyEd25519\"");
    genesis_t g;
    build(&g);
    char hex[41];
    hex_encode_upper(hex, g.validators[0].address, ADDR_BYTES);
    char other[41];
    hex_encode_upper(other, g.validators[1].address, ADDR_BYTES);
    expect_edit_error(hex, other, "validators[0].address: is not the address of pub_key");
    genesis_deinit(&g);
}

static void test_duplicates_are_refused(void **state)
{
    (void)state;
    genesis_t g;
    char err[GENESIS_ERR_MAX] = "";
    build(&g);
    g.validators[1] = g.validators[0];
    assert_int_equal(genesis_validate(&g, err), CAIRN_EBAD_GENESIS);
    assert_non_null(strstr(err, "appears more than once"));
    genesis_deinit(&g);
    build(&g);
    memcpy(g.accounts[1].address, g.accounts[0].address, ADDR_BYTES);
    g.accounts[1].balance = 1;
    assert_int_equal(genesis_validate(&g, err), CAIRN_EBAD_GENESIS);
    assert_non_null(strstr(err, "app_state.accounts: A1A1"));
    genesis_deinit(&g);
}

static void test_total_balance_overflow_is_refused(void **state)
{
    (void)state;
    expect_edit_error("\"balance\": \"1000\"", "\"balance\": \"1001\"",
                      "total balance overflows 64 bits");
}

static void test_empty_validators_and_bad_json(void **state)
{
    (void)state;
    genesis_t g;
    char err[GENESIS_ERR_MAX] = "";
    const char *bad = "{\n  \"chain_id\": \"x\",\n  oops\n}";
    assert_int_equal(genesis_parse(&g, "genesis.json", bad, strlen(bad), err), CAIRN_EBAD_GENESIS);
    assert_non_null(strstr(err, "genesis.json:3:"));
    assert_non_null(strstr(err, "not valid JSON"));
    const char *dup = "{\"chain_id\": \"x\", \"chain_id\": \"y\"}";
    assert_int_equal(genesis_parse(&g, "g", dup, strlen(dup), err), CAIRN_EBAD_GENESIS);
    assert_non_null(strstr(err, "duplicate"));
    genesis_t ok;
    build(&ok);
    ok.n_validators = 0;
    assert_int_equal(genesis_validate(&ok, err), CAIRN_EBAD_GENESIS);
    assert_non_null(strstr(err, "need 1 to 150 validators, found 0"));
    genesis_deinit(&ok);
}

static void test_time_parse_and_format(void **state)
{
    (void)state;
    int64_t ns;
    char out[31];
    assert_int_equal(genesis_time_parse("2024-02-29T23:59:59Z", &ns), CAIRN_OK);
    assert_int_equal(ns, 1709251199LL * 1000000000LL);
    assert_int_equal(genesis_time_parse("2024-03-01T01:59:59.5+02:00", &ns), CAIRN_OK);
    assert_int_equal(ns, 1709251199LL * 1000000000LL + 500000000);
    genesis_time_format(out, ns);
    assert_string_equal(out, "2024-02-29T23:59:59.500000000Z");
    genesis_time_format(out, 0);
    assert_string_equal(out, "1970-01-01T00:00:00.000000000Z");
    assert_int_equal(genesis_time_parse("2023-02-29T00:00:00Z", &ns), CAIRN_EBAD_TIME);
    assert_int_equal(genesis_time_parse("2023-01-01T00:00:60Z", &ns), CAIRN_EBAD_TIME);
    assert_int_equal(genesis_time_parse("2023-01-01T00:00:00.1234567890Z", &ns), CAIRN_EBAD_TIME);
    assert_int_equal(genesis_time_parse("2023-01-01 00:00:00Z", &ns), CAIRN_EBAD_TIME);
    assert_int_equal(genesis_time_parse("2023-01-01T00:00:00", &ns), CAIRN_EBAD_TIME);
    assert_int_equal(genesis_time_parse("1969-12-31T23:59:59Z", &ns), CAIRN_EBAD_TIME);
}

int main(void)
{
    if (crypto_init() != CAIRN_OK) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_then_parse_gives_the_same_document),
        cmocka_unit_test(test_hash_ignores_formatting_but_not_content),
        cmocka_unit_test(test_save_then_load),
        cmocka_unit_test(test_valset_has_the_validators_in_cometbft_order),
        cmocka_unit_test(test_unknown_and_missing_fields_are_named),
        cmocka_unit_test(test_bad_values_name_the_field_and_rule),
        cmocka_unit_test(test_validator_key_errors),
        cmocka_unit_test(test_duplicates_are_refused),
        cmocka_unit_test(test_total_balance_overflow_is_refused),
        cmocka_unit_test(test_empty_validators_and_bad_json),
        cmocka_unit_test(test_time_parse_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
