/* tx.c - transactions: canonical encoding, sign bytes, signatures, hash.
 * Layout in docs/formats.md ("Transaction"). */
#include <string.h>

#include "chain/chain_int.h"

/* Everything a tx encoding needs to be writable: the encoder refuses to emit
 * what the decoder would reject. */
static cairn_err tx_key_check(const tx_t *tx)
{
    if (tx->key_len > TX_KEY_MAX) return CAIRN_ETOO_LARGE;
    if (tx->key_len == 0 || !tx->key) return CAIRN_EBAD_TX;
    return CAIRN_OK;
}

static cairn_err tx_check(const tx_t *tx)
{
    if (tx->version != CHAIN_VERSION) return CAIRN_EBAD_VERSION;
    switch (tx->type) {
    case TX_TRANSFER:
        return CAIRN_OK;
    case TX_PUT:
        if (tx->value_len > TX_VALUE_MAX) return CAIRN_ETOO_LARGE;
        if (tx->value_len && !tx->value) return CAIRN_EINVALID_ARG;
        return tx_key_check(tx);
    case TX_DELETE:
        return tx_key_check(tx);
    default:
        return CAIRN_EBAD_TYPE;
    }
}

/* The encoding without the signature (what the sign bytes carry). */
static void tx_write_body(codec_writer *w, const tx_t *tx)
{
    codec_put_u8(w, tx->version);
    codec_put_u8(w, tx->type);
    codec_put_fixed(w, tx->sender, PUBKEY_BYTES);
    codec_put_u64(w, tx->nonce);
    codec_put_u64(w, tx->fee);
    switch (tx->type) {
    case TX_TRANSFER:
        codec_put_fixed(w, tx->to, ADDR_BYTES);
        codec_put_u64(w, tx->amount);
        break;
    case TX_PUT:
        codec_put_bytes(w, tx->key, tx->key_len);
        codec_put_bytes(w, tx->value, tx->value_len);
        break;
    case TX_DELETE:
        codec_put_bytes(w, tx->key, tx->key_len);
        break;
    }
}

cairn_err tx_encode(const tx_t *tx, buf_t *out)
{
    CAIRN_TRY(tx_check(tx));
    size_t start = out->len;
    codec_writer w;
    codec_writer_init(&w, out);
    tx_write_body(&w, tx);
    codec_put_fixed(&w, tx->sig, SIG_BYTES);
    return chain_write_done(&w, out, start);
}

cairn_err tx_decode(tx_t *tx, const uint8_t *p, size_t n)
{
    if (n == 0) return CAIRN_ETRUNCATED;
    if (p[0] != CHAIN_VERSION) return CAIRN_EBAD_VERSION;
    if (n > TX_BYTES_MAX) return CAIRN_ETOO_LARGE;
    codec_reader r;
    codec_reader_init(&r, p, n);
    tx_t t;
    memset(&t, 0, sizeof t);
    t.version = codec_get_u8(&r);
    t.type = codec_get_u8(&r);
    if (!r.err && (t.type < TX_TRANSFER || t.type > TX_DELETE))
        codec_reader_fail(&r, CAIRN_EBAD_TYPE);
    codec_get_fixed(&r, t.sender, PUBKEY_BYTES);
    t.nonce = codec_get_u64(&r);
    t.fee = codec_get_u64(&r);
    switch (t.type) {
    case TX_TRANSFER:
        codec_get_fixed(&r, t.to, ADDR_BYTES);
        t.amount = codec_get_u64(&r);
        break;
    case TX_PUT:
        codec_get_bytes(&r, &t.key, &t.key_len, TX_KEY_MAX);
        if (!r.err && t.key_len == 0) codec_reader_fail(&r, CAIRN_EBAD_TX);
        codec_get_bytes(&r, &t.value, &t.value_len, TX_VALUE_MAX);
        break;
    case TX_DELETE:
        codec_get_bytes(&r, &t.key, &t.key_len, TX_KEY_MAX);
        if (!r.err && t.key_len == 0) codec_reader_fail(&r, CAIRN_EBAD_TX);
        break;
    }
    codec_get_fixed(&r, t.sig, SIG_BYTES);
    CAIRN_TRY(codec_reader_finish(&r));
    *tx = t;
    return CAIRN_OK;
}

cairn_err tx_sign_bytes(const tx_t *tx, const chain_id_t *cid, buf_t *out)
{
    CAIRN_TRY(tx_check(tx));
    size_t start = out->len;
    codec_writer w;
    codec_writer_init(&w, out);
    chain_put_domain(&w, TAG_TX, cid);
    tx_write_body(&w, tx);
    return chain_write_done(&w, out, start);
}

cairn_err tx_sign(tx_t *tx, const chain_id_t *cid, const keypair_t *kp)
{
    if (memcmp(tx->sender, kp->pub, PUBKEY_BYTES) != 0) return CAIRN_EINVALID_ARG;
    buf_t b;
    buf_init(&b, TX_BYTES_MAX + 128);
    cairn_err rc = tx_sign_bytes(tx, cid, &b);
    if (rc == CAIRN_OK) key_sign(tx->sig, kp, b.data, b.len);
    buf_deinit(&b);
    return rc;
}

cairn_err tx_verify(const tx_t *tx, const chain_id_t *cid)
{
    buf_t b;
    buf_init(&b, TX_BYTES_MAX + 128);
    cairn_err rc = tx_sign_bytes(tx, cid, &b);
    if (rc == CAIRN_OK) rc = key_verify(tx->sig, tx->sender, b.data, b.len);
    buf_deinit(&b);
    return rc;
}

void tx_hash(uint8_t out[static HASH_BYTES], const uint8_t *raw, size_t n)
{
    hash_sha256(out, raw, n);
}
