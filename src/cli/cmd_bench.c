/* cmd_bench.c - `cairn bench`: a load generator against a running network.
 *
 * It signs every transfer before it starts measuring (so signing speed does not
 * limit what is measured), submits them to one node in JSON-RPC batches of
 * broadcast_tx_sync at the requested rate, follows the chain by polling /status
 * and /block, and matches committed transactions to their submission time.
 * Latency is from submission to the moment the bench saw the block (polled
 * every POLL_MS, so figures carry up to POLL_MS of observation delay). */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "base/bytes.h"
#include "base/hmap.h"
#include "base/log.h"
#include "cli/cli.h"
#include "client/client.h"
#include "node/keys.h"

#define BENCH_SENDERS_MAX 1000
#define BENCH_TXS_MAX 2000000
#define BATCH_MAX 100
#define POLL_MS 50
#define REASONS_MAX 16
#define IN_FLIGHT_MAX 4000 /* open-ended rate: accepted but not yet committed */

static const char usage_text[] =
    "usage: cairn bench [--node URL] [--home DIR] [--rate R] [--duration S] [--json]\n"
    "\n"
    "Load generator: signs transfers from the funded accounts user0, user1, ... found\n"
    "in DIR/keys (default ~/.cairn-devnet, as `make devnet` writes them) before\n"
    "measuring, submits them to the node at URL (default http://127.0.0.1:26657) at\n"
    "R transactions per second (0, the default: as fast as the network commits them,\n"
    "keeping at most 4000 submitted but uncommitted) for\n"
    "S seconds (default 20), then waits for them to commit. Prints a progress line\n"
    "every second and a report: committed tx/s, commit latency p50/p90/p99/max (from\n"
    "submission until the bench saw the block, polled every 50 ms), rejections by\n"
    "reason, block size and interval.\n";

typedef struct {
    uint8_t *raw;
    size_t len;
    uint8_t hash[HASH_BYTES];
    double sent_at;      /* seconds since start; < 0: not sent */
    double committed_at; /* < 0: not seen in a block */
} bench_tx;

typedef struct {
    char reason[APP_LOG_MAX];
    uint64_t count;
} reason_count;

typedef struct {
    bench_tx *txs;
    size_t n_txs, next_send;
    hmap_t by_hash;
    uint8_t hash_key[SHORTHASH_KEY_BYTES];
    uint64_t height_seen, start_height;
    uint64_t submitted, accepted, committed, blocks, block_txs, block_bytes;
    double first_block_at, last_block_at, last_commit_at;
    reason_count reasons[REASONS_MAX];
    uint32_t n_reasons;
    struct timespec t0;
} bench_state;

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) { (void)sig; interrupted = 1; }

static double now_s(const bench_state *b)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - b->t0.tv_sec) + (double)(t.tv_nsec - b->t0.tv_nsec) / 1e9;
}

static uint64_t siphash_cb(const void *k, size_t n, void *ctx) { return hash_short(ctx, k, n); }

/* Reasons are grouped by their words: "nonce 5, expected 3" and "nonce 9,
 * expected 4" are one reason, "nonce N, expected N". */
static void reason_add(bench_state *b, const char *text)
{
    char why[APP_LOG_MAX];
    size_t o = 0;
    for (const char *p = text; *p && o + 2 < sizeof why; p++) {
        if (*p >= '0' && *p <= '9') {
            while (p[1] >= '0' && p[1] <= '9') p++;
            why[o++] = 'N';
        } else {
            why[o++] = *p;
        }
    }
    why[o] = 0;
    for (uint32_t i = 0; i < b->n_reasons; i++)
        if (!strcmp(b->reasons[i].reason, why)) {
            b->reasons[i].count++;
            return;
        }
    uint32_t i = b->n_reasons < REASONS_MAX ? b->n_reasons++ : REASONS_MAX - 1;
    snprintf(b->reasons[i].reason, sizeof b->reasons[i].reason, "%s", why);
    b->reasons[i].count++;
}

/* Signs `per_sender` transfers for each sender, interleaved so that any prefix
 * of the list spreads over the senders. */
