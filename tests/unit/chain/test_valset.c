/* Validator sets: CometBFT order, proposer rotation, quorum math, encoding. */
#include "fixture.h"

static void init_sorts_by_power_then_address(void **s)
{
    (void)s;
    const int64_t powers[] = {5, 10, 5, 1, 10};
    valset_t vs;
    fx_valset(&vs, powers, 5);
    assert_int_equal(vs.count, 5);
    assert_int_equal(vs.total_power, 31);
    for (uint32_t i = 1; i < vs.count; i++) {
        const validator_t *a = &vs.v[i - 1], *b = &vs.v[i];
        assert_true(a->power > b->power ||
                    (a->power == b->power && memcmp(a->address, b->address, ADDR_BYTES) < 0));
    }
    for (uint32_t i = 0; i < vs.count; i++) {
        uint8_t addr[ADDR_BYTES];
        key_address(addr, vs.v[i].pub);
        assert_memory_equal(addr, vs.v[i].address, ADDR_BYTES);
        assert_int_equal(valset_index_of(&vs, addr), (int)i);
    }
    uint8_t unknown[ADDR_BYTES] = {0};
    assert_int_equal(valset_index_of(&vs, unknown), -1);
}

static void init_rejects_bad_sets(void **s)
{
    (void)s;
    validator_t vals[VALIDATORS_MAX + 1];
    memset(vals, 0, sizeof vals);
    for (int i = 0; i <= VALIDATORS_MAX; i++) {
        keypair_t kp;
        fx_key(&kp, i);
        memcpy(vals[i].pub, kp.pub, PUBKEY_BYTES);
        vals[i].power = 1;
    }
    valset_t vs;
    memset(&vs, 0, sizeof vs);
    assert_int_equal(valset_init(&vs, vals, 0), CAIRN_EINVALID_ARG);
    assert_int_equal(valset_init(&vs, vals, VALIDATORS_MAX + 1), CAIRN_ETOO_LARGE);
    assert_int_equal(valset_init(&vs, vals, VALIDATORS_MAX), CAIRN_OK);
    vals[1].power = 0;
    assert_int_equal(valset_init(&vs, vals, 3), CAIRN_EINVALID_ARG);
    vals[1].power = -5;
    assert_int_equal(valset_init(&vs, vals, 3), CAIRN_EINVALID_ARG);
    vals[1].power = 1;
    memcpy(vals[2].pub, vals[0].pub, PUBKEY_BYTES);
    vals[2].power = 7; /* same key, different power: still a duplicate */
    assert_int_equal(valset_init(&vs, vals, 3), CAIRN_EDUPLICATE);
    keypair_t kp;
    fx_key(&kp, 2);
    memcpy(vals[2].pub, kp.pub, PUBKEY_BYTES);
    vals[2].power = 1;
    vals[0].power = VALSET_TOTAL_POWER_MAX;
    assert_int_equal(valset_init(&vs, vals, 3), CAIRN_EOVERFLOW);
    vals[0].power = VALSET_TOTAL_POWER_MAX - 2;
    assert_int_equal(valset_init(&vs, vals, 3), CAIRN_OK);
    assert_int_equal(vs.total_power, VALSET_TOTAL_POWER_MAX);
}

/* CometBFT types/validator_set_test.go TestProposerSelection1: foo 1000, bar 300,
 * baz 330 over 99 rounds, with addresses ordered bar < baz < foo as there. */
static void proposer_sequence_matches_cometbft_selection1(void **s)
{
    (void)s;
    keypair_t k[3];
    for (int i = 0; i < 3; i++) fx_key(&k[i], i);
    int order[3] = {0, 1, 2}; /* sort keys by address */
    uint8_t addr[3][ADDR_BYTES];
    for (int i = 0; i < 3; i++) key_address(addr[i], k[i].pub);
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (memcmp(addr[order[j]], addr[order[i]], ADDR_BYTES) < 0) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    const char *names[3] = {"bar", "baz", "foo"};
    const int64_t powers[3] = {300, 330, 1000};
    validator_t vals[3];
    memset(vals, 0, sizeof vals);
    for (int i = 0; i < 3; i++) {
        memcpy(vals[i].pub, k[order[i]].pub, PUBKEY_BYTES);
        vals[i].power = powers[i];
    }
    valset_t vs;
    assert_int_equal(valset_init(&vs, vals, 3), CAIRN_OK);
    char got[99 * 4 + 1] = "";
    for (int r = 0; r < 99; r++) {
        const validator_t *p = valset_proposer(&vs);
        for (int i = 0; i < 3; i++)
            if (memcmp(p->pub, vals[i].pub, PUBKEY_BYTES) == 0) {
                if (r) strcat(got, " ");
                strcat(got, names[i]);
            }
        valset_increment_priority(&vs, 1);
    }
    assert_string_equal(
        got,
        "foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar "
        "foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar "
        "foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz "
        "foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo "
        "foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo");
}

