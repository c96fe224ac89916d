/* Votes and proposals: round trips, decoder rejections, domain separation. */
#include "fixture.h"

static const int64_t POWERS[] = {10, 10, 10, 10};

static void block_id(uint8_t out[HASH_BYTES], int n)
{
    memset(out, 0, HASH_BYTES);
    out[0] = (uint8_t)n;
    out[31] = 0xee;
}

static void setup_vote(vote_t *v, chain_id_t *cid, valset_t *vs, keypair_t *kp)
{
    fx_chain_id(cid, "cairn-test");
    fx_valset(vs, POWERS, 4);
    fx_key_of(kp, vs, 2);
    uint8_t bid[HASH_BYTES];
    block_id(bid, 1);
    fx_vote(v, cid, vs, 2, VOTE_PRECOMMIT, 9, 3, bid);
}

static void vote_round_trips(void **s)
{
    (void)s;
    vote_t v, got;
    chain_id_t cid;
    valset_t vs;
    keypair_t kp;
    setup_vote(&v, &cid, &vs, &kp);
    buf_t b, again;
    buf_init(&b, 0);
    buf_init(&again, 0);
    assert_int_equal(vote_encode(&v, &b), CAIRN_OK);
    assert_int_equal(b.len, 142);
    assert_int_equal(vote_decode(&got, b.data, b.len), CAIRN_OK);
    assert_memory_equal(&got, &v, sizeof v);
    assert_int_equal(vote_encode(&got, &again), CAIRN_OK);
    assert_memory_equal(again.data, b.data, b.len);
    assert_false(vote_is_nil(&got));
    buf_deinit(&b);
    buf_deinit(&again);
}

static void vote_decode_rejects_each_malformed_input(void **s)
{
    (void)s;
    vote_t v, got;
    chain_id_t cid;
    valset_t vs;
    keypair_t kp;
    setup_vote(&v, &cid, &vs, &kp);
    buf_t b;
    buf_init(&b, 0);
    assert_int_equal(vote_encode(&v, &b), CAIRN_OK);
    uint8_t p[200];
    memcpy(p, b.data, b.len);
    for (size_t n = 0; n < b.len; n++) assert_int_equal(vote_decode(&got, p, n), CAIRN_ETRUNCATED);
    p[b.len] = 0;
    assert_int_equal(vote_decode(&got, p, b.len + 1), CAIRN_ETRAILING);
    p[0] = 0;
    assert_int_equal(vote_decode(&got, p, b.len), CAIRN_EBAD_VERSION);
    p[0] = 1;
    p[1] = 3;
    assert_int_equal(vote_decode(&got, p, b.len), CAIRN_EBAD_TYPE);
    p[1] = 0;
    assert_int_equal(vote_decode(&got, p, b.len), CAIRN_EBAD_TYPE);
    p[1] = VOTE_PREVOTE;
    memset(p + 2, 0, 8);
    assert_int_equal(vote_decode(&got, p, b.len), CAIRN_EBAD_HEIGHT);
    buf_deinit(&b);
}

static void vote_signature_verifies(void **s)
{
    (void)s;
    vote_t v;
    chain_id_t cid;
    valset_t vs;
    keypair_t kp;
    setup_vote(&v, &cid, &vs, &kp);
    assert_int_equal(vote_verify(&v, &cid, kp.pub), CAIRN_OK);
    vote_t nil = v;
    memset(nil.block_id, 0, HASH_BYTES);
    assert_true(vote_is_nil(&nil));
    fx_sign_vote(&nil, &cid, &kp);
    assert_int_equal(vote_verify(&nil, &cid, kp.pub), CAIRN_OK);
}

