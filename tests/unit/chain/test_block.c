/* Headers and blocks: encodings, rejections, and block_validate refusing each
 * kind of bad block with its own error. */
#include "fixture.h"

static const int64_t POWERS[] = {10, 10, 10, 10};
static const uint8_t F = COMMIT_FOR_BLOCK, N = COMMIT_NIL, A = COMMIT_ABSENT;
#define T0 1700000000000000000LL

static chain_id_t cid;
static chain_state_t st; /* before height 5 */

static int setup(void **state)
{
    if (fx_setup(state)) return -1;
    memset(&st, 0, sizeof st);
    if (chain_id_set(&cid, "cairn-test") != CAIRN_OK) return -1;
    st.chain_id = cid;
    st.last_height = 4;
    memset(st.last_block_id, 0x44, HASH_BYTES);
    st.last_time_ns = T0 + 4000000000LL;
    fx_valset(&st.validators, POWERS, 4);
    st.last_validators = st.validators;
    if (valset_hash(&st.validators, st.next_validators_hash) != CAIRN_OK) return -1;
    memset(st.app_hash, 0xaa, HASH_BYTES);
    memset(st.last_results_hash, 0xbb, HASH_BYTES);
    return 0;
}

static void base_header(header_t *h, const chain_state_t *s)
{
    memset(h, 0, sizeof *h);
    h->version = CHAIN_VERSION;
    h->chain_id = s->chain_id;
    h->height = s->last_height + 1;
    h->time_ns = s->last_time_ns + 1000000000LL;
    memcpy(h->last_block_id, s->last_block_id, HASH_BYTES);
    assert_int_equal(valset_hash(&s->validators, h->validators_hash), CAIRN_OK);
    memcpy(h->next_validators_hash, s->next_validators_hash, HASH_BYTES);
    memcpy(h->app_hash, s->app_hash, HASH_BYTES);
    memcpy(h->results_hash, s->last_results_hash, HASH_BYTES);
    memcpy(h->proposer, valset_proposer(&s->validators)->address, ADDR_BYTES);
}

/* A valid block at height 5: three txs, one piece of evidence from height 4,
 * a last commit with 3 of 4 for the last block and one nil. */
static void good_block(block_t *b, const uint8_t *commit_flags, uint32_t n_ev)
{
    header_t h;
    base_header(&h, &st);
    buf_t raw[3];
    bytes_view txs[3];
    for (int i = 0; i < 3; i++) {
        fx_tx(&raw[i], &cid, i, (uint64_t)i + 1);
        txs[i].p = raw[i].data;
        txs[i].len = raw[i].len;
    }
    evidence_t ev[2];
    fx_evidence(&ev[0], &cid, &st.last_validators, 1, 4, 0);
    fx_evidence(&ev[1], &cid, &st.validators, 2, 3, 1);
    static const uint8_t def[] = {F, F, N, F};
    commit_t c;
    fx_commit(&c, &cid, &st.last_validators, 4, 0, st.last_block_id,
              commit_flags ? commit_flags : def);
    assert_int_equal(block_assemble(b, &h, txs, 3, ev, n_ev, &c), CAIRN_OK);
    commit_free(&c);
    for (int i = 0; i < 3; i++) buf_deinit(&raw[i]);
}

static void encode_block(const block_t *b, buf_t *out)
{
    buf_init(out, 0);
    assert_int_equal(block_encode(b, out), CAIRN_OK);
}

/* ------------------------------------------------------------------ headers */

