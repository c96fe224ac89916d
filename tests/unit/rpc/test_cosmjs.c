/* Client compatibility: @cosmjs/tendermint-rpc 0.39 (unchanged) talks to cairn's
 * RPC server. A fake node serves blocks 1 and 2 rendered by json_chain.h and a
 * status like the node's; tests/unit/rpc/cosmjs_compat.cjs drives it with
 * connectComet() over HTTP and WebSocket. Needs node and the package pinned in
 * tests/unit/rpc/package.json: installed with npm on first run when missing;
 * skipped, with a message, when neither works. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "rpc/json_chain.h"
#include "rpc/rpc.h"

typedef struct {
    uv_loop_t loop;
    rpc_t *rpc;
    header_t h[3]; /* heights 1, 2 */
    uint8_t id[3][HASH_BYTES];
    commit_sig_t sigs[2];
    valset_t *vs;
    uv_process_t child;
    bool exited;
    int64_t status;
    int sig;
} fake_t;

static void header_init(header_t *h, uint64_t height, const uint8_t *last_id)
{
    memset(h, 0, sizeof *h);
    h->version = 1;
    memcpy(h->chain_id.id, "cairn-test", 11);
    h->chain_id.len = 10;
    h->height = height;
    h->time_ns = 1718114877125195170LL + (int64_t)(height - 2) * 1000000000LL;
    if (last_id) memcpy(h->last_block_id, last_id, HASH_BYTES);
    memset(h->validators_hash, 0x33, HASH_BYTES);
    memset(h->next_validators_hash, 0x33, HASH_BYTES);
    memset(h->app_hash, 0x44, HASH_BYTES);
    memset(h->proposer, 0x55, ADDR_BYTES);
}

static void fill_block(fake_t *f, uint64_t height, block_t *b, bytes_view *txs)
{
    memset(b, 0, sizeof *b);
    b->header = f->h[height];
    if (height == 2) {
        txs[0] = (bytes_view){(const uint8_t *)"hello", 5};
        txs[1] = (bytes_view){(const uint8_t *)"world", 5};
        b->n_txs = 2;
        b->txs = txs;
        b->last_commit.height = 1;
        memcpy(b->last_commit.block_id, f->id[1], HASH_BYTES);
        b->last_commit.n_sigs = 2;
        b->last_commit.sigs = f->sigs;
    }
}

static bool height_param(fake_t *f, rpc_call_t *call, const json_t *params, uint64_t *h)
{
    const json_t *jh = json_object_get(params, "height");
    *h = jh ? (uint64_t)json_integer_value(jh) : 2;
    if (*h < 1 || *h > 2) {
        char msg[96];
        snprintf(msg, sizeof msg, "height %llu is not available, latest height is 2",
                 (unsigned long long)*h);
        rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, msg);
        return false;
    }
    (void)f;
    return true;
}

static void block_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    fake_t *f = ctx;
    uint64_t h;
    if (!height_param(f, call, params, &h)) return;
    block_t b;
    bytes_view txs[2];
    fill_block(f, h, &b, txs);
    rpc_call_reply(call, json_chain_block_result(&b, f->id[h]));
}

static void commit_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    fake_t *f = ctx;
    uint64_t h;
    if (!height_param(f, call, params, &h)) return;
    /* the commit for block 2 is what block 3 would carry: reuse block 2's shape */
    commit_t c = {.height = 1, .round = 0, .n_sigs = 2, .sigs = f->sigs};
    memcpy(c.block_id, f->id[1], HASH_BYTES);
    rpc_call_reply(call, json_chain_signed_header(&f->h[h], &c, true));
}

static void validators_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    fake_t *f = ctx;
    uint64_t h;
    if (!height_param(f, call, params, &h)) return;
    rpc_call_reply(call, json_chain_validators(f->vs, h, 0, 30));
}

static void status_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)params;
    fake_t *f = ctx;
    json_t *r = json_pack(
        "{s:{s:{s:s,s:s,s:s},s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s}},"
        " s:{s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:b},"
        " s:{s:o,s:o,s:s}}",
        "node_info", "protocol_version", "p2p", "8", "block", "11", "app", "0", "id",
        "0123456789ABCDEF0123456789ABCDEF01234567", "listen_addr", "tcp://0.0.0.0:26656",
        "network", "cairn-test", "version", "0.38.x", "channels", "40202122233038606100",
        "moniker", "fake", "other", "tx_index", "on", "rpc_address", "tcp://127.0.0.1:26657",
        "sync_info", "latest_block_hash", json_chain_hex(f->id[2], HASH_BYTES),
        "latest_app_hash", json_chain_hex(f->h[2].app_hash, HASH_BYTES),
        "latest_block_height", json_chain_u64(2), "latest_block_time",
        json_chain_time(f->h[2].time_ns), "earliest_block_hash",
        json_chain_hex(f->id[1], HASH_BYTES), "earliest_app_hash",
        json_chain_hex(f->h[1].app_hash, HASH_BYTES), "earliest_block_height", "1",
        "earliest_block_time", json_chain_time(f->h[1].time_ns), "catching_up", 0,
        "validator_info", "address", json_chain_hex(f->vs->v[0].address, ADDR_BYTES),
        "pub_key", json_chain_pub_key(f->vs->v[0].pub), "voting_power", "10");
    rpc_call_reply(call, r);
}

