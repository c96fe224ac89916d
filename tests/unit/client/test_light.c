/* test_light.c - the light client's verdicts (include/cairn/light.h) on signed
 * headers and state proofs made in-process with real keys, passed through the
 * node's JSON rendering (rpc/json_chain.h) and the client's decoders. */
#include "../chain/fixture.h"

#include <stdio.h>

#include "cairn/light.h"
#include "cairn/proof.h"
#include "client/client.h"
#include "rpc/json_chain.h"

#define CID "light-test"

typedef struct {
    chain_id_t cid;
    valset_t vs;
    light_t lc;
    char why[LIGHT_WHY_MAX];
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_int_equal(crypto_init(), CAIRN_OK);
    fx_chain_id(&f->cid, CID);
    int64_t powers[4] = {10, 10, 10, 10};
    fx_valset(&f->vs, powers, 4);
    assert_int_equal(light_init_genesis(&f->lc, &f->cid, &f->vs, f->why, sizeof f->why), CAIRN_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* Header `height` following `prev_id`, signed by vs, validators vs -> next. */
static void make_header(header_t *h, const fx_t *f, uint64_t height, const uint8_t *prev_id,
                        const valset_t *vs, const valset_t *next)
{
    memset(h, 0, sizeof *h);
    h->version = CHAIN_VERSION;
    h->chain_id = f->cid;
    h->height = height;
    h->time_ns = 1800000000000000000LL + (int64_t)height * 1000000007LL;
    if (prev_id) memcpy(h->last_block_id, prev_id, HASH_BYTES);
    memset(h->data_hash, 0xda, HASH_BYTES);
    assert_int_equal(valset_hash(vs, h->validators_hash), CAIRN_OK);
    assert_int_equal(valset_hash(next, h->next_validators_hash), CAIRN_OK);
    memset(h->app_hash, (int)height, HASH_BYTES);
    memcpy(h->proposer, vs->v[0].address, ADDR_BYTES);
}

static void sign_header(commit_t *c, const fx_t *f, const header_t *h, const valset_t *vs,
                        const uint8_t *flags)
{
    uint8_t id[HASH_BYTES];
    assert_int_equal(header_hash(h, id), CAIRN_OK);
    uint8_t all[VALIDATORS_MAX];
    memset(all, COMMIT_FOR_BLOCK, sizeof all);
    fx_commit(c, &f->cid, vs, h->height, 0, id, flags ? flags : all);
}

/* The /commit result text for (h, c), as the node renders it. */
static char *commit_text(const header_t *h, const commit_t *c)
{
    json_t *j = json_chain_signed_header(h, c, true);
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static char *validators_text(const valset_t *vs, uint64_t height)
{
    json_t *j = json_chain_validators(vs, height, 0, vs->count);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static cairn_err update_text(fx_t *f, const header_t *h, const commit_t *c, const char *next)
{
    char *s = commit_text(h, c);
    cairn_err rc = light_update_json(&f->lc, s, next, f->why, sizeof f->why);
    free(s);
    return rc;
}

static void assert_why(const fx_t *f, const char *needle)
{
    if (!strstr(f->why, needle)) fail_msg("expected '%s' in '%s'", needle, f->why);
}

/* ------------------------------------------------------------ decoding */

static void header_survives_the_json_round_trip_with_its_hash(void **state)
{
    fx_t *f = *state;
    header_t h, back;
    uint8_t prev[HASH_BYTES], a[HASH_BYTES], b[HASH_BYTES];
    memset(prev, 0x42, HASH_BYTES);
    make_header(&h, f, 7, prev, &f->vs, &f->vs);
    json_t *j = json_chain_header(&h);
    assert_int_equal(client_header_from_json(j, &back, f->why, sizeof f->why), CAIRN_OK);
    json_decref(j);
    assert_memory_equal(&h, &back, sizeof h);
    assert_int_equal(header_hash(&h, a), CAIRN_OK);
    assert_int_equal(header_hash(&back, b), CAIRN_OK);
    assert_memory_equal(a, b, HASH_BYTES);
}

static void first_header_has_an_empty_last_block_id(void **state)
{
    fx_t *f = *state;
    header_t h, back;
    make_header(&h, f, 1, NULL, &f->vs, &f->vs);
    json_t *j = json_chain_header(&h);
    assert_int_equal(client_header_from_json(j, &back, f->why, sizeof f->why), CAIRN_OK);
    json_decref(j);
    assert_true(bytes_is_zero(back.last_block_id, HASH_BYTES));
}

static void commit_with_every_flag_survives_the_json_round_trip(void **state)
{
    fx_t *f = *state;
    header_t h;
    commit_t c, back;
    make_header(&h, f, 3, NULL, &f->vs, &f->vs);
    uint8_t flags[4] = {COMMIT_FOR_BLOCK, COMMIT_ABSENT, COMMIT_NIL, COMMIT_FOR_BLOCK};
    sign_header(&c, f, &h, &f->vs, flags);
    json_t *j = json_chain_commit(&c);
    assert_int_equal(client_commit_from_json(j, &back, f->why, sizeof f->why), CAIRN_OK);
    json_decref(j);
    buf_t x, y;
    buf_init(&x, 0);
    buf_init(&y, 0);
    assert_int_equal(commit_encode(&c, &x), CAIRN_OK);
    assert_int_equal(commit_encode(&back, &y), CAIRN_OK);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    buf_deinit(&x);
    buf_deinit(&y);
    commit_free(&c);
    commit_free(&back);
}

static void validators_decode_to_the_same_set_hash(void **state)
{
    fx_t *f = *state;
    json_t *j = json_chain_validators(&f->vs, 5, 0, f->vs.count);
    valset_t back;
    assert_int_equal(client_valset_from_json(json_object_get(j, "validators"), &back, f->why,
                                             sizeof f->why), CAIRN_OK);
    uint8_t a[HASH_BYTES], b[HASH_BYTES];
    assert_int_equal(valset_hash(&f->vs, a), CAIRN_OK);
    assert_int_equal(valset_hash(&back, b), CAIRN_OK);
    assert_memory_equal(a, b, HASH_BYTES);
    /* an address that is not its key's */
    json_t *v0 = json_array_get(json_object_get(j, "validators"), 0);
    json_object_set_new(v0, "address", json_string("00000000000000000000000000000000000000AA"));
    assert_int_equal(client_valset_from_json(json_object_get(j, "validators"), &back, f->why,
                                             sizeof f->why), CAIRN_EBAD_ENCODING);
    assert_why(f, "validators[0]: address is not the address of its pub_key");
    json_decref(j);
}

static void malformed_fields_are_named(void **state)
{
    fx_t *f = *state;
    header_t h, back;
    make_header(&h, f, 2, NULL, &f->vs, &f->vs);
    json_t *j = json_chain_header(&h);
    json_object_set_new(j, "app_hash", json_string("ABC"));
    assert_int_equal(client_header_from_json(j, &back, f->why, sizeof f->why), CAIRN_EBAD_ENCODING);
    assert_why(f, "header.app_hash");
    json_object_set_new(j, "app_hash", json_chain_hex(h.app_hash, HASH_BYTES));
    json_object_set_new(j, "height", json_string("-1"));
    assert_int_equal(client_header_from_json(j, &back, f->why, sizeof f->why), CAIRN_EBAD_ENCODING);
    assert_why(f, "header.height");
    json_decref(j);
    assert_int_equal(light_update_json(&f->lc, "{not json", NULL, f->why, sizeof f->why),
                     CAIRN_EBAD_ENCODING);
}

static void too_many_commit_signatures_are_refused(void **state)
{
    fx_t *f = *state;
    json_t *sigs = json_array();
    for (int i = 0; i < VALIDATORS_MAX + 1; i++)
        json_array_append_new(sigs, json_pack("{s:i}", "block_id_flag", 1));
    json_t *j = json_pack("{s:s,s:i,s:{s:s},s:o}", "height", "3", "round", 0, "block_id", "hash",
                          "", "signatures", sigs);
    commit_t c;
    assert_int_equal(client_commit_from_json(j, &c, f->why, sizeof f->why), CAIRN_EBAD_ENCODING);
    json_decref(j);
}

/* ------------------------------------------------------------ headers */

static void honest_header_is_accepted_and_becomes_trusted(void **state)
{
    fx_t *f = *state;
    header_t h;
    commit_t c;
    make_header(&h, f, 1, NULL, &f->vs, &f->vs);
    sign_header(&c, f, &h, &f->vs, NULL);
    assert_int_equal(update_text(f, &h, &c, NULL), CAIRN_OK);
    assert_int_equal(f->lc.height, 1);
    assert_memory_equal(f->lc.hash, c.block_id, HASH_BYTES);
    commit_free(&c);
}

static void same_validators_allow_a_jump_to_a_later_header(void **state)
{
    fx_t *f = *state;
    header_t h;
    commit_t c;
    uint8_t prev[HASH_BYTES];
    memset(prev, 9, HASH_BYTES);
    make_header(&h, f, 50, prev, &f->vs, &f->vs);
    sign_header(&c, f, &h, &f->vs, NULL);
    assert_int_equal(update_text(f, &h, &c, NULL), CAIRN_OK);
    assert_int_equal(f->lc.height, 50);
    commit_free(&c);
}

static void altered_header_field_is_caught(void **state)
{
    fx_t *f = *state;
    header_t h;
    commit_t c;
    make_header(&h, f, 1, NULL, &f->vs, &f->vs);
    sign_header(&c, f, &h, &f->vs, NULL);
    h.app_hash[5] ^= 1; /* after signing */
    assert_int_equal(update_text(f, &h, &c, NULL), CAIRN_EBAD_HASH);
    assert_why(f, "header hash does not match the commit");
    assert_int_equal(f->lc.height, 0);
    commit_free(&c);
}

static void bad_signature_names_the_validator(void **state)
{
    fx_t *f = *state;
    header_t h;
    commit_t c;
    make_header(&h, f, 1, NULL, &f->vs, &f->vs);
    sign_header(&c, f, &h, &f->vs, NULL);
    c.sigs[2].sig[10] ^= 0x40;
    assert_int_equal(update_text(f, &h, &c, NULL), CAIRN_EBAD_SIGNATURE);
    char addr[2 * ADDR_BYTES + 1], want[128];
    hex_encode_upper(addr, f->vs.v[2].address, ADDR_BYTES);
    snprintf(want, sizeof want, "bad signature from validator %s", addr);
    assert_why(f, want);
    commit_free(&c);
}

static void two_of_four_signatures_are_not_enough(void **state)
{
    fx_t *f = *state;
    header_t h;
    commit_t c;
    make_header(&h, f, 1, NULL, &f->vs, &f->vs);
    uint8_t flags[4] = {COMMIT_FOR_BLOCK, COMMIT_ABSENT, COMMIT_FOR_BLOCK, COMMIT_NIL};
    sign_header(&c, f, &h, &f->vs, flags);
    assert_int_equal(update_text(f, &h, &c, NULL), CAIRN_EBAD_COMMIT);
    assert_why(f, "commit signed by less than 2/3 of the validators");
    assert_why(f, "(20 of 40 voting power)");
    commit_free(&c);
}

static void header_signed_by_strangers_is_refused(void **state)
{
    fx_t *f = *state;
    valset_t other;
    int64_t powers[4] = {10, 10, 10, 10};
    validator_t vals[4];
    memset(vals, 0, sizeof vals);
    for (int i = 0; i < 4; i++) {
        keypair_t kp;
        fx_key(&kp, 10 + i);
        memcpy(vals[i].pub, kp.pub, PUBKEY_BYTES);
        vals[i].power = powers[i];
    }
    assert_int_equal(valset_init(&other, vals, 4), CAIRN_OK);
    header_t h;
    make_header(&h, f, 1, NULL, &other, &other);
    /* a forged header naming the strangers is refused before any signature */
    commit_t c;
    memset(&c, 0, sizeof c);
    c.height = 1;
    assert_int_equal(header_hash(&h, c.block_id), CAIRN_OK);
    assert_int_equal(update_text(f, &h, &c, NULL), CAIRN_EBAD_HASH);
    assert_why(f, "but the trusted validator set is");
}

static void validator_change_needs_the_matching_next_set(void **state)
{
    fx_t *f = *state;
    valset_t next;
    int64_t powers[3] = {5, 5, 5};
    fx_valset(&next, powers, 3);
    header_t h1, h2;
    commit_t c1, c2;
    make_header(&h1, f, 1, NULL, &f->vs, &next);
    sign_header(&c1, f, &h1, &f->vs, NULL);
    /* no next set given */
    assert_int_equal(update_text(f, &h1, &c1, NULL), CAIRN_EINVALID_ARG);
    /* a set that is not the one the header names */
    char *wrong = validators_text(&f->vs, 2);
    assert_int_equal(update_text(f, &h1, &c1, wrong), CAIRN_EBAD_HASH);
    assert_why(f, "does not match next_validators_hash");
    free(wrong);
    char *right = validators_text(&next, 2);
    assert_int_equal(update_text(f, &h1, &c1, right), CAIRN_OK);
    free(right);
    /* height 2 is signed by the new set and must link to header 1 */
    make_header(&h2, f, 2, f->lc.hash, &next, &next);
    sign_header(&c2, f, &h2, &next, NULL);
    assert_int_equal(update_text(f, &h2, &c2, NULL), CAIRN_OK);
    assert_int_equal(f->lc.height, 2);
    commit_free(&c1);
    commit_free(&c2);
}

static void skipping_across_a_validator_change_is_refused(void **state)
{
    fx_t *f = *state;
    valset_t next;
    int64_t powers[3] = {5, 5, 5};
    fx_valset(&next, powers, 3);
    header_t h;
    commit_t c;
    make_header(&h, f, 9, NULL, &next, &next);
    sign_header(&c, f, &h, &next, NULL);
    assert_int_equal(update_text(f, &h, &c, NULL), CAIRN_EBAD_VALIDATOR);
    assert_why(f, "verify the headers in between");
    commit_free(&c);
}

static void header_that_does_not_follow_the_trusted_one_is_refused(void **state)
{
    fx_t *f = *state;
    header_t h1, h2;
    commit_t c1, c2;
    make_header(&h1, f, 1, NULL, &f->vs, &f->vs);
    sign_header(&c1, f, &h1, &f->vs, NULL);
    assert_int_equal(update_text(f, &h1, &c1, NULL), CAIRN_OK);
    uint8_t other[HASH_BYTES];
    memset(other, 0x77, HASH_BYTES);
    make_header(&h2, f, 2, other, &f->vs, &f->vs);
    sign_header(&c2, f, &h2, &f->vs, NULL);
    assert_int_equal(update_text(f, &h2, &c2, NULL), CAIRN_EBAD_HASH);
    assert_why(f, "does not follow the trusted header 1");
    commit_free(&c1);
    commit_free(&c2);
}

static void later_header_with_an_earlier_time_is_refused(void **state)
{
    fx_t *f = *state;
    header_t h1, h2;
    commit_t c1, c2;
    make_header(&h1, f, 5, NULL, &f->vs, &f->vs);
    sign_header(&c1, f, &h1, &f->vs, NULL);
    assert_int_equal(update_text(f, &h1, &c1, NULL), CAIRN_OK);
    /* Properly signed by the trusted set, but its time goes back. */
    make_header(&h2, f, 9, NULL, &f->vs, &f->vs);
    h2.time_ns = h1.time_ns - 1;
    sign_header(&c2, f, &h2, &f->vs, NULL);
    assert_int_equal(update_text(f, &h2, &c2, NULL), CAIRN_EBAD_TIME);
    assert_why(f, "time does not move forward");
    assert_int_equal(f->lc.height, 5);
    commit_free(&c1);
    commit_free(&c2);
}

static void trusted_start_checks_the_hash_and_the_next_set(void **state)
{
    fx_t *f = *state;
    header_t h;
    commit_t c;
    make_header(&h, f, 20, NULL, &f->vs, &f->vs);
    sign_header(&c, f, &h, &f->vs, NULL);
    char *ct = commit_text(&h, &c);
    char *vt = validators_text(&f->vs, 21);
    light_t lc;
    uint8_t wrong[HASH_BYTES];
    memset(wrong, 1, HASH_BYTES);
    assert_int_equal(light_init_trusted_json(&lc, wrong, ct, vt, f->why, sizeof f->why),
                     CAIRN_EBAD_HASH);
    assert_why(f, "not the trusted hash");
    assert_int_equal(light_init_trusted_json(&lc, c.block_id, ct, vt, f->why, sizeof f->why),
                     CAIRN_OK);
    assert_int_equal(lc.height, 20);
    assert_string_equal(lc.chain_id.id, CID);
    free(ct);
    free(vt);
    commit_free(&c);
}

/* ------------------------------------------------------------ sync */

#define CHAIN_LEN 10
#define CHANGE_AT 5 /* set B signs from this height */

typedef struct {
    valset_t a, b;
    header_t h[CHAIN_LEN + 1];
    commit_t c[CHAIN_LEN + 1];
    int bad_sig_at;        /* 0: none */
    bool wrong_next_set;   /* valset_cb answers set A for CHANGE_AT */
    int fetched_headers;
} chain_fx;

static const valset_t *set_at(const chain_fx *cf, uint64_t h)
{
    return h >= CHANGE_AT ? &cf->b : &cf->a;
}

static void make_chain(chain_fx *cf, const fx_t *f)
{
    memset(cf, 0, sizeof *cf);
    cf->a = f->vs;
    validator_t vals[3];
    memset(vals, 0, sizeof vals);
    for (int i = 0; i < 3; i++) {
        keypair_t kp;
        fx_key(&kp, 4 + i);
        memcpy(vals[i].pub, kp.pub, PUBKEY_BYTES);
        vals[i].power = 5;
    }
    assert_int_equal(valset_init(&cf->b, vals, 3), CAIRN_OK);
    uint8_t prev[HASH_BYTES];
    for (uint64_t ht = 1; ht <= CHAIN_LEN; ht++) {
        make_header(&cf->h[ht], f, ht, ht > 1 ? prev : NULL, set_at(cf, ht), set_at(cf, ht + 1));
        sign_header(&cf->c[ht], f, &cf->h[ht], set_at(cf, ht), NULL);
        memcpy(prev, cf->c[ht].block_id, HASH_BYTES);
    }
}

static void free_chain(chain_fx *cf)
{
    for (int i = 1; i <= CHAIN_LEN; i++) commit_free(&cf->c[i]);
}

static cairn_err src_header(void *ctx, uint64_t height, header_t *h, commit_t *c, char *why,
                            size_t why_len)
{
    chain_fx *cf = ctx;
    (void)why;
    (void)why_len;
    if (height < 1 || height > CHAIN_LEN) return CAIRN_ENOT_FOUND;
    cf->fetched_headers++;
    *h = cf->h[height];
    *c = cf->c[height];
    c->sigs = malloc(c->n_sigs * sizeof *c->sigs);
    memcpy(c->sigs, cf->c[height].sigs, c->n_sigs * sizeof *c->sigs);
    if ((int)height == cf->bad_sig_at) c->sigs[1].sig[0] ^= 1;
    return CAIRN_OK;
}

static cairn_err src_valset(void *ctx, uint64_t height, valset_t *vs, char *why, size_t why_len)
{
    chain_fx *cf = ctx;
    (void)why;
    (void)why_len;
    *vs = cf->wrong_next_set && height == CHANGE_AT ? cf->a : *set_at(cf, height);
    return CAIRN_OK;
}

static void sync_walks_every_header_across_a_validator_change(void **state)
{
    fx_t *f = *state;
    chain_fx *cf = malloc(sizeof *cf);
    make_chain(cf, f);
    light_source_t src = {cf, src_header, src_valset};
    uint64_t n = 0;
    assert_int_equal(light_sync(&src, &f->lc, CHAIN_LEN, &n, f->why, sizeof f->why), CAIRN_OK);
    assert_int_equal(n, CHAIN_LEN);
    assert_int_equal(f->lc.height, CHAIN_LEN);
    uint8_t hb[HASH_BYTES];
    assert_int_equal(valset_hash(&cf->b, hb), CAIRN_OK);
    assert_memory_equal(f->lc.validators_hash, hb, HASH_BYTES);
    free_chain(cf);
    free(cf);
}

static void sync_jumps_while_the_set_is_unchanged(void **state)
{
    fx_t *f = *state;
    chain_fx *cf = malloc(sizeof *cf);
    make_chain(cf, f);
    light_source_t src = {cf, src_header, src_valset};
    uint64_t n = 0;
    assert_int_equal(light_sync(&src, &f->lc, 3, &n, f->why, sizeof f->why), CAIRN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(cf->fetched_headers, 1);
    assert_int_equal(f->lc.height, 3);
    free_chain(cf);
    free(cf);
}

static void sync_stops_at_a_forged_header_in_between(void **state)
{
    fx_t *f = *state;
    chain_fx *cf = malloc(sizeof *cf);
    make_chain(cf, f);
    cf->bad_sig_at = 7;
    light_source_t src = {cf, src_header, src_valset};
    assert_int_equal(light_sync(&src, &f->lc, CHAIN_LEN, NULL, f->why, sizeof f->why),
                     CAIRN_EBAD_SIGNATURE);
    assert_why(f, "in the commit at height 7");
    assert_int_equal(f->lc.height, 6);
    free_chain(cf);
    free(cf);
}

static void sync_refuses_a_next_set_that_does_not_match(void **state)
{
    fx_t *f = *state;
    chain_fx *cf = malloc(sizeof *cf);
    make_chain(cf, f);
    cf->wrong_next_set = true;
    light_source_t src = {cf, src_header, src_valset};
    assert_int_equal(light_sync(&src, &f->lc, CHAIN_LEN, NULL, f->why, sizeof f->why),
                     CAIRN_EBAD_HASH);
    assert_why(f, "does not match next_validators_hash");
    assert_int_equal(f->lc.height, CHANGE_AT - 2);
    free_chain(cf);
    free(cf);
}

static void sync_below_the_trusted_height_is_refused(void **state)
{
    fx_t *f = *state;
    chain_fx *cf = malloc(sizeof *cf);
    make_chain(cf, f);
    light_source_t src = {cf, src_header, src_valset};
    assert_int_equal(light_sync(&src, &f->lc, 3, NULL, f->why, sizeof f->why), CAIRN_OK);
    assert_int_equal(light_sync(&src, &f->lc, 2, NULL, f->why, sizeof f->why), CAIRN_EBAD_HEIGHT);
    assert_why(f, "below the trusted height 3");
    free_chain(cf);
    free(cf);
}

/* ------------------------------------------------------------ state proofs */

/* A one-leaf tree: its root is the leaf, its proof has depth 0. */
static void one_leaf(const uint8_t *key, size_t kn, const uint8_t *val, size_t vn,
                     uint8_t root[HASH_BYTES], uint8_t proof[2 + 2 * HASH_BYTES + 2])
{
    uint8_t kh[HASH_BYTES], vh[HASH_BYTES], leaf[1 + 2 * HASH_BYTES];
    hash_sha256(kh, key, kn);
    hash_sha256(vh, val, vn);
    leaf[0] = 0;
    memcpy(leaf + 1, kh, HASH_BYTES);
    memcpy(leaf + 1 + HASH_BYTES, vh, HASH_BYTES);
    hash_sha256(root, leaf, sizeof leaf);
    proof[0] = CAIRN_PROOF_VERSION;
    proof[1] = 1;
    memcpy(proof + 2, kh, HASH_BYTES);
    memcpy(proof + 2 + HASH_BYTES, vh, HASH_BYTES);
    proof[2 + 2 * HASH_BYTES] = 0;
    proof[3 + 2 * HASH_BYTES] = 0;
}

typedef struct {
    uint8_t addr[ADDR_BYTES];
    uint8_t value[17];
    uint8_t proof[2 + 2 * HASH_BYTES + 2];
    header_t next; /* header 8: state of height 7 */
    char *json;    /* the /abci_query result */
} qfx_t;

static void make_query(qfx_t *q, const fx_t *f)
{
    memset(q->addr, 0xab, ADDR_BYTES);
    memset(q->value, 0, sizeof q->value);
    q->value[0] = 1;
    q->value[1] = 100; /* balance 100 */
    uint8_t key[LIGHT_STATE_KEY_MAX];
    size_t kn;
    assert_int_equal(light_state_key("/account", q->addr, ADDR_BYTES, key, &kn), CAIRN_OK);
    make_header(&q->next, f, 8, NULL, &f->vs, &f->vs);
    one_leaf(key, kn, q->value, sizeof q->value, q->next.app_hash, q->proof);
    json_t *j = json_pack("{s:{s:i,s:s,s:s,s:o,s:o,s:{s:[{s:s,s:o,s:o}]},s:s}}", "response",
                          "code", 0, "log", "exists", "index", "0", "key",
                          json_chain_base64(key, kn), "value",
                          json_chain_base64(q->value, sizeof q->value), "proofOps", "ops", "type",
                          "cairn:smt", "key", json_chain_base64(key, kn), "data",
                          json_chain_base64(q->proof, sizeof q->proof), "height", "7");
    assert_non_null(j);
    q->json = json_dumps(j, JSON_COMPACT);
    json_decref(j);
}

static cairn_err verify_query_text(fx_t *f, const qfx_t *q, const char *text)
{
    light_query_t lq;
    cairn_err rc = light_query_from_json(&lq, text, f->why, sizeof f->why);
    if (rc) return rc;
    light_t lc = f->lc;
    lc.height = q->next.height;
    lc.header = q->next;
    rc = light_verify_query(&lc, "/account", q->addr, ADDR_BYTES, &lq, f->why, sizeof f->why);
    light_query_free(&lq);
    return rc;
}

static void proven_value_is_accepted(void **state)
{
    fx_t *f = *state;
    qfx_t q;
    make_query(&q, f);
    assert_int_equal(verify_query_text(f, &q, q.json), CAIRN_OK);
    free(q.json);
}

/* Replaces the first occurrence of `from` in q->json by `to` (same length). */
static char *edit(const char *text, const char *from, const char *to)
{
    char *s = strdup(text);
    char *p = strstr(s, from);
    assert_non_null(p);
    assert_int_equal(strlen(from), strlen(to));
    memcpy(p, to, strlen(to));
    return s;
}

static void altered_value_does_not_match_the_proof(void **state)
{
    fx_t *f = *state;
    qfx_t q;
    make_query(&q, f);
    /* balance 100 -> 101: base64 of 01 64 00.. is "AWQA", of 01 65 00.. "AWUA" */
    char *lie = edit(q.json, "\"value\":\"AWQA", "\"value\":\"AWUA");
    assert_int_equal(verify_query_text(f, &q, lie), CAIRN_EBAD_PROOF);
    assert_why(f, "value does not match the proof");
    free(lie);
    free(q.json);
}

static void altered_proof_does_not_reach_the_app_hash(void **state)
{
    fx_t *f = *state;
    qfx_t q;
    make_query(&q, f);
    q.next.app_hash[0] ^= 1; /* same as a proof leading elsewhere */
    assert_int_equal(verify_query_text(f, &q, q.json), CAIRN_EBAD_PROOF);
    assert_why(f, "app hash mismatch");
    free(q.json);
}

static void proof_for_another_height_is_stale(void **state)
{
    fx_t *f = *state;
    qfx_t q;
    make_query(&q, f);
    char *lie = edit(q.json, "\"height\":\"7\"", "\"height\":\"6\"");
    assert_int_equal(verify_query_text(f, &q, lie), CAIRN_EBAD_HEIGHT);
    assert_why(f, "proof is for height 6 but header 8");
    free(lie);
    free(q.json);
}

static void answer_without_proof_is_refused(void **state)
{
    fx_t *f = *state;
    qfx_t q;
    make_query(&q, f);
    json_t *j = json_loads(q.json, 0, NULL);
    json_object_del(json_object_get(j, "response"), "proofOps");
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_int_equal(verify_query_text(f, &q, s), CAIRN_EBAD_PROOF);
    assert_why(f, "no proof");
    free(s);
    free(q.json);
}

static void absent_claim_against_an_inclusion_proof_is_caught(void **state)
{
    fx_t *f = *state;
    qfx_t q;
    make_query(&q, f);
    json_t *j = json_loads(q.json, 0, NULL);
    json_object_set_new(json_object_get(j, "response"), "value", json_null());
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_int_equal(verify_query_text(f, &q, s), CAIRN_EBAD_PROOF);
    assert_why(f, "value does not match the proof");
    free(s);
    free(q.json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(header_survives_the_json_round_trip_with_its_hash),
        T(first_header_has_an_empty_last_block_id),
        T(commit_with_every_flag_survives_the_json_round_trip),
        T(validators_decode_to_the_same_set_hash),
        T(malformed_fields_are_named),
        T(too_many_commit_signatures_are_refused),
        T(honest_header_is_accepted_and_becomes_trusted),
        T(same_validators_allow_a_jump_to_a_later_header),
        T(altered_header_field_is_caught),
        T(bad_signature_names_the_validator),
        T(two_of_four_signatures_are_not_enough),
        T(header_signed_by_strangers_is_refused),
        T(validator_change_needs_the_matching_next_set),
        T(skipping_across_a_validator_change_is_refused),
        T(header_that_does_not_follow_the_trusted_one_is_refused),
        T(later_header_with_an_earlier_time_is_refused),
        T(trusted_start_checks_the_hash_and_the_next_set),
        T(sync_walks_every_header_across_a_validator_change),
        T(sync_jumps_while_the_set_is_unchanged),
        T(sync_stops_at_a_forged_header_in_between),
        T(sync_refuses_a_next_set_that_does_not_match),
        T(sync_below_the_trusted_height_is_refused),
        T(proven_value_is_accepted),
        T(altered_value_does_not_match_the_proof),
        T(altered_proof_does_not_reach_the_app_hash),
        T(proof_for_another_height_is_stale),
        T(answer_without_proof_is_refused),
        T(absent_claim_against_an_inclusion_proof_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
