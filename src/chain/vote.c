/* vote.c - votes and proposals: encodings, sign bytes, signatures.
 * Layouts in docs/formats.md ("Vote", "Proposal"). */
#include <string.h>

#include "chain/chain_int.h"

/* ------------------------------------------------------------------ votes */

cairn_err vote_check(const vote_t *v)
{
    if (v->type != VOTE_PREVOTE && v->type != VOTE_PRECOMMIT) return CAIRN_EBAD_TYPE;
    if (v->height == 0) return CAIRN_EBAD_HEIGHT;
    return CAIRN_OK;
}

void vote_write(codec_writer *w, const vote_t *v)
{
    codec_put_u8(w, CHAIN_VERSION);
    codec_put_u8(w, v->type);
    codec_put_u64(w, v->height);
    codec_put_u32(w, v->round);
    codec_put_fixed(w, v->block_id, HASH_BYTES);
    codec_put_i64(w, v->time_ns);
    codec_put_fixed(w, v->validator, ADDR_BYTES);
    codec_put_u32(w, v->validator_index);
    codec_put_fixed(w, v->sig, SIG_BYTES);
}

void vote_read(codec_reader *r, vote_t *v)
{
    memset(v, 0, sizeof *v);
    uint8_t version = codec_get_u8(r);
    if (!r->err && version != CHAIN_VERSION) codec_reader_fail(r, CAIRN_EBAD_VERSION);
    v->type = codec_get_u8(r);
    if (!r->err && v->type != VOTE_PREVOTE && v->type != VOTE_PRECOMMIT)
        codec_reader_fail(r, CAIRN_EBAD_TYPE);
    v->height = codec_get_u64(r);
    if (!r->err && v->height == 0) codec_reader_fail(r, CAIRN_EBAD_HEIGHT);
    v->round = codec_get_u32(r);
    codec_get_fixed(r, v->block_id, HASH_BYTES);
    v->time_ns = codec_get_i64(r);
    codec_get_fixed(r, v->validator, ADDR_BYTES);
    v->validator_index = codec_get_u32(r);
    codec_get_fixed(r, v->sig, SIG_BYTES);
}

cairn_err vote_encode(const vote_t *v, buf_t *out)
{
    CAIRN_TRY(vote_check(v));
    size_t start = out->len;
    codec_writer w;
    codec_writer_init(&w, out);
    vote_write(&w, v);
    return chain_write_done(&w, out, start);
}

cairn_err vote_decode(vote_t *v, const uint8_t *p, size_t n)
{
    if (n == 0) return CAIRN_ETRUNCATED;
    if (p[0] != CHAIN_VERSION) return CAIRN_EBAD_VERSION;
    codec_reader r;
    codec_reader_init(&r, p, n);
    vote_t t;
    vote_read(&r, &t);
    CAIRN_TRY(codec_reader_finish(&r));
    *v = t;
    return CAIRN_OK;
}

cairn_err vote_sign_bytes(const vote_t *v, const chain_id_t *cid, buf_t *out)
{
    CAIRN_TRY(vote_check(v));
    size_t start = out->len;
    codec_writer w;
    codec_writer_init(&w, out);
    chain_put_domain(&w, TAG_VOTE, cid);
    codec_put_u8(&w, v->type);
    codec_put_u64(&w, v->height);
    codec_put_u32(&w, v->round);
    codec_put_fixed(&w, v->block_id, HASH_BYTES);
    codec_put_i64(&w, v->time_ns);
    return chain_write_done(&w, out, start);
}

cairn_err vote_verify(const vote_t *v, const chain_id_t *cid,
                      const uint8_t pub[static PUBKEY_BYTES])
{
    uint8_t addr[ADDR_BYTES];
    key_address(addr, pub);
    if (memcmp(addr, v->validator, ADDR_BYTES) != 0) return CAIRN_EBAD_VALIDATOR;
    buf_t b;
    buf_init(&b, 256);
    cairn_err rc = vote_sign_bytes(v, cid, &b);
    if (rc == CAIRN_OK) rc = key_verify(v->sig, pub, b.data, b.len);
    buf_deinit(&b);
    return rc;
}

