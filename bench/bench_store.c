/* bench_store.c - block store throughput, and a small tool for the damage
 * integration test.
 *
 *   bench_store                    write blocks with sync on and off, read-verify
 *                                  them, scrub them; prints blocks/s
 *   bench_store fill DIR N         create a store at DIR with N linked blocks
 *   bench_store get DIR HEIGHT     read-verify one block: prints "ok" (exit 0),
 *                                  or the error name (exit 3)
 *   bench_store scrub DIR          prints one line per damaged key; exit 0 if
 *                                  clean, 4 if damaged, 1 on error
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/unit/store/store_chain_fixture.h"
#include "../tests/unit/store/store_test_util.h"
#include "base/log.h"
#include "store/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fill(store_t *s, const fx_chain *c, uint64_t from, uint64_t n)
{
    for (uint64_t i = from; i < from + n && i < c->n; i++) {
        store_block_save_args a = fx_save_args(&c->b[i]);
        cairn_err rc = store_block_save(s, &a);
        if (rc != CAIRN_OK) {
            fprintf(stderr, "save %llu: %s\n", (unsigned long long)(i + 1),
                    cairn_strerror(rc));
            return -1;
        }
    }
    return 0;
}

static double bench_write(const fx_chain *c, bool sync, uint64_t n, double *bytes_out)
{
    char dir[256], path[300];
    if (tmpdir_make(dir) != 0) return -1;
    snprintf(path, sizeof path, "%s/db", dir);
    store_options o;
    store_options_default(&o);
    o.sync = sync;
    store_t *s = NULL;
    double rate = -1;
    if (store_open(path, &o, &s) != CAIRN_OK) goto out;
    double bytes = 0;
    for (uint64_t i = 0; i < n; i++) bytes += (double)c->b[i].raw.len;
    double t0 = now_s();
    if (fill(s, c, 0, n) != 0) goto out;
    double dt = now_s() - t0;
    rate = (double)n / dt;
    *bytes_out = bytes / dt;
out:
    store_close(s);
    tmpdir_remove(dir);
    return rate;
}

static int bench(void)
{
    const uint64_t n = 2000;
    fx_chain c;
    double t0 = now_s();
    if (fx_chain_make(&c, n, 20) != 0) return 1;
    uint64_t txs = 0;
    double avg = 0;
    for (uint64_t i = 0; i < n; i++) {
        txs += c.b[i].n_txs;
        avg += (double)c.b[i].raw.len;
    }
    printf("store bench: %llu blocks, %llu txs, avg block %.0f bytes (built in %.1f s)\n",
           (unsigned long long)n, (unsigned long long)txs, avg / (double)n, now_s() - t0);
    double bps = 0;
    uint64_t n_sync = 300;
    double r = bench_write(&c, true, n_sync, &bps);
    printf("write sync=on : %8.0f blocks/s  %6.2f MB/s  (%llu blocks)\n", r, bps / 1e6,
           (unsigned long long)n_sync);
    r = bench_write(&c, false, n, &bps);
    printf("write sync=off: %8.0f blocks/s  %6.2f MB/s  (%llu blocks)\n", r, bps / 1e6,
           (unsigned long long)n);

    char dir[256], path[300];
    if (tmpdir_make(dir) != 0) return 1;
    snprintf(path, sizeof path, "%s/db", dir);
    store_options o;
    store_options_default(&o);
    o.sync = false;
    store_t *s = NULL;
    int ret = 1;
    if (store_open(path, &o, &s) != CAIRN_OK || fill(s, &c, 0, n) != 0) goto out;
    for (int pass = 0; pass < 2; pass++) {
        store_close(s);
        s = NULL;
        o.verify_next = pass == 0;
        if (store_open(path, &o, &s) != CAIRN_OK) goto out;
        t0 = now_s();
        for (uint64_t h = 1; h <= n; h++) {
            block_t b;
            if (store_block_get(s, h, &b) != CAIRN_OK) goto out;
            block_free(&b);
        }
        double dt = now_s() - t0;
        printf("read+verify (verify_next=%s): %8.0f blocks/s\n", pass == 0 ? "on " : "off",
               (double)n / dt);
    }
    t0 = now_s();
    uint64_t found = 0;
    for (uint64_t h = 1; h <= n; h++) {
        const fx_block *fb = &c.b[h - 1];
        for (uint32_t i = 0; i < fb->n_txs; i++) {
            uint8_t th[HASH_BYTES];
            tx_hash(th, fb->block.txs[i].p, fb->block.txs[i].len);
            if (store_tx_get(s, th, NULL, NULL, NULL, NULL) != CAIRN_OK) goto out;
            found++;
        }
    }
    printf("tx_get (verified through its block): %8.0f txs/s\n",
           (double)found / (now_s() - t0));
    store_scrub_report rep;
    t0 = now_s();
    if (store_scrub(s, &rep, NULL, NULL) != CAIRN_OK) goto out;
    double dt = now_s() - t0;
    printf("scrub: %8.0f heights/s (%llu records, %llu damaged)\n",
           (double)rep.heights_checked / dt, (unsigned long long)rep.records_checked,
           (unsigned long long)rep.damaged);
    ret = rep.damaged == 0 ? 0 : 1;
    store_scrub_report_free(&rep);
out:
    store_close(s);
    tmpdir_remove(dir);
    fx_chain_free(&c);
    if (ret) fprintf(stderr, "bench_store failed\n");
    return ret;
}

static int tool_fill(const char *path, uint64_t n)
{
    fx_chain c;
    if (fx_chain_make(&c, n, 4) != 0) return 1;
    store_t *s = NULL;
    int ret = 1;
    if (store_open(path, NULL, &s) == CAIRN_OK && fill(s, &c, store_height(s), n) == 0)
        ret = 0;
    store_close(s);
    fx_chain_free(&c);
    return ret;
}

static int tool_get(const char *path, uint64_t h)
{
    store_options o;
    store_options_default(&o);
    o.create_if_missing = false;
    store_t *s = NULL;
    cairn_err rc = store_open(path, &o, &s);
    if (rc == CAIRN_OK) {
        block_t b;
        rc = store_block_get(s, h, &b);
        if (rc == CAIRN_OK) block_free(&b);
    }
    store_close(s);
    printf("%s\n", rc == CAIRN_OK ? "ok" : cairn_errname(rc));
    return rc == CAIRN_OK ? 0 : 3;
}

static int tool_scrub(const char *path)
{
    store_options o;
    store_options_default(&o);
    o.create_if_missing = false;
    store_t *s = NULL;
    if (store_open(path, &o, &s) != CAIRN_OK) return 1;
    store_scrub_report rep;
    cairn_err rc = store_scrub(s, &rep, NULL, NULL);
    int ret = 1;
    if (rc == CAIRN_OK) {
        for (uint32_t i = 0; i < rep.n_entries; i++) {
            char line[256];
            store_damage_format(&rep.entries[i], line, sizeof line);
            printf("%s\n", line);
        }
        printf("checked %llu heights, %llu damaged\n",
               (unsigned long long)rep.heights_checked, (unsigned long long)rep.damaged);
        ret = rep.damaged ? 4 : 0;
    }
    store_scrub_report_free(&rep);
    store_close(s);
    return ret;
}

int main(int argc, char **argv)
{
    log_level_set(LOG_OFF);
    if (argc == 1) return bench();
    if (argc == 4 && strcmp(argv[1], "fill") == 0)
        return tool_fill(argv[2], strtoull(argv[3], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "get") == 0)
        return tool_get(argv[2], strtoull(argv[3], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "scrub") == 0) return tool_scrub(argv[2]);
    fprintf(stderr, "usage: bench_store | fill DIR N | get DIR HEIGHT | scrub DIR\n");
    return 2;
}
