/* fixture.h - deterministic keys, validator sets and signed objects shared by
 * the chain tests (header-only: each test binary includes it once). */
#ifndef CAIRN_TEST_CHAIN_FIXTURE_H
#define CAIRN_TEST_CHAIN_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "chain/chain.h"

/* Key number i: seed = 32 bytes of (i + 1). */
static inline void fx_key(keypair_t *kp, int i)
{
    uint8_t seed[SEED_BYTES];
    memset(seed, i + 1, sizeof seed);
    key_from_seed(kp, seed);
}

static inline void fx_chain_id(chain_id_t *cid, const char *s)
{
    assert_int_equal(chain_id_set(cid, s), CAIRN_OK);
}

/* A set of n validators with keys 0..n-1 and the given powers. */
static inline void fx_valset(valset_t *vs, const int64_t *powers, uint32_t n)
{
    validator_t vals[VALIDATORS_MAX];
    memset(vals, 0, sizeof vals);
    for (uint32_t i = 0; i < n; i++) {
        keypair_t kp;
        fx_key(&kp, (int)i);
        memcpy(vals[i].pub, kp.pub, PUBKEY_BYTES);
        vals[i].power = powers[i];
    }
    assert_int_equal(valset_init(vs, vals, n), CAIRN_OK);
}

/* The key (0..n-1) whose public key is vs->v[index]. */
static inline void fx_key_of(keypair_t *kp, const valset_t *vs, uint32_t index)
{
    for (int i = 0; i < VALIDATORS_MAX; i++) {
        fx_key(kp, i);
        if (memcmp(kp->pub, vs->v[index].pub, PUBKEY_BYTES) == 0) return;
    }
    fail_msg("no fixture key for validator %u", index);
}

static inline void fx_sign_vote(vote_t *v, const chain_id_t *cid, const keypair_t *kp)
{
    buf_t b;
    buf_init(&b, 0);
    assert_int_equal(vote_sign_bytes(v, cid, &b), CAIRN_OK);
    key_sign(v->sig, kp, b.data, b.len);
    buf_deinit(&b);
}

static inline void fx_vote(vote_t *v, const chain_id_t *cid, const valset_t *vs,
                           uint32_t index, uint8_t type, uint64_t height, uint32_t round,
                           const uint8_t *block_id)
{
    keypair_t kp;
    fx_key_of(&kp, vs, index);
    memset(v, 0, sizeof *v);
    v->type = type;
    v->height = height;
    v->round = round;
    if (block_id) memcpy(v->block_id, block_id, HASH_BYTES);
    v->time_ns = 1700000000000000000LL + (int64_t)height * 1000000000LL + index;
    memcpy(v->validator, vs->v[index].address, ADDR_BYTES);
    v->validator_index = index;
    fx_sign_vote(v, cid, &kp);
}

/* A commit for block_id at (height, round) over vs: slot i is flags[i]
 * (COMMIT_FOR_BLOCK, COMMIT_NIL or COMMIT_ABSENT), signed by key of slot i.
 * Free with commit_free(). */
static inline void fx_commit(commit_t *c, const chain_id_t *cid, const valset_t *vs,
                             uint64_t height, uint32_t round, const uint8_t *block_id,
                             const uint8_t *flags)
{
    memset(c, 0, sizeof *c);
    c->height = height;
    c->round = round;
    memcpy(c->block_id, block_id, HASH_BYTES);
    c->n_sigs = vs->count;
    c->sigs = calloc(vs->count, sizeof *c->sigs);
    assert_non_null(c->sigs);
    for (uint32_t i = 0; i < vs->count; i++) {
        commit_sig_t *s = &c->sigs[i];
        s->flag = flags[i];
        if (flags[i] == COMMIT_ABSENT) continue;
        vote_t v;
        fx_vote(&v, cid, vs, i, VOTE_PRECOMMIT, height, round,
                flags[i] == COMMIT_FOR_BLOCK ? block_id : NULL);
        memcpy(s->validator, v.validator, ADDR_BYTES);
        s->time_ns = v.time_ns;
        memcpy(s->sig, v.sig, SIG_BYTES);
    }
}

/* Validator `index` of vs signs two prevotes for different blocks. */
static inline void fx_evidence(evidence_t *e, const chain_id_t *cid, const valset_t *vs,
                               uint32_t index, uint64_t height, uint32_t round)
{
    uint8_t b1[HASH_BYTES], b2[HASH_BYTES];
    memset(b1, 0x11, HASH_BYTES);
    memset(b2, 0x22, HASH_BYTES);
    vote_t x, y;
    fx_vote(&x, cid, vs, index, VOTE_PREVOTE, height, round, b2);
    fx_vote(&y, cid, vs, index, VOTE_PREVOTE, height, round, b1);
    evidence_init(e, &x, &y);
}

/* A transfer from key k, signed. Encoded into out (caller frees out->data). */
static inline void fx_tx(buf_t *out, const chain_id_t *cid, int k, uint64_t nonce)
{
    keypair_t kp;
    fx_key(&kp, k);
    tx_t tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_VERSION;
    tx.type = TX_TRANSFER;
    memcpy(tx.sender, kp.pub, PUBKEY_BYTES);
    tx.nonce = nonce;
    tx.fee = 1;
    memset(tx.to, 0x42, ADDR_BYTES);
    tx.amount = 1000 + nonce;
    assert_int_equal(tx_sign(&tx, cid, &kp), CAIRN_OK);
    buf_init(out, 0);
    assert_int_equal(tx_encode(&tx, out), CAIRN_OK);
}

static inline int fx_setup(void **state)
{
    (void)state;
    return crypto_init() == CAIRN_OK ? 0 : -1;
}

#endif