static void header_round_trips_and_hashes_its_encoding(void **s)
{
    (void)s;
    header_t h, got;
    base_header(&h, &st);
    buf_t b, again;
    buf_init(&b, 0);
    buf_init(&again, 0);
    assert_int_equal(header_encode(&h, &b), CAIRN_OK);
    assert_int_equal(b.len, 1 + 4 + 10 + 8 + 8 + 8 * 32 + 20);
    assert_int_equal(header_decode(&got, b.data, b.len), CAIRN_OK);
    assert_memory_equal(&got, &h, sizeof h);
    assert_int_equal(header_encode(&got, &again), CAIRN_OK);
    assert_memory_equal(again.data, b.data, b.len);
    uint8_t id[HASH_BYTES], want[HASH_BYTES];
    assert_int_equal(header_hash(&h, id), CAIRN_OK);
    hash_sha256(want, b.data, b.len);
    assert_memory_equal(id, want, HASH_BYTES);
    h.time_ns++;
    assert_int_equal(header_hash(&h, id), CAIRN_OK);
    assert_memory_not_equal(id, want, HASH_BYTES);
    buf_deinit(&b);
    buf_deinit(&again);
}

static void header_decode_rejects_each_malformed_input(void **s)
{
    (void)s;
    header_t h, got;
    base_header(&h, &st);
    buf_t b;
    buf_init(&b, 0);
    assert_int_equal(header_encode(&h, &b), CAIRN_OK);
    uint8_t p[512];
#define RESET() memcpy(p, b.data, b.len)
    RESET();
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(header_decode(&got, p, n), CAIRN_ETRUNCATED);
    p[b.len] = 0;
    assert_int_equal(header_decode(&got, p, b.len + 1), CAIRN_ETRAILING);
    p[0] = 0;
    assert_int_equal(header_decode(&got, p, b.len), CAIRN_EBAD_VERSION);
    RESET();
    p[1] = CHAIN_ID_MAX + 1;
    assert_int_equal(header_decode(&got, p, b.len), CAIRN_ETOO_LARGE);
    RESET();
    p[5] = ' '; /* chain id with a space */
    assert_int_equal(header_decode(&got, p, b.len), CAIRN_EBAD_ENCODING);
    p[5] = 0x7f;
    assert_int_equal(header_decode(&got, p, b.len), CAIRN_EBAD_ENCODING);
    RESET();
    memset(p + 15, 0, 8); /* height 0 */
    assert_int_equal(header_decode(&got, p, b.len), CAIRN_EBAD_HEIGHT);
    /* empty chain id: 1 | len 0 | ... */
    uint8_t e[8] = {1, 0, 0, 0, 0, 1, 0, 0};
    assert_int_equal(header_decode(&got, e, sizeof e), CAIRN_EBAD_ENCODING);
#undef RESET
    buf_deinit(&b);
}

/* ------------------------------------------------------------------ blocks */

static void block_round_trips_and_owns_its_memory(void **s)
{
    (void)s;
    block_t b, got;
    good_block(&b, NULL, 2);
    buf_t enc, again;
    encode_block(&b, &enc);
    uint8_t *copy = malloc(enc.len);
    memcpy(copy, enc.data, enc.len);
    assert_int_equal(block_decode(&got, copy, enc.len), CAIRN_OK);
    memset(copy, 0, enc.len); /* the block must not borrow from its input */
    free(copy);
    assert_int_equal(got.n_txs, 3);
    assert_int_equal(got.n_evidence, 2);
    assert_int_equal(got.last_commit.n_sigs, 4);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(got.txs[i].len, b.txs[i].len);
        assert_memory_equal(got.txs[i].p, b.txs[i].p, b.txs[i].len);
    }
    assert_memory_equal(&got.header, &b.header, sizeof b.header);
    encode_block(&got, &again);
    assert_int_equal(again.len, enc.len);
    assert_memory_equal(again.data, enc.data, enc.len);
    assert_int_equal(block_validate(&got, &st), CAIRN_OK);
    block_free(&b);
    block_free(&got);
    buf_deinit(&enc);
    buf_deinit(&again);
}

static void empty_block_data_hash_is_hash_of_nothing(void **s)
{
    (void)s;
    block_t b;
    memset(&b, 0, sizeof b);
    uint8_t h[HASH_BYTES];
    assert_int_equal(block_data_hash(&b, h), CAIRN_OK);
    assert_memory_equal(h, HASH_EMPTY, HASH_BYTES);
    assert_int_equal(block_evidence_hash(&b, h), CAIRN_OK);
    assert_memory_equal(h, HASH_EMPTY, HASH_BYTES);
}

