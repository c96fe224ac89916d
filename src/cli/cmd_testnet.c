/* cmd_testnet.c - `cairn testnet`: one home folder per node of a new network, with
 * keys, one shared genesis and full-mesh persistent peers, ready to copy to real
 * hosts (or to run on one machine with --base-port). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/bytes.h"
#include "cli/cli.h"
#include "cli/testnet.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/keys.h"

static const char usage_text[] =
    "usage: cairn testnet --validators N --out DIR [--full-nodes F]\n"
    "                     (--hosts H1,H2,... | --base-port P) [--chain-id ID]\n"
    "                     [--accounts K] [--balance B]\n"
    "\n"
    "Writes DIR/node0 .. DIR/node<N+F-1>, one home folder per node: keys, a shared\n"
    "genesis with the N validators (power 10 each) and K funded test accounts, and a\n"
    "config whose persistent peers are all the other nodes. With --hosts, node i\n"
    "listens on Hi:26656 (p2p) and 127.0.0.1:26657 (RPC); copy DIR/node<i> to host i\n"
    "and run `cairn start --home DIR/node<i>` there. With --base-port (one machine),\n"
    "node i uses 127.0.0.1:P+10i (p2p) and 127.0.0.1:P+10i+1 (RPC). The account keys\n"
    "are in DIR/keys (user0 .. user<K-1>): use them with --home DIR.\n";

uint16_t testnet_p2p_port(const testnet_opts *o, uint32_t i)
{
    return o->n_hosts ? 26656 : (uint16_t)(o->base_port + 10 * i);
}

uint16_t testnet_rpc_port(const testnet_opts *o, uint32_t i)
{
    return o->n_hosts ? 26657 : (uint16_t)(o->base_port + 10 * i + 1);
}

static int make_dirs(const char *base, uint32_t i)
{
    char p[CLI_PATH_MAX + 64];
    const char *sub[] = {"", "/config", "/data"};
    for (int k = 0; k < 3; k++) {
        snprintf(p, sizeof p, "%s/node%u%s", base, i, sub[k]);
        if (mkdir(p, 0700) != 0 && errno != EEXIST) return -1;
    }
    return 0;
}

int testnet_write(const testnet_opts *o)
{
    uint32_t n = o->validators + o->full_nodes;
    char err[1024], p[CLI_PATH_MAX + 64];
    keypair_t *node = calloc(n, sizeof *node), *val = calloc(n, sizeof *val);
    genesis_t g;
    genesis_init(&g);
    int rc = CLI_EXIT_FAIL;
    if (!node || !val) goto out;
    if (mkdir(o->out, 0700) != 0 && errno != EEXIST) {
        rc = cli_fail("testnet", "cannot create %s: %s", o->out, strerror(errno));
        goto out;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (genesis_new(&g, o->chain_id, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, err)) {
        rc = cli_usage_error("testnet", "%s", err);
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        key_generate(&node[i]);
        key_generate(&val[i]);
        char name[32];
        snprintf(name, sizeof name, "node%u", i);
        if (i < o->validators && genesis_validator_add(&g, val[i].pub, 10, name, err)) {
            rc = cli_fail("testnet", "%s", err);
            goto out;
        }
    }
    for (uint32_t i = 0; i < o->accounts; i++) {
        keypair_t kp;
        char name[32];
        uint8_t addr[ADDR_BYTES];
        snprintf(name, sizeof name, "user%u", i);
        if (keys_account_new(o->out, name, &kp, err) != CAIRN_OK) {
            rc = cli_fail("testnet", "%s", err);
            goto out;
        }
        key_address(addr, kp.pub);
        crypto_wipe(&kp, sizeof kp);
        if (genesis_account_add(&g, addr, o->balance, err)) {
            rc = cli_fail("testnet", "%s", err);
            goto out;
        }
    }
    if (genesis_validate(&g, err)) {
        rc = cli_fail("testnet", "genesis: %s", err);
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (make_dirs(o->out, i) != 0) {
            rc = cli_fail("testnet", "cannot create the folders of node%u in %s: %s", i, o->out,
                          strerror(errno));
            goto out;
        }
        config_t cfg;
        config_defaults(&cfg);
        snprintf(cfg.node.moniker, sizeof cfg.node.moniker, "node%u", i);
        snprintf(cfg.p2p.listen.host, sizeof cfg.p2p.listen.host, "%s",
                 o->n_hosts ? "0.0.0.0" : "127.0.0.1");
        cfg.p2p.listen.port = testnet_p2p_port(o, i);
        snprintf(cfg.rpc.listen.host, sizeof cfg.rpc.listen.host, "127.0.0.1");
        cfg.rpc.listen.port = testnet_rpc_port(o, i);
        cfg.p2p.n_peers = 0;
        for (uint32_t k = 0; k < n && cfg.p2p.n_peers < CONFIG_PEERS_MAX; k++) {
            if (k == i) continue;
            config_peer_t *cp = &cfg.p2p.persistent_peers[cfg.p2p.n_peers++];
            key_address(cp->id, node[k].pub);
            snprintf(cp->addr.host, sizeof cp->addr.host, "%s",
                     o->n_hosts ? o->hosts[k] : "127.0.0.1");
            cp->addr.port = testnet_p2p_port(o, k);
        }
        if (o->fast) {
            cfg.consensus.timeout_propose_ms = 1000;
            cfg.consensus.timeout_commit_ms = 100;
            cfg.consensus.create_empty_blocks_interval_ms = 1000;
        }
        snprintf(p, sizeof p, "%s/node%u/config/config.ini", o->out, i);
        if (config_write_template(p, &cfg) != CAIRN_OK) {
            rc = cli_fail("testnet", "cannot write %s: %s", p, strerror(errno));
            goto out;
        }
        snprintf(p, sizeof p, "%s/node%u/config/node_key.json", o->out, i);
        if (keys_node_key_save(p, &node[i], err)) {
            rc = cli_fail("testnet", "%s", err);
            goto out;
        }
        snprintf(p, sizeof p, "%s/node%u/config/priv_validator_key.json", o->out, i);
        if (keys_validator_key_save(p, &val[i], err)) {
            rc = cli_fail("testnet", "%s", err);
            goto out;
        }
        snprintf(p, sizeof p, "%s/node%u/config/genesis.json", o->out, i);
        if (genesis_save(&g, p, err)) {
            rc = cli_fail("testnet", "%s", err);
            goto out;
        }
    }
    if (!o->quiet)
        printf("Wrote %u node homes (%u validators, %u full nodes) and %u funded accounts to %s\n",
               n, o->validators, o->full_nodes, o->accounts, o->out);
    rc = CLI_EXIT_OK;
out:
    if (node) crypto_wipe(node, n * sizeof *node);
    if (val) crypto_wipe(val, n * sizeof *val);
    free(node);
    free(val);
    genesis_deinit(&g);
    return rc;
}

static int parse_hosts(testnet_opts *o, const char *s)
{
    char *copy = strdup(s), *save = NULL;
    if (!copy) return -1;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (o->n_hosts >= TESTNET_NODES_MAX || strlen(t) > TESTNET_HOST_MAX || !*t) {
            free(copy);
            return -1;
        }
        snprintf(o->hosts[o->n_hosts++], TESTNET_HOST_MAX + 1, "%s", t);
    }
    free(copy);
    return 0;
}

int cli_testnet(int argc, char **argv)
{
    static testnet_opts o;
    memset(&o, 0, sizeof o);
    o.validators = 4;
    o.chain_id = "cairn-testnet";
    o.accounts = 8;
    o.balance = 1000000000000ull;
    uint64_t v;
    static const struct option opts[] = {
        {"validators", required_argument, NULL, 'v'}, {"full-nodes", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},        {"hosts", required_argument, NULL, 'H'},
        {"base-port", required_argument, NULL, 'p'},  {"chain-id", required_argument, NULL, 'c'},
        {"accounts", required_argument, NULL, 'a'},   {"balance", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},             {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            if (!cli_parse_u64(optarg, &v) || v < 1 || v > TESTNET_NODES_MAX)
                return cli_usage_error("testnet", "--validators must be 1..%d", TESTNET_NODES_MAX);
            o.validators = (uint32_t)v;
            break;
        case 'f':
            if (!cli_parse_u64(optarg, &v) || v > TESTNET_NODES_MAX)
                return cli_usage_error("testnet", "--full-nodes must be 0..%d", TESTNET_NODES_MAX);
            o.full_nodes = (uint32_t)v;
            break;
        case 'o': o.out = optarg; break;
        case 'H':
            if (parse_hosts(&o, optarg) != 0)
                return cli_usage_error("testnet", "--hosts: a comma-separated list of at most %d hosts",
                                       TESTNET_NODES_MAX);
            break;
        case 'p':
            if (!cli_parse_u64(optarg, &v) || v < 1024 || v > 65000)
                return cli_usage_error("testnet", "--base-port must be 1024..65000");
            o.base_port = (uint16_t)v;
            break;
        case 'c': o.chain_id = optarg; break;
        case 'a':
            if (!cli_parse_u64(optarg, &v) || v > 1000)
                return cli_usage_error("testnet", "--accounts must be 0..1000");
            o.accounts = (uint32_t)v;
            break;
        case 'b':
            if (!cli_parse_u64(optarg, &o.balance)) return cli_usage_error("testnet", "bad --balance");
            break;
        case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
        default: return cli_bad_option("testnet", c, argv);
        }
    }
    if (!o.out) return cli_usage_error("testnet", "--out DIR is required");
    uint32_t n = o.validators + o.full_nodes;
    if (n > TESTNET_NODES_MAX) return cli_usage_error("testnet", "at most %d nodes", TESTNET_NODES_MAX);
    if (o.n_hosts && o.n_hosts != n)
        return cli_usage_error("testnet", "--hosts names %u hosts for %u nodes", o.n_hosts, n);
    if (!o.n_hosts && !o.base_port)
        return cli_usage_error("testnet", "give --hosts (real machines) or --base-port (one machine)");
    if (!o.n_hosts && o.base_port + 10u * n > 65535u)
        return cli_usage_error("testnet", "--base-port too high for %u nodes", n);
    o.fast = o.n_hosts == 0;
    if (!cli_crypto_init("testnet")) return CLI_EXIT_FAIL;
    return testnet_write(&o);
}
