/* cmd_query.c - `cairn query account|record`: read state from a node, and with
 * --verify believe it only after the light client (include/cairn/light.h) has
 * checked the answer's proof against a header signed by > 2/3 of the
 * validators, starting from the genesis validator set or a trusted header. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "cairn/light.h"
#include "cli/cli.h"
#include "client/client.h"
#include "node/genesis.h"

static const char usage_text[] =
    "usage: cairn query account ADDRESS     [OPTIONS]\n"
    "       cairn query record  ADDRESS KEY [OPTIONS]\n"
    "  OPTIONS: [--node URL] [--json] [--height H]\n"
    "           [--verify [--home DIR | --genesis FILE]\n"
    "                     [--trusted-height H --trusted-hash HASH]]\n"
    "\n"
    "account prints an account's balance and next nonce; record prints the value\n"
    "stored under KEY (text) in ADDRESS's namespace. Without --verify the answer is\n"
    "what the node says. With --verify it is checked: the node's proof must lead\n"
    "to the app hash of the next header, and that header must be signed by more\n"
    "than 2/3 of the validators, followed from the genesis validator set (the\n"
    "genesis of --genesis FILE or of the home folder) or from a header you trust.\n"
    "A lie is reported and the command exits 1.\n"
    "\n"
    "  --node URL            the node's RPC address (default: $CAIRN_NODE, else\n"
    "                        " CLI_NODE_DEFAULT ")\n"
    "  --json                machine-readable output\n"
    "  --height H            state after block H (default: the latest; with\n"
    "                        --verify the latest that has a next header)\n"
    "  --verify              check the answer (see above)\n"
    "  --home DIR            home folder whose config/genesis.json is trusted\n"
    "  --genesis FILE        genesis file to trust\n"
    "  --trusted-height H    start from header H instead of genesis ...\n"
    "  --trusted-hash HASH   ... whose hash (64 hex digits) you trust\n";

typedef struct {
    const char *cmd;
    const char *url, *home, *genesis, *trusted_hash_hex;
    bool json, verify, have_trusted_height;
    uint64_t height, trusted_height;
    const char *kind; /* "account" or "record" */
    uint8_t addr[ADDR_BYTES];
    const char *key;
} q_opts;

static int parse(q_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"node", required_argument, 0, 'n'},    {"json", no_argument, 0, 'j'},
        {"height", required_argument, 0, 'H'},  {"verify", no_argument, 0, 'v'},
        {"home", required_argument, 0, 'd'},    {"genesis", required_argument, 0, 'g'},
        {"trusted-height", required_argument, 0, 't'},
        {"trusted-hash", required_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': o->url = optarg; break;
        case 'j': o->json = true; break;
        case 'v': o->verify = true; break;
        case 'd': o->home = optarg; break;
        case 'g': o->genesis = optarg; break;
        case 'T': o->trusted_hash_hex = optarg; break;
        case 'H':
            if (!cli_parse_u64(optarg, &o->height) || o->height == 0 || o->height > INT64_MAX)
                return cli_usage_error(o->cmd, "--height '%s' is not a height >= 1", optarg);
            break;
        case 't':
            if (!cli_parse_u64(optarg, &o->trusted_height) || o->trusted_height == 0)
                return cli_usage_error(o->cmd, "--trusted-height '%s' is not a height >= 1",
                                       optarg);
            o->have_trusted_height = true;
            break;
        case 'h': fputs(usage_text, stdout); return -1;
        default: return cli_bad_option(o->cmd, c, argv);
        }
    }
    size_t need = strcmp(o->kind, "record") == 0 ? 2 : 1;
    if ((size_t)(argc - optind) < need)
        return cli_usage_error(o->cmd, "missing %s", need == 2 ? "ADDRESS and KEY" : "ADDRESS");
    if ((size_t)(argc - optind) > need)
        return cli_usage_error(o->cmd, "unexpected argument '%s'", argv[optind + need]);
    const char *a = argv[optind];
    if (strlen(a) != 2 * ADDR_BYTES || hex_decode(o->addr, ADDR_BYTES, a) != CAIRN_OK)
        return cli_usage_error(o->cmd, "'%s' is not a 40 hex digit address", a);
    if (need == 2) {
        o->key = argv[optind + 1];
        if (strlen(o->key) < 1 || strlen(o->key) > TX_KEY_MAX)
            return cli_usage_error(o->cmd, "KEY must be 1 to %d bytes", TX_KEY_MAX);
    }
    bool trust_opts = o->home || o->genesis || o->have_trusted_height || o->trusted_hash_hex;
    if (trust_opts && !o->verify)
        return cli_usage_error(o->cmd, "--home, --genesis and --trusted-* go with --verify");
    if (o->have_trusted_height != (o->trusted_hash_hex != NULL))
        return cli_usage_error(o->cmd, "--trusted-height and --trusted-hash go together");
    if (o->home && o->genesis)
        return cli_usage_error(o->cmd, "give --home or --genesis, not both");
    return 0;
}

