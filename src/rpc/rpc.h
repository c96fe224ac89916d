/* rpc.h - the client interface (DESIGN.md s.9): JSON-RPC 2.0 over HTTP (POST and
 * URI forms) and WebSocket, with CometBFT v0.38's endpoint names, envelopes and
 * error codes, plus GET /metrics in Prometheus text format. HTTP and WebSocket
 * come from libwebsockets running on the node's libuv loop.
 *
 * The node registers one handler per method. A handler gets its params already
 * checked and normalised against the method's parameter list (so URI-form
 * "?height=5", JSON "5" and JSON 5 all arrive as the integer 5), and completes
 * the call through its rpc_call_t: at once (rpc_call_reply / rpc_call_error)
 * or later after rpc_call_defer (e.g. broadcast_tx_commit waiting for a block).
 *
 * Invariants:
 *  1. Every request with an id gets exactly one response; a request without an
 *     id (a JSON-RPC notification) gets none. A batch gets one array, in order.
 *  2. Bad input (malformed JSON, wrong types, unknown methods, oversize bodies)
 *     is answered with a JSON-RPC error (-32700, -32600, -32601, -32602) whose
 *     `data` says what was wrong; the server goes on serving.
 *  3. Bounded: request body, batch size, open connections, subscriptions per
 *     client, subscribed clients, pending deferred calls, and each WebSocket
 *     client's write queue (a client that falls behind is disconnected).
 *  4. An rpc_call_t is valid from the handler call until it is completed, timed
 *     out (cancel_cb) or the server is freed (cancel_cb). A response for a client
 *     that disconnected meanwhile is dropped.
 *
 * Threads: everything runs on the thread of the uv loop given to rpc_new(); all
 * functions here must be called from that thread.
 */
#ifndef CAIRN_RPC_RPC_H
#define CAIRN_RPC_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/bytes.h"
#include "base/error.h"
#include "rpc/metrics.h"

/* JSON-RPC 2.0 / CometBFT error codes. */
#define RPC_PARSE_ERROR (-32700)
#define RPC_INVALID_REQUEST (-32600)
#define RPC_METHOD_NOT_FOUND (-32601)
#define RPC_INVALID_PARAMS (-32602)
#define RPC_INTERNAL_ERROR (-32603)
#define RPC_SERVER_ERROR (-32000)

#define RPC_METHODS_MAX 64
#define RPC_METHOD_NAME_MAX 48
#define RPC_PARAMS_MAX 8
#define RPC_QUERY_BYTES_MAX 512
#define RPC_QUERY_CONDITIONS_MAX 16

typedef struct {
    /* "host:port" to listen on; NULL: "127.0.0.1:26657"; port 0 picks a free
     * port (rpc_port()); "" means no listener: requests only through
     * rpc_request_process() (tests, fuzzing). */
    const char *listen_addr;
    size_t body_bytes_max;                    /* 1 MiB; also one WebSocket message */
    uint32_t batch_max;                       /* requests in one batch: 100 */
    size_t batch_response_bytes_max;          /* one batch's answer: 8 MiB; a call
                                                 past it is answered with an error */
    uint32_t connections_max;                 /* open HTTP + WebSocket connections: 900 */
    uint32_t subscription_clients_max;        /* WebSocket clients with a subscription: 100 */
    uint32_t subscriptions_per_client_max;    /* 5 */
    uint32_t pending_calls_max;               /* deferred calls at once: 1000 */
    uint32_t timeout_broadcast_tx_commit_ms;  /* default for rpc_call_defer: 10000 */
    uint32_t ws_queue_msgs_max;               /* per client: 100 messages */
    size_t ws_queue_bytes_max;                /* per client: 16 MiB */
    metrics_t *metrics; /* borrowed registry for /metrics; NULL: the server owns one */
    bool metrics_only;  /* serve GET /metrics and nothing else (no JSON-RPC, no
                           WebSocket): the node's [metrics] listen */
} rpc_config;

void rpc_config_default(rpc_config *cfg);

typedef struct rpc rpc_t;
typedef struct rpc_call rpc_call_t;

typedef enum {
    RPC_PARAM_STRING, /* JSON string; URI: "quoted" or bare */
    RPC_PARAM_INT,    /* int64; JSON number or decimal string; URI: 5 or "5" */
    RPC_PARAM_UINT,   /* like INT but >= 0 */
    RPC_PARAM_BOOL,   /* JSON bool; URI: true / false */
    RPC_PARAM_BYTES,  /* JSON base64 string; URI: 0x-hex or "quoted" text */
    RPC_PARAM_HEX,    /* JSON hex string (0x optional); URI: 0x-hex or hex */
} rpc_param_type;

typedef struct {
    const char *name;
    rpc_param_type type;
    bool required;
} rpc_param;

/* The handler sees `params` as an object holding the declared params that were
 * given, normalised: STRING -> string, INT/UINT -> integer, BOOL -> bool,
 * BYTES -> base64 string (canonical), HEX -> upper-case hex string. params is
 * borrowed for the duration of the call only. The handler must complete the
 * call or defer it before returning. */
