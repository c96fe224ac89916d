/* The RPC server over real sockets: each test starts a server on an ephemeral
 * port on a fresh uv loop, runs one scenario of tests/unit/rpc/rpc_client.py
 * (a stdlib HTTP + WebSocket client) against it as a child process, and checks
 * that the scenario passed and the server shut down cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rpc/rpc.h"

#define SLOW_MAX 8

typedef struct {
    uv_loop_t loop;
    rpc_t *rpc;
    uv_process_t child;
    uv_timer_t watchdog;
    int64_t exit_status;
    int term_signal;
    bool exited;
    uint32_t slow_timeout_ms;
    rpc_call_t *slow[SLOW_MAX];
    size_t n_slow;
} fixture_t;

/* ------------------------------------------------------------ test methods */

static void echo_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)ctx;
    rpc_call_reply(call, json_pack("{s:O}", "value", json_object_get(params, "value")));
}

static void add_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)ctx;
    char s[32];
    snprintf(s, sizeof s, "%lld",
             (long long)(json_integer_value(json_object_get(params, "a")) +
                         json_integer_value(json_object_get(params, "b"))));
    rpc_call_reply(call, json_pack("{s:s}", "sum", s));
}

static void bytes_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)ctx;
    rpc_call_reply(call, json_deep_copy(params));
}

static void slow_cancel_cb(void *ctx, rpc_call_t *call)
{
    fixture_t *f = ctx;
    for (size_t i = 0; i < f->n_slow; i++)
        if (f->slow[i] == call) f->slow[i] = f->slow[--f->n_slow];
}

static void slow_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)params;
    fixture_t *f = ctx;
    if (f->n_slow == SLOW_MAX) return rpc_call_error(call, RPC_SERVER_ERROR, NULL, "busy");
    if (rpc_call_defer(call, f->slow_timeout_ms, "timed out waiting", slow_cancel_cb, f) ==
        CAIRN_OK)
        f->slow[f->n_slow++] = call;
}

static void release_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)params;
    fixture_t *f = ctx;
    size_t n = f->n_slow;
    while (f->n_slow) rpc_call_reply(f->slow[--f->n_slow], json_pack("{s:b}", "late", 1));
    rpc_call_reply(call, json_pack("{s:I}", "released", (json_int_t)n));
}

static void publish_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    fixture_t *f = ctx;
    const char *type = json_string_value(json_object_get(params, "type"));
    const char *hash = json_string_value(json_object_get(params, "hash"));
    json_int_t height = json_integer_value(json_object_get(params, "height"));
    json_int_t times = json_integer_value(json_object_get(params, "times"));
    bool big = json_integer_value(json_object_get(params, "big")) != 0;
    char hs[24];
    snprintf(hs, sizeof hs, "%lld", (long long)height);
    json_t *data = json_pack("{s:s}", "height", hs);
    if (big) {
        char *pad = malloc(8192);
        memset(pad, 'p', 8191);
        pad[8191] = 0;
        json_object_set_new(data, "pad", json_string(pad));
        free(pad);
    }
    rpc_attr attrs[2] = {{"tx.hash", hash && *hash ? hash : NULL}, {"tx.height", hs}};
    size_t total = 0;
    for (json_int_t i = 0; i < (times ? times : 1); i++) {
        size_t n = 0;
        if (rpc_publish(f->rpc, type, data, attrs, 2, &n) != CAIRN_OK) break;
        total += n;
    }
    json_decref(data);
    rpc_call_reply(call, json_pack("{s:I}", "delivered", (json_int_t)total));
}

/* ------------------------------------------------------------ fixture */

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    rpc_config cfg;
    rpc_config_default(&cfg);
    cfg.listen_addr = "127.0.0.1:0";
    cfg.body_bytes_max = 64 * 1024;
    cfg.connections_max = 4;
    cfg.subscriptions_per_client_max = 3;
    cfg.subscription_clients_max = 2;
    cfg.ws_queue_msgs_max = 50;
    cfg.ws_queue_bytes_max = 256 * 1024;
    assert_int_equal(rpc_new(&f->loop, &cfg, &f->rpc), CAIRN_OK);
    assert_true(rpc_port(f->rpc) > 0);
    f->slow_timeout_ms = 5000;

    static const rpc_param echo_p[] = {{"value", RPC_PARAM_STRING, false}};
    static const rpc_param add_p[] = {{"a", RPC_PARAM_INT, true}, {"b", RPC_PARAM_INT, true}};
    static const rpc_param bytes_p[] = {{"data", RPC_PARAM_BYTES, false},
                                        {"h", RPC_PARAM_HEX, false}};
    static const rpc_param flag_p[] = {{"on", RPC_PARAM_BOOL, true}};
    static const rpc_param pub_p[] = {{"type", RPC_PARAM_STRING, true},
                                      {"hash", RPC_PARAM_STRING, false},
                                      {"height", RPC_PARAM_INT, false},
                                      {"big", RPC_PARAM_INT, false},
                                      {"times", RPC_PARAM_UINT, false}};
    assert_int_equal(rpc_method_register(f->rpc, "echo", echo_p, 1, echo_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "add", add_p, 2, add_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "bytes", bytes_p, 2, bytes_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "flag", flag_p, 1, bytes_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "slow", NULL, 0, slow_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "release", NULL, 0, release_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "publish", pub_p, 5, publish_cb, f), CAIRN_OK);

    metric_t *blocks;
    assert_int_equal(metrics_register(rpc_metrics(f->rpc), METRIC_COUNTER,
                                      "cairn_test_blocks_total", "Blocks.", NULL, 0, &blocks),
                     CAIRN_OK);
    assert_int_equal(metrics_counter_add(blocks, NULL, 42), CAIRN_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    rpc_free(f->rpc);
    uv_run(&f->loop, UV_RUN_DEFAULT); /* let closing handles finish */
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

static void exit_cb(uv_process_t *p, int64_t status, int sig)
{
    fixture_t *f = p->data;
    f->exit_status = status;
    f->term_signal = sig;
    f->exited = true;
    uv_close((uv_handle_t *)p, NULL);
    uv_timer_stop(&f->watchdog);
    uv_close((uv_handle_t *)&f->watchdog, NULL);
}

static void watchdog_cb(uv_timer_t *t)
{
    fixture_t *f = t->data;
    fprintf(stderr, "scenario timed out; killing client pid %d\n", f->child.pid);
    uv_process_kill(&f->child, SIGKILL);
}

/* Runs one client scenario; returns its exit status (0: all checks held). */
static int run_scenario(fixture_t *f, const char *name)
{
    char script[512], port[16];
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    snprintf(script, sizeof script, "%.*s/rpc_client.py", (int)(slash - file), file);
    snprintf(port, sizeof port, "%d", rpc_port(f->rpc));
    char *args[] = {"python3", script, port, (char *)name, NULL};
    uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE},
                                     {.flags = UV_INHERIT_FD, .data.fd = 1},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2}};
    uv_process_options_t opt = {.exit_cb = exit_cb, .file = "python3", .args = args,
                                .stdio_count = 3, .stdio = stdio};
    f->child.data = f;
    assert_int_equal(uv_spawn(&f->loop, &f->child, &opt), 0);
    uv_timer_init(&f->loop, &f->watchdog);
    f->watchdog.data = f;
    uv_timer_start(&f->watchdog, watchdog_cb, 60000, 0);
    while (!f->exited) uv_run(&f->loop, UV_RUN_ONCE);
    return f->term_signal ? 128 + f->term_signal : (int)f->exit_status;
}

