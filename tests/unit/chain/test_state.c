/* Chain state: genesis, advancing height by height with real blocks, and its
 * strict encoding. */
#include "fixture.h"

#define GENESIS_NS 1700000000000000000LL
static const int64_t POWERS[] = {10, 20, 30, 40};

static chain_id_t cid;
static valset_t vs;
static uint8_t app0[HASH_BYTES];

static int setup(void **state)
{
    if (fx_setup(state)) return -1;
    if (chain_id_set(&cid, "cairn-state") != CAIRN_OK) return -1;
    fx_valset(&vs, POWERS, 4);
    memset(app0, 0xa0, HASH_BYTES);
    return 0;
}

/* The block the proposer of round 0 makes on st, with a last commit signed by
 * all of st's last validators. */
static void next_block(block_t *b, const chain_state_t *st)
{
    header_t h;
    memset(&h, 0, sizeof h);
    h.version = CHAIN_VERSION;
    h.chain_id = st->chain_id;
    h.height = st->last_height + 1;
    h.time_ns = st->last_time_ns + 1000000000LL;
    memcpy(h.last_block_id, st->last_block_id, HASH_BYTES);
    assert_int_equal(valset_hash(&st->validators, h.validators_hash), CAIRN_OK);
    memcpy(h.next_validators_hash, st->next_validators_hash, HASH_BYTES);
    memcpy(h.app_hash, st->app_hash, HASH_BYTES);
    memcpy(h.results_hash, st->last_results_hash, HASH_BYTES);
    memcpy(h.proposer, valset_proposer(&st->validators)->address, ADDR_BYTES);
    commit_t c;
    memset(&c, 0, sizeof c);
    if (st->last_height > 0) {
        uint8_t flags[VALIDATORS_MAX];
        memset(flags, COMMIT_FOR_BLOCK, sizeof flags);
        fx_commit(&c, &cid, &st->last_validators, st->last_height, 0, st->last_block_id, flags);
    }
    buf_t raw;
    fx_tx(&raw, &cid, 0, h.height);
    bytes_view tx = {raw.data, raw.len};
    assert_int_equal(block_assemble(b, &h, &tx, 1, NULL, 0, &c), CAIRN_OK);
    commit_free(&c);
    buf_deinit(&raw);
}

static void genesis_state_accepts_the_first_block(void **s)
{
    (void)s;
    chain_state_t st;
    assert_int_equal(chain_state_genesis(&st, &cid, GENESIS_NS, &vs, app0), CAIRN_OK);
    assert_int_equal(st.last_height, 0);
    assert_int_equal(st.last_validators.count, 0);
    assert_memory_equal(st.last_results_hash, HASH_EMPTY, HASH_BYTES);
    block_t b;
    next_block(&b, &st);
    assert_int_equal(block_validate(&b, &st), CAIRN_OK);
    block_free(&b);
}

static void advancing_follows_the_chain_for_five_heights(void **s)
{
    (void)s;
    chain_state_t st;
    assert_int_equal(chain_state_genesis(&st, &cid, GENESIS_NS, &vs, app0), CAIRN_OK);
    valset_t expect = vs; /* proposers: the set incremented once per height */
    for (uint64_t height = 1; height <= 5; height++) {
        assert_memory_equal(valset_proposer(&st.validators)->address,
                            valset_proposer(&expect)->address, ADDR_BYTES);
        block_t b;
        next_block(&b, &st);
        assert_int_equal(block_validate(&b, &st), CAIRN_OK);
        uint8_t app[HASH_BYTES], res[HASH_BYTES], id[HASH_BYTES];
        memset(app, (int)height, HASH_BYTES);
        memset(res, (int)height + 100, HASH_BYTES);
        assert_int_equal(header_hash(&b.header, id), CAIRN_OK);
        assert_int_equal(chain_state_advance(&st, &b.header, app, res), CAIRN_OK);
        assert_int_equal(st.last_height, height);
        assert_memory_equal(st.last_block_id, id, HASH_BYTES);
        assert_int_equal(st.last_time_ns, b.header.time_ns);
        assert_memory_equal(st.app_hash, app, HASH_BYTES);
        assert_memory_equal(st.last_results_hash, res, HASH_BYTES);
        assert_int_equal(st.last_validators.count, 4);
        block_free(&b);
        valset_increment_priority(&expect, 1);
    }
}

