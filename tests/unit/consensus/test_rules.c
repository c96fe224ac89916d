/* test_rules.c - what the core refuses (drop reasons), evidence, BFT time,
 * linear timeouts, persist records and restart. */
#include "harness.h"

static void proposal_from_a_non_proposer_is_dropped(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    cons_input_t in = h_proposal_in(h, 0, 3, -1, CONS_BLOCK_VALID);
    memcpy(in.u.proposal.proposal.proposer, h->vs.v[(h_proposer(&h->vs, 0) + 1) % 4].address, ADDR_BYTES);
    assert_int_equal(h_step(h, &in), CAIRN_EBAD_PROPOSER);
    assert_int_equal(consensus_drops(h->c, CONS_DROP_NOT_PROPOSER), 1);
    assert_null(h_out(h, CONS_OUT_SIGN_VOTE, 0));
    h_free(h);
}

static void vote_from_a_non_validator_is_dropped(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    cons_input_t in = {.kind = CONS_IN_VOTE};
    in.u.vote = h_vote(h, VOTE_PREVOTE, 0, 1, 3);
    memset(in.u.vote.validator, 0x5A, ADDR_BYTES);
    assert_int_equal(h_step(h, &in), CAIRN_EBAD_VALIDATOR);
    assert_int_equal(consensus_drops(h->c, CONS_DROP_NOT_VALIDATOR), 1);
    h_free(h);
}

/* The index is not trusted: it must name the validator of the address. */
static void vote_with_a_wrong_or_out_of_range_index_is_dropped(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    cons_input_t in = {.kind = CONS_IN_VOTE};
    in.u.vote = h_vote(h, VOTE_PREVOTE, 0, 1, 3);
    in.u.vote.validator_index = 2;
    assert_int_equal(h_step(h, &in), CAIRN_EBAD_VALIDATOR);
    in.u.vote.validator_index = 0xFFFFFFFFu;
    assert_int_equal(h_step(h, &in), CAIRN_EBAD_VALIDATOR);
    assert_int_equal(consensus_drops(h->c, CONS_DROP_BAD_INDEX), 2);
    h_free(h);
}

static void votes_for_other_heights_and_far_rounds_are_dropped(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    cons_input_t in = {.kind = CONS_IN_VOTE};
    in.u.vote = h_vote(h, VOTE_PREVOTE, 0, h_other(h, 0), 3);
    in.u.vote.height = 2;
    assert_int_equal(h_step(h, &in), CAIRN_EBAD_HEIGHT);
    assert_int_equal(consensus_drops(h->c, CONS_DROP_FUTURE_HEIGHT), 1);
    in.u.vote.height = 0;
    assert_int_equal(h_step(h, &in), CAIRN_EBAD_HEIGHT);
    assert_int_equal(consensus_drops(h->c, CONS_DROP_OLD_HEIGHT), 1);
    in.u.vote.height = 1;
    in.u.vote.round = CONS_ROUND_MAX + 1;
    assert_int_equal(h_step(h, &in), CAIRN_ELIMIT);
    assert_int_equal(consensus_drops(h->c, CONS_DROP_FAR_ROUND), 1);
    in.u.vote.round = 0;
    in.u.vote.type = 9;
    assert_int_equal(h_step(h, &in), CAIRN_EINVALID_ARG);
    assert_int_equal(consensus_drops(h->c, CONS_DROP_MALFORMED), 1);
    assert_int_equal(consensus_round(h->c), 0);
    h_free(h);
}

/* A vote counts once however often it arrives. */
static void duplicate_votes_count_once(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PROPOSE), CAIRN_OK);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h_other(h, 0), 0), CAIRN_OK);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h_other(h, 0), 0), CAIRN_EDUPLICATE);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h_other(h, 0), 0), CAIRN_EDUPLICATE);
    assert_int_equal(consensus_drops(h->c, CONS_DROP_DUPLICATE), 2);
    assert_int_equal(consensus_step_of(h->c), CONS_STEP_PREVOTE); /* no nil quorum */
    h_free(h);
}

