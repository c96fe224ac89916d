/* cmd_keys.c - `cairn keys new|show|list`: the account keyring in HOME/keys. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "cli/cli.h"
#include "node/keys.h"

static const char usage_text[] =
    "usage: cairn keys new NAME  [--home DIR] [--json]   create an account key\n"
    "       cairn keys show NAME [--home DIR] [--json]   show its address and public key\n"
    "       cairn keys show --validator | --node         this node's validator key or node id\n"
    "       cairn keys list      [--home DIR] [--json]   list the keyring\n"
    "\n"
    "Account keys live in HOME/keys/NAME.json (mode 0600); NAME is 1 to 64 of\n"
    "A-Z a-z 0-9 . _ -. Addresses are upper-case hex (first 20 bytes of the\n"
    "SHA-256 of the public key); public keys are base64.\n"
    "\n"
    "  --home DIR   home folder (default: $CAIRN_HOME, else ~/.cairn)\n"
    "  --json       print JSON\n";

typedef struct {
    char home[CLI_PATH_MAX];
    bool json;
    bool validator, node; /* show: the home's validator key / node key */
    const char *name;
} keys_opts;

static json_t *key_json(const char *name, const keypair_t *kp)
{
    uint8_t addr[ADDR_BYTES];
    char hex[2 * ADDR_BYTES + 1], pub[64];
    key_address(addr, kp->pub);
    hex_encode_upper(hex, addr, ADDR_BYTES);
    base64_encode(pub, kp->pub, PUBKEY_BYTES);
    return json_pack("{s:s, s:s, s:s}", "name", name, "address", hex, "pub_key", pub);
}

static void print_key_human(const char *name, const keypair_t *kp)
{
    json_t *j = key_json(name, kp);
    if (!j) return;
    printf("name:    %s\naddress: %s\npub_key: %s\n", name,
           json_string_value(json_object_get(j, "address")),
           json_string_value(json_object_get(j, "pub_key")));
    json_decref(j);
}

/* Parses options after the subcommand; `want_name` says whether NAME is required. */
static int parse_args(keys_opts *o, const char *cmd, bool want_name, int argc, char **argv)
{
    static const struct option longopts[] = {{"home", required_argument, 0, 'H'},
                                             {"json", no_argument, 0, 'j'},
                                             {"validator", no_argument, 0, 'V'},
                                             {"node", no_argument, 0, 'N'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *home = NULL;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'H': home = optarg; break;
        case 'j': o->json = true; break;
        case 'V': o->validator = true; break;
        case 'N': o->node = true; break;
        case 'h': fputs(usage_text, stdout); return -1;
        default: return cli_bad_option(cmd, c, argv);
        }
    }
    if ((o->validator || o->node) && strcmp(cmd, "keys show"))
        return cli_usage_error(cmd, "--validator and --node are only for keys show");
    if (o->validator && o->node)
        return cli_usage_error(cmd, "give --validator or --node, not both");
    if (o->validator || o->node) want_name = false;
    if (want_name) {
        if (optind >= argc) return cli_usage_error(cmd, "missing the key NAME");
        o->name = argv[optind++];
        if (!keys_name_valid(o->name))
            return cli_usage_error(cmd, "invalid key name '%s': use 1 to %d of A-Z a-z 0-9 . _ -",
                                   o->name, KEYS_NAME_MAX);
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!cli_home(o->home, home)) return cli_usage_error(cmd, "no home folder: use --home");
    return 0;
}

static int keys_new(keys_opts *o)
{
    keypair_t kp;
    char err[KEYS_ERR_MAX];
    if (keys_account_new(o->home, o->name, &kp, err) != CAIRN_OK)
        return cli_fail("keys new", "%s", err);
    int rc = CLI_EXIT_OK;
    if (o->json) {
        rc = cli_print_json(key_json(o->name, &kp));
    } else {
        printf("Created key '%s' in %s/keys/%s.json\n", o->name, o->home, o->name);
        print_key_human(o->name, &kp);
    }
    crypto_wipe(&kp, sizeof kp);
    return rc;
}

