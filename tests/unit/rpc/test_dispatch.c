/* The transport-free half of the server: JSON-RPC envelopes, batches,
 * notifications, deferred completion, param normalisation and the event query
 * language, driven through rpc_request_process() without sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rpc/rpc_int.h"

typedef struct {
    uv_loop_t loop;
    rpc_t *rpc;
    char *out; /* last response text */
    int n_done;
    rpc_call_t *held;
} fx_t;

static void done_cb(void *ctx, const char *json, size_t len)
{
    fx_t *f = ctx;
    free(f->out);
    f->out = strndup(json, len);
    f->n_done++;
}

static void echo_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)ctx;
    rpc_call_reply(call, json_deep_copy(params));
}

/* echo, but answered with the result already serialised */
static void echo_text_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)ctx;
    char *text = json_dumps(params, JSON_COMPACT);
    rpc_call_reply_text(call, text, text ? strlen(text) : 0);
}

static void hold_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)params;
    fx_t *f = ctx;
    if (rpc_call_defer(call, 60000, "timed out", NULL, NULL) == CAIRN_OK) f->held = call;
}

static void silent_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)ctx;
    (void)call;
    (void)params;
}

static size_t batch_budget; /* 0: the default batch_response_bytes_max */

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    rpc_config cfg;
    rpc_config_default(&cfg);
    cfg.listen_addr = ""; /* no sockets */
    cfg.batch_max = 3;
    if (batch_budget) cfg.batch_response_bytes_max = batch_budget;
    assert_int_equal(rpc_new(&f->loop, &cfg, &f->rpc), CAIRN_OK);
    static const rpc_param p[] = {{"height", RPC_PARAM_UINT, false},
                                  {"prove", RPC_PARAM_BOOL, false},
                                  {"data", RPC_PARAM_HEX, false},
                                  {"tx", RPC_PARAM_BYTES, false}};
    assert_int_equal(rpc_method_register(f->rpc, "echo", p, 4, echo_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "hold", NULL, 0, hold_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "echo_text", p, 4, echo_text_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "silent", NULL, 0, silent_cb, f), CAIRN_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    rpc_free(f->rpc);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f->out);
    free(f);
    return 0;
}

static const char *call(fx_t *f, const char *body)
{
    assert_int_equal(rpc_request_process(f->rpc, (const uint8_t *)body, strlen(body), done_cb, f),
                     CAIRN_OK);
    return f->out;
}

static void params_are_normalised_from_strings_and_numbers(void **state)
{
    fx_t *f = *state;
    assert_string_equal(
        call(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":"
                "{\"height\":\"5\",\"prove\":true,\"data\":\"0xab01\",\"tx\":\"aGk=\",\"x\":1}}"),
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"height\":5,\"prove\":true,\"data\":\"AB01\","
        "\"tx\":\"aGk=\"}}");
    assert_string_equal(call(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"echo\",\"params\":[7]}"),
                        "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"height\":7}}");
}

static void negative_height_for_an_unsigned_param_is_invalid_params(void **state)
{
    fx_t *f = *state;
    const char *r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":"
                            "{\"height\":-1}}");
    assert_non_null(strstr(r, "\"code\":-32602"));
    assert_non_null(strstr(r, "height: expected a non-negative integer"));
}

static void notifications_get_no_response(void **state)
{
    fx_t *f = *state;
    assert_string_equal(call(f, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\"}"), "");
    assert_string_equal(call(f, "[{\"jsonrpc\":\"2.0\",\"method\":\"echo\"},"
                                "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"echo\"}]"),
                        "[{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{}}]");
}

/* body with every "@" replaced by "echo" and by "echo_text": the same answer */
static void assert_text_reply_same(fx_t *f, const char *body)
{
    char a[1024], b[1024];
    size_t ia = 0, ib = 0;
    for (const char *p = body; *p; p++) {
        const char *m1 = *p == '@' ? "echo" : NULL, *m2 = *p == '@' ? "echo_text" : NULL;
        if (m1) {
            ia += (size_t)snprintf(a + ia, sizeof a - ia, "%s", m1);
            ib += (size_t)snprintf(b + ib, sizeof b - ib, "%s", m2);
        } else {
            a[ia++] = *p;
            b[ib++] = *p;
        }
    }
    a[ia] = b[ib] = 0;
    char *want = strdup(call(f, a));
    assert_string_equal(call(f, b), want);
    free(want);
}

static void a_serialised_result_gives_the_same_bytes_as_an_object(void **state)
{
    fx_t *f = *state;
    assert_text_reply_same(f, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"@\",\"params\":"
                              "{\"height\":\"5\",\"data\":\"0xab\",\"tx\":\"aGk=\"}}");
    assert_text_reply_same(f, "{\"jsonrpc\":\"2.0\",\"id\":\"a/\\\"b\\u00e9\",\"method\":\"@\"}");
    assert_text_reply_same(f, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"@\"}");
    assert_text_reply_same(f, "{\"jsonrpc\":\"2.0\",\"method\":\"@\"}"); /* notification */
    assert_string_equal(f->out, "");
}