/* Two different votes from one validator: evidence with both, once. */
static void conflicting_votes_become_evidence(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    uint32_t bad = h_other(h, 0);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, bad, 3), CAIRN_OK);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, bad, 4), CAIRN_OK); /* kept for its value */
    const cons_output_t *e = h_out(h, CONS_OUT_EVIDENCE, 0);
    assert_non_null(e);
    assert_true(h_is_tag(e->u.evidence.a.block_id, 3));
    assert_true(h_is_tag(e->u.evidence.b.block_id, 4));
    assert_memory_equal(e->u.evidence.a.validator, h->vs.v[bad].address, ADDR_BYTES);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, bad, 5), CAIRN_EBAD_EVIDENCE);
    assert_null(h_out(h, CONS_OUT_EVIDENCE, 0)); /* evidence once per validator and round */
    assert_int_equal(consensus_drops(h->c, CONS_DROP_CONFLICTING_VOTE), 1);
    h_free(h);
}

/* A double-voter counts at most once toward "2f+1 of any" (line 34). */
static void double_voter_counts_once_toward_any_quorum(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h_other(h, 0), 3), CAIRN_OK);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h_other(h, 0), 4), CAIRN_OK);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PROPOSE), CAIRN_OK);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h->own, 0), CAIRN_OK);
    assert_null(h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0)); /* 2 validators, not 3 */
    h_free(h);
}

/* Never two different precommits (nor two prevotes) in one round. */
static void never_signs_twice_in_a_round(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_proposal(h, 0, 4, -1, CONS_BLOCK_VALID), CAIRN_OK);
    h_feed_votes(h, VOTE_PREVOTE, 0, 3, 4); /* lock + precommit 4 */
    assert_non_null(h_signed(h, VOTE_PRECOMMIT));
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PREVOTE), CAIRN_EBAD_HEIGHT);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PROPOSE), CAIRN_EBAD_HEIGHT);
    assert_null(h_out(h, CONS_OUT_SIGN_VOTE, 0));
    h_free(h);
}

static void timeouts_grow_linearly_with_the_round(void **state)
{
    (void)state;
    h_t *h = h_new_passive(2);
    h_start(h);
    int64_t want[3][3] = {{300, 200, 250}, {400, 250, 275}, {500, 300, 300}};
    for (uint32_t r = 0; r < 3; r++) {
        if (r > 0) {
            assert_int_equal(h_feed_timeout(h, r - 1, CONS_STEP_PRECOMMIT), CAIRN_OK);
            assert_int_equal(h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0)->u.timeout.duration_ns,
                             want[r][0] * MS_NS);
        } else {
            assert_int_equal(h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0)->u.timeout.duration_ns, 300 * MS_NS);
        }
        assert_int_equal(h_feed_timeout(h, r, CONS_STEP_PROPOSE), CAIRN_OK);
        assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, r, h_other(h, 0), 1), CAIRN_OK);
        assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, r, h_other(h, 1), 0), CAIRN_OK);
        assert_null(h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0));
        assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, r, h->own, 0), CAIRN_OK); /* 3 of 4 */
        const cons_output_t *t = h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0);
        assert_non_null(t);
        assert_int_equal(t->u.timeout.step, CONS_STEP_PREVOTE);
        assert_int_equal(t->u.timeout.duration_ns, want[r][1] * MS_NS);
        h_feed_votes(h, VOTE_PRECOMMIT, r, 3, 0);
        t = h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0);
        assert_non_null(t);
        assert_int_equal(t->u.timeout.duration_ns, want[r][2] * MS_NS);
    }
    h_free(h);
}

