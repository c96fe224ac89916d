/* block.c - headers, blocks and block validation against the chain state.
 * Layouts in docs/formats.md ("Header", "Block").
 *
 * A decoded block owns all its memory (block_free); block_validate is pure and
 * allocates only scratch memory for hashes.
 */
#include <stdlib.h>
#include <string.h>

#include "chain/chain_int.h"

#define HEADER_HASHES 8

/* ------------------------------------------------------------------ headers */

cairn_err header_check(const header_t *h)
{
    if (h->version != CHAIN_VERSION) return CAIRN_EBAD_VERSION;
    if (!chain_id_bytes_valid((const uint8_t *)h->chain_id.id, h->chain_id.len))
        return CAIRN_EBAD_ENCODING;
    if (h->height == 0) return CAIRN_EBAD_HEIGHT;
    return CAIRN_OK;
}

void header_write(codec_writer *w, const header_t *h)
{
    codec_put_u8(w, h->version);
    codec_put_bytes(w, h->chain_id.id, h->chain_id.len);
    codec_put_u64(w, h->height);
    codec_put_i64(w, h->time_ns);
    codec_put_fixed(w, h->last_block_id, HASH_BYTES);
    codec_put_fixed(w, h->last_commit_hash, HASH_BYTES);
    codec_put_fixed(w, h->data_hash, HASH_BYTES);
    codec_put_fixed(w, h->validators_hash, HASH_BYTES);
    codec_put_fixed(w, h->next_validators_hash, HASH_BYTES);
    codec_put_fixed(w, h->app_hash, HASH_BYTES);
    codec_put_fixed(w, h->results_hash, HASH_BYTES);
    codec_put_fixed(w, h->evidence_hash, HASH_BYTES);
    codec_put_fixed(w, h->proposer, ADDR_BYTES);
}

void header_read(codec_reader *r, header_t *h)
{
    memset(h, 0, sizeof *h);
    h->version = codec_get_u8(r);
    if (!r->err && h->version != CHAIN_VERSION) codec_reader_fail(r, CAIRN_EBAD_VERSION);
    chain_id_read(r, &h->chain_id);
    h->height = codec_get_u64(r);
    if (!r->err && h->height == 0) codec_reader_fail(r, CAIRN_EBAD_HEIGHT);
    h->time_ns = codec_get_i64(r);
    codec_get_fixed(r, h->last_block_id, HASH_BYTES);
    codec_get_fixed(r, h->last_commit_hash, HASH_BYTES);
    codec_get_fixed(r, h->data_hash, HASH_BYTES);
    codec_get_fixed(r, h->validators_hash, HASH_BYTES);
    codec_get_fixed(r, h->next_validators_hash, HASH_BYTES);
    codec_get_fixed(r, h->app_hash, HASH_BYTES);
    codec_get_fixed(r, h->results_hash, HASH_BYTES);
    codec_get_fixed(r, h->evidence_hash, HASH_BYTES);
    codec_get_fixed(r, h->proposer, ADDR_BYTES);
}

cairn_err header_encode(const header_t *h, buf_t *out)
{
    CAIRN_TRY(header_check(h));
    size_t start = out->len;
    codec_writer w;
    codec_writer_init(&w, out);
    header_write(&w, h);
    return chain_write_done(&w, out, start);
}

cairn_err header_decode(header_t *h, const uint8_t *p, size_t n)
{
    if (n == 0) return CAIRN_ETRUNCATED;
    if (p[0] != CHAIN_VERSION) return CAIRN_EBAD_VERSION;
    codec_reader r;
    codec_reader_init(&r, p, n);
    header_t t;
    header_read(&r, &t);
    CAIRN_TRY(codec_reader_finish(&r));
    *h = t;
    return CAIRN_OK;
}

cairn_err header_hash(const header_t *h, uint8_t out[static HASH_BYTES])
{
    buf_t b;
    buf_init(&b, 1024);
    cairn_err rc = header_encode(h, &b);
    if (rc == CAIRN_OK) hash_sha256(out, b.data, b.len);
    buf_deinit(&b);
    return rc;
}

/* ------------------------------------------------------------------ blocks */

static cairn_err block_check(const block_t *b)
{
    CAIRN_TRY(header_check(&b->header));
    if (b->n_txs > BLOCK_TXS_MAX || b->n_evidence > EVIDENCE_MAX) return CAIRN_ETOO_LARGE;
    if ((b->n_txs && !b->txs) || (b->n_evidence && !b->evidence)) return CAIRN_EINVALID_ARG;
    for (uint32_t i = 0; i < b->n_txs; i++)
        if (b->txs[i].len > TX_BYTES_MAX) return CAIRN_ETOO_LARGE;
    for (uint32_t i = 0; i < b->n_evidence; i++) CAIRN_TRY(evidence_check(&b->evidence[i]));
    return commit_check(&b->last_commit);
}

