/* core.c - the transport-free half of the RPC server: method table, JSON-RPC
 * envelope checks, batches, call completion (sync and deferred), WebSocket
 * subscriptions and event fan-out, request metrics. server.c feeds it bodies
 * and writes out what it returns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "rpc/rpc_int.h"

#define ERRDATA_MAX 512

void rpc_config_default(rpc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen_addr = "127.0.0.1:26657";
    cfg->body_bytes_max = 1u << 20;
    cfg->batch_max = 100;
    cfg->batch_response_bytes_max = 8u << 20;
    cfg->connections_max = 900;
    cfg->subscription_clients_max = 100;
    cfg->subscriptions_per_client_max = 5;
    cfg->pending_calls_max = 1000;
    cfg->timeout_broadcast_tx_commit_ms = 10000;
    cfg->ws_queue_msgs_max = 100;
    cfg->ws_queue_bytes_max = 16u << 20;
}

static const char *code_message(int code)
{
    switch (code) {
    case RPC_PARSE_ERROR: return "Parse error";
    case RPC_INVALID_REQUEST: return "Invalid Request";
    case RPC_METHOD_NOT_FOUND: return "Method not found";
    case RPC_INVALID_PARAMS: return "Invalid params";
    case RPC_INTERNAL_ERROR: return "Internal error";
    default: return "Server error";
    }
}

/* {"jsonrpc":"2.0","id":id,"error":{...}}; id borrowed (NULL -> null). */
static json_t *error_obj(json_t *id, int code, const char *message, const char *data)
{
    return json_pack("{s:s,s:O?,s:{s:i,s:s,s:s}}", "jsonrpc", "2.0", "id", id, "error", "code",
                     code, "message", message ? message : code_message(code), "data",
                     data ? data : "");
}

static char *dump(json_t *j, size_t *len)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    *len = s ? strlen(s) : 0;
    return s;
}

char *rpc_error_text(int code, const char *data, size_t *len)
{
    json_t *e = error_obj(NULL, code, NULL, data);
    char *s = dump(e, len);
    json_decref(e);
    return s;
}

/* ---------------------------------------------------------------- metrics */

static cairn_err metrics_setup(rpc_t *rpc)
{
    static const char *const mlabels[] = {"method", "status"};
    static const char *const m1[] = {"method"};
    metrics_t *m = rpc->metrics;
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_rpc_requests_total",
                               "JSON-RPC calls answered, by method and status (ok or error).",
                               mlabels, 2, &rpc->m_requests));
    CAIRN_TRY(metrics_register(m, METRIC_SUMMARY, "cairn_rpc_request_duration_seconds",
                               "Time from receiving a JSON-RPC call to its answer.", m1, 1,
                               &rpc->m_duration));
    CAIRN_TRY(metrics_register(m, METRIC_GAUGE, "cairn_rpc_connections",
                               "Open HTTP and WebSocket connections.", NULL, 0, &rpc->m_conns));
    CAIRN_TRY(metrics_register(m, METRIC_GAUGE, "cairn_rpc_subscriptions",
                               "Active WebSocket event subscriptions.", NULL, 0, &rpc->m_subs));
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_rpc_ws_clients_dropped_total",
                               "WebSocket clients disconnected because their queue was full.",
                               NULL, 0, &rpc->m_dropped));
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_rpc_connections_rejected_total",
                               "Connections refused because connections_max was reached.",
                               NULL, 0, &rpc->m_rejected));
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_rpc_pipelined_closed_total",
                               "HTTP connections closed after an answer because the client "
                               "pipelined requests libwebsockets cannot take in turn.",
                               NULL, 0, &rpc->m_pipelined));
    return CAIRN_OK;
}

void rpc_metrics_request(rpc_t *rpc, const char *method, bool ok, uint64_t t0_ns)
{
    /* unknown method names are not labels: that would let clients grow the registry */
    const char *label = rpc_method_find(rpc, method) ? method : "unknown";
    const char *lv[] = {label, ok ? "ok" : "error"};
    METRIC_UPDATE(metrics_counter_add(rpc->m_requests, lv, 1));
    if (t0_ns)
        METRIC_UPDATE(metrics_summary_observe(rpc->m_duration, lv,
                                      (double)(uv_hrtime() - t0_ns) / 1e9));
}

/* ---------------------------------------------------------------- methods */

const rpc_method_t *rpc_method_find(const rpc_t *rpc, const char *name)
{
    for (size_t i = 0; i < rpc->n_methods; i++)
        if (strcmp(rpc->methods[i].name, name) == 0) return &rpc->methods[i];
    return NULL;
}