static void count_proposals(const int64_t *powers, uint32_t n, int rounds, int *counts)
{
    valset_t vs;
    fx_valset(&vs, powers, n);
    memset(counts, 0, sizeof(int) * n);
    for (int r = 0; r < rounds; r++) {
        const validator_t *p = valset_proposer(&vs);
        for (uint32_t i = 0; i < n; i++) {
            keypair_t kp;
            fx_key(&kp, (int)i);
            if (memcmp(kp.pub, p->pub, PUBKEY_BYTES) == 0) counts[i]++;
        }
        valset_increment_priority(&vs, 1);
    }
}

static void proposals_are_proportional_to_power(void **s)
{
    (void)s;
    const int64_t powers[] = {1, 2, 3};
    int counts[3];
    count_proposals(powers, 3, 6, counts);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 2);
    assert_int_equal(counts[2], 3);
    count_proposals(powers, 3, 600, counts);
    assert_int_equal(counts[0], 100);
    assert_int_equal(counts[1], 200);
    assert_int_equal(counts[2], 300);
}

static void equal_powers_rotate_in_address_order(void **s)
{
    (void)s;
    const int64_t powers[] = {10, 10, 10, 10};
    valset_t vs;
    fx_valset(&vs, powers, 4);
    for (int r = 0; r < 12; r++) {
        assert_int_equal(vs.proposer_index, (uint32_t)(r % 4));
        valset_increment_priority(&vs, 1);
    }
}

static void first_proposer_has_most_power(void **s)
{
    (void)s;
    const int64_t powers[] = {1, 50, 3};
    valset_t vs;
    fx_valset(&vs, powers, 3);
    assert_int_equal(valset_proposer(&vs)->power, 50);
}

static void increment_by_k_equals_k_single_increments(void **s)
{
    (void)s;
    const int64_t powers[] = {7, 3, 11, 2, 5};
    valset_t a, b;
    fx_valset(&a, powers, 5);
    b = a;
    valset_increment_priority(&a, 13);
    for (int i = 0; i < 13; i++) valset_increment_priority(&b, 1);
    assert_int_equal(a.proposer_index, b.proposer_index);
    for (int i = 0; i < 5; i++)
        assert_int_equal(a.v[i].proposer_priority, b.v[i].proposer_priority);
    valset_increment_priority(&a, 0); /* no-op */
    assert_int_equal(a.proposer_index, b.proposer_index);
}

/* RescalePriorities + shiftByAvgProposerPriority: priorities far apart are
 * squeezed to a window of 2 * total and centred on zero. */
static void increment_rescales_and_centres_priorities(void **s)
{
    (void)s;
    const int64_t powers[] = {10, 10, 10};
    valset_t vs;
    fx_valset(&vs, powers, 3);
    vs.v[0].proposer_priority = INT64_MAX;
    vs.v[1].proposer_priority = INT64_MIN;
    vs.v[2].proposer_priority = 12345;
    for (int r = 0; r < 50; r++) {
        valset_increment_priority(&vs, 1);
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        __int128 sum = 0;
        for (int i = 0; i < 3; i++) {
            int64_t p = vs.v[i].proposer_priority;
            lo = p < lo ? p : lo;
            hi = p > hi ? p : hi;
            sum += p;
        }
        assert_true(hi - lo <= 3 * vs.total_power);
        assert_true(sum >= 0 && sum < 3);
    }
}

/* Rescale with Go's truncating division, then floor-average shift. */
static void rescale_uses_cometbft_arithmetic(void **s)
{
    (void)s;
    const int64_t powers[] = {1, 1};
    valset_t vs;
    fx_valset(&vs, powers, 2);
    /* window = 4; diff = 9 -> ratio ceil(9/4) = 3: 4/3 = 1, -5/3 = -1 (trunc);
     * sum 0 -> avg 0; then +1 each: 2, 0 -> v0 proposer, 2 - 2 = 0. */
    vs.v[0].proposer_priority = 4;
    vs.v[1].proposer_priority = -5;
    valset_increment_priority(&vs, 1);
    assert_int_equal(vs.v[0].proposer_priority, 0);
    assert_int_equal(vs.v[1].proposer_priority, 0);
    assert_int_equal(vs.proposer_index, 0);
    /* avg of {-3, 0} is floor(-1.5) = -2: shifted to -1, 2; +1: 0, 3 -> v1. */
    vs.v[0].proposer_priority = -3;
    vs.v[1].proposer_priority = 0;
    valset_increment_priority(&vs, 1);
    assert_int_equal(vs.proposer_index, 1);
    assert_int_equal(vs.v[0].proposer_priority, 0);
    assert_int_equal(vs.v[1].proposer_priority, 1);
}