static void vote_signature_covers_every_signed_field(void **s)
{
    (void)s;
    vote_t v, t;
    chain_id_t cid;
    valset_t vs;
    keypair_t kp;
    setup_vote(&v, &cid, &vs, &kp);
    t = v;
    t.type = VOTE_PREVOTE;
    assert_int_equal(vote_verify(&t, &cid, kp.pub), CAIRN_EBAD_SIGNATURE);
    t = v;
    t.height++;
    assert_int_equal(vote_verify(&t, &cid, kp.pub), CAIRN_EBAD_SIGNATURE);
    t = v;
    t.round++;
    assert_int_equal(vote_verify(&t, &cid, kp.pub), CAIRN_EBAD_SIGNATURE);
    t = v;
    t.block_id[5] ^= 1;
    assert_int_equal(vote_verify(&t, &cid, kp.pub), CAIRN_EBAD_SIGNATURE);
    t = v;
    t.time_ns++;
    assert_int_equal(vote_verify(&t, &cid, kp.pub), CAIRN_EBAD_SIGNATURE);
}

static void vote_signature_does_not_verify_under_another_chain_id(void **s)
{
    (void)s;
    vote_t v;
    chain_id_t cid, other;
    valset_t vs;
    keypair_t kp;
    setup_vote(&v, &cid, &vs, &kp);
    fx_chain_id(&other, "cairn-test2");
    assert_int_equal(vote_verify(&v, &other, kp.pub), CAIRN_EBAD_SIGNATURE);
}

static void vote_from_another_key_is_an_unknown_validator(void **s)
{
    (void)s;
    vote_t v;
    chain_id_t cid;
    valset_t vs;
    keypair_t kp, other;
    setup_vote(&v, &cid, &vs, &kp);
    fx_key_of(&other, &vs, 0);
    assert_int_equal(vote_verify(&v, &cid, other.pub), CAIRN_EBAD_VALIDATOR);
    /* right address, signature by someone else */
    vote_t t = v;
    fx_sign_vote(&t, &cid, &other);
    assert_int_equal(vote_verify(&t, &cid, kp.pub), CAIRN_EBAD_SIGNATURE);
}

static void make_proposal(proposal_t *p, const chain_id_t *cid, const keypair_t *kp)
{
    memset(p, 0, sizeof *p);
    p->height = 9;
    p->round = 3;
    p->pol_round = 1;
    block_id(p->block_id, 1);
    p->time_ns = 1700000000123456789LL;
    key_address(p->proposer, kp->pub);
    buf_t b;
    buf_init(&b, 0);
    assert_int_equal(proposal_sign_bytes(p, cid, &b), CAIRN_OK);
    key_sign(p->sig, kp, b.data, b.len);
    buf_deinit(&b);
}

static void proposal_round_trips_and_verifies(void **s)
{
    (void)s;
    chain_id_t cid;
    fx_chain_id(&cid, "cairn-test");
    keypair_t kp;
    fx_key(&kp, 3);
    proposal_t p, got;
    make_proposal(&p, &cid, &kp);
    buf_t b, again;
    buf_init(&b, 0);
    buf_init(&again, 0);
    assert_int_equal(proposal_encode(&p, &b), CAIRN_OK);
    assert_int_equal(b.len, 141);
    assert_int_equal(proposal_decode(&got, b.data, b.len), CAIRN_OK);
    assert_memory_equal(&got, &p, sizeof p);
    assert_int_equal(proposal_encode(&got, &again), CAIRN_OK);
    assert_memory_equal(again.data, b.data, b.len);
    assert_int_equal(proposal_verify(&got, &cid, kp.pub), CAIRN_OK);
    got.pol_round = -1;
    assert_int_equal(proposal_verify(&got, &cid, kp.pub), CAIRN_EBAD_SIGNATURE);
    buf_deinit(&b);
    buf_deinit(&again);
}

