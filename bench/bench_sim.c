/* bench_sim.c - simulator throughput: heights committed (by every honest node) per
 * second of CPU, for n = 4 and n = 7, in a calm network and under the chaos
 * schedule. Everything runs the real consensus cores; the simulated network,
 * disk and clocks cost little next to them. The simulator is built into this
 * benchmark (sim/sim.c has no main; sim/main.c is cairn-sim's).
 *
 *   ./build/bench/bench_sim [seeds]     (default 20 seeds x 200 heights per case)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../sim/sim.c"

static double cpu_now(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}

int main(int argc, char **argv)
{
    uint64_t seeds = argc > 1 ? strtoull(argv[1], NULL, 10) : 20;
    if (seeds == 0) seeds = 1;
    if (crypto_init() != CAIRN_OK) return 1;
    log_level_set(LOG_WARN);
    static const struct { uint32_t n; const char *schedule; } cases[] = {
        {4, "calm"}, {4, "chaos"}, {7, "calm"}, {7, "chaos"},
    };
    printf("%-3s %-6s %6s %8s %10s %10s %12s\n", "n", "sched", "seeds", "heights", "events", "cpu_s",
           "heights/cpu_s");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sim_options_t opt = {.validators = cases[k].n, .heights = 200, .schedule = cases[k].schedule};
        uint64_t heights = 0, events = 0;
        double t0 = cpu_now();
        for (uint64_t s = 1; s <= seeds; s++) {
            opt.seed = s;
            sim_result_t r;
            if (sim_run(&opt, &r) != 0) {
                printf("FAIL seed=%llu n=%u %s: %s\n", (unsigned long long)s, opt.validators,
                       opt.schedule, r.what);
                return 1;
            }
            heights += r.min_height;
            events += r.events;
        }
        double cpu = cpu_now() - t0;
        printf("%-3u %-6s %6llu %8llu %10llu %10.2f %12.0f\n", cases[k].n, cases[k].schedule,
               (unsigned long long)seeds, (unsigned long long)heights, (unsigned long long)events, cpu,
               cpu > 0 ? (double)heights / cpu : 0.0);
    }
    return 0;
}
