/* smt.h - the authenticated state: a versioned sparse Merkle tree over 256-bit
 * key hashes, in the style of the Jellyfish Merkle Tree (binary, with leaves
 * lifted to the shallowest depth where they are alone).
 *
 * Hashes (docs/app.md, include/cairn/proof.h):
 *   leaf = H(0x00 | H(key) | H(value)), internal = H(0x01 | left | right),
 *   empty = H(0x02) = SMT_EMPTY_ROOT (the root of the empty tree).
 * Storage (through base/kv.h; values little-endian, key versions big-endian so
 * they sort):
 *   'R' | version[8]                       -> root reference
 *   'N' | version[8] | depth[2] | path     -> node (path: ceil(depth/8) bytes, MSB
 *                                             first, unused bits zero)
 *   'L' | H(key)[32]                       -> latest value index: u64 version |
 *                                             u8 present | bytes value
 *   'S' | version[8] | chunk[4]            -> stale list: u32 count | bytes node
 *                                             key each: nodes of earlier versions
 *                                             that this version replaced
 * Invariants:
 *  1. The tree's shape, hence its root, is a function of its set of (key, value)
 *     pairs only, not of the order of updates: an internal node has at least two
 *     leaves beneath it (never an empty child beside a leaf, never two empties).
 *  2. Every version writes new nodes only; nodes of earlier versions are never
 *     changed or deleted by smt_apply(), so every earlier version stays readable
 *     until the caller prunes it (smt_prune).
 *  3. Every node read while walking from a root is re-hashed and checked against
 *     the hash its parent holds (CAIRN_ECORRUPT otherwise): a damaged store is
 *     detected, never served.
 *  4. No recursion: walks use explicit stacks bounded by SMT_DEPTH_MAX + 1.
 * Pure: no I/O besides the given kv_reader, no clock. Not thread-safe per call
 * chain; distinct calls on distinct readers/batches may run concurrently.
 */
#ifndef CAIRN_APP_SMT_H
#define CAIRN_APP_SMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/error.h"
#include "base/kv.h"
#include "cairn/proof.h"

#define SMT_HASH_BYTES 32
#define SMT_DEPTH_MAX 256
#define SMT_VALUE_MAX (1u << 20) /* largest value stored in one leaf */
#define SMT_KEY_MAX 1024         /* largest state key hashed into a path */
/* base_version for the first smt_apply(): start from the empty tree. */
#define SMT_VERSION_NONE UINT64_MAX

#define SMT_EMPTY_ROOT CAIRN_PROOF_EMPTY_ROOT

typedef struct {
    const uint8_t *key; /* state key; the tree path is SHA-256(key) */
    size_t key_len;
    const uint8_t *val; /* NULL: delete */
    size_t val_len;
} smt_op;

typedef struct {
    uint64_t nodes_written; /* tree nodes (leaf + internal) put into the batch */
    uint64_t nodes_read;
    uint64_t ops_changed;   /* ops that changed the tree (not no-ops) */
    uint64_t nodes_stale;   /* stored nodes the new version no longer uses */
} smt_stats;

/* Applies ops, in order (a later op on a key overrides an earlier one), to the
 * tree of base_version (SMT_VERSION_NONE: the empty tree) and writes version
 * new_version (> base_version) into out: its new nodes, its root reference and
 * the latest-value index entries of changed keys. root gets the new root hash.
 * Reads the base version through r; ops and their bytes are only borrowed for
 * the call. On error out may hold some writes: discard the batch. stats may be
 * NULL; its counters are added to. */
cairn_err smt_apply(const kv_reader *r, uint64_t base_version, uint64_t new_version,
                    const smt_op *ops, size_t n, kv_batch *out,
                    uint8_t root[static SMT_HASH_BYTES], smt_stats *stats) CAIRN_MUST_CHECK;

/* Makes version - 1 and everything older unreadable, to bound storage: puts
 * into out the deletes of the nodes that version `version` replaced (its stale
 * list, which only older versions use), of that list, and of the root reference
 * of version - 1. Call for version = oldest kept + 1, in increasing order, never
 * for the newest version's successor. *pruned gets the number of nodes deleted.
 * CAIRN_ENOT_FOUND if `version` has no stale list (never written or pruned). */