/* BFT time: the proposed block's time is the weighted median of the last commit. */
static void block_time_is_the_weighted_median_of_the_last_commit(void **state)
{
    (void)state;
    h_t *h = h_new(true, 0);
    valset_t next = h->vs; /* height 2's set: priorities move on by one */
    valset_increment_priority(&next, 1);
    /* Make this node the proposer of height 2, round 0. */
    uint32_t p = h_proposer(&next, 0);
    consensus_free(h->c);
    h->c = consensus_new(&h->cfg, next.v[p].address);
    h->own = p;
    h->height = 2;
    vote_t lc[3];
    int64_t times[3] = {GENESIS_NS + 900, GENESIS_NS + 100, GENESIS_NS + 500};
    for (int i = 0; i < 3; i++) {
        lc[i] = h_vote(h, VOTE_PRECOMMIT, 0, (uint32_t)i, 1);
        lc[i].height = 1;
        lc[i].time_ns = times[i];
    }
    cons_input_t in = {.kind = CONS_IN_START_HEIGHT};
    in.u.start.height = 2;
    in.u.start.validators = &next;
    in.u.start.last_block_time_ns = GENESIS_NS;
    in.u.start.last_validators = &h->vs;
    in.u.start.last_commit = lc;
    in.u.start.n_last_commit = 3;
    assert_int_equal(h_step(h, &in), CAIRN_OK);
    const cons_output_t *cb = h_out(h, CONS_OUT_CREATE_BLOCK, 0);
    assert_non_null(cb);
    assert_int_equal(cb->u.create.time_ns, GENESIS_NS + 500);
    assert_int_equal(cb->u.create.n_last_commit, 3);
    h_free(h);
}

static void median_time_weighs_by_power(void **state)
{
    (void)state;
    assert_int_equal(crypto_init(), CAIRN_OK);
    int64_t powers[4] = {70, 10, 10, 10};
    valset_t vs;
    h_valset(&vs, 4, powers);
    vote_t v[4];
    memset(v, 0, sizeof v);
    for (uint32_t i = 0; i < 4; i++) {
        v[i].validator_index = i;
        v[i].block_id[0] = 1;
        v[i].time_ns = vs.v[i].power == 70 ? 5000 : (int64_t)(100 + i);
    }
    int64_t t = 0;
    assert_int_equal(consensus_median_time(v, 4, &vs, &t), CAIRN_OK);
    assert_int_equal(t, 5000); /* the heavy validator carries the median */
    v[0].validator_index = 99; /* out of range: skipped */
    v[1].validator_index = 99;
    v[2].validator_index = 99;
    v[3].validator_index = 99;
    assert_int_equal(consensus_median_time(v, 4, &vs, &t), CAIRN_EINVALID_ARG);
}

static void persist_record_round_trips_and_rejects_bad_bytes(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_proposal(h, 0, 4, -1, CONS_BLOCK_VALID), CAIRN_OK);
    h_feed_votes(h, VOTE_PREVOTE, 0, 3, 4);
    cons_persist_t rec, back;
    consensus_snapshot(h->c, &rec);
    buf_t b;
    buf_init(&b, 1024);
    assert_int_equal(consensus_persist_encode(&rec, &b), CAIRN_OK);
    assert_int_equal(b.len, CONS_PERSIST_BYTES);
    assert_int_equal(consensus_persist_decode(&back, b.data, b.len), CAIRN_OK);
    assert_memory_equal(&rec, &back, sizeof rec);
    assert_int_equal(consensus_persist_decode(&back, b.data, b.len - 1), CAIRN_ETRUNCATED);
    b.data[0] = 1; /* the old layout, without the block times */
    assert_int_equal(consensus_persist_decode(&back, b.data, b.len), CAIRN_EBAD_VERSION);
    b.data[0] = 2;
    b.data[14] = 5; /* locked_round 5 > round 0 */
    assert_int_equal(consensus_persist_decode(&back, b.data, b.len), CAIRN_EBAD_ENCODING);
    buf_deinit(&b);
    h_free(h);
}

