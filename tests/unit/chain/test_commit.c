/* Commits and evidence: encodings, rejections, verification. */
#include "fixture.h"

static const int64_t POWERS[] = {10, 10, 10, 10};
static const uint8_t F = COMMIT_FOR_BLOCK, N = COMMIT_NIL, A = COMMIT_ABSENT;

static chain_id_t cid;
static valset_t vs;
static uint8_t bid[HASH_BYTES];

static int setup(void **state)
{
    if (fx_setup(state)) return -1;
    if (chain_id_set(&cid, "cairn-test") != CAIRN_OK) return -1;
    fx_valset(&vs, POWERS, 4);
    memset(bid, 0xb1, HASH_BYTES);
    return 0;
}

static void encode_commit(const commit_t *c, buf_t *b)
{
    buf_init(b, 0);
    assert_int_equal(commit_encode(c, b), CAIRN_OK);
}

static void commit_round_trips_with_every_flag(void **s)
{
    (void)s;
    const uint8_t flags[] = {F, N, A, F};
    commit_t c, got;
    fx_commit(&c, &cid, &vs, 12, 2, bid, flags);
    buf_t b, again;
    encode_commit(&c, &b);
    assert_int_equal(b.len, 1 + 8 + 4 + 32 + 4 + 3 * (1 + 20 + 8 + 64) + 1);
    assert_int_equal(commit_decode(&got, b.data, b.len), CAIRN_OK);
    assert_int_equal(got.height, 12);
    assert_int_equal(got.round, 2);
    assert_int_equal(got.n_sigs, 4);
    for (int i = 0; i < 4; i++) assert_memory_equal(&got.sigs[i], &c.sigs[i], sizeof c.sigs[i]);
    encode_commit(&got, &again);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    uint8_t h[HASH_BYTES], want[HASH_BYTES];
    assert_int_equal(commit_hash(&got, h), CAIRN_OK);
    hash_sha256(want, b.data, b.len);
    assert_memory_equal(h, want, HASH_BYTES);
    commit_free(&c);
    commit_free(&got);
    buf_deinit(&b);
    buf_deinit(&again);
}

