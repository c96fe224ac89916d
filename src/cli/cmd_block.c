/* cmd_block.c - `cairn block [H]`: one block, as the node reports it (/block).
 * Also the one-block summary `cairn watch` prints. Nothing here is verified:
 * `cairn query --verify` is the command that checks signatures. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/chain.h"
#include "cli/cli.h"
#include "cli/cli_client.h"
#include "client/client.h"

static const char usage_text[] =
    "usage: cairn block [HEIGHT] [--node URL] [--json]\n"
    "\n"
    "Shows the block at HEIGHT (default: the latest): its hash, time, proposer,\n"
    "hashes, transactions and how many validators signed the previous block.\n"
    "\n"
    "  --node URL   the node's RPC address (default: $CAIRN_NODE, else " CLI_NODE_DEFAULT ")\n"
    "  --json       print the /block result as JSON\n";

static const char *type_name(uint8_t t)
{
    switch (t) {
    case TX_TRANSFER: return "transfer";
    case TX_PUT: return "put";
    case TX_DELETE: return "delete";
    default: return "unknown";
    }
}

/* One line per tx: hash, type, sender, nonce and what it does. */
static void print_tx(const char *b64)
{
    size_t sl = strlen(b64), n = 0;
    uint8_t *raw = malloc(sl / 4 * 3 + 3);
    tx_t tx;
    if (!raw) return;
    if (base64_decode(raw, sl / 4 * 3 + 3, &n, b64, sl) != CAIRN_OK ||
        tx_decode(&tx, raw, n) != CAIRN_OK) {
        printf("  (undecodable tx of %zu base64 chars)\n", sl);
        free(raw);
        return;
    }
    uint8_t h[HASH_BYTES], from[ADDR_BYTES];
    char hh[2 * HASH_BYTES + 1], fa[2 * ADDR_BYTES + 1], ta[2 * ADDR_BYTES + 1];
    tx_hash(h, raw, n);
    hex_encode_upper(hh, h, HASH_BYTES);
    key_address(from, tx.sender);
    hex_encode_upper(fa, from, ADDR_BYTES);
    printf("  %s %-8s from %s nonce %" PRIu64, hh, type_name(tx.type), fa, tx.nonce);
    if (tx.type == TX_TRANSFER) {
        hex_encode_upper(ta, tx.to, ADDR_BYTES);
        printf(" to %s amount %" PRIu64, ta, tx.amount);
    } else {
        printf(" key %.*s", (int)(tx.key_len > 64 ? 64 : tx.key_len), (const char *)tx.key);
    }
    printf("\n");
    free(raw);
}

void cli_block_print(const json_t *r, bool one_line)
{
    const json_t *hdr = json_object_get(json_object_get(r, "block"), "header");
    const json_t *txs = json_object_get(json_object_get(json_object_get(r, "block"), "data"), "txs");
    const json_t *sigs = json_object_get(json_object_get(json_object_get(r, "block"), "last_commit"),
                                         "signatures");
    size_t signed_n = 0;
    for (size_t i = 0; i < json_array_size(sigs); i++)
        if (json_integer_value(json_object_get(json_array_get(sigs, i), "block_id_flag")) ==
            COMMIT_FOR_BLOCK)
            signed_n++;
    if (one_line) {
        printf("%-8s %s %s txs %zu proposer %s\n", cli_jstr(hdr, "height"),
               cli_jstr(r, "block_id.hash"), cli_jstr(hdr, "time"), json_array_size(txs),
               cli_jstr(hdr, "proposer_address"));
    } else {
        printf("height        %s\n", cli_jstr(hdr, "height"));
        printf("hash          %s\n", cli_jstr(r, "block_id.hash"));
        printf("chain         %s\n", cli_jstr(hdr, "chain_id"));
        printf("time          %s\n", cli_jstr(hdr, "time"));
        printf("proposer      %s\n", cli_jstr(hdr, "proposer_address"));
        printf("last block    %s\n", cli_jstr(hdr, "last_block_id.hash"));
        printf("app hash      %s (state after the previous block)\n", cli_jstr(hdr, "app_hash"));
        printf("validators    %s\n", cli_jstr(hdr, "validators_hash"));
        printf("data hash     %s\n", cli_jstr(hdr, "data_hash"));
        printf("last commit   %zu of %zu validators signed block %s\n", signed_n,
               json_array_size(sigs), cli_jstr(json_object_get(json_object_get(r, "block"),
                                                               "last_commit"), "height"));
        printf("transactions  %zu\n", json_array_size(txs));
    }
    for (size_t i = 0; i < json_array_size(txs); i++) {
        const char *t = json_string_value(json_array_get(txs, i));
        if (t) print_tx(t);
    }
}

cairn_err cli_block_fetch(client_t *cl, uint64_t height, json_t **out, char *why, size_t why_len)
{
    json_t *p = NULL;
    if (height) {
        char hs[24];
        snprintf(hs, sizeof hs, "%" PRIu64, height);
        if (!(p = json_pack("{s:s}", "height", hs))) return CAIRN_ENOMEM;
    }
    cairn_err rc = client_call(cl, "block", p, out, why, why_len);
    json_decref(p);
    return rc;
}

int cli_block(int argc, char **argv)
{
    static const struct option longopts[] = {{"node", required_argument, 0, 'n'},
                                             {"json", no_argument, 0, 'j'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *url = NULL;
    bool json = false;
    uint64_t height = 0;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': url = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
        default: return cli_bad_option("block", c, argv);
        }
    }
    if (optind < argc) {
        if (!cli_parse_u64(argv[optind], &height) || height == 0)
            return cli_usage_error("block", "height '%s' is not a whole number >= 1", argv[optind]);
        optind++;
    }
    if (optind < argc) return cli_usage_error("block", "unexpected argument '%s'", argv[optind]);
    client_t *cl;
    if (!cli_client_open("block", url, 10000, &cl)) return CLI_EXIT_FAIL;
    char why[CLIENT_WHY_MAX];
    json_t *r;
    cairn_err rc = cli_block_fetch(cl, height, &r, why, sizeof why);
    client_free(cl);
    if (rc) return cli_fail("block", "%s", why);
    if (json) return cli_print_json(r);
    cli_block_print(r, false);
    json_decref(r);
    return CLI_EXIT_OK;
}
