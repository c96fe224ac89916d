/* signer.h - the validator's crash-safe signer: it never signs two different
 * messages for one (height, round, step), not even across crashes.
 *
 * The signing state (the last signed height, round, step, sign-bytes hash,
 * timestamp and signature, plus the validator's public key and a checksum) lives
 * in one small file, rewritten atomically: temp file, fsync, rename, fsync of the
 * directory (docs/wal.md has the byte layout and the recovery rules).
 *
 * Invariants:
 *  1. Durable before visible: a signature for a new (height, round, step) is
 *     handed to the caller only after the state naming it is on disk. (The
 *     signature is computed first because the file records it, but it does not
 *     leave the signer before the rename and directory fsync have returned.)
 *  2. (height, round, step) only grows. A request below the last one fails with
 *     CAIRN_EDOUBLE_SIGN; so does one at the same (height, round, step) with
 *     different sign bytes, except the timestamp rule below.
 *  3. The same request twice gets the same signature (idempotent, no disk write).
 *  4. Timestamp rule (CometBFT's privval): a vote or proposal that differs from
 *     the one last signed at the same (height, round, step) ONLY in its timestamp
 *     gets the old signature back and its time_ns is set to the old timestamp,
 *     so the returned message verifies. Nothing is written.
 *  5. A damaged or foreign state file is never silently reset: signer_open fails
 *     (CAIRN_ECORRUPT, CAIRN_EBAD_KEY). A missing file fails with
 *     CAIRN_ENOT_FOUND; only signer_create starts a fresh state, and only where
 *     no file exists, so a deleted state file is noticed.
 *  6. After an I/O error while persisting, the signer refuses every further
 *     request (CAIRN_EIO) until it is reopened: the disk may hold a newer state
 *     than memory, and guessing could double-sign.
 *  7. One process at a time: signer_open takes an exclusive flock on
 *     "<path>.lock" and fails with CAIRN_EBUSY if another holder has it.
 *
 * Step order: proposal (1) < prevote (2) < precommit (3).
 * Threads: a signer_t has one owner thread; distinct signers are independent.
 */
#ifndef CAIRN_WAL_SIGNER_H
#define CAIRN_WAL_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "chain/chain.h"
#include "crypto/crypto.h"

enum signer_step {
    SIGNER_STEP_NONE = 0, /* nothing signed yet */
    SIGNER_STEP_PROPOSAL = 1,
    SIGNER_STEP_PREVOTE = 2,
    SIGNER_STEP_PRECOMMIT = 3,
};

/* The state file's contents (SIGNER_STATE_BYTES bytes on disk). */
#define SIGNER_STATE_BYTES 192
#define SIGNER_STATE_VERSION 1

typedef struct {
    uint8_t pub[PUBKEY_BYTES]; /* the key this state belongs to */
    uint64_t height;           /* 0 with step NONE: nothing signed */
    uint32_t round;
    uint8_t step; /* enum signer_step */
    int64_t time_ns;
    uint8_t sign_hash[HASH_BYTES]; /* SHA-256 of the last sign bytes */
    uint8_t sig[SIG_BYTES];
} signer_state_t;

void signer_state_encode(const signer_state_t *st, uint8_t out[static SIGNER_STATE_BYTES]);
/* Strict: exactly SIGNER_STATE_BYTES (else TRUNCATED / TRAILING), magic
 * (BAD_ENCODING), checksum (CORRUPT), version (BAD_VERSION), step range and zero
 * padding (BAD_ENCODING), "nothing signed" means all-zero fields (BAD_ENCODING).
 * encode(decode(b)) == b for every accepted b. */
cairn_err signer_state_decode(signer_state_t *st, const uint8_t *p, size_t n) CAIRN_MUST_CHECK;

typedef struct signer signer_t;

/* Writes a fresh "nothing signed" state for kp at path, then opens it.
 * CAIRN_EEXISTS if the file exists (never overwrites). *out: signer_close(). */
cairn_err signer_create(const char *path, const keypair_t *kp, signer_t **out) CAIRN_MUST_CHECK;
/* Opens an existing state. CAIRN_ENOT_FOUND if missing, CAIRN_ECORRUPT if it fails
 * to decode, CAIRN_EBAD_KEY if it belongs to another key, CAIRN_EBUSY if another
 * signer holds it, CAIRN_EIO. The keypair is copied (and wiped on close). */
cairn_err signer_open(const char *path, const keypair_t *kp, signer_t **out) CAIRN_MUST_CHECK;
/* Releases the lock and wipes the key. NULL is fine. Nothing to flush: every
 * state change is already durable. */
void signer_close(signer_t *s);
/* The last signed state (a copy). */
void signer_state_get(const signer_t *s, signer_state_t *out);

/* Signs msg (sign bytes made by the caller) as (height, round, step) under the
 * rules above, without the timestamp rule (time_ns is only recorded).
 * CAIRN_EINVALID_ARG for height 0 or an unknown step. */
cairn_err signer_sign_bytes(signer_t *s, uint64_t height, uint32_t round, uint8_t step,
                            const uint8_t *msg, size_t n, int64_t time_ns,
                            uint8_t sig[static SIG_BYTES]) CAIRN_MUST_CHECK;
/* Signs a prevote or precommit: fills v->sig, and may rewrite v->time_ns (rule 4).
 * v->validator is not checked against the key: the caller sets it. */
cairn_err signer_sign_vote(signer_t *s, vote_t *v, const chain_id_t *cid) CAIRN_MUST_CHECK;
/* Signs a proposal: fills p->sig, and may rewrite p->time_ns (rule 4). */
cairn_err signer_sign_proposal(signer_t *s, proposal_t *p,
                               const chain_id_t *cid) CAIRN_MUST_CHECK;

#endif
