/* chain.h - the ledger's data types and their validation rules (DESIGN.md s.4):
 * transactions, headers, blocks, votes, proposals, commits, validator sets and
 * evidence, with their canonical encodings (codec.h) and sign bytes.
 *
 * Invariants:
 *  1. Every signed byte string starts with a type tag and the chain id
 *     (chain_sign_bytes_*), so no signature can be replayed elsewhere.
 *  2. Decoders are strict: unknown versions, unknown type tags, oversize lengths,
 *     non-canonical values and trailing bytes are rejected with a specific error.
 *     encode(decode(b)) == b for every accepted b.
 *  3. Decoded objects may borrow from the input bytes (marked "borrows"): they are
 *     valid only while those bytes are.
 *  4. A block id is the SHA-256 of the encoded header; a tx hash the SHA-256 of
 *     the encoded tx; an all-zero block id means nil (no block).
 *
 *  5. Encoders append to `out` (they never reset it); on failure `out` is left
 *     exactly as it was. Decoders write their result only on success.
 *
 * Pure: no I/O, no clock (times are passed in as unix nanoseconds).
 * Objects have one owner; functions are safe to call from any thread on
 * distinct objects.
 */
#ifndef CAIRN_CHAIN_CHAIN_H
#define CAIRN_CHAIN_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/error.h"
#include "codec/codec.h"
#include "crypto/crypto.h"

#define CHAIN_ID_MAX 50
#define CHAIN_VERSION 1

/* Limits every node enforces; docs/formats.md explains each. */
#define TX_BYTES_MAX (64 * 1024)
#define TX_KEY_MAX 256
#define TX_VALUE_MAX (16 * 1024)
#define BLOCK_BYTES_MAX (8 * 1024 * 1024)
#define BLOCK_TXS_MAX 20000
#define VALIDATORS_MAX 150
#define EVIDENCE_MAX 32
/* Bound on a validator set's total power, so that sums of powers and of
 * priorities (CometBFT's window is 2 * total) can never overflow int64. */
#define VALSET_TOTAL_POWER_MAX (INT64_MAX / 8)

typedef struct {
    char id[CHAIN_ID_MAX + 1]; /* printable ASCII, 1..CHAIN_ID_MAX chars */
    uint8_t len;
} chain_id_t;

/* CAIRN_EINVALID_ARG unless s is 1..CHAIN_ID_MAX printable ASCII chars (0x21..0x7e). */
cairn_err chain_id_set(chain_id_t *cid, const char *s) CAIRN_MUST_CHECK;
bool chain_id_equal(const chain_id_t *a, const chain_id_t *b);

/* ---------------------------------------------------------------- transactions */

enum tx_type { TX_TRANSFER = 1, TX_PUT = 2, TX_DELETE = 3 };

/* Encoding (docs/formats.md): version u8 | type u8 | sender pubkey[32] | nonce u64 |
 * fee u64 | payload | signature[64], where payload is
 *   transfer: to[20] | amount u64
 *   put:      key bytes(<=TX_KEY_MAX) | value bytes(<=TX_VALUE_MAX)
 *   delete:   key bytes(<=TX_KEY_MAX)
 * Keys are at least 1 byte. The signature covers chain_sign_bytes_tx(). */
typedef struct {
    uint8_t version;
    uint8_t type;
    uint8_t sender[PUBKEY_BYTES];
    uint64_t nonce;
    uint64_t fee;
    uint8_t to[ADDR_BYTES]; /* transfer */
    uint64_t amount;        /* transfer */
    const uint8_t *key;     /* put, delete: borrows */
    uint32_t key_len;
    const uint8_t *value; /* put: borrows */
    uint32_t value_len;
    uint8_t sig[SIG_BYTES];
} tx_t;

