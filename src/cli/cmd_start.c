/* cmd_start.c - `cairn start --home DIR`: run one node until SIGINT/SIGTERM. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "node/node.h"

static const char usage_text[] =
    "usage: cairn start [--home DIR]\n"
    "\n"
    "Runs the node whose home folder is DIR (default $CAIRN_HOME, else ~/.cairn):\n"
    "config/config.ini, config/genesis.json and the keys made by `cairn init` or\n"
    "`cairn testnet`. It joins its persistent peers, catches up with them, takes part\n"
    "in consensus if its validator key is in the validator set, and serves the RPC.\n"
    "SIGINT or SIGTERM stop it cleanly; starting again resumes the same chain.\n";

int cli_start(int argc, char **argv)
{
    const char *home_arg = NULL;
    static const struct option opts[] = {
        {"home", required_argument, NULL, 'H'}, {"help", no_argument, NULL, 'h'}, {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'H': home_arg = optarg; break;
        case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
        default: return cli_bad_option("start", c, argv);
        }
    }
    if (optind < argc) return cli_usage_error("start", "unexpected argument '%s'", argv[optind]);
    char home[CLI_PATH_MAX];
    if (!cli_home(home, home_arg)) return cli_usage_error("start", "home path too long");
    node_t *n;
    char err[NODE_ERR_MAX];
    if (node_open(home, &n, err) != CAIRN_OK) return cli_fail("start", "%s", err);
    cairn_err rc = node_run(n);
    node_close(n);
    if (rc) return cli_fail("start", "stopped after an error: %s", cairn_strerror(rc));
    return CLI_EXIT_OK;
}
