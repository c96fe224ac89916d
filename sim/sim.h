/* sim.h - deterministic simulator of n validators running the real consensus core.
 *
 * One process, one thread, one seeded PRNG (xoshiro256** seeded by splitmix64),
 * a simulated clock and an event queue ordered by (time, sequence number): the
 * same seed and options replay exactly the same run. The simulator plays the node
 * shell for every validator (docs/consensus.md, "the contract"): network with
 * delay, drop, duplication, reordering, partitions and one-way links; crashes at
 * any point with restart from the node's durable records (an in-memory WAL whose
 * unsynced tail may be lost, and the signer's state); clock skew and drift;
 * Byzantine validators. Checkers run after every event: agreement, validity,
 * no honest double-sign and liveness after healing.
 */
#ifndef CAIRN_SIM_SIM_H
#define CAIRN_SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>

#define SIM_NODES_MAX 16

typedef struct {
    uint64_t seed;
    uint32_t validators;
    uint32_t heights;
    const char *schedule; /* NULL: chosen by the seed among the regular schedules */
    bool trace;
    bool quiet;
} sim_options_t;

typedef struct {
    bool violation;          /* a checker fired */
    char what[256];          /* which checker and why */
    uint64_t min_height;     /* committed by every honest node */
    uint64_t events;
    int64_t sim_time_ns;
    const char *schedule;
    uint64_t drops_by_core;  /* inputs the cores dropped, all reasons */
    uint64_t evidence;       /* evidence outputs seen */
    uint64_t crashes;
} sim_result_t;

/* Runs one seed. Returns 0 when every check held, 1 when one fired (r->what). */
int sim_run(const sim_options_t *opt, sim_result_t *r);

/* Regular schedule names, NULL-terminated; "split-brain" is the negative control. */
extern const char *const sim_schedule_names[];
bool sim_schedule_known(const char *name);

#endif