cairn_err tx_encode(const tx_t *tx, buf_t *out) CAIRN_MUST_CHECK;
/* Borrows from p. Checks the format only, not the signature. */
cairn_err tx_decode(tx_t *tx, const uint8_t *p, size_t n) CAIRN_MUST_CHECK;
/* The bytes the sender signs: "cairn/tx/v1" | chain id | tx encoding without sig. */
cairn_err tx_sign_bytes(const tx_t *tx, const chain_id_t *cid, buf_t *out) CAIRN_MUST_CHECK;
cairn_err tx_sign(tx_t *tx, const chain_id_t *cid, const keypair_t *kp) CAIRN_MUST_CHECK;
cairn_err tx_verify(const tx_t *tx, const chain_id_t *cid) CAIRN_MUST_CHECK;
void tx_hash(uint8_t out[static HASH_BYTES], const uint8_t *raw, size_t n);

/* -------------------------------------------------------------- validator sets */

typedef struct {
    uint8_t pub[PUBKEY_BYTES];
    uint8_t address[ADDR_BYTES];
    int64_t power;             /* > 0 */
    int64_t proposer_priority; /* CometBFT's proposer-priority rule */
} validator_t;

/* Sorted by power descending, then address ascending (CometBFT's order); the
 * index of a validator in this order is its index in votes and commits.
 * A plain value: copy it with `=`. */
typedef struct {
    uint32_t count;
    validator_t v[VALIDATORS_MAX];
    int64_t total_power;
    /* The proposer chosen by the last increment (CometBFT's vals.Proposer). It is
     * NOT always the highest priority now: the chosen one was decremented. */
    uint32_t proposer_index;
} valset_t;

/* CometBFT's NewValidatorSet: takes pub and power of each entry (address and
 * proposer_priority are ignored and recomputed), sorts, sets every priority to 0
 * and increments once, so valset_proposer() is the proposer of round 0 of the
 * first height. Errors: count 0 or power <= 0 -> INVALID_ARG, count >
 * VALIDATORS_MAX -> TOO_LARGE, total > VALSET_TOTAL_POWER_MAX -> OVERFLOW,
 * the same key twice -> DUPLICATE. vs is written only on success. */
cairn_err valset_init(valset_t *vs, const validator_t *vals, uint32_t count) CAIRN_MUST_CHECK;
/* RFC 6962 root whose leaves are pubkey[32] | power i64 (40 bytes), in set
 * order; priorities are not hashed. */
cairn_err valset_hash(const valset_t *vs, uint8_t out[static HASH_BYTES]) CAIRN_MUST_CHECK;
int valset_index_of(const valset_t *vs, const uint8_t addr[static ADDR_BYTES]); /* -1 */
/* CometBFT's IncrementProposerPriority(times): rescale to a window of
 * 2 * total power, centre on the average, then `times` rounds of "everyone +=
 * power, the highest priority (ties: lower address) is proposer and -= total".
 * times == 0 is a no-op. Cost O(times * count): callers bound `times`.
 * For round r of a height, copy the height's set and increment r times. */
void valset_increment_priority(valset_t *vs, uint32_t times);
/* The proposer chosen by the last increment; borrows from vs. */
const validator_t *valset_proposer(const valset_t *vs);
/* > 2/3 of total power: 3 * power > 2 * total, exact (128-bit) arithmetic, so
 * exactly 2/3 is not a quorum. Any int64 power is safe to pass. */
bool valset_has_quorum(const valset_t *vs, int64_t power);
/* > 1/3 of total power (3 * power > total, i.e. >= total/3 + 1 in integer
 * division; f+1): at least one honest validator. */
bool valset_has_one_third(const valset_t *vs, int64_t power);
/* Encodes everything, priorities and proposer included (for storage). */
cairn_err valset_encode(const valset_t *vs, buf_t *out) CAIRN_MUST_CHECK;
/* Strict: sorted (NONCANONICAL), no duplicate (DUPLICATE), powers > 0
 * (BAD_ENCODING), total bounded (OVERFLOW), count 1..VALIDATORS_MAX. */
cairn_err valset_decode(valset_t *vs, const uint8_t *p, size_t n) CAIRN_MUST_CHECK;

