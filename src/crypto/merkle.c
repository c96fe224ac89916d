/* RFC 6962 section 2.1 Merkle Tree Hash and audit paths.
 * The split point k of n > 1 leaves is the largest power of two < n. */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

void merkle_leaf_hash(uint8_t out[static HASH_BYTES], const void *p, size_t n)
{
    hash_ctx c;
    uint8_t tag = 0x00;
    hash_init(&c);
    hash_update(&c, &tag, 1);
    hash_update(&c, p, n);
    hash_final(&c, out);
}

void merkle_node_hash(uint8_t out[static HASH_BYTES], const uint8_t l[static HASH_BYTES],
                      const uint8_t r[static HASH_BYTES])
{
    hash_ctx c;
    uint8_t tag = 0x01;
    hash_init(&c);
    hash_update(&c, &tag, 1);
    hash_update(&c, l, HASH_BYTES);
    hash_update(&c, r, HASH_BYTES);
    hash_final(&c, out);
}

/* Iterative: level by level, an odd last node is carried up unchanged. This
 * equals the recursive RFC 6962 definition (largest power of two split). */
cairn_err merkle_root_from_hashes(uint8_t out[static HASH_BYTES],
                                  const uint8_t (*leaf_hashes)[HASH_BYTES], size_t count)
{
    if (count == 0) {
        hash_sha256(out, "", 0);
        return CAIRN_OK;
    }
    uint8_t(*level)[HASH_BYTES] = malloc(count * HASH_BYTES);
    if (!level) return CAIRN_ENOMEM;
    memcpy(level, leaf_hashes, count * HASH_BYTES);
    for (size_t n = count; n > 1; n = (n + 1) / 2) {
        for (size_t i = 0; i < n / 2; i++)
            merkle_node_hash(level[i], level[2 * i], level[2 * i + 1]);
        if (n % 2) memcpy(level[n / 2], level[n - 1], HASH_BYTES);
    }
    memcpy(out, level[0], HASH_BYTES);
    free(level);
    return CAIRN_OK;
}

cairn_err merkle_root(uint8_t out[static HASH_BYTES], const bytes_view *leaves, size_t count)
{
    if (count == 0) return merkle_root_from_hashes(out, NULL, 0);
    uint8_t(*hashes)[HASH_BYTES] = malloc(count * HASH_BYTES);
    if (!hashes) return CAIRN_ENOMEM;
    for (size_t i = 0; i < count; i++) merkle_leaf_hash(hashes[i], leaves[i].p, leaves[i].len);
    cairn_err rc = merkle_root_from_hashes(out, (const uint8_t(*)[HASH_BYTES])hashes, count);
    free(hashes);
    return rc;
}

cairn_err merkle_proof_build(merkle_proof *proof, const uint8_t (*leaf_hashes)[HASH_BYTES],
                             size_t count, size_t index)
{
    if (index >= count) return CAIRN_EINVALID_ARG;
    uint8_t(*level)[HASH_BYTES] = malloc(count * HASH_BYTES);
    if (!level) return CAIRN_ENOMEM;
    memcpy(level, leaf_hashes, count * HASH_BYTES);
    proof->index = index;
    proof->total = count;
    proof->n_aunts = 0;
    size_t idx = index;
    for (size_t n = count; n > 1; n = (n + 1) / 2) {
        size_t sib = idx ^ 1;
        if (sib < n) memcpy(proof->aunts[proof->n_aunts++], level[sib], HASH_BYTES);
        for (size_t i = 0; i < n / 2; i++)
            merkle_node_hash(level[i], level[2 * i], level[2 * i + 1]);
        if (n % 2) memcpy(level[n / 2], level[n - 1], HASH_BYTES);
        idx /= 2;
    }
    free(level);
    return CAIRN_OK;
}

cairn_err merkle_proof_verify(const merkle_proof *proof, const uint8_t leaf_hash[static HASH_BYTES],
                              const uint8_t root[static HASH_BYTES])
{
    if (proof->total == 0 || proof->index >= proof->total ||
        proof->n_aunts > MERKLE_PROOF_MAX)
        return CAIRN_EBAD_PROOF;
    uint8_t h[HASH_BYTES];
    memcpy(h, leaf_hash, HASH_BYTES);
    uint64_t idx = proof->index, n = proof->total;
    uint32_t used = 0;
    for (; n > 1; n = (n + 1) / 2, idx /= 2) {
        uint64_t sib = idx ^ 1;
        if (sib >= n) continue; /* carried up unchanged */
        if (used >= proof->n_aunts) return CAIRN_EBAD_PROOF;
        if (idx & 1)
            merkle_node_hash(h, proof->aunts[used], h);
        else
            merkle_node_hash(h, h, proof->aunts[used]);
        used++;
    }
    if (used != proof->n_aunts) return CAIRN_EBAD_PROOF;
    return memcmp(h, root, HASH_BYTES) == 0 ? CAIRN_OK : CAIRN_EBAD_PROOF;
}
