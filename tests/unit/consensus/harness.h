/* harness.h - hand-built messages for the consensus unit tests (header-only,
 * included by each tests/unit/consensus/test_*.c). Four validators of power 10:
 * a quorum is 3 votes, f+1 is 2 votes. */
#ifndef CAIRN_TESTS_CONSENSUS_HARNESS_H
#define CAIRN_TESTS_CONSENSUS_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "consensus/consensus.h"
#include "crypto/crypto.h"

#define MS_NS 1000000LL
#define GENESIS_NS (1764000000LL * 1000000000LL)

typedef struct {
    valset_t vs;
    consensus_t *c;
    cons_config_t cfg;
    cons_outputs_t out;
    uint32_t own; /* valset index of this node */
    uint64_t height;
    int64_t now;
} h_t;

static inline void h_id(uint8_t id[HASH_BYTES], uint8_t tag)
{
    memset(id, 0, HASH_BYTES);
    id[0] = tag; /* 0 stays nil */
    id[31] = 0xAB;
}

static inline void h_valset(valset_t *vs, uint32_t n, const int64_t *powers)
{
    validator_t vals[8];
    memset(vals, 0, sizeof vals);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t seed[SEED_BYTES] = {0};
        seed[0] = (uint8_t)(i + 1);
        keypair_t kp;
        key_from_seed(&kp, seed);
        memcpy(vals[i].pub, kp.pub, PUBKEY_BYTES);
        vals[i].power = powers ? powers[i] : 10;
    }
    assert_int_equal(valset_init(vs, vals, n), CAIRN_OK);
}

/* Valset index of proposer(height of vs, round). */
static inline uint32_t h_proposer(const valset_t *vs, uint32_t round)
{
    valset_t tmp = *vs;
    valset_increment_priority(&tmp, round);
    return (uint32_t)(valset_proposer(&tmp) - tmp.v);
}

static inline cairn_err h_step(h_t *h, const cons_input_t *in)
{
    h->out.n = 0;
    return consensus_step(h->c, in, h->now, &h->out);
}

/* A node that is (proposer == true) or is not the proposer of round `round`. */
static inline h_t *h_new(bool proposer, uint32_t round)
{
    assert_int_equal(crypto_init(), CAIRN_OK);
    h_t *h = calloc(1, sizeof *h);
    assert_non_null(h);
    h_valset(&h->vs, 4, NULL);
    uint32_t p = h_proposer(&h->vs, round);
    h->own = proposer ? p : (p + 1) % 4;
    h->cfg = (cons_config_t){.propose_base_ns = 300 * MS_NS, .propose_delta_ns = 100 * MS_NS,
                             .prevote_base_ns = 200 * MS_NS, .prevote_delta_ns = 50 * MS_NS,
                             .precommit_base_ns = 250 * MS_NS, .precommit_delta_ns = 25 * MS_NS};
    h->c = consensus_new(&h->cfg, h->vs.v[h->own].address);
    assert_non_null(h->c);
    h->height = 1;
    h->now = GENESIS_NS + 5 * MS_NS;
    return h;
}

/* A node that is the proposer of none of the rounds 0 .. last. */
static inline h_t *h_new_passive(uint32_t last)
{
    h_t *h = h_new(false, 0);
    for (uint32_t cand = 0; cand < 4; cand++) {
        bool proposes = false;
        for (uint32_t r = 0; r <= last; r++) proposes |= h_proposer(&h->vs, r) == cand;
        if (proposes) continue;
        h->own = cand;
        consensus_free(h->c);
        h->c = consensus_new(&h->cfg, h->vs.v[cand].address);
        assert_non_null(h->c);
        return h;
    }
    fail_msg("every validator proposes in rounds 0..%u", last);
    return h;
}

static inline void h_free(h_t *h)
{
    consensus_free(h->c);
    free(h);
}

static inline void h_start(h_t *h)
{
    cons_input_t in = {.kind = CONS_IN_START_HEIGHT};
    in.u.start.height = h->height;
    in.u.start.validators = &h->vs;
    in.u.start.last_block_time_ns = GENESIS_NS;
    assert_int_equal(h_step(h, &in), CAIRN_OK);
}

