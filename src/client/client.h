/* client.h - talk to a cairn node over its CometBFT-compatible JSON-RPC
 * (docs/rpc.md), turn the JSON back into cairn's types, and drive the light
 * client (include/cairn/light.h) by fetching what it needs to verify.
 *
 * Invariants:
 *  1. Nothing a node sends is trusted by these functions beyond its shape:
 *     decoders check every field (type, hex/base64 length, ranges) and bound
 *     every array (VALIDATORS_MAX), and say which field is wrong.
 *  2. Every HTTP exchange is bounded: CLIENT_RESPONSE_BYTES_MAX per answer,
 *     a connect timeout and a total timeout.
 *  3. Errors are one sentence in `why`: "cannot reach node at URL: connection
 *     refused", "node error: <message>: <data>", "bad /commit answer: <field>
 *     ...", or a light-client verdict.
 * HTTP goes through libcurl (one easy handle per client_t). Single-threaded
 * per client_t; call client_global_init() once before any thread exists.
 */
#ifndef CAIRN_CLIENT_CLIENT_H
#define CAIRN_CLIENT_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "cairn/light.h"
#include "chain/chain.h"

#define CLIENT_URL_MAX 1024
#define CLIENT_WHY_MAX 512
#define CLIENT_RESPONSE_BYTES_MAX ((size_t)64 << 20)
#define CLIENT_DEFAULT_URL "http://127.0.0.1:26657"

typedef struct client client_t;

cairn_err client_global_init(void) CAIRN_MUST_CHECK;

/* A client for the node at `url` (http://host:port; a trailing '/' is
 * ignored). timeout_ms bounds each call (0: 30 s). Free with client_free(). */
cairn_err client_new(const char *url, unsigned timeout_ms, client_t **out, char *why,
                     size_t why_len) CAIRN_MUST_CHECK;
void client_free(client_t *c);
const char *client_url(const client_t *c);

/* One JSON-RPC 2.0 call (POST to the root URL, named params). params is
 * borrowed (NULL: {}). On success *result is a new reference to the
 * "result" member (json_decref it). Errors: UNREACHABLE (transport),
 * NODE_ERROR (the node answered with an error), BAD_ENCODING (not JSON-RPC). */
cairn_err client_call(client_t *c, const char *method, json_t *params, json_t **result,
                      char *why, size_t why_len) CAIRN_MUST_CHECK;

/* Posts a whole JSON-RPC request (an object or a batch array) and hands back
 * the parsed answer as it is (*response: a new reference, object or array).
 * Only transport and JSON errors are reported; the caller reads each entry. */
cairn_err client_call_raw(client_t *c, json_t *request, json_t **response, char *why,
                          size_t why_len) CAIRN_MUST_CHECK;

/* ------------------------------------------------------------ decoding */

/* Field readers: name is used in messages. */
cairn_err client_json_u64(const json_t *j, const char *name, uint64_t *out, char *why,
                          size_t why_len) CAIRN_MUST_CHECK;
cairn_err client_json_hex(const json_t *j, const char *name, uint8_t *out, size_t n,
                          bool empty_is_zero, char *why, size_t why_len) CAIRN_MUST_CHECK;
/* Base64 string into a new malloc'd buffer (*out NULL for ""). */
cairn_err client_json_b64(const json_t *j, const char *name, size_t max, uint8_t **out,
                          size_t *out_len, char *why, size_t why_len) CAIRN_MUST_CHECK;

/* A "header" object. */
cairn_err client_header_from_json(const json_t *j, header_t *h, char *why,
                                  size_t why_len) CAIRN_MUST_CHECK;
/* A "commit" / "last_commit" object; allocates c->sigs (commit_free). c is
 * written only on success. */
cairn_err client_commit_from_json(const json_t *j, commit_t *c, char *why,
                                  size_t why_len) CAIRN_MUST_CHECK;
/* A /commit result: {"signed_header":{"header","commit"},"canonical"}. */
cairn_err client_signed_header_from_json(const json_t *j, header_t *h, commit_t *c,
                                         char *why, size_t why_len) CAIRN_MUST_CHECK;
/* A "validators" array (all of them, in any order): each address must be
 * its pub_key's; vs is built with valset_init (the node's order). */
cairn_err client_valset_from_json(const json_t *arr, valset_t *vs, char *why,
                                  size_t why_len) CAIRN_MUST_CHECK;
/* An /abci_query result. */
cairn_err client_query_from_json(const json_t *j, light_query_t *q, char *why,
                                 size_t why_len) CAIRN_MUST_CHECK;

/* ------------------------------------------------------------ fetching */

/* /status: latest height, and the chain id (network). */
cairn_err client_status_latest(client_t *c, uint64_t *height, chain_id_t *cid, char *why,
                               size_t why_len) CAIRN_MUST_CHECK;
/* /commit at height (decoded, not verified). */
cairn_err client_fetch_signed_header(client_t *c, uint64_t height, header_t *h, commit_t *cm,
                                     char *why, size_t why_len) CAIRN_MUST_CHECK;
/* /validators at height, every page (decoded, not verified). */
cairn_err client_fetch_valset(client_t *c, uint64_t height, valset_t *vs, char *why,
                              size_t why_len) CAIRN_MUST_CHECK;
/* /abci_query (path, data, height, prove); q owned by the caller. */
cairn_err client_fetch_query(client_t *c, const char *path, const uint8_t *data, size_t n,
                             uint64_t height, bool prove, light_query_t *q, char *why,
                             size_t why_len) CAIRN_MUST_CHECK;

/* Moves lc to `target` over RPC from the node of c (light_sync). */
cairn_err client_light_sync(client_t *c, light_t *lc, uint64_t target, uint64_t *headers,
                            char *why, size_t why_len) CAIRN_MUST_CHECK;
/* Starts lc from a trusted height and hash: fetches /commit at it and
 * /validators above it, checks them against the hash. */
cairn_err client_light_init_trusted(client_t *c, light_t *lc, uint64_t height,
                                    const uint8_t hash[static HASH_BYTES], char *why,
                                    size_t why_len) CAIRN_MUST_CHECK;
/* A verified query: runs abci_query with prove at state height `height`
 * (0: the latest height that has a next header), syncs lc to height + 1 and
 * checks the proof. q gets the answer (light_query_free). */
cairn_err client_query_verified(client_t *c, light_t *lc, const char *path,
                                const uint8_t *data, size_t n, uint64_t height,
                                light_query_t *q, char *why, size_t why_len) CAIRN_MUST_CHECK;

#endif