static void advance_refuses_a_wrong_height_and_changes_nothing(void **s)
{
    (void)s;
    chain_state_t st, before;
    assert_int_equal(chain_state_genesis(&st, &cid, GENESIS_NS, &vs, app0), CAIRN_OK);
    block_t b;
    next_block(&b, &st);
    b.header.height = 2;
    before = st;
    assert_int_equal(chain_state_advance(&st, &b.header, app0, app0), CAIRN_EBAD_HEIGHT);
    assert_memory_equal(&st, &before, sizeof st);
    b.header.height = 1;
    st.next_validators_hash[0] ^= 1; /* a set change is pending */
    before = st;
    assert_int_equal(chain_state_advance(&st, &b.header, app0, app0), CAIRN_EUNSUPPORTED);
    assert_memory_equal(&st, &before, sizeof st);
    block_free(&b);
}

static void encode(const chain_state_t *st, buf_t *b)
{
    buf_init(b, 0);
    assert_int_equal(chain_state_encode(st, b), CAIRN_OK);
}

static void state_round_trips_at_genesis_and_later(void **s)
{
    (void)s;
    chain_state_t st, got;
    assert_int_equal(chain_state_genesis(&st, &cid, GENESIS_NS, &vs, app0), CAIRN_OK);
    for (int step = 0; step < 3; step++) {
        buf_t b, again;
        encode(&st, &b);
        assert_int_equal(chain_state_decode(&got, b.data, b.len), CAIRN_OK);
        encode(&got, &again);
        assert_int_equal(again.len, b.len);
        assert_memory_equal(again.data, b.data, b.len);
        assert_true(chain_id_equal(&got.chain_id, &st.chain_id));
        assert_int_equal(got.last_height, st.last_height);
        assert_int_equal(got.validators.proposer_index, st.validators.proposer_index);
        assert_memory_equal(got.validators.v, st.validators.v, 4 * sizeof(validator_t));
        assert_int_equal(got.last_validators.count, st.last_validators.count);
        buf_deinit(&b);
        buf_deinit(&again);
        block_t blk;
        next_block(&blk, &st);
        assert_int_equal(chain_state_advance(&st, &blk.header, app0, HASH_EMPTY), CAIRN_OK);
        block_free(&blk);
    }
}

static void state_decode_rejects_each_malformed_input(void **s)
{
    (void)s;
    chain_state_t st, got;
    assert_int_equal(chain_state_genesis(&st, &cid, GENESIS_NS, &vs, app0), CAIRN_OK);
    buf_t b;
    encode(&st, &b);
    uint8_t *p = malloc(b.len + 1);
    const size_t L = cid.len, height_at = 5 + L, block_id_at = height_at + 8;
    const size_t vs_at = block_id_at + 32 + 8; /* u32 length, then the set */
#define RESET() memcpy(p, b.data, b.len)
    RESET();
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(chain_state_decode(&got, p, n), CAIRN_ETRUNCATED);
    p[b.len] = 0;
    assert_int_equal(chain_state_decode(&got, p, b.len + 1), CAIRN_ETRAILING);
    p[0] = 2;
    assert_int_equal(chain_state_decode(&got, p, b.len), CAIRN_EBAD_VERSION);
    RESET();
    p[1] = CHAIN_ID_MAX + 1;
    assert_int_equal(chain_state_decode(&got, p, b.len), CAIRN_ETOO_LARGE);
    RESET();
    p[block_id_at] = 1; /* a last block at height 0 */
    assert_int_equal(chain_state_decode(&got, p, b.len), CAIRN_EBAD_ENCODING);
    RESET();
    p[height_at] = 1; /* height 1 but no last block or last validators */
    assert_int_equal(chain_state_decode(&got, p, b.len), CAIRN_EBAD_ENCODING);
    RESET();
    p[vs_at + 4 + 5] = 9; /* the set's proposer index out of range */
    assert_int_equal(chain_state_decode(&got, p, b.len), CAIRN_EBAD_ENCODING);
    RESET();
    p[vs_at + 4] = 3; /* the set's version */
    assert_int_equal(chain_state_decode(&got, p, b.len), CAIRN_EBAD_VERSION);
    RESET();
    assert_int_equal(chain_state_decode(&got, p, b.len), CAIRN_OK);
#undef RESET
    free(p);
    buf_deinit(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(genesis_state_accepts_the_first_block),
        cmocka_unit_test(advancing_follows_the_chain_for_five_heights),
        cmocka_unit_test(advance_refuses_a_wrong_height_and_changes_nothing),
        cmocka_unit_test(state_round_trips_at_genesis_and_later),
        cmocka_unit_test(state_decode_rejects_each_malformed_input),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