static void broadcast_commit_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)ctx;
    size_t n = json_string_length(json_object_get(params, "tx"));
    uint8_t hash[HASH_BYTES];
    memset(hash, 0x66, sizeof hash);
    rpc_tx_result ok = {.code = 0};
    rpc_call_reply(call, json_pack("{s:o,s:o,s:o,s:o}", "check_tx", json_chain_tx_result(&ok),
                                   "tx_result", json_chain_tx_result(&ok), "hash",
                                   json_chain_hex(hash, HASH_BYTES), "height",
                                   json_chain_u64(n ? 3 : 0)));
}

static void publish_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)params;
    fake_t *f = ctx;
    json_t *value = json_pack("{s:o,s:{}}", "header", json_chain_header(&f->h[2]),
                              "result_finalize_block");
    size_t n = 0;
    cairn_err rc = rpc_publish(f->rpc, "NewBlockHeader", value, NULL, 0, &n);
    json_decref(value);
    if (rc != CAIRN_OK) return rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, "publish failed");
    rpc_call_reply(call, json_pack("{s:I}", "delivered", (json_int_t)n));
}

static void exit_cb(uv_process_t *p, int64_t status, int sig)
{
    fake_t *f = p->data;
    f->status = status;
    f->sig = sig;
    f->exited = true;
    uv_close((uv_handle_t *)p, NULL);
}

static const char *script_dir(char *buf, size_t n)
{
    const char *slash = strrchr(__FILE__, '/');
    snprintf(buf, n, "%.*s", (int)(slash - __FILE__), __FILE__);
    return buf;
}

static void cosmjs_client_decodes_every_response_and_event(void **state)
{
    (void)state;
    char dir[256], probe[512], script[512];
    script_dir(dir, sizeof dir);
    snprintf(probe, sizeof probe,
             "cd '%s' && node -e \"require('@cosmjs/tendermint-rpc')\" >/dev/null 2>&1", dir);
    if (system(probe) != 0) {
        /* install the pinned client from package.json with npm, once */
        char install[600];
        snprintf(install, sizeof install,
                 "command -v npm >/dev/null && timeout 300 npm install --prefix '%s' "
                 "--no-audit --no-fund --no-package-lock --silent >/dev/null 2>&1", dir);
        if (system(install) != 0 || system(probe) != 0) {
            fprintf(stderr, "SKIP: node or @cosmjs/tendermint-rpc unavailable "
                            "(npm install --prefix %s)\n", dir);
            skip();
        }
    }
    fake_t *f = calloc(1, sizeof *f);
    f->vs = calloc(1, sizeof *f->vs);
    f->vs->count = 1;
    memset(f->vs->v[0].pub, 0x77, PUBKEY_BYTES);
    memset(f->vs->v[0].address, 0x55, ADDR_BYTES);
    f->vs->v[0].power = 10;
    f->vs->total_power = 10;
    header_init(&f->h[1], 1, NULL);
    memset(f->id[1], 0x11, HASH_BYTES);
    header_init(&f->h[2], 2, f->id[1]);
    memset(f->id[2], 0x22, HASH_BYTES);
    f->sigs[0] = (commit_sig_t){.flag = COMMIT_FOR_BLOCK, .time_ns = f->h[1].time_ns + 5};
    memset(f->sigs[0].validator, 0x55, ADDR_BYTES);
    memset(f->sigs[0].sig, 0x99, SIG_BYTES);
    f->sigs[1] = (commit_sig_t){.flag = COMMIT_ABSENT};

    assert_int_equal(uv_loop_init(&f->loop), 0);
    rpc_config cfg;
    rpc_config_default(&cfg);
    cfg.listen_addr = "127.0.0.1:0";
    assert_int_equal(rpc_new(&f->loop, &cfg, &f->rpc), CAIRN_OK);
    static const rpc_param hp[] = {{"height", RPC_PARAM_UINT, false}};
    static const rpc_param vp[] = {{"height", RPC_PARAM_UINT, false},
                                   {"page", RPC_PARAM_UINT, false},
                                   {"per_page", RPC_PARAM_UINT, false}};
    static const rpc_param tp[] = {{"tx", RPC_PARAM_BYTES, true}};
    assert_int_equal(rpc_method_register(f->rpc, "status", NULL, 0, status_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "block", hp, 1, block_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "commit", hp, 1, commit_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "validators", vp, 3, validators_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "broadcast_tx_commit", tp, 1,
                                         broadcast_commit_cb, f), CAIRN_OK);
    assert_int_equal(rpc_method_register(f->rpc, "publish", NULL, 0, publish_cb, f), CAIRN_OK);

    char port[16];
    snprintf(port, sizeof port, "%d", rpc_port(f->rpc));
    snprintf(script, sizeof script, "%s/cosmjs_compat.cjs", dir);
    char *args[] = {"node", script, port, NULL};
    uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE},
                                     {.flags = UV_INHERIT_FD, .data.fd = 1},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2}};
    uv_process_options_t opt = {.exit_cb = exit_cb, .file = "node", .args = args,
                                .stdio_count = 3, .stdio = stdio};
    f->child.data = f;
    assert_int_equal(uv_spawn(&f->loop, &f->child, &opt), 0);
    uint64_t t0 = uv_hrtime();
    while (!f->exited && uv_hrtime() - t0 < 60ull * 1000000000ull) uv_run(&f->loop, UV_RUN_ONCE);
    if (!f->exited) uv_process_kill(&f->child, SIGKILL);
    while (!f->exited) uv_run(&f->loop, UV_RUN_ONCE);
    int64_t status = f->sig ? 128 + f->sig : f->status;
    rpc_free(f->rpc);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f->vs);
    free(f);
    assert_int_equal(status, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cosmjs_client_decodes_every_response_and_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
