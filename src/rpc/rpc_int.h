/* rpc_int.h - internals shared by the files of src/rpc only.
 *
 * Object graph (all owned by rpc_t, all on the loop thread):
 *   rpc_t ── methods[]            registered handlers
 *         ── conns (list)         one per HTTP or WebSocket connection
 *               ── reqs (list)    requests of this connection still running
 *               ── subs (list)    WebSocket subscriptions
 *               ── queue          WebSocket messages waiting to be written
 *         ── pending (list)       deferred calls (each with a uv timer)
 * A request (one body or message, maybe a batch) owns its calls' response
 * slots; it finishes when every call completed, then hands the response text
 * to its connection (or done_cb). When a connection closes first, its requests
 * are detached (conn = NULL) and their responses are dropped.
 */
#ifndef CAIRN_RPC_RPC_INT_H
#define CAIRN_RPC_RPC_INT_H

#include "rpc/rpc.h"

/* Metrics updates are best effort: a full registry must not fail a request. */
#define METRIC_UPDATE(expr)                                                        \
    do {                                                                           \
        cairn_err metric_rc_ = (expr);                                             \
        (void)metric_rc_;                                                          \
    } while (0)

struct lws;
struct lws_context;
struct lws_vhost;

/* ------------------------------------------------------------- queries */

typedef enum { QOP_EQ, QOP_LT, QOP_LE, QOP_GT, QOP_GE, QOP_CONTAINS, QOP_EXISTS } qop_t;

typedef struct {
    char key[64];
    qop_t op;
    bool is_number;
    double number;
    char str[RPC_QUERY_BYTES_MAX];
} qcond_t;

typedef struct {
    size_t n;
    qcond_t c[RPC_QUERY_CONDITIONS_MAX];
} rpc_query_t;

/* Parses CometBFT's query language subset: conditions "key OP value" or
 * "key EXISTS" joined by AND; OP is =, <, <=, >, >=, CONTAINS; value is a
 * 'single-quoted string' or a number. On error, err (errlen) says why. */
cairn_err rpc_query_parse(rpc_query_t *q, const char *text, char *err,
                          size_t errlen) CAIRN_MUST_CHECK;
/* Canonical text (for comparing subscriptions): out holds RPC_QUERY_BYTES_MAX*2. */
void rpc_query_string(const rpc_query_t *q, char *out, size_t outlen);
bool rpc_query_match(const rpc_query_t *q, const char *event_type, const rpc_attr *attrs,
                     size_t n_attrs);

/* ------------------------------------------------------------- params */

typedef struct {
    char name[RPC_METHOD_NAME_MAX + 1];
    size_t n_params;
    rpc_param params[RPC_PARAMS_MAX];
    char param_names[RPC_PARAMS_MAX][32];
    rpc_handler_cb cb;
    void *ctx;
    bool ws_only;
} rpc_method_t;

/* Checks and normalises params (object, array, NULL) against m's declared
 * params. uri: values are raw URI strings (CometBFT URI rules). On success
 * *out is a new object; on failure err says which param and why. */
cairn_err rpc_params_normalize(const rpc_method_t *m, const json_t *params, bool uri,
                               json_t **out, char *err, size_t errlen) CAIRN_MUST_CHECK;

/* ------------------------------------------------------------- server */

typedef enum { CONN_HTTP, CONN_WS } conn_kind;

typedef struct wsmsg {
    struct wsmsg *next;
    size_t len;
    unsigned char *buf; /* LWS_PRE headroom + len bytes */
} wsmsg_t;

typedef struct rpc_sub {
    struct rpc_sub *next;
    rpc_query_t q;
    char canon[RPC_QUERY_BYTES_MAX * 2];
    char *text; /* as the client wrote it */
    json_t *id;
} rpc_sub_t;

typedef struct rpc_req rpc_req_t;