static void proposal_decode_rejects_each_malformed_input(void **s)
{
    (void)s;
    chain_id_t cid;
    fx_chain_id(&cid, "cairn-test");
    keypair_t kp;
    fx_key(&kp, 3);
    proposal_t p, got;
    make_proposal(&p, &cid, &kp);
    buf_t b;
    buf_init(&b, 0);
    assert_int_equal(proposal_encode(&p, &b), CAIRN_OK);
    uint8_t q[200];
#define RESET() memcpy(q, b.data, b.len)
    RESET();
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(proposal_decode(&got, q, n), CAIRN_ETRUNCATED);
    q[b.len] = 0;
    assert_int_equal(proposal_decode(&got, q, b.len + 1), CAIRN_ETRAILING);
    q[0] = 7;
    assert_int_equal(proposal_decode(&got, q, b.len), CAIRN_EBAD_VERSION);
    RESET();
    memset(q + 1, 0, 8); /* height 0 */
    assert_int_equal(proposal_decode(&got, q, b.len), CAIRN_EBAD_HEIGHT);
    RESET();
    memset(q + 13, 0xfe, 4); /* pol_round -2 */
    assert_int_equal(proposal_decode(&got, q, b.len), CAIRN_EBAD_ENCODING);
    RESET();
    q[13] = 3; /* pol_round == round */
    assert_int_equal(proposal_decode(&got, q, b.len), CAIRN_EBAD_ENCODING);
    RESET();
    memset(q + 17, 0, HASH_BYTES); /* nil block */
    assert_int_equal(proposal_decode(&got, q, b.len), CAIRN_EBAD_ENCODING);
    RESET();
    memset(q + 13, 0xff, 4); /* pol_round -1 is fine */
    assert_int_equal(proposal_decode(&got, q, b.len), CAIRN_OK);
    assert_int_equal(got.pol_round, -1);
#undef RESET
    buf_deinit(&b);
}

/* The same (height, round, block, time) signed as a vote is not a proposal
 * signature and the reverse. */
static void vote_signature_does_not_verify_as_a_proposal(void **s)
{
    (void)s;
    chain_id_t cid;
    fx_chain_id(&cid, "cairn-test");
    keypair_t kp;
    fx_key(&kp, 3);
    proposal_t p;
    make_proposal(&p, &cid, &kp);
    assert_int_equal(proposal_verify(&p, &cid, kp.pub), CAIRN_OK);
    vote_t v;
    memset(&v, 0, sizeof v);
    v.type = VOTE_PREVOTE;
    v.height = p.height;
    v.round = p.round;
    memcpy(v.block_id, p.block_id, HASH_BYTES);
    v.time_ns = p.time_ns;
    memcpy(v.validator, p.proposer, ADDR_BYTES);
    fx_sign_vote(&v, &cid, &kp);
    assert_int_equal(vote_verify(&v, &cid, kp.pub), CAIRN_OK);
    proposal_t forged = p;
    memcpy(forged.sig, v.sig, SIG_BYTES);
    assert_int_equal(proposal_verify(&forged, &cid, kp.pub), CAIRN_EBAD_SIGNATURE);
    vote_t forged_vote = v;
    memcpy(forged_vote.sig, p.sig, SIG_BYTES);
    assert_int_equal(vote_verify(&forged_vote, &cid, kp.pub), CAIRN_EBAD_SIGNATURE);
    chain_id_t other;
    fx_chain_id(&other, "other");
    assert_int_equal(proposal_verify(&p, &other, kp.pub), CAIRN_EBAD_SIGNATURE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vote_round_trips),
        cmocka_unit_test(vote_decode_rejects_each_malformed_input),
        cmocka_unit_test(vote_signature_verifies),
        cmocka_unit_test(vote_signature_covers_every_signed_field),
        cmocka_unit_test(vote_signature_does_not_verify_under_another_chain_id),
        cmocka_unit_test(vote_from_another_key_is_an_unknown_validator),
        cmocka_unit_test(proposal_round_trips_and_verifies),
        cmocka_unit_test(proposal_decode_rejects_each_malformed_input),
        cmocka_unit_test(vote_signature_does_not_verify_as_a_proposal),
    };
    return cmocka_run_group_tests(tests, fx_setup, NULL);
}
