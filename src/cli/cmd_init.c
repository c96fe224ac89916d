/* cmd_init.c - `cairn init`: a new home folder with config, genesis and keys.
 *
 * Layout (docs/operations.md):
 *   HOME/config/config.ini                every option, commented
 *   HOME/config/genesis.json              this node as the only validator
 *   HOME/config/node_key.json             0600
 *   HOME/config/priv_validator_key.json   0600
 *   HOME/data/                            empty; the node fills it
 * An existing home is never changed without --force, and even with --force a
 * non-empty data/ is refused (a new genesis would not match its blocks).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/bytes.h"
#include "cli/cli.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/keys.h"

#define INIT_ACCOUNTS_MAX 1000

static const char usage_text[] =
    "usage: cairn init --chain-id ID [--home DIR] [--moniker NAME] [--power N]\n"
    "                  [--account ADDR=BALANCE]... [--force] [--json]\n"
    "\n"
    "Creates a node's home folder: config/config.ini (every option commented),\n"
    "config/genesis.json with this node as the only validator, the node key and\n"
    "the validator key (mode 0600), and an empty data/ folder.\n"
    "\n"
    "  --home DIR        home folder (default: $CAIRN_HOME, else ~/.cairn)\n"
    "  --chain-id ID     chain id, 1 to 50 printable ASCII characters (required)\n"
    "  --moniker NAME    this node's name (default: the host name)\n"
    "  --power N         the validator's voting power (default: 10)\n"
    "  --account A=B     fund account address A (40 hex digits) with balance B in\n"
    "                    the genesis; may be repeated\n"
    "  --force           replace the config and keys of an existing home; the old\n"
    "                    files are kept as FILE.bak.<time> (data/ must be empty)\n"
    "  --json            print the result as JSON\n";

typedef struct {
    char home[CLI_PATH_MAX];
    const char *chain_id;
    char moniker[CONFIG_MONIKER_MAX + 1];
    uint64_t power;
    bool force, json;
    uint32_t n_accounts;
    genesis_account_t accounts[INIT_ACCOUNTS_MAX];
} init_opts;

static const char *const home_files[] = {"config/config.ini", "config/genesis.json",
                                         "config/node_key.json",
                                         "config/priv_validator_key.json"};
#define N_HOME_FILES (sizeof home_files / sizeof home_files[0])

/* noinline: cli_home() leaves room for every sub-path; gcc cannot see that. */
__attribute__((noinline)) static bool path_join(char *out, const char *home, const char *rel)
{
    return (size_t)snprintf(out, CLI_PATH_MAX, "%s/%s", home, rel) < CLI_PATH_MAX;
}

static bool dir_has_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return false;
    struct dirent *e;
    bool any = false;
    while (!any && (e = readdir(d)))
        any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return any;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) == 0) return 0;
    if (errno != EEXIST) return -1;
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

static int parse_account(init_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    char hex[2 * ADDR_BYTES + 1];
    genesis_account_t a;
    if (!eq || eq - arg != 2 * ADDR_BYTES)
        return cli_usage_error("init", "--account '%s' is not ADDRESS=BALANCE", arg);
    memcpy(hex, arg, 2 * ADDR_BYTES);
    hex[2 * ADDR_BYTES] = 0;
    if (hex_decode(a.address, ADDR_BYTES, hex) != CAIRN_OK)
        return cli_usage_error("init", "--account address '%s' is not 40 hex digits", hex);
    if (!cli_parse_u64(eq + 1, &a.balance))
        return cli_usage_error("init", "--account balance '%s' is not a whole number", eq + 1);
    if (o->n_accounts >= INIT_ACCOUNTS_MAX)
        return cli_usage_error("init", "more than %d --account options", INIT_ACCOUNTS_MAX);
    o->accounts[o->n_accounts++] = a;
    return 0;
}

