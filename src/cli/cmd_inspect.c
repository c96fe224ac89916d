/* cmd_inspect.c - `cairn inspect block|state|proof --home DIR`: read a stopped
 * node's store directly and print what it holds, verifying what it prints: a
 * block against its hash chain and the commit signed by > 2/3 of the validators,
 * a state value against the app hash with its Merkle proof. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "base/log.h"
#include "base/bytes.h"
#include "cairn/proof.h"
#include "cli/cli.h"
#include "node/node_int.h"
#include "rpc/json_chain.h"
#include "store/store.h"

static const char usage_text[] =
    "usage: cairn inspect block [HEIGHT] [--home DIR] [--json]\n"
    "       cairn inspect state ADDRESS [KEY] [--home DIR] [--json]\n"
    "       cairn inspect proof ADDRESS [KEY] [--home DIR] [--json]\n"
    "\n"
    "Reads the store of a node that is not running (the store is locked while it\n"
    "runs; ask a running node over RPC instead) and verifies what it prints:\n"
    "  block   the block at HEIGHT (default: the latest), checked against its hash,\n"
    "          the chain and the commit that finalised it (> 2/3 of the voting power)\n"
    "  state   the account ADDRESS (hex), or its record KEY, at the latest height\n"
    "  proof   the same with its Merkle proof, verified against the app hash\n"
    "Damaged data is reported as such and never printed as good.\n";

typedef struct {
    store_t *store;
    app_t *app;
    chain_state_t st;
} inspect_ctx;

static void ctx_close(inspect_ctx *c)
{
    app_free(c->app);
    store_close(c->store);
}

static int ctx_open(inspect_ctx *c, const char *home)
{
    char p[CLI_PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/data/store", home);
    store_options so;
    store_options_default(&so);
    so.create_if_missing = false;
    cairn_err rc = store_open(p, &so, &c->store);
    if (rc)
        return cli_fail("inspect", "cannot open the store %s: %s (is the node running?)", p,
                        cairn_strerror(rc));
    buf_t raw;
    buf_init(&raw, 0);
    rc = store_chain_state_get(c->store, &raw);
    if (rc == CAIRN_OK) rc = chain_state_decode(&c->st, raw.data, raw.len);
    buf_deinit(&raw);
    if (rc) return cli_fail("inspect", "the store holds no readable chain state: %s", cairn_strerror(rc));
    rc = ledger_new(&c->st.chain_id, store_state_reader(c->store), &c->app);
    if (rc) return cli_fail("inspect", "cannot open the state: %s", cairn_strerror(rc));
    return 0;
}

static int inspect_block(inspect_ctx *c, uint64_t height, bool json)
{
    if (height == 0) height = store_height(c->store);
    block_t b;
    commit_t seen;
    uint8_t id[HASH_BYTES];
    cairn_err rc = store_block_get(c->store, height, &b);
    if (rc == CAIRN_ENOT_FOUND)
        return cli_fail("inspect", "no block at height %llu (the store holds %llu..%llu)",
                        (unsigned long long)height, (unsigned long long)store_base_height(c->store),
                        (unsigned long long)store_height(c->store));
    if (rc) return cli_fail("inspect", "block %llu: %s", (unsigned long long)height, cairn_strerror(rc));
    rc = store_commit_get(c->store, height, &seen);
    if (rc == CAIRN_OK) rc = header_hash(&b.header, id);
    /* Validators do not change yet (no governance): the current set signed it. */
    const valset_t *vs = height == c->st.last_height ? &c->st.last_validators : &c->st.validators;
    if (rc == CAIRN_OK) rc = commit_verify(&seen, &c->st.chain_id, vs, height, id);
    if (rc) {
        block_free(&b);
        return cli_fail("inspect", "block %llu fails verification: %s", (unsigned long long)height,
                        cairn_strerror(rc));
    }
    int out;
    if (json) {
        json_t *j = json_pack("{s:o, s:o, s:b}", "block_id", json_chain_block_id(id), "block",
                              json_chain_block(&b), "verified", 1);
        out = cli_print_json(j);
    } else {
        char hex[2 * HASH_BYTES + 1], t[JSON_TIME_LEN + 1], app[2 * HASH_BYTES + 1];
        hex_encode_upper(hex, id, HASH_BYTES);
        hex_encode_upper(app, b.header.app_hash, HASH_BYTES);
        json_chain_time_format(t, b.header.time_ns);
        uint32_t signers = 0;
        for (uint32_t i = 0; i < seen.n_sigs; i++) signers += seen.sigs[i].flag == COMMIT_FOR_BLOCK;
        printf("block %llu  %s\n  time       %s\n  txs        %u\n  app hash   %s (state after block %llu)\n"
               "  commit     round %u, %u of %u validators signed: verified\n",
               (unsigned long long)height, hex, t, b.n_txs, app, (unsigned long long)height - 1,
               seen.round, signers, seen.n_sigs);
        for (uint32_t i = 0; i < b.n_txs && i < 20; i++) {
            uint8_t th[HASH_BYTES];
            tx_hash(th, b.txs[i].p, b.txs[i].len);
            hex_encode_upper(hex, th, HASH_BYTES);
            printf("  tx %-6u %s (%zu bytes)\n", i, hex, b.txs[i].len);
        }
        if (b.n_txs > 20) printf("  ... %u more\n", b.n_txs - 20);
        out = CLI_EXIT_OK;
    }
    block_free(&b);
    commit_free(&seen);
    return out;
}