static void block_write(codec_writer *w, const block_t *b)
{
    header_write(w, &b->header);
    codec_put_u32(w, b->n_txs);
    for (uint32_t i = 0; i < b->n_txs; i++) codec_put_bytes(w, b->txs[i].p, b->txs[i].len);
    codec_put_u32(w, b->n_evidence);
    for (uint32_t i = 0; i < b->n_evidence; i++) evidence_write(w, &b->evidence[i]);
    commit_write(w, &b->last_commit);
}

cairn_err block_encode(const block_t *b, buf_t *out)
{
    CAIRN_TRY(block_check(b));
    size_t start = out->len;
    codec_writer w;
    codec_writer_init(&w, out);
    block_write(&w, b);
    if (!w.err && out->len - start > BLOCK_BYTES_MAX) w.err = CAIRN_ETOO_LARGE;
    return chain_write_done(&w, out, start);
}

void block_free(block_t *b)
{
    free(b->txs);
    free(b->evidence);
    commit_free(&b->last_commit);
    free(b->owned);
    b->txs = NULL;
    b->evidence = NULL;
    b->owned = NULL;
    b->n_txs = b->n_evidence = 0;
}

/* Reads the tx list as views into the input, then copies the bytes into one
 * owned buffer so the block outlives its input. */
static void block_txs_read(codec_reader *r, block_t *b)
{
    uint32_t n = codec_get_u32(r);
    if (r->err) return;
    if (n > BLOCK_TXS_MAX) {
        codec_reader_fail(r, CAIRN_ETOO_LARGE);
        return;
    }
    if (n > codec_remaining(r) / 4) {
        codec_reader_fail(r, CAIRN_ETRUNCATED);
        return;
    }
    if (n == 0) return;
    b->txs = calloc(n, sizeof *b->txs);
    if (!b->txs) {
        codec_reader_fail(r, CAIRN_ENOMEM);
        return;
    }
    b->n_txs = n;
    size_t total = 0;
    for (uint32_t i = 0; i < n && !r->err; i++) {
        uint32_t len;
        codec_get_bytes(r, &b->txs[i].p, &len, TX_BYTES_MAX);
        b->txs[i].len = len;
        total += len;
    }
    if (r->err) return;
    b->owned = malloc(total ? total : 1);
    if (!b->owned) {
        codec_reader_fail(r, CAIRN_ENOMEM);
        return;
    }
    size_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (b->txs[i].len) memcpy(b->owned + off, b->txs[i].p, b->txs[i].len);
        b->txs[i].p = b->owned + off;
        off += b->txs[i].len;
    }
}

static void block_evidence_read(codec_reader *r, block_t *b)
{
    uint32_t n = codec_get_u32(r);
    if (r->err || n == 0) return;
    if (n > EVIDENCE_MAX) {
        codec_reader_fail(r, CAIRN_ETOO_LARGE);
        return;
    }
    if (n > codec_remaining(r) / EVIDENCE_ENCODED_BYTES)
        {
        codec_reader_fail(r, CAIRN_ETRUNCATED);
        return;
    }
    b->evidence = calloc(n, sizeof *b->evidence);
    if (!b->evidence) {
        codec_reader_fail(r, CAIRN_ENOMEM);
        return;
    }
    b->n_evidence = n;
    for (uint32_t i = 0; i < n && !r->err; i++) evidence_read(r, &b->evidence[i]);
}

cairn_err block_decode(block_t *b, const uint8_t *p, size_t n)
{
    if (n == 0) return CAIRN_ETRUNCATED;
    if (p[0] != CHAIN_VERSION) return CAIRN_EBAD_VERSION;
    if (n > BLOCK_BYTES_MAX) return CAIRN_ETOO_LARGE;
    codec_reader r;
    codec_reader_init(&r, p, n);
    block_t t;
    memset(&t, 0, sizeof t);
    header_read(&r, &t.header);
    block_txs_read(&r, &t);
    block_evidence_read(&r, &t);
    if (!r.err) commit_read(&r, &t.last_commit);
    cairn_err rc = codec_reader_finish(&r);
    if (rc != CAIRN_OK) {
        block_free(&t);
        return rc;
    }
    *b = t;
    return CAIRN_OK;
}

/* Merkle root whose leaves are the given 32-byte hashes (as byte strings). */
static cairn_err root_of_hashes(uint8_t out[static HASH_BYTES], uint8_t (*h)[HASH_BYTES],
                                uint32_t n)
{
    bytes_view *leaves = calloc(n ? n : 1, sizeof *leaves);
    if (!leaves) return CAIRN_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        leaves[i].p = h[i];
        leaves[i].len = HASH_BYTES;
    }
    cairn_err rc = merkle_root(out, leaves, n);
    free(leaves);
    return rc;
}

