/* test_repair.c - repair_answer_verify: an honest peer's answer for a height is
 * believed; a lying peer's is not, whatever it forges (another block, a commit
 * without > 2/3 of the power or with foreign or altered signatures, results
 * whose codes or shape differ from what the chain signed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../chain/fixture.h"
#include "app/app.h"
#include "base/log.h"
#include "codec/codec.h"
#include "node/repair.h"
#include "node/results.h"

#define H 7
#define N_TXS 3

typedef struct {
    chain_id_t cid;
    valset_t vs;
    block_t block;
    uint8_t id[HASH_BYTES];
    buf_t block_raw, commit_raw, results_raw;
    buf_t recs[N_TXS]; /* result records */
    uint8_t results_hash[HASH_BYTES];
} fixture;

static const uint8_t ALL[4] = {COMMIT_FOR_BLOCK, COMMIT_FOR_BLOCK, COMMIT_FOR_BLOCK,
                               COMMIT_FOR_BLOCK};

static void result_make(app_result_t *r, uint32_t code, uint32_t i)
{
    memset(r, 0, sizeof *r);
    r->code = code;
    if (code) {
        snprintf(r->log, sizeof r->log, "balance %u < amount", i);
        return;
    }
    r->n_events = 1;
    snprintf(r->events[0].type, sizeof r->events[0].type, "transfer");
    r->events[0].n_attrs = 1;
    snprintf(r->events[0].attrs[0].key, sizeof r->events[0].attrs[0].key, "amount");
    snprintf(r->events[0].attrs[0].value, sizeof r->events[0].attrs[0].value, "%u", 100 + i);
}

/* The results record layout of docs/storage.md: version u8 | n u32 | n x bytes
 * | block bytes. */
static void results_encode(buf_t *out, const buf_t *recs, uint32_t n, const char *block_part)
{
    buf_init(out, 0);
    codec_writer w;
    codec_writer_init(&w, out);
    codec_put_u8(&w, 1);
    codec_put_u32(&w, n);
    for (uint32_t i = 0; i < n; i++) codec_put_bytes(&w, recs[i].data, recs[i].len);
    codec_put_bytes(&w, block_part, strlen(block_part));
    assert_int_equal(w.err, CAIRN_OK);
}

static void commit_encode_to(buf_t *out, const fixture *f, uint64_t height, const uint8_t *id,
                             const uint8_t *flags)
{
    commit_t c;
    fx_commit(&c, &f->cid, &f->vs, height, 0, id, flags);
    buf_init(out, 0);
    assert_int_equal(commit_encode(&c, out), CAIRN_OK);
    commit_free(&c);
}

/* Block H with N_TXS txs over f->vs, and time_bias to make a different one. */
static void block_make(fixture *f, block_t *b, uint8_t id[HASH_BYTES], buf_t *raw,
                       int64_t time_bias)
{
    header_t h;
    memset(&h, 0, sizeof h);
    h.version = CHAIN_VERSION;
    h.chain_id = f->cid;
    h.height = H;
    h.time_ns = 1700000000000000000LL + H * 1000000000LL + time_bias;
    memset(h.last_block_id, 0x61, HASH_BYTES);
    assert_int_equal(valset_hash(&f->vs, h.validators_hash), CAIRN_OK);
    memcpy(h.next_validators_hash, h.validators_hash, HASH_BYTES);
    memset(h.app_hash, 0x62, HASH_BYTES);
    memset(h.results_hash, 0x63, HASH_BYTES);
    memcpy(h.proposer, f->vs.v[0].address, ADDR_BYTES);
    buf_t txb[N_TXS];
    bytes_view txs[N_TXS];
    for (int i = 0; i < N_TXS; i++) {
        fx_tx(&txb[i], &f->cid, i, (uint64_t)(time_bias + i));
        txs[i] = (bytes_view){txb[i].data, txb[i].len};
    }
    commit_t last;
    fx_commit(&last, &f->cid, &f->vs, H - 1, 0, h.last_block_id, ALL);
    assert_int_equal(block_assemble(b, &h, txs, N_TXS, NULL, 0, &last), CAIRN_OK);
    commit_free(&last);
    for (int i = 0; i < N_TXS; i++) buf_deinit(&txb[i]);
    assert_int_equal(header_hash(&b->header, id), CAIRN_OK);
    buf_init(raw, BLOCK_BYTES_MAX);
    assert_int_equal(block_encode(b, raw), CAIRN_OK);
}

