/* fuzz_tx_search_query: node_rpc_search_parse on arbitrary text (a client's
 * tx_search query). Accepted queries must be bounded, format to text that parses
 * back to the same conditions, and be usable for matching and height narrowing.
 * Seeds: tests/fuzz/corpus/tx_search_query/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/rpc_node.h"

static node_rpc_search_t q, q2;

static bool same(const node_rpc_search_t *a, const node_rpc_search_t *b)
{
    if (a->n != b->n) return false;
    for (uint32_t i = 0; i < a->n; i++) {
        const node_rpc_search_cond *x = &a->c[i], *y = &b->c[i];
        if (strcmp(x->key, y->key) || x->op != y->op || x->is_num != y->is_num) return false;
        if (x->is_num ? x->num != y->num : strcmp(x->str, y->str) != 0) return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    char err[256], out[NODE_RPC_SEARCH_CONDS_MAX * 640];
    bool ok = node_rpc_search_parse(&q, text, err, sizeof err);
    free(text);
    if (!ok) {
        if (!err[0]) abort(); /* a refusal always says why */
        return 0;
    }
    if (q.n < 1 || q.n > NODE_RPC_SEARCH_CONDS_MAX) abort();
    node_rpc_search_format(&q, out, sizeof out);
    if (!node_rpc_search_parse(&q2, out, err, sizeof err) || !same(&q, &q2)) abort();
    app_result_t res;
    memset(&res, 0, sizeof res);
    res.n_events = 1;
    memcpy(res.events[0].type, "transfer", 9);
    res.events[0].n_attrs = 1;
    memcpy(res.events[0].attrs[0].key, "amount", 7);
    memcpy(res.events[0].attrs[0].value, "5", 2);
    uint8_t hash[HASH_BYTES] = {0};
    (void)node_rpc_search_match(&q, hash, 7, &res);
    uint64_t lo = 1, hi = 1000;
    node_rpc_search_heights(&q, &lo, &hi);
    if (lo < 1 || hi > 1000) abort(); /* only ever narrows */
    return 0;
}
