/* commit.c - commits (the precommits of one round for one block) and evidence
 * of double signing. Layouts in docs/formats.md ("Commit", "Evidence").
 *
 * A commit of height 0 is the empty commit a block of height 1 carries: round
 * 0, nil block id, no slots. Any other commit names a block and has
 * 1..VALIDATORS_MAX slots, one per validator of the set that signed it.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "chain/chain_int.h"

/* ------------------------------------------------------------------ commits */

static cairn_err commit_head_check(const commit_t *c, uint32_t n);

cairn_err commit_check(const commit_t *c)
{
    CAIRN_TRY(commit_head_check(c, c->n_sigs));
    if (c->n_sigs && !c->sigs) return CAIRN_EINVALID_ARG;
    for (uint32_t i = 0; i < c->n_sigs; i++)
        if (c->sigs[i].flag < COMMIT_ABSENT || c->sigs[i].flag > COMMIT_NIL)
            return CAIRN_ENONCANONICAL;
    return CAIRN_OK;
}

void commit_write(codec_writer *w, const commit_t *c)
{
    codec_put_u8(w, CHAIN_VERSION);
    codec_put_u64(w, c->height);
    codec_put_u32(w, c->round);
    codec_put_fixed(w, c->block_id, HASH_BYTES);
    codec_put_u32(w, c->n_sigs);
    for (uint32_t i = 0; i < c->n_sigs; i++) {
        const commit_sig_t *s = &c->sigs[i];
        codec_put_u8(w, s->flag);
        if (s->flag == COMMIT_ABSENT) continue;
        codec_put_fixed(w, s->validator, ADDR_BYTES);
        codec_put_i64(w, s->time_ns);
        codec_put_fixed(w, s->sig, SIG_BYTES);
    }
}

/* The reason a commit header (height, round, block id, slot count) is not
 * acceptable, or OK. */
static cairn_err commit_head_check(const commit_t *c, uint32_t n)
{
    if (c->height == 0)
        return (c->round != 0 || !bytes_is_zero(c->block_id, HASH_BYTES) || n != 0)
                   ? CAIRN_ENONCANONICAL
                   : CAIRN_OK;
    if (n > VALIDATORS_MAX) return CAIRN_ETOO_LARGE;
    if (n == 0 || bytes_is_zero(c->block_id, HASH_BYTES)) return CAIRN_EBAD_ENCODING;
    return CAIRN_OK;
}

static void commit_sig_read(codec_reader *r, commit_sig_t *s)
{
    s->flag = codec_get_u8(r);
    if (r->err) return;
    if (s->flag < COMMIT_ABSENT || s->flag > COMMIT_NIL) {
        codec_reader_fail(r, CAIRN_ENONCANONICAL);
        return;
    }
    if (s->flag == COMMIT_ABSENT) return;
    codec_get_fixed(r, s->validator, ADDR_BYTES);
    s->time_ns = codec_get_i64(r);
    codec_get_fixed(r, s->sig, SIG_BYTES);
}

void commit_read(codec_reader *r, commit_t *c)
{
    memset(c, 0, sizeof *c);
    uint8_t version = codec_get_u8(r);
    if (!r->err && version != CHAIN_VERSION) codec_reader_fail(r, CAIRN_EBAD_VERSION);
    c->height = codec_get_u64(r);
    c->round = codec_get_u32(r);
    codec_get_fixed(r, c->block_id, HASH_BYTES);
    uint32_t n = codec_get_u32(r);
    if (r->err) return;
    cairn_err rc = commit_head_check(c, n);
    if (rc == CAIRN_OK && n > codec_remaining(r)) rc = CAIRN_ETRUNCATED; /* >= 1 byte each */
    if (rc != CAIRN_OK || n == 0) {
        codec_reader_fail(r, rc);
        return;
    }
    c->sigs = calloc(n, sizeof *c->sigs);
    if (!c->sigs) {
        codec_reader_fail(r, CAIRN_ENOMEM);
        return;
    }
    c->n_sigs = n;
    for (uint32_t i = 0; i < n && !r->err; i++) commit_sig_read(r, &c->sigs[i]);
}

cairn_err commit_encode(const commit_t *c, buf_t *out)
{
    CAIRN_TRY(commit_check(c));
    size_t start = out->len;
    codec_writer w;
    codec_writer_init(&w, out);
    commit_write(&w, c);
    return chain_write_done(&w, out, start);
}

cairn_err commit_decode(commit_t *c, const uint8_t *p, size_t n)
{
    if (n == 0) return CAIRN_ETRUNCATED;
    if (p[0] != CHAIN_VERSION) return CAIRN_EBAD_VERSION;
    codec_reader r;
    codec_reader_init(&r, p, n);
    commit_t t;
    commit_read(&r, &t);
    cairn_err rc = codec_reader_finish(&r);
    if (rc != CAIRN_OK) {
        commit_free(&t);
        return rc;
    }
    *c = t;
    return CAIRN_OK;
}

void commit_free(commit_t *c)
{
    free(c->sigs);
    c->sigs = NULL;
    c->n_sigs = 0;
}

cairn_err commit_hash(const commit_t *c, uint8_t out[static HASH_BYTES])
{
    buf_t b;
    buf_init(&b, 0);
    cairn_err rc = commit_encode(c, &b);
    if (rc == CAIRN_OK) hash_sha256(out, b.data, b.len);
    buf_deinit(&b);
    return rc;
}