static cairn_err method_add(rpc_t *rpc, const char *name, const rpc_param *params,
                            size_t n_params, rpc_handler_cb cb, void *ctx, bool ws_only)
{
    if (!name || !*name || strlen(name) > RPC_METHOD_NAME_MAX || !cb || n_params > RPC_PARAMS_MAX)
        return n_params > RPC_PARAMS_MAX ? CAIRN_ELIMIT : CAIRN_EINVALID_ARG;
    for (size_t i = 0; i < n_params; i++)
        if (!params[i].name || strlen(params[i].name) >= sizeof rpc->methods[0].param_names[0])
            return CAIRN_EINVALID_ARG;
    rpc_method_t *m = (rpc_method_t *)rpc_method_find(rpc, name);
    if (!m) {
        if (rpc->n_methods >= RPC_METHODS_MAX) return CAIRN_ELIMIT;
        m = &rpc->methods[rpc->n_methods++];
    }
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->n_params = n_params;
    for (size_t i = 0; i < n_params; i++) {
        snprintf(m->param_names[i], sizeof m->param_names[i], "%s", params[i].name);
        m->params[i] = params[i];
        m->params[i].name = m->param_names[i];
    }
    m->cb = cb;
    m->ctx = ctx;
    m->ws_only = ws_only;
    return CAIRN_OK;
}

cairn_err rpc_method_register(rpc_t *rpc, const char *name, const rpc_param *params,
                              size_t n_params, rpc_handler_cb cb, void *ctx)
{
    return method_add(rpc, name, params, n_params, cb, ctx, false);
}

/* ---------------------------------------------------------------- requests */

static void req_unlink(rpc_req_t *req)
{
    rpc_conn_t *c = req->conn;
    if (!c) return;
    if (req->prev) req->prev->next = req->next;
    else c->reqs = req->next;
    if (req->next) req->next->prev = req->prev;
    req->prev = req->next = NULL;
}

static void req_free(rpc_req_t *req)
{
    for (size_t i = 0; i < req->n; i++) json_decref(req->slots[i]);
    for (size_t i = 0; req->texts && i < req->n; i++) free(req->texts[i]);
    free(req->texts);
    free(req->text_lens);
    free(req->slots);
    free(req);
}

/* The response text of a request with text slots: each slot's compact JSON,
 * joined as JSON_COMPACT would print the batch array, so the bytes equal those
 * of the all-objects path. NULL (*len 0): nothing to send; *oom on failure. */
static char *req_text_join(rpc_req_t *req, size_t *len, bool *oom)
{
    size_t total = 2, count = 0;
    for (size_t i = 0; i < req->n; i++) {
        if (!req->texts[i] && req->slots[i]) {
            req->texts[i] = dump(req->slots[i], &req->text_lens[i]);
            if (!req->texts[i]) {
                *oom = true;
                return NULL;
            }
        }
        if (req->texts[i]) total += req->text_lens[i] + (count++ ? 1 : 0);
    }
    *len = 0;
    if (count == 0) return NULL;
    if (!req->batch) { /* one call: its response as it is */
        char *t = req->texts[0];
        *len = req->text_lens[0];
        req->texts[0] = NULL;
        return t;
    }
    char *out = malloc(total + 1), *at = out;
    if (!out) {
        *oom = true;
        return NULL;
    }
    *at++ = '[';
    for (size_t i = 0, k = 0; i < req->n; i++) {
        if (!req->texts[i]) continue;
        if (k++) *at++ = ',';
        memcpy(at, req->texts[i], req->text_lens[i]);
        at += req->text_lens[i];
    }
    *at++ = ']';
    *at = 0;
    *len = (size_t)(at - out);
    return out;
}

/* Every call of req completed: send the response and free req. */
static void req_finish(rpc_req_t *req)
{
    json_t *out = NULL;
    size_t len = 0;
    char *text = NULL;
    bool oom = false;
    if (req->texts) {
        text = req_text_join(req, &len, &oom);
    } else if (req->batch) {
        out = json_array();
        for (size_t i = 0; out && i < req->n; i++)
            if (req->slots[i]) json_array_append(out, req->slots[i]);
        if (out && json_array_size(out) == 0) {
            json_decref(out);
            out = NULL;
        }
    } else if (req->n == 1 && req->slots[0]) {
        out = json_incref(req->slots[0]);
    }
    if (out) {
        text = dump(out, &len);
        oom = !text;
    }
    json_decref(out);
    if (oom) { /* out of memory while serialising */
        text = rpc_error_text(RPC_INTERNAL_ERROR, "out of memory", &len);
    }
    rpc_conn_t *c = req->conn;
    req_unlink(req);
    if (req->done_cb) {
        req->done_cb(req->done_ctx, text ? text : "", len);
        free(text);
    } else if (!req->orphan && c && c->kind == CONN_HTTP) {
        rpc_conn_http_respond(c, 200, "application/json", text, len);
    } else if (!req->orphan && c && c->kind == CONN_WS) {
        if (text) (void)rpc_conn_ws_send(c, text, len);
        free(text);
    } else {
        free(text);
    }
    req_free(req);
}

