/* cairn/proof.h - verify a state proof from a cairn node, standalone.
 *
 * A cairn node answers `abci_query` with prove=true with a value (or none) and a
 * proof that the value is (or no value is) stored under a state key in the
 * sparse Merkle tree whose root is the app hash of a block header. A client that
 * trusts the header (its commit carries > 2/3 of the validators' signatures) calls
 * cairn_proof_verify() and needs to trust nothing else the node said.
 *
 * The tree (docs/app.md): 256-bit paths are SHA-256(state key), read from the
 * most significant bit of byte 0; a leaf sits at the shallowest depth where its
 * subtree holds no other key.
 *   leaf     = SHA-256(0x00 || SHA-256(key) || SHA-256(value))
 *   internal = SHA-256(0x01 || left || right)
 *   empty    = SHA-256(0x02) = CAIRN_PROOF_EMPTY_ROOT (also the root of an empty tree)
 *
 * Proof encoding (all integers little-endian):
 *   u8  version = 1
 *   u8  kind: 0 = the path ends in an empty subtree, 1 = the path ends in a leaf
 *   kind 1 only: [32] key hash of that leaf, [32] value hash of that leaf
 *   u16 depth (0..256): number of internal nodes on the path
 *   [ceil(depth/8)] bitmap, bit i (MSB first) set if the sibling at depth i is
 *       not empty; unused bits are zero
 *   [32] per set bit: the sibling hashes, from the root downwards
 * No trailing bytes; a sibling listed must not equal the empty hash.
 *
 * Depends only on SHA-256. Pure, reentrant, no allocation; verification is
 * iterative and bounded by 256 levels.
 */
#ifndef CAIRN_PROOF_H
#define CAIRN_PROOF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_PROOF_HASH_BYTES 32
#define CAIRN_PROOF_DEPTH_MAX 256
#define CAIRN_PROOF_VERSION 1
/* Largest valid proof: 1 + 1 + 64 + 2 + 32 + 256 * 32. */
#define CAIRN_PROOF_BYTES_MAX 8292

/* Results of cairn_proof_verify(). */
#define CAIRN_PROOF_OK 0
#define CAIRN_PROOF_BAD_ENCODING 1 /* proof bytes malformed or non-canonical */
#define CAIRN_PROOF_MISMATCH 2     /* well-formed, but does not prove the claim */

/* SHA-256(0x02): the hash of an empty subtree and the root of an empty tree,
 * dbc1b4c900ffe48d575b5da5c638040125f65db0fe3e24494b76ea986457d986. */
extern const uint8_t CAIRN_PROOF_EMPTY_ROOT[CAIRN_PROOF_HASH_BYTES];

/* CAIRN_PROOF_OK iff `proof` shows that, in the tree with root `root`, state key
 * `key` maps to `value` (value != NULL; value_len may be 0), or that `key` is
 * absent (value == NULL). Any other result means: do not believe the claim. */
int cairn_proof_verify(const uint8_t root[CAIRN_PROOF_HASH_BYTES], const uint8_t *key,
                       size_t key_len, const uint8_t *value, size_t value_len,
                       const uint8_t *proof, size_t proof_len);

#ifdef __cplusplus
}
#endif

#endif