/* After a crash: same round, same lock, the same precommit asked for again, and
 * the step's timeout armed. */
static void restart_resumes_the_lock_and_repeats_its_vote(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    cons_input_t p = h_proposal_in(h, 0, 4, -1, CONS_BLOCK_VALID);
    p.u.proposal.block_time_ns = GENESIS_NS + 50 * MS_NS;
    assert_int_equal(h_step(h, &p), CAIRN_OK);
    h_feed_votes(h, VOTE_PREVOTE, 0, 3, 4);
    cons_persist_t rec;
    consensus_snapshot(h->c, &rec);
    assert_int_equal(rec.locked_time_ns, GENESIS_NS + 50 * MS_NS);
    consensus_free(h->c);
    h->now = GENESIS_NS - 1000 * MS_NS; /* a clock running behind after the restart */
    h->c = consensus_new(&h->cfg, h->vs.v[h->own].address);
    cons_input_t in = {.kind = CONS_IN_START_HEIGHT};
    in.u.start.height = 1;
    in.u.start.validators = &h->vs;
    in.u.start.last_block_time_ns = GENESIS_NS;
    in.u.start.restore = &rec;
    assert_int_equal(h_step(h, &in), CAIRN_OK);
    assert_int_equal(consensus_locked_round(h->c), 0);
    assert_true(h_is_tag(consensus_locked_id(h->c), 4));
    assert_int_equal(consensus_step_of(h->c), CONS_STEP_PRECOMMIT);
    const vote_t *pc = h_signed(h, VOTE_PRECOMMIT);
    assert_non_null(pc);
    assert_true(h_is_tag(pc->block_id, 4));
    assert_true(pc->time_ns > GENESIS_NS + 50 * MS_NS); /* later than its block (BFT time) */
    const cons_output_t *t = h_out(h, CONS_OUT_SCHEDULE_TIMEOUT, 0);
    assert_non_null(t);
    assert_int_equal(t->u.timeout.step, CONS_STEP_PRECOMMIT);
    /* A record of another height is refused and starts nothing. */
    consensus_free(h->c);
    h->c = consensus_new(&h->cfg, h->vs.v[h->own].address);
    rec.height = 7;
    assert_int_equal(h_step(h, &in), CAIRN_EINVALID_ARG);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PROPOSE), CAIRN_EBUSY);
    h_free(h);
}

static void inputs_before_the_first_height_are_dropped(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, 1, 1), CAIRN_EBUSY);
    assert_int_equal(consensus_drops(h->c, CONS_DROP_NOT_STARTED), 1);
    assert_int_equal(h->out.n, 0);
    h_free(h);
}

/* A node without an address (not a validator) follows but never signs. */
static void non_validator_never_signs(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    consensus_free(h->c);
    h->c = consensus_new(&h->cfg, NULL);
    h->own = 99;
    h_start(h);
    assert_int_equal(h_feed_proposal(h, 0, 4, -1, CONS_BLOCK_VALID), CAIRN_OK);
    assert_null(h_out(h, CONS_OUT_SIGN_VOTE, 0));
    for (uint32_t i = 0; i < 3; i++) assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, i, 4), CAIRN_OK);
    assert_null(h_out(h, CONS_OUT_SIGN_VOTE, 0));
    for (uint32_t i = 0; i < 3; i++) assert_int_equal(h_feed_vote(h, VOTE_PRECOMMIT, 0, i, 4), CAIRN_OK);
    assert_non_null(h_out(h, CONS_OUT_DECIDE, 0));
    h_free(h);
}

/* Only CONS_ROUND_SLOTS rounds are kept: the oldest past rounds go first, and a
 * far-ahead vote is not stored (but still counts toward a round skip). */