static void exactly_two_thirds_is_not_a_quorum(void **s)
{
    (void)s;
    valset_t vs;
    const int64_t p3[] = {1, 1, 1};
    fx_valset(&vs, p3, 3);
    assert_false(valset_has_quorum(&vs, 2));
    assert_true(valset_has_quorum(&vs, 3));
    const int64_t p300[] = {100, 100, 100};
    fx_valset(&vs, p300, 3);
    assert_false(valset_has_quorum(&vs, 200));
    assert_true(valset_has_quorum(&vs, 201));
    const int64_t p4[] = {1, 1, 1, 1};
    fx_valset(&vs, p4, 4);
    assert_false(valset_has_quorum(&vs, 2));
    assert_true(valset_has_quorum(&vs, 3));
    const int64_t p100[] = {100};
    fx_valset(&vs, p100, 1);
    assert_false(valset_has_quorum(&vs, 66));
    assert_false(valset_has_quorum(&vs, 0));
    assert_false(valset_has_quorum(&vs, -1));
    assert_true(valset_has_quorum(&vs, 67));
}

static void quorum_math_does_not_overflow_at_the_power_bound(void **s)
{
    (void)s;
    const int64_t pmax[] = {VALSET_TOTAL_POWER_MAX};
    valset_t vs;
    fx_valset(&vs, pmax, 1);
    int64_t t = vs.total_power; /* 1152921504606846975 = 3 * 384307168202282325 */
    assert_int_equal(t % 3, 0);
    assert_false(valset_has_quorum(&vs, t / 3 * 2));
    assert_true(valset_has_quorum(&vs, t / 3 * 2 + 1));
    assert_true(valset_has_quorum(&vs, INT64_MAX));
    assert_false(valset_has_one_third(&vs, t / 3));
    assert_true(valset_has_one_third(&vs, t / 3 + 1));
}

static void one_third_needs_strictly_more_than_a_third(void **s)
{
    (void)s;
    valset_t vs;
    const int64_t p3[] = {1, 1, 1};
    fx_valset(&vs, p3, 3);
    assert_false(valset_has_one_third(&vs, 1));
    assert_true(valset_has_one_third(&vs, 2));
    const int64_t p4[] = {1, 1, 1, 1};
    fx_valset(&vs, p4, 4);
    assert_false(valset_has_one_third(&vs, 1));
    assert_true(valset_has_one_third(&vs, 2));
}

static void hash_is_merkle_root_of_pubkey_and_power(void **s)
{
    (void)s;
    const int64_t powers[] = {5, 9};
    valset_t vs;
    fx_valset(&vs, powers, 2);
    uint8_t leaves[2][HASH_BYTES];
    for (int i = 0; i < 2; i++) {
        uint8_t e[40];
        memcpy(e, vs.v[i].pub, 32);
        memset(e + 32, 0, 8);
        e[32] = (uint8_t)vs.v[i].power;
        merkle_leaf_hash(leaves[i], e, 40);
    }
    uint8_t want[HASH_BYTES], got[HASH_BYTES];
    merkle_node_hash(want, leaves[0], leaves[1]);
    assert_int_equal(valset_hash(&vs, got), CAIRN_OK);
    assert_memory_equal(got, want, HASH_BYTES);
    /* priorities do not change the hash; powers do */
    valset_increment_priority(&vs, 3);
    assert_int_equal(valset_hash(&vs, got), CAIRN_OK);
    assert_memory_equal(got, want, HASH_BYTES);
    vs.v[0].power++;
    assert_int_equal(valset_hash(&vs, got), CAIRN_OK);
    assert_memory_not_equal(got, want, HASH_BYTES);
}

static void encode(const valset_t *vs, buf_t *b)
{
    buf_init(b, 0);
    assert_int_equal(valset_encode(vs, b), CAIRN_OK);
}

