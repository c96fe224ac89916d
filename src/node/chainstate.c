/* chainstate.c - the chain state of a fresh node, from its genesis document. */
#include "node/node_int.h"

cairn_err chain_state_from_genesis(chain_state_t *st, const genesis_t *g,
                                   const uint8_t app_hash[static HASH_BYTES])
{
    valset_t vs;
    CAIRN_TRY(genesis_valset(g, &vs));
    return chain_state_genesis(st, &g->chain_id, g->genesis_time_ns, &vs, app_hash);
}
