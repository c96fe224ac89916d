/* server.c - libwebsockets glue: one lws protocol serves HTTP (POST "/" JSON-RPC,
 * GET URI form, GET "/", GET /metrics) and the WebSocket at /websocket, all on
 * the node's libuv loop (LWS_SERVER_OPTION_LIBUV with foreign_loops).
 *
 * Each lws connection carries a pss_t whose conn (rpc_conn_t) is created when
 * lws binds our protocol and destroyed on close; after rpc_free() starts,
 * connections are destroyed by us first, so late lws callbacks find no conn
 * and touch nothing. HTTP connections run one request at a time (keep-alive);
 * requests a client pipelines behind one still being answered wait unread in
 * the socket (see pause_reads). WebSocket messages are answered in order
 * through a bounded per-client queue.
 */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "rpc/rpc_int.h"

#define HTTP_CHUNK 16384
#define URI_ARGS_MAX 16
#define URI_ARG_BYTES 4096

typedef struct {
    rpc_conn_t *conn;
} pss_t;

/* Per-connection request body (HTTP POST or WebSocket message). */
typedef struct {
    rpc_conn_t base;
    buf_t body;
    bool too_big;
    bool body_done;  /* the body was handed over: lws may report it again */
    bool rx_paused;  /* reads stopped until the answer is ready */
    bool closing;    /* answered out of turn; lws closes once it is sent */
    bool body_started;
    pss_t *pss;
} conn_ext_t;

static conn_ext_t *ext(rpc_conn_t *c) { return (conn_ext_t *)c; }

static void update_conn_gauge(rpc_t *rpc)
{
    METRIC_UPDATE(metrics_gauge_set(rpc->m_conns, NULL, rpc->n_sockets));
}

static rpc_conn_t *conn_new(rpc_t *rpc, struct lws *wsi, pss_t *pss)
{
    conn_ext_t *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    rpc_conn_t *c = &e->base;
    c->rpc = rpc;
    c->kind = CONN_HTTP;
    c->wsi = wsi;
    c->id = ++rpc->conns_seen;
    e->pss = pss;
    buf_init(&e->body, rpc->cfg.body_bytes_max);
    c->next = rpc->conns;
    if (rpc->conns) rpc->conns->prev = c;
    rpc->conns = c;
    rpc->n_conns++;
    return c;
}

static void queue_clear(rpc_conn_t *c)
{
    while (c->q_head) {
        wsmsg_t *m = c->q_head;
        c->q_head = m->next;
        free(m->buf);
        free(m);
    }
    c->q_tail = NULL;
    c->q_n = c->q_bytes = 0;
}

static void conn_destroy(rpc_conn_t *c)
{
    rpc_t *rpc = c->rpc;
    rpc_conn_detach(c);
    queue_clear(c);
    if (c->prev) c->prev->next = c->next;
    else rpc->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    rpc->n_conns--;
    ext(c)->pss->conn = NULL;
    buf_deinit(&ext(c)->body);
    free(c->out);
    free(c);
}

/* ---------------------------------------------------------------- HTTP */

/* HTTP/1.1 pipelining: a client may send its next requests before it has read
 * the answer to the current one. libwebsockets 4.1 keeps the bytes it read
 * past the current request in a per-connection buffer and handles two cases
 * badly (tests/integration/test_rpc_pipeline.py has both):
 *  - while the answer to a POST is outstanding (broadcast_tx_commit waits for
 *    its block), lws re-offers that buffer on every turn of the event loop,
 *    reports the finished body again and consumes nothing: the loop spins;
 *  - when a POST is itself taken from that buffer and more bytes follow it,
 *    lws loops on the buffer inside one call, reporting the finished body
 *    forever: the node freezes.
 * So reads are paused while an answer is deferred (lws then leaves the buffer
 * alone) and resumed when the answer is ready; lws 4.1 does not service
 * writes on a connection whose reads are paused, so reads resume before the
 * write is asked for. A finished body reported a second time, or a request
 * reported while the previous answer is unsent, means lws is in one of those
 * traps: the answer we have is written there and then, with "Connection:
 * close", and lws closes the connection once it is sent. Requests pipelined
 * behind it go unanswered; RFC 9112 section 9.3.2 has clients retry them. */
