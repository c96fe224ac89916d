/* consensus_int.h - the consensus module's own declarations (not for others).
 *
 * The state layout lives here so that the module's files share it; everybody
 * else sees consensus_t as opaque (consensus.h).
 */
#ifndef CAIRN_CONSENSUS_CONSENSUS_INT_H
#define CAIRN_CONSENSUS_CONSENSUS_INT_H

#include "consensus/consensus.h"

/* Power gathered by one block id (or nil) in one vote set. */
typedef struct {
    uint8_t id[HASH_BYTES];
    int64_t power;
} cons_tally_t;

/* The votes of one type in one round: the first vote of each validator is its
 * vote (invariant 4); one conflicting second vote is kept too and counted for its
 * own value only (the paper counts messages per value; CometBFT keeps such votes
 * once a peer claims a +2/3 majority for them), so that a double-voter cannot
 * hide a POL from us. Further conflicting votes are dropped. */
typedef struct {
    uint8_t have[VALIDATORS_MAX];
    uint8_t have2[VALIDATORS_MAX];     /* a second, conflicting vote is kept */
    uint8_t evidenced[VALIDATORS_MAX]; /* evidence already emitted for this slot */
    vote_t votes[VALIDATORS_MAX];
    vote_t votes2[VALIDATORS_MAX];
    cons_tally_t tally[2 * VALIDATORS_MAX];
    uint32_t n_tally;   /* <= number of votes kept */
    int64_t power_any;  /* power of the validators that voted (first votes) */
    int32_t quorum;     /* index in tally of the id with > 2/3, or -1 */
} cons_voteset_t;

typedef struct {
    bool used;
    uint32_t round;
    cons_voteset_t prevotes, precommits;
    bool has_proposal;
    proposal_t proposal;
    bool timeout_prevote_set;   /* line 34 fired */
    bool timeout_precommit_set; /* line 47 fired */
    bool lock_done;             /* line 36 fired */
} cons_round_t;

typedef struct {
    bool used;
    uint8_t id[HASH_BYTES];
    uint8_t status; /* CONS_BLOCK_VALID or CONS_BLOCK_INVALID */
    int64_t time_ns;
    uint64_t seq; /* insertion order, for eviction */
} cons_block_t;

struct consensus {
    cons_config_t cfg;
    bool has_own;
    uint8_t own_address[ADDR_BYTES];

    bool started;
    uint64_t height;
    uint32_t round;
    uint8_t step;
    int32_t own_index; /* in vals, -1 if not a validator at this height */
    valset_t vals;

    /* Proposer cache: vals incremented prop_round times. */
    valset_t prop_vals;
    uint32_t prop_round;

    int32_t locked_round;
    uint8_t locked_id[HASH_BYTES];
    int64_t locked_time_ns;
    int32_t valid_round;
    uint8_t valid_id[HASH_BYTES];
    int64_t valid_time_ns;
    uint8_t voted; /* in `round`: bit 0 prevote, bit 1 precommit */
    uint8_t prevote_id[HASH_BYTES];
    uint8_t precommit_id[HASH_BYTES];
    bool create_pending;   /* CONS_OUT_CREATE_BLOCK sent for (height, round) */
    bool proposed;         /* CONS_OUT_SIGN_PROPOSAL sent for (height, round) */
    bool dirty;            /* persisted fields changed since the last record */

    /* Line 55: highest round each validator sent anything for, -1 if none. */
    int64_t max_round_seen[VALIDATORS_MAX];
    bool skip_check;

    bool has_last_vals;
    valset_t last_vals;
    int64_t last_block_time_ns;
    vote_t last_commit[VALIDATORS_MAX];
    uint32_t n_last_commit;
    vote_t decided[VALIDATORS_MAX];
    uint32_t n_decided;

    cons_round_t rounds[CONS_ROUND_SLOTS];
    cons_block_t blocks[CONS_BLOCKS_MAX];
    uint64_t block_seq;

    uint64_t drops[CONS_DROP__COUNT];

    /* Set for the duration of one consensus_step. */
    cons_outputs_t *out;
    int64_t now_ns;
};

/* A persist record that a correct core could have written (consensus.c). */
bool consensus_persist_consistent(const cons_persist_t *rec);

#endif