static void a_batch_mixing_serialised_and_object_results_reads_as_one_array(void **state)
{
    fx_t *f = *state;
    assert_text_reply_same(f, "[{\"id\":1,\"method\":\"@\",\"params\":[3]},"
                              "{\"method\":\"@\"},{\"id\":\"s\",\"method\":\"echo\"}]");
    assert_string_equal(f->out, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"height\":3}},"
                                "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":{}}]");
    assert_text_reply_same(f, "[{\"method\":\"@\"},{\"method\":\"@\"}]"); /* all notifications */
    assert_string_equal(f->out, "");
    assert_text_reply_same(f, "[{\"id\":1,\"method\":\"@\"},{\"id\":2,\"method\":\"nope\"}]");
    assert_non_null(strstr(f->out, "\"code\":-32601"));
}

static void a_deferred_call_may_complete_with_a_serialised_result(void **state)
{
    fx_t *f = *state;
    call(f, "[{\"id\":1,\"method\":\"hold\"},{\"id\":2,\"method\":\"echo_text\"}]");
    assert_int_equal(f->n_done, 0);
    assert_non_null(f->held);
    rpc_call_reply_text(f->held, strdup("{\"late\":true}"), strlen("{\"late\":true}"));
    assert_int_equal(f->n_done, 1);
    assert_string_equal(f->out, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"late\":true}},"
                                "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}]");
}

static void batches_over_the_limit_are_refused(void **state)
{
    fx_t *f = *state;
    const char *r = call(f, "[{\"id\":1,\"method\":\"echo\"},{\"id\":2,\"method\":\"echo\"},"
                            "{\"id\":3,\"method\":\"echo\"},{\"id\":4,\"method\":\"echo\"}]");
    assert_non_null(strstr(r, "\"code\":-32600"));
    assert_non_null(strstr(r, "batch of 4 requests exceeds batch_max 3"));
}

static void deferred_batch_member_delays_the_whole_batch(void **state)
{
    fx_t *f = *state;
    call(f, "[{\"id\":1,\"method\":\"hold\"},{\"id\":2,\"method\":\"echo\"}]");
    assert_int_equal(f->n_done, 0);
    assert_non_null(f->held);
    rpc_call_reply(f->held, json_pack("{s:i}", "done", 1));
    assert_int_equal(f->n_done, 1);
    assert_string_equal(f->out, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"done\":1}},"
                                "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}]");
}

static void handler_that_does_not_answer_yields_internal_error(void **state)
{
    fx_t *f = *state;
    const char *r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"silent\"}");
    assert_non_null(strstr(r, "\"code\":-32603"));
    assert_non_null(strstr(r, "\"id\":3"));
}

static void oversize_body_is_refused_without_parsing(void **state)
{
    fx_t *f = *state;
    size_t n = (1u << 20) + 1;
    char *big = malloc(n);
    memset(big, '[', n); /* would be deeply nested if parsed */
    assert_int_equal(rpc_request_process(f->rpc, (const uint8_t *)big, n, done_cb, f), CAIRN_OK);
    assert_non_null(strstr(f->out, "exceeds the limit of 1048576 bytes"));
    free(big);
}

static void deep_nesting_is_a_parse_error_not_a_crash(void **state)
{
    fx_t *f = *state;
    size_t n = 100000;
    char *deep = malloc(n + 1);
    memset(deep, '[', n);
    deep[n] = 0;
    const char *r = call(f, deep);
    assert_non_null(strstr(r, "\"code\":-32700"));
    free(deep);
}

static void query_parses_conditions_joined_by_and(void **state)
{
    (void)state;
    rpc_query_t q;
    char err[128], canon[RPC_QUERY_BYTES_MAX * 2];
    assert_int_equal(rpc_query_parse(&q, "tm.event = 'Tx' AND tx.height>=5 AND app.k EXISTS AND "
                                         "app.v CONTAINS 'ab'", err, sizeof err), CAIRN_OK);
    assert_int_equal(q.n, 4);
    rpc_query_string(&q, canon, sizeof canon);
    assert_string_equal(canon, "tm.event='Tx' AND tx.height>=5 AND app.k EXISTS AND "
                               "app.v CONTAINS 'ab'");
    rpc_attr yes[] = {{"tx.height", "7"}, {"app.k", "1"}, {"app.v", "xaby"}};
    rpc_attr low[] = {{"tx.height", "4"}, {"app.k", "1"}, {"app.v", "xaby"}};
    rpc_attr nok[] = {{"tx.height", "7"}, {"app.v", "xaby"}};
    assert_true(rpc_query_match(&q, "Tx", yes, 3));
    assert_false(rpc_query_match(&q, "NewBlock", yes, 3));
    assert_false(rpc_query_match(&q, "Tx", low, 3));
    assert_false(rpc_query_match(&q, "Tx", nok, 2));
}

