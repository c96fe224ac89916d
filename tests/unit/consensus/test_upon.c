/* test_upon.c - each upon-clause of Algorithm 1 (arXiv:1807.04938), walked with
 * hand-built messages. Line numbers refer to the paper. */
#include "harness.h"

/* Lines 11-21: a non-proposer starts round 0 and only arms timeoutPropose(0). */
static void start_round_non_proposer_arms_propose_timeout(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_null(h_out(h, CONS_OUT_CREATE_BLOCK, 0));
    assert_null(h_out(h, CONS_OUT_SIGN_PROPOSAL, 0));
    const cons_output_t *t = h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0);
    assert_non_null(t);
    assert_int_equal(t->u.timeout.step, CONS_STEP_PROPOSE);
    assert_int_equal(t->u.timeout.round, 0);
    assert_int_equal(t->u.timeout.duration_ns, 300 * MS_NS);
    assert_int_equal(consensus_step_of(h->c), CONS_STEP_PROPOSE);
    h_free(h);
}

/* Lines 16-19: the proposer without a valid value asks for a new block, then
 * proposes it with validRound -1. */
static void proposer_asks_for_a_block_and_proposes_it(void **state)
{
    (void)state;
    h_t *h = h_new(true, 0);
    h_start(h);
    const cons_output_t *cb = h_out(h, CONS_OUT_CREATE_BLOCK, 0);
    assert_non_null(cb);
    assert_int_equal(cb->u.create.height, 1);
    assert_int_equal(cb->u.create.round, 0);
    assert_int_equal(cb->u.create.time_ns, GENESIS_NS); /* height 1: genesis time */
    cons_input_t in = {.kind = CONS_IN_BLOCK_CREATED};
    in.u.created.height = 1;
    in.u.created.round = 0;
    h_id(in.u.created.block_id, 7);
    assert_int_equal(h_step(h, &in), CAIRN_OK);
    const cons_output_t *p = h_out(h, CONS_OUT_SIGN_PROPOSAL, 0);
    assert_non_null(p);
    assert_true(h_is_tag(p->u.proposal.block_id, 7));
    assert_int_equal(p->u.proposal.pol_round, -1);
    assert_memory_equal(p->u.proposal.proposer, h->vs.v[h->own].address, ADDR_BYTES);
    /* A second answer for the same round is stale. */
    assert_int_equal(h_step(h, &in), CAIRN_EBAD_HEIGHT);
    assert_int_equal(consensus_drops(h->c, CONS_DROP_STALE), 1);
    h_free(h);
}

/* Line 15: a proposer with a valid value proposes it again with its validRound. */
static void proposer_reproposes_its_valid_value(void **state)
{
    (void)state;
    h_t *h = h_new(true, 2);
    h_start(h);
    /* Round 0: a valid proposal and a quorum of prevotes for it, but we are in
     * round 0 only as a voter: valid value becomes tag 5 at round 0. */
    assert_int_equal(h_feed_proposal(h, 0, 5, -1, CONS_BLOCK_VALID), CAIRN_OK);
    h_feed_votes(h, VOTE_PREVOTE, 0, 3, 5);
    assert_int_equal(consensus_valid_round(h->c), 0);
    /* Rounds 1 and 2 come by precommit timeouts. */
    h_feed_votes(h, VOTE_PRECOMMIT, 0, 3, 0);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PRECOMMIT), CAIRN_OK);
    assert_int_equal(h_feed_timeout(h, 1, CONS_STEP_PRECOMMIT), CAIRN_OK);
    assert_int_equal(consensus_round(h->c), 2);
    assert_null(h_out(h, CONS_OUT_CREATE_BLOCK, 0));
    const cons_output_t *p = h_out(h, CONS_OUT_SIGN_PROPOSAL, 0);
    assert_non_null(p);
    assert_true(h_out(h, CONS_OUT_PERSIST, 0) < p); /* the new round is persisted first */
    assert_true(h_is_tag(p->u.proposal.block_id, 5));
    assert_int_equal(p->u.proposal.pol_round, 0);
    assert_int_equal(p->u.proposal.round, 2);
    h_free(h);
}