bool vote_is_nil(const vote_t *v) { return bytes_is_zero(v->block_id, HASH_BYTES); }

/* ------------------------------------------------------------------ proposals */

static cairn_err proposal_check(const proposal_t *p)
{
    if (p->height == 0) return CAIRN_EBAD_HEIGHT;
    if (p->pol_round < -1 || (p->pol_round >= 0 && (uint32_t)p->pol_round >= p->round))
        return CAIRN_EBAD_ENCODING;
    if (bytes_is_zero(p->block_id, HASH_BYTES)) return CAIRN_EBAD_ENCODING;
    return CAIRN_OK;
}

cairn_err proposal_encode(const proposal_t *p, buf_t *out)
{
    CAIRN_TRY(proposal_check(p));
    size_t start = out->len;
    codec_writer w;
    codec_writer_init(&w, out);
    codec_put_u8(&w, CHAIN_VERSION);
    codec_put_u64(&w, p->height);
    codec_put_u32(&w, p->round);
    codec_put_u32(&w, (uint32_t)p->pol_round);
    codec_put_fixed(&w, p->block_id, HASH_BYTES);
    codec_put_i64(&w, p->time_ns);
    codec_put_fixed(&w, p->proposer, ADDR_BYTES);
    codec_put_fixed(&w, p->sig, SIG_BYTES);
    return chain_write_done(&w, out, start);
}

cairn_err proposal_decode(proposal_t *p, const uint8_t *b, size_t n)
{
    if (n == 0) return CAIRN_ETRUNCATED;
    if (b[0] != CHAIN_VERSION) return CAIRN_EBAD_VERSION;
    codec_reader r;
    codec_reader_init(&r, b, n);
    proposal_t t;
    memset(&t, 0, sizeof t);
    (void)codec_get_u8(&r);
    t.height = codec_get_u64(&r);
    t.round = codec_get_u32(&r);
    t.pol_round = (int32_t)codec_get_u32(&r);
    codec_get_fixed(&r, t.block_id, HASH_BYTES);
    t.time_ns = codec_get_i64(&r);
    codec_get_fixed(&r, t.proposer, ADDR_BYTES);
    codec_get_fixed(&r, t.sig, SIG_BYTES);
    CAIRN_TRY(r.err);
    CAIRN_TRY(proposal_check(&t));
    CAIRN_TRY(codec_reader_finish(&r));
    *p = t;
    return CAIRN_OK;
}

cairn_err proposal_sign_bytes(const proposal_t *p, const chain_id_t *cid, buf_t *out)
{
    CAIRN_TRY(proposal_check(p));
    size_t start = out->len;
    codec_writer w;
    codec_writer_init(&w, out);
    chain_put_domain(&w, TAG_PROPOSAL, cid);
    codec_put_u64(&w, p->height);
    codec_put_u32(&w, p->round);
    codec_put_u32(&w, (uint32_t)p->pol_round);
    codec_put_fixed(&w, p->block_id, HASH_BYTES);
    codec_put_i64(&w, p->time_ns);
    return chain_write_done(&w, out, start);
}

cairn_err proposal_verify(const proposal_t *p, const chain_id_t *cid,
                          const uint8_t pub[static PUBKEY_BYTES])
{
    uint8_t addr[ADDR_BYTES];
    key_address(addr, pub);
    if (memcmp(addr, p->proposer, ADDR_BYTES) != 0) return CAIRN_EBAD_VALIDATOR;
    buf_t b;
    buf_init(&b, 256);
    cairn_err rc = proposal_sign_bytes(p, cid, &b);
    if (rc == CAIRN_OK) rc = key_verify(p->sig, pub, b.data, b.len);
    buf_deinit(&b);
    return rc;
}
