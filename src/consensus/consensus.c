/* consensus.c - Algorithm 1 of "The latest gossip on BFT consensus" as a step
 * function. Line numbers in comments refer to Algorithm 1 of arXiv:1807.04938.
 *
 * How it runs: every input first updates the message log (vote sets, proposals,
 * known blocks), then evaluate() checks the upon-clauses of the current height
 * until none fires. Every clause that fires changes (round, step) or sets a
 * "first time" flag, so the loop ends (bounded by EVAL_MAX, asserted).
 *
 * Deviations from the paper, all documented in docs/consensus.md:
 *  - line 49 needs the decided block to be known and valid, from its proposal or
 *    from CONS_IN_BLOCK; the proposal itself is not required (catch-up);
 *  - line 55 counts, per validator, the highest round it sent anything for, and
 *    jumps to the highest round that validators with f+1 power reached;
 *  - after a decision the core waits for CONS_IN_START_HEIGHT, so the shell can
 *    apply the block and hand in the next validator set.
 * Invariants: see consensus.h.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "consensus/consensus_int.h"

#define EVAL_MAX 16
#define MS_NS 1000000LL

static const uint8_t NIL_ID[HASH_BYTES];

static bool id_is_nil(const uint8_t id[static HASH_BYTES])
{
    return memcmp(id, NIL_ID, HASH_BYTES) == 0;
}

static bool id_eq(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, HASH_BYTES) == 0;
}

void consensus_config_default(cons_config_t *cfg)
{
    cfg->propose_base_ns = 3000 * MS_NS;
    cfg->propose_delta_ns = 500 * MS_NS;
    cfg->prevote_base_ns = 1000 * MS_NS;
    cfg->prevote_delta_ns = 500 * MS_NS;
    cfg->precommit_base_ns = 1000 * MS_NS;
    cfg->precommit_delta_ns = 500 * MS_NS;
}

/* ------------------------------------------------------------------ outputs */