/* Lines 22-25: a valid proposal, not locked: prevote for it. */
static void valid_proposal_gets_a_prevote(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_proposal(h, 0, 9, -1, CONS_BLOCK_VALID), CAIRN_OK);
    const vote_t *v = h_signed(h, VOTE_PREVOTE);
    assert_non_null(v);
    assert_true(h_is_tag(v->block_id, 9));
    assert_int_equal(v->round, 0);
    assert_int_equal(v->validator_index, h->own);
    assert_true(v->time_ns > GENESIS_NS); /* later than the last block */
    assert_int_equal(consensus_step_of(h->c), CONS_STEP_PREVOTE);
    h_free(h);
}

/* Line 26: an invalid proposal gets a nil prevote at once. */
static void invalid_proposal_gets_a_nil_prevote(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_proposal(h, 0, 9, -1, CONS_BLOCK_INVALID), CAIRN_OK);
    const vote_t *v = h_signed(h, VOTE_PREVOTE);
    assert_non_null(v);
    assert_true(vote_is_nil(v));
    h_free(h);
}

/* valid(v) needs the block: the core waits for it and then prevotes. */
static void proposal_without_its_block_waits_for_the_block(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_proposal(h, 0, 9, -1, CONS_BLOCK_UNKNOWN), CAIRN_OK);
    assert_null(h_out(h, CONS_OUT_SIGN_VOTE, 0));
    cons_input_t in = {.kind = CONS_IN_BLOCK};
    in.u.block.height = 1;
    h_id(in.u.block.block_id, 9);
    in.u.block.status = CONS_BLOCK_VALID;
    in.u.block.block_time_ns = GENESIS_NS;
    assert_int_equal(h_step(h, &in), CAIRN_OK);
    const vote_t *v = h_signed(h, VOTE_PREVOTE);
    assert_non_null(v);
    assert_true(h_is_tag(v->block_id, 9));
    h_free(h);
}

/* Brings h to: locked on tag 5 in round 0, now in round 1 step propose. */
static void lock_in_round0_then_round1(h_t *h)
{
    h_start(h);
    assert_int_equal(h_feed_proposal(h, 0, 5, -1, CONS_BLOCK_VALID), CAIRN_OK);
    h_feed_votes(h, VOTE_PREVOTE, 0, 3, 5);
    assert_int_equal(consensus_locked_round(h->c), 0);
    h_feed_votes(h, VOTE_PRECOMMIT, 0, 2, 0);
    assert_int_equal(h_feed_vote(h, VOTE_PRECOMMIT, 0, h->own, 5), CAIRN_OK);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PRECOMMIT), CAIRN_OK);
    assert_int_equal(consensus_round(h->c), 1);
}

/* Line 23: a node locked on another value prevotes nil for a fresh proposal. */
static void locked_node_prevotes_nil_for_another_value(void **state)
{
    (void)state;
    h_t *h = h_new_passive(1);
    lock_in_round0_then_round1(h);
    assert_int_equal(h_feed_proposal(h, 1, 6, -1, CONS_BLOCK_VALID), CAIRN_OK);
    const vote_t *v = h_signed(h, VOTE_PREVOTE);
    assert_non_null(v);
    assert_true(vote_is_nil(v));
    h_free(h);
}

/* Line 23: ... and for its own locked value it prevotes the value. */
static void locked_node_prevotes_its_locked_value(void **state)
{
    (void)state;
    h_t *h = h_new_passive(1);
    lock_in_round0_then_round1(h);
    assert_int_equal(h_feed_proposal(h, 1, 5, -1, CONS_BLOCK_VALID), CAIRN_OK);
    const vote_t *v = h_signed(h, VOTE_PREVOTE);
    assert_non_null(v);
    assert_true(h_is_tag(v->block_id, 5));
    h_free(h);
}