static int inspect_state(inspect_ctx *c, const char *addr_hex, const char *key, bool prove,
                         bool json)
{
    uint8_t addr[ADDR_BYTES], qkey[ADDR_BYTES + TX_KEY_MAX];
    if (hex_decode(addr, ADDR_BYTES, addr_hex) != CAIRN_OK)
        return cli_usage_error("inspect", "ADDRESS must be 40 hex digits");
    size_t klen = key ? strlen(key) : 0;
    if (klen > TX_KEY_MAX) return cli_usage_error("inspect", "KEY longer than %d bytes", TX_KEY_MAX);
    memcpy(qkey, addr, ADDR_BYTES);
    if (key) memcpy(qkey + ADDR_BYTES, key, klen);
    app_query_result_t q;
    memset(&q, 0, sizeof q);
    cairn_err rc = app_query(c->app, key ? "/record" : "/account", qkey, ADDR_BYTES + klen, 0,
                             prove, &q);
    if (rc) return cli_fail("inspect", "state read failed: %s", cairn_strerror(rc));
    if (q.code != APP_CODE_OK) {
        int r = cli_fail("inspect", "%s", q.log[0] ? q.log : app_code_str(q.code));
        app_query_result_free(&q);
        return r;
    }
    int verified = -1;
    if (prove)
        verified = cairn_proof_verify(c->st.app_hash, q.key, q.key_len, q.value, q.value_len,
                                      q.proof, q.proof_len) == CAIRN_PROOF_OK;
    char app[2 * HASH_BYTES + 1];
    hex_encode_upper(app, c->st.app_hash, HASH_BYTES);
    char *vhex = malloc(2 * q.value_len + 1), *phex = malloc(2 * q.proof_len + 1);
    if (!vhex || !phex) {
        free(vhex);
        free(phex);
        app_query_result_free(&q);
        return cli_fail("inspect", "out of memory");
    }
    if (q.value) hex_encode_upper(vhex, q.value, q.value_len); else vhex[0] = 0;
    if (q.proof) hex_encode_upper(phex, q.proof, q.proof_len); else phex[0] = 0;
    ledger_account_t acc = {0};
    bool is_acc = !key && q.value && ledger_account_decode(&acc, q.value, q.value_len) == CAIRN_OK;
    const uint8_t *rv = NULL;
    uint32_t rlen = 0;
    bool is_rec = key && q.value && ledger_record_decode(q.value, q.value_len, &rv, &rlen) == CAIRN_OK;
    int out = CLI_EXIT_OK;
    if (json) {
        json_t *j = json_pack("{s:I, s:s, s:b, s:s}", "height", (json_int_t)q.height, "app_hash", app,
                              "exists", q.value != NULL, "value_hex", vhex);
        if (is_acc) {
            json_object_set_new(j, "balance", json_chain_u64(acc.balance));
            json_object_set_new(j, "nonce", json_chain_u64(acc.nonce));
        }
        if (is_rec) json_object_set_new(j, "record", json_stringn((const char *)rv, rlen));
        if (prove) {
            json_object_set_new(j, "proof_hex", json_string(phex));
            json_object_set_new(j, "verified", json_boolean(verified == 1));
        }
        out = cli_print_json(j);
    } else {
        printf("%s %s at height %llu (app hash %s)\n", key ? "record" : "account", addr_hex,
               (unsigned long long)q.height, app);
        if (!q.value) printf("  absent\n");
        if (is_acc) printf("  balance %llu\n  nonce   %llu\n", (unsigned long long)acc.balance,
                           (unsigned long long)acc.nonce);
        if (is_rec) printf("  value   %.*s\n", (int)rlen, (const char *)rv);
        if (prove) printf("  proof   %zu bytes: %s\n", q.proof_len,
                          verified == 1 ? "verified against the app hash" : "DOES NOT VERIFY");
    }
    if (prove && verified != 1) out = cli_fail("inspect", "the stored proof does not verify against the app hash");
    free(vhex);
    free(phex);
    app_query_result_free(&q);
    return out;
}

int cli_inspect(int argc, char **argv)
{
    const char *home_arg = NULL;
    bool json = false;
    static const struct option opts[] = {{"home", required_argument, NULL, 'H'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'H': home_arg = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
        default: return cli_bad_option("inspect", c, argv);
        }
    }
    if (optind >= argc) return cli_usage_error("inspect", "say what to inspect: block, state or proof");
    const char *what = argv[optind++];
    int nargs = argc - optind;
    char home[CLI_PATH_MAX];
    if (!cli_home(home, home_arg)) return cli_usage_error("inspect", "home path too long");
    uint64_t height = 0;
    if (!strcmp(what, "block")) {
        if (nargs > 1 || (nargs == 1 && !cli_parse_u64(argv[optind], &height)))
            return cli_usage_error("inspect", "block takes one optional HEIGHT");
    } else if (!strcmp(what, "state") || !strcmp(what, "proof")) {
        if (nargs < 1 || nargs > 2) return cli_usage_error("inspect", "%s takes ADDRESS [KEY]", what);
    } else {
        return cli_usage_error("inspect", "unknown thing to inspect '%s' (block, state, proof)", what);
    }
    if (!cli_crypto_init("inspect")) return CLI_EXIT_FAIL;
    log_level_set(LOG_WARN); /* the store says where it opened: not news here */
    inspect_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    int rc = ctx_open(&ctx, home);
    if (rc == 0) {
        if (!strcmp(what, "block"))
            rc = inspect_block(&ctx, height, json);
        else
            rc = inspect_state(&ctx, argv[optind], nargs == 2 ? argv[optind + 1] : NULL,
                               !strcmp(what, "proof"), json);
    }
    ctx_close(&ctx);
    return rc;
}