cairn_err smt_prune(const kv_reader *r, uint64_t version, kv_batch *out,
                    uint64_t *pruned) CAIRN_MUST_CHECK;

/* Root hash of a version written earlier (CAIRN_ENOT_FOUND if none). */
cairn_err smt_root(const kv_reader *r, uint64_t version,
                   uint8_t root[static SMT_HASH_BYTES]) CAIRN_MUST_CHECK;

/* Value of key at version: CAIRN_OK with *val malloc'd (caller frees; *val is
 * non-NULL even for an empty value), or CAIRN_ENOT_FOUND if absent. Usually one
 * read (the latest-value index); if the key changed after `version`, a walk of
 * the tree of `version` (verified as in invariant 3); CAIRN_EBAD_HEIGHT if
 * that version's root is not stored (never written, or pruned). Precondition:
 * `version` is at most the newest version applied to the store behind r. */
cairn_err smt_get(const kv_reader *r, uint64_t version, const uint8_t *key, size_t key_len,
                  uint8_t **val, size_t *val_len) CAIRN_MUST_CHECK;

/* Walks the tree of `version` (CAIRN_EBAD_HEIGHT if its root is not stored) to
 * key, verifying every node (invariant 3), and
 * appends the proof encoding (include/cairn/proof.h) to proof. If the key is
 * present *val gets a malloc'd copy of its value (caller frees) and *found =
 * true; else *val = NULL and *found = false. val may be NULL if not wanted. */
cairn_err smt_prove(const kv_reader *r, uint64_t version, const uint8_t *key, size_t key_len,
                    buf_t *proof, uint8_t **val, size_t *val_len,
                    bool *found) CAIRN_MUST_CHECK;

/* What smt_scrub() looked at. */
typedef struct {
    uint64_t leaves;
    uint64_t internal;
    uint64_t value_bytes;
} smt_scrub_stats;

/* Walks the whole tree of `version` (iteratively), re-hashing every node against
 * its parent and the root reference (invariant 3). With check_latest, also
 * checks that each leaf's latest-value index entry ('L') holds the same value
 * (entries written after `version` are skipped: blocks may commit meanwhile). CAIRN_OK, CAIRN_ECORRUPT (first
 * damage found; *bad_key_hash names the leaf path it was on, if known), or a
 * read error. For `cairn scrub`; cost is one read per node. */
cairn_err smt_scrub(const kv_reader *r, uint64_t version, bool check_latest,
                    smt_scrub_stats *stats,
                    uint8_t bad_path[static SMT_HASH_BYTES]) CAIRN_MUST_CHECK;
/* The same walk, calling leaf (if not NULL) for every leaf in increasing key
 * hash order, which is the order of the 'L' index keys: a caller can compare
 * the index with the tree in one merged pass. A non-OK return stops the walk
 * and is returned (bad_path = that leaf's key hash). */
typedef cairn_err (*smt_leaf_cb)(void *ctx, const uint8_t key_hash[SMT_HASH_BYTES],
                                 const uint8_t *val, uint32_t val_len);
cairn_err smt_scrub_each(const kv_reader *r, uint64_t version, smt_scrub_stats *stats,
                         uint8_t bad_path[static SMT_HASH_BYTES], smt_leaf_cb leaf,
                         void *ctx) CAIRN_MUST_CHECK;

/* The latest-value index ('L') is not authenticated by the tree: these check
 * and rebuild one entry from the tree of `version` (the newest one).
 * smt_latest_check: CAIRN_OK if the entry (its stored bytes, lval) says what
 * the tree says of key hash kh (present with the same value, or absent), or was
 * written after `version`; CAIRN_ECORRUPT if not (or it does not decode);
 * another error if the tree cannot be read (CAIRN_ECORRUPT from a damaged tree
 * node, CAIRN_EBAD_HEIGHT if `version` is not stored).
 * smt_latest_rebuild: puts into out the entry the tree says, marked as changed
 * at `version` (reads of older versions then walk their own tree). */
/* Whether an 'L' entry (its stored bytes) agrees with the tree of `version`,
 * where its key hash holds val (found) or nothing: CAIRN_OK or CAIRN_ECORRUPT
 * (also when it does not decode). An entry written after `version` cannot be
 * compared and agrees. */