#define SCENARIO_TEST(name)                                                        \
    static void name(void **state) { assert_int_equal(run_scenario(*state, #name), 0); }

SCENARIO_TEST(post_single)
SCENARIO_TEST(post_batch)
SCENARIO_TEST(keepalive)
SCENARIO_TEST(uri_typed)
SCENARIO_TEST(unknown_method)
SCENARIO_TEST(malformed_json)
SCENARIO_TEST(oversize_body)
SCENARIO_TEST(wrong_params)
SCENARIO_TEST(routes_and_health)
SCENARIO_TEST(metrics)
SCENARIO_TEST(deferred)
SCENARIO_TEST(ws_subscribe)
SCENARIO_TEST(ws_hash_query)
SCENARIO_TEST(ws_limits)
SCENARIO_TEST(ws_slow_client)
SCENARIO_TEST(ws_wrong_path)
SCENARIO_TEST(conn_limit)
SCENARIO_TEST(pipelined)

static void deferred_timeout(void **state)
{
    fixture_t *f = *state;
    f->slow_timeout_ms = 300;
    assert_int_equal(run_scenario(f, "deferred_timeout"), 0);
    assert_int_equal(f->n_slow, 0); /* cancel_cb ran */
}

static void pending_call_is_cancelled_when_server_stops(void **state)
{
    fixture_t *f = *state;
    /* a deferred call that is never completed: rpc_free must cancel it */
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"slow\"}";
    assert_int_equal(rpc_request_process(f->rpc, (const uint8_t *)body, strlen(body), NULL, NULL),
                     CAIRN_OK);
    assert_int_equal(f->n_slow, 1);
    rpc_free(f->rpc);
    f->rpc = NULL;
    assert_int_equal(f->n_slow, 0);
}

static void metrics_only_listener_serves_metrics_alone(void **state)
{
    fixture_t *f = *state;
    rpc_config cfg;
    rpc_config_default(&cfg);
    cfg.listen_addr = "127.0.0.1:0";
    cfg.metrics = rpc_metrics(f->rpc);
    cfg.metrics_only = true;
    rpc_t *metrics_rpc = NULL, *main_rpc = f->rpc;
    assert_int_equal(rpc_new(&f->loop, &cfg, &metrics_rpc), CAIRN_OK);
    f->rpc = metrics_rpc; /* the scenario talks to rpc_port(f->rpc) */
    int rc = run_scenario(f, "metrics_only");
    f->rpc = main_rpc;
    rpc_free(metrics_rpc);
    assert_int_equal(rc, 0);
}

static void second_server_on_a_taken_port_fails_cleanly(void **state)
{
    fixture_t *f = *state;
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rpc_port(f->rpc));
    rpc_config cfg;
    rpc_config_default(&cfg);
    cfg.listen_addr = addr;
    rpc_t *other = NULL;
    assert_int_equal(rpc_new(&f->loop, &cfg, &other), CAIRN_EIO);
    assert_null(other);
    cfg.listen_addr = "no-port";
    assert_int_equal(rpc_new(&f->loop, &cfg, &other), CAIRN_EBAD_CONFIG);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(post_single),
        T(post_batch),
        T(keepalive),
        T(uri_typed),
        T(unknown_method),
        T(malformed_json),
        T(oversize_body),
        T(wrong_params),
        T(routes_and_health),
        T(metrics),
        T(deferred),
        T(deferred_timeout),
        T(pending_call_is_cancelled_when_server_stops),
        T(ws_subscribe),
        T(ws_hash_query),
        T(ws_limits),
        T(ws_slow_client),
        T(ws_wrong_path),
        T(conn_limit),
        T(pipelined),
        T(metrics_only_listener_serves_metrics_alone),
        T(second_server_on_a_taken_port_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
