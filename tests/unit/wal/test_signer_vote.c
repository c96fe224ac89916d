/* Signing votes and proposals: step order, conflicts, and CometBFT's timestamp
 * rule (a request differing only in its timestamp gets the old signature and the
 * old timestamp back). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/log.h"
#include "chain/chain.h"
#include "crypto/crypto.h"
#include "wal/signer.h"

typedef struct {
    char dir[64];
    char path[128];
    keypair_t kp;
    chain_id_t cid;
    signer_t *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-vote-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/state", f->dir);
    uint8_t seed[SEED_BYTES];
    memset(seed, 3, sizeof seed);
    key_from_seed(&f->kp, seed);
    if (chain_id_set(&f->cid, "cairn-test") != CAIRN_OK) return -1;
    if (signer_create(f->path, &f->kp, &f->s) != CAIRN_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    signer_close(f->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static vote_t vote_make(const fixture *f, uint8_t type, uint64_t h, uint32_t r, uint8_t block,
                        int64_t t)
{
    vote_t v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.height = h;
    v.round = r;
    memset(v.block_id, block, HASH_BYTES);
    v.time_ns = t;
    key_address(v.validator, f->kp.pub);
    return v;
}

static proposal_t proposal_make(const fixture *f, uint64_t h, uint32_t r, uint8_t block, int64_t t)
{
    proposal_t p;
    memset(&p, 0, sizeof p);
    p.height = h;
    p.round = r;
    p.pol_round = -1;
    memset(p.block_id, block, HASH_BYTES);
    p.time_ns = t;
    key_address(p.proposer, f->kp.pub);
    return p;
}

static void signed_vote_verifies(void **state)
{
    fixture *f = *state;
    vote_t v = vote_make(f, VOTE_PREVOTE, 1, 0, 0xAA, 1000);
    assert_int_equal(signer_sign_vote(f->s, &v, &f->cid), CAIRN_OK);
    assert_int_equal(vote_verify(&v, &f->cid, f->kp.pub), CAIRN_OK);
    assert_int_equal(v.time_ns, 1000);
}

static void precommit_after_prevote_is_signed_but_not_the_reverse(void **state)
{
    fixture *f = *state;
    vote_t pv = vote_make(f, VOTE_PREVOTE, 4, 1, 0xAA, 1000);
    vote_t pc = vote_make(f, VOTE_PRECOMMIT, 4, 1, 0xAA, 1001);
    assert_int_equal(signer_sign_vote(f->s, &pv, &f->cid), CAIRN_OK);
    assert_int_equal(signer_sign_vote(f->s, &pc, &f->cid), CAIRN_OK);
    vote_t pv2 = vote_make(f, VOTE_PREVOTE, 4, 1, 0xAA, 1000);
    assert_int_equal(signer_sign_vote(f->s, &pv2, &f->cid), CAIRN_EDOUBLE_SIGN);
}

static void conflicting_vote_for_another_block_is_refused(void **state)
{
    fixture *f = *state;
    vote_t a = vote_make(f, VOTE_PRECOMMIT, 5, 0, 0xAA, 1000);
    vote_t b = vote_make(f, VOTE_PRECOMMIT, 5, 0, 0xBB, 1000);
    vote_t nil = vote_make(f, VOTE_PRECOMMIT, 5, 0, 0x00, 1000);
    vote_t b_later = vote_make(f, VOTE_PRECOMMIT, 5, 0, 0xBB, 2000);
    assert_int_equal(signer_sign_vote(f->s, &a, &f->cid), CAIRN_OK);
    assert_int_equal(signer_sign_vote(f->s, &b, &f->cid), CAIRN_EDOUBLE_SIGN);
    assert_int_equal(signer_sign_vote(f->s, &nil, &f->cid), CAIRN_EDOUBLE_SIGN);
    assert_int_equal(signer_sign_vote(f->s, &b_later, &f->cid), CAIRN_EDOUBLE_SIGN);
}

static void vote_differing_only_in_time_gets_old_signature_and_time(void **state)
{
    fixture *f = *state;
    vote_t a = vote_make(f, VOTE_PREVOTE, 6, 2, 0xAA, 1000);
    assert_int_equal(signer_sign_vote(f->s, &a, &f->cid), CAIRN_OK);
    vote_t later = vote_make(f, VOTE_PREVOTE, 6, 2, 0xAA, 5000);
    assert_int_equal(signer_sign_vote(f->s, &later, &f->cid), CAIRN_OK);
    assert_int_equal(later.time_ns, 1000);
    assert_memory_equal(later.sig, a.sig, SIG_BYTES);
    assert_int_equal(vote_verify(&later, &f->cid, f->kp.pub), CAIRN_OK);
    signer_state_t st;
    signer_state_get(f->s, &st);
    assert_int_equal(st.time_ns, 1000);
}

static void timestamp_rule_holds_after_reopen(void **state)
{
    fixture *f = *state;
    vote_t a = vote_make(f, VOTE_PRECOMMIT, 8, 0, 0xAA, 1000);
    assert_int_equal(signer_sign_vote(f->s, &a, &f->cid), CAIRN_OK);
    signer_close(f->s);
    f->s = NULL;
    assert_int_equal(signer_open(f->path, &f->kp, &f->s), CAIRN_OK);
    vote_t later = vote_make(f, VOTE_PRECOMMIT, 8, 0, 0xAA, 3000);
    assert_int_equal(signer_sign_vote(f->s, &later, &f->cid), CAIRN_OK);
    assert_int_equal(later.time_ns, 1000);
    assert_memory_equal(later.sig, a.sig, SIG_BYTES);
    vote_t other = vote_make(f, VOTE_PRECOMMIT, 8, 0, 0xBB, 1000);
    assert_int_equal(signer_sign_vote(f->s, &other, &f->cid), CAIRN_EDOUBLE_SIGN);
}

static void vote_of_unknown_type_is_invalid(void **state)
{
    fixture *f = *state;
    vote_t v = vote_make(f, 7, 1, 0, 0xAA, 1000);
    assert_int_equal(signer_sign_vote(f->s, &v, &f->cid), CAIRN_EINVALID_ARG);
    signer_state_t st;
    signer_state_get(f->s, &st);
    assert_int_equal(st.height, 0);
}

static void proposal_comes_before_votes_of_its_round(void **state)
{
    fixture *f = *state;
    proposal_t p = proposal_make(f, 3, 0, 0xAA, 1000);
    assert_int_equal(signer_sign_proposal(f->s, &p, &f->cid), CAIRN_OK);
    assert_int_equal(proposal_verify(&p, &f->cid, f->kp.pub), CAIRN_OK);
    vote_t v = vote_make(f, VOTE_PREVOTE, 3, 0, 0xAA, 1001);
    assert_int_equal(signer_sign_vote(f->s, &v, &f->cid), CAIRN_OK);
    proposal_t again = proposal_make(f, 3, 0, 0xAA, 1000);
    assert_int_equal(signer_sign_proposal(f->s, &again, &f->cid), CAIRN_EDOUBLE_SIGN);
    proposal_t next_round = proposal_make(f, 3, 1, 0xBB, 1002);
    assert_int_equal(signer_sign_proposal(f->s, &next_round, &f->cid), CAIRN_OK);
}

static void proposal_timestamp_rule_and_conflict(void **state)
{
    fixture *f = *state;
    proposal_t p = proposal_make(f, 9, 1, 0xAA, 1000);
    assert_int_equal(signer_sign_proposal(f->s, &p, &f->cid), CAIRN_OK);
    proposal_t later = proposal_make(f, 9, 1, 0xAA, 4000);
    assert_int_equal(signer_sign_proposal(f->s, &later, &f->cid), CAIRN_OK);
    assert_int_equal(later.time_ns, 1000);
    assert_memory_equal(later.sig, p.sig, SIG_BYTES);
    assert_int_equal(proposal_verify(&later, &f->cid, f->kp.pub), CAIRN_OK);
    proposal_t other = proposal_make(f, 9, 1, 0xBB, 1000);
    assert_int_equal(signer_sign_proposal(f->s, &other, &f->cid), CAIRN_EDOUBLE_SIGN);
    proposal_t pol = proposal_make(f, 9, 1, 0xAA, 1000);
    pol.pol_round = 0; /* differs in more than the timestamp */
    assert_int_equal(signer_sign_proposal(f->s, &pol, &f->cid), CAIRN_EDOUBLE_SIGN);
}

int main(void)
{
    if (crypto_init() != CAIRN_OK) return 1;
    log_level_set(LOG_ERROR);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(signed_vote_verifies),
        T(precommit_after_prevote_is_signed_but_not_the_reverse),
        T(conflicting_vote_for_another_block_is_refused),
        T(vote_differing_only_in_time_gets_old_signature_and_time),
        T(timestamp_rule_holds_after_reopen),
        T(vote_of_unknown_type_is_invalid),
        T(proposal_comes_before_votes_of_its_round),
        T(proposal_timestamp_rule_and_conflict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