/* ----------------------------------------------------------------- votes */

enum vote_type { VOTE_PREVOTE = 1, VOTE_PRECOMMIT = 2 };

typedef struct {
    uint8_t type;
    uint64_t height;
    uint32_t round;
    uint8_t block_id[HASH_BYTES]; /* all zero: nil */
    int64_t time_ns;
    uint8_t validator[ADDR_BYTES];
    uint32_t validator_index;
    uint8_t sig[SIG_BYTES];
} vote_t;

cairn_err vote_encode(const vote_t *v, buf_t *out) CAIRN_MUST_CHECK;
cairn_err vote_decode(vote_t *v, const uint8_t *p, size_t n) CAIRN_MUST_CHECK;
/* "cairn/vote/v1" | chain id | type | height | round | block id | time. */
cairn_err vote_sign_bytes(const vote_t *v, const chain_id_t *cid, buf_t *out) CAIRN_MUST_CHECK;
cairn_err vote_verify(const vote_t *v, const chain_id_t *cid,
                      const uint8_t pub[static PUBKEY_BYTES]) CAIRN_MUST_CHECK;
bool vote_is_nil(const vote_t *v);

/* ----------------------------------------------------------------- proposals */

typedef struct {
    uint64_t height;
    uint32_t round;
    int32_t pol_round; /* -1 if none */
    uint8_t block_id[HASH_BYTES];
    int64_t time_ns;
    uint8_t proposer[ADDR_BYTES];
    uint8_t sig[SIG_BYTES];
} proposal_t;

cairn_err proposal_encode(const proposal_t *p, buf_t *out) CAIRN_MUST_CHECK;
cairn_err proposal_decode(proposal_t *p, const uint8_t *b, size_t n) CAIRN_MUST_CHECK;
/* "cairn/proposal/v1" | chain id | height | round | pol_round | block id | time. */
cairn_err proposal_sign_bytes(const proposal_t *p, const chain_id_t *cid,
                              buf_t *out) CAIRN_MUST_CHECK;
cairn_err proposal_verify(const proposal_t *p, const chain_id_t *cid,
                          const uint8_t pub[static PUBKEY_BYTES]) CAIRN_MUST_CHECK;

/* ----------------------------------------------------------------- commits */

enum commit_flag { COMMIT_ABSENT = 1, COMMIT_FOR_BLOCK = 2, COMMIT_NIL = 3 };

typedef struct {
    uint8_t flag;
    uint8_t validator[ADDR_BYTES];
    int64_t time_ns;
    uint8_t sig[SIG_BYTES];
} commit_sig_t;

/* The precommits of one round for one block, one slot per validator in the
 * validator set's order. Heap object: commit_free(). */
typedef struct {
    uint64_t height;
    uint32_t round;
    uint8_t block_id[HASH_BYTES];
    uint32_t n_sigs;
    commit_sig_t *sigs;
} commit_t;

/* Height 0 is the empty commit of block 1: round 0, nil block id, no slots.
 * Any other commit has a non-nil block id and 1..VALIDATORS_MAX slots.
 * Absent slots encode only their flag: their other fields are not encoded
 * (and decode as zero). Flags outside commit_flag -> NONCANONICAL. */
cairn_err commit_encode(const commit_t *c, buf_t *out) CAIRN_MUST_CHECK;
/* Allocates c->sigs; commit_free() releases it. On error nothing is allocated. */
cairn_err commit_decode(commit_t *c, const uint8_t *p, size_t n) CAIRN_MUST_CHECK;
void commit_free(commit_t *c);
/* SHA-256 of the commit's encoding (the header's last_commit_hash). */
cairn_err commit_hash(const commit_t *c, uint8_t out[static HASH_BYTES]) CAIRN_MUST_CHECK;
/* Every present signature verifies and the ones for the block carry > 2/3 of vs.
 * Errors: BAD_HEIGHT (other height), BAD_COMMIT (other block, slot count !=
 * vs->count, or not > 2/3), BAD_VALIDATOR (slot address is not vs's validator
 * at that index), BAD_SIGNATURE. */
