/* state.c - the chain state a block is validated against: its encoding (for
 * the store), the state before the first block, and the step from one height
 * to the next (CometBFT's state.Update without validator-set changes).
 * Layout in docs/formats.md ("Chain state"). */
#include <string.h>

#include "chain/chain_int.h"

#define VALSET_ENCODED_MAX (9 + VALIDATORS_MAX * VALIDATOR_ENCODED_BYTES)

static cairn_err state_check(const chain_state_t *st)
{
    if (!chain_id_bytes_valid((const uint8_t *)st->chain_id.id, st->chain_id.len))
        return CAIRN_EBAD_ENCODING;
    bool first = st->last_height == 0;
    if (first != bytes_is_zero(st->last_block_id, HASH_BYTES)) return CAIRN_EBAD_ENCODING;
    if (first != (st->last_validators.count == 0)) return CAIRN_EBAD_ENCODING;
    return CAIRN_OK;
}

cairn_err chain_state_encode(const chain_state_t *st, buf_t *out)
{
    CAIRN_TRY(state_check(st));
    size_t start = out->len;
    buf_t vs, last;
    buf_init(&vs, VALSET_ENCODED_MAX);
    buf_init(&last, VALSET_ENCODED_MAX);
    cairn_err rc = valset_encode(&st->validators, &vs);
    if (rc == CAIRN_OK && st->last_validators.count)
        rc = valset_encode(&st->last_validators, &last);
    if (rc == CAIRN_OK) {
        codec_writer w;
        codec_writer_init(&w, out);
        codec_put_u8(&w, CHAIN_VERSION);
        codec_put_bytes(&w, st->chain_id.id, st->chain_id.len);
        codec_put_u64(&w, st->last_height);
        codec_put_fixed(&w, st->last_block_id, HASH_BYTES);
        codec_put_i64(&w, st->last_time_ns);
        codec_put_bytes(&w, vs.data, vs.len);
        codec_put_bytes(&w, last.data, last.len);
        codec_put_fixed(&w, st->next_validators_hash, HASH_BYTES);
        codec_put_fixed(&w, st->app_hash, HASH_BYTES);
        codec_put_fixed(&w, st->last_results_hash, HASH_BYTES);
        rc = chain_write_done(&w, out, start);
    }
    buf_deinit(&vs);
    buf_deinit(&last);
    return rc;
}

cairn_err chain_state_decode(chain_state_t *st, const uint8_t *p, size_t n)
{
    if (n == 0) return CAIRN_ETRUNCATED;
    if (p[0] != CHAIN_VERSION) return CAIRN_EBAD_VERSION;
    codec_reader r;
    codec_reader_init(&r, p, n);
    chain_state_t t;
    memset(&t, 0, sizeof t);
    (void)codec_get_u8(&r);
    chain_id_read(&r, &t.chain_id);
    t.last_height = codec_get_u64(&r);
    codec_get_fixed(&r, t.last_block_id, HASH_BYTES);
    t.last_time_ns = codec_get_i64(&r);
    const uint8_t *vs, *last;
    uint32_t vs_len, last_len;
    codec_get_bytes(&r, &vs, &vs_len, VALSET_ENCODED_MAX);
    if (!r.err) codec_reader_fail(&r, valset_decode(&t.validators, vs, vs_len));
    codec_get_bytes(&r, &last, &last_len, VALSET_ENCODED_MAX);
    if (!r.err && last_len) codec_reader_fail(&r, valset_decode(&t.last_validators, last, last_len));
    codec_get_fixed(&r, t.next_validators_hash, HASH_BYTES);
    codec_get_fixed(&r, t.app_hash, HASH_BYTES);
    codec_get_fixed(&r, t.last_results_hash, HASH_BYTES);
    CAIRN_TRY(codec_reader_finish(&r));
    CAIRN_TRY(state_check(&t));
    *st = t;
    return CAIRN_OK;
}

cairn_err chain_state_genesis(chain_state_t *st, const chain_id_t *cid, int64_t genesis_time_ns,
                              const valset_t *vs, const uint8_t app_hash[static HASH_BYTES])
{
    if (vs->count == 0 || vs->count > VALIDATORS_MAX) return CAIRN_EINVALID_ARG;
    chain_state_t t;
    memset(&t, 0, sizeof t);
    t.chain_id = *cid;
    t.last_time_ns = genesis_time_ns;
    t.validators = *vs;
    CAIRN_TRY(valset_hash(vs, t.next_validators_hash));
    memcpy(t.app_hash, app_hash, HASH_BYTES);
    memcpy(t.last_results_hash, HASH_EMPTY, HASH_BYTES);
    CAIRN_TRY(state_check(&t));
    *st = t;
    return CAIRN_OK;
}

cairn_err chain_state_advance(chain_state_t *st, const header_t *h,
                              const uint8_t app_hash[static HASH_BYTES],
                              const uint8_t results_hash[static HASH_BYTES])
{
    if (h->height != st->last_height + 1) return CAIRN_EBAD_HEIGHT;
    uint8_t cur[HASH_BYTES], id[HASH_BYTES];
    CAIRN_TRY(valset_hash(&st->validators, cur));
    if (memcmp(cur, st->next_validators_hash, HASH_BYTES) != 0) return CAIRN_EUNSUPPORTED;
    CAIRN_TRY(header_hash(h, id));
    st->last_validators = st->validators;
    valset_increment_priority(&st->validators, 1);
    st->last_height = h->height;
    memcpy(st->last_block_id, id, HASH_BYTES);
    st->last_time_ns = h->time_ns;
    memcpy(st->app_hash, app_hash, HASH_BYTES);
    memcpy(st->last_results_hash, results_hash, HASH_BYTES);
    return CAIRN_OK;
}