static void query_errors_say_what_and_where(void **state)
{
    (void)state;
    rpc_query_t q;
    char err[128];
    assert_int_equal(rpc_query_parse(&q, "tm.event='Tx", err, sizeof err), CAIRN_EBAD_REQUEST);
    assert_non_null(strstr(err, "unterminated string"));
    assert_int_equal(rpc_query_parse(&q, "tm.event ~ 'Tx'", err, sizeof err), CAIRN_EBAD_REQUEST);
    assert_non_null(strstr(err, "expected an operator"));
    assert_int_equal(rpc_query_parse(&q, "a=1 OR b=2", err, sizeof err), CAIRN_EBAD_REQUEST);
    assert_non_null(strstr(err, "expected AND at position 4"));
    assert_int_equal(rpc_query_parse(&q, "", err, sizeof err), CAIRN_EBAD_REQUEST);
    char many[RPC_QUERY_BYTES_MAX];
    many[0] = 0;
    for (int i = 0; i <= RPC_QUERY_CONDITIONS_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%sa=%d", i ? " AND " : "", i);
    assert_int_equal(rpc_query_parse(&q, many, err, sizeof err), CAIRN_EBAD_REQUEST);
    assert_non_null(strstr(err, "too many conditions"));
}

/* ~126 bytes of answer each for BIG, ~45 for SMALL; the budget is 200 bytes */
#define BIG(m, id) "{\"jsonrpc\":\"2.0\",\"id\":" #id ",\"method\":\"" m "\",\"params\":" \
    "{\"data\":\"" "0123456789012345678901234567890123456789" \
    "0123456789012345678901234567890123456789\"}}"
#define SMALL(m, id) "{\"jsonrpc\":\"2.0\",\"id\":" #id ",\"method\":\"" m "\",\"params\":" \
    "{\"height\":1}}"

static int setup_small_budget(void **state)
{
    batch_budget = 200;
    int rc = setup(state);
    batch_budget = 0;
    return rc;
}

static void a_batch_answer_past_the_budget_becomes_an_error_and_the_rest_still_fits(void **state)
{
    fx_t *f = *state;
    static const char *const methods[] = {"echo", "echo_text"};
    for (int m = 0; m < 2; m++) {
        char body[1024];
        snprintf(body, sizeof body, "[%s,%s,%s]", BIG("%1$s", 1), BIG("%1$s", 2),
                 SMALL("%1$s", 3));
        char expanded[1024];
        snprintf(expanded, sizeof expanded, body, methods[m]);
        json_t *arr = json_loads(call(f, expanded), 0, NULL);
        assert_true(json_is_array(arr));
        assert_int_equal(json_array_size(arr), 3);
        assert_non_null(json_object_get(json_array_get(arr, 0), "result"));
        json_t *err = json_object_get(json_array_get(arr, 1), "error");
        assert_non_null(err);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 1), "id")), 2);
        assert_int_equal(json_integer_value(json_object_get(err, "code")), RPC_INTERNAL_ERROR);
        assert_non_null(strstr(json_string_value(json_object_get(err, "data")),
                               "would exceed 200 bytes (batch_response_bytes_max)"));
        assert_non_null(json_object_get(json_array_get(arr, 2), "result"));
        json_decref(arr);
    }
}

static void a_single_call_is_answered_in_full_whatever_the_batch_budget(void **state)
{
    fx_t *f = *state;
    char body[1024] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":{\"data\":\"";
    for (int i = 0; i < 600; i++) strcat(body, "A");
    strcat(body, "\"}}");
    const char *r = call(f, body);
    assert_true(strlen(r) > 600);
    assert_non_null(strstr(r, "\"result\""));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(params_are_normalised_from_strings_and_numbers),
        T(negative_height_for_an_unsigned_param_is_invalid_params),
        T(notifications_get_no_response),
        T(batches_over_the_limit_are_refused),
        T(a_serialised_result_gives_the_same_bytes_as_an_object),
        T(a_batch_mixing_serialised_and_object_results_reads_as_one_array),
        T(a_deferred_call_may_complete_with_a_serialised_result),
        T(deferred_batch_member_delays_the_whole_batch),
        T(handler_that_does_not_answer_yields_internal_error),
        T(oversize_body_is_refused_without_parsing),
        T(deep_nesting_is_a_parse_error_not_a_crash),
        cmocka_unit_test_setup_teardown(
            a_batch_answer_past_the_budget_becomes_an_error_and_the_rest_still_fits,
            setup_small_budget, teardown),
        cmocka_unit_test_setup_teardown(a_single_call_is_answered_in_full_whatever_the_batch_budget,
                                        setup_small_budget, teardown),
        cmocka_unit_test(query_parses_conditions_joined_by_and),
        cmocka_unit_test(query_errors_say_what_and_where),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
