/* crypto.h - the only door to libsodium: hashes, keys, signatures, Merkle trees.
 *
 * crypto_init() must run once before any other call (it is idempotent and
 * thread-safe after it returned). Every function here is pure apart from
 * crypto_random(); any thread may call them.
 */
#ifndef CAIRN_CRYPTO_CRYPTO_H
#define CAIRN_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define HASH_BYTES 32
#define PUBKEY_BYTES 32
#define SECKEY_BYTES 64 /* libsodium's seed || public key form */
#define SEED_BYTES 32
#define SIG_BYTES 64
#define ADDR_BYTES 20

cairn_err crypto_init(void) CAIRN_MUST_CHECK;
void crypto_random(void *out, size_t n);
void crypto_wipe(void *p, size_t n);

/* SHA-256. */
void hash_sha256(uint8_t out[static HASH_BYTES], const void *p, size_t n);
typedef struct {
    uint8_t state[128] __attribute__((aligned(16))); /* crypto_hash_sha256_state */
} hash_ctx;
void hash_init(hash_ctx *c);
void hash_update(hash_ctx *c, const void *p, size_t n);
void hash_final(hash_ctx *c, uint8_t out[static HASH_BYTES]);

/* SHA-256 of the empty string (e3b0c442...), CometBFT's hash of nothing. */
extern const uint8_t HASH_EMPTY[HASH_BYTES];

/* SipHash-2-4 keyed short hash, for hash tables fed by untrusted keys. */
#define SHORTHASH_KEY_BYTES 16
uint64_t hash_short(const uint8_t key[static SHORTHASH_KEY_BYTES], const void *p, size_t n);

/* Ed25519 (RFC 8032). */
typedef struct {
    uint8_t pub[PUBKEY_BYTES];
    uint8_t sec[SECKEY_BYTES];
} keypair_t;

void key_from_seed(keypair_t *kp, const uint8_t seed[static SEED_BYTES]);
void key_generate(keypair_t *kp);
void key_sign(uint8_t sig[static SIG_BYTES], const keypair_t *kp, const void *msg,
              size_t n);
/* CAIRN_OK or CAIRN_EBAD_SIGNATURE. Rejects non-canonical and small-order keys. */
cairn_err key_verify(const uint8_t sig[static SIG_BYTES],
                     const uint8_t pub[static PUBKEY_BYTES], const void *msg,
                     size_t n) CAIRN_MUST_CHECK;
/* Address = first 20 bytes of SHA-256(public key). */
void key_address(uint8_t addr[static ADDR_BYTES], const uint8_t pub[static PUBKEY_BYTES]);

/* RFC 6962 Merkle trees: leaf = H(0x00 || x), node = H(0x01 || l || r), the
 * root of zero leaves = H(""). Leaves are given as byte strings. */
typedef struct {
    const uint8_t *p;
    size_t len;
} bytes_view;

void merkle_leaf_hash(uint8_t out[static HASH_BYTES], const void *p, size_t n);
void merkle_node_hash(uint8_t out[static HASH_BYTES], const uint8_t l[static HASH_BYTES],
                      const uint8_t r[static HASH_BYTES]);
/* Root over leaf hashes already computed (count may be 0). Allocates scratch. */
cairn_err merkle_root_from_hashes(uint8_t out[static HASH_BYTES],
                                  const uint8_t (*leaf_hashes)[HASH_BYTES],
                                  size_t count) CAIRN_MUST_CHECK;
cairn_err merkle_root(uint8_t out[static HASH_BYTES], const bytes_view *leaves,
                      size_t count) CAIRN_MUST_CHECK;

#define MERKLE_PROOF_MAX 64
typedef struct {
    uint64_t index;
    uint64_t total;
    uint32_t n_aunts;
    uint8_t aunts[MERKLE_PROOF_MAX][HASH_BYTES]; /* bottom-up, RFC 6962 audit path */
} merkle_proof;

cairn_err merkle_proof_build(merkle_proof *proof,
                             const uint8_t (*leaf_hashes)[HASH_BYTES], size_t count,
                             size_t index) CAIRN_MUST_CHECK;
/* CAIRN_OK if leaf_hash sits at proof->index of a tree with root `root`. */
cairn_err merkle_proof_verify(const merkle_proof *proof,
                              const uint8_t leaf_hash[static HASH_BYTES],
                              const uint8_t root[static HASH_BYTES]) CAIRN_MUST_CHECK;

#endif