static cons_output_t *push(consensus_t *c, uint8_t kind)
{
    cons_outputs_t *o = c->out;
    /* One step appends at most CONS_STEP_OUTPUTS_MAX (checked on entry); more
     * would be a bug of ours, not bad input. */
    CAIRN_ASSERTF(o->n < CONS_OUTPUTS_MAX, "outputs full (%u)", o->n);
    cons_output_t *x = &o->items[o->n++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    return x;
}

static void emit_persist(consensus_t *c)
{
    if (!c->dirty) return;
    cons_output_t *x = push(c, CONS_OUT_PERSIST);
    consensus_snapshot(c, &x->u.persist);
    c->dirty = false;
}

static int64_t timeout_ns(const consensus_t *c, uint8_t step, uint32_t round)
{
    int64_t base, delta;
    switch (step) {
    case CONS_STEP_PROPOSE: base = c->cfg.propose_base_ns; delta = c->cfg.propose_delta_ns; break;
    case CONS_STEP_PREVOTE: base = c->cfg.prevote_base_ns; delta = c->cfg.prevote_delta_ns; break;
    default: base = c->cfg.precommit_base_ns; delta = c->cfg.precommit_delta_ns; break;
    }
    return base + (int64_t)round * delta; /* round <= CONS_ROUND_MAX * k: no overflow */
}

static void schedule_timeout(consensus_t *c, uint8_t step)
{
    cons_output_t *x = push(c, CONS_OUT_SCHEDULE_TIMEOUT);
    x->u.timeout.height = c->height;
    x->u.timeout.round = c->round;
    x->u.timeout.step = step;
    x->u.timeout.duration_ns = timeout_ns(c, step, c->round);
}

/* ------------------------------------------------------------------ blocks */

static const cons_block_t *block_find(const consensus_t *c, const uint8_t id[static HASH_BYTES])
{
    for (int i = 0; i < CONS_BLOCKS_MAX; i++)
        if (c->blocks[i].used && id_eq(c->blocks[i].id, id)) return &c->blocks[i];
    return NULL;
}

static uint8_t block_status(const consensus_t *c, const uint8_t id[static HASH_BYTES])
{
    const cons_block_t *b = block_find(c, id);
    return b ? b->status : CONS_BLOCK_UNKNOWN;
}

/* Records a verdict. Returns 1 if it was new, 0 if already known, -1 if the table
 * is full of blocks that must stay (locked and valid value). The first verdict
 * for an id stays: validation is deterministic. */
static int block_note(consensus_t *c, const uint8_t id[static HASH_BYTES], uint8_t status,
                      int64_t time_ns)
{
    if (status == CONS_BLOCK_UNKNOWN || id_is_nil(id)) return 0;
    if (block_find(c, id)) return 0;
    cons_block_t *slot = NULL;
    for (int i = 0; i < CONS_BLOCKS_MAX && !slot; i++)
        if (!c->blocks[i].used) slot = &c->blocks[i];
    for (int i = 0; i < CONS_BLOCKS_MAX && !slot; i++) { /* evict the oldest */
        cons_block_t *b = &c->blocks[i];
        if ((c->locked_round >= 0 && id_eq(b->id, c->locked_id)) ||
            (c->valid_round >= 0 && id_eq(b->id, c->valid_id)))
            continue;
        if (!slot || b->seq < slot->seq) slot = b;
    }
    if (!slot) return -1;
    slot->used = true;
    memcpy(slot->id, id, HASH_BYTES);
    slot->status = status;
    slot->time_ns = time_ns;
    slot->seq = ++c->block_seq;
    return 1;
}

/* ------------------------------------------------------------------ rounds */

static cons_round_t *round_find(consensus_t *c, uint32_t r)
{
    for (int i = 0; i < CONS_ROUND_SLOTS; i++)
        if (c->rounds[i].used && c->rounds[i].round == r) return &c->rounds[i];
    return NULL;
}

static cons_round_t *round_find(consensus_t *c, uint32_t r);

/* Rounds whose votes the upon-clauses may still need: the current and future
 * ones, the lock's, the valid value's and the POL round of the current proposal. */
static bool round_protected(consensus_t *c, uint32_t r)
{
    if (r >= c->round || (c->locked_round >= 0 && r == (uint32_t)c->locked_round) ||
        (c->valid_round >= 0 && r == (uint32_t)c->valid_round))
        return true;
    const cons_round_t *cur = round_find(c, c->round);
    return cur && cur->has_proposal && cur->proposal.pol_round >= 0 &&
           r == (uint32_t)cur->proposal.pol_round;
}

static void voteset_clear(cons_voteset_t *vs)
{
    memset(vs->have, 0, sizeof vs->have);
    memset(vs->have2, 0, sizeof vs->have2);
    memset(vs->evidenced, 0, sizeof vs->evidenced);
    vs->n_tally = 0;
    vs->power_any = 0;
    vs->quorum = -1;
}

/* The slot of round r, made if needed: future rounds up to CONS_ROUNDS_AHEAD,
 * past rounds while they are not older than every kept unprotected round.
 * NULL if r cannot be kept. */
static cons_round_t *round_get(consensus_t *c, uint32_t r)
{
    cons_round_t *s = round_find(c, r);
    if (s) return s;
    if (r > c->round && r - c->round > CONS_ROUNDS_AHEAD) return NULL;
    for (int i = 0; i < CONS_ROUND_SLOTS && !s; i++)
        if (!c->rounds[i].used) s = &c->rounds[i];
    if (!s) { /* evict the oldest unprotected past round, if older than r */
        for (int i = 0; i < CONS_ROUND_SLOTS; i++) {
            cons_round_t *x = &c->rounds[i];
            if (round_protected(c, x->round)) continue;
            if (!s || x->round < s->round) s = x;
        }
        if (!s || (!round_protected(c, r) && s->round > r)) return NULL;
    }
    s->used = true;
    s->round = r;
    voteset_clear(&s->prevotes);
    voteset_clear(&s->precommits);
    s->has_proposal = false;
    s->timeout_prevote_set = s->timeout_precommit_set = s->lock_done = false;
    return s;
}

/* Index of proposer(height, r): the height's set incremented r times. The cache
 * only moves forward; an earlier round restarts from the height's set. */
static uint32_t proposer_of(consensus_t *c, uint32_t r)
{
    if (r < c->prop_round) {
        c->prop_vals = c->vals;
        c->prop_round = 0;
    }
    if (r > c->prop_round) {
        valset_increment_priority(&c->prop_vals, r - c->prop_round);
        c->prop_round = r;
    }
    const validator_t *p = valset_proposer(&c->prop_vals);
    return (uint32_t)(p - c->prop_vals.v);
}

/* ------------------------------------------------------------------ time */

cairn_err consensus_median_time(const vote_t *votes, uint32_t n, const valset_t *vs,
                                int64_t *out_ns)
{
    int64_t t[VALIDATORS_MAX], w[VALIDATORS_MAX];
    uint32_t k = 0;
    int64_t total = 0;
    for (uint32_t i = 0; i < n && k < VALIDATORS_MAX; i++) {
        const vote_t *v = &votes[i];
        if (v->validator_index >= vs->count || vote_is_nil(v)) continue;
        t[k] = v->time_ns;
        w[k] = vs->v[v->validator_index].power;
        total += w[k];
        k++;
    }
    if (k == 0) return CAIRN_EINVALID_ARG;
    for (uint32_t i = 1; i < k; i++) { /* insertion sort by time, k <= 150 */
        int64_t ti = t[i], wi = w[i];
        uint32_t j = i;
        while (j > 0 && t[j - 1] > ti) {
            t[j] = t[j - 1];
            w[j] = w[j - 1];
            j--;
        }
        t[j] = ti;
        w[j] = wi;
    }
    int64_t median = total / 2; /* CometBFT's WeightedMedian */
    for (uint32_t i = 0; i < k; i++) {
        if (median <= w[i]) {
            *out_ns = t[i];
            return CAIRN_OK;
        }
        median -= w[i];
    }
    *out_ns = t[k - 1];
    return CAIRN_OK;
}

/* The header time of the block proposed at this height (BFT time). */
static int64_t proposal_block_time(const consensus_t *c)
{
    int64_t t;
    if (c->n_last_commit == 0 || !c->has_last_vals) return c->last_block_time_ns;
    if (consensus_median_time(c->last_commit, c->n_last_commit, &c->last_vals, &t) != CAIRN_OK)
        return c->last_block_time_ns + MS_NS;
    return t;
}

/* A vote's time is later than the block it votes for (so the next block's median
 * time is later than this one), or than the last block for nil. */
static int64_t vote_time(const consensus_t *c, const uint8_t id[static HASH_BYTES])
{
    int64_t floor_ns = c->last_block_time_ns;
    const cons_block_t *b = id_is_nil(id) ? NULL : block_find(c, id);
    if (b && b->time_ns > floor_ns) floor_ns = b->time_ns;
    floor_ns += MS_NS;
    return c->now_ns > floor_ns ? c->now_ns : floor_ns;
}

/* ------------------------------------------------------------------ actions */

static void sign_vote(consensus_t *c, uint8_t type, const uint8_t id[static HASH_BYTES])
{
    uint8_t bit = type == VOTE_PREVOTE ? 1 : 2;
    CAIRN_ASSERTF(!(c->voted & bit), "second vote h=%llu r=%u type=%u",
                  (unsigned long long)c->height, c->round, type); /* invariant 1 */
    if (c->own_index < 0) return;
    c->voted |= bit;
    memcpy(type == VOTE_PREVOTE ? c->prevote_id : c->precommit_id, id, HASH_BYTES);
    c->dirty = true;
    emit_persist(c); /* invariant 3 */
    cons_output_t *x = push(c, CONS_OUT_SIGN_VOTE);
    vote_t *v = &x->u.vote;
    v->type = type;
    v->height = c->height;
    v->round = c->round;
    memcpy(v->block_id, id, HASH_BYTES);
    v->time_ns = vote_time(c, id);
    memcpy(v->validator, c->own_address, ADDR_BYTES);
    v->validator_index = (uint32_t)c->own_index;
}

static void sign_proposal(consensus_t *c, const uint8_t id[static HASH_BYTES], int32_t pol_round)
{
    c->proposed = true;
    c->create_pending = false;
    emit_persist(c);
    cons_output_t *x = push(c, CONS_OUT_SIGN_PROPOSAL);
    proposal_t *p = &x->u.proposal;
    p->height = c->height;
    p->round = c->round;
    p->pol_round = pol_round;
    memcpy(p->block_id, id, HASH_BYTES);
    p->time_ns = c->now_ns;
    memcpy(p->proposer, c->own_address, ADDR_BYTES);
}

/* Lines 11-21. */
static void start_round(consensus_t *c, uint32_t r)
{
    c->round = r;
    c->step = CONS_STEP_PROPOSE;
    c->voted = 0;
    c->proposed = c->create_pending = false;
    c->dirty = true;
    cons_round_t *s = round_get(c, r);
    CAIRN_ASSERTF(s != NULL, "no slot for the current round %u", r); /* r is protected */
    if (c->own_index >= 0 && proposer_of(c, r) == (uint32_t)c->own_index) {
        if (c->valid_round >= 0) {
            sign_proposal(c, c->valid_id, c->valid_round); /* line 15 */
        } else {
            c->create_pending = true; /* line 17: getValue() */
            cons_output_t *x = push(c, CONS_OUT_CREATE_BLOCK);
            x->u.create.height = c->height;
            x->u.create.round = r;
            x->u.create.time_ns = proposal_block_time(c);
            x->u.create.last_commit = c->last_commit;
            x->u.create.n_last_commit = c->n_last_commit;
        }
    }
    /* Line 21 (for the proposer too: its block may never come). */
    schedule_timeout(c, CONS_STEP_PROPOSE);
}

static void decide(consensus_t *c, cons_round_t *s, const uint8_t id[static HASH_BYTES])
{
    c->n_decided = 0;
    const cons_voteset_t *vs = &s->precommits;
    for (uint32_t i = 0; i < c->vals.count; i++) {
        if (vs->have[i] && id_eq(vs->votes[i].block_id, id)) c->decided[c->n_decided++] = vs->votes[i];
        else if (vs->have2[i] && id_eq(vs->votes2[i].block_id, id)) c->decided[c->n_decided++] = vs->votes2[i];
    }
    c->step = CONS_STEP_DECIDED;
    cons_output_t *x = push(c, CONS_OUT_DECIDE);
    x->u.decide.height = c->height;
    x->u.decide.round = s->round;
    memcpy(x->u.decide.block_id, id, HASH_BYTES);
    x->u.decide.precommits = c->decided;
    x->u.decide.n_precommits = c->n_decided;
}

/* ------------------------------------------------------------------ upon-clauses */

static const uint8_t *quorum_id(const cons_voteset_t *vs)
{
    return vs->quorum >= 0 ? vs->tally[vs->quorum].id : NULL;
}

/* Line 49: 2f+1 precommits for a known valid block in any round. */
static bool try_decide(consensus_t *c)
{
    for (int i = 0; i < CONS_ROUND_SLOTS; i++) {
        cons_round_t *s = &c->rounds[i];
        if (!s->used) continue;
        const uint8_t *id = quorum_id(&s->precommits);
        if (!id || id_is_nil(id) || block_status(c, id) != CONS_BLOCK_VALID) continue;
        decide(c, s, id);
        return true;
    }
    return false;
}

/* Line 55: f+1 power has sent messages for rounds > round_p: go to the highest
 * round that f+1 power reached. */
static bool try_round_skip(consensus_t *c)
{
    if (!c->skip_check) return false;
    c->skip_check = false;
    int64_t best = -1;
    for (uint32_t i = 0; i < c->vals.count; i++) {
        int64_t cand = c->max_round_seen[i];
        if (cand <= (int64_t)c->round || cand <= best) continue;
        int64_t power = 0;
        for (uint32_t j = 0; j < c->vals.count; j++)
            if (c->max_round_seen[j] >= cand) power += c->vals.v[j].power;
        if (valset_has_one_third(&c->vals, power)) best = cand;
    }
    if (best < 0) return false;
    start_round(c, (uint32_t)best);
    return true;
}

/* Lines 22-27 and 28-33. */
static bool try_prevote_on_proposal(consensus_t *c, cons_round_t *s)
{
    if (!s->has_proposal) return false;
    const proposal_t *p = &s->proposal;
    uint8_t st = block_status(c, p->block_id);
    bool ok;
    if (p->pol_round < 0) { /* line 22 */
        if (st == CONS_BLOCK_UNKNOWN) return false; /* wait for the block */
        ok = st == CONS_BLOCK_VALID &&
             (c->locked_round == -1 || id_eq(c->locked_id, p->block_id));
    } else { /* line 28: vr < round_p is checked on input */
        cons_round_t *pol = round_find(c, (uint32_t)p->pol_round);
        const uint8_t *qid = pol ? quorum_id(&pol->prevotes) : NULL;
        if (!qid || !id_eq(qid, p->block_id)) return false;
        if (st == CONS_BLOCK_UNKNOWN) return false;
        ok = st == CONS_BLOCK_VALID &&
             (c->locked_round <= p->pol_round || id_eq(c->locked_id, p->block_id));
    }
    c->step = CONS_STEP_PREVOTE;
    sign_vote(c, VOTE_PREVOTE, ok ? p->block_id : NIL_ID);
    return true;
}

/* Lines 36-43. */
static bool try_lock(consensus_t *c, cons_round_t *s)
{
    if (s->lock_done || !s->has_proposal) return false;
    const uint8_t *qid = quorum_id(&s->prevotes);
    const uint8_t *v = s->proposal.block_id;
    if (!qid || id_is_nil(qid) || !id_eq(qid, v) || block_status(c, v) != CONS_BLOCK_VALID)
        return false;
    s->lock_done = true;
    int64_t t = block_find(c, v)->time_ns; /* VALID, so in the table */
    memcpy(c->valid_id, v, HASH_BYTES);
    c->valid_round = (int32_t)c->round;
    c->valid_time_ns = t;
    c->dirty = true;
    if (c->step == CONS_STEP_PREVOTE) {
        CAIRN_ASSERT(c->locked_round <= (int32_t)c->round); /* invariant 2 */
        memcpy(c->locked_id, v, HASH_BYTES);
        c->locked_round = (int32_t)c->round;
        c->locked_time_ns = t;
        c->step = CONS_STEP_PRECOMMIT;
        sign_vote(c, VOTE_PRECOMMIT, v);
    }
    return true;
}

static void evaluate(consensus_t *c)
{
    for (int iter = 0;; iter++) {
        CAIRN_ASSERTF(iter < EVAL_MAX, "upon-clauses did not settle (h=%llu r=%u)",
                      (unsigned long long)c->height, c->round);
        if (!c->started || c->step == CONS_STEP_DECIDED) return;
        if (try_decide(c)) return;
        if (try_round_skip(c)) continue;
        cons_round_t *s = round_find(c, c->round);
        CAIRN_ASSERT(s != NULL);
        if (c->step == CONS_STEP_PROPOSE && try_prevote_on_proposal(c, s)) continue;
        if (c->step == CONS_STEP_PREVOTE && !s->timeout_prevote_set &&
            valset_has_quorum(&c->vals, s->prevotes.power_any)) { /* line 34 */
            s->timeout_prevote_set = true;
            schedule_timeout(c, CONS_STEP_PREVOTE);
        }
        if (c->step >= CONS_STEP_PREVOTE && try_lock(c, s)) continue;
        if (c->step == CONS_STEP_PREVOTE) { /* line 44 */
            const uint8_t *qid = quorum_id(&s->prevotes);
            if (qid && id_is_nil(qid)) {
                c->step = CONS_STEP_PRECOMMIT;
                sign_vote(c, VOTE_PRECOMMIT, NIL_ID);
                continue;
            }
        }
        if (!s->timeout_precommit_set &&
            valset_has_quorum(&c->vals, s->precommits.power_any)) { /* line 47 */
            s->timeout_precommit_set = true;
            schedule_timeout(c, CONS_STEP_PRECOMMIT);
        }
        return;
    }
}

/* ------------------------------------------------------------------ inputs */

static cairn_err drop(consensus_t *c, enum cons_drop d, cairn_err err)
{
    c->drops[d]++;
    return err;
}

static cairn_err check_height(consensus_t *c, uint64_t h)
{
    if (h < c->height) return drop(c, CONS_DROP_OLD_HEIGHT, CAIRN_EBAD_HEIGHT);
    if (h > c->height) return drop(c, CONS_DROP_FUTURE_HEIGHT, CAIRN_EBAD_HEIGHT);
    return CAIRN_OK;
}

static bool round_too_far(const consensus_t *c, uint32_t r)
{
    return r > c->round && r - c->round > CONS_ROUND_MAX;
}

static void note_round(consensus_t *c, uint32_t idx, uint32_t r)
{
    if ((int64_t)r > c->max_round_seen[idx]) {
        c->max_round_seen[idx] = r;
        if (r > c->round) c->skip_check = true;
    }
}

static void tally_add(const valset_t *vals, cons_voteset_t *vs, const uint8_t *id, int64_t power,
                      bool first)
{
    cons_tally_t *t = NULL;
    for (uint32_t i = 0; i < vs->n_tally && !t; i++)
        if (id_eq(vs->tally[i].id, id)) t = &vs->tally[i];
    if (!t) {
        CAIRN_ASSERT(vs->n_tally < 2 * VALIDATORS_MAX); /* one entry per kept vote at most */
        t = &vs->tally[vs->n_tally++];
        memcpy(t->id, id, HASH_BYTES);
        t->power = 0;
    }
    t->power += power;
    if (first) vs->power_any += power;
    if (vs->quorum < 0 && valset_has_quorum(vals, t->power)) vs->quorum = (int32_t)(t - vs->tally);
}

static cairn_err on_vote(consensus_t *c, const vote_t *v)
{
    if (v->type != VOTE_PREVOTE && v->type != VOTE_PRECOMMIT)
        return drop(c, CONS_DROP_MALFORMED, CAIRN_EINVALID_ARG);
    CAIRN_TRY(check_height(c, v->height));
    uint32_t idx = v->validator_index;
    if (idx >= c->vals.count || memcmp(c->vals.v[idx].address, v->validator, ADDR_BYTES) != 0) {
        if (valset_index_of(&c->vals, v->validator) < 0)
            return drop(c, CONS_DROP_NOT_VALIDATOR, CAIRN_EBAD_VALIDATOR);
        return drop(c, CONS_DROP_BAD_INDEX, CAIRN_EBAD_VALIDATOR);
    }
    if (round_too_far(c, v->round)) return drop(c, CONS_DROP_FAR_ROUND, CAIRN_ELIMIT);
    note_round(c, idx, v->round);
    cons_round_t *s = round_get(c, v->round);
    if (!s) {
        evaluate(c); /* the round still counts for line 55, which may move us there */
        s = round_get(c, v->round);
        if (!s) return drop(c, CONS_DROP_NO_SLOT, CAIRN_ELIMIT);
    }
    cons_voteset_t *vs = v->type == VOTE_PREVOTE ? &s->prevotes : &s->precommits;
    if (vs->have[idx]) {
        if (id_eq(vs->votes[idx].block_id, v->block_id))
            return drop(c, CONS_DROP_DUPLICATE, CAIRN_EDUPLICATE);
        if (!vs->evidenced[idx]) {
            vs->evidenced[idx] = 1;
            cons_output_t *x = push(c, CONS_OUT_EVIDENCE);
            x->u.evidence.a = vs->votes[idx];
            x->u.evidence.b = *v;
        }
        if (vs->have2[idx]) {
            if (id_eq(vs->votes2[idx].block_id, v->block_id))
                return drop(c, CONS_DROP_DUPLICATE, CAIRN_EDUPLICATE);
            return drop(c, CONS_DROP_CONFLICTING_VOTE, CAIRN_EBAD_EVIDENCE);
        }
        vs->have2[idx] = 1; /* counted for its value only (consensus_int.h) */
        vs->votes2[idx] = *v;
        tally_add(&c->vals, vs, v->block_id, c->vals.v[idx].power, false);
        evaluate(c);
        return CAIRN_OK;
    }
    vs->have[idx] = 1;
    vs->votes[idx] = *v;
    tally_add(&c->vals, vs, v->block_id, c->vals.v[idx].power, true);
    evaluate(c);
    return CAIRN_OK;
}

static cairn_err on_proposal(consensus_t *c, const cons_input_t *in)
{
    const proposal_t *p = &in->u.proposal.proposal;
    uint8_t st = in->u.proposal.block_status;
    if (st > CONS_BLOCK_INVALID || p->pol_round < -1 || (int64_t)p->pol_round >= (int64_t)p->round ||
        id_is_nil(p->block_id))
        return drop(c, CONS_DROP_MALFORMED, CAIRN_EINVALID_ARG);
    CAIRN_TRY(check_height(c, p->height));
    if (round_too_far(c, p->round) || (p->round > c->round && p->round - c->round > CONS_ROUNDS_AHEAD))
        return drop(c, CONS_DROP_FAR_ROUND, CAIRN_ELIMIT);
    uint32_t pi = proposer_of(c, p->round);
    if (memcmp(c->vals.v[pi].address, p->proposer, ADDR_BYTES) != 0)
        return drop(c, CONS_DROP_NOT_PROPOSER, CAIRN_EBAD_PROPOSER);
    note_round(c, pi, p->round);
    cons_round_t *s = round_get(c, p->round);
    if (!s) return drop(c, CONS_DROP_NO_SLOT, CAIRN_ELIMIT);
    if (s->has_proposal &&
        (!id_eq(s->proposal.block_id, p->block_id) || s->proposal.pol_round != p->pol_round))
        return drop(c, CONS_DROP_CONFLICTING_PROPOSAL, CAIRN_EBAD_PROPOSER);
    int noted = block_note(c, p->block_id, st, in->u.proposal.block_time_ns);
    if (noted < 0) return drop(c, CONS_DROP_TOO_MANY_BLOCKS, CAIRN_ELIMIT);
    if (s->has_proposal && noted == 0) return drop(c, CONS_DROP_DUPLICATE, CAIRN_EDUPLICATE);
    s->has_proposal = true;
    s->proposal = *p;
    evaluate(c);
    return CAIRN_OK;
}

static cairn_err on_block(consensus_t *c, const cons_input_t *in)
{
    uint8_t st = in->u.block.status;
    if ((st != CONS_BLOCK_VALID && st != CONS_BLOCK_INVALID) || id_is_nil(in->u.block.block_id))
        return drop(c, CONS_DROP_MALFORMED, CAIRN_EINVALID_ARG);
    CAIRN_TRY(check_height(c, in->u.block.height));
    int noted = block_note(c, in->u.block.block_id, st, in->u.block.block_time_ns);
    if (noted < 0) return drop(c, CONS_DROP_TOO_MANY_BLOCKS, CAIRN_ELIMIT);
    if (noted == 0) return drop(c, CONS_DROP_DUPLICATE, CAIRN_EDUPLICATE);
    evaluate(c);
    return CAIRN_OK;
}

static cairn_err on_created(consensus_t *c, const cons_input_t *in)
{
    if (id_is_nil(in->u.created.block_id)) return drop(c, CONS_DROP_MALFORMED, CAIRN_EINVALID_ARG);
    if (in->u.created.height != c->height || in->u.created.round != c->round ||
        c->step != CONS_STEP_PROPOSE || !c->create_pending)
        return drop(c, CONS_DROP_STALE, CAIRN_EBAD_HEIGHT);
    if (block_note(c, in->u.created.block_id, CONS_BLOCK_VALID, in->u.created.block_time_ns) < 0)
        return drop(c, CONS_DROP_TOO_MANY_BLOCKS, CAIRN_ELIMIT);
    sign_proposal(c, in->u.created.block_id, -1); /* line 19 */
    evaluate(c);
    return CAIRN_OK;
}

/* Lines 57-65. */
static cairn_err on_timeout(consensus_t *c, const cons_input_t *in)
{
    uint8_t step = in->u.timeout.step;
    if (step < CONS_STEP_PROPOSE || step > CONS_STEP_PRECOMMIT)
        return drop(c, CONS_DROP_MALFORMED, CAIRN_EINVALID_ARG);
    if (in->u.timeout.height != c->height || in->u.timeout.round != c->round ||
        c->step == CONS_STEP_DECIDED)
        return drop(c, CONS_DROP_STALE, CAIRN_EBAD_HEIGHT);
    if (step == CONS_STEP_PRECOMMIT) { /* line 65, any step */
        start_round(c, c->round + 1);
    } else if (step == c->step && step == CONS_STEP_PROPOSE) { /* line 57 */
        c->step = CONS_STEP_PREVOTE;
        sign_vote(c, VOTE_PREVOTE, NIL_ID);
    } else if (step == c->step && step == CONS_STEP_PREVOTE) { /* line 61 */
        c->step = CONS_STEP_PRECOMMIT;
        sign_vote(c, VOTE_PRECOMMIT, NIL_ID);
    } else {
        return drop(c, CONS_DROP_STALE, CAIRN_EBAD_HEIGHT);
    }
    evaluate(c);
    return CAIRN_OK;
}

static bool persist_consistent(const cons_persist_t *r)
{
    if (r->step < CONS_STEP_PROPOSE || r->step > CONS_STEP_PRECOMMIT || r->voted > 3) return false;
    if (r->locked_round < -1 || r->locked_round > (int64_t)r->round) return false;
    if (r->valid_round < -1 || r->valid_round > (int64_t)r->round) return false;
    if ((r->locked_round >= 0) == id_is_nil(r->locked_id)) return false;
    if ((r->valid_round >= 0) == id_is_nil(r->valid_id)) return false;
    if ((r->locked_round < 0 && r->locked_time_ns != 0) || (r->valid_round < 0 && r->valid_time_ns != 0))
        return false;
    if (r->locked_round > r->valid_round) return false; /* locking also sets valid */
    if ((r->voted & 1) && r->step < CONS_STEP_PREVOTE) return false;
    if ((r->voted & 2) && r->step < CONS_STEP_PRECOMMIT) return false;
    if (!(r->voted & 1) && !id_is_nil(r->prevote_id)) return false;
    if (!(r->voted & 2) && !id_is_nil(r->precommit_id)) return false;
    return r->round <= CONS_ROUND_MAX;
}

static void restore(consensus_t *c, const cons_persist_t *r)
{
    c->locked_round = r->locked_round;
    memcpy(c->locked_id, r->locked_id, HASH_BYTES);
    c->locked_time_ns = r->locked_time_ns;
    c->valid_round = r->valid_round;
    memcpy(c->valid_id, r->valid_id, HASH_BYTES);
    c->valid_time_ns = r->valid_time_ns;
    /* Both were valid when recorded, and validation is deterministic: knowing
     * them again (with their times) keeps a repeated precommit's time later than
     * its block's, and lets a proposer re-propose its valid value at once. */
    if (r->locked_round >= 0) (void)block_note(c, r->locked_id, CONS_BLOCK_VALID, r->locked_time_ns);
    if (r->valid_round >= 0) (void)block_note(c, r->valid_id, CONS_BLOCK_VALID, r->valid_time_ns);
    if (r->step == CONS_STEP_PROPOSE) {
        start_round(c, r->round);
        return;
    }
    c->round = r->round;
    c->step = r->step;
    c->voted = 0;
    c->proposed = c->create_pending = false;
    c->dirty = true;
    cons_round_t *s = round_get(c, r->round);
    CAIRN_ASSERT(s != NULL);
    /* Ask again for the same votes: the signer hands back its stored signature. */
    if (r->voted & 1) sign_vote(c, VOTE_PREVOTE, r->prevote_id);
    if (r->voted & 2) sign_vote(c, VOTE_PRECOMMIT, r->precommit_id);
    emit_persist(c);
    /* The votes that armed lines 34/47 before the crash may never come again
     * (peers moved on, our own may be refused by the signer): arm the step's
     * timeout now. A timeout only ever leads to nil votes or the next round. */
    if (r->step == CONS_STEP_PREVOTE) {
        s->timeout_prevote_set = true;
        schedule_timeout(c, CONS_STEP_PREVOTE);
    } else {
        s->timeout_precommit_set = true;
        schedule_timeout(c, CONS_STEP_PRECOMMIT);
    }
}

static cairn_err on_start(consensus_t *c, const cons_input_t *in)
{
    const valset_t *vals = in->u.start.validators;
    const cons_persist_t *rec = in->u.start.restore;
    uint32_t n_lc = in->u.start.n_last_commit;
    if (!vals || vals->count == 0 || vals->count > VALIDATORS_MAX || in->u.start.height == 0 ||
        n_lc > VALIDATORS_MAX || (n_lc > 0 && (!in->u.start.last_commit || !in->u.start.last_validators)) ||
        (rec && (rec->height != in->u.start.height || !persist_consistent(rec))))
        return drop(c, CONS_DROP_MALFORMED, CAIRN_EINVALID_ARG);
    if (c->started && in->u.start.height <= c->height) return drop(c, CONS_DROP_STALE, CAIRN_EBAD_HEIGHT);
    c->started = true;
    c->height = in->u.start.height;
    c->vals = *vals;
    c->prop_vals = *vals;
    c->prop_round = 0;
    c->own_index = c->has_own ? valset_index_of(vals, c->own_address) : -1;
    c->has_last_vals = in->u.start.last_validators != NULL;
    if (c->has_last_vals) c->last_vals = *in->u.start.last_validators;
    c->last_block_time_ns = in->u.start.last_block_time_ns;
    if (n_lc) memmove(c->last_commit, in->u.start.last_commit, n_lc * sizeof(vote_t));
    c->n_last_commit = n_lc;
    c->n_decided = 0;
    c->locked_round = c->valid_round = -1;
    c->locked_time_ns = c->valid_time_ns = 0;
    memset(c->locked_id, 0, HASH_BYTES);
    memset(c->valid_id, 0, HASH_BYTES);
    memset(c->prevote_id, 0, HASH_BYTES);
    memset(c->precommit_id, 0, HASH_BYTES);
    for (int i = 0; i < VALIDATORS_MAX; i++) c->max_round_seen[i] = -1;
    c->skip_check = false;
    for (int i = 0; i < CONS_ROUND_SLOTS; i++) c->rounds[i].used = false;
    for (int i = 0; i < CONS_BLOCKS_MAX; i++) c->blocks[i].used = false;
    c->round = 0;
    if (rec) restore(c, rec);
    else start_round(c, 0); /* line 10: upon start, StartRound(0) */
    evaluate(c);
    return CAIRN_OK;
}

cairn_err consensus_step(consensus_t *c, const cons_input_t *in, int64_t now_ns,
                         cons_outputs_t *out)
{
    if (out->n > CONS_OUTPUTS_MAX - CONS_STEP_OUTPUTS_MAX) return CAIRN_ELIMIT;
    c->out = out;
    c->now_ns = now_ns;
    cairn_err rc;
    if (in->kind != CONS_IN_START_HEIGHT && !c->started) {
        rc = drop(c, CONS_DROP_NOT_STARTED, CAIRN_EBUSY);
        goto out;
    }
    switch (in->kind) {
    case CONS_IN_START_HEIGHT: rc = on_start(c, in); break;
    case CONS_IN_PROPOSAL: rc = on_proposal(c, in); break;
    case CONS_IN_VOTE: rc = on_vote(c, &in->u.vote); break;
    case CONS_IN_BLOCK: rc = on_block(c, in); break;
    case CONS_IN_BLOCK_CREATED: rc = on_created(c, in); break;
    case CONS_IN_TIMEOUT: rc = on_timeout(c, in); break;
    default: rc = drop(c, CONS_DROP_MALFORMED, CAIRN_EINVALID_ARG); break;
    }
    if (c->started && c->step != CONS_STEP_DECIDED) emit_persist(c);
out:
    c->out = NULL;
    return rc;
}

/* ------------------------------------------------------------------ lifecycle */

consensus_t *consensus_new(const cons_config_t *cfg, const uint8_t *own_address)
{
    consensus_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cfg = *cfg;
    if (own_address) {
        c->has_own = true;
        memcpy(c->own_address, own_address, ADDR_BYTES);
    }
    c->own_index = -1;
    c->locked_round = c->valid_round = -1;
    return c;
}

void consensus_free(consensus_t *c)
{
    free(c);
}

uint64_t consensus_height(const consensus_t *c) { return c->height; }
uint32_t consensus_round(const consensus_t *c) { return c->round; }
enum cons_step consensus_step_of(const consensus_t *c) { return (enum cons_step)c->step; }
int32_t consensus_locked_round(const consensus_t *c) { return c->locked_round; }
int32_t consensus_valid_round(const consensus_t *c) { return c->valid_round; }

const uint8_t *consensus_locked_id(const consensus_t *c)
{
    return c->locked_round >= 0 ? c->locked_id : NULL;
}

uint64_t consensus_drops(const consensus_t *c, enum cons_drop d)
{
    return (unsigned)d < CONS_DROP__COUNT ? c->drops[d] : 0;
}

uint32_t consensus_votes_get(const consensus_t *c, uint32_t round, uint8_t type, vote_t *out,
                            uint32_t max)
{
    uint32_t n = 0;
    for (int i = 0; i < CONS_ROUND_SLOTS; i++) {
        const cons_round_t *s = &c->rounds[i];
        if (!s->used || s->round != round) continue;
        const cons_voteset_t *vs = type == VOTE_PREVOTE ? &s->prevotes : &s->precommits;
        for (uint32_t k = 0; k < c->vals.count && n < max; k++)
            if (vs->have[k]) out[n++] = vs->votes[k];
        for (uint32_t k = 0; k < c->vals.count && n < max; k++)
            if (vs->have2[k]) out[n++] = vs->votes2[k];
    }
    return n;
}

void consensus_snapshot(const consensus_t *c, cons_persist_t *out)
{
    memset(out, 0, sizeof *out);
    out->height = c->height;
    out->round = c->round;
    out->step = c->step;
    out->locked_round = c->locked_round;
    memcpy(out->locked_id, c->locked_id, HASH_BYTES);
    out->locked_time_ns = c->locked_time_ns;
    out->valid_round = c->valid_round;
    memcpy(out->valid_id, c->valid_id, HASH_BYTES);
    out->valid_time_ns = c->valid_time_ns;
    out->voted = c->voted;
    if (c->voted & 1) memcpy(out->prevote_id, c->prevote_id, HASH_BYTES);
    if (c->voted & 2) memcpy(out->precommit_id, c->precommit_id, HASH_BYTES);
}

bool consensus_persist_consistent(const cons_persist_t *rec)
{
    return persist_consistent(rec);
}