static void empty_commit_round_trips(void **s)
{
    (void)s;
    commit_t c, got;
    memset(&c, 0, sizeof c);
    buf_t b;
    encode_commit(&c, &b);
    assert_int_equal(b.len, 1 + 8 + 4 + 32 + 4);
    assert_int_equal(commit_decode(&got, b.data, b.len), CAIRN_OK);
    assert_int_equal(got.n_sigs, 0);
    assert_null(got.sigs);
    buf_deinit(&b);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void commit_decode_rejects_each_malformed_input(void **s)
{
    (void)s;
    const uint8_t flags[] = {F, F, F, A};
    commit_t c, got;
    fx_commit(&c, &cid, &vs, 12, 2, bid, flags);
    buf_t b;
    encode_commit(&c, &b);
    uint8_t *p = malloc(b.len + 1);
    const size_t n_at = 1 + 8 + 4 + 32, slot0 = n_at + 4;
#define RESET() memcpy(p, b.data, b.len)
    RESET();
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(commit_decode(&got, p, n), CAIRN_ETRUNCATED);
    p[b.len] = 0;
    assert_int_equal(commit_decode(&got, p, b.len + 1), CAIRN_ETRAILING);
    p[0] = 9;
    assert_int_equal(commit_decode(&got, p, b.len), CAIRN_EBAD_VERSION);
    RESET();
    p[slot0] = 0;
    assert_int_equal(commit_decode(&got, p, b.len), CAIRN_ENONCANONICAL);
    p[slot0] = 4;
    assert_int_equal(commit_decode(&got, p, b.len), CAIRN_ENONCANONICAL);
    RESET();
    put_u32(p + n_at, VALIDATORS_MAX + 1);
    assert_int_equal(commit_decode(&got, p, b.len), CAIRN_ETOO_LARGE);
    put_u32(p + n_at, 0);
    assert_int_equal(commit_decode(&got, p, b.len), CAIRN_EBAD_ENCODING);
    RESET();
    memset(p + 13, 0, HASH_BYTES); /* nil block id */
    assert_int_equal(commit_decode(&got, p, b.len), CAIRN_EBAD_ENCODING);
    RESET();
    memset(p + 1, 0, 8); /* height 0 must be the empty commit */
    assert_int_equal(commit_decode(&got, p, b.len), CAIRN_ENONCANONICAL);
#undef RESET
    free(p);
    commit_free(&c);
    buf_deinit(&b);
}

static void commit_with_more_than_two_thirds_verifies(void **s)
{
    (void)s;
    const uint8_t flags[] = {F, F, N, F};
    commit_t c;
    fx_commit(&c, &cid, &vs, 12, 0, bid, flags);
    assert_int_equal(commit_verify(&c, &cid, &vs, 12, bid), CAIRN_OK);
    commit_free(&c);
}

static void commit_of_exactly_two_thirds_is_rejected(void **s)
{
    (void)s;
    const int64_t p3[] = {1, 1, 1};
    valset_t v3;
    fx_valset(&v3, p3, 3);
    const uint8_t two[] = {F, F, A};
    commit_t c;
    fx_commit(&c, &cid, &v3, 5, 0, bid, two);
    assert_int_equal(commit_verify(&c, &cid, &v3, 5, bid), CAIRN_EBAD_COMMIT);
    commit_free(&c);
    const uint8_t three[] = {F, F, F};
    fx_commit(&c, &cid, &v3, 5, 0, bid, three);
    assert_int_equal(commit_verify(&c, &cid, &v3, 5, bid), CAIRN_OK);
    commit_free(&c);
}

static void nil_precommits_do_not_count_toward_the_quorum(void **s)
{
    (void)s;
    const uint8_t flags[] = {F, F, N, N};
    commit_t c;
    fx_commit(&c, &cid, &vs, 12, 0, bid, flags);
    assert_int_equal(commit_verify(&c, &cid, &vs, 12, bid), CAIRN_EBAD_COMMIT);
    commit_free(&c);
}

static void commit_verify_rejects_mismatches(void **s)
{
    (void)s;
    const uint8_t flags[] = {F, F, F, F};
    commit_t c;
    fx_commit(&c, &cid, &vs, 12, 1, bid, flags);
    uint8_t other[HASH_BYTES];
    memset(other, 0xb2, HASH_BYTES);
    assert_int_equal(commit_verify(&c, &cid, &vs, 13, bid), CAIRN_EBAD_HEIGHT);
    assert_int_equal(commit_verify(&c, &cid, &vs, 12, other), CAIRN_EBAD_COMMIT);
    chain_id_t cid2;
    fx_chain_id(&cid2, "cairn-other");
    assert_int_equal(commit_verify(&c, &cid2, &vs, 12, bid), CAIRN_EBAD_SIGNATURE);
    const int64_t p5[] = {10, 10, 10, 10, 10};
    valset_t v5;
    fx_valset(&v5, p5, 5);
    assert_int_equal(commit_verify(&c, &cid, &v5, 12, bid), CAIRN_EBAD_COMMIT);
    c.sigs[1].sig[3] ^= 1;
    assert_int_equal(commit_verify(&c, &cid, &vs, 12, bid), CAIRN_EBAD_SIGNATURE);
    c.sigs[1].sig[3] ^= 1;
    c.sigs[2].time_ns++; /* time is signed */
    assert_int_equal(commit_verify(&c, &cid, &vs, 12, bid), CAIRN_EBAD_SIGNATURE);
    c.sigs[2].time_ns--;
    c.round = 0; /* round is signed */
    assert_int_equal(commit_verify(&c, &cid, &vs, 12, bid), CAIRN_EBAD_SIGNATURE);
    c.round = 1;
    commit_sig_t t = c.sigs[0]; /* slots swapped: addresses do not match */
    c.sigs[0] = c.sigs[1];
    c.sigs[1] = t;
    assert_int_equal(commit_verify(&c, &cid, &vs, 12, bid), CAIRN_EBAD_VALIDATOR);
    commit_free(&c);
}

static void commit_sig_to_vote_rebuilds_the_signed_precommit(void **s)
{
    (void)s;
    const uint8_t flags[] = {F, N, A, F};
    commit_t c;
    fx_commit(&c, &cid, &vs, 12, 3, bid, flags);
    vote_t v;
    commit_sig_to_vote(&c, 0, &v);
    assert_int_equal(v.type, VOTE_PRECOMMIT);
    assert_int_equal(v.height, 12);
    assert_int_equal(v.round, 3);
    assert_memory_equal(v.block_id, bid, HASH_BYTES);
    assert_int_equal(v.validator_index, 0);
    assert_int_equal(vote_verify(&v, &cid, vs.v[0].pub), CAIRN_OK);
    commit_sig_to_vote(&c, 1, &v);
    assert_true(vote_is_nil(&v));
    assert_int_equal(vote_verify(&v, &cid, vs.v[1].pub), CAIRN_OK);
    commit_free(&c);
}

/* ------------------------------------------------------------------ evidence */

static void evidence_round_trips_in_canonical_order(void **s)
{
    (void)s;
    evidence_t e, got;
    fx_evidence(&e, &cid, &vs, 1, 7, 0);
    assert_true(memcmp(e.a.block_id, e.b.block_id, HASH_BYTES) < 0);
    buf_t b, again;
    buf_init(&b, 0);
    buf_init(&again, 0);
    assert_int_equal(evidence_encode(&e, &b), CAIRN_OK);
    assert_int_equal(b.len, 1 + 2 * 142);
    assert_int_equal(evidence_decode(&got, b.data, b.len), CAIRN_OK);
    assert_memory_equal(&got, &e, sizeof e);
    assert_int_equal(evidence_encode(&got, &again), CAIRN_OK);
    assert_memory_equal(again.data, b.data, b.len);
    evidence_t swapped = {.a = e.b, .b = e.a};
    buf_reset(&again);
    assert_int_equal(evidence_encode(&swapped, &again), CAIRN_ENONCANONICAL);
    buf_deinit(&b);
    buf_deinit(&again);
}

static void evidence_decode_rejects_each_malformed_input(void **s)
{
    (void)s;
    evidence_t e, got;
    fx_evidence(&e, &cid, &vs, 1, 7, 0);
    buf_t b;
    buf_init(&b, 0);
    assert_int_equal(evidence_encode(&e, &b), CAIRN_OK);
    uint8_t p[300];
    memcpy(p, b.data, b.len);
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(evidence_decode(&got, p, n), CAIRN_ETRUNCATED);
    p[b.len] = 0;
    assert_int_equal(evidence_decode(&got, p, b.len + 1), CAIRN_ETRAILING);
    p[0] = 2;
    assert_int_equal(evidence_decode(&got, p, b.len), CAIRN_EBAD_VERSION);
    p[0] = 1;
    p[1] = 2; /* first vote's version */
    assert_int_equal(evidence_decode(&got, p, b.len), CAIRN_EBAD_VERSION);
    p[1] = 1;
    p[143 + 1] = 5; /* second vote's type */
    assert_int_equal(evidence_decode(&got, p, b.len), CAIRN_EBAD_TYPE);
    memcpy(p, b.data, b.len);
    memcpy(p + 1 + 14, e.b.block_id, HASH_BYTES); /* a == b block ids */
    assert_int_equal(evidence_decode(&got, p, b.len), CAIRN_ENONCANONICAL);
    memcpy(p + 1, b.data + 1 + 142, 142); /* swapped */
    memcpy(p + 1 + 142, b.data + 1, 142);
    assert_int_equal(evidence_decode(&got, p, b.len), CAIRN_ENONCANONICAL);
    buf_deinit(&b);
}

static void double_sign_evidence_verifies(void **s)
{
    (void)s;
    evidence_t e;
    fx_evidence(&e, &cid, &vs, 2, 7, 1);
    assert_int_equal(evidence_verify(&e, &cid, &vs), CAIRN_OK);
    uint8_t h1[HASH_BYTES], h2[HASH_BYTES];
    assert_int_equal(evidence_hash(&e, h1), CAIRN_OK);
    fx_evidence(&e, &cid, &vs, 3, 7, 1);
    assert_int_equal(evidence_hash(&e, h2), CAIRN_OK);
    assert_memory_not_equal(h1, h2, HASH_BYTES);
}

static void evidence_of_votes_that_do_not_conflict_is_rejected(void **s)
{
    (void)s;
    evidence_t e, t;
    fx_evidence(&e, &cid, &vs, 2, 7, 1);
    keypair_t kp;
    t = e;
    t.b.height = 8; /* re-signed: the votes are real but at different heights */
    fx_key_of(&kp, &vs, 2);
    fx_sign_vote(&t.b, &cid, &kp);
    assert_int_equal(evidence_verify(&t, &cid, &vs), CAIRN_EBAD_EVIDENCE);
    t = e;
    t.b.round = 2;
    fx_sign_vote(&t.b, &cid, &kp);
    assert_int_equal(evidence_verify(&t, &cid, &vs), CAIRN_EBAD_EVIDENCE);
    t = e;
    t.b.type = VOTE_PRECOMMIT;
    fx_sign_vote(&t.b, &cid, &kp);
    assert_int_equal(evidence_verify(&t, &cid, &vs), CAIRN_EBAD_EVIDENCE);
    t = e; /* two different validators */
    vote_t other;
    fx_vote(&other, &cid, &vs, 3, VOTE_PREVOTE, 7, 1, e.b.block_id);
    t.b = other;
    assert_int_equal(evidence_verify(&t, &cid, &vs), CAIRN_EBAD_EVIDENCE);
}

static void evidence_with_a_bad_signature_or_stranger_is_rejected(void **s)
{
    (void)s;
    evidence_t e, t;
    fx_evidence(&e, &cid, &vs, 2, 7, 1);
    t = e;
    t.b.sig[0] ^= 1;
    assert_int_equal(evidence_verify(&t, &cid, &vs), CAIRN_EBAD_SIGNATURE);
    chain_id_t cid2;
    fx_chain_id(&cid2, "cairn-other");
    assert_int_equal(evidence_verify(&e, &cid2, &vs), CAIRN_EBAD_SIGNATURE);
    const int64_t p2[] = {5, 5};
    valset_t v2; /* keys 0, 1: validator 2 of vs is not a member unless its key is 0/1 */
    validator_t vals[2];
    memset(vals, 0, sizeof vals);
    int n = 0;
    for (int k = 0; k < 4 && n < 2; k++) {
        keypair_t kp;
        fx_key(&kp, k);
        if (memcmp(kp.pub, vs.v[2].pub, PUBKEY_BYTES) == 0) continue;
        memcpy(vals[n].pub, kp.pub, PUBKEY_BYTES);
        vals[n++].power = p2[0];
    }
    assert_int_equal(valset_init(&v2, vals, 2), CAIRN_OK);
    assert_int_equal(evidence_verify(&e, &cid, &v2), CAIRN_EBAD_VALIDATOR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commit_round_trips_with_every_flag),
        cmocka_unit_test(empty_commit_round_trips),
        cmocka_unit_test(commit_decode_rejects_each_malformed_input),
        cmocka_unit_test(commit_with_more_than_two_thirds_verifies),
        cmocka_unit_test(commit_of_exactly_two_thirds_is_rejected),
        cmocka_unit_test(nil_precommits_do_not_count_toward_the_quorum),
        cmocka_unit_test(commit_verify_rejects_mismatches),
        cmocka_unit_test(commit_sig_to_vote_rebuilds_the_signed_precommit),
        cmocka_unit_test(evidence_round_trips_in_canonical_order),
        cmocka_unit_test(evidence_decode_rejects_each_malformed_input),
        cmocka_unit_test(double_sign_evidence_verifies),
        cmocka_unit_test(evidence_of_votes_that_do_not_conflict_is_rejected),
        cmocka_unit_test(evidence_with_a_bad_signature_or_stranger_is_rejected),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
