/* proof.c - sparse Merkle proofs: hashing rules, encoding, verification, and the
 * standalone verifier of include/cairn/proof.h. Depends only on SHA-256. */
#include <stddef.h>
#include <string.h>

#include "app/smt.h"
#include "cairn/proof.h"
#include "codec/codec.h"
#include "crypto/crypto.h"

const uint8_t CAIRN_PROOF_EMPTY_ROOT[CAIRN_PROOF_HASH_BYTES] = {
    0xdb, 0xc1, 0xb4, 0xc9, 0x00, 0xff, 0xe4, 0x8d, 0x57, 0x5b, 0x5d,
    0xa5, 0xc6, 0x38, 0x04, 0x01, 0x25, 0xf6, 0x5d, 0xb0, 0xfe, 0x3e,
    0x24, 0x49, 0x4b, 0x76, 0xea, 0x98, 0x64, 0x57, 0xd9, 0x86};

void smt_leaf_hash(uint8_t out[static SMT_HASH_BYTES],
                   const uint8_t key_hash[static SMT_HASH_BYTES],
                   const uint8_t val_hash[static SMT_HASH_BYTES])
{
    uint8_t b[1 + 2 * SMT_HASH_BYTES];
    b[0] = 0x00;
    memcpy(b + 1, key_hash, SMT_HASH_BYTES);
    memcpy(b + 1 + SMT_HASH_BYTES, val_hash, SMT_HASH_BYTES);
    hash_sha256(out, b, sizeof b);
}

void smt_internal_hash(uint8_t out[static SMT_HASH_BYTES],
                       const uint8_t l[static SMT_HASH_BYTES],
                       const uint8_t r[static SMT_HASH_BYTES])
{
    uint8_t b[1 + 2 * SMT_HASH_BYTES];
    b[0] = 0x01;
    memcpy(b + 1, l, SMT_HASH_BYTES);
    memcpy(b + 1 + SMT_HASH_BYTES, r, SMT_HASH_BYTES);
    hash_sha256(out, b, sizeof b);
}

static int path_bit(const uint8_t *h, unsigned i) { return (h[i / 8] >> (7 - i % 8)) & 1; }

cairn_err smt_proof_decode(smt_proof *p, const uint8_t *b, size_t n)
{
    codec_reader r;
    codec_reader_init(&r, b, n);
    memset(p, 0, offsetof(smt_proof, siblings));
    uint8_t version = codec_get_u8(&r);
    if (!r.err && version != CAIRN_PROOF_VERSION) return CAIRN_EBAD_VERSION;
    p->kind = codec_get_u8(&r);
    if (!r.err && p->kind != SMT_PROOF_EMPTY && p->kind != SMT_PROOF_LEAF)
        return CAIRN_EBAD_TYPE;
    if (p->kind == SMT_PROOF_LEAF) {
        codec_get_fixed(&r, p->leaf_key_hash, SMT_HASH_BYTES);
        codec_get_fixed(&r, p->leaf_val_hash, SMT_HASH_BYTES);
    }
    p->depth = codec_get_u16(&r);
    if (r.err) return r.err;
    if (p->depth > SMT_DEPTH_MAX) return CAIRN_ETOO_LARGE;
    size_t bm_len = (p->depth + 7u) / 8;
    codec_get_fixed(&r, p->bitmap, bm_len);
    if (r.err) return r.err;
    if (p->depth % 8 && (p->bitmap[bm_len - 1] & (0xffu >> (p->depth % 8))))
        return CAIRN_ENONCANONICAL;
    for (unsigned i = 0; i < p->depth; i++) {
        if (!path_bit(p->bitmap, i)) continue;
        uint8_t *s = p->siblings[p->n_siblings++];
        codec_get_fixed(&r, s, SMT_HASH_BYTES);
        if (r.err) return r.err;
        if (memcmp(s, SMT_EMPTY_ROOT, SMT_HASH_BYTES) == 0) return CAIRN_ENONCANONICAL;
    }
    return codec_reader_finish(&r);
}