cairn_err smt_latest_agrees(const uint8_t *raw, size_t n, uint64_t version, bool found,
                            const uint8_t *val, uint32_t val_len) CAIRN_MUST_CHECK;
cairn_err smt_latest_check(const kv_reader *r, uint64_t version,
                           const uint8_t kh[static SMT_HASH_BYTES], const uint8_t *lval,
                           size_t lval_len) CAIRN_MUST_CHECK;
cairn_err smt_latest_rebuild(const kv_reader *r, uint64_t version,
                             const uint8_t kh[static SMT_HASH_BYTES],
                             kv_batch *out) CAIRN_MUST_CHECK;

/* ------------------------------------------------------------------ proofs */

enum smt_proof_kind { SMT_PROOF_EMPTY = 0, SMT_PROOF_LEAF = 1 };

/* A decoded proof (include/cairn/proof.h has the encoding). */
typedef struct {
    uint8_t kind;
    uint8_t leaf_key_hash[SMT_HASH_BYTES]; /* kind LEAF */
    uint8_t leaf_val_hash[SMT_HASH_BYTES]; /* kind LEAF */
    uint16_t depth;
    uint8_t bitmap[SMT_DEPTH_MAX / 8];
    uint16_t n_siblings;
    uint8_t siblings[SMT_DEPTH_MAX][SMT_HASH_BYTES]; /* non-empty ones, top-down */
} smt_proof;

/* Strict: BAD_VERSION, BAD_TYPE, TRUNCATED, TRAILING, TOO_LARGE (depth > 256),
 * NONCANONICAL (unused bitmap bits, a listed sibling equal to the empty hash). */
cairn_err smt_proof_decode(smt_proof *p, const uint8_t *b, size_t n) CAIRN_MUST_CHECK;
cairn_err smt_proof_encode(const smt_proof *p, buf_t *out) CAIRN_MUST_CHECK;
/* CAIRN_OK or CAIRN_EBAD_PROOF: p proves key -> value (value != NULL) or the
 * absence of key (value == NULL) under root. Iterative, at most 256 levels. */
cairn_err smt_proof_verify(const smt_proof *p, const uint8_t root[static SMT_HASH_BYTES],
                           const uint8_t key_hash[static SMT_HASH_BYTES],
                           const uint8_t *value, size_t value_len) CAIRN_MUST_CHECK;

/* Hash helpers (exposed for tests and tools). */
void smt_leaf_hash(uint8_t out[static SMT_HASH_BYTES],
                   const uint8_t key_hash[static SMT_HASH_BYTES],
                   const uint8_t val_hash[static SMT_HASH_BYTES]);
void smt_internal_hash(uint8_t out[static SMT_HASH_BYTES],
                       const uint8_t l[static SMT_HASH_BYTES],
                       const uint8_t r[static SMT_HASH_BYTES]);

/* ------------------------------------------------------------------ nodes */

enum smt_kind { SMT_KIND_EMPTY = 0, SMT_KIND_LEAF = 1, SMT_KIND_INTERNAL = 2 };

/* A reference to a stored node: its kind, the version that wrote it, its hash. */
typedef struct {
    uint8_t kind;
    uint64_t version;
    uint8_t hash[SMT_HASH_BYTES];
} smt_ref;

/* A stored node as decoded (borrows from the bytes for the leaf value).
 * Encoding: u8 kind; internal: two child refs, each u8 kind then, if not empty,
 * u64 version | hash[32]; leaf: key hash[32] | bytes value (<= SMT_VALUE_MAX). */
typedef struct {
    uint8_t kind; /* SMT_KIND_LEAF or SMT_KIND_INTERNAL */
    smt_ref child[2];
    uint8_t key_hash[SMT_HASH_BYTES];
    const uint8_t *val;
    uint32_t val_len;
} smt_node;

/* Strict decoder for bytes read from the store; rejects an internal node that
 * breaks invariant 1 (NONCANONICAL). */
cairn_err smt_node_decode(smt_node *nd, const uint8_t *b, size_t n) CAIRN_MUST_CHECK;
cairn_err smt_node_encode(const smt_node *nd, buf_t *out) CAIRN_MUST_CHECK;
void smt_node_hash(const smt_node *nd, uint8_t out[static SMT_HASH_BYTES]);

#endif
