/* test_msg_repair.c - the repair messages on CH_REPAIR: they round-trip
 * byte for byte, and the decoder refuses trailing bytes, truncation, unknown
 * reasons and oversize fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/msg.h"

static msg_t g_m; /* large: off the stack */

static void encode(const msg_t *m, buf_t *out)
{
    buf_init(out, 64 << 20);
    assert_int_equal(msg_encode(m, out), CAIRN_OK);
}

static void test_request_round_trips(void **state)
{
    (void)state;
    msg_t m;
    m.kind = MSG_REPAIR_REQUEST;
    m.u.request.height = 0x0102030405060708ULL;
    buf_t b;
    encode(&m, &b);
    assert_int_equal(b.len, 9);
    assert_int_equal(b.data[0], MSG_REPAIR_REQUEST);
    assert_int_equal(msg_decode(&g_m, b.data, b.len), CAIRN_OK);
    assert_int_equal(g_m.kind, MSG_REPAIR_REQUEST);
    assert_true(g_m.u.request.height == 0x0102030405060708ULL);
    buf_deinit(&b);
}

static void test_response_round_trips_with_all_three_parts(void **state)
{
    (void)state;
    msg_t m;
    m.kind = MSG_REPAIR_RESPONSE;
    m.u.repair.height = 42;
    m.u.repair.block = (const uint8_t *)"BLOCK";
    m.u.repair.block_len = 5;
    m.u.repair.commit = (const uint8_t *)"COMMIT";
    m.u.repair.commit_len = 6;
    m.u.repair.results = (const uint8_t *)"RES";
    m.u.repair.results_len = 3;
    buf_t b;
    encode(&m, &b);
    assert_int_equal(msg_decode(&g_m, b.data, b.len), CAIRN_OK);
    assert_int_equal(g_m.kind, MSG_REPAIR_RESPONSE);
    assert_int_equal(g_m.u.repair.height, 42);
    assert_int_equal(g_m.u.repair.block_len, 5);
    assert_memory_equal(g_m.u.repair.block, "BLOCK", 5);
    assert_int_equal(g_m.u.repair.commit_len, 6);
    assert_memory_equal(g_m.u.repair.commit, "COMMIT", 6);
    assert_int_equal(g_m.u.repair.results_len, 3);
    assert_memory_equal(g_m.u.repair.results, "RES", 3);
    buf_t again;
    encode(&g_m, &again);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    buf_deinit(&again);
    /* every strict prefix is refused */
    for (size_t n = 0; n < b.len; n++) assert_int_not_equal(msg_decode(&g_m, b.data, n), CAIRN_OK);
    buf_deinit(&b);
}

static void test_none_round_trips_each_reason(void **state)
{
    (void)state;
    for (uint8_t r = REPAIR_NONE_NOT_STORED; r <= REPAIR_NONE_BUSY; r++) {
        msg_t m;
        m.kind = MSG_REPAIR_NONE;
        m.u.repair_none.height = 9;
        m.u.repair_none.reason = r;
        buf_t b;
        encode(&m, &b);
        assert_int_equal(msg_decode(&g_m, b.data, b.len), CAIRN_OK);
        assert_int_equal(g_m.u.repair_none.height, 9);
        assert_int_equal(g_m.u.repair_none.reason, r);
        buf_deinit(&b);
    }
}

static void test_unknown_reason_is_refused_both_ways(void **state)
{
    (void)state;
    msg_t m;
    m.kind = MSG_REPAIR_NONE;
    m.u.repair_none.height = 9;
    m.u.repair_none.reason = 0;
    buf_t b;
    buf_init(&b, 0);
    assert_int_equal(msg_encode(&m, &b), CAIRN_EINVALID_ARG);
    buf_deinit(&b);
    uint8_t wire[10] = {MSG_REPAIR_NONE, 9, 0, 0, 0, 0, 0, 0, 0, 4};
    assert_int_equal(msg_decode(&g_m, wire, sizeof wire), CAIRN_EBAD_ENCODING);
    wire[9] = 0;
    assert_int_equal(msg_decode(&g_m, wire, sizeof wire), CAIRN_EBAD_ENCODING);
}

static void test_trailing_bytes_are_refused(void **state)
{
    (void)state;
    uint8_t wire[11] = {MSG_REPAIR_NONE, 9, 0, 0, 0, 0, 0, 0, 0, REPAIR_NONE_BUSY, 0};
    assert_int_equal(msg_decode(&g_m, wire, 10), CAIRN_OK);
    assert_int_equal(msg_decode(&g_m, wire, 11), CAIRN_ETRAILING);
    uint8_t req[10] = {MSG_REPAIR_REQUEST, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(msg_decode(&g_m, req, 10), CAIRN_ETRAILING);
}

static void test_oversize_results_are_refused(void **state)
{
    (void)state;
    /* height, empty block, empty commit, then a results length one past the bound */
    uint8_t wire[1 + 8 + 4 + 4 + 4];
    memset(wire, 0, sizeof wire);
    wire[0] = MSG_REPAIR_RESPONSE;
    uint32_t big = MSG_RESULTS_BYTES_MAX + 1;
    for (int i = 0; i < 4; i++) wire[17 + i] = (uint8_t)(big >> (8 * i));
    assert_int_equal(msg_decode(&g_m, wire, sizeof wire), CAIRN_ETOO_LARGE);
    msg_t m;
    m.kind = MSG_REPAIR_RESPONSE;
    m.u.repair.height = 1;
    m.u.repair.block = wire;
    m.u.repair.block_len = 1;
    m.u.repair.commit = wire;
    m.u.repair.commit_len = 1;
    m.u.repair.results = wire;
    m.u.repair.results_len = MSG_RESULTS_BYTES_MAX + 1;
    buf_t b;
    buf_init(&b, 0);
    assert_int_equal(msg_encode(&m, &b), CAIRN_ETOO_LARGE);
    assert_int_equal(b.len, 0);
    buf_deinit(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_round_trips),
        cmocka_unit_test(test_response_round_trips_with_all_three_parts),
        cmocka_unit_test(test_none_round_trips_each_reason),
        cmocka_unit_test(test_unknown_reason_is_refused_both_ways),
        cmocka_unit_test(test_trailing_bytes_are_refused),
        cmocka_unit_test(test_oversize_results_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
