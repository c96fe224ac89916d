/* testnet.h - writing the home folders of a whole network (cmd_testnet.c), shared
 * by `cairn testnet` and `cairn devnet`. */
#ifndef CAIRN_CLI_TESTNET_H
#define CAIRN_CLI_TESTNET_H

#include <stdbool.h>
#include <stdint.h>

#define TESTNET_NODES_MAX 64
#define TESTNET_HOST_MAX 253

typedef struct {
    uint32_t validators;
    uint32_t full_nodes;
    const char *out;
    const char *chain_id;
    uint32_t accounts;    /* funded test accounts user0..userN-1 in OUT/keys */
    uint64_t balance;
    /* Either one host per node (each listens on 26656/26657), or loopback with
     * node i on base_port + 10 i (p2p) and base_port + 10 i + 1 (RPC). */
    char hosts[TESTNET_NODES_MAX][TESTNET_HOST_MAX + 1];
    uint32_t n_hosts;
    uint16_t base_port;
    bool fast; /* short consensus timeouts for a network on one machine */
    bool quiet;
} testnet_opts;

/* Writes OUT/node0..N-1 and OUT/keys; prints one error line itself. 0 on success. */
int testnet_write(const testnet_opts *o);
uint16_t testnet_rpc_port(const testnet_opts *o, uint32_t i);
uint16_t testnet_p2p_port(const testnet_opts *o, uint32_t i);

#endif