static int prepare(bench_state *b, client_t *cl, const char *home, const chain_id_t *cid,
                   size_t per_sender, uint32_t *n_senders_out)
{
    keypair_t *keys = calloc(BENCH_SENDERS_MAX, sizeof *keys);
    uint64_t *nonces = calloc(BENCH_SENDERS_MAX, sizeof *nonces);
    char err[KEYS_ERR_MAX], why[CLIENT_WHY_MAX];
    uint32_t n = 0;
    int rc = CLI_EXIT_FAIL;
    if (!keys || !nonces) goto out;
    for (; n < BENCH_SENDERS_MAX; n++) {
        char name[32];
        snprintf(name, sizeof name, "user%u", n);
        if (keys_account_load(home, name, &keys[n], err) != CAIRN_OK) break;
        uint8_t addr[ADDR_BYTES];
        key_address(addr, keys[n].pub);
        light_query_t q;
        if (client_fetch_query(cl, "/account", addr, ADDR_BYTES, 0, false, &q, why, sizeof why)) {
            rc = cli_fail("bench", "%s", why);
            goto out;
        }
        ledger_account_t acc = {0, 0};
        if (q.code == 0 && q.exists && ledger_account_decode(&acc, q.value, q.value_len) != CAIRN_OK) {
            light_query_free(&q);
            rc = cli_fail("bench", "the node sent a malformed account for %s", name);
            goto out;
        }
        light_query_free(&q);
        nonces[n] = acc.nonce;
    }
    if (n == 0) {
        rc = cli_fail("bench", "no funded accounts user0, user1, ... in %s/keys (run `make devnet` "
                               "or give --home)", home);
        goto out;
    }
    b->n_txs = per_sender * n;
    if (b->n_txs > BENCH_TXS_MAX) b->n_txs = BENCH_TXS_MAX;
    b->txs = calloc(b->n_txs, sizeof *b->txs);
    if (!b->txs || hmap_init(&b->by_hash, HASH_BYTES, b->n_txs, siphash_cb, b->hash_key)) goto out;
    uint8_t to[ADDR_BYTES];
    memset(to, 0xB0, sizeof to); /* a sink account nobody holds */
    buf_t raw;
    buf_init(&raw, 0);
    for (size_t i = 0; i < b->n_txs; i++) {
        uint32_t s = (uint32_t)(i % n);
        tx_t tx;
        memset(&tx, 0, sizeof tx);
        tx.version = 1;
        tx.type = TX_TRANSFER;
        memcpy(tx.sender, keys[s].pub, PUBKEY_BYTES);
        tx.nonce = nonces[s]++;
        memcpy(tx.to, to, ADDR_BYTES);
        tx.amount = 1;
        buf_reset(&raw);
        if (tx_sign(&tx, cid, &keys[s]) != CAIRN_OK || tx_encode(&tx, &raw) != CAIRN_OK) {
            buf_deinit(&raw);
            goto out;
        }
        bench_tx *t = &b->txs[i];
        t->raw = malloc(raw.len);
        if (!t->raw) {
            buf_deinit(&raw);
            goto out;
        }
        memcpy(t->raw, raw.data, raw.len);
        t->len = raw.len;
        tx_hash(t->hash, t->raw, t->len);
        t->sent_at = t->committed_at = -1;
        if (hmap_put(&b->by_hash, t->hash, t) != CAIRN_OK) {
            buf_deinit(&raw);
            goto out;
        }
    }
    buf_deinit(&raw);
    *n_senders_out = n;
    rc = 0;
out:
    if (keys) crypto_wipe(keys, BENCH_SENDERS_MAX * sizeof *keys);
    free(keys);
    free(nonces);
    return rc;
}