/* Lines 28-33: a proposal with validRound vr and a POLC in vr unlocks: the node
 * locked in an older round prevotes for the POL value. */
static void polc_in_a_later_round_overrides_an_older_lock(void **state)
{
    (void)state;
    h_t *h = h_new_passive(2);
    lock_in_round0_then_round1(h); /* locked on 5 at round 0 */
    /* Round 1: everybody else prevotes 6 (a POLC for 6 at round 1). */
    h_feed_votes(h, VOTE_PREVOTE, 1, 3, 6);
    assert_int_equal(h_feed_timeout(h, 1, CONS_STEP_PROPOSE), CAIRN_OK); /* we prevote nil */
    h_feed_votes(h, VOTE_PRECOMMIT, 1, 3, 0);
    assert_int_equal(h_feed_timeout(h, 1, CONS_STEP_PRECOMMIT), CAIRN_OK);
    assert_int_equal(consensus_round(h->c), 2);
    /* Round 2: the proposer re-proposes 6 with vr = 1. */
    assert_int_equal(h_feed_proposal(h, 2, 6, 1, CONS_BLOCK_VALID), CAIRN_OK);
    const vote_t *v = h_signed(h, VOTE_PREVOTE);
    assert_non_null(v);
    assert_true(h_is_tag(v->block_id, 6));
    h_free(h);
}

/* Line 28 needs the POLC: without 2f+1 prevotes in vr the node waits. */
static void proposal_with_valid_round_but_no_polc_waits(void **state)
{
    (void)state;
    h_t *h = h_new(false, 1);
    h_start(h);
    h_feed_votes(h, VOTE_PRECOMMIT, 0, 3, 0);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PRECOMMIT), CAIRN_OK);
    h_feed_votes(h, VOTE_PREVOTE, 0, 1, 6); /* only one prevote for 6 in round 0 */
    assert_int_equal(h_feed_proposal(h, 1, 6, 0, CONS_BLOCK_VALID), CAIRN_OK);
    assert_null(h_out(h, CONS_OUT_SIGN_VOTE, 0));
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h_other(h, 1), 6), CAIRN_OK);
    assert_null(h_out(h, CONS_OUT_SIGN_VOTE, 0));
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h_other(h, 2), 6), CAIRN_OK); /* POLC complete */
    const vote_t *v = h_signed(h, VOTE_PREVOTE);
    assert_non_null(v);
    assert_true(h_is_tag(v->block_id, 6));
    h_free(h);
}

/* Line 32: locked in a round newer than vr on another value: nil. */
static void lock_newer_than_the_polc_keeps_the_lock(void **state)
{
    (void)state;
    h_t *h = h_new_passive(2);
    h_start(h);
    h_feed_votes(h, VOTE_PREVOTE, 0, 3, 6); /* a POLC for 6 at round 0 */
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PROPOSE), CAIRN_OK);
    h_feed_votes(h, VOTE_PRECOMMIT, 0, 3, 0);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PRECOMMIT), CAIRN_OK);
    assert_int_equal(h_feed_proposal(h, 1, 5, -1, CONS_BLOCK_VALID), CAIRN_OK);
    h_feed_votes(h, VOTE_PREVOTE, 1, 3, 5);
    assert_int_equal(consensus_locked_round(h->c), 1); /* locked on 5 at round 1 */
    h_feed_votes(h, VOTE_PRECOMMIT, 1, 3, 0);
    assert_int_equal(h_feed_timeout(h, 1, CONS_STEP_PRECOMMIT), CAIRN_OK);
    assert_int_equal(h_feed_proposal(h, 2, 6, 0, CONS_BLOCK_VALID), CAIRN_OK);
    const vote_t *v = h_signed(h, VOTE_PREVOTE);
    assert_non_null(v);
    assert_true(vote_is_nil(v));
    h_free(h);
}

