/* node.h - a cairn node: the shell around the pure cores (DESIGN.md section 2).
 *
 * node_open() loads HOME/config (config.ini, genesis.json, node and validator
 * keys), opens the store, the application state, the signer and the consensus
 * WAL; node_run() serves peers and clients on one libuv loop until SIGINT or
 * SIGTERM, then closes everything cleanly. docs/operations.md describes the home
 * folder; docs/architecture.md the loop.
 *
 * Threads: node_open/node_run/node_close from one thread; the loop runs inside
 * node_run on that thread, and owns all node state.
 */
#ifndef CAIRN_NODE_NODE_H
#define CAIRN_NODE_NODE_H

#include "base/error.h"

#define NODE_ERR_MAX 512

typedef struct node node_t;

/* On error errbuf (NODE_ERR_MAX bytes) says what is wrong, in one line. */
cairn_err node_open(const char *home, node_t **out, char *errbuf) CAIRN_MUST_CHECK;
/* Runs until a stop signal; CAIRN_OK on a clean stop. */
cairn_err node_run(node_t *n) CAIRN_MUST_CHECK;
void node_close(node_t *n);

#endif