static void pause_reads(rpc_conn_t *c)
{
    if (ext(c)->rx_paused || !c->wsi || c->http_status) return;
    ext(c)->rx_paused = true;
    lws_rx_flow_control(c->wsi, 0);
}

static void resume_reads(struct lws *wsi, rpc_conn_t *c)
{
    if (!ext(c)->rx_paused) return;
    ext(c)->rx_paused = false;
    lws_rx_flow_control(wsi, 1);
}

static int add_headers(struct lws *wsi, rpc_conn_t *c, unsigned char *start,
                       unsigned char **p, unsigned char *end)
{
    if (lws_add_http_common_headers(wsi, (unsigned)c->http_status, c->content_type,
                                    c->out_len, p, end) ||
        (c->close_after &&
         lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                      (const unsigned char *)"close", 5, p, end)) ||
        lws_finalize_write_http_header(wsi, start, p, end))
        return -1;
    c->headers_sent = true;
    return 0;
}

/* Called from lws's read path: writes what is left of the answer (lws keeps
 * what the socket does not take and sends it before closing) and returns -1,
 * which makes lws close the connection. */
static int answer_now_and_close(struct lws *wsi, rpc_conn_t *c)
{
    unsigned char buf[LWS_PRE + HTTP_CHUNK];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (ext(c)->closing) return -1;
    ext(c)->closing = true;
    METRIC_UPDATE(metrics_counter_add(c->rpc->m_pipelined, NULL, 1));
    if (!c->http_status) return -1; /* a deferred answer is not ready: the client
                                       sees the connection close */
    c->close_after = true;
    if (!c->headers_sent && add_headers(wsi, c, start, &p, end)) return -1;
    while (c->out_off < c->out_len) {
        size_t n = c->out_len - c->out_off;
        if (n > HTTP_CHUNK) n = HTTP_CHUNK;
        memcpy(start, c->out + c->out_off, n);
        c->out_off += n;
        bool last = c->out_off == c->out_len;
        if (lws_write(wsi, start, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < 0)
            return -1;
    }
    return -1;
}

void rpc_conn_http_respond(rpc_conn_t *c, int status, const char *ctype, char *text,
                           size_t len)
{
    free(c->out);
    c->out = text;
    c->out_len = text ? len : 0;
    c->out_off = 0;
    c->http_status = status;
    c->content_type = ctype;
    c->headers_sent = false;
    if (!c->wsi) return;
    resume_reads(c->wsi, c); /* first: lws does not write while reads are paused */
    lws_callback_on_writable(c->wsi);
}

static void respond_error(rpc_conn_t *c, int status, int code, const char *data, bool close)
{
    size_t len;
    char *t = rpc_error_text(code, data, &len);
    c->close_after = close;
    rpc_conn_http_respond(c, status, "application/json", t, len);
}

/* Returns -1 to close the connection, 0 to go on. */
static int http_write(struct lws *wsi, rpc_conn_t *c)
{
    unsigned char buf[LWS_PRE + HTTP_CHUNK];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (ext(c)->closing) return -1;
    if (!c->out && c->out_len == 0 && !c->http_status) return 0; /* nothing yet */
    if (!c->headers_sent) {
        if (add_headers(wsi, c, start, &p, end)) return -1;
        if (c->out_len) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else {
        size_t n = c->out_len - c->out_off;
        if (n > HTTP_CHUNK) n = HTTP_CHUNK;
        memcpy(start, c->out + c->out_off, n);
        c->out_off += n;
        bool last = c->out_off == c->out_len;
        if (lws_write(wsi, start, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return -1;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    /* response complete */
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    c->http_status = 0;
    c->busy = false;
    buf_reset(&ext(c)->body);
    ext(c)->too_big = false;
    ext(c)->body_done = false;
    if (c->close_after) return -1;
    resume_reads(wsi, c);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void routes_page(rpc_conn_t *c)
{
    rpc_t *rpc = c->rpc;
    buf_t b;
    buf_init(&b, 1 << 20);
    cairn_err rc = buf_append(&b, "<html><body><br>Available endpoints:<br>", 40);
    for (size_t i = 0; rc == CAIRN_OK && i < rpc->n_methods; i++) {
        const rpc_method_t *m = &rpc->methods[i];
        if (m->ws_only) continue;
        char line[512];
        int n = snprintf(line, sizeof line, "<a href=\"/%s\">/%s", m->name, m->name);
        for (size_t k = 0; k < m->n_params && n > 0 && (size_t)n < sizeof line; k++)
            n += snprintf(line + n, sizeof line - (size_t)n, "%s%s=_%s", k ? "&amp;" : "?",
                          m->params[k].name, m->params[k].name);
        if (n > 0 && (size_t)n < sizeof line)
            n += snprintf(line + n, sizeof line - (size_t)n, "</a><br>");
        if (n > 0 && (size_t)n < sizeof line) rc = buf_append(&b, line, (size_t)n);
    }
    if (rc == CAIRN_OK) rc = buf_append(&b, "<a href=\"/metrics\">/metrics</a><br></body></html>", 48);
    if (rc != CAIRN_OK) {
        buf_deinit(&b);
        return respond_error(c, 500, RPC_INTERNAL_ERROR, "out of memory", false);
    }
    size_t len;
    char *t = (char *)buf_steal(&b, &len);
    rpc_conn_http_respond(c, 200, "text/html", t, len);
}

static void metrics_page(rpc_conn_t *c)
{
    buf_t b;
    buf_init(&b, 16 << 20);
    if (metrics_render(c->rpc->metrics, &b) != CAIRN_OK) {
        buf_deinit(&b);
        return respond_error(c, 500, RPC_INTERNAL_ERROR, "rendering metrics failed", false);
    }
    size_t len;
    char *t = (char *)buf_steal(&b, &len);
    rpc_conn_http_respond(c, 200, "text/plain; version=0.0.4", t, len);
}

/* GET /<method>?a=b&c=d */
static void uri_call(struct lws *wsi, rpc_conn_t *c, const char *path)
{
    const char *method = path + 1;
    json_t *args = json_object();
    char *frag = malloc(URI_ARG_BYTES);
    if (!args || !frag) goto oom;
    for (int i = 0; i < URI_ARGS_MAX; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, URI_ARG_BYTES, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n <= 0) break;
        char *eq = strchr(frag, '=');
        const char *val = eq ? eq + 1 : "";
        if (eq) *eq = 0;
        json_t *v = json_stringn_nocheck(val, strlen(val));
        if (!v || json_object_set_new_nocheck(args, frag, v) != 0) goto oom;
    }
    free(frag);
    /* keys and values were not UTF-8 checked: params.c re-creates checked strings */
    if (rpc_uri_process(c->rpc, c, method, args) != CAIRN_OK) {
        json_decref(args);
        return respond_error(c, 500, RPC_INTERNAL_ERROR, "out of memory", false);
    }
    json_decref(args);
    return;
oom:
    free(frag);
    json_decref(args);
    respond_error(c, 500, RPC_INTERNAL_ERROR, "out of memory", false);
}

static int on_http(struct lws *wsi, rpc_conn_t *c, const char *path)
{
    rpc_t *rpc = c->rpc;
    if (c->busy) return answer_now_and_close(wsi, c); /* see pause_reads */
    c->busy = true;
    c->close_after = false;
    buf_reset(&ext(c)->body);
    ext(c)->too_big = false;
    ext(c)->body_done = false;
    ext(c)->body_started = false;
    if (rpc->cfg.metrics_only) {
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0 && strcmp(path, "/metrics") == 0)
            metrics_page(c);
        else respond_error(c, 404, RPC_METHOD_NOT_FOUND,
                           "this listener serves GET /metrics only", false);
        return 0;
    }
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0) {
        if (strcmp(path, "/") != 0) {
            respond_error(c, 404, RPC_METHOD_NOT_FOUND,
                          "JSON-RPC requests are POSTed to \"/\"", false);
            return 0;
        }
        char cl[32];
        if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
            /* libwebsockets 4.1 cannot read chunked request bodies */
            respond_error(c, 411, RPC_INVALID_REQUEST,
                          "a POST needs a Content-Length header (chunked request bodies "
                          "are not supported)", true);
            return 0;
        }
        if (strtoull(cl, NULL, 10) > rpc->cfg.body_bytes_max)
            ext(c)->too_big = true; /* the body is read and discarded, then answered:
                                       closing with unread bytes would reset the
                                       connection before the client sees the error */
        return 0; /* the body follows */
    }
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
        respond_error(c, 405, RPC_INVALID_REQUEST, "only GET and POST are served", true);
        return 0;
    }
    if (strcmp(path, "/") == 0) routes_page(c);
    else if (strcmp(path, "/metrics") == 0) metrics_page(c);
    else if (strchr(path + 1, '/') == NULL) uri_call(wsi, c, path);
    else respond_error(c, 404, RPC_METHOD_NOT_FOUND, "no such path", false);
    pause_reads(c); /* if the answer is deferred */
    return 0;
}

/* A POST that lws parsed out of its pipeline buffer gets the wrong body: lws
 * 4.1 hands over that buffer from its start, the request's own request line
 * ("POST / HTTP/1.1..."), which no JSON body can begin with. The real body is
 * lost, so the connection is closed without an answer (see pause_reads). */
static bool is_request_line(const void *in, size_t len)
{
    static const char *const methods[] = {"POST ", "GET ", "PUT ", "HEAD ", "DELETE ",
                                          "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        size_t n = strlen(methods[i]);
        if (len >= n && memcmp(in, methods[i], n) == 0) return true;
    }
    return false;
}

static int on_body(struct lws *wsi, rpc_conn_t *c, const void *in, size_t len)
{
    conn_ext_t *e = ext(c);
    if (!e->body_started) {
        e->body_started = true;
        if (is_request_line(in, len)) return answer_now_and_close(wsi, c);
    }
    if (c->http_status || e->too_big) return 0; /* already answered, discard */
    if (buf_append(&e->body, in, len) != CAIRN_OK) {
        e->too_big = true;
        buf_reset(&e->body);
    }
    return 0;
}

static int on_body_done(struct lws *wsi, rpc_conn_t *c)
{
    conn_ext_t *e = ext(c);
    if (e->body_done) return answer_now_and_close(wsi, c); /* see pause_reads */
    e->body_done = true;
    if (c->http_status) return 0; /* answered at the headers (oversize) */
    if (e->too_big) {
        char data[160];
        snprintf(data, sizeof data, "request body exceeds the limit of %zu bytes",
                 c->rpc->cfg.body_bytes_max);
        respond_error(c, 413, RPC_INVALID_REQUEST, data, false);
        return 0;
    }
    if (rpc_body_process(c->rpc, c, e->body.data, e->body.len, NULL, NULL) != CAIRN_OK)
        respond_error(c, 500, RPC_INTERNAL_ERROR, "out of memory", false);
    pause_reads(c); /* if the answer is deferred */
    return 0;
}

/* ---------------------------------------------------------------- WebSocket */

static void ws_drop(rpc_conn_t *c, const char *why)
{
    if (c->dropping) return;
    log_warn("rpc: dropping WebSocket client: %s", why);
    c->dropping = true;
    METRIC_UPDATE(metrics_counter_add(c->rpc->m_dropped, NULL, 1));
    queue_clear(c);
    if (c->wsi) lws_callback_on_writable(c->wsi);
}

bool rpc_conn_ws_send(rpc_conn_t *c, const char *text, size_t len)
{
    rpc_t *rpc = c->rpc;
    if (c->dropping || !c->wsi) return false;
    if (c->q_n >= rpc->cfg.ws_queue_msgs_max || len > rpc->cfg.ws_queue_bytes_max ||
        c->q_bytes > rpc->cfg.ws_queue_bytes_max - len) {
        ws_drop(c, "write queue full (slow client)");
        return false;
    }
    wsmsg_t *m = calloc(1, sizeof *m);
    unsigned char *b = malloc(LWS_PRE + len);
    if (!m || !b) {
        free(m);
        free(b);
        ws_drop(c, "out of memory");
        return false;
    }
    memcpy(b + LWS_PRE, text, len);
    m->buf = b;
    m->len = len;
    if (c->q_tail) c->q_tail->next = m;
    else c->q_head = m;
    c->q_tail = m;
    c->q_n++;
    c->q_bytes += len;
    lws_callback_on_writable(c->wsi);
    return true;
}

static int ws_write(struct lws *wsi, rpc_conn_t *c)
{
    if (c->dropping) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                         (unsigned char *)"write queue full", 16);
        return -1;
    }
    wsmsg_t *m = c->q_head;
    if (!m) return 0;
    c->q_head = m->next;
    if (!c->q_head) c->q_tail = NULL;
    c->q_n--;
    c->q_bytes -= m->len;
    int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
    bool ok = n >= 0 && (size_t)n == m->len;
    free(m->buf);
    free(m);
    if (!ok) return -1;
    if (c->q_head) lws_callback_on_writable(wsi);
    return 0;
}

