/* consensus.h - the Tendermint state machine of one validator (pure core).
 *
 * Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus"
 * (arXiv:1807.04938), Algorithm 1, as a step function:
 *
 *     consensus_step(state, input, now_ns, outputs)
 *
 * Inputs are messages (already signature-checked by the shell), timer expiries,
 * block verdicts and the start of a height; outputs are appended to a bounded list
 * in the order the shell must carry them out (docs/consensus.md, "the contract").
 *
 * Invariants (numbered as the code refers to them):
 *  1. For one (height, round, type) the core asks the signer for at most one vote
 *     (a restart with a persist record may repeat the very same vote).
 *  2. lockedRound only grows within a height; a precommit for a value v in round r
 *     is only asked for after locking v in r (line 36).
 *  3. Before every CONS_OUT_SIGN_* output whose decision depends on the state,
 *     a CONS_OUT_PERSIST record describing that state comes first.
 *  4. A validator's first vote per (height, round, type) is its vote and counts
 *     toward "2f+1 of any kind"; a second, different one becomes
 *     CONS_OUT_EVIDENCE (both votes) and counts only for its own value; further
 *     ones are dropped. So no validator counts twice for one value.
 *  5. Memory is fixed at consensus_new() (about 1.9 MB): CONS_ROUND_SLOTS rounds
 *     of vote sets, CONS_BLOCKS_MAX known blocks; one step appends at most
 *     CONS_STEP_OUTPUTS_MAX outputs.
 *  6. Input is never trusted: indices, rounds and heights are range-checked and
 *     a bad input is dropped with a reason counter, never asserted on.
 *
 * Pure: no I/O, no clock (now_ns is passed in), no allocation after
 * consensus_new(). One thread owns a state; distinct states are independent.
 */
#ifndef CAIRN_CONSENSUS_CONSENSUS_H
#define CAIRN_CONSENSUS_CONSENSUS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "chain/chain.h"

#define CONS_OUTPUTS_MAX 32      /* capacity of an output list */
#define CONS_STEP_OUTPUTS_MAX 24 /* most outputs one step appends (the worst cascade: ~14) */
#define CONS_ROUND_SLOTS 16     /* rounds whose votes are kept at once */
#define CONS_ROUNDS_AHEAD 4     /* future rounds whose votes are stored */
#define CONS_ROUND_MAX 100000   /* rounds beyond round + this are dropped */
#define CONS_BLOCKS_MAX 32      /* blocks known at one height */

enum cons_step { CONS_STEP_PROPOSE = 1, CONS_STEP_PREVOTE = 2, CONS_STEP_PRECOMMIT = 3,
                 CONS_STEP_DECIDED = 4 /* waiting for CONS_IN_START_HEIGHT */ };

/* What the shell knows of a block it was told about. */
enum cons_block_status { CONS_BLOCK_UNKNOWN = 0, /* id only: the block has not arrived */
                         CONS_BLOCK_VALID = 1,   /* arrived and passed validation */
                         CONS_BLOCK_INVALID = 2  /* arrived and failed validation */ };

/* Timeouts: base + round * delta, per step (nanoseconds). */
typedef struct {
    int64_t propose_base_ns, propose_delta_ns;
    int64_t prevote_base_ns, prevote_delta_ns;
    int64_t precommit_base_ns, precommit_delta_ns;
} cons_config_t;

/* CometBFT's defaults: propose 3 s + 0.5 s/round, prevote and precommit 1 s + 0.5 s. */
void consensus_config_default(cons_config_t *cfg);

/* ------------------------------------------------------------------ persist */

/* What must survive a crash so that a restarted validator never contradicts its
 * votes: the lock, the valid value and what it already voted in `round`. */
typedef struct {
    uint64_t height;
    uint32_t round;
    uint8_t step;            /* enum cons_step */
    int32_t locked_round;    /* -1: none */
    uint8_t locked_id[HASH_BYTES];
    int64_t locked_time_ns;  /* header time of the locked block (0 if none): a */
    int32_t valid_round;     /* restarted core's precommit must be later than it */
    uint8_t valid_id[HASH_BYTES];
    int64_t valid_time_ns;   /* header time of the valid block (0 if none) */
    uint8_t voted;           /* bit 0: prevoted in `round`, bit 1: precommitted */
    uint8_t prevote_id[HASH_BYTES];
    uint8_t precommit_id[HASH_BYTES];
} cons_persist_t;

#define CONS_PERSIST_BYTES 167 /* encoded size */

/* ------------------------------------------------------------------ inputs */

