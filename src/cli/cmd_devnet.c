/* cmd_devnet.c - `cairn devnet`: a local network of N validators on loopback in
 * one command. The first run writes the homes (like `cairn testnet`); later runs
 * resume the same chain. Each validator is a separate `cairn start` process; the
 * devnet process forwards Ctrl-C / SIGTERM to them and waits for their clean stop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/bytes.h"
#include "cli/cli.h"
#include "cli/testnet.h"
#include "node/keys.h"

static const char usage_text[] =
    "usage: cairn devnet [--validators N] [--home DIR] [--base-port P] [--reset]\n"
    "\n"
    "Starts N validators (default 4, 1..16) on 127.0.0.1 as separate processes and\n"
    "prints where to reach them. The first run creates DIR (default\n"
    "~/.cairn-devnet): one home per node, a shared genesis and funded test accounts\n"
    "user0..user7 whose keys are in DIR/keys. Later runs resume the same chain;\n"
    "--reset deletes DIR first. Node i listens on P+10i (p2p) and P+10i+1 (RPC and\n"
    "/metrics), P defaulting to 26656. Ctrl-C stops every node cleanly.\n";

static int count_nodes(const char *dir)
{
    char p[CLI_PATH_MAX + 64];
    int n = 0;
    for (;; n++) {
        snprintf(p, sizeof p, "%s/node%d/config/genesis.json", dir, n);
        if (access(p, F_OK) != 0) return n;
    }
}

static pid_t spawn(const char *exe, const char *dir, uint32_t i)
{
    char home[CLI_PATH_MAX + 64], log[CLI_PATH_MAX + 64];
    snprintf(home, sizeof home, "%s/node%u", dir, i);
    snprintf(log, sizeof log, "%s/node%u/node.log", dir, i);
    pid_t pid = fork();
    if (pid != 0) return pid;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execl(exe, "cairn", "start", "--home", home, (char *)NULL);
    fprintf(stderr, "cannot run %s: %s\n", exe, strerror(errno));
    _exit(127);
}

static void print_help(const char *dir, const testnet_opts *o, uint32_t n)
{
    printf("\ncairn devnet: %u validators on 127.0.0.1, chain id %s, homes in %s\n\n", n,
           o->chain_id, dir);
    printf("  node   p2p     RPC                          metrics                              log\n");
    for (uint32_t i = 0; i < n; i++)
        printf("  node%-2u %-6u  http://127.0.0.1:%-6u       http://127.0.0.1:%u/metrics   %s/node%u/node.log\n",
               i, testnet_p2p_port(o, i), testnet_rpc_port(o, i), testnet_rpc_port(o, i), dir, i);
    char addr[2 * ADDR_BYTES + 1] = "ADDRESS";
    char err[256];
    keypair_t kp;
    if (keys_account_load(dir, "user1", &kp, err) == CAIRN_OK) {
        uint8_t a[ADDR_BYTES];
        key_address(a, kp.pub);
        hex_encode_upper(addr, a, ADDR_BYTES);
        crypto_wipe(&kp, sizeof kp);
    }
    printf("\nFunded test accounts user0..user7 (keys in %s/keys). A first transaction:\n\n"
           "  cairn status --node http://127.0.0.1:%u\n"
           "  cairn tx send transfer --home %s --from user0 --to %s --amount 100 \\\n"
           "      --node http://127.0.0.1:%u\n"
           "  cairn query account %s --node http://127.0.0.1:%u --verify --home %s/node0\n"
           "\nor with curl only:\n\n"
           "  TX=$(cairn tx transfer --home %s --from user0 --to %s --amount 100 --nonce 0 \\\n"
           "      --chain-id %s --output hex)\n"
           "  curl -s \"http://127.0.0.1:%u/broadcast_tx_commit?tx=0x$TX\"\n"
           "\nCtrl-C stops the network; `make devnet` again resumes it.\n\n",
           dir, testnet_rpc_port(o, 0), dir, addr, testnet_rpc_port(o, 0), addr,
           testnet_rpc_port(o, 1), dir, dir, addr, o->chain_id, testnet_rpc_port(o, 0));
    fflush(stdout);
}

static int supervise(pid_t *pids, uint32_t n, const char *dir)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    uint32_t alive = n;
    bool stopping = false;
    int rc = CLI_EXIT_OK;
    time_t stop_at = 0;
    while (alive > 0) {
        struct timespec wait = {1, 0};
        int sig = sigtimedwait(&set, NULL, &wait);
        if ((sig == SIGINT || sig == SIGTERM) && !stopping) {
            printf("\ncairn devnet: stopping %u nodes...\n", alive);
            fflush(stdout);
            stopping = true;
            stop_at = time(NULL);
            for (uint32_t i = 0; i < n; i++)
                if (pids[i] > 0) kill(pids[i], SIGTERM);
        }
        if (stopping && time(NULL) - stop_at > 30)
            for (uint32_t i = 0; i < n; i++)
                if (pids[i] > 0) kill(pids[i], SIGKILL);
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            for (uint32_t i = 0; i < n; i++) {
                if (pids[i] != pid) continue;
                pids[i] = 0;
                alive--;
                bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
                if (!stopping || !clean) {
                    fprintf(stderr, "cairn devnet: node%u exited (%s %d); see %s/node%u/node.log\n", i,
                            WIFEXITED(status) ? "status" : "signal",
                            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), dir, i);
                    if (!stopping) rc = CLI_EXIT_FAIL;
                }
            }
        }
    }
    if (stopping) printf("cairn devnet: all nodes stopped\n");
    return rc;
}

int cli_devnet(int argc, char **argv)
{
    static testnet_opts o;
    memset(&o, 0, sizeof o);
    o.validators = 4;
    o.chain_id = "cairn-devnet";
    o.accounts = 8;
    o.balance = 1000000000000ull;
    o.base_port = 26656;
    o.fast = true;
    o.quiet = true;
    const char *home_arg = NULL;
    bool reset = false;
    uint64_t v;
    static const struct option opts[] = {
        {"validators", required_argument, NULL, 'v'}, {"home", required_argument, NULL, 'H'},
        {"base-port", required_argument, NULL, 'p'},  {"reset", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},             {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            if (!cli_parse_u64(optarg, &v) || v < 1 || v > 16)
                return cli_usage_error("devnet", "--validators must be 1..16");
            o.validators = (uint32_t)v;
            break;
        case 'H': home_arg = optarg; break;
        case 'p':
            /* Below Linux's ephemeral range (32768+): an outgoing connection of
             * one node may otherwise hold the port another is about to bind. */
            if (!cli_parse_u64(optarg, &v) || v < 1024 || v + 10 * 16 > 32768)
                return cli_usage_error("devnet", "--base-port must be 1024..32600 (below the "
                                                 "ephemeral ports)");
            o.base_port = (uint16_t)v;
            break;
        case 'r': reset = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
        default: return cli_bad_option("devnet", c, argv);
        }
    }
    char dir[CLI_PATH_MAX];
    if (home_arg)
        snprintf(dir, sizeof dir, "%s", home_arg);
    else
        snprintf(dir, sizeof dir, "%s/.cairn-devnet", getenv("HOME") ? getenv("HOME") : ".");
    o.out = dir;
    if (reset) {
        char cmd[CLI_PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (strchr(dir, '\'') || system(cmd) != 0)
            return cli_fail("devnet", "cannot remove %s", dir);
    }
    if (!cli_crypto_init("devnet")) return CLI_EXIT_FAIL;
    int existing = count_nodes(dir);
    if (existing == 0) {
        int rc = testnet_write(&o);
        if (rc) return rc;
        printf("cairn devnet: created a new network in %s\n", dir);
    } else if ((uint32_t)existing != o.validators) {
        if (home_arg || existing != 4 || o.validators == 4)
            return cli_fail("devnet", "%s holds a network of %d nodes, not %u: use --reset to "
                                      "start a new one, or --validators %d to resume it",
                            dir, existing, o.validators, existing);
    } else {
        printf("cairn devnet: resuming the network in %s\n", dir);
    }
    char exe[CLI_PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return cli_fail("devnet", "cannot find the cairn binary: %s", strerror(errno));
    exe[len] = 0;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    pid_t pids[16];
    for (uint32_t i = 0; i < o.validators; i++) {
        pids[i] = spawn(exe, dir, i);
        if (pids[i] < 0) return cli_fail("devnet", "fork: %s", strerror(errno));
    }
    print_help(dir, &o, o.validators);
    return supervise(pids, o.validators, dir);
}