/* Starts the light client from the trusted header or the genesis file. */
static int light_start(const q_opts *o, client_t *cl, light_t *lc)
{
    char why[CLIENT_WHY_MAX];
    if (o->have_trusted_height) {
        uint8_t hash[HASH_BYTES];
        if (strlen(o->trusted_hash_hex) != 2 * HASH_BYTES ||
            hex_decode(hash, HASH_BYTES, o->trusted_hash_hex) != CAIRN_OK)
            return cli_usage_error(o->cmd, "--trusted-hash must be 64 hex digits");
        if (client_light_init_trusted(cl, lc, o->trusted_height, hash, why, sizeof why))
            return cli_fail(o->cmd, "verification failed: %s", why);
        return 0;
    }
    char path[CLI_PATH_MAX + 32];
    if (o->genesis) {
        snprintf(path, sizeof path, "%s", o->genesis);
    } else {
        char home[CLI_PATH_MAX];
        if (!cli_home(home, o->home)) return cli_usage_error(o->cmd, "no home folder: use --home");
        snprintf(path, sizeof path, "%s/config/genesis.json", home);
    }
    genesis_t *g = malloc(sizeof *g);
    valset_t *vs = malloc(sizeof *vs);
    int rc = 0;
    char err[GENESIS_ERR_MAX];
    if (!g || !vs) {
        free(g);
        free(vs);
        return cli_fail(o->cmd, "out of memory");
    }
    genesis_init(g);
    if (genesis_load(g, path, err) != CAIRN_OK) {
        rc = cli_fail(o->cmd, "%s", err);
    } else if (g->initial_height != 1) {
        rc = cli_fail(o->cmd, "genesis initial height is not 1: use --trusted-height and "
                              "--trusted-hash");
    } else if (genesis_valset(g, vs) != CAIRN_OK ||
               light_init_genesis(lc, &g->chain_id, vs, why, sizeof why) != CAIRN_OK) {
        rc = cli_fail(o->cmd, "cannot use the genesis validators of %s", path);
    }
    genesis_deinit(g);
    free(g);
    free(vs);
    return rc;
}

static json_t *hexj(const uint8_t *p, size_t n)
{
    char s[2 * HASH_BYTES + 1];
    if (n > HASH_BYTES) return NULL;
    hex_encode_upper(s, p, n);
    return json_string(s);
}

static bool printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e) return false;
    return true;
}

static int show(const q_opts *o, const light_query_t *q, const light_t *lc)
{
    char addr[2 * ADDR_BYTES + 1];
    hex_encode_upper(addr, o->addr, ADDR_BYTES);
    bool account = !strcmp(o->kind, "account");
    ledger_account_t acc = {0, 0};
    const uint8_t *val = NULL;
    uint32_t val_len = 0;
    if (q->exists && account &&
        ledger_account_decode(&acc, q->value, q->value_len) != CAIRN_OK)
        return cli_fail(o->cmd, "the node sent a malformed account (%zu bytes)", q->value_len);
    if (q->exists && !account &&
        ledger_record_decode(q->value, q->value_len, &val, &val_len) != CAIRN_OK)
        return cli_fail(o->cmd, "the node sent a malformed record (%zu bytes)", q->value_len);
    char hh[2 * HASH_BYTES + 1] = "", ah[2 * HASH_BYTES + 1] = "";
    if (lc) {
        hex_encode_upper(hh, lc->hash, HASH_BYTES);
        hex_encode_upper(ah, lc->header.app_hash, HASH_BYTES);
    }
    if (o->json) {
        json_t *j = json_object();
        char hs[24];
        json_object_set_new(j, "address", json_string(addr));
        if (!account) json_object_set_new(j, "key", json_string(o->key));
        json_object_set_new(j, "exists", json_boolean(q->exists));
        snprintf(hs, sizeof hs, "%" PRIu64, q->height);
        json_object_set_new(j, "height", json_string(hs));
        if (q->exists && account) {
            snprintf(hs, sizeof hs, "%" PRIu64, acc.balance);
            json_object_set_new(j, "balance", json_string(hs));
            snprintf(hs, sizeof hs, "%" PRIu64, acc.nonce);
            json_object_set_new(j, "nonce", json_string(hs));
        }
        if (q->exists && !account) {
            char *b = malloc(base64_encoded_len(val_len) + 1);
            if (b) {
                base64_encode(b, val, val_len);
                json_object_set_new(j, "value_base64", json_string(b));
                free(b);
            }
            if (printable(val, val_len))
                json_object_set_new(j, "value", json_stringn((const char *)val, val_len));
        }
        json_object_set_new(j, "verified", json_boolean(lc != NULL));
        if (lc) {
            snprintf(hs, sizeof hs, "%" PRIu64, lc->height);
            json_object_set_new(j, "header", json_pack("{s:s,s:o,s:o}", "height", hs, "hash",
                                                       hexj(lc->hash, HASH_BYTES), "app_hash",
                                                       hexj(lc->header.app_hash, HASH_BYTES)));
        }
        return cli_print_json(j);
    }
    if (!q->exists) {
        printf("%s %s%s%s does not exist at height %" PRIu64 "\n", o->kind, addr,
               account ? "" : " ", account ? "" : o->key, q->height);
    } else if (account) {
        printf("address  %s\nbalance  %" PRIu64 "\nnonce    %" PRIu64 "\nheight   %" PRIu64 "\n",
               addr, acc.balance, acc.nonce, q->height);
    } else {
        printf("address  %s\nkey      %s\n", addr, o->key);
        if (printable(val, val_len))
            printf("value    %.*s\n", (int)val_len, (const char *)val);
        else {
            char *b = malloc(base64_encoded_len(val_len) + 1);
            if (b) base64_encode(b, val, val_len);
            printf("value    (base64) %s\n", b ? b : "");
            free(b);
        }
        printf("height   %" PRIu64 "\n", q->height);
    }
    if (lc)
        printf("verified proof checked against app hash %s of header %" PRIu64 " (%s), signed "
               "by more than 2/3 of the validators\n", ah, lc->height, hh);
    else
        printf("(not verified: add --verify to check the answer)\n");
    return CLI_EXIT_OK;
}

