/* cmd_watch.c - `cairn watch`: print each new block as it is committed.
 * Polls /status and fetches every height it has not printed yet with /block,
 * so no block is skipped even if several commit between two polls. Stops on
 * SIGINT/SIGTERM (exit 0) or after --count blocks. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cli_client.h"
#include "client/client.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static const char usage_text[] =
    "usage: cairn watch [--node URL] [--json] [--from H] [--count N] [--interval-ms MS]\n"
    "\n"
    "Prints each new block as it is committed: height, hash, time, number of\n"
    "transactions and proposer, then one line per transaction. Stops on Ctrl-C.\n"
    "\n"
    "  --node URL        the node's RPC address (default: $CAIRN_NODE, else " CLI_NODE_DEFAULT ")\n"
    "  --json            one JSON object (the /block result) per line\n"
    "  --from H          start at height H (default: the next block)\n"
    "  --count N         stop after N blocks\n"
    "  --interval-ms MS  how often to poll /status (default 250)\n";

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (!stop_flag && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int cli_watch(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"node", required_argument, 0, 'n'},  {"json", no_argument, 0, 'j'},
        {"from", required_argument, 0, 'f'},  {"count", required_argument, 0, 'c'},
        {"interval-ms", required_argument, 0, 'i'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *url = NULL;
    bool json = false;
    uint64_t from = 0, count = 0, interval = 250;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': url = optarg; break;
        case 'j': json = true; break;
        case 'f':
            if (!cli_parse_u64(optarg, &from) || from == 0)
                return cli_usage_error("watch", "--from '%s' is not a height >= 1", optarg);
            break;
        case 'c':
            if (!cli_parse_u64(optarg, &count) || count == 0)
                return cli_usage_error("watch", "--count '%s' is not a whole number >= 1", optarg);
            break;
        case 'i':
            if (!cli_parse_u64(optarg, &interval) || interval < 10 || interval > 60000)
                return cli_usage_error("watch", "--interval-ms must be 10 to 60000");
            break;
        case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
        default: return cli_bad_option("watch", c, argv);
        }
    }
    if (optind < argc) return cli_usage_error("watch", "unexpected argument '%s'", argv[optind]);
    client_t *cl;
    if (!cli_client_open("watch", url, 10000, &cl)) return CLI_EXIT_FAIL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);

    char why[CLIENT_WHY_MAX];
    int rc = CLI_EXIT_OK;
    uint64_t next = from, printed = 0;
    while (!stop_flag) {
        uint64_t latest;
        if (client_status_latest(cl, &latest, NULL, why, sizeof why) != CAIRN_OK) {
            rc = cli_fail("watch", "%s", why);
            break;
        }
        if (next == 0) next = latest + 1;
        for (; next <= latest && !stop_flag; next++) {
            json_t *r;
            if (cli_block_fetch(cl, next, &r, why, sizeof why) != CAIRN_OK) {
                rc = cli_fail("watch", "%s", why);
                goto out;
            }
            if (json) {
                char *s = json_dumps(r, JSON_COMPACT);
                if (s) puts(s);
                free(s);
            } else {
                cli_block_print(r, true);
            }
            json_decref(r);
            if (count && ++printed >= count) goto out;
        }
        sleep_ms((unsigned)interval);
    }
out:
    client_free(cl);
    return rc;
}