/* The home's own keys: the validator key (address, pub key) or the node id. */
static int keys_show_home_key(keys_opts *o)
{
    char path[CLI_PATH_MAX + 64], err[KEYS_ERR_MAX], id[KEYS_NODE_ID_LEN + 1];
    keypair_t kp;
    snprintf(path, sizeof path, "%s/config/%s", o->home,
             o->validator ? "priv_validator_key.json" : "node_key.json");
    cairn_err rc = o->validator ? keys_validator_key_load(path, &kp, err)
                                : keys_node_key_load(path, &kp, err);
    if (rc != CAIRN_OK) return cli_fail("keys show", "%s", err);
    json_t *j = key_json(o->validator ? "validator" : "node", &kp);
    keys_node_id(id, kp.pub);
    crypto_wipe(&kp, sizeof kp);
    if (j && o->node) json_object_set_new(j, "node_id", json_string(id));
    if (!j) return cli_fail("keys show", "out of memory");
    if (o->json) return cli_print_json(j);
    printf("address: %s\npub_key: %s\n", json_string_value(json_object_get(j, "address")),
           json_string_value(json_object_get(j, "pub_key")));
    if (o->node) printf("node_id: %s\n", json_string_value(json_object_get(j, "node_id")));
    json_decref(j);
    return CLI_EXIT_OK;
}

static int keys_show(keys_opts *o)
{
    if (o->validator || o->node) return keys_show_home_key(o);
    keypair_t kp;
    char err[KEYS_ERR_MAX];
    if (keys_account_load(o->home, o->name, &kp, err) != CAIRN_OK)
        return cli_fail("keys show", "%s", err);
    int rc = CLI_EXIT_OK;
    if (o->json)
        rc = cli_print_json(key_json(o->name, &kp));
    else
        print_key_human(o->name, &kp);
    crypto_wipe(&kp, sizeof kp);
    return rc;
}

static int keys_list(keys_opts *o)
{
    char **names = NULL, err[KEYS_ERR_MAX];
    size_t n = 0;
    if (keys_account_list(o->home, &names, &n, err) != CAIRN_OK)
        return cli_fail("keys list", "%s", err);
    json_t *arr = json_array();
    int rc = CLI_EXIT_OK;
    for (size_t i = 0; i < n && arr; i++) {
        keypair_t kp;
        /* a damaged or unsafe entry is reported and skipped, the rest still listed */
        if (keys_account_load(o->home, names[i], &kp, err) != CAIRN_OK) {
            cli_fail("keys list", "%s", err);
            rc = CLI_EXIT_FAIL;
            continue;
        }
        json_array_append_new(arr, key_json(names[i], &kp));
        crypto_wipe(&kp, sizeof kp);
    }
    keys_names_free(names, n);
    if (!arr) return cli_fail("keys list", "out of memory");
    if (o->json) {
        int prc = cli_print_json(arr);
        return rc ? rc : prc;
    }
    if (json_array_size(arr) == 0) printf("No keys in %s/keys (create one: cairn keys new NAME)\n", o->home);
    size_t i;
    json_t *k;
    json_array_foreach(arr, i, k) {
        printf("%-20s %s  %s\n", json_string_value(json_object_get(k, "name")),
               json_string_value(json_object_get(k, "address")),
               json_string_value(json_object_get(k, "pub_key")));
    }
    json_decref(arr);
    return rc;
}

int cli_keys(int argc, char **argv)
{
    if (argc < 2) return cli_usage_error("keys", "missing the subcommand: new, show or list");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, stdout);
        return CLI_EXIT_OK;
    }
    keys_opts o;
    memset(&o, 0, sizeof o);
    const char *sub = argv[1];
    int rc;
    if (!strcmp(sub, "new") || !strcmp(sub, "show") || !strcmp(sub, "list")) {
        char cmd[16];
        snprintf(cmd, sizeof cmd, "keys %s", sub);
        rc = parse_args(&o, cmd, strcmp(sub, "list") != 0, argc - 1, argv + 1);
        if (rc < 0) return CLI_EXIT_OK;
        if (rc) return rc;
        if (!cli_crypto_init(cmd)) return CLI_EXIT_FAIL;
        if (!strcmp(sub, "new")) return keys_new(&o);
        if (!strcmp(sub, "show")) return keys_show(&o);
        return keys_list(&o);
    }
    return cli_usage_error("keys", "unknown subcommand '%s': use new, show or list", sub);
}