cairn_err commit_verify(const commit_t *c, const chain_id_t *cid, const valset_t *vs,
                        uint64_t height, const uint8_t block_id[static HASH_BYTES]) CAIRN_MUST_CHECK;
/* The vote a commit slot stands for (to check its signature). */
void commit_sig_to_vote(const commit_t *c, uint32_t index, vote_t *out);

/* ----------------------------------------------------------------- evidence */

/* Two conflicting signed votes from one validator at one (height, round, type).
 * Canonical order: a.block_id < b.block_id (memcmp); the decoder rejects
 * anything else with NONCANONICAL, so one offence has one encoding. */
typedef struct {
    vote_t a;
    vote_t b;
} evidence_t;

/* Puts the two votes in canonical order. */
void evidence_init(evidence_t *e, const vote_t *x, const vote_t *y);
/* SHA-256 of the encoding: identifies the evidence (dedup, evidence_hash leaves). */
cairn_err evidence_hash(const evidence_t *e, uint8_t out[static HASH_BYTES]) CAIRN_MUST_CHECK;

cairn_err evidence_encode(const evidence_t *e, buf_t *out) CAIRN_MUST_CHECK;
cairn_err evidence_decode(evidence_t *e, const uint8_t *p, size_t n) CAIRN_MUST_CHECK;
/* Same validator, height, round and type, different block ids, both signatures
 * valid under the validator's key in vs. */
cairn_err evidence_verify(const evidence_t *e, const chain_id_t *cid,
                          const valset_t *vs) CAIRN_MUST_CHECK;

/* ----------------------------------------------------------------- blocks */

typedef struct {
    uint8_t version;
    chain_id_t chain_id;
    uint64_t height;
    int64_t time_ns;
    uint8_t last_block_id[HASH_BYTES]; /* zero at height 1 */
    uint8_t last_commit_hash[HASH_BYTES];
    uint8_t data_hash[HASH_BYTES];     /* Merkle root of tx hashes */
    uint8_t validators_hash[HASH_BYTES];
    uint8_t next_validators_hash[HASH_BYTES];
    uint8_t app_hash[HASH_BYTES];      /* state after the previous block */
    uint8_t results_hash[HASH_BYTES];  /* results of the previous block's txs */
    uint8_t evidence_hash[HASH_BYTES];
    uint8_t proposer[ADDR_BYTES];
} header_t;

cairn_err header_encode(const header_t *h, buf_t *out) CAIRN_MUST_CHECK;
cairn_err header_decode(header_t *h, const uint8_t *p, size_t n) CAIRN_MUST_CHECK;
/* Block id: SHA-256 of the header encoding. */
cairn_err header_hash(const header_t *h, uint8_t out[static HASH_BYTES]) CAIRN_MUST_CHECK;

/* Heap object: block_free() frees txs, evidence, last_commit.sigs and owned
 * (each with free()), so a block built by hand must malloc them or use
 * block_assemble(). */
typedef struct {
    header_t header;
    uint32_t n_txs;
    bytes_view *txs;  /* each points into `raw` or into owned memory */
    uint32_t n_evidence;
    evidence_t *evidence;
    commit_t last_commit; /* height 1: empty (n_sigs = 0) */
    uint8_t *owned;       /* backing memory for txs, freed by block_free */
} block_t;

/* Encoding: header | txs | evidence | last commit (docs/formats.md). Fails
 * with TOO_LARGE beyond BLOCK_BYTES_MAX. */
cairn_err block_encode(const block_t *b, buf_t *out) CAIRN_MUST_CHECK;
/* Copies what it keeps: the result does not borrow from p. */
cairn_err block_decode(block_t *b, const uint8_t *p, size_t n) CAIRN_MUST_CHECK;
void block_free(block_t *b);
/* RFC 6962 root whose leaves are the 32-byte tx hashes, as data_hash must be
 * (CometBFT's Txs.Hash); no txs -> SHA-256(""). */