/* One JSON-RPC batch of broadcast_tx_sync. */
static int submit(bench_state *b, client_t *cl, size_t count, char *why, size_t why_len)
{
    json_t *batch = json_array();
    size_t first = b->next_send;
    for (size_t i = 0; i < count; i++) {
        bench_tx *t = &b->txs[first + i];
        char *b64 = malloc(base64_encoded_len(t->len) + 1);
        if (!b64) break;
        base64_encode(b64, t->raw, t->len);
        json_array_append_new(batch, json_pack("{s:s, s:I, s:s, s:{s:s}}", "jsonrpc", "2.0", "id",
                                               (json_int_t)(first + i), "method", "broadcast_tx_sync",
                                               "params", "tx", b64));
        free(b64);
    }
    double at = now_s(b);
    json_t *res = NULL;
    cairn_err rc = client_call_raw(cl, batch, &res, why, why_len);
    json_decref(batch);
    if (rc) return -1;
    /* every tx of the batch was sent; the ones no answer speaks of are counted
     * as refused with the batch's own error (a single error object answers a
     * batch the server refused as a whole) or as unanswered */
    const char *batch_why = "no answer for it in the batch";
    if (!json_is_array(res)) {
        json_t *e = json_object_get(res, "error");
        const char *d = e ? json_string_value(json_object_get(e, "data")) : NULL;
        const char *m = e ? json_string_value(json_object_get(e, "message")) : NULL;
        batch_why = d ? d : m ? m : "the batch's answer is not an array";
    }
    bool *answered = calloc(count ? count : 1, sizeof *answered);
    if (!answered) {
        json_decref(res);
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    size_t i;
    json_t *r;
    if (json_is_array(res)) json_array_foreach(res, i, r) {
        json_t *idj = json_object_get(r, "id");
        if (!json_is_integer(idj)) continue;
        json_int_t id = json_integer_value(idj);
        if (id < (json_int_t)first || id >= (json_int_t)(first + count)) continue;
        if (answered[id - (json_int_t)first]) continue; /* a duplicate answer */
        answered[id - (json_int_t)first] = true;
        bench_tx *t = &b->txs[id];
        t->sent_at = at;
        b->submitted++;
        json_t *result = json_object_get(r, "result");
        json_t *code = result ? json_object_get(result, "code") : NULL;
        if (code && json_integer_value(code) == 0) {
            b->accepted++;
        } else if (result) {
            reason_add(b, json_string_value(json_object_get(result, "log")) ?: "rejected");
        } else {
            json_t *e = json_object_get(r, "error");
            const char *d = e ? json_string_value(json_object_get(e, "data")) : NULL;
            const char *m = e ? json_string_value(json_object_get(e, "message")) : NULL;
            reason_add(b, d ? d : m ? m : "error");
        }
    }
    for (i = 0; i < count; i++) {
        if (answered[i]) continue;
        b->txs[first + i].sent_at = at;
        b->submitted++;
        reason_add(b, batch_why);
    }
    free(answered);
    json_decref(res);
    b->next_send = first + count;
    return 0;
}

/* Reads every block after height_seen up to the node's latest. */
static int poll_blocks(bench_state *b, client_t *cl, char *why, size_t why_len)
{
    json_t *st;
    if (client_call(cl, "status", NULL, &st, why, why_len)) return -1;
    uint64_t top = 0;
    cairn_err rc = client_json_u64(json_object_get(json_object_get(st, "sync_info"), "latest_block_height"),
                                   "latest_block_height", &top, why, why_len);
    json_decref(st);
    if (rc) return -1;
    for (uint64_t h = b->height_seen + 1; h <= top; h++) {
        json_t *params = json_pack("{s:s}", "height", "0");
        char hs[24];
        snprintf(hs, sizeof hs, "%llu", (unsigned long long)h);
        json_object_set_new(params, "height", json_string(hs));
        json_t *blk;
        rc = client_call(cl, "block", params, &blk, why, why_len);
        json_decref(params);
        if (rc) return -1;
        double at = now_s(b);
        json_t *txs = json_object_get(json_object_get(json_object_get(blk, "block"), "data"), "txs");
        size_t i;
        json_t *tx;
        uint64_t n = 0, bytes = 0;
        json_array_foreach(txs, i, tx) {
            const char *s = json_string_value(tx);
            uint8_t raw[TX_BYTES_MAX];
            size_t len;
            if (!s || base64_decode(raw, sizeof raw, &len, s, strlen(s)) != CAIRN_OK) continue;
            uint8_t hh[HASH_BYTES];
            tx_hash(hh, raw, len);
            n++;
            bytes += len;
            bench_tx *t = hmap_get(&b->by_hash, hh);
            if (t && t->committed_at < 0) {
                t->committed_at = at;
                b->committed++;
                b->last_commit_at = at;
            }
        }
        json_decref(blk);
        if (h > b->start_height) {
            if (b->blocks == 0) b->first_block_at = at;
            b->last_block_at = at;
            b->blocks++;
            b->block_txs += n;
            b->block_bytes += bytes;
        }
        b->height_seen = h;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    if (n == 0) return 0;
    size_t i = (size_t)ceil(p * (double)n) - 1;
    return v[i < n ? i : n - 1];
}

static int report(bench_state *b, double rate, double duration, uint32_t senders, bool json)
{
    double *lat = malloc((b->committed ? b->committed : 1) * sizeof *lat);
    if (!lat) return cli_fail("bench", "out of memory");
    size_t n = 0;
    double first_sent = -1;
    for (size_t i = 0; i < b->n_txs; i++) {
        if (b->txs[i].sent_at >= 0 && (first_sent < 0 || b->txs[i].sent_at < first_sent))
            first_sent = b->txs[i].sent_at;
        if (b->txs[i].committed_at >= 0 && b->txs[i].sent_at >= 0)
            lat[n++] = (b->txs[i].committed_at - b->txs[i].sent_at) * 1000;
    }
    qsort(lat, n, sizeof *lat, cmp_double);
    double span = b->last_commit_at - (first_sent < 0 ? 0 : first_sent);
    double tps = span > 0 ? (double)b->committed / span : 0;
    double interval = b->blocks > 1 ? (b->last_block_at - b->first_block_at) / (double)(b->blocks - 1) : 0;
    double avg_txs = b->blocks ? (double)b->block_txs / (double)b->blocks : 0;
    double avg_bytes = b->blocks ? (double)b->block_bytes / (double)b->blocks : 0;
    if (json) {
        json_t *r = json_object();
        for (uint32_t i = 0; i < b->n_reasons; i++)
            json_object_set_new(r, b->reasons[i].reason, json_integer((json_int_t)b->reasons[i].count));
        json_t *out = json_pack(
            "{s:f, s:f, s:i, s:I, s:I, s:I, s:f, s:{s:f, s:f, s:f, s:f}, s:o, s:{s:I, s:f, s:f, s:f}}",
            "rate_target", rate, "duration_s", duration, "senders", senders, "submitted",
            (json_int_t)b->submitted, "accepted", (json_int_t)b->accepted, "committed",
            (json_int_t)b->committed, "committed_tps", tps, "latency_ms", "p50", pct(lat, n, .5),
            "p90", pct(lat, n, .9), "p99", pct(lat, n, .99), "max", n ? lat[n - 1] : 0, "rejected", r,
            "blocks", "count", (json_int_t)b->blocks, "avg_txs", avg_txs, "avg_bytes", avg_bytes,
            "avg_interval_ms", interval * 1000);
        free(lat);
        return cli_print_json(out);
    }
    printf("\nsubmitted %llu, accepted %llu, committed %llu (%u senders)\n",
           (unsigned long long)b->submitted, (unsigned long long)b->accepted,
           (unsigned long long)b->committed, senders);
    printf("committed throughput  %.0f tx/s\n", tps);
    printf("commit latency (ms)   p50 %.0f  p90 %.0f  p99 %.0f  max %.0f\n", pct(lat, n, .5),
           pct(lat, n, .9), pct(lat, n, .99), n ? lat[n - 1] : 0);
    printf("blocks                %llu, %.1f txs and %.0f bytes each on average, every %.0f ms\n",
           (unsigned long long)b->blocks, avg_txs, avg_bytes, interval * 1000);
    for (uint32_t i = 0; i < b->n_reasons; i++)
        printf("rejected              %llu: %s\n", (unsigned long long)b->reasons[i].count,
               b->reasons[i].reason);
    free(lat);
    return b->committed > 0 ? CLI_EXIT_OK : cli_fail("bench", "nothing committed");
}

int cli_bench(int argc, char **argv)
{
    const char *node = CLIENT_DEFAULT_URL, *home_arg = NULL;
    double rate = 0, duration = 20;
    bool json = false;
    static const struct option opts[] = {
        {"node", required_argument, NULL, 'n'}, {"home", required_argument, NULL, 'H'},
        {"rate", required_argument, NULL, 'r'}, {"duration", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},       {"help", no_argument, NULL, 'h'},
        {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'n': node = optarg; break;
        case 'H': home_arg = optarg; break;
        case 'r':
            rate = strtod(optarg, &end);
            if (*end || rate < 0 || rate > 1e6) return cli_usage_error("bench", "--rate must be 0..1000000");
            break;
        case 'd':
            duration = strtod(optarg, &end);
            if (*end || duration <= 0 || duration > 3600)
                return cli_usage_error("bench", "--duration must be 0..3600 seconds");
            break;
        case 'j': json = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
        default: return cli_bad_option("bench", c, argv);
        }
    }
    char home[CLI_PATH_MAX];
    if (home_arg) snprintf(home, sizeof home, "%s", home_arg);
    else snprintf(home, sizeof home, "%s/.cairn-devnet", getenv("HOME") ? getenv("HOME") : ".");
    if (!cli_crypto_init("bench") || client_global_init() != CAIRN_OK) return CLI_EXIT_FAIL;
    log_level_set(LOG_WARN);
    char why[CLIENT_WHY_MAX];
    client_t *cl;
    if (client_new(node, 30000, &cl, why, sizeof why)) return cli_fail("bench", "%s", why);
    static bench_state b;
    memset(&b, 0, sizeof b);
    crypto_random(b.hash_key, sizeof b.hash_key);
    int rc = CLI_EXIT_FAIL;
    json_t *st = NULL;
    chain_id_t cid;
    if (client_call(cl, "status", NULL, &st, why, sizeof why)) {
        rc = cli_fail("bench", "%s", why);
        goto out;
    }
    const char *net = json_string_value(json_object_get(json_object_get(st, "node_info"), "network"));
    if (!net || chain_id_set(&cid, net) != CAIRN_OK ||
        client_json_u64(json_object_get(json_object_get(st, "sync_info"), "latest_block_height"),
                        "latest_block_height", &b.start_height, why, sizeof why)) {
        rc = cli_fail("bench", "the node's /status has no usable chain id or height");
        goto out;
    }
    b.height_seen = b.start_height;
    /* Enough transactions for the run: the rate times the duration, or for an
     * open-ended rate a budget the machine can sign in a few seconds. */
    size_t total = rate > 0 ? (size_t)(rate * duration) + 1 : (size_t)(8000 * duration);
    uint32_t senders = 0;
    clock_gettime(CLOCK_MONOTONIC, &b.t0);
    if (!json) fprintf(stderr, "signing transactions...\n");
    if ((rc = prepare(&b, cl, home, &cid, total / 8 + 1, &senders)) != 0) goto out;
    if (!json) fprintf(stderr, "signed %zu transfers from %u accounts in %.1f s; sending to %s\n",
                       b.n_txs, senders, now_s(&b), node);
    signal(SIGINT, on_sigint);
    clock_gettime(CLOCK_MONOTONIC, &b.t0);
    double next_poll = 0, next_print = 1, send_credit_at = 0;
    while (!interrupted) {
        double t = now_s(&b);
        bool sending = t < duration && b.next_send < b.n_txs;
        if (!sending && (b.committed >= b.accepted || t > duration + 30)) break;
        if (sending) {
            size_t want = BATCH_MAX;
            if (rate == 0 && b.accepted - b.committed >= IN_FLIGHT_MAX) want = 0; /* back-pressure */
            if (rate > 0) {
                double due = (t - send_credit_at) * rate;
                want = due < 1 ? 0 : due > BATCH_MAX ? BATCH_MAX : (size_t)due;
                if (want) send_credit_at += (double)want / rate;
            }
            if (want > b.n_txs - b.next_send) want = b.n_txs - b.next_send;
            if (want && submit(&b, cl, want, why, sizeof why) != 0) {
                rc = cli_fail("bench", "%s", why);
                goto out;
            }
        }
        if (t >= next_poll) {
            if (poll_blocks(&b, cl, why, sizeof why) != 0) {
                rc = cli_fail("bench", "%s", why);
                goto out;
            }
            next_poll = t + POLL_MS / 1000.0;
        }
        if (!json && t >= next_print) {
            fprintf(stderr, "\r%5.0fs  submitted %-8llu accepted %-8llu committed %-8llu height %-6llu",
                    t, (unsigned long long)b.submitted, (unsigned long long)b.accepted,
                    (unsigned long long)b.committed, (unsigned long long)b.height_seen);
            next_print = t + 1;
        }
        if (!sending || rate > 0 || b.accepted - b.committed >= IN_FLIGHT_MAX) usleep(2000);
    }
    if (!json) fprintf(stderr, "\n");
    rc = report(&b, rate, duration, senders, json);
out:
    json_decref(st);
    client_free(cl);
    for (size_t i = 0; i < b.n_txs; i++) free(b.txs[i].raw);
    free(b.txs);
    if (b.by_hash.cap) hmap_deinit(&b.by_hash);
    return rc;
}