static int parse_args(init_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"home", required_argument, 0, 'H'},   {"chain-id", required_argument, 0, 'c'},
        {"moniker", required_argument, 0, 'm'}, {"power", required_argument, 0, 'p'},
        {"account", required_argument, 0, 'a'}, {"force", no_argument, 0, 'f'},
        {"json", no_argument, 0, 'j'},          {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *home = NULL;
    int c, rc;
    o->power = 10;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'H': home = optarg; break;
        case 'c': o->chain_id = optarg; break;
        case 'm':
            if (strlen(optarg) > CONFIG_MONIKER_MAX)
                return cli_usage_error("init", "--moniker is longer than %d characters",
                                       CONFIG_MONIKER_MAX);
            snprintf(o->moniker, sizeof o->moniker, "%s", optarg);
            break;
        case 'p':
            if (!cli_parse_u64(optarg, &o->power) || o->power < 1 ||
                o->power > (uint64_t)GENESIS_TOTAL_POWER_MAX)
                return cli_usage_error("init", "--power '%s' must be a whole number >= 1",
                                       optarg);
            break;
        case 'a':
            if ((rc = parse_account(o, optarg))) return rc;
            break;
        case 'f': o->force = true; break;
        case 'j': o->json = true; break;
        case 'h': fputs(usage_text, stdout); return -1;
        default: return cli_bad_option("init", c, argv);
        }
    }
    if (optind < argc) return cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
    if (!o->chain_id) return cli_usage_error("init", "--chain-id is required");
    if (!cli_home(o->home, home)) return cli_usage_error("init", "no home folder: use --home");
    if (!o->moniker[0] && (gethostname(o->moniker, sizeof o->moniker - 1) != 0 ||
                           !config_moniker_valid(o->moniker)))
        snprintf(o->moniker, sizeof o->moniker, "cairn-node");
    if (!config_moniker_valid(o->moniker))
        return cli_usage_error("init", "--moniker '%s' must be 1 to %d printable characters "
                               "without ';' or '#'", o->moniker, CONFIG_MONIKER_MAX);
    return 0;
}

/* Refuses an existing home unless --force. With --force the old files are not
 * deleted but renamed to NAME.bak.<unix seconds> (keys keep their 0600 mode):
 * a replaced validator key must stay recoverable. */