/* Line 34: 2f+1 prevotes of any kind arm timeoutPrevote, once. */
static void any_prevote_quorum_arms_prevote_timeout_once(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PROPOSE), CAIRN_OK);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, (h->own + 1) % 4, 1), CAIRN_OK);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, (h->own + 2) % 4, 2), CAIRN_OK);
    assert_null(h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0));
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h->own, 0), CAIRN_OK);
    const cons_output_t *t = h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0);
    assert_non_null(t);
    assert_int_equal(t->u.timeout.step, CONS_STEP_PREVOTE);
    assert_int_equal(t->u.timeout.duration_ns, 200 * MS_NS);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, (h->own + 3) % 4, 3), CAIRN_OK);
    assert_null(h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0));
    h_free(h);
}

/* Lines 36-43: proposal + 2f+1 prevotes for it while in prevote: lock and precommit. */
static void prevote_quorum_for_the_proposal_locks_and_precommits(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_proposal(h, 0, 4, -1, CONS_BLOCK_VALID), CAIRN_OK);
    h_feed_votes(h, VOTE_PREVOTE, 0, 2, 4);
    assert_null(h_out(h, CONS_OUT_SIGN_VOTE, 0));
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h->own, 4), CAIRN_OK);
    const vote_t *v = h_signed(h, VOTE_PRECOMMIT);
    assert_non_null(v);
    assert_true(h_is_tag(v->block_id, 4));
    assert_int_equal(consensus_locked_round(h->c), 0);
    assert_true(h_is_tag(consensus_locked_id(h->c), 4));
    assert_int_equal(consensus_valid_round(h->c), 0);
    const cons_output_t *p = h_out(h, CONS_OUT_PERSIST, 0);
    assert_int_equal(p->u.persist.locked_round, 0); /* the lock is persisted first */
    assert_int_equal(consensus_step_of(h->c), CONS_STEP_PRECOMMIT);
    h_free(h);
}

/* Lines 41-42: in precommit step the same event only updates the valid value. */
static void prevote_quorum_after_precommit_updates_valid_value_only(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PROPOSE), CAIRN_OK); /* prevote nil */
    h_feed_votes(h, VOTE_PREVOTE, 0, 2, 4);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PREVOTE), CAIRN_OK); /* precommit nil */
    assert_int_equal(consensus_step_of(h->c), CONS_STEP_PRECOMMIT);
    assert_int_equal(h_feed_proposal(h, 0, 4, -1, CONS_BLOCK_VALID), CAIRN_OK);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h_other(h, 2), 4), CAIRN_OK);
    assert_null(h_out(h, CONS_OUT_SIGN_VOTE, 0));
    assert_int_equal(consensus_locked_round(h->c), -1);
    assert_int_equal(consensus_valid_round(h->c), 0);
    h_free(h);
}

/* Lines 44-46: 2f+1 nil prevotes: precommit nil. */
static void nil_prevote_quorum_precommits_nil(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PROPOSE), CAIRN_OK);
    h_feed_votes(h, VOTE_PREVOTE, 0, 3, 0);
    const vote_t *v = h_signed(h, VOTE_PRECOMMIT);
    assert_non_null(v);
    assert_true(vote_is_nil(v));
    h_free(h);
}

/* Line 47: 2f+1 precommits of any kind arm timeoutPrecommit, in any step. */
static void any_precommit_quorum_arms_precommit_timeout(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_vote(h, VOTE_PRECOMMIT, 0, (h->own + 1) % 4, 1), CAIRN_OK);
    assert_int_equal(h_feed_vote(h, VOTE_PRECOMMIT, 0, (h->own + 2) % 4, 0), CAIRN_OK);
    assert_int_equal(h_feed_vote(h, VOTE_PRECOMMIT, 0, (h->own + 3) % 4, 2), CAIRN_OK);
    const cons_output_t *t = h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0);
    assert_non_null(t);
    assert_int_equal(t->u.timeout.step, CONS_STEP_PRECOMMIT);
    assert_int_equal(t->u.timeout.duration_ns, 250 * MS_NS);
    assert_int_equal(consensus_step_of(h->c), CONS_STEP_PROPOSE);
    h_free(h);
}

