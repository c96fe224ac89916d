/* chainstate.c - the node's view of the chain after its latest block, saved in the
 * store's meta with every block (docs/storage.md): version u8 | chain id bytes |
 * last height u64 | last block id [32] | last time i64 | validators (valset
 * encoding, length-prefixed) | has last validators u8 | last validators |
 * next validators hash [32] | app hash [32] | last results hash [32]. */
#include <string.h>

#include "codec/codec.h"
#include "node/node_int.h"

#define CHAIN_STATE_VERSION 1
#define VALSET_BYTES_MAX (VALIDATORS_MAX * 128 + 64)

static cairn_err put_valset(codec_writer *w, const valset_t *vs)
{
    buf_t b;
    buf_init(&b, VALSET_BYTES_MAX);
    cairn_err rc = valset_encode(vs, &b);
    if (rc == CAIRN_OK) codec_put_bytes(w, b.data, b.len);
    buf_deinit(&b);
    return rc;
}

static void get_valset(codec_reader *r, valset_t *vs)
{
    const uint8_t *p;
    uint32_t n;
    codec_get_bytes(r, &p, &n, VALSET_BYTES_MAX);
    if (r->err) return;
    cairn_err rc = valset_decode(vs, p, n);
    if (rc) codec_reader_fail(r, rc);
}

cairn_err chain_state_encode(const chain_state_t *st, buf_t *out)
{
    codec_writer w;
    codec_writer_init(&w, out);
    codec_put_u8(&w, CHAIN_STATE_VERSION);
    codec_put_bytes(&w, st->chain_id.id, st->chain_id.len);
    codec_put_u64(&w, st->last_height);
    codec_put_fixed(&w, st->last_block_id, HASH_BYTES);
    codec_put_i64(&w, st->last_time_ns);
    CAIRN_TRY(put_valset(&w, &st->validators));
    bool has_last = st->last_validators.count > 0;
    codec_put_bool(&w, has_last);
    if (has_last) CAIRN_TRY(put_valset(&w, &st->last_validators));
    codec_put_fixed(&w, st->next_validators_hash, HASH_BYTES);
    codec_put_fixed(&w, st->app_hash, HASH_BYTES);
    codec_put_fixed(&w, st->last_results_hash, HASH_BYTES);
    return w.err;
}

cairn_err chain_state_decode(chain_state_t *st, const uint8_t *p, size_t n)
{
    codec_reader r;
    codec_reader_init(&r, p, n);
    memset(st, 0, sizeof *st);
    if (codec_get_u8(&r) != CHAIN_STATE_VERSION && !r.err) return CAIRN_EBAD_VERSION;
    const uint8_t *cid;
    uint32_t cid_len;
    codec_get_bytes(&r, &cid, &cid_len, CHAIN_ID_MAX);
    if (!r.err) {
        char tmp[CHAIN_ID_MAX + 1];
        memcpy(tmp, cid, cid_len);
        tmp[cid_len] = 0;
        if (chain_id_set(&st->chain_id, tmp) != CAIRN_OK) codec_reader_fail(&r, CAIRN_EBAD_CHAIN_ID);
    }
    st->last_height = codec_get_u64(&r);
    codec_get_fixed(&r, st->last_block_id, HASH_BYTES);
    st->last_time_ns = codec_get_i64(&r);
    get_valset(&r, &st->validators);
    if (codec_get_bool(&r)) get_valset(&r, &st->last_validators);
    codec_get_fixed(&r, st->next_validators_hash, HASH_BYTES);
    codec_get_fixed(&r, st->app_hash, HASH_BYTES);
    codec_get_fixed(&r, st->last_results_hash, HASH_BYTES);
    return codec_reader_finish(&r);
}

cairn_err chain_state_from_genesis(chain_state_t *st, const genesis_t *g,
                                   const uint8_t app_hash[static HASH_BYTES])
{
    memset(st, 0, sizeof *st);
    st->chain_id = g->chain_id;
    st->last_height = 0;
    st->last_time_ns = g->genesis_time_ns;
    CAIRN_TRY(genesis_valset(g, &st->validators));
    CAIRN_TRY(valset_hash(&st->validators, st->next_validators_hash));
    memcpy(st->app_hash, app_hash, HASH_BYTES);
    /* No block yet, so no results: the root of zero leaves. */
    return merkle_root_from_hashes(st->last_results_hash, NULL, 0);
}