cairn_err block_data_hash(const block_t *b, uint8_t out[static HASH_BYTES])
{
    if (b->n_txs > BLOCK_TXS_MAX) return CAIRN_ETOO_LARGE;
    uint8_t(*h)[HASH_BYTES] = calloc(b->n_txs ? b->n_txs : 1, HASH_BYTES);
    if (!h) return CAIRN_ENOMEM;
    for (uint32_t i = 0; i < b->n_txs; i++) tx_hash(h[i], b->txs[i].p, b->txs[i].len);
    cairn_err rc = root_of_hashes(out, h, b->n_txs);
    free(h);
    return rc;
}

cairn_err block_evidence_hash(const block_t *b, uint8_t out[static HASH_BYTES])
{
    if (b->n_evidence > EVIDENCE_MAX) return CAIRN_ETOO_LARGE;
    uint8_t h[EVIDENCE_MAX][HASH_BYTES];
    for (uint32_t i = 0; i < b->n_evidence; i++) CAIRN_TRY(evidence_hash(&b->evidence[i], h[i]));
    return root_of_hashes(out, h, b->n_evidence);
}

/* The encoded size, without encoding: header, counts, txs, evidence, commit. */
static size_t block_size(const block_t *b)
{
    size_t n = 1 + 4 + b->header.chain_id.len + 8 + 8 + HEADER_HASHES * HASH_BYTES + ADDR_BYTES;
    n += 4 + 4 + (size_t)b->n_evidence * EVIDENCE_ENCODED_BYTES;
    for (uint32_t i = 0; i < b->n_txs; i++) n += 4 + (size_t)b->txs[i].len;
    n += 1 + 8 + 4 + HASH_BYTES + 4;
    for (uint32_t i = 0; i < b->last_commit.n_sigs; i++)
        n += b->last_commit.sigs[i].flag == COMMIT_ABSENT ? 1 : 1 + ADDR_BYTES + 8 + SIG_BYTES;
    return n;
}

cairn_err block_assemble(block_t *b, const header_t *h, const bytes_view *txs, uint32_t n_txs,
                         const evidence_t *ev, uint32_t n_ev, const commit_t *last_commit)
{
    if (n_txs > BLOCK_TXS_MAX || n_ev > EVIDENCE_MAX) return CAIRN_ETOO_LARGE;
    block_t t;
    memset(&t, 0, sizeof t);
    t.header = *h;
    size_t total = 0;
    for (uint32_t i = 0; i < n_txs; i++) {
        if (txs[i].len > TX_BYTES_MAX) return CAIRN_ETOO_LARGE;
        total += txs[i].len;
    }
    cairn_err rc = CAIRN_ENOMEM;
    t.txs = calloc(n_txs ? n_txs : 1, sizeof *t.txs);
    t.owned = malloc(total ? total : 1);
    t.evidence = calloc(n_ev ? n_ev : 1, sizeof *t.evidence);
    if (!t.txs || !t.owned || !t.evidence) goto out;
    if (last_commit->n_sigs) {
        t.last_commit.sigs = calloc(last_commit->n_sigs, sizeof(commit_sig_t));
        if (!t.last_commit.sigs) goto out;
        memcpy(t.last_commit.sigs, last_commit->sigs, last_commit->n_sigs * sizeof(commit_sig_t));
    }
    t.last_commit.height = last_commit->height;
    t.last_commit.round = last_commit->round;
    memcpy(t.last_commit.block_id, last_commit->block_id, HASH_BYTES);
    t.last_commit.n_sigs = last_commit->n_sigs;
    size_t off = 0;
    for (uint32_t i = 0; i < n_txs; i++) {
        if (txs[i].len) memcpy(t.owned + off, txs[i].p, txs[i].len);
        t.txs[i].p = t.owned + off;
        t.txs[i].len = txs[i].len;
        off += txs[i].len;
    }
    t.n_txs = n_txs;
    if (n_ev) memcpy(t.evidence, ev, n_ev * sizeof *ev);
    t.n_evidence = n_ev;
    rc = block_data_hash(&t, t.header.data_hash);
    if (rc == CAIRN_OK) rc = block_evidence_hash(&t, t.header.evidence_hash);
    if (rc == CAIRN_OK) rc = commit_hash(&t.last_commit, t.header.last_commit_hash);
    if (rc == CAIRN_OK && block_size(&t) > BLOCK_BYTES_MAX) rc = CAIRN_ETOO_LARGE;
out:
    if (rc != CAIRN_OK) {
        block_free(&t);
        return rc;
    }
    *b = t;
    return CAIRN_OK;
}

/* ------------------------------------------------------------------ validation */