static void old_and_far_rounds_are_not_kept(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h_other(h, 0), 1), CAIRN_OK);
    for (uint32_t r = 0; r < CONS_ROUND_SLOTS + 4; r++) /* votes in every round on the way */
        assert_int_equal(h_feed_timeout(h, r, CONS_STEP_PRECOMMIT), CAIRN_OK);
    uint32_t cur = consensus_round(h->c);
    assert_int_equal(cur, CONS_ROUND_SLOTS + 4);
    /* Rounds cur-15 .. cur are kept: the vote of round 0 is gone, newer ones stay. */
    assert_int_equal(h_feed_vote(h, VOTE_PRECOMMIT, cur - CONS_ROUND_SLOTS + 1, h_other(h, 0), 1), CAIRN_OK);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h_other(h, 0), 1), CAIRN_ELIMIT); /* not a duplicate */
    assert_int_equal(consensus_drops(h->c, CONS_DROP_DUPLICATE), 0);
    assert_int_equal(consensus_drops(h->c, CONS_DROP_NO_SLOT), 1);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, cur + CONS_ROUNDS_AHEAD + 1, h_other(h, 1), 1),
                     CAIRN_ELIMIT);
    assert_int_equal(consensus_drops(h->c, CONS_DROP_NO_SLOT), 2);
    assert_int_equal(consensus_round(h->c), cur);
    /* A second validator that far ahead makes f+1: the core goes there. */
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, cur + CONS_ROUNDS_AHEAD + 1, h_other(h, 2), 1), CAIRN_OK);
    assert_int_equal(consensus_round(h->c), cur + CONS_ROUNDS_AHEAD + 1);
    h_free(h);
}

static void malformed_or_stale_start_is_refused(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    cons_input_t in = {.kind = CONS_IN_START_HEIGHT};
    in.u.start.height = 1;
    in.u.start.validators = NULL;
    assert_int_equal(h_step(h, &in), CAIRN_EINVALID_ARG);
    in.u.start.validators = &h->vs;
    in.u.start.n_last_commit = 2; /* without the votes */
    assert_int_equal(h_step(h, &in), CAIRN_EINVALID_ARG);
    in.u.start.n_last_commit = 0;
    in.u.start.height = 0;
    assert_int_equal(h_step(h, &in), CAIRN_EINVALID_ARG);
    assert_int_equal(consensus_drops(h->c, CONS_DROP_MALFORMED), 3);
    in.u.start.height = 3;
    assert_int_equal(h_step(h, &in), CAIRN_OK);
    in.u.start.height = 2; /* going back */
    assert_int_equal(h_step(h, &in), CAIRN_EBAD_HEIGHT);
    assert_int_equal(consensus_height(h->c), 3);
    h_free(h);
}

/* A list without room for a whole step is refused before anything happens. */
static void a_step_needs_room_for_its_outputs(void **state)
{
    (void)state;
    h_t *h = h_new(false, 0);
    h_start(h);
    cons_input_t in = {.kind = CONS_IN_TIMEOUT};
    in.u.timeout.height = 1;
    in.u.timeout.round = 0;
    in.u.timeout.step = CONS_STEP_PROPOSE;
    h->out.n = CONS_OUTPUTS_MAX - CONS_STEP_OUTPUTS_MAX + 1;
    assert_int_equal(consensus_step(h->c, &in, h->now, &h->out), CAIRN_ELIMIT);
    assert_int_equal(h->out.n, CONS_OUTPUTS_MAX - CONS_STEP_OUTPUTS_MAX + 1);
    assert_int_equal(consensus_step_of(h->c), CONS_STEP_PROPOSE);
    assert_int_equal(h_step(h, &in), CAIRN_OK); /* with room, the same input works */
    assert_int_equal(consensus_step_of(h->c), CONS_STEP_PREVOTE);
    h_free(h);
}

/* A double-voter's second vote still counts for its own value: it can complete a
 * POLC that its first vote (sent to us) would hide. */