static int setup(void **state)
{
    if (crypto_init() != CAIRN_OK) return -1;
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    fx_chain_id(&f->cid, "repair-test");
    const int64_t powers[4] = {10, 10, 10, 10};
    fx_valset(&f->vs, powers, 4);
    block_make(f, &f->block, f->id, &f->block_raw, 0);
    commit_encode_to(&f->commit_raw, f, H, f->id, ALL);
    uint8_t leaves[N_TXS][HASH_BYTES];
    for (uint32_t i = 0; i < N_TXS; i++) {
        app_result_t r;
        result_make(&r, i == 1 ? 5 : 0, i);
        buf_init(&f->recs[i], 0);
        assert_int_equal(result_record_encode(&r, &f->recs[i]), CAIRN_OK);
        buf_t leaf;
        buf_init(&leaf, 0);
        assert_int_equal(app_result_encode(&r, &leaf), CAIRN_OK);
        merkle_leaf_hash(leaves[i], leaf.data, leaf.len);
        buf_deinit(&leaf);
    }
    assert_int_equal(merkle_root_from_hashes(f->results_hash,
                                             (const uint8_t(*)[HASH_BYTES])leaves, N_TXS),
                     CAIRN_OK);
    results_encode(&f->results_raw, f->recs, N_TXS, "");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    block_free(&f->block);
    buf_deinit(&f->block_raw);
    buf_deinit(&f->commit_raw);
    buf_deinit(&f->results_raw);
    for (int i = 0; i < N_TXS; i++) buf_deinit(&f->recs[i]);
    free(f);
    return 0;
}

static repair_expect expect_of(const fixture *f)
{
    repair_expect e = {.height = H, .chain_id = &f->cid, .validators = &f->vs,
                       .block_id = f->id, .results_hash = f->results_hash};
    return e;
}

static cairn_err verify(const repair_expect *e, const buf_t *block, const buf_t *commit,
                        const buf_t *results)
{
    return repair_answer_verify(e, block->data, block->len, commit->data, commit->len,
                                results->data, results->len);
}

static void test_honest_answer_is_believed(void **state)
{
    fixture *f = *state;
    repair_expect e = expect_of(f);
    assert_int_equal(verify(&e, &f->block_raw, &f->commit_raw, &f->results_raw), CAIRN_OK);
    e.block_id = NULL; /* no intact header h+1: the commit alone vouches */
    assert_int_equal(verify(&e, &f->block_raw, &f->commit_raw, &f->results_raw), CAIRN_OK);
}

static void test_commit_of_two_thirds_plus_one_validator_is_enough(void **state)
{
    fixture *f = *state;
    const uint8_t three[4] = {COMMIT_FOR_BLOCK, COMMIT_ABSENT, COMMIT_FOR_BLOCK, COMMIT_FOR_BLOCK};
    buf_t c;
    commit_encode_to(&c, f, H, f->id, three);
    repair_expect e = expect_of(f);
    assert_int_equal(verify(&e, &f->block_raw, &c, &f->results_raw), CAIRN_OK);
    buf_deinit(&c);
}

static void test_block_of_another_height_is_not_believed(void **state)
{
    fixture *f = *state;
    repair_expect e = expect_of(f);
    e.height = H + 1;
    assert_int_equal(verify(&e, &f->block_raw, &f->commit_raw, &f->results_raw),
                     CAIRN_EBAD_HEIGHT);
}

static void test_block_of_another_chain_is_not_believed(void **state)
{
    fixture *f = *state;
    repair_expect e = expect_of(f);
    chain_id_t other;
    fx_chain_id(&other, "other-chain");
    e.chain_id = &other;
    assert_int_equal(verify(&e, &f->block_raw, &f->commit_raw, &f->results_raw),
                     CAIRN_EBAD_CHAIN_ID);
}

static void test_block_the_chain_does_not_name_is_not_believed(void **state)
{
    fixture *f = *state;
    /* A different, well-formed block for the height with a commit signed by
     * every validator (an equivocation the network never finalised): header
     * h+1 names the real one. */
    block_t b2;
    uint8_t id2[HASH_BYTES];
    buf_t raw2, c2;
    block_make(f, &b2, id2, &raw2, 999);
    commit_encode_to(&c2, f, H, id2, ALL);
    repair_expect e = expect_of(f);
    assert_int_equal(verify(&e, &raw2, &c2, &f->results_raw), CAIRN_EBAD_HASH);
    block_free(&b2);
    buf_deinit(&raw2);
    buf_deinit(&c2);
}