static cairn_err validate_header(const header_t *h, const chain_state_t *st)
{
    if (h->version != CHAIN_VERSION) return CAIRN_EBAD_VERSION;
    if (!chain_id_equal(&h->chain_id, &st->chain_id)) return CAIRN_EBAD_CHAIN_ID;
    if (st->last_height == UINT64_MAX || h->height != st->last_height + 1)
        return CAIRN_EBAD_HEIGHT;
    if (memcmp(h->last_block_id, st->last_block_id, HASH_BYTES) != 0) return CAIRN_EBAD_HASH;
    /* the first block may carry the genesis time itself (CometBFT's rule) */
    if (h->height == 1 ? h->time_ns < st->last_time_ns : h->time_ns <= st->last_time_ns)
        return CAIRN_EBAD_TIME;
    uint8_t vh[HASH_BYTES];
    CAIRN_TRY(valset_hash(&st->validators, vh));
    if (memcmp(h->validators_hash, vh, HASH_BYTES) != 0) return CAIRN_EBAD_HASH;
    if (memcmp(h->next_validators_hash, st->next_validators_hash, HASH_BYTES) != 0 ||
        memcmp(h->app_hash, st->app_hash, HASH_BYTES) != 0 ||
        memcmp(h->results_hash, st->last_results_hash, HASH_BYTES) != 0)
        return CAIRN_EBAD_HASH;
    if (valset_index_of(&st->validators, h->proposer) < 0) return CAIRN_EBAD_PROPOSER;
    return CAIRN_OK;
}

static cairn_err validate_body(const block_t *b)
{
    if (b->n_txs > BLOCK_TXS_MAX || b->n_evidence > EVIDENCE_MAX) return CAIRN_ETOO_LARGE;
    for (uint32_t i = 0; i < b->n_txs; i++)
        if (b->txs[i].len > TX_BYTES_MAX) return CAIRN_ETOO_LARGE;
    if (b->last_commit.n_sigs > VALIDATORS_MAX) return CAIRN_ETOO_LARGE;
    if (block_size(b) > BLOCK_BYTES_MAX) return CAIRN_ETOO_LARGE;
    for (uint32_t i = 0; i < b->n_txs; i++) {
        tx_t tx;
        if (tx_decode(&tx, b->txs[i].p, b->txs[i].len) != CAIRN_OK) return CAIRN_EBAD_TX;
    }
    uint8_t h[HASH_BYTES];
    CAIRN_TRY(block_data_hash(b, h));
    if (memcmp(h, b->header.data_hash, HASH_BYTES) != 0) return CAIRN_EBAD_HASH;
    CAIRN_TRY(block_evidence_hash(b, h));
    if (memcmp(h, b->header.evidence_hash, HASH_BYTES) != 0) return CAIRN_EBAD_HASH;
    CAIRN_TRY(commit_hash(&b->last_commit, h));
    if (memcmp(h, b->header.last_commit_hash, HASH_BYTES) != 0) return CAIRN_EBAD_HASH;
    return CAIRN_OK;
}

static cairn_err validate_last_commit(const block_t *b, const chain_state_t *st)
{
    const commit_t *c = &b->last_commit;
    if (b->header.height == 1) return c->height == 0 && c->n_sigs == 0 ? CAIRN_OK : CAIRN_EBAD_COMMIT;
    if (c->height == 0) return CAIRN_EBAD_COMMIT;
    return commit_verify(c, &st->chain_id, &st->last_validators, b->header.height - 1,
                         st->last_block_id);
}

/* Evidence of the last height is checked against the set that signed it;
 * older evidence against the current set (sets change only by governance). */
static cairn_err validate_evidence(const block_t *b, const chain_state_t *st)
{
    uint8_t h[EVIDENCE_MAX][HASH_BYTES];
    for (uint32_t i = 0; i < b->n_evidence; i++) {
        const evidence_t *e = &b->evidence[i];
        if (e->a.height >= b->header.height) return CAIRN_EBAD_EVIDENCE;
        CAIRN_TRY(evidence_hash(e, h[i]));
        for (uint32_t j = 0; j < i; j++)
            if (memcmp(h[i], h[j], HASH_BYTES) == 0) return CAIRN_EBAD_EVIDENCE;
        const valset_t *vs = e->a.height == st->last_height ? &st->last_validators
                                                             : &st->validators;
        cairn_err rc = evidence_verify(e, &st->chain_id, vs);
        if (rc != CAIRN_OK) return rc == CAIRN_ENOMEM ? rc : CAIRN_EBAD_EVIDENCE;
    }
    return CAIRN_OK;
}

cairn_err block_validate(const block_t *b, const chain_state_t *st)
{
    CAIRN_TRY(validate_header(&b->header, st));
    CAIRN_TRY(validate_body(b));
    CAIRN_TRY(validate_last_commit(b, st));
    return validate_evidence(b, st);
}
