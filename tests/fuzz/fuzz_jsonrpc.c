/* Fuzz target: arbitrary bytes as a JSON-RPC request body (single or batch)
 * through the server's parser and dispatcher without sockets. Every input
 * must produce either nothing (all notifications) or a valid JSON-RPC 2.0
 * response: an object {"jsonrpc":"2.0","id":..,"result"|"error":..} or a
 * non-empty array of them. The same bytes are also parsed as an event query;
 * an accepted query must round-trip through its canonical text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "rpc/rpc_int.h"

static uv_loop_t loop;
static rpc_t *rpc;
static rpc_call_t *held[64];
static size_t n_held;
static int n_done;

static void echo_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)ctx;
    rpc_call_reply(call, json_deep_copy(params));
}

static void fail_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)ctx;
    (void)params;
    rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "always fails");
}

static void later_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)ctx;
    (void)params;
    if (n_held < 64 && rpc_call_defer(call, 1000, "timed out", NULL, NULL) == CAIRN_OK)
        held[n_held++] = call;
    else if (n_held >= 64)
        rpc_call_error(call, RPC_SERVER_ERROR, NULL, "busy");
}

static void check_one(const json_t *r)
{
    if (!json_is_object(r)) abort();
    const char *v = json_string_value(json_object_get(r, "jsonrpc"));
    if (!v || strcmp(v, "2.0") != 0) abort();
    const json_t *id = json_object_get(r, "id");
    if (!id || !(json_is_null(id) || json_is_string(id) || json_is_integer(id))) abort();
    const json_t *res = json_object_get(r, "result"), *err = json_object_get(r, "error");
    if (!!res == !!err) abort();
    if (err) {
        if (!json_is_integer(json_object_get(err, "code")) ||
            !json_is_string(json_object_get(err, "message")) ||
            !json_is_string(json_object_get(err, "data")))
            abort();
    }
}

static void done_cb(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    n_done++;
    if (len == 0) return;
    json_error_t e;
    json_t *r = json_loadb(text, len, 0, &e);
    if (!r) abort();
    if (json_is_array(r)) {
        if (json_array_size(r) == 0) abort();
        for (size_t i = 0; i < json_array_size(r); i++) check_one(json_array_get(r, i));
    } else {
        check_one(r);
    }
    json_decref(r);
}

static void setup(void)
{
    log_level_set(LOG_OFF);
    uv_loop_init(&loop);
    rpc_config cfg;
    rpc_config_default(&cfg);
    cfg.listen_addr = "";
    cfg.batch_max = 20;
    if (rpc_new(&loop, &cfg, &rpc) != CAIRN_OK) abort();
    static const rpc_param p[] = {{"height", RPC_PARAM_INT, false},
                                  {"n", RPC_PARAM_UINT, false},
                                  {"prove", RPC_PARAM_BOOL, false},
                                  {"data", RPC_PARAM_HEX, false},
                                  {"tx", RPC_PARAM_BYTES, false},
                                  {"query", RPC_PARAM_STRING, false}};
    static const rpc_param req[] = {{"hash", RPC_PARAM_BYTES, true}};
    if (rpc_method_register(rpc, "echo", p, 6, echo_cb, NULL) != CAIRN_OK ||
        rpc_method_register(rpc, "tx", req, 1, echo_cb, NULL) != CAIRN_OK ||
        rpc_method_register(rpc, "fail", NULL, 0, fail_cb, NULL) != CAIRN_OK ||
        rpc_method_register(rpc, "later", NULL, 0, later_cb, NULL) != CAIRN_OK)
        abort();
}

static void fuzz_query(const uint8_t *data, size_t size)
{
    char text[RPC_QUERY_BYTES_MAX + 8];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = 0;
    rpc_query_t q, q2;
    char err[256], c1[RPC_QUERY_BYTES_MAX * 2], c2[RPC_QUERY_BYTES_MAX * 2];
    if (rpc_query_parse(&q, text, err, sizeof err) != CAIRN_OK) return;
    rpc_query_string(&q, c1, sizeof c1);
    if (strlen(c1) >= RPC_QUERY_BYTES_MAX) return; /* canonical form may be longer */
    if (rpc_query_parse(&q2, c1, err, sizeof err) != CAIRN_OK) abort();
    rpc_query_string(&q2, c2, sizeof c2);
    if (strcmp(c1, c2) != 0) abort();
    rpc_attr a[] = {{"tx.hash", "AB"}, {"tx.height", "5"}};
    (void)rpc_query_match(&q, "Tx", a, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rpc) setup();
    n_done = 0;
    if (rpc_request_process(rpc, data, size, done_cb, NULL) != CAIRN_OK) abort();
    /* complete deferred calls, alternating reply and error */
    for (size_t i = 0; i < n_held; i++) {
        if (i % 2) rpc_call_error(held[i], RPC_INTERNAL_ERROR, NULL, "late error");
        else rpc_call_reply(held[i], json_object());
    }
    n_held = 0;
    uv_run(&loop, UV_RUN_NOWAIT); /* close the deferred calls' timers */
    if (n_done != 1) abort(); /* exactly one answer per body */
    fuzz_query(data, size);
    return 0;
}