void commit_sig_to_vote(const commit_t *c, uint32_t index, vote_t *out)
{
    CAIRN_ASSERTF(index < c->n_sigs, "slot %u of %u", index, c->n_sigs);
    const commit_sig_t *s = &c->sigs[index];
    memset(out, 0, sizeof *out);
    out->type = VOTE_PRECOMMIT;
    out->height = c->height;
    out->round = c->round;
    if (s->flag == COMMIT_FOR_BLOCK) memcpy(out->block_id, c->block_id, HASH_BYTES);
    out->time_ns = s->time_ns;
    memcpy(out->validator, s->validator, ADDR_BYTES);
    out->validator_index = index;
    memcpy(out->sig, s->sig, SIG_BYTES);
}

cairn_err commit_verify(const commit_t *c, const chain_id_t *cid, const valset_t *vs,
                        uint64_t height, const uint8_t block_id[static HASH_BYTES])
{
    CAIRN_TRY(commit_check(c));
    if (c->height != height) return CAIRN_EBAD_HEIGHT;
    if (memcmp(c->block_id, block_id, HASH_BYTES) != 0) return CAIRN_EBAD_COMMIT;
    if (c->n_sigs != vs->count) return CAIRN_EBAD_COMMIT;
    int64_t tally = 0; /* <= total_power: cannot overflow */
    for (uint32_t i = 0; i < c->n_sigs; i++) {
        const commit_sig_t *s = &c->sigs[i];
        if (s->flag == COMMIT_ABSENT) continue;
        if (memcmp(s->validator, vs->v[i].address, ADDR_BYTES) != 0) return CAIRN_EBAD_VALIDATOR;
        vote_t v;
        commit_sig_to_vote(c, i, &v);
        CAIRN_TRY(vote_verify(&v, cid, vs->v[i].pub));
        if (s->flag == COMMIT_FOR_BLOCK) tally += vs->v[i].power;
    }
    return valset_has_quorum(vs, tally) ? CAIRN_OK : CAIRN_EBAD_COMMIT;
}

/* ------------------------------------------------------------------ evidence */

cairn_err evidence_check(const evidence_t *e)
{
    CAIRN_TRY(vote_check(&e->a));
    CAIRN_TRY(vote_check(&e->b));
    if (memcmp(e->a.block_id, e->b.block_id, HASH_BYTES) >= 0) return CAIRN_ENONCANONICAL;
    return CAIRN_OK;
}

void evidence_init(evidence_t *e, const vote_t *x, const vote_t *y)
{
    bool x_first = memcmp(x->block_id, y->block_id, HASH_BYTES) < 0;
    vote_t a = x_first ? *x : *y, b = x_first ? *y : *x;
    e->a = a;
    e->b = b;
}

void evidence_write(codec_writer *w, const evidence_t *e)
{
    codec_put_u8(w, CHAIN_VERSION);
    vote_write(w, &e->a);
    vote_write(w, &e->b);
}

void evidence_read(codec_reader *r, evidence_t *e)
{
    memset(e, 0, sizeof *e);
    uint8_t version = codec_get_u8(r);
    if (!r->err && version != CHAIN_VERSION) codec_reader_fail(r, CAIRN_EBAD_VERSION);
    vote_read(r, &e->a);
    vote_read(r, &e->b);
    if (!r->err && memcmp(e->a.block_id, e->b.block_id, HASH_BYTES) >= 0)
        codec_reader_fail(r, CAIRN_ENONCANONICAL);
}

cairn_err evidence_encode(const evidence_t *e, buf_t *out)
{
    CAIRN_TRY(evidence_check(e));
    size_t start = out->len;
    codec_writer w;
    codec_writer_init(&w, out);
    evidence_write(&w, e);
    return chain_write_done(&w, out, start);
}

cairn_err evidence_decode(evidence_t *e, const uint8_t *p, size_t n)
{
    if (n == 0) return CAIRN_ETRUNCATED;
    if (p[0] != CHAIN_VERSION) return CAIRN_EBAD_VERSION;
    codec_reader r;
    codec_reader_init(&r, p, n);
    evidence_t t;
    evidence_read(&r, &t);
    CAIRN_TRY(codec_reader_finish(&r));
    *e = t;
    return CAIRN_OK;
}

cairn_err evidence_hash(const evidence_t *e, uint8_t out[static HASH_BYTES])
{
    buf_t b;
    buf_init(&b, EVIDENCE_ENCODED_BYTES);
    cairn_err rc = evidence_encode(e, &b);
    if (rc == CAIRN_OK) hash_sha256(out, b.data, b.len);
    buf_deinit(&b);
    return rc;
}

cairn_err evidence_verify(const evidence_t *e, const chain_id_t *cid, const valset_t *vs)
{
    CAIRN_TRY(evidence_check(e));
    const vote_t *a = &e->a, *b = &e->b;
    if (a->type != b->type || a->height != b->height || a->round != b->round ||
        memcmp(a->validator, b->validator, ADDR_BYTES) != 0 ||
        memcmp(a->block_id, b->block_id, HASH_BYTES) == 0)
        return CAIRN_EBAD_EVIDENCE;
    int idx = valset_index_of(vs, a->validator);
    if (idx < 0) return CAIRN_EBAD_VALIDATOR;
    CAIRN_TRY(vote_verify(a, cid, vs->v[idx].pub));
    CAIRN_TRY(vote_verify(b, cid, vs->v[idx].pub));
    return CAIRN_OK;
}