/* Lines 49-54: 2f+1 precommits for a valid block in an earlier round decide it,
 * with the precommits as the commit. */
static void precommit_quorum_in_any_round_decides(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_proposal(h, 0, 8, -1, CONS_BLOCK_VALID), CAIRN_OK);
    h_feed_votes(h, VOTE_PRECOMMIT, 0, 1, 8);  /* other 0: 8 in round 0 */
    h_feed_votes(h, VOTE_PRECOMMIT, 2, 2, 0);  /* others 0, 1 in round 2: skip there */
    assert_int_equal(consensus_round(h->c), 2);
    assert_int_equal(h_feed_vote(h, VOTE_PRECOMMIT, 0, h_other(h, 1), 8), CAIRN_OK);
    assert_null(h_out(h, CONS_OUT_DECIDE, 0));
    assert_int_equal(h_feed_vote(h, VOTE_PRECOMMIT, 0, h_other(h, 2), 8), CAIRN_OK);
    const cons_output_t *d = h_out(h, CONS_OUT_DECIDE, 0);
    assert_non_null(d);
    assert_int_equal(d->u.decide.height, 1);
    assert_int_equal(d->u.decide.round, 0);
    assert_true(h_is_tag(d->u.decide.block_id, 8));
    assert_int_equal(d->u.decide.n_precommits, 3);
    for (uint32_t i = 0; i < d->u.decide.n_precommits; i++)
        assert_true(h_is_tag(d->u.decide.precommits[i].block_id, 8));
    assert_int_equal(consensus_step_of(h->c), CONS_STEP_DECIDED);
    /* Decided: a timeout changes nothing until the next height starts. */
    assert_int_equal(h_feed_timeout(h, 2, CONS_STEP_PRECOMMIT), CAIRN_EBAD_HEIGHT);
    h_free(h);
}

/* Line 49 needs valid(v): a quorum for a block not yet seen waits for it. */
static void precommit_quorum_waits_for_the_block(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    h_feed_votes(h, VOTE_PRECOMMIT, 0, 3, 8);
    assert_null(h_out(h, CONS_OUT_DECIDE, 0));
    cons_input_t in = {.kind = CONS_IN_BLOCK};
    in.u.block.height = 1;
    h_id(in.u.block.block_id, 8);
    in.u.block.status = CONS_BLOCK_VALID;
    assert_int_equal(h_step(h, &in), CAIRN_OK);
    assert_non_null(h_out(h, CONS_OUT_DECIDE, 0));
    h_free(h);
}

/* ... and an invalid block is never decided. */
static void precommit_quorum_for_an_invalid_block_is_not_decided(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_proposal(h, 0, 8, -1, CONS_BLOCK_INVALID), CAIRN_OK);
    h_feed_votes(h, VOTE_PRECOMMIT, 0, 3, 8);
    assert_null(h_out(h, CONS_OUT_DECIDE, 0));
    assert_int_equal(consensus_step_of(h->c), CONS_STEP_PREVOTE);
    h_free(h);
}

/* Lines 55-56: f+1 messages of a higher round: go there. */
static void f_plus_one_in_a_higher_round_skips_to_it(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 3, (h->own + 1) % 4, 1), CAIRN_OK);
    assert_int_equal(consensus_round(h->c), 0); /* one validator (1/4) is not enough */
    assert_int_equal(h_feed_vote(h, VOTE_PRECOMMIT, 3, (h->own + 2) % 4, 0), CAIRN_OK);
    assert_int_equal(consensus_round(h->c), 3);
    assert_int_equal(consensus_step_of(h->c), CONS_STEP_PROPOSE);
    const cons_output_t *t = h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0);
    assert_non_null(t);
    assert_int_equal(t->u.timeout.round, 3);
    assert_int_equal(t->u.timeout.duration_ns, 600 * MS_NS); /* 300 + 3 * 100 */
    h_free(h);
}

