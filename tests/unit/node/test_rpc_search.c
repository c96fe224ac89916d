/* tx_search's query language (node_rpc_search_*): what a client may ask, what
 * it matches, and which heights the node then has to read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "node/rpc_node.h"

static node_rpc_search_t q;
static char err[256];

static bool parse(const char *text) { return node_rpc_search_parse(&q, text, err, sizeof err); }

static app_result_t transfer_result(const char *recipient, const char *amount)
{
    app_result_t r;
    memset(&r, 0, sizeof r);
    r.n_events = 1;
    strcpy(r.events[0].type, "transfer");
    r.events[0].n_attrs = 2;
    strcpy(r.events[0].attrs[0].key, "recipient");
    strcpy(r.events[0].attrs[0].value, recipient);
    strcpy(r.events[0].attrs[1].key, "amount");
    strcpy(r.events[0].attrs[1].value, amount);
    return r;
}

static void test_hash_condition_matches_only_that_tx(void **state)
{
    (void)state;
    uint8_t h[HASH_BYTES], other[HASH_BYTES];
    memset(h, 0xAB, sizeof h);
    memset(other, 0xAC, sizeof other);
    char text[128];
    snprintf(text, sizeof text, "tx.hash='%s'", "abababababababababababababababababababababababababababababababab");
    assert_true(parse(text));
    app_result_t r = transfer_result("00", "1");
    assert_true(node_rpc_search_match(&q, h, 3, &r)); /* hex compares case-insensitively */
    assert_false(node_rpc_search_match(&q, other, 3, &r));
}

static void test_height_conditions_narrow_the_range_to_read(void **state)
{
    (void)state;
    assert_true(parse("tx.height>=100 AND tx.height<200"));
    uint64_t lo = 1, hi = 5000;
    node_rpc_search_heights(&q, &lo, &hi);
    assert_int_equal(lo, 100);
    assert_int_equal(hi, 199);
    assert_true(parse("tx.height=7"));
    lo = 1, hi = 5000;
    node_rpc_search_heights(&q, &lo, &hi);
    assert_int_equal(lo, 7);
    assert_int_equal(hi, 7);
}

static void test_impossible_height_bounds_read_nothing(void **state)
{
    (void)state;
    uint64_t lo = 1, hi = 5000;
    assert_true(parse("tx.height>9223372036854775807"));
    node_rpc_search_heights(&q, &lo, &hi);
    assert_true(lo > hi);
    lo = 1, hi = 5000;
    assert_true(parse("tx.height<0"));
    node_rpc_search_heights(&q, &lo, &hi);
    assert_true(lo > hi);
}

static void test_attribute_conditions_match_app_events(void **state)
{
    (void)state;
    uint8_t h[HASH_BYTES] = {0};
    app_result_t r = transfer_result("0011", "25");
    assert_true(parse("tm.event='Tx' AND transfer.recipient='0011' AND transfer.amount>'9'"));
    assert_true(node_rpc_search_match(&q, h, 1, &r));
    assert_true(parse("transfer.amount>=26"));
    assert_false(node_rpc_search_match(&q, h, 1, &r));
    assert_true(parse("transfer.recipient CONTAINS '01'"));
    assert_true(node_rpc_search_match(&q, h, 1, &r));
    assert_true(parse("put.key='x'"));
    assert_false(node_rpc_search_match(&q, h, 1, &r)); /* no such event */
    assert_true(parse("tm.event='NewBlock'"));
    assert_false(node_rpc_search_match(&q, h, 1, &r));
}

static void test_quoted_number_compares_numerically(void **state)
{
    (void)state;
    uint8_t h[HASH_BYTES] = {0};
    app_result_t r = transfer_result("0011", "25");
    assert_true(parse("tx.height > '9'"));
    assert_true(node_rpc_search_match(&q, h, 10, &r)); /* "10" > "9" as numbers */
    assert_false(node_rpc_search_match(&q, h, 9, &r));
}

static void test_malformed_queries_are_refused_with_a_reason(void **state)
{
    (void)state;
    const char *bad[] = {"", "tx.height", "tx.height=", "tx.hash='abc", "a=1 OR b=2",
                         "a=1 AND", "=5", "tx.height>'x'", "a CONTAINS 5",
                         "tx.height=99999999999999999999", "a=1 AND AND b=2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_false(parse(bad[i]));
        assert_true(err[0] != 0);
    }
}

static void test_at_most_eight_conditions(void **state)
{
    (void)state;
    assert_true(parse("a=1 AND a=2 AND a=3 AND a=4 AND a=5 AND a=6 AND a=7 AND a=8"));
    assert_int_equal(q.n, 8);
    assert_false(parse("a=1 AND a=2 AND a=3 AND a=4 AND a=5 AND a=6 AND a=7 AND a=8 AND a=9"));
    assert_non_null(strstr(err, "at most 8"));
}

static void test_format_parses_back_to_the_same_query(void **state)
{
    (void)state;
    assert_true(parse(" tx.height >= 5 AND transfer.recipient = 'AB'  AND x.y CONTAINS 'z' "));
    char text[1024];
    node_rpc_search_format(&q, text, sizeof text);
    assert_string_equal(text, "tx.height>=5 AND transfer.recipient='AB' AND x.y CONTAINS 'z'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_condition_matches_only_that_tx),
        cmocka_unit_test(test_height_conditions_narrow_the_range_to_read),
        cmocka_unit_test(test_impossible_height_bounds_read_nothing),
        cmocka_unit_test(test_attribute_conditions_match_app_events),
        cmocka_unit_test(test_quoted_number_compares_numerically),
        cmocka_unit_test(test_malformed_queries_are_refused_with_a_reason),
        cmocka_unit_test(test_at_most_eight_conditions),
        cmocka_unit_test(test_format_parses_back_to_the_same_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
