/* cmd_status.c - `cairn status`: what a node says about itself and the chain
 * (/status), and the helpers every command that talks to a node shares. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "client/client.h"

bool cli_client_open(const char *cmd, const char *url, unsigned timeout_ms, client_t **out)
{
    char why[CLIENT_WHY_MAX];
    const char *env = getenv("CAIRN_NODE");
    if (!url) url = env && *env ? env : CLI_NODE_DEFAULT;
    if (client_global_init() != CAIRN_OK) {
        cli_fail(cmd, "cannot initialise libcurl");
        return false;
    }
    if (client_new(url, timeout_ms, out, why, sizeof why) != CAIRN_OK) {
        cli_usage_error(cmd, "%s", why);
        return false;
    }
    return true;
}

/* "a.b.c": nested object members. */
const char *cli_jstr(const json_t *o, const char *path)
{
    char part[64];
    const char *p = path;
    while (o && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof part) return "";
        memcpy(part, p, n);
        part[n] = 0;
        o = json_object_get(o, part);
        p += n + (dot ? 1 : 0);
    }
    const char *s = json_string_value(o);
    return s ? s : "";
}

static const char usage_text[] =
    "usage: cairn status [--node URL] [--json]\n"
    "\n"
    "Shows what the node says about itself: chain id, latest block (height, hash,\n"
    "time, app hash), whether it is catching up, and its validator key.\n"
    "\n"
    "  --node URL   the node's RPC address (default: $CAIRN_NODE, else " CLI_NODE_DEFAULT ")\n"
    "  --json       print the /status result as JSON\n";

int cli_status(int argc, char **argv)
{
    static const struct option longopts[] = {{"node", required_argument, 0, 'n'},
                                             {"json", no_argument, 0, 'j'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *url = NULL;
    bool json = false;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': url = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
        default: return cli_bad_option("status", c, argv);
        }
    }
    if (optind < argc) return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
    client_t *cl;
    if (!cli_client_open("status", url, 10000, &cl)) return CLI_EXIT_FAIL;
    char why[CLIENT_WHY_MAX];
    json_t *r;
    cairn_err rc = client_call(cl, "status", NULL, &r, why, sizeof why);
    client_free(cl);
    if (rc) return cli_fail("status", "%s", why);
    if (json) return cli_print_json(r);
    json_t *si = json_object_get(r, "sync_info");
    printf("node        %s (id %s, version %s)\n", cli_jstr(r, "node_info.moniker"),
           cli_jstr(r, "node_info.id"), cli_jstr(r, "node_info.version"));
    printf("chain       %s\n", cli_jstr(r, "node_info.network"));
    printf("height      %s\n", cli_jstr(si, "latest_block_height"));
    printf("block hash  %s\n", cli_jstr(si, "latest_block_hash"));
    printf("block time  %s\n", cli_jstr(si, "latest_block_time"));
    printf("app hash    %s\n", cli_jstr(si, "latest_app_hash"));
    printf("catching up %s\n", json_is_true(json_object_get(si, "catching_up")) ? "yes" : "no");
    printf("validator   %s (voting power %s)\n", cli_jstr(r, "validator_info.address"),
           cli_jstr(r, "validator_info.voting_power"));
    json_decref(r);
    return CLI_EXIT_OK;
}
