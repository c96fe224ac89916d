/* main.c - cairn-sim: run the deterministic consensus simulator (sim.h).
 *
 *   cairn-sim --seed S [--validators N] [--heights H] [--schedule NAME] [--trace]
 *   cairn-sim --seeds K [--seed FIRST] ...          K seeds: FIRST .. FIRST+K-1
 *   cairn-sim ... --expect-violation                succeed only if every seed
 *                                                   makes a checker fire
 * Without --schedule each seed picks one of the regular schedules itself, so a
 * seed alone reproduces its run; failures print the exact command to rerun.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "crypto/crypto.h"
#include "sim.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cairn-sim [--seed S] [--seeds K] [--validators N] [--heights H]\n"
            "                 [--schedule NAME] [--trace] [--quiet] [--expect-violation]\n"
            "schedules:");
    for (int i = 0; sim_schedule_names[i]; i++) fprintf(f, " %s", sim_schedule_names[i]);
    fprintf(f, "\nnegative controls (use --expect-violation): split-brain (2 of 4 equivocating\n"
                    "across a partition: agreement must fail), stall (1/3 of the power silent:\n"
                    "liveness must fail)\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s) return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    sim_options_t opt = {.seed = 1, .validators = 4, .heights = 100};
    uint64_t seeds = 1, v;
    bool expect_violation = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--seed") && parse_u64(val, &opt.seed) == 0) i++;
        else if (!strcmp(a, "--seeds") && parse_u64(val, &seeds) == 0 && seeds > 0) i++;
        else if (!strcmp(a, "--validators") && parse_u64(val, &v) == 0 && v >= 1 && v <= SIM_NODES_MAX) {
            opt.validators = (uint32_t)v;
            i++;
        } else if (!strcmp(a, "--heights") && parse_u64(val, &v) == 0 && v >= 1 && v <= 1000000) {
            opt.heights = (uint32_t)v;
            i++;
        } else if (!strcmp(a, "--schedule") && val && sim_schedule_known(val)) {
            opt.schedule = val;
            i++;
        } else if (!strcmp(a, "--trace")) opt.trace = true;
        else if (!strcmp(a, "--quiet")) opt.quiet = true;
        else if (!strcmp(a, "--expect-violation")) expect_violation = true;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "cairn-sim: bad argument '%s'%s\n", a,
                    val && a[0] == '-' ? " (or its value)" : "");
            usage(stderr);
            return 2;
        }
    }
    if (crypto_init() != CAIRN_OK) {
        fprintf(stderr, "cairn-sim: crypto_init failed\n");
        return 2;
    }
    log_level_set(LOG_WARN);
    uint64_t first = opt.seed, bad = 0, heights = 0, events = 0, evidence = 0, crashes = 0;
    clock_t c0 = clock();
    for (uint64_t s = first; s < first + seeds; s++) {
        opt.seed = s;
        sim_result_t r;
        int rc = sim_run(&opt, &r);
        heights += r.min_height;
        events += r.events;
        evidence += r.evidence;
        crashes += r.crashes;
        bool ok = expect_violation ? rc != 0 : rc == 0;
        if (!ok) {
            bad++;
            printf("FAIL seed=%" PRIu64 " schedule=%s validators=%u: %s\n", s, r.schedule,
                   opt.validators, expect_violation ? "expected a checker to fire, none did" : r.what);
            printf("  reproduce: ./build/cairn-sim --seed %" PRIu64 " --validators %u --heights %u "
                   "--schedule %s%s --trace\n",
                   s, opt.validators, opt.heights, r.schedule, expect_violation ? " --expect-violation" : "");
        } else if (!opt.quiet || seeds == 1) {
            printf("ok   seed=%" PRIu64 " schedule=%s validators=%u heights=%" PRIu64
                   " sim=%.1fs events=%" PRIu64 "%s%s\n",
                   s, r.schedule, opt.validators, r.min_height, (double)r.sim_time_ns / 1e9, r.events,
                   expect_violation ? " violation: " : "", expect_violation ? r.what : "");
        }
        fflush(stdout);
    }
    double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    printf("%" PRIu64 " seeds, %" PRIu64 " failed; %" PRIu64 " heights committed by every honest node, "
           "%" PRIu64 " events, %" PRIu64 " evidence, %" PRIu64 " crashes; %.2f s CPU, %.0f heights/s CPU\n",
           seeds, bad, heights, events, evidence, crashes, cpu, cpu > 0 ? (double)heights / cpu : 0.0);
    return bad ? 1 : 0;
}