static void test_forged_block_with_a_minority_commit_is_not_believed(void **state)
{
    fixture *f = *state;
    block_t b2;
    uint8_t id2[HASH_BYTES];
    buf_t raw2, c2;
    block_make(f, &b2, id2, &raw2, 4242);
    const uint8_t one[4] = {COMMIT_FOR_BLOCK, COMMIT_ABSENT, COMMIT_NIL, COMMIT_ABSENT};
    commit_encode_to(&c2, f, H, id2, one);
    repair_expect e = expect_of(f);
    e.block_id = NULL; /* the commit is the only witness left */
    assert_int_equal(verify(&e, &raw2, &c2, &f->results_raw), CAIRN_EBAD_COMMIT);
    block_free(&b2);
    buf_deinit(&raw2);
    buf_deinit(&c2);
}

static void test_commit_signed_by_strangers_is_not_believed(void **state)
{
    fixture *f = *state;
    /* The liar's own four keys sign: a commit over another validator set. */
    fixture liar = *f;
    validator_t vals[4];
    memset(vals, 0, sizeof vals);
    for (int i = 0; i < 4; i++) {
        keypair_t kp;
        fx_key(&kp, 20 + i);
        memcpy(vals[i].pub, kp.pub, PUBKEY_BYTES);
        vals[i].power = 10;
    }
    assert_int_equal(valset_init(&liar.vs, vals, 4), CAIRN_OK);
    commit_t c;
    memset(&c, 0, sizeof c);
    c.height = H;
    memcpy(c.block_id, f->id, HASH_BYTES);
    c.n_sigs = 4;
    c.sigs = calloc(4, sizeof *c.sigs);
    assert_non_null(c.sigs);
    for (uint32_t i = 0; i < 4; i++) {
        keypair_t kp;
        fx_key(&kp, 20 + (int)i);
        vote_t v;
        memset(&v, 0, sizeof v);
        v.type = VOTE_PRECOMMIT;
        v.height = H;
        memcpy(v.block_id, f->id, HASH_BYTES);
        v.time_ns = 1;
        key_address(v.validator, kp.pub);
        v.validator_index = i;
        fx_sign_vote(&v, &f->cid, &kp);
        c.sigs[i].flag = COMMIT_FOR_BLOCK;
        memcpy(c.sigs[i].validator, v.validator, ADDR_BYTES);
        c.sigs[i].time_ns = v.time_ns;
        memcpy(c.sigs[i].sig, v.sig, SIG_BYTES);
    }
    buf_t raw;
    buf_init(&raw, 0);
    assert_int_equal(commit_encode(&c, &raw), CAIRN_OK);
    commit_free(&c);
    repair_expect e = expect_of(f);
    assert_int_equal(verify(&e, &f->block_raw, &raw, &f->results_raw), CAIRN_EBAD_VALIDATOR);
    buf_deinit(&raw);
}

static void test_commit_with_an_altered_signature_is_not_believed(void **state)
{
    fixture *f = *state;
    commit_t c;
    assert_int_equal(commit_decode(&c, f->commit_raw.data, f->commit_raw.len), CAIRN_OK);
    c.sigs[2].sig[10] ^= 1;
    buf_t raw;
    buf_init(&raw, 0);
    assert_int_equal(commit_encode(&c, &raw), CAIRN_OK);
    commit_free(&c);
    repair_expect e = expect_of(f);
    assert_int_equal(verify(&e, &f->block_raw, &raw, &f->results_raw), CAIRN_EBAD_SIGNATURE);
    buf_deinit(&raw);
}

static void test_commit_for_another_block_or_height_is_not_believed(void **state)
{
    fixture *f = *state;
    uint8_t other[HASH_BYTES];
    memset(other, 0x77, HASH_BYTES);
    buf_t c;
    commit_encode_to(&c, f, H, other, ALL);
    repair_expect e = expect_of(f);
    assert_int_equal(verify(&e, &f->block_raw, &c, &f->results_raw), CAIRN_EBAD_COMMIT);
    buf_deinit(&c);
    commit_encode_to(&c, f, H - 1, f->id, ALL);
    assert_int_equal(verify(&e, &f->block_raw, &c, &f->results_raw), CAIRN_EBAD_COMMIT);
    buf_deinit(&c);
}

static void test_block_with_swapped_txs_is_not_believed(void **state)
{
    fixture *f = *state;
    block_t b2;
    uint8_t id2[HASH_BYTES];
    buf_t raw2;
    block_make(f, &b2, id2, &raw2, 31); /* other txs */
    block_t mix = b2;
    mix.header = f->block.header; /* the real header over other txs */
    buf_t raw;
    buf_init(&raw, BLOCK_BYTES_MAX);
    assert_int_equal(block_encode(&mix, &raw), CAIRN_OK);
    repair_expect e = expect_of(f);
    assert_int_equal(verify(&e, &raw, &f->commit_raw, &f->results_raw), CAIRN_EBAD_HASH);
    buf_deinit(&raw);
    block_free(&b2);
    buf_deinit(&raw2);
}

