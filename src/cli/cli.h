/* cli.h - the cairn binary's subcommands and the helpers they share.
 *
 * Conventions of every command: `--help` prints its usage to stdout and exits 0;
 * output is for humans unless `--json` (or `--output json`) is given; an error is
 * one line "cairn <command>: <what went wrong>" on stderr and a non-zero exit:
 * CLI_EXIT_FAIL when the command failed, CLI_EXIT_USAGE for bad arguments.
 * Single-threaded; each run handles one command.
 */
#ifndef CAIRN_CLI_CLI_H
#define CAIRN_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAIRN_VERSION "0.1.0"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_PATH_MAX 4096

typedef struct {
    const char *name;
    const char *help;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} cli_command;

int cli_version(int argc, char **argv);
int cli_init(int argc, char **argv);
int cli_keys(int argc, char **argv);
int cli_tx(int argc, char **argv);
int cli_start(int argc, char **argv);
int cli_testnet(int argc, char **argv);
int cli_devnet(int argc, char **argv);
/* Commands that talk to a node over RPC (src/client): */
int cli_status(int argc, char **argv);
int cli_block(int argc, char **argv);
int cli_watch(int argc, char **argv);
int cli_query(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_scrub(int argc, char **argv);

/* ---- helpers (cli_util.c) */

/* Prints "cairn <cmd>: <message>\n" to stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, returning CLI_EXIT_USAGE and pointing at `cairn <cmd> --help`. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The message for getopt's '?' or ':' result at argv[optind - 1]. */
int cli_bad_option(const char *cmd, int c, char **argv);
/* --home if given, else $CAIRN_HOME, else $HOME/.cairn. out holds CLI_PATH_MAX. */
bool cli_home(char *out, const char *given);
/* Decimal u64, no sign, no leading zeros, no overflow. */
bool cli_parse_u64(const char *s, uint64_t *out);
/* Prints j indented with a final newline and releases it; CLI_EXIT_FAIL if j is NULL. */
int cli_print_json(json_t *j);
/* Initialises libsodium; prints the error itself. */
bool cli_crypto_init(const char *cmd);

/* ---- talking to a node (cmd_status.c) */

#define CLI_NODE_DEFAULT "http://127.0.0.1:26657"
struct client;
/* Opens a client for url (NULL: $CAIRN_NODE, else CLI_NODE_DEFAULT); prints
 * the error itself and returns false on failure. */
bool cli_client_open(const char *cmd, const char *url, unsigned timeout_ms,
                     struct client **out);
/* Reads a JSON string field of a JSON-RPC result as text ("" if missing). */
const char *cli_jstr(const json_t *o, const char *path);

#endif