int cli_query(int argc, char **argv)
{
    if (argc < 2) return cli_usage_error("query", "missing what to query: account or record");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, stdout);
        return CLI_EXIT_OK;
    }
    q_opts o;
    memset(&o, 0, sizeof o);
    if (!strcmp(argv[1], "account")) o.cmd = "query account", o.kind = "account";
    else if (!strcmp(argv[1], "record")) o.cmd = "query record", o.kind = "record";
    else return cli_usage_error("query", "unknown query '%s': use account or record", argv[1]);
    int rc = parse(&o, argc - 1, argv + 1);
    if (rc < 0) return CLI_EXIT_OK;
    if (rc) return rc;

    uint8_t data[ADDR_BYTES + TX_KEY_MAX];
    size_t n = ADDR_BYTES;
    memcpy(data, o.addr, ADDR_BYTES);
    if (o.key) {
        memcpy(data + ADDR_BYTES, o.key, strlen(o.key));
        n += strlen(o.key);
    }
    const char *path = o.key ? "/record" : "/account";
    if (o.verify && !cli_crypto_init(o.cmd)) return CLI_EXIT_FAIL;
    client_t *cl;
    if (!cli_client_open(o.cmd, o.url, 30000, &cl)) return CLI_EXIT_FAIL;
    char why[CLIENT_WHY_MAX];
    light_query_t q;
    light_t *lc = NULL;
    memset(&q, 0, sizeof q);
    if (!o.verify) {
        if (client_fetch_query(cl, path, data, n, o.height, false, &q, why, sizeof why)) {
            rc = cli_fail(o.cmd, "%s", why);
            goto out;
        }
        if (q.code != 0) {
            rc = cli_fail(o.cmd, "query failed with code %u: %s", q.code, q.log);
            goto out;
        }
        rc = show(&o, &q, NULL);
        goto out;
    }
    if (!(lc = malloc(sizeof *lc))) {
        rc = cli_fail(o.cmd, "out of memory");
        goto out;
    }
    if ((rc = light_start(&o, cl, lc))) goto out;
    /* a node of another chain would only fail every signature: say so */
    uint64_t latest;
    chain_id_t cid;
    if (client_status_latest(cl, &latest, &cid, why, sizeof why)) {
        rc = cli_fail(o.cmd, "%s", why);
        goto out;
    }
    if (!chain_id_equal(&cid, &lc->chain_id)) {
        rc = cli_fail(o.cmd, "verification failed: the node is on chain '%s', the trusted "
                             "chain is '%s'", cid.id, lc->chain_id.id);
        goto out;
    }
    cairn_err vrc = client_query_verified(cl, lc, path, data, n, o.height, &q, why, sizeof why);
    if (vrc) {
        /* the node being unreachable or refusing is not a verdict on its answers */
        bool verdict = vrc != CAIRN_EUNREACHABLE && vrc != CAIRN_ENODE_ERROR && vrc != CAIRN_ENOMEM;
        rc = cli_fail(o.cmd, "%s%s", verdict ? "verification failed: " : "", why);
        goto out;
    }
    rc = show(&o, &q, lc);
out:
    light_query_free(&q);
    free(lc);
    client_free(cl);
    return rc;
}
