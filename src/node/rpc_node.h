/* rpc_node.h - the node's client interface: the JSON-RPC server of src/rpc wired
 * to the node's store, application, mempool, p2p and consensus, with every
 * CometBFT v0.38 endpoint (docs/rpc.md), events for WebSocket subscribers and
 * the node's Prometheus metrics.
 *
 * Invariants:
 *  1. Handlers only read node state, except the broadcast_tx_* methods, which
 *     admit transactions exactly as a peer's transaction is admitted.
 *  2. Every broadcast_tx_commit call waiting for a block is answered once: when
 *     a committed block holds its tx, on timeout, or when the server closes.
 *  3. node_rpc_close() is idempotent; after it no handler runs.
 *  4. Heavy reads (docs/rpc.md s.3) never run on the loop: their handlers check
 *     params and copy node state on the loop, read the store on libuv's thread
 *     pool (at most 2 at once, 128 waiting, else "server busy, retry later")
 *     and answer back on the loop.
 *
 * Threads: every function here on the node's loop thread; the heavy reads'
 * work runs on the thread pool, touching only its own job and the store, which
 * the node closes only after the loop has run every job's completion.
 */
#ifndef CAIRN_NODE_RPC_NODE_H
#define CAIRN_NODE_RPC_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "base/bytes.h"
#include "base/error.h"
#include "chain/chain.h"

struct node;

/* Creates the server from cfg.rpc, registers the methods and metrics, starts
 * the 1 s metrics timer. On error errbuf (NODE_ERR_MAX) says why. */
cairn_err node_rpc_open(struct node *n, char *errbuf) CAIRN_MUST_CHECK;
/* Frees the server (pending calls are cancelled) and closes the timer; the
 * loop must run afterwards so libuv handles close. NULL-safe, idempotent. */
void node_rpc_close(struct node *n);
/* After block b (id) was saved: publishes NewBlock, NewBlockHeader and one Tx
 * event per tx, answers broadcast_tx_commit calls waiting for these txs and
 * updates block metrics. results[i] is tx i's stored result record
 * (result_record_encode). */
void node_rpc_block_committed(struct node *n, const block_t *b, const uint8_t id[static HASH_BYTES],
                              const bytes_view *results, uint32_t n_results);

/* ---- tx_search's query language (docs/rpc.md s.5), public for tests and fuzzing.
 * Conditions "key OP value" joined by AND; OP is =, <, <=, >, >= or CONTAINS;
 * value is a 'quoted string' (no quote inside) or a decimal int64. Keys:
 * tx.hash, tx.height, tm.event and application attributes "type.key". */
#define NODE_RPC_SEARCH_CONDS_MAX 8
#define NODE_RPC_SEARCH_TEXT_MAX 1024
#define NODE_RPC_SEARCH_KEY_MAX 63
#define NODE_RPC_SEARCH_VALUE_MAX 511

typedef enum {
    SEARCH_EQ, SEARCH_LT, SEARCH_LE, SEARCH_GT, SEARCH_GE, SEARCH_CONTAINS
} node_rpc_search_op;

typedef struct {
    char key[NODE_RPC_SEARCH_KEY_MAX + 1];
    node_rpc_search_op op;
    bool is_num;   /* compared as integers: unquoted value, or an ordering op */
    int64_t num;   /* when is_num */
    char str[NODE_RPC_SEARCH_VALUE_MAX + 1]; /* the value's text */
} node_rpc_search_cond;

typedef struct {
    uint32_t n; /* 1..NODE_RPC_SEARCH_CONDS_MAX after a successful parse */
    node_rpc_search_cond c[NODE_RPC_SEARCH_CONDS_MAX];
} node_rpc_search_t;

/* Parses NUL-terminated text. false: err (errlen bytes) says what and where. */
bool node_rpc_search_parse(node_rpc_search_t *q, const char *text, char *err, size_t errlen);
/* Canonical text ("k=5 AND t.k='v'"), truncated to cap; parses back to q. */
void node_rpc_search_format(const node_rpc_search_t *q, char *out, size_t cap);
/* Whether a committed tx (its hash, height and result) satisfies every condition. */
bool node_rpc_search_match(const node_rpc_search_t *q, const uint8_t hash[static HASH_BYTES],
                           uint64_t height, const app_result_t *res);
/* Narrows [*lo, *hi] to the heights the conditions on `key` ("tx.height",
 * "block.height") allow (may leave *lo > *hi: nothing to read). */
void node_rpc_search_heights(const node_rpc_search_t *q, const char *key, uint64_t *lo,
                             uint64_t *hi);

#endif
