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

static inline int fx_setup(void **state)
{
    (void)state;
    return crypto_init() == CAIRN_OK ? 0 : -1;
}

#endif