cairn_err smt_proof_encode(const smt_proof *p, buf_t *out)
{
    if (p->depth > SMT_DEPTH_MAX || p->n_siblings > p->depth) return CAIRN_EINVALID_ARG;
    codec_writer w;
    codec_writer_init(&w, out);
    codec_put_u8(&w, CAIRN_PROOF_VERSION);
    codec_put_u8(&w, p->kind);
    if (p->kind == SMT_PROOF_LEAF) {
        codec_put_fixed(&w, p->leaf_key_hash, SMT_HASH_BYTES);
        codec_put_fixed(&w, p->leaf_val_hash, SMT_HASH_BYTES);
    }
    codec_put_u16(&w, p->depth);
    codec_put_fixed(&w, p->bitmap, (p->depth + 7u) / 8);
    for (unsigned i = 0; i < p->n_siblings; i++)
        codec_put_fixed(&w, p->siblings[i], SMT_HASH_BYTES);
    return w.err;
}

cairn_err smt_proof_verify(const smt_proof *p, const uint8_t root[static SMT_HASH_BYTES],
                           const uint8_t key_hash[static SMT_HASH_BYTES],
                           const uint8_t *value, size_t value_len)
{
    if (p->depth > SMT_DEPTH_MAX || p->n_siblings > p->depth) return CAIRN_EBAD_PROOF;
    uint8_t h[SMT_HASH_BYTES];
    if (value) {
        /* Inclusion: the path must end in this key's leaf holding this value. */
        uint8_t vh[SMT_HASH_BYTES];
        hash_sha256(vh, value, value_len);
        if (p->kind != SMT_PROOF_LEAF ||
            memcmp(p->leaf_key_hash, key_hash, SMT_HASH_BYTES) != 0 ||
            memcmp(p->leaf_val_hash, vh, SMT_HASH_BYTES) != 0)
            return CAIRN_EBAD_PROOF;
        smt_leaf_hash(h, key_hash, vh);
    } else if (p->kind == SMT_PROOF_LEAF) {
        /* Non-inclusion by another leaf: it must sit on our path, and not be us. */
        if (memcmp(p->leaf_key_hash, key_hash, SMT_HASH_BYTES) == 0) return CAIRN_EBAD_PROOF;
        for (unsigned i = 0; i < p->depth; i++)
            if (path_bit(p->leaf_key_hash, i) != path_bit(key_hash, i)) return CAIRN_EBAD_PROOF;
        smt_leaf_hash(h, p->leaf_key_hash, p->leaf_val_hash);
    } else {
        memcpy(h, SMT_EMPTY_ROOT, SMT_HASH_BYTES);
    }
    unsigned next = p->n_siblings; /* siblings are listed top-down; walk bottom-up */
    for (unsigned d = p->depth; d-- > 0;) {
        const uint8_t *sib = SMT_EMPTY_ROOT;
        if (path_bit(p->bitmap, d)) {
            if (next == 0) return CAIRN_EBAD_PROOF;
            sib = p->siblings[--next];
        }
        if (path_bit(key_hash, d))
            smt_internal_hash(h, sib, h);
        else
            smt_internal_hash(h, h, sib);
    }
    if (next != 0) return CAIRN_EBAD_PROOF;
    return memcmp(h, root, SMT_HASH_BYTES) == 0 ? CAIRN_OK : CAIRN_EBAD_PROOF;
}

int cairn_proof_verify(const uint8_t root[CAIRN_PROOF_HASH_BYTES], const uint8_t *key,
                       size_t key_len, const uint8_t *value, size_t value_len,
                       const uint8_t *proof, size_t proof_len)
{
    smt_proof p;
    if (!root || (!key && key_len) || !proof) return CAIRN_PROOF_BAD_ENCODING;
    if (smt_proof_decode(&p, proof, proof_len) != CAIRN_OK) return CAIRN_PROOF_BAD_ENCODING;
    uint8_t kh[SMT_HASH_BYTES];
    hash_sha256(kh, key ? key : (const uint8_t *)"", key_len);
    if (value == NULL && value_len != 0) return CAIRN_PROOF_MISMATCH;
    return smt_proof_verify(&p, root, kh, value, value_len) == CAIRN_OK ? CAIRN_PROOF_OK
                                                                        : CAIRN_PROOF_MISMATCH;
}