static void a_second_conflicting_vote_can_complete_a_polc(void **state)
{
    (void)state;
    h_t *h = h_new_passive(1);
    h_start(h);
    uint32_t bad = h_other(h, 0);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, bad, 0), CAIRN_OK); /* nil to us */
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h_other(h, 1), 6), CAIRN_OK);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h_other(h, 2), 6), CAIRN_OK);
    h_feed_votes(h, VOTE_PRECOMMIT, 0, 3, 0);
    assert_int_equal(h_feed_timeout(h, 0, CONS_STEP_PRECOMMIT), CAIRN_OK);
    assert_int_equal(h_feed_proposal(h, 1, 6, 0, CONS_BLOCK_VALID), CAIRN_OK);
    assert_null(h_out(h, CONS_OUT_SIGN_VOTE, 0)); /* 2 of 4 for 6 in round 0: no POLC */
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, bad, 6), CAIRN_OK); /* relayed by a peer */
    assert_non_null(h_out(h, CONS_OUT_EVIDENCE, 0));
    const vote_t *v = h_signed(h, VOTE_PREVOTE);
    assert_non_null(v);
    assert_true(h_is_tag(v->block_id, 6));
    h_free(h);
}

/* The POL round of the current proposal is kept even when it is older than every
 * other kept round, so its prevotes can still arrive. */
static void the_pol_round_of_the_current_proposal_is_kept(void **state)
{
    (void)state;
    h_t *h = h_new(false, CONS_ROUND_SLOTS + 2);
    h_start(h);
    for (uint32_t r = 0; r < CONS_ROUND_SLOTS + 2; r++)
        assert_int_equal(h_feed_timeout(h, r, CONS_STEP_PRECOMMIT), CAIRN_OK);
    uint32_t cur = consensus_round(h->c);
    assert_int_equal(h_feed_vote(h, VOTE_PREVOTE, 0, h_other(h, 0), 6), CAIRN_ELIMIT); /* round 0 gone */
    assert_int_equal(h_feed_proposal(h, cur, 6, 0, CONS_BLOCK_VALID), CAIRN_OK);
    h_feed_votes(h, VOTE_PREVOTE, 0, 3, 6); /* now round 0 is kept again: the POLC */
    const vote_t *v = h_signed(h, VOTE_PREVOTE);
    assert_non_null(v);
    assert_true(h_is_tag(v->block_id, 6));
    assert_int_equal(v->round, cur);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proposal_from_a_non_proposer_is_dropped),
        cmocka_unit_test(vote_from_a_non_validator_is_dropped),
        cmocka_unit_test(vote_with_a_wrong_or_out_of_range_index_is_dropped),
        cmocka_unit_test(votes_for_other_heights_and_far_rounds_are_dropped),
        cmocka_unit_test(duplicate_votes_count_once),
        cmocka_unit_test(conflicting_votes_become_evidence),
        cmocka_unit_test(double_voter_counts_once_toward_any_quorum),
        cmocka_unit_test(never_signs_twice_in_a_round),
        cmocka_unit_test(timeouts_grow_linearly_with_the_round),
        cmocka_unit_test(block_time_is_the_weighted_median_of_the_last_commit),
        cmocka_unit_test(median_time_weighs_by_power),
        cmocka_unit_test(persist_record_round_trips_and_rejects_bad_bytes),
        cmocka_unit_test(restart_resumes_the_lock_and_repeats_its_vote),
        cmocka_unit_test(inputs_before_the_first_height_are_dropped),
        cmocka_unit_test(non_validator_never_signs),
        cmocka_unit_test(old_and_far_rounds_are_not_kept),
        cmocka_unit_test(malformed_or_stale_start_is_refused),
        cmocka_unit_test(a_step_needs_room_for_its_outputs),
        cmocka_unit_test(a_second_conflicting_vote_can_complete_a_polc),
        cmocka_unit_test(the_pol_round_of_the_current_proposal_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