enum cons_input_kind {
    CONS_IN_START_HEIGHT = 1, /* begin a height (after the previous one is applied) */
    CONS_IN_PROPOSAL,         /* a proposal from a peer or from ourselves */
    CONS_IN_VOTE,             /* a prevote or precommit, ours included */
    CONS_IN_BLOCK,            /* a block arrived (or was re-checked) apart from its proposal */
    CONS_IN_BLOCK_CREATED,    /* the answer to CONS_OUT_CREATE_BLOCK */
    CONS_IN_TIMEOUT,          /* a timer set by CONS_OUT_SCHEDULE_TIMEOUT expired */
};

typedef struct {
    uint8_t kind; /* enum cons_input_kind */
    union {
        struct {
            uint64_t height;
            const valset_t *validators;      /* borrowed during the call: copied */
            /* Priorities as for round 0 of `height` (valset_proposer() is its
             * proposer); round r's proposer is this set incremented r times. */
            int64_t last_block_time_ns;      /* time of block height-1 (genesis time at 1) */
            const valset_t *last_validators; /* signed last_commit; NULL at height 1 */
            const vote_t *last_commit;       /* the precommits for block height-1: */
            uint32_t n_last_commit;          /* copied; 0 at height 1 */
            /* After a restart: the last durable CONS_OUT_PERSIST record of this
             * height, or NULL. The core resumes its round, step, lock and valid
             * value and asks again for the votes it had asked for in that round
             * (the signer hands back the same signature for the same vote). */
            const cons_persist_t *restore;
        } start;
        struct {
            proposal_t proposal;
            uint8_t block_status;  /* enum cons_block_status of proposal.block_id */
            int64_t block_time_ns; /* the block's header time, if known */
        } proposal;
        vote_t vote;
        struct {
            uint64_t height;
            uint8_t block_id[HASH_BYTES];
            uint8_t status;        /* CONS_BLOCK_VALID or CONS_BLOCK_INVALID */
            int64_t block_time_ns;
        } block;
        struct {
            uint64_t height;
            uint32_t round;
            uint8_t block_id[HASH_BYTES]; /* the block the shell built and stored */
            int64_t block_time_ns;
        } created;
        struct {
            uint64_t height;
            uint32_t round;
            uint8_t step; /* enum cons_step: PROPOSE, PREVOTE or PRECOMMIT */
        } timeout;
    } u;
} cons_input_t;

/* ------------------------------------------------------------------ outputs */

enum cons_output_kind {
    /* Make this record durable (WAL, fsync) before carrying out any later output. */
    CONS_OUT_PERSIST = 1,
    /* Sign (the signer persists its last-signed state first, and refuses a
     * conflicting message), broadcast, and feed the signed message back as input. */
    CONS_OUT_SIGN_PROPOSAL,
    CONS_OUT_SIGN_VOTE,
    /* Start a timer; on expiry feed CONS_IN_TIMEOUT with the same h/r/step. */
    CONS_OUT_SCHEDULE_TIMEOUT,
    /* Build a block for (height, round) with header time `time_ns` and
     * last_commit = the precommits given; answer with CONS_IN_BLOCK_CREATED. */
    CONS_OUT_CREATE_BLOCK,
    /* Block `block_id` is decided at `height`; store it with the commit, apply it,
     * then send CONS_IN_START_HEIGHT for height + 1. */
    CONS_OUT_DECIDE,
    /* Two conflicting votes from one validator: gossip and include in a block. */
    CONS_OUT_EVIDENCE,
};


typedef struct {
    uint8_t kind; /* enum cons_output_kind */
    union {
        cons_persist_t persist;
        proposal_t proposal; /* unsigned: sig is zero */
        vote_t vote;         /* unsigned: sig is zero */
        struct {
            uint64_t height;
            uint32_t round;
            uint8_t step;
            int64_t duration_ns;
        } timeout;
        struct {
            uint64_t height;
            uint32_t round;
            int64_t time_ns;        /* BFT time: weighted median of last_commit */
            const vote_t *last_commit; /* owned by the state, valid until the next step */
            uint32_t n_last_commit;
        } create;
        struct {
            uint64_t height;
            uint32_t round;
            uint8_t block_id[HASH_BYTES];
            const vote_t *precommits; /* > 2/3 of the power for block_id; owned by
                                       * the state, valid until the next step */
            uint32_t n_precommits;
        } decide;
        evidence_t evidence;
    } u;
} cons_output_t;

typedef struct {
    uint32_t n;
    cons_output_t items[CONS_OUTPUTS_MAX];
} cons_outputs_t;

/* ------------------------------------------------------------------ drops */

