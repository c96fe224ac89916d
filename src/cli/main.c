/* main.c - the cairn binary: a table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const cli_command commands[] = {
    {"start", "run a node", cli_start},
    {"devnet", "run a local multi-validator network in one command", cli_devnet},
    {"testnet", "write the home folders of a new network, one per host", cli_testnet},
    {"init", "create a home folder: config, genesis, node and validator keys", cli_init},
    {"keys", "manage account keys: new, show, list", cli_keys},
    {"tx", "build, sign and send transactions, or decode one", cli_tx},
    {"status", "show a node's status: chain, height, latest block", cli_status},
    {"block", "show a block (the latest, or at a height)", cli_block},
    {"watch", "print each new block as it is committed", cli_watch},
    {"query", "read an account or a record, optionally verified (--verify)", cli_query},
    {"inspect", "read and verify a stopped node's store: block, state, proof", cli_inspect},
    {"scrub", "check every record of a stopped node's store; list what is damaged", cli_scrub},
    {"bench", "load generator: committed tx/s and commit latency of a network", cli_bench},
    {"version", "print the version", cli_version},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: cairn <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "cairn: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