static rpc_req_t *req_new(rpc_t *rpc, rpc_conn_t *conn, size_t n, bool batch,
                          rpc_done_cb done_cb, void *ctx)
{
    rpc_req_t *req = calloc(1, sizeof *req);
    if (!req) return NULL;
    req->slots = calloc(n ? n : 1, sizeof *req->slots);
    if (!req->slots) {
        free(req);
        return NULL;
    }
    req->rpc = rpc;
    req->n = req->n_pending = n;
    req->batch = batch;
    req->done_cb = done_cb;
    req->done_ctx = ctx;
    req->conn = conn;
    if (conn) {
        req->next = conn->reqs;
        if (conn->reqs) conn->reqs->prev = req;
        conn->reqs = req;
    }
    return req;
}

/* Fills slot i with a response text (owned, len bytes) and finishes req when
 * done; false (text freed): out of memory, slot i untouched. */
static bool req_slot_text_done(rpc_req_t *req, size_t i, char *text, size_t len)
{
    CAIRN_ASSERT(req->n_pending > 0 && !req->slots[i]);
    if (!req->texts) {
        req->texts = calloc(req->n, sizeof *req->texts);
        req->text_lens = calloc(req->n, sizeof *req->text_lens);
        if (!req->texts || !req->text_lens) {
            free(req->texts);
            free(req->text_lens);
            req->texts = NULL;
            req->text_lens = NULL;
            free(text);
            return false;
        }
    }
    CAIRN_ASSERT(!req->texts[i]);
    req->texts[i] = text;
    req->text_lens[i] = len;
    if (--req->n_pending == 0) req_finish(req);
    return true;
}

/* Fills slot i (resp may be NULL: notification) and finishes req when done. */
static void req_slot_done(rpc_req_t *req, size_t i, json_t *resp)
{
    CAIRN_ASSERT(req->n_pending > 0 && !req->slots[i]);
    req->slots[i] = resp;
    if (--req->n_pending == 0) req_finish(req);
}

/* ---------------------------------------------------------------- calls */

static void pending_unlink(rpc_call_t *call)
{
    rpc_t *rpc = call->rpc;
    if (call->prev) call->prev->next = call->next;
    else rpc->pending = call->next;
    if (call->next) call->next->prev = call->prev;
    call->prev = call->next = NULL;
    rpc->n_pending--;
}

static void call_free_cb(uv_handle_t *h)
{
    rpc_call_t *call = h->data;
    free(call->timeout_data);
    json_decref(call->id);
    free(call);
}

static void call_release(rpc_call_t *call)
{
    if (call->deferred) {
        pending_unlink(call);
        uv_timer_stop(&call->timer);
        uv_close((uv_handle_t *)&call->timer, call_free_cb);
        return;
    }
    call->timer.data = call;
    call_free_cb((uv_handle_t *)&call->timer);
}

/* A batch's answer is bounded by batch_response_bytes_max, so that 100 calls
 * for large blocks cannot make the node hold (and send) hundreds of megabytes:
 * an answer (text, owned, *len bytes) that would take the batch past the limit
 * is replaced by an error that names it, and the client gets every answer that
 * fit. Returns the text to keep; NULL: out of memory. *ok becomes false when
 * the answer was replaced. */
static char *batch_budget(rpc_call_t *call, char *text, size_t *len, bool *ok)
{
    rpc_req_t *req = call->req;
    size_t max = call->rpc->cfg.batch_response_bytes_max;
    if (!req->batch || !text || req->bytes + *len <= max) {
        if (text) req->bytes += *len;
        return text;
    }
    free(text);
    char data[ERRDATA_MAX];
    snprintf(data, sizeof data,
             "the batch's answer would exceed %zu bytes (batch_response_bytes_max); "
             "send this call again in a smaller batch", max);
    json_t *e = error_obj(call->id, RPC_INTERNAL_ERROR, NULL, data);
    text = dump(e, len); /* not counted: errors are small, and a later small answer may fit */
    json_decref(e);
    *ok = false;
    return text;
}