#define CONS_DROP_MAP(XX)                                                        \
    XX(NOT_STARTED, "no height started yet")                                     \
    XX(MALFORMED, "malformed input (type, step, pol_round or status)")           \
    XX(OLD_HEIGHT, "for a height already decided")                               \
    XX(FUTURE_HEIGHT, "for a future height")                                     \
    XX(FAR_ROUND, "round too far ahead")                                         \
    XX(NO_SLOT, "round not kept (too old or too far ahead to store)")            \
    XX(NOT_VALIDATOR, "sender is not in the validator set")                      \
    XX(BAD_INDEX, "validator index does not match the address")                  \
    XX(NOT_PROPOSER, "proposal from a validator that is not the round's proposer") \
    XX(DUPLICATE, "duplicate")                                                   \
    XX(CONFLICTING_VOTE, "second, different vote from a validator (evidence)")   \
    XX(CONFLICTING_PROPOSAL, "second, different proposal for a round")           \
    XX(STALE, "timeout or block answer for a past height, round or step")        \
    XX(TOO_MANY_BLOCKS, "too many blocks known at this height")

enum cons_drop {
#define XX(name, msg) CONS_DROP_##name,
    CONS_DROP_MAP(XX)
#undef XX
    CONS_DROP__COUNT
};

const char *consensus_drop_name(enum cons_drop d);

/* ------------------------------------------------------------------ state */

typedef struct consensus consensus_t;

/* Heap object: consensus_free(). own_address is this node's validator address,
 * NULL for a node that never votes or proposes. The state waits for
 * CONS_IN_START_HEIGHT. Returns NULL when out of memory. */
consensus_t *consensus_new(const cons_config_t *cfg, const uint8_t *own_address);
void consensus_free(consensus_t *c);

/* Feeds one input. Outputs are appended to out (the caller sets out->n = 0 before
 * a batch; LIMIT without doing anything if fewer than CONS_STEP_OUTPUTS_MAX slots
 * are free). CAIRN_OK if the
 * input was used. A dropped input returns a specific error and counts in
 * consensus_drops(): BAD_HEIGHT (old or future height, stale timeout or answer),
 * BAD_VALIDATOR (not a validator, index/address mismatch), BAD_PROPOSER,
 * DUPLICATE, BAD_EVIDENCE (a conflicting vote: the evidence is in out), LIMIT
 * (round not kept, too many blocks), INVALID_ARG (malformed), BUSY (no height
 * started yet). A dropped input changes nothing but the counters (and emits the
 * evidence of a conflicting vote). */
cairn_err consensus_step(consensus_t *c, const cons_input_t *in, int64_t now_ns,
                         cons_outputs_t *out) CAIRN_MUST_CHECK;

/* Read-only views for the shell, tests and the simulator. */
uint64_t consensus_height(const consensus_t *c);
uint32_t consensus_round(const consensus_t *c);
enum cons_step consensus_step_of(const consensus_t *c);
int32_t consensus_locked_round(const consensus_t *c);
/* NULL if not locked; borrows from c. */
const uint8_t *consensus_locked_id(const consensus_t *c);
int32_t consensus_valid_round(const consensus_t *c);
uint64_t consensus_drops(const consensus_t *c, enum cons_drop d);
/* Copies up to max votes of (round, type) that the core holds at the current
 * height, in validator order; returns how many. For gossip: a proposer relays
 * the prevotes of its proposal's POL round with it (line 28 needs them). */
uint32_t consensus_votes_get(const consensus_t *c, uint32_t round, uint8_t type, vote_t *out,
                            uint32_t max);
/* Current state as a persist record. */
void consensus_snapshot(const consensus_t *c, cons_persist_t *out);

/* Weighted median of the precommit times (CometBFT's MedianTime): vote weights are
 * the powers in vs by validator index; votes with an out-of-range index or nil
 * block id are skipped. INVALID_ARG if no vote counts. */
cairn_err consensus_median_time(const vote_t *votes, uint32_t n, const valset_t *vs,
                                int64_t *out_ns) CAIRN_MUST_CHECK;

/* The persist record's canonical encoding (version byte first, CONS_PERSIST_BYTES
 * long); the decoder is strict (codec.h rules) and checks the record's own
 * consistency. */
cairn_err consensus_persist_encode(const cons_persist_t *rec, buf_t *out) CAIRN_MUST_CHECK;
cairn_err consensus_persist_decode(cons_persist_t *rec, const uint8_t *p,
                                   size_t n) CAIRN_MUST_CHECK;

const char *consensus_step_name(enum cons_step s);

#endif