cairn_err block_data_hash(const block_t *b, uint8_t out[static HASH_BYTES]) CAIRN_MUST_CHECK;
/* The same over evidence_hash() of each evidence. */
cairn_err block_evidence_hash(const block_t *b, uint8_t out[static HASH_BYTES]) CAIRN_MUST_CHECK;
/* Builds a block owning copies of the txs, evidence and last commit, with
 * header = *h except data_hash, evidence_hash and last_commit_hash, which are
 * computed. b is written only on success; free it with block_free(). */
cairn_err block_assemble(block_t *b, const header_t *h, const bytes_view *txs, uint32_t n_txs,
                         const evidence_t *ev, uint32_t n_ev,
                         const commit_t *last_commit) CAIRN_MUST_CHECK;

/* What the node knows of the chain before a block: enough to validate it. */
typedef struct {
    chain_id_t chain_id;
    uint64_t last_height;              /* 0 before the first block */
    uint8_t last_block_id[HASH_BYTES];
    int64_t last_time_ns;
    valset_t validators;               /* sign this height */
    valset_t last_validators;          /* signed last_commit */
    uint8_t next_validators_hash[HASH_BYTES];
    uint8_t app_hash[HASH_BYTES];
    uint8_t last_results_hash[HASH_BYTES];
} chain_state_t;

/* Everything that does not need the application, in this order (first failure
 * wins): version (BAD_VERSION), chain id (BAD_CHAIN_ID), height = last + 1
 * (BAD_HEIGHT), last_block_id (BAD_HASH), time > last time, or >= it at
 * height 1 (BAD_TIME), validators / next validators / app / results hashes
 * (BAD_HASH), proposer in validators (BAD_PROPOSER; whether it is the right one
 * for the round is consensus' business), counts and size (TOO_LARGE), each tx
 * decodes (BAD_TX), data / evidence / last commit hashes (BAD_HASH), last
 * commit: empty at height 1, else commit_verify() against last_validators for
 * last_block_id at height - 1 (BAD_COMMIT, BAD_SIGNATURE, ...), evidence:
 * below this height, no duplicate, evidence_verify() against last_validators
 * for the last height and validators for older ones (BAD_EVIDENCE). */
cairn_err block_validate(const block_t *b, const chain_state_t *st) CAIRN_MUST_CHECK;

/* The state before height 1: no last block, last time = genesis time (block 1
 * may carry it), validators = vs (as valset_init made it: round 0 of height
 * 1), no last validators (count 0), next validators hash = hash(vs), the
 * application's initial app hash, last results hash = SHA-256(""). */
cairn_err chain_state_genesis(chain_state_t *st, const chain_id_t *cid, int64_t genesis_time_ns,
                              const valset_t *vs,
                              const uint8_t app_hash[static HASH_BYTES]) CAIRN_MUST_CHECK;
/* After committing block header h (validated against *st): last height, block
 * id and time from h; last validators = validators; validators incremented once
 * (CometBFT's NextValidators.CopyIncrementProposerPriority(1)); app and
 * results hashes from executing h's block. Validator-set changes are not
 * supported yet: UNSUPPORTED when next_validators_hash is not the current
 * set's hash. *st is changed only on success. */
cairn_err chain_state_advance(chain_state_t *st, const header_t *h,
                              const uint8_t app_hash[static HASH_BYTES],
                              const uint8_t results_hash[static HASH_BYTES]) CAIRN_MUST_CHECK;
/* For the store (docs/formats.md "Chain state"). Strict: last_height 0 exactly
 * when last_block_id is zero and there are no last validators (BAD_ENCODING). */
cairn_err chain_state_encode(const chain_state_t *st, buf_t *out) CAIRN_MUST_CHECK;
cairn_err chain_state_decode(chain_state_t *st, const uint8_t *p, size_t n) CAIRN_MUST_CHECK;

#endif