static void ws_receive(struct lws *wsi, rpc_conn_t *c, const void *in, size_t len)
{
    conn_ext_t *e = ext(c);
    if (!e->too_big && buf_append(&e->body, in, len) != CAIRN_OK) {
        e->too_big = true;
        buf_reset(&e->body);
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return;
    if (e->too_big) {
        char data[160];
        snprintf(data, sizeof data, "message exceeds the limit of %zu bytes",
                 c->rpc->cfg.body_bytes_max);
        size_t n;
        char *t = rpc_error_text(RPC_INVALID_REQUEST, data, &n);
        if (t) (void)rpc_conn_ws_send(c, t, n);
        free(t);
    } else if (rpc_body_process(c->rpc, c, e->body.data, e->body.len, NULL, NULL) != CAIRN_OK) {
        ws_drop(c, "out of memory");
    }
    /* c may have been dropped but it is still allocated until lws closes it */
    buf_reset(&e->body);
    e->too_big = false;
}

/* ---------------------------------------------------------------- callback */

struct rpc_reaper;
static rpc_t *reaper_rpc(const struct rpc_reaper *r);

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    pss_t *pss = user;
    rpc_conn_t *c = pss ? pss->conn : NULL;
    struct lws_context *ctx = lws_get_context(wsi);
    /* the context's user is the reaper, which outlives rpc_t: after rpc_free()
     * started, reaper->rpc is NULL and late callbacks touch nothing of ours */
    struct rpc_reaper *reaper = ctx ? lws_context_user(ctx) : NULL;
    rpc_t *rpc = reaper_rpc(reaper);
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        if (!rpc) return 1;
        if (rpc->n_sockets >= rpc->cfg.connections_max) {
            METRIC_UPDATE(metrics_counter_add(rpc->m_rejected, NULL, 1));
            return 1;
        }
        return 0;
    case LWS_CALLBACK_WSI_CREATE:
        /* lws sends this for each accepted socket, before it sends a byte, so
         * idle sockets count too. The listener and lws's internal wsis are
         * created before rpc is attached and destroyed after it is detached,
         * so only accepted sockets are counted here (checked by the tests). */
        if (rpc) {
            rpc->n_sockets++;
            update_conn_gauge(rpc);
        }
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        if (rpc && rpc->n_sockets > 0) {
            rpc->n_sockets--;
            update_conn_gauge(rpc);
        }
        return 0;
    case LWS_CALLBACK_HTTP_BIND_PROTOCOL:
        if (!pss || c || !rpc) return 0;
        if (!(pss->conn = conn_new(rpc, wsi, pss))) return -1;
        return 0;
    case LWS_CALLBACK_HTTP:
        if (!c) return -1;
        return on_http(wsi, c, in ? (const char *)in : "/");
    case LWS_CALLBACK_HTTP_BODY:
        return c ? on_body(wsi, c, in, len) : -1;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return c ? on_body_done(wsi, c) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return c ? http_write(wsi, c) : -1;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[32];
        if (!rpc || rpc->cfg.metrics_only ||
            lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
            strcmp(uri, "/websocket") != 0)
            return 1;
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
        if (!c) return -1;
        c->kind = CONN_WS;
        c->busy = false;
        buf_reset(&ext(c)->body);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (c && !c->dropping) ws_receive(wsi, c, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c ? ws_write(wsi, c) : -1;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (c) {
            c->wsi = NULL;
            conn_destroy(c);
        }
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"cairn-rpc", callback, sizeof(pss_t), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_cb(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    if (level & LLL_ERR) log_error("lws: %.*s", (int)n, line);
    else log_warn("lws: %.*s", (int)n, line);
}

/* ---------------------------------------------------------------- teardown
 *
 * libwebsockets 4.1 on a foreign libuv loop frees its context in two steps:
 * lws_context_destroy() starts closing lws's uv handles; a second
 * lws_context_destroy() once every one of them has finished closing frees the
 * context (and sets *pcontext to NULL). Calling it earlier crashes, never
 * calling it leaks. The reaper, a heap object that outlives rpc_t, waits on
 * the loop with an idle handle until none of the handles lws created at
 * start-up is left in the loop and no handle is closing, then makes the
 * second call and closes itself. */

#define REAPER_HANDLES_MAX 16
#define WALK_MAX 4096

typedef struct rpc_reaper {
    uv_idle_t idle;
    rpc_t *rpc;             /* NULL once rpc_free() started */
    struct lws_context *cx; /* lws's pcontext: NULL once lws freed it */
    size_t n_handles;
    uv_handle_t *handles[REAPER_HANDLES_MAX]; /* lws's own handles */
    bool overflow;                            /* could not tell them apart */
    unsigned quiet_iterations;
} reaper_t;

typedef struct {
    uv_handle_t **seen;
    size_t n, max;
    bool overflow;
} walk_t;

static void collect_cb(uv_handle_t *h, void *arg)
{
    walk_t *w = arg;
    if (w->n < w->max) w->seen[w->n++] = h;
    else w->overflow = true;
}

typedef struct {
    const reaper_t *r;
    bool lws_left;
    bool closing;
} scan_t;

static void scan_cb(uv_handle_t *h, void *arg)
{
    scan_t *s = arg;
    if (uv_is_closing(h) && h != (uv_handle_t *)&s->r->idle) s->closing = true;
    for (size_t i = 0; i < s->r->n_handles; i++)
        if (s->r->handles[i] == h) s->lws_left = true;
}

static void reaper_free_cb(uv_handle_t *h) { free(h->data); }

static rpc_t *reaper_rpc(const reaper_t *r) { return r && r->rpc && !r->rpc->freeing ? r->rpc : NULL; }

static void reaper_idle_cb(uv_idle_t *idle)
{
    reaper_t *r = idle->data;
    scan_t s = {r, false, false};
    uv_walk(idle->loop, scan_cb, &s);
    if (s.lws_left || s.closing) {
        r->quiet_iterations = 0;
        return;
    }
    /* without a handle list, wait for two quiet iterations to be safe */
    if (r->overflow && ++r->quiet_iterations < 2) return;
    if (r->cx) lws_context_destroy(r->cx);
    uv_idle_stop(idle);
    uv_close((uv_handle_t *)idle, reaper_free_cb);
}

/* Starts the teardown of the lws context; the reaper finishes it. */
static void lws_teardown(rpc_t *rpc)
{
    reaper_t *r = rpc->reaper;
    rpc->reaper = NULL;
    rpc->lws = NULL;
    if (!r) return;
    r->rpc = NULL;
    if (r->cx) lws_context_destroy(r->cx);
    uv_idle_init(rpc->loop, &r->idle);
    r->idle.data = r;
    uv_idle_start(&r->idle, reaper_idle_cb);
}

/* Records the handles lws added to the loop between two walks. */
static void reaper_note_handles(reaper_t *r, uv_loop_t *loop, const walk_t *before)
{
    walk_t after = {malloc(WALK_MAX * sizeof(uv_handle_t *)), 0, WALK_MAX, false};
    if (!after.seen || before->overflow) {
        r->overflow = true;
        free(after.seen);
        return;
    }
    uv_walk(loop, collect_cb, &after);
    r->overflow = after.overflow;
    for (size_t i = 0; i < after.n; i++) {
        bool old = false;
        for (size_t k = 0; k < before->n && !old; k++) old = before->seen[k] == after.seen[i];
        if (old) continue;
        if (r->n_handles < REAPER_HANDLES_MAX) r->handles[r->n_handles++] = after.seen[i];
        else r->overflow = true;
    }
    free(after.seen);
}

cairn_err rpc_server_start(rpc_t *rpc)
{
    struct lws_context_creation_info info;
    void *loops[1] = {rpc->loop};
    cairn_err rc = CAIRN_OK;
    walk_t before = {malloc(WALK_MAX * sizeof(uv_handle_t *)), 0, WALK_MAX, false};
    reaper_t *r = calloc(1, sizeof *r);
    if (!before.seen || !r) {
        free(before.seen);
        free(r);
        return CAIRN_ENOMEM;
    }
    uv_walk(rpc->loop, collect_cb, &before);
    rpc->reaper = r;
    memset(&info, 0, sizeof info);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_cb);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6 |
                   LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = loops;
    r->rpc = rpc;
    info.user = r;
    info.pcontext = &r->cx;
    r->cx = rpc->lws = lws_create_context(&info);
    if (!rpc->lws) {
        rpc->reaper = NULL;
        free(r);
        rc = CAIRN_EIO;
        goto out;
    }
    info.port = rpc->listen_port;
    info.iface = rpc->listen_host;
    info.protocols = protocols;
    info.vhost_name = "cairn-rpc";
    info.server_string = "cairn";
    info.keepalive_timeout = 60;
    info.timeout_secs = 30;
    rpc->vhost = lws_create_vhost(rpc->lws, &info);
    reaper_note_handles(r, rpc->loop, &before);
    if (!rpc->vhost) {
        log_error("rpc: cannot listen on %s:%d", rpc->listen_host, rpc->listen_port);
        lws_teardown(rpc);
        rc = CAIRN_EIO;
        goto out;
    }
    rpc->bound_port = lws_get_vhost_listen_port(rpc->vhost);
    log_info("rpc: listening on %s:%d", rpc->listen_host, rpc->bound_port);
out:
    free(before.seen);
    return rc;
}

void rpc_server_stop(rpc_t *rpc)
{
    while (rpc->conns) conn_destroy(rpc->conns);
    lws_teardown(rpc);
}