typedef struct rpc_conn {
    rpc_t *rpc;
    conn_kind kind;
    struct lws *wsi;
    uint64_t id; /* rpc_call_client(): 1, 2, ... in order of arrival */
    struct rpc_conn *prev, *next;
    rpc_req_t *reqs;
    /* HTTP: the response being written */
    int http_status;
    const char *content_type;
    char *out;
    size_t out_len, out_off;
    bool headers_sent;
    bool close_after;
    bool busy; /* a request is running or being written */
    /* WebSocket */
    wsmsg_t *q_head, *q_tail;
    size_t q_n, q_bytes;
    bool dropping;
    rpc_sub_t *subs;
    size_t n_subs;
} rpc_conn_t;

struct rpc_req {
    rpc_t *rpc;
    rpc_conn_t *conn; /* NULL: detached or connection gone */
    rpc_req_t *prev, *next;
    rpc_done_cb done_cb; /* transport-free requests */
    void *done_ctx;
    bool batch;
    bool orphan; /* connection closed: drop the response */
    size_t n, n_pending;
    json_t **slots; /* response objects (NULL for notifications) */
    /* Responses completed as text (rpc_call_reply_text), allocated on the first
     * one: texts[i] set means slots[i] is NULL and the response is this text. */
    char **texts;
    size_t *text_lens;
    size_t bytes; /* batch: bytes of the answers completed so far */
};

struct rpc_call {
    rpc_t *rpc;
    rpc_req_t *req;
    size_t index;
    json_t *id; /* NULL: notification */
    char method[RPC_METHOD_NAME_MAX + 1];
    bool done;
    bool deferred;
    uint64_t t0_ns;
    uv_timer_t timer;
    rpc_cancel_cb cancel_cb;
    void *cancel_ctx;
    char *timeout_data;
    rpc_call_t *prev, *next;
};

struct rpc {
    uv_loop_t *loop;
    rpc_config cfg;
    char listen_host[64];
    int listen_port;
    struct lws_context *lws;
    struct rpc_reaper *reaper; /* outlives rpc: finishes the lws teardown */
    struct lws_vhost *vhost;
    int bound_port;
    bool freeing;
    size_t n_methods;
    rpc_method_t methods[RPC_METHODS_MAX];
    rpc_conn_t *conns;
    uint64_t conns_seen; /* the last connection's id */
    uint32_t n_sockets; /* accepted sockets not yet destroyed (connections_max) */
    uint32_t n_conns;   /* of those, the ones with a request bound (rpc_conn_t) */
    uint32_t n_sub_clients;
    rpc_call_t *pending;
    uint32_t n_pending;
    metrics_t *metrics;
    bool owns_metrics;
    metric_t *m_requests, *m_duration, *m_conns, *m_subs, *m_dropped, *m_rejected,
        *m_pipelined;
};

const rpc_method_t *rpc_method_find(const rpc_t *rpc, const char *name);
/* Runs one body (POST or WebSocket message) for conn (may be NULL). */
cairn_err rpc_body_process(rpc_t *rpc, rpc_conn_t *conn, const uint8_t *body, size_t len,
                           rpc_done_cb done_cb, void *ctx) CAIRN_MUST_CHECK;
/* Runs a URI-form call: raw_args is an object of raw strings. */
cairn_err rpc_uri_process(rpc_t *rpc, rpc_conn_t *conn, const char *method,
                          json_t *raw_args) CAIRN_MUST_CHECK;
/* Builds an error response text for conn-level failures (oversize body). */
char *rpc_error_text(int code, const char *data, size_t *len);
/* A connection closes: detach its requests, drop its subscriptions. */
void rpc_conn_detach(rpc_conn_t *conn);

/* server.c: transport hooks used by the core. */
cairn_err rpc_server_start(rpc_t *rpc) CAIRN_MUST_CHECK;
void rpc_server_stop(rpc_t *rpc);
/* Response text of a finished request for an HTTP conn (takes text). */
void rpc_conn_http_respond(rpc_conn_t *conn, int status, const char *ctype, char *text,
                           size_t len);
/* Queues a WebSocket message (copies); false if the client was dropped. */
bool rpc_conn_ws_send(rpc_conn_t *conn, const char *text, size_t len);
void rpc_metrics_request(rpc_t *rpc, const char *method, bool ok, uint64_t t0_ns);

#endif