/* Completes call with resp (a full response object, stolen). */
static void call_complete(rpc_call_t *call, json_t *resp, bool ok)
{
    CAIRN_ASSERT(!call->done);
    call->done = true;
    if (!call->id) {
        json_decref(resp);
        resp = NULL;
    }
    rpc_req_t *req = call->req;
    char *text = NULL;
    size_t len = 0;
    if (resp && req->batch) { /* counted against the batch's budget as text */
        text = dump(resp, &len);
        if (text) {
            json_decref(resp);
            resp = NULL;
            text = batch_budget(call, text, &len, &ok);
        }
        if (!text && !resp) resp = error_obj(call->id, RPC_INTERNAL_ERROR, NULL, "out of memory");
    }
    rpc_metrics_request(call->rpc, call->method, ok, call->t0_ns);
    size_t index = call->index;
    call->req = NULL;
    if (call->deferred) call_release(call); /* sync calls are released by dispatch */
    if (text && req_slot_text_done(req, index, text, len)) return;
    if (text) resp = error_obj(NULL, RPC_INTERNAL_ERROR, NULL, "out of memory");
    req_slot_done(req, index, resp);
}

void rpc_call_reply(rpc_call_t *call, json_t *result)
{
    if (!result) {
        rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "handler produced no result");
        return;
    }
    json_t *resp = json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id",
                             call->id ? call->id : json_null(), "result", result);
    if (!resp) {
        rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "out of memory");
        return;
    }
    call_complete(call, resp, true);
}

/* {"jsonrpc":"2.0","id":ID,"result":RESULT} as JSON_COMPACT prints it. */
static char *reply_text(const rpc_call_t *call, const char *result, size_t result_len,
                        size_t *len)
{
    static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":", mid[] = ",\"result\":";
    char *id = call->id ? json_dumps(call->id, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    const char *id_text = id ? id : "null";
    if (call->id && !id) return NULL;
    size_t id_len = strlen(id_text);
    size_t n = sizeof head - 1 + id_len + sizeof mid - 1 + result_len + 1;
    char *out = malloc(n + 1);
    if (out) {
        char *at = out;
        memcpy(at, head, sizeof head - 1);
        at += sizeof head - 1;
        memcpy(at, id_text, id_len);
        at += id_len;
        memcpy(at, mid, sizeof mid - 1);
        at += sizeof mid - 1;
        memcpy(at, result, result_len);
        at += result_len;
        *at++ = '}';
        *at = 0;
        *len = n;
    }
    free(id);
    return out;
}

void rpc_call_reply_text(rpc_call_t *call, char *result, size_t len)
{
    if (!result) {
        rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "handler produced no result");
        return;
    }
    size_t rlen = 0;
    char *resp = call->id ? reply_text(call, result, len, &rlen) : NULL;
    free(result);
    if (call->id && !resp) {
        rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "out of memory");
        return;
    }
    bool ok = true;
    resp = batch_budget(call, resp, &rlen, &ok);
    if (call->id && !resp) {
        rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "out of memory");
        return;
    }
    /* call_complete's bookkeeping, with a text slot */
    CAIRN_ASSERT(!call->done);
    call->done = true;
    rpc_metrics_request(call->rpc, call->method, ok, call->t0_ns);
    rpc_req_t *req = call->req;
    size_t index = call->index;
    call->req = NULL;
    if (call->deferred) call_release(call); /* sync calls are released by dispatch */
    if (!resp) {
        req_slot_done(req, index, NULL); /* a notification: no response */
        return;
    }
    if (!req_slot_text_done(req, index, resp, rlen))
        req_slot_done(req, index, error_obj(NULL, RPC_INTERNAL_ERROR, NULL, "out of memory"));
}

void rpc_call_error(rpc_call_t *call, int code, const char *message, const char *data)
{
    call_complete(call, error_obj(call->id, code, message, data), false);
}

const char *rpc_call_method(const rpc_call_t *call) { return call->method; }

uint64_t rpc_call_client(const rpc_call_t *call)
{
    return call->req && call->req->conn ? call->req->conn->id : 0;
}

