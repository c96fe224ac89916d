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
 *
 * Threads: everything on the node's loop thread.
 */
#ifndef CAIRN_NODE_RPC_NODE_H
#define CAIRN_NODE_RPC_NODE_H

#include <stdint.h>

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

#endif