/* Line 55 also works beyond the rounds whose votes are stored. */
static void f_plus_one_far_ahead_still_skips(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 500, (h->own + 1) % 4, 1), CAIRN_ELIMIT);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 500, (h->own + 2) % 4, 1), CAIRN_OK);
    assert_int_equal(consensus_round(h->c), 500);
    h_free(h);
}

/* Lines 57-60: timeoutPropose in propose step: prevote nil. */
static void propose_timeout_prevotes_nil(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PROPOSE), CAIRN_OK);
    const vote_t *v = h_signed(h, VOTE_PREVOTE);
    assert_non_null(v);
    assert_true(vote_is_nil(v));
    /* The same timeout again is stale: no second prevote. */
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PROPOSE), CAIRN_EBAD_HEIGHT);
    assert_null(h_out(h, CONS_OUT_SIGN_VOTE, 0));
    h_free(h);
}

/* Lines 61-64: timeoutPrevote in prevote step: precommit nil. */
static void prevote_timeout_precommits_nil(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PROPOSE), CAIRN_OK);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PREVOTE), CAIRN_OK);
    const vote_t *v = h_signed(h, VOTE_PRECOMMIT);
    assert_non_null(v);
    assert_true(vote_is_nil(v));
    h_free(h);
}

/* Lines 65-67: timeoutPrecommit: next round, with a longer propose timeout. */
static void precommit_timeout_starts_the_next_round(void **state)
{
    (void)state;
    h_t *h = h_new(false, 1);
    h_start(h);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PRECOMMIT), CAIRN_OK);
    assert_int_equal(consensus_round(h->c), 1);
    const cons_output_t *t = h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0);
    assert_non_null(t);
    assert_int_equal(t->u.timeout.duration_ns, 400 * MS_NS);
    /* A timeout of the old round is stale now. */
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PROPOSE), CAIRN_EBAD_HEIGHT);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(start_round_non_proposer_arms_propose_timeout),
        cmocka_unit_test(proposer_asks_for_a_block_and_proposes_it),
        cmocka_unit_test(proposer_reproposes_its_valid_value),
        cmocka_unit_test(valid_proposal_gets_a_prevote),
        cmocka_unit_test(invalid_proposal_gets_a_nil_prevote),
        cmocka_unit_test(proposal_without_its_block_waits_for_the_block),
        cmocka_unit_test(locked_node_prevotes_nil_for_another_value),
        cmocka_unit_test(locked_node_prevotes_its_locked_value),
        cmocka_unit_test(polc_in_a_later_round_overrides_an_older_lock),
        cmocka_unit_test(proposal_with_valid_round_but_no_polc_waits),
        cmocka_unit_test(lock_newer_than_the_polc_keeps_the_lock),
        cmocka_unit_test(any_prevote_quorum_arms_prevote_timeout_once),
        cmocka_unit_test(prevote_quorum_for_the_proposal_locks_and_precommits),
        cmocka_unit_test(prevote_quorum_after_precommit_updates_valid_value_only),
        cmocka_unit_test(nil_prevote_quorum_precommits_nil),
        cmocka_unit_test(any_precommit_quorum_arms_precommit_timeout),
        cmocka_unit_test(precommit_quorum_in_any_round_decides),
        cmocka_unit_test(precommit_quorum_waits_for_the_block),
        cmocka_unit_test(precommit_quorum_for_an_invalid_block_is_not_decided),
        cmocka_unit_test(f_plus_one_in_a_higher_round_skips_to_it),
        cmocka_unit_test(f_plus_one_far_ahead_still_skips),
        cmocka_unit_test(propose_timeout_prevotes_nil),
        cmocka_unit_test(prevote_timeout_precommits_nil),
        cmocka_unit_test(precommit_timeout_starts_the_next_round),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
