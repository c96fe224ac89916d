/* signer_chain.c - signing votes and proposals (signer.h): builds their sign
 * bytes with chain.h and applies the timestamp rule (signer.h, rule 4). Kept
 * apart from signer.c so the signing-state core links without the chain module. */
#include <string.h>

#include "wal/signer.h"
#include "wal/wal_int.h"

/* ------------------------------------------------------------ votes, proposals */

#define SIGN_BYTES_MAX 1024

/* Sign bytes of msg with its time replaced by time_ns. */
typedef cairn_err (*sign_bytes_at_fn)(const void *msg, const chain_id_t *cid, int64_t time_ns,
                                      buf_t *out);

static cairn_err vote_bytes_at(const void *msg, const chain_id_t *cid, int64_t time_ns, buf_t *out)
{
    vote_t v = *(const vote_t *)msg;
    v.time_ns = time_ns;
    return vote_sign_bytes(&v, cid, out);
}

static cairn_err proposal_bytes_at(const void *msg, const chain_id_t *cid, int64_t time_ns,
                                   buf_t *out)
{
    proposal_t p = *(const proposal_t *)msg;
    p.time_ns = time_ns;
    return proposal_sign_bytes(&p, cid, out);
}

/* The one path for votes and proposals: sign bytes, and (rule 4) the sign bytes
 * with the last signed timestamp, so a message differing only in its time gets
 * the old signature back and *time_ns is set to the old time. */
static cairn_err sign_msg(signer_t *s, const void *msg, sign_bytes_at_fn bytes_at,
                          const chain_id_t *cid, uint64_t height, uint32_t round, uint8_t step,
                          int64_t *time_ns, uint8_t sig_out[static SIG_BYTES])
{
    signer_state_t st;
    signer_state_get(s, &st);
    buf_t b, alt;
    buf_init(&b, SIGN_BYTES_MAX);
    buf_init(&alt, SIGN_BYTES_MAX);
    uint8_t alt_hash[HASH_BYTES];
    const uint8_t *alt_p = NULL;
    cairn_err rc = bytes_at(msg, cid, *time_ns, &b);
    if (rc != CAIRN_OK) goto out;
    if (height == st.height && round == st.round && step == st.step && *time_ns != st.time_ns) {
        rc = bytes_at(msg, cid, st.time_ns, &alt);
        if (rc != CAIRN_OK) goto out;
        hash_sha256(alt_hash, alt.data, alt.len);
        alt_p = alt_hash;
    }
    uint8_t sig[SIG_BYTES];
    bool old_time = false;
    rc = signer_sign_checked(s, height, round, step, b.data, b.len, *time_ns, alt_p, sig, &old_time);
    if (rc != CAIRN_OK) goto out;
    if (old_time) *time_ns = st.time_ns;
    memcpy(sig_out, sig, SIG_BYTES);
out:
    buf_deinit(&b);
    buf_deinit(&alt);
    return rc;
}

cairn_err signer_sign_vote(signer_t *s, vote_t *v, const chain_id_t *cid)
{
    uint8_t step;
    if (v->type == VOTE_PREVOTE) step = SIGNER_STEP_PREVOTE;
    else if (v->type == VOTE_PRECOMMIT) step = SIGNER_STEP_PRECOMMIT;
    else return CAIRN_EINVALID_ARG;
    return sign_msg(s, v, vote_bytes_at, cid, v->height, v->round, step, &v->time_ns, v->sig);
}

cairn_err signer_sign_proposal(signer_t *s, proposal_t *p, const chain_id_t *cid)
{
    return sign_msg(s, p, proposal_bytes_at, cid, p->height, p->round, SIGNER_STEP_PROPOSAL,
                    &p->time_ns, p->sig);
}
