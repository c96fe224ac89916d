/* bench_state_check - what the scrub's state check (src/node/state_check.c)
 * costs on a RocksDB store: N accounts written in blocks of 1000 keys, then one
 * node_state_check of the newest version (every tree node re-hashed, every
 * latest-value entry compared with the tree). Prints wall time, reads per
 * second and the process's peak memory. `bench_state_check [N]`, default
 * 100000; the store goes to a temporary folder that is removed afterwards. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "app/smt.h"
#include "node/node_int.h"
#include "store/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
    char dir[] = "/tmp/cairn-bench-state-check-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    store_t *s;
    store_options o;
    store_options_default(&o);
    o.sync = false;
    if (store_open(dir, &o, &s) != CAIRN_OK) return 1;
    kv_reader r = store_state_reader(s);
    uint8_t root[SMT_HASH_BYTES], val[LEDGER_ACCOUNT_BYTES];
    ledger_account_t a = {1000, 0};
    ledger_account_encode(&a, val);
    enum { CHUNK = 1000 };
    static smt_op ops[CHUNK];
    static uint8_t keys[CHUNK][9];
    uint64_t version = SMT_VERSION_NONE;
    double t0 = now_s();
    for (uint64_t done = 0; done < n; done += CHUNK) {
        uint64_t m = n - done < CHUNK ? n - done : CHUNK;
        for (uint64_t j = 0; j < m; j++) {
            uint64_t i = done + j;
            keys[j][0] = 'a';
            memcpy(keys[j] + 1, &i, 8);
            ops[j] = (smt_op){keys[j], 9, val, sizeof val};
        }
        kv_batch b;
        kv_batch_init(&b);
        uint64_t next = version == SMT_VERSION_NONE ? 0 : version + 1;
        if (smt_apply(&r, version, next, ops, m, &b, root, NULL) != CAIRN_OK ||
            store_state_write(s, &b) != CAIRN_OK)
            return 1;
        kv_batch_deinit(&b);
        version = next;
    }
    double t1 = now_s();
    node_state_report rep;
    cairn_err rc = node_state_check(s, version, root, &rep);
    double t2 = now_s();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("state check of %" PRIu64 " accounts (%" PRIu64 " tree nodes, %" PRIu64
           " index entries): %.2f s, %.0f records/s; %s, %" PRIu64 " damaged; "
           "build %.1f s; peak RSS %ld MiB\n",
           n, rep.leaves + rep.internal, rep.index_checked, t2 - t1,
           (double)(rep.leaves + rep.internal + rep.index_checked) / (t2 - t1),
           rc ? cairn_strerror(rc) : "ok",
           (uint64_t)(rep.index_bad + (rep.root_bad ? 1 : 0) + (rep.tree_rc ? 1 : 0)), t1 - t0,
           ru.ru_maxrss / 1024);
    store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    return rc || rep.index_bad || rep.root_bad || rep.tree_rc ? 1 : 0;
}
