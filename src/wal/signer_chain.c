/* signer_chain.c - signing votes and proposals (signer.h): builds their sign
 * bytes with chain.h and applies the timestamp rule (signer.h, rule 4). Kept
 * apart from signer.c so the signing-state core links without the chain module. */
#include <string.h>

#include "wal/signer.h"
#include "wal/wal_int.h"

/* ------------------------------------------------------------ votes, proposals */

#define SIGN_BYTES_MAX 1024

cairn_err signer_sign_vote(signer_t *s, vote_t *v, const chain_id_t *cid)
{
    uint8_t step;
    if (v->type == VOTE_PREVOTE) step = SIGNER_STEP_PREVOTE;
    else if (v->type == VOTE_PRECOMMIT) step = SIGNER_STEP_PRECOMMIT;
    else return CAIRN_EINVALID_ARG;
    signer_state_t st;
    signer_state_get(s, &st);
    buf_t b, alt;
    buf_init(&b, SIGN_BYTES_MAX);
    buf_init(&alt, SIGN_BYTES_MAX);
    uint8_t alt_hash[HASH_BYTES];
    const uint8_t *alt_p = NULL;
    cairn_err rc = vote_sign_bytes(v, cid, &b);
    if (rc != CAIRN_OK) goto out;
    if (v->height == st.height && v->round == st.round && step == st.step &&
        v->time_ns != st.time_ns) {
        vote_t old = *v;
        old.time_ns = st.time_ns;
        rc = vote_sign_bytes(&old, cid, &alt);
        if (rc != CAIRN_OK) goto out;
        hash_sha256(alt_hash, alt.data, alt.len);
        alt_p = alt_hash;
    }
    uint8_t sig[SIG_BYTES];
    bool old_time = false;
    rc = signer_sign_checked(s, v->height, v->round, step, b.data, b.len, v->time_ns, alt_p, sig,
                      &old_time);
    if (rc != CAIRN_OK) goto out;
    if (old_time) v->time_ns = st.time_ns;
    memcpy(v->sig, sig, SIG_BYTES);
out:
    buf_deinit(&b);
    buf_deinit(&alt);
    return rc;
}

cairn_err signer_sign_proposal(signer_t *s, proposal_t *p, const chain_id_t *cid)
{
    const uint8_t step = SIGNER_STEP_PROPOSAL;
    signer_state_t st;
    signer_state_get(s, &st);
    buf_t b, alt;
    buf_init(&b, SIGN_BYTES_MAX);
    buf_init(&alt, SIGN_BYTES_MAX);
    uint8_t alt_hash[HASH_BYTES];
    const uint8_t *alt_p = NULL;
    cairn_err rc = proposal_sign_bytes(p, cid, &b);
    if (rc != CAIRN_OK) goto out;
    if (p->height == st.height && p->round == st.round && step == st.step &&
        p->time_ns != st.time_ns) {
        proposal_t old = *p;
        old.time_ns = st.time_ns;
        rc = proposal_sign_bytes(&old, cid, &alt);
        if (rc != CAIRN_OK) goto out;
        hash_sha256(alt_hash, alt.data, alt.len);
        alt_p = alt_hash;
    }
    uint8_t sig[SIG_BYTES];
    bool old_time = false;
    rc = signer_sign_checked(s, p->height, p->round, step, b.data, b.len, p->time_ns, alt_p, sig,
                      &old_time);
    if (rc != CAIRN_OK) goto out;
    if (old_time) p->time_ns = st.time_ns;
    memcpy(p->sig, sig, SIG_BYTES);
out:
    buf_deinit(&b);
    buf_deinit(&alt);
    return rc;
}