static void call_timeout_cb(uv_timer_t *t)
{
    rpc_call_t *call = t->data;
    rpc_cancel_cb cb = call->cancel_cb;
    void *ctx = call->cancel_ctx;
    /* the handler must not complete a call after cancel; keep it alive across cb */
    rpc_call_error(call, RPC_INTERNAL_ERROR, NULL,
                   call->timeout_data ? call->timeout_data : "timed out");
    if (cb) cb(ctx, call); /* call memory is freed by the close callback later */
}

cairn_err rpc_call_defer(rpc_call_t *call, uint32_t timeout_ms, const char *timeout_data,
                         rpc_cancel_cb cancel_cb, void *ctx)
{
    rpc_t *rpc = call->rpc;
    CAIRN_ASSERT(!call->done && !call->deferred);
    if (rpc->n_pending >= rpc->cfg.pending_calls_max || rpc->freeing) {
        rpc_call_error(call, RPC_SERVER_ERROR, NULL,
                       "too many calls waiting; try again later (pending_calls_max)");
        return CAIRN_ELIMIT;
    }
    if (timeout_data && !(call->timeout_data = strdup(timeout_data))) {
        rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "out of memory");
        return CAIRN_ENOMEM;
    }
    uv_timer_init(rpc->loop, &call->timer);
    call->timer.data = call;
    call->deferred = true;
    call->cancel_cb = cancel_cb;
    call->cancel_ctx = ctx;
    call->next = rpc->pending;
    if (rpc->pending) rpc->pending->prev = call;
    rpc->pending = call;
    rpc->n_pending++;
    uv_timer_start(&call->timer, call_timeout_cb,
                   timeout_ms ? timeout_ms : rpc->cfg.timeout_broadcast_tx_commit_ms, 0);
    return CAIRN_OK;
}

/* Runs one call object; fills slot index of req. */
static void dispatch_one(rpc_t *rpc, rpc_req_t *req, size_t index, const json_t *obj,
                         const json_t *uri_args)
{
    char err[ERRDATA_MAX];
    uint64_t t0 = uv_hrtime();
    json_t *id = NULL;
    const char *method = NULL;
    const json_t *params = NULL;
    if (uri_args) {
        id = json_integer(-1);
        method = json_string_value(json_object_get(obj, "method"));
        params = uri_args;
    } else {
        if (!json_is_object(obj)) {
            req_slot_done(req, index, error_obj(NULL, RPC_INVALID_REQUEST, NULL,
                                                "a request must be a JSON object"));
            return;
        }
        const json_t *jv = json_object_get(obj, "jsonrpc");
        const json_t *jid = json_object_get(obj, "id");
        const json_t *jm = json_object_get(obj, "method");
        if (jid && !json_is_null(jid) && !json_is_string(jid) && !json_is_integer(jid)) {
            req_slot_done(req, index, error_obj(NULL, RPC_INVALID_REQUEST, NULL,
                                                "id must be a string or an integer"));
            return;
        }
        id = jid && !json_is_null(jid) ? json_incref((json_t *)jid) : NULL;
        const char *bad = NULL;
        if (jv && !(json_is_string(jv) && strcmp(json_string_value(jv), "2.0") == 0))
            bad = "jsonrpc must be \"2.0\"";
        else if (!json_is_string(jm)) bad = "method must be a string";
        if (bad) {
            req_slot_done(req, index, error_obj(id ? id : json_null(), RPC_INVALID_REQUEST,
                                                NULL, bad));
            json_decref(id);
            return;
        }
        method = json_string_value(jm);
        params = json_object_get(obj, "params");
    }
    const rpc_method_t *m = method ? rpc_method_find(rpc, method) : NULL;
    const char *why = NULL;
    if (!m) {
        snprintf(err, sizeof err, "method \"%.64s\" not found", method ? method : "");
        why = err;
    } else if (m->ws_only && !(req->conn && req->conn->kind == CONN_WS)) {
        snprintf(err, sizeof err, "%s is only available over the WebSocket at /websocket",
                 m->name);
        why = err;
    }
    if (why) {
        rpc_metrics_request(rpc, "unknown", false, 0);
        req_slot_done(req, index, id ? error_obj(id, RPC_METHOD_NOT_FOUND, NULL, why) : NULL);
        json_decref(id);
        return;
    }
    json_t *norm = NULL;
    cairn_err rc = rpc_params_normalize(m, params, uri_args != NULL, &norm, err, sizeof err);
    if (rc != CAIRN_OK) {
        rpc_metrics_request(rpc, m->name, false, 0);
        req_slot_done(req, index,
                      id ? error_obj(id, RPC_INVALID_PARAMS, NULL,
                                     rc == CAIRN_ENOMEM ? "out of memory" : err)
                         : NULL);
        json_decref(id);
        return;
    }
    rpc_call_t *call = calloc(1, sizeof *call);
    if (!call) {
        req_slot_done(req, index, id ? error_obj(id, RPC_INTERNAL_ERROR, NULL, "out of memory") : NULL);
        json_decref(id);
        json_decref(norm);
        return;
    }
    call->rpc = rpc;
    call->req = req;
    call->index = index;
    call->id = id;
    call->t0_ns = t0;
    snprintf(call->method, sizeof call->method, "%s", m->name);
    m->cb(m->ctx, call, norm);
    json_decref(norm);
    if (!call->done && !call->deferred) {
        log_error("rpc: handler of %s returned without completing the call", call->method);
        rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "handler did not answer");
    }
    if (!call->deferred) call_release(call);
}