typedef void (*rpc_handler_cb)(void *ctx, rpc_call_t *call, const json_t *params);
/* A deferred call ended without a reply (timeout or server shutdown); the
 * handler drops its pointer. The call is invalid when this returns. */
typedef void (*rpc_cancel_cb)(void *ctx, rpc_call_t *call);

/* Creates the server; with a listener, binds at once (CAIRN_EIO if the address
 * is taken or invalid, CAIRN_EBAD_CONFIG for a malformed address or a zero
 * limit). Registers the built-in methods health, subscribe, unsubscribe and
 * unsubscribe_all. cfg is copied (cfg->metrics stays borrowed). Like
 * rpc_free(), a failed bind leaves libwebsockets' handles closing on the loop:
 * run the loop before uv_loop_close(). */
cairn_err rpc_new(uv_loop_t *loop, const rpc_config *cfg, rpc_t **out) CAIRN_MUST_CHECK;
/* Cancels pending calls (cancel_cb), closes every connection and the listener,
 * and frees the server. libwebsockets 4.1 on a foreign loop finishes freeing
 * its context only after its libuv handles have closed: a small idle handle
 * stays on the loop until then (a few loop iterations) and closes itself, so
 * run the loop afterwards (uv_run) before uv_loop_close(). NULL is fine. */
void rpc_free(rpc_t *rpc);
/* The bound TCP port, 0 without a listener. */
int rpc_port(const rpc_t *rpc);
/* Whether any WebSocket client of this server has a subscription (so building
 * events is worth it). */
bool rpc_has_subscribers(const rpc_t *rpc);
/* The registry rendered at /metrics: register the node's metrics here. */
metrics_t *rpc_metrics(rpc_t *rpc);

/* Adds or replaces a method. name and params are copied. At most
 * RPC_PARAMS_MAX params, RPC_METHODS_MAX methods (CAIRN_ELIMIT). */
cairn_err rpc_method_register(rpc_t *rpc, const char *name, const rpc_param *params,
                              size_t n_params, rpc_handler_cb cb,
                              void *ctx) CAIRN_MUST_CHECK;

/* Completes a call with a result; steals the reference (NULL: internal error). */
void rpc_call_reply(rpc_call_t *call, json_t *result);
/* Completes a call with its result already serialised: result is the compact
 * JSON text of the result value (json_dumps(v, JSON_COMPACT)), len bytes,
 * owned by the call from now on (free()d); NULL: internal error. The client
 * gets the same bytes as from rpc_call_reply(call, v). Lets a handler render
 * a large result off the loop thread. */
void rpc_call_reply_text(rpc_call_t *call, char *result, size_t len);
/* Completes a call with an error; message and data are copied (data may be NULL). */
void rpc_call_error(rpc_call_t *call, int code, const char *message, const char *data);
/* Leaves the call pending past the handler's return. If it is not completed
 * within timeout_ms (0: cfg.timeout_broadcast_tx_commit_ms) the client gets
 * error -32603 with data timeout_data, then cancel_cb runs. Returns
 * CAIRN_ELIMIT (and completes the call with an error) when
 * pending_calls_max calls are already pending. */
cairn_err rpc_call_defer(rpc_call_t *call, uint32_t timeout_ms, const char *timeout_data,
                         rpc_cancel_cb cancel_cb, void *ctx) CAIRN_MUST_CHECK;
const char *rpc_call_method(const rpc_call_t *call);
/* Who made the call: the id of its connection (HTTP or WebSocket), never reused
 * by the server; 0 for requests given to rpc_request_process(). For fairness
 * between clients; valid while the call is being handled. */
uint64_t rpc_call_client(const rpc_call_t *call);

/* One attribute of a published event, for subscription queries
 * ("tx.hash" = "AB12...", "tx.height" = "5"). */
typedef struct {
    const char *key;
    const char *value;
} rpc_attr;

/* Pushes an event to every matching subscription, as CometBFT does:
 * {"jsonrpc":"2.0","id":<subscribe id>,"result":{"query":Q,
 *  "data":{"type":"tendermint/event/<event_type>","value":data},
 *  "events":{"tm.event":["<event_type>"],"<key>":["<value>"],...}}}
 * event_type: "NewBlock", "NewBlockHeader", "Tx", ... data is borrowed.
 * Returns the number of subscriptions it was queued for in *delivered (may be
 * NULL). Clients whose queue is full are disconnected. */
cairn_err rpc_publish(rpc_t *rpc, const char *event_type, const json_t *data,
                      const rpc_attr *attrs, size_t n_attrs,
                      size_t *delivered) CAIRN_MUST_CHECK;

/* Transport-free entry: processes one HTTP POST body (single request or batch)
 * as the server would, and calls done_cb(ctx, json, len) once with the
 * response text (len 0: nothing to send, all were notifications). done_cb may
 * run before this returns or later (deferred calls). json is valid only during
 * done_cb. Used by tests and the fuzz target. */
typedef void (*rpc_done_cb)(void *ctx, const char *json, size_t len);
cairn_err rpc_request_process(rpc_t *rpc, const uint8_t *body, size_t len,
                              rpc_done_cb done_cb, void *ctx) CAIRN_MUST_CHECK;

#endif