static int check_existing(const init_opts *o)
{
    char path[CLI_PATH_MAX], bak[CLI_PATH_MAX + 32];
    bool exists = false;
    for (size_t i = 0; i < N_HOME_FILES; i++) {
        path_join(path, o->home, home_files[i]);
        if (access(path, F_OK) == 0) exists = true;
    }
    path_join(path, o->home, "data");
    bool data = dir_has_entries(path);
    if (!exists && !data) return 0;
    if (!o->force)
        return cli_fail("init", "%s already holds a cairn home; refusing to overwrite it "
                                "(use --force to replace its config and keys)", o->home);
    if (data)
        return cli_fail("init", "%s/data is not empty; a new genesis would not match its "
                                "blocks: remove it first", o->home);
    long stamp = (long)time(NULL);
    for (size_t i = 0; i < N_HOME_FILES; i++) {
        path_join(path, o->home, home_files[i]);
        if (access(path, F_OK) != 0) continue;
        snprintf(bak, sizeof bak, "%s.bak.%ld", path, stamp);
        if (link(path, bak) != 0)
            return cli_fail("init", "cannot keep a backup of %s as %s: %s", path, bak,
                            strerror(errno));
        if (unlink(path) != 0)
            return cli_fail("init", "cannot replace %s: %s", path, strerror(errno));
        if (!o->json) fprintf(stderr, "cairn init: kept the old %s as %s\n", home_files[i], bak);
    }
    return 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int print_result(const init_opts *o, const keypair_t *node, const keypair_t *val,
                        const genesis_t *g)
{
    uint8_t gh[HASH_BYTES];
    char node_id[KEYS_NODE_ID_LEN + 1], val_addr[2 * ADDR_BYTES + 1], pub[64];
    char ghex[2 * HASH_BYTES + 1];
    keys_node_id(node_id, node->pub);
    hex_encode_upper(val_addr, g->validators[0].address, ADDR_BYTES);
    base64_encode(pub, val->pub, PUBKEY_BYTES);
    if (genesis_hash(g, gh) != CAIRN_OK) return cli_fail("init", "out of memory");
    hex_encode_upper(ghex, gh, HASH_BYTES);
    if (o->json)
        return cli_print_json(json_pack(
            "{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:I}, s:s}", "home", o->home, "chain_id",
            o->chain_id, "moniker", o->moniker, "node_id", node_id, "validator", "address",
            val_addr, "pub_key", pub, "power", (json_int_t)o->power, "genesis_hash", ghex));
    printf("Initialized a cairn home in %s\n"
           "  chain id:          %s\n"
           "  moniker:           %s\n"
           "  node id:           %s\n"
           "  validator address: %s\n"
           "  validator pub key: %s\n"
           "  genesis hash:      %s\n"
           "Edit %s/config/config.ini, then run: cairn start --home %s\n",
           o->home, o->chain_id, o->moniker, node_id, val_addr, pub, ghex, o->home, o->home);
    return CLI_EXIT_OK;
}

static int write_home(init_opts *o)
{
    char path[CLI_PATH_MAX], err[GENESIS_ERR_MAX > KEYS_ERR_MAX ? GENESIS_ERR_MAX : KEYS_ERR_MAX];
    keypair_t node, val;
    genesis_t g;
    int rc = CLI_EXIT_FAIL;
    genesis_init(&g);
    key_generate(&node);
    key_generate(&val);
    if (genesis_new(&g, o->chain_id, now_ns(), err) != CAIRN_OK) {
        rc = cli_usage_error("init", "%s", err);
        goto out;
    }
    if (genesis_validator_add(&g, val.pub, (int64_t)o->power, o->moniker, err) != CAIRN_OK) {
        rc = cli_fail("init", "%s", err);
        goto out;
    }
    for (uint32_t i = 0; i < o->n_accounts; i++)
        if (genesis_account_add(&g, o->accounts[i].address, o->accounts[i].balance, err)) {
            rc = cli_fail("init", "%s", err);
            goto out;
        }
    if (genesis_validate(&g, err) != CAIRN_OK) {
        rc = cli_fail("init", "genesis: %s", err);
        goto out;
    }
    config_t cfg;
    config_defaults(&cfg);
    snprintf(cfg.node.moniker, sizeof cfg.node.moniker, "%s", o->moniker);
    const char *dirs[] = {"", "config", "data"};
    for (size_t i = 0; i < 3; i++) {
        path_join(path, o->home, dirs[i]);
        if (make_dir(path) != 0) {
            rc = cli_fail("init", "cannot create folder %s: %s", path, strerror(errno));
            goto out;
        }
    }
    path_join(path, o->home, "config/config.ini");
    if (config_write_template(path, &cfg) != CAIRN_OK) {
        rc = cli_fail("init", "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    path_join(path, o->home, "config/node_key.json");
    if (keys_node_key_save(path, &node, err) != CAIRN_OK) {
        rc = cli_fail("init", "%s", err);
        goto out;
    }
    path_join(path, o->home, "config/priv_validator_key.json");
    if (keys_validator_key_save(path, &val, err) != CAIRN_OK) {
        rc = cli_fail("init", "%s", err);
        goto out;
    }
    path_join(path, o->home, "config/genesis.json");
    if (genesis_save(&g, path, err) != CAIRN_OK) {
        rc = cli_fail("init", "%s", err);
        goto out;
    }
    rc = print_result(o, &node, &val, &g);
out:
    crypto_wipe(&node, sizeof node);
    crypto_wipe(&val, sizeof val);
    genesis_deinit(&g);
    return rc;
}

int cli_init(int argc, char **argv)
{
    init_opts *o = calloc(1, sizeof *o);
    if (!o) return cli_fail("init", "out of memory");
    int rc = parse_args(o, argc, argv);
    if (rc < 0) rc = CLI_EXIT_OK; /* --help */
    else if (rc == 0 && !cli_crypto_init("init")) rc = CLI_EXIT_FAIL;
    else if (rc == 0 && (rc = check_existing(o)) == 0) rc = write_home(o);
    free(o);
    return rc;
}