static void encoding_round_trips_with_priorities(void **s)
{
    (void)s;
    const int64_t powers[] = {4, 8, 15, 16, 23, 42};
    valset_t vs, got;
    fx_valset(&vs, powers, 6);
    valset_increment_priority(&vs, 5);
    buf_t b, again;
    encode(&vs, &b);
    assert_int_equal(b.len, 1 + 4 + 4 + 6 * 48);
    assert_int_equal(valset_decode(&got, b.data, b.len), CAIRN_OK);
    assert_int_equal(got.count, 6);
    assert_int_equal(got.total_power, vs.total_power);
    assert_int_equal(got.proposer_index, vs.proposer_index);
    for (int i = 0; i < 6; i++) {
        assert_memory_equal(&got.v[i], &vs.v[i], sizeof(validator_t));
    }
    encode(&got, &again);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    buf_deinit(&b);
    buf_deinit(&again);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_i64(uint8_t *p, int64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

static void decode_rejects_each_malformed_set(void **s)
{
    (void)s;
    const int64_t powers[] = {30, 20, 10};
    valset_t vs, got;
    fx_valset(&vs, powers, 3);
    buf_t b;
    encode(&vs, &b);
    uint8_t *p = malloc(b.len + 1);
    const size_t v0 = 9, vlen = 48;
#define RESET() memcpy(p, b.data, b.len)
    RESET();
    assert_int_equal(valset_decode(&got, p, 0), CAIRN_ETRUNCATED);
    for (size_t n = 1; n < b.len; n++)
        assert_int_equal(valset_decode(&got, p, n), CAIRN_ETRUNCATED);
    p[b.len] = 0;
    assert_int_equal(valset_decode(&got, p, b.len + 1), CAIRN_ETRAILING);
    p[0] = 2;
    assert_int_equal(valset_decode(&got, p, b.len), CAIRN_EBAD_VERSION);
    RESET();
    put_u32(p + 1, 0);
    assert_int_equal(valset_decode(&got, p, b.len), CAIRN_EBAD_ENCODING);
    put_u32(p + 1, VALIDATORS_MAX + 1);
    assert_int_equal(valset_decode(&got, p, b.len), CAIRN_ETOO_LARGE);
    RESET();
    put_u32(p + 5, 3); /* proposer index out of range */
    assert_int_equal(valset_decode(&got, p, b.len), CAIRN_EBAD_ENCODING);
    RESET();
    put_i64(p + v0 + 2 * vlen + 32, 0); /* power 0 */
    assert_int_equal(valset_decode(&got, p, b.len), CAIRN_EBAD_ENCODING);
    put_i64(p + v0 + 2 * vlen + 32, -10);
    assert_int_equal(valset_decode(&got, p, b.len), CAIRN_EBAD_ENCODING);
    RESET();
    put_i64(p + v0 + 2 * vlen + 32, 25); /* 30, 20, 25: unsorted */
    assert_int_equal(valset_decode(&got, p, b.len), CAIRN_ENONCANONICAL);
    RESET();
    memcpy(p + v0 + vlen, p + v0, 32); /* validator 1 has validator 0's key */
    assert_int_equal(valset_decode(&got, p, b.len), CAIRN_EDUPLICATE);
    RESET();
    put_i64(p + v0 + 32, VALSET_TOTAL_POWER_MAX - 29);
    assert_int_equal(valset_decode(&got, p, b.len), CAIRN_EOVERFLOW);
    RESET();
    assert_int_equal(valset_decode(&got, p, b.len), CAIRN_OK);
#undef RESET
    free(p);
    buf_deinit(&b);
}

static void encode_refuses_an_empty_set(void **s)
{
    (void)s;
    valset_t vs;
    memset(&vs, 0, sizeof vs);
    buf_t b;
    buf_init(&b, 0);
    assert_int_equal(valset_encode(&vs, &b), CAIRN_EINVALID_ARG);
    assert_int_equal(b.len, 0);
    buf_deinit(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_sorts_by_power_then_address),
        cmocka_unit_test(init_rejects_bad_sets),
        cmocka_unit_test(proposer_sequence_matches_cometbft_selection1),
        cmocka_unit_test(proposals_are_proportional_to_power),
        cmocka_unit_test(equal_powers_rotate_in_address_order),
        cmocka_unit_test(first_proposer_has_most_power),
        cmocka_unit_test(increment_by_k_equals_k_single_increments),
        cmocka_unit_test(increment_rescales_and_centres_priorities),
        cmocka_unit_test(rescale_uses_cometbft_arithmetic),
        cmocka_unit_test(exactly_two_thirds_is_not_a_quorum),
        cmocka_unit_test(quorum_math_does_not_overflow_at_the_power_bound),
        cmocka_unit_test(one_third_needs_strictly_more_than_a_third),
        cmocka_unit_test(hash_is_merkle_root_of_pubkey_and_power),
        cmocka_unit_test(encoding_round_trips_with_priorities),
        cmocka_unit_test(decode_rejects_each_malformed_set),
        cmocka_unit_test(encode_refuses_an_empty_set),
    };
    return cmocka_run_group_tests(tests, fx_setup, NULL);
}