cairn_err rpc_body_process(rpc_t *rpc, rpc_conn_t *conn, const uint8_t *body, size_t len,
                           rpc_done_cb done_cb, void *ctx)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)body, len, JSON_DECODE_ANY, &jerr);
    size_t n = 1;
    bool batch = false;
    if (root && json_is_array(root)) {
        batch = true;
        n = json_array_size(root);
    }
    bool batch_bad = batch && (n == 0 || n > rpc->cfg.batch_max);
    rpc_req_t *req = req_new(rpc, conn, batch_bad ? 1 : n, batch && !batch_bad, done_cb, ctx);
    if (!req) {
        json_decref(root);
        return CAIRN_ENOMEM;
    }
    char data[ERRDATA_MAX];
    if (!root) {
        snprintf(data, sizeof data, "error parsing JSON: %s (line %d, column %d)", jerr.text,
                 jerr.line, jerr.column);
        rpc_metrics_request(rpc, "unknown", false, 0);
        req_slot_done(req, 0, error_obj(NULL, RPC_PARSE_ERROR, NULL, data));
        return CAIRN_OK;
    }
    if (batch_bad) {
        snprintf(data, sizeof data, n ? "batch of %zu requests exceeds batch_max %u"
                                      : "empty batch", n, rpc->cfg.batch_max);
        req_slot_done(req, 0, error_obj(NULL, RPC_INVALID_REQUEST, NULL, data));
        json_decref(root);
        return CAIRN_OK;
    }
    /* req may finish (and be freed) inside the last dispatch: don't touch it after */
    for (size_t i = 0; i < n; i++)
        dispatch_one(rpc, req, i, batch ? json_array_get(root, i) : root, NULL);
    json_decref(root);
    return CAIRN_OK;
}

cairn_err rpc_uri_process(rpc_t *rpc, rpc_conn_t *conn, const char *method, json_t *raw_args)
{
    rpc_req_t *req = req_new(rpc, conn, 1, false, NULL, NULL);
    json_t *obj = json_pack("{s:s}", "method", method);
    if (!req || !obj) {
        if (req) {
            req_unlink(req);
            req_free(req);
        }
        json_decref(obj);
        return CAIRN_ENOMEM;
    }
    dispatch_one(rpc, req, 0, obj, raw_args);
    json_decref(obj);
    return CAIRN_OK;
}

cairn_err rpc_request_process(rpc_t *rpc, const uint8_t *body, size_t len, rpc_done_cb done_cb,
                              void *ctx)
{
    if (len > rpc->cfg.body_bytes_max) {
        char data[128];
        snprintf(data, sizeof data, "request body of %zu bytes exceeds the limit of %zu bytes",
                 len, rpc->cfg.body_bytes_max);
        size_t n;
        char *t = rpc_error_text(RPC_INVALID_REQUEST, data, &n);
        if (done_cb) done_cb(ctx, t ? t : "", n);
        free(t);
        return CAIRN_OK;
    }
    return rpc_body_process(rpc, NULL, body, len, done_cb, ctx);
}

/* ---------------------------------------------------------------- subscriptions */

static void sub_free(rpc_sub_t *s)
{
    json_decref(s->id);
    free(s->text);
    free(s);
}

static void subs_changed(rpc_t *rpc, rpc_conn_t *c, bool had)
{
    bool has = c->n_subs > 0;
    if (had && !has) rpc->n_sub_clients--;
    if (!had && has) rpc->n_sub_clients++;
    double total = 0;
    for (rpc_conn_t *k = rpc->conns; k; k = k->next) total += (double)k->n_subs;
    METRIC_UPDATE(metrics_gauge_set(rpc->m_subs, NULL, total));
}