static inline vote_t h_vote(const h_t *h, uint8_t type, uint32_t round, uint32_t val, uint8_t tag)
{
    vote_t v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.height = h->height;
    v.round = round;
    if (tag) h_id(v.block_id, tag);
    v.time_ns = h->now;
    memcpy(v.validator, h->vs.v[val].address, ADDR_BYTES);
    v.validator_index = val;
    v.sig[0] = 1;
    return v;
}

static inline cairn_err h_feed_vote(h_t *h, uint8_t type, uint32_t round, uint32_t val, uint8_t tag)
{
    cons_input_t in = {.kind = CONS_IN_VOTE};
    in.u.vote = h_vote(h, type, round, val, tag);
    return h_step(h, &in);
}

/* The k-th validator (k = 0, 1, 2) other than own, in index order. */
static inline uint32_t h_other(const h_t *h, uint32_t k)
{
    for (uint32_t i = 0; i < 4; i++) {
        if (i == h->own) continue;
        if (k-- == 0) return i;
    }
    fail();
    return 0;
}

/* Votes of `type` for tag from h_other(0 .. k-1) (tag 0: nil). */
static inline void h_feed_votes(h_t *h, uint8_t type, uint32_t round, uint32_t k, uint8_t tag)
{
    for (uint32_t i = 0, fed = 0; i < 4 && fed < k; i++) {
        if (i == h->own) continue;
        assert_int_equal(h_feed_vote(h, type, round, i, tag), CAIRN_OK);
        fed++;
    }
}

static inline cons_input_t h_proposal_in(const h_t *h, uint32_t round, uint8_t tag, int32_t pol,
                                         uint8_t status)
{
    cons_input_t in = {.kind = CONS_IN_PROPOSAL};
    proposal_t *p = &in.u.proposal.proposal;
    p->height = h->height;
    p->round = round;
    p->pol_round = pol;
    h_id(p->block_id, tag);
    p->time_ns = h->now;
    memcpy(p->proposer, h->vs.v[h_proposer(&h->vs, round)].address, ADDR_BYTES);
    in.u.proposal.block_status = status;
    in.u.proposal.block_time_ns = GENESIS_NS;
    return in;
}

static inline cairn_err h_feed_proposal(h_t *h, uint32_t round, uint8_t tag, int32_t pol, uint8_t status)
{
    cons_input_t in = h_proposal_in(h, round, tag, pol, status);
    return h_step(h, &in);
}

static inline cairn_err h_feed_timeout(h_t *h, uint32_t round, uint8_t step)
{
    cons_input_t in = {.kind = CONS_IN_TIMEOUT};
    in.u.timeout.height = h->height;
    in.u.timeout.round = round;
    in.u.timeout.step = step;
    return h_step(h, &in);
}

/* The n-th output of a kind in the last step, or NULL. */
static inline const cons_output_t *h_out(const h_t *h, uint8_t kind, int nth)
{
    for (uint32_t i = 0; i < h->out.n; i++)
        if (h->out.items[i].kind == kind && nth-- == 0) return &h->out.items[i];
    return NULL;
}

static inline int h_count(const h_t *h, uint8_t kind)
{
    int k = 0;
    for (uint32_t i = 0; i < h->out.n; i++) k += h->out.items[i].kind == kind;
    return k;
}

/* The vote this step asked to sign, checking a PERSIST record came before it. */
static inline const vote_t *h_signed(const h_t *h, uint8_t type)
{
    for (uint32_t i = 0; i < h->out.n; i++) {
        const cons_output_t *o = &h->out.items[i];
        if (o->kind != CONS_OUT_SIGN_VOTE || o->u.vote.type != type) continue;
        bool persisted = false;
        for (uint32_t k = 0; k < i; k++) persisted |= h->out.items[k].kind == CONS_OUT_PERSIST;
        assert_true(persisted);
        return &o->u.vote;
    }
    return NULL;
}

static inline bool h_is_tag(const uint8_t id[HASH_BYTES], uint8_t tag)
{
    uint8_t want[HASH_BYTES];
    if (tag == 0) return bytes_is_zero(id, HASH_BYTES);
    h_id(want, tag);
    return memcmp(id, want, HASH_BYTES) == 0;
}

#endif