/* data_hash = RFC 6962 root with the tx hashes as leaves (CometBFT Txs.Hash). */
static void data_hash_is_merkle_root_of_tx_hashes(void **s)
{
    (void)s;
    block_t b;
    good_block(&b, NULL, 0);
    uint8_t th[3][HASH_BYTES], leaf[3][HASH_BYTES], l01[HASH_BYTES], want[HASH_BYTES];
    for (int i = 0; i < 3; i++) {
        hash_sha256(th[i], b.txs[i].p, b.txs[i].len);
        merkle_leaf_hash(leaf[i], th[i], HASH_BYTES);
    }
    merkle_node_hash(l01, leaf[0], leaf[1]);
    merkle_node_hash(want, l01, leaf[2]);
    assert_memory_equal(b.header.data_hash, want, HASH_BYTES);
    block_free(&b);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void block_decode_rejects_each_malformed_input(void **s)
{
    (void)s;
    block_t b, got;
    good_block(&b, NULL, 1);
    buf_t enc;
    encode_block(&b, &enc);
    uint8_t *p = malloc(enc.len + 1);
    const size_t hdr = 1 + 4 + 10 + 8 + 8 + 8 * 32 + 20;
    const size_t ntx_at = hdr;
    size_t tx_total = 0;
    for (uint32_t i = 0; i < b.n_txs; i++) tx_total += 4 + b.txs[i].len;
    const size_t nev_at = ntx_at + 4 + tx_total;
    const size_t commit_at = nev_at + 4 + 1 + 2 * 142;
#define RESET() memcpy(p, enc.data, enc.len)
    RESET();
    for (size_t n = 0; n < enc.len; n++)
        assert_int_equal(block_decode(&got, p, n), CAIRN_ETRUNCATED);
    p[enc.len] = 0;
    assert_int_equal(block_decode(&got, p, enc.len + 1), CAIRN_ETRAILING);
    p[0] = 2;
    assert_int_equal(block_decode(&got, p, enc.len), CAIRN_EBAD_VERSION);
    RESET();
    put_u32(p + ntx_at, BLOCK_TXS_MAX + 1);
    assert_int_equal(block_decode(&got, p, enc.len), CAIRN_ETOO_LARGE);
    RESET();
    put_u32(p + ntx_at + 4, TX_BYTES_MAX + 1);
    assert_int_equal(block_decode(&got, p, enc.len), CAIRN_ETOO_LARGE);
    RESET();
    put_u32(p + nev_at, EVIDENCE_MAX + 1);
    assert_int_equal(block_decode(&got, p, enc.len), CAIRN_ETOO_LARGE);
    RESET();
    p[nev_at + 4 + 1 + 1] = 9; /* evidence's first vote type */
    assert_int_equal(block_decode(&got, p, enc.len), CAIRN_EBAD_TYPE);
    RESET();
    p[commit_at] = 3; /* commit version */
    assert_int_equal(block_decode(&got, p, enc.len), CAIRN_EBAD_VERSION);
    RESET();
    p[commit_at + 1 + 8 + 4 + 32 + 4] = 7; /* commit flag */
    assert_int_equal(block_decode(&got, p, enc.len), CAIRN_ENONCANONICAL);
    RESET();
    assert_int_equal(block_decode(&got, p, enc.len), CAIRN_OK);
    block_free(&got);
    uint8_t *big = calloc(1, BLOCK_BYTES_MAX + 1);
    big[0] = CHAIN_VERSION;
    assert_int_equal(block_decode(&got, big, BLOCK_BYTES_MAX + 1), CAIRN_ETOO_LARGE);
    free(big);
#undef RESET
    free(p);
    block_free(&b);
    buf_deinit(&enc);
}

/* ------------------------------------------------------------------ validation */

static void good_block_validates(void **s)
{
    (void)s;
    block_t b;
    good_block(&b, NULL, 2);
    assert_int_equal(block_validate(&b, &st), CAIRN_OK);
    block_free(&b);
}

/* Changes one header field of a good block; hashes stay as they were. */
static cairn_err validate_with(void (*change)(header_t *))
{
    block_t b;
    good_block(&b, NULL, 1);
    change(&b.header);
    cairn_err rc = block_validate(&b, &st);
    block_free(&b);
    return rc;
}

static void ch_version(header_t *h) { h->version = 2; }
static void ch_chain_id(header_t *h) { assert_int_equal(chain_id_set(&h->chain_id, "cairn-tesu"), CAIRN_OK); }
static void ch_height_skip(header_t *h) { h->height = 6; }
static void ch_height_same(header_t *h) { h->height = 4; }
static void ch_last_block(header_t *h) { h->last_block_id[7] ^= 1; }
static void ch_time_same(header_t *h) { h->time_ns = st.last_time_ns; }
static void ch_time_before(header_t *h) { h->time_ns = st.last_time_ns - 1; }
static void ch_vals(header_t *h) { h->validators_hash[0] ^= 1; }
static void ch_next_vals(header_t *h) { h->next_validators_hash[0] ^= 1; }
static void ch_app(header_t *h) { h->app_hash[0] ^= 1; }
static void ch_results(header_t *h) { h->results_hash[0] ^= 1; }
static void ch_proposer(header_t *h) { memset(h->proposer, 0x99, ADDR_BYTES); }
static void ch_data(header_t *h) { h->data_hash[0] ^= 1; }
static void ch_evidence(header_t *h) { h->evidence_hash[0] ^= 1; }
static void ch_last_commit(header_t *h) { h->last_commit_hash[0] ^= 1; }

static void validate_rejects_each_bad_header_field(void **s)
{
    (void)s;
    assert_int_equal(validate_with(ch_version), CAIRN_EBAD_VERSION);
    assert_int_equal(validate_with(ch_chain_id), CAIRN_EBAD_CHAIN_ID);
    assert_int_equal(validate_with(ch_height_skip), CAIRN_EBAD_HEIGHT);
    assert_int_equal(validate_with(ch_height_same), CAIRN_EBAD_HEIGHT);
    assert_int_equal(validate_with(ch_last_block), CAIRN_EBAD_HASH);
    assert_int_equal(validate_with(ch_time_same), CAIRN_EBAD_TIME);
    assert_int_equal(validate_with(ch_time_before), CAIRN_EBAD_TIME);
    assert_int_equal(validate_with(ch_vals), CAIRN_EBAD_HASH);
    assert_int_equal(validate_with(ch_next_vals), CAIRN_EBAD_HASH);
    assert_int_equal(validate_with(ch_app), CAIRN_EBAD_HASH);
    assert_int_equal(validate_with(ch_results), CAIRN_EBAD_HASH);
    assert_int_equal(validate_with(ch_proposer), CAIRN_EBAD_PROPOSER);
    assert_int_equal(validate_with(ch_data), CAIRN_EBAD_HASH);
    assert_int_equal(validate_with(ch_evidence), CAIRN_EBAD_HASH);
    assert_int_equal(validate_with(ch_last_commit), CAIRN_EBAD_HASH);
}

static void validate_rejects_a_tx_that_does_not_decode(void **s)
{
    (void)s;
    block_t b, bad;
    good_block(&b, NULL, 0);
    bytes_view txs[3];
    memcpy(txs, b.txs, sizeof txs);
    txs[1].len -= 1; /* truncated tx, hashes recomputed by assemble */
    assert_int_equal(block_assemble(&bad, &b.header, txs, 3, NULL, 0, &b.last_commit), CAIRN_OK);
    assert_int_equal(block_validate(&bad, &st), CAIRN_EBAD_TX);
    block_free(&bad);
    block_free(&b);
}

static void validate_rejects_a_last_commit_without_quorum(void **s)
{
    (void)s;
    const uint8_t half[] = {F, F, N, A};
    block_t b;
    good_block(&b, half, 0);
    assert_int_equal(block_validate(&b, &st), CAIRN_EBAD_COMMIT);
    block_free(&b);
}

static void validate_rejects_a_last_commit_with_a_bad_signature(void **s)
{
    (void)s;
    block_t b, bad;
    good_block(&b, NULL, 0);
    b.last_commit.sigs[3].sig[10] ^= 1;
    assert_int_equal(block_assemble(&bad, &b.header, b.txs, b.n_txs, NULL, 0, &b.last_commit),
                     CAIRN_OK);
    assert_int_equal(block_validate(&bad, &st), CAIRN_EBAD_SIGNATURE);
    block_free(&bad);
    block_free(&b);
}

static void validate_rejects_a_last_commit_for_another_block(void **s)
{
    (void)s;
    block_t b, bad;
    good_block(&b, NULL, 0);
    const uint8_t all[] = {F, F, F, F};
    uint8_t other[HASH_BYTES];
    memset(other, 0x45, HASH_BYTES);
    commit_t c;
    fx_commit(&c, &cid, &st.last_validators, 4, 0, other, all);
    assert_int_equal(block_assemble(&bad, &b.header, b.txs, b.n_txs, NULL, 0, &c), CAIRN_OK);
    assert_int_equal(block_validate(&bad, &st), CAIRN_EBAD_COMMIT);
    block_free(&bad);
    commit_free(&c);
    fx_commit(&c, &cid, &st.last_validators, 3, 0, st.last_block_id, all);
    assert_int_equal(block_assemble(&bad, &b.header, b.txs, b.n_txs, NULL, 0, &c), CAIRN_OK);
    assert_int_equal(block_validate(&bad, &st), CAIRN_EBAD_HEIGHT);
    block_free(&bad);
    commit_free(&c);
    commit_t empty;
    memset(&empty, 0, sizeof empty);
    assert_int_equal(block_assemble(&bad, &b.header, b.txs, b.n_txs, NULL, 0, &empty), CAIRN_OK);
    assert_int_equal(block_validate(&bad, &st), CAIRN_EBAD_COMMIT);
    block_free(&bad);
    block_free(&b);
}

static void first_block_needs_an_empty_last_commit(void **s)
{
    (void)s;
    chain_state_t g = st;
    g.last_height = 0;
    memset(g.last_block_id, 0, HASH_BYTES);
    memset(&g.last_validators, 0, sizeof g.last_validators);
    header_t h;
    base_header(&h, &g);
    h.time_ns = g.last_time_ns; /* genesis time itself is allowed at height 1 */
    commit_t empty;
    memset(&empty, 0, sizeof empty);
    block_t b;
    assert_int_equal(block_assemble(&b, &h, NULL, 0, NULL, 0, &empty), CAIRN_OK);
    assert_int_equal(block_validate(&b, &g), CAIRN_OK);
    block_free(&b);
    h.time_ns = g.last_time_ns - 1;
    assert_int_equal(block_assemble(&b, &h, NULL, 0, NULL, 0, &empty), CAIRN_OK);
    assert_int_equal(block_validate(&b, &g), CAIRN_EBAD_TIME);
    block_free(&b);
    h.time_ns = g.last_time_ns;
    const uint8_t all[] = {F, F, F, F};
    uint8_t some[HASH_BYTES];
    memset(some, 0x01, HASH_BYTES);
    commit_t c;
    fx_commit(&c, &cid, &st.validators, 1, 0, some, all);
    assert_int_equal(block_assemble(&b, &h, NULL, 0, NULL, 0, &c), CAIRN_OK);
    assert_int_equal(block_validate(&b, &g), CAIRN_EBAD_COMMIT);
    block_free(&b);
    commit_free(&c);
}

static void validate_rejects_bad_evidence(void **s)
{
    (void)s;
    block_t b, bad;
    good_block(&b, NULL, 2);
    evidence_t ev[2];
    memcpy(ev, b.evidence, sizeof ev);
    ev[1].b.sig[0] ^= 1; /* forged */
    assert_int_equal(block_assemble(&bad, &b.header, b.txs, b.n_txs, ev, 2, &b.last_commit),
                     CAIRN_OK);
    assert_int_equal(block_validate(&bad, &st), CAIRN_EBAD_EVIDENCE);
    block_free(&bad);
    ev[1] = ev[0]; /* duplicate */
    assert_int_equal(block_assemble(&bad, &b.header, b.txs, b.n_txs, ev, 2, &b.last_commit),
                     CAIRN_OK);
    assert_int_equal(block_validate(&bad, &st), CAIRN_EBAD_EVIDENCE);
    block_free(&bad);
    fx_evidence(&ev[0], &cid, &st.validators, 1, 5, 0); /* this very height */
    assert_int_equal(block_assemble(&bad, &b.header, b.txs, b.n_txs, ev, 1, &b.last_commit),
                     CAIRN_OK);
    assert_int_equal(block_validate(&bad, &st), CAIRN_EBAD_EVIDENCE);
    block_free(&bad);
    block_free(&b);
}

static void validate_rejects_too_many_or_too_large_txs(void **s)
{
    (void)s;
    block_t b;
    good_block(&b, NULL, 0);
    bytes_view *saved = b.txs;
    uint32_t saved_n = b.n_txs;
    bytes_view *many = calloc(BLOCK_TXS_MAX + 1, sizeof *many);
    for (uint32_t i = 0; i <= BLOCK_TXS_MAX; i++) many[i] = saved[0];
    b.txs = many;
    b.n_txs = BLOCK_TXS_MAX + 1;
    assert_int_equal(block_validate(&b, &st), CAIRN_ETOO_LARGE);
    uint8_t *fat = calloc(1, TX_BYTES_MAX);
    const uint32_t n_fat = BLOCK_BYTES_MAX / TX_BYTES_MAX + 1;
    for (uint32_t i = 0; i < n_fat; i++) {
        many[i].p = fat;
        many[i].len = TX_BYTES_MAX;
    }
    b.n_txs = n_fat; /* each within TX_BYTES_MAX, together over BLOCK_BYTES_MAX */
    assert_int_equal(block_validate(&b, &st), CAIRN_ETOO_LARGE);
    buf_t out;
    buf_init(&out, 0);
    assert_int_equal(block_encode(&b, &out), CAIRN_ETOO_LARGE);
    assert_int_equal(out.len, 0);
    buf_deinit(&out);
    many[0].len = TX_BYTES_MAX + 1;
    b.n_txs = 1;
    assert_int_equal(block_validate(&b, &st), CAIRN_ETOO_LARGE);
    free(fat);
    free(many);
    b.txs = saved;
    b.n_txs = saved_n;
    block_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_round_trips_and_hashes_its_encoding),
        cmocka_unit_test(header_decode_rejects_each_malformed_input),
        cmocka_unit_test(block_round_trips_and_owns_its_memory),
        cmocka_unit_test(empty_block_data_hash_is_hash_of_nothing),
        cmocka_unit_test(data_hash_is_merkle_root_of_tx_hashes),
        cmocka_unit_test(block_decode_rejects_each_malformed_input),
        cmocka_unit_test(good_block_validates),
        cmocka_unit_test(validate_rejects_each_bad_header_field),
        cmocka_unit_test(validate_rejects_a_tx_that_does_not_decode),
        cmocka_unit_test(validate_rejects_a_last_commit_without_quorum),
        cmocka_unit_test(validate_rejects_a_last_commit_with_a_bad_signature),
        cmocka_unit_test(validate_rejects_a_last_commit_for_another_block),
        cmocka_unit_test(first_block_needs_an_empty_last_commit),
        cmocka_unit_test(validate_rejects_bad_evidence),
        cmocka_unit_test(validate_rejects_too_many_or_too_large_txs),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