static void subscribe_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    rpc_t *rpc = ctx;
    rpc_conn_t *c = call->req->conn;
    const char *text = json_string_value(json_object_get(params, "query"));
    char err[ERRDATA_MAX];
    rpc_sub_t *s = calloc(1, sizeof *s);
    if (!s) return rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "out of memory");
    if (rpc_query_parse(&s->q, text, err, sizeof err) != CAIRN_OK) {
        free(s);
        return rpc_call_error(call, RPC_INVALID_PARAMS, NULL, err);
    }
    rpc_query_string(&s->q, s->canon, sizeof s->canon);
    const char *refuse = NULL;
    for (rpc_sub_t *k = c->subs; k; k = k->next)
        if (strcmp(k->canon, s->canon) == 0) refuse = "already subscribed";
    if (!refuse && c->n_subs >= rpc->cfg.subscriptions_per_client_max)
        refuse = "max_subscriptions_per_client reached";
    if (!refuse && c->n_subs == 0 && rpc->n_sub_clients >= rpc->cfg.subscription_clients_max)
        refuse = "max_subscription_clients reached";
    if (refuse) {
        free(s);
        return rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, refuse);
    }
    s->text = strdup(text);
    s->id = call->id ? json_incref(call->id) : json_integer(0);
    if (!s->text || !s->id) {
        sub_free(s);
        return rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "out of memory");
    }
    bool had = c->n_subs > 0;
    s->next = c->subs;
    c->subs = s;
    c->n_subs++;
    subs_changed(rpc, c, had);
    rpc_call_reply(call, json_object());
}

static void unsubscribe_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    rpc_t *rpc = ctx;
    rpc_conn_t *c = call->req->conn;
    rpc_query_t q;
    char err[ERRDATA_MAX], canon[RPC_QUERY_BYTES_MAX * 2];
    if (rpc_query_parse(&q, json_string_value(json_object_get(params, "query")), err,
                        sizeof err) != CAIRN_OK)
        return rpc_call_error(call, RPC_INVALID_PARAMS, NULL, err);
    rpc_query_string(&q, canon, sizeof canon);
    for (rpc_sub_t **pp = &c->subs; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->canon, canon) != 0) continue;
        rpc_sub_t *s = *pp;
        *pp = s->next;
        sub_free(s);
        c->n_subs--;
        subs_changed(rpc, c, true);
        return rpc_call_reply(call, json_object());
    }
    rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "subscription not found");
}

static void subs_clear(rpc_t *rpc, rpc_conn_t *c)
{
    bool had = c->n_subs > 0;
    while (c->subs) {
        rpc_sub_t *s = c->subs;
        c->subs = s->next;
        sub_free(s);
    }
    c->n_subs = 0;
    subs_changed(rpc, c, had);
}

static void unsubscribe_all_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)params;
    rpc_conn_t *c = call->req->conn;
    if (c->n_subs == 0) return rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "subscription not found");
    subs_clear(ctx, c);
    rpc_call_reply(call, json_object());
}

static void health_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)ctx;
    (void)params;
    rpc_call_reply(call, json_object());
}

cairn_err rpc_publish(rpc_t *rpc, const char *event_type, const json_t *data,
                      const rpc_attr *attrs, size_t n_attrs, size_t *delivered)
{
    size_t count = 0;
    if (delivered) *delivered = 0;
    char type[96];
    snprintf(type, sizeof type, "tendermint/event/%s", event_type);
    json_t *events = json_pack("{s:[s]}", "tm.event", event_type);
    for (size_t i = 0; events && i < n_attrs; i++) {
        if (!attrs[i].key || !attrs[i].value) continue;
        json_t *arr = json_object_get(events, attrs[i].key);
        if (!arr) {
            arr = json_array();
            if (json_object_set_new(events, attrs[i].key, arr) != 0) arr = NULL;
        }
        if (!arr || json_array_append_new(arr, json_string(attrs[i].value)) != 0) {
            json_decref(events);
            events = NULL;
        }
    }
    json_t *dat = json_pack("{s:s,s:O}", "type", type, "value", data ? data : json_null());
    cairn_err rc = events && dat ? CAIRN_OK : CAIRN_ENOMEM;
    for (rpc_conn_t *c = rpc->conns; rc == CAIRN_OK && c; c = c->next) {
        for (rpc_sub_t *s = c->subs; s && !c->dropping; s = s->next) {
            if (!rpc_query_match(&s->q, event_type, attrs, n_attrs)) continue;
            json_t *msg = json_pack("{s:s,s:O,s:{s:s,s:O,s:O}}", "jsonrpc", "2.0", "id", s->id,
                                    "result", "query", s->text, "data", dat, "events", events);
            size_t len;
            char *text = dump(msg, &len);
            json_decref(msg);
            if (!text) {
                rc = CAIRN_ENOMEM;
                break;
            }
            if (rpc_conn_ws_send(c, text, len)) count++;
            free(text);
        }
    }
    json_decref(events);
    json_decref(dat);
    if (delivered) *delivered = count;
    return rc;
}