static void test_results_with_a_changed_code_are_not_believed(void **state)
{
    fixture *f = *state;
    buf_t recs[N_TXS], res;
    for (int i = 0; i < N_TXS; i++) {
        app_result_t r;
        result_make(&r, 0, (uint32_t)i); /* tx 1 now "succeeded" */
        buf_init(&recs[i], 0);
        assert_int_equal(result_record_encode(&r, &recs[i]), CAIRN_OK);
    }
    results_encode(&res, recs, N_TXS, "");
    repair_expect e = expect_of(f);
    assert_int_equal(verify(&e, &f->block_raw, &f->commit_raw, &res), CAIRN_EBAD_HASH);
    buf_deinit(&res);
    for (int i = 0; i < N_TXS; i++) buf_deinit(&recs[i]);
}

static void test_results_of_the_wrong_shape_are_not_believed(void **state)
{
    fixture *f = *state;
    repair_expect e = expect_of(f);
    buf_t res;
    results_encode(&res, f->recs, N_TXS - 1, ""); /* one entry missing */
    assert_int_equal(verify(&e, &f->block_raw, &f->commit_raw, &res), CAIRN_EBAD_ENCODING);
    buf_deinit(&res);
    results_encode(&res, f->recs, N_TXS, "end-block"); /* this node stores none */
    assert_int_equal(verify(&e, &f->block_raw, &f->commit_raw, &res), CAIRN_EBAD_ENCODING);
    buf_deinit(&res);
    buf_t recs[N_TXS];
    for (int i = 0; i < N_TXS; i++) {
        buf_init(&recs[i], 0);
        assert_int_equal(buf_append(&recs[i], f->recs[i].data, f->recs[i].len), CAIRN_OK);
    }
    assert_int_equal(buf_append(&recs[0], "x", 1), CAIRN_OK); /* trailing byte in a record */
    results_encode(&res, recs, N_TXS, "");
    assert_int_equal(verify(&e, &f->block_raw, &f->commit_raw, &res), CAIRN_EBAD_ENCODING);
    buf_deinit(&res);
    for (int i = 0; i < N_TXS; i++) buf_deinit(&recs[i]);
    buf_t junk;
    buf_init(&junk, 0);
    assert_int_equal(buf_append(&junk, "\x01\xff\xff", 3), CAIRN_OK);
    assert_int_equal(verify(&e, &f->block_raw, &f->commit_raw, &junk), CAIRN_EBAD_ENCODING);
    buf_deinit(&junk);
}

static void test_bytes_that_are_not_a_block_are_not_believed(void **state)
{
    fixture *f = *state;
    repair_expect e = expect_of(f);
    buf_t b;
    buf_init(&b, BLOCK_BYTES_MAX);
    assert_int_equal(buf_append(&b, f->block_raw.data, f->block_raw.len - 1), CAIRN_OK);
    assert_int_equal(verify(&e, &b, &f->commit_raw, &f->results_raw), CAIRN_EBAD_BLOCK);
    buf_deinit(&b);
}

static void test_without_a_results_hash_nothing_is_believed(void **state)
{
    fixture *f = *state;
    repair_expect e = expect_of(f);
    e.results_hash = NULL;
    assert_int_equal(verify(&e, &f->block_raw, &f->commit_raw, &f->results_raw),
                     CAIRN_EINVALID_ARG);
}

int main(void)
{
    log_level_set(LOG_OFF);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_honest_answer_is_believed),
        T(test_commit_of_two_thirds_plus_one_validator_is_enough),
        T(test_block_of_another_height_is_not_believed),
        T(test_block_of_another_chain_is_not_believed),
        T(test_block_the_chain_does_not_name_is_not_believed),
        T(test_forged_block_with_a_minority_commit_is_not_believed),
        T(test_commit_signed_by_strangers_is_not_believed),
        T(test_commit_with_an_altered_signature_is_not_believed),
        T(test_commit_for_another_block_or_height_is_not_believed),
        T(test_block_with_swapped_txs_is_not_believed),
        T(test_results_with_a_changed_code_are_not_believed),
        T(test_results_of_the_wrong_shape_are_not_believed),
        T(test_bytes_that_are_not_a_block_are_not_believed),
        T(test_without_a_results_hash_nothing_is_believed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