void rpc_conn_detach(rpc_conn_t *c)
{
    for (rpc_req_t *r = c->reqs; r; r = r->next) {
        r->orphan = true;
        r->conn = NULL;
    }
    c->reqs = NULL;
    subs_clear(c->rpc, c);
}

/* ---------------------------------------------------------------- lifecycle */

static cairn_err parse_listen(rpc_t *rpc, const char *addr)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof rpc->listen_host)
        return CAIRN_EBAD_CONFIG;
    memcpy(rpc->listen_host, addr, (size_t)(colon - addr));
    rpc->listen_host[colon - addr] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535) return CAIRN_EBAD_CONFIG;
    rpc->listen_port = (int)port;
    return CAIRN_OK;
}

cairn_err rpc_new(uv_loop_t *loop, const rpc_config *cfg, rpc_t **out)
{
    static const rpc_param q[] = {{"query", RPC_PARAM_STRING, true}};
    *out = NULL;
    rpc_t *rpc = calloc(1, sizeof *rpc);
    if (!rpc) return CAIRN_ENOMEM;
    rpc->loop = loop;
    if (cfg) rpc->cfg = *cfg;
    else rpc_config_default(&rpc->cfg);
    if (!rpc->cfg.listen_addr) rpc->cfg.listen_addr = "127.0.0.1:26657";
    cairn_err rc = CAIRN_OK;
    if (rpc->cfg.body_bytes_max == 0 || rpc->cfg.batch_max == 0 || rpc->cfg.connections_max == 0 ||
        rpc->cfg.batch_response_bytes_max == 0 ||
        rpc->cfg.ws_queue_msgs_max == 0 || rpc->cfg.ws_queue_bytes_max == 0) {
        rc = CAIRN_EBAD_CONFIG;
        goto out;
    }
    rpc->metrics = rpc->cfg.metrics;
    if (!rpc->metrics) {
        if ((rc = metrics_new(&rpc->metrics)) != CAIRN_OK) goto out;
        rpc->owns_metrics = true;
    }
    if ((rc = metrics_setup(rpc)) != CAIRN_OK) goto out;
    if ((rc = method_add(rpc, "health", NULL, 0, health_cb, rpc, false)) != CAIRN_OK ||
        (rc = method_add(rpc, "subscribe", q, 1, subscribe_cb, rpc, true)) != CAIRN_OK ||
        (rc = method_add(rpc, "unsubscribe", q, 1, unsubscribe_cb, rpc, true)) != CAIRN_OK ||
        (rc = method_add(rpc, "unsubscribe_all", NULL, 0, unsubscribe_all_cb, rpc, true)) != CAIRN_OK)
        goto out;
    if (rpc->cfg.listen_addr[0]) {
        if ((rc = parse_listen(rpc, rpc->cfg.listen_addr)) != CAIRN_OK) goto out;
        if ((rc = rpc_server_start(rpc)) != CAIRN_OK) goto out;
    }
    rpc->cfg.listen_addr = NULL; /* not kept: the caller's string */
    *out = rpc;
out:
    if (rc != CAIRN_OK) {
        if (rpc->owns_metrics) metrics_free(rpc->metrics);
        free(rpc);
    }
    return rc;
}

void rpc_free(rpc_t *rpc)
{
    if (!rpc) return;
    rpc->freeing = true;
    while (rpc->pending) {
        rpc_call_t *call = rpc->pending;
        rpc_cancel_cb cb = call->cancel_cb;
        void *ctx = call->cancel_ctx;
        rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "server shutting down");
        if (cb) cb(ctx, call);
    }
    rpc_server_stop(rpc);
    if (rpc->owns_metrics) metrics_free(rpc->metrics);
    free(rpc);
}

int rpc_port(const rpc_t *rpc) { return rpc->bound_port; }

metrics_t *rpc_metrics(rpc_t *rpc) { return rpc->metrics; }

bool rpc_has_subscribers(const rpc_t *rpc) { return rpc->n_sub_clients > 0; }
