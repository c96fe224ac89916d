/* box.h - key agreement, key derivation and authenticated encryption (libsodium).
 *
 * The pieces the p2p handshake and frames are built from:
 *   - X25519 ephemeral key pairs and the shared secret, refusing low-order points
 *     (libsodium's failure return) and all-zero results;
 *   - HKDF-SHA256 (RFC 5869) on top of HMAC-SHA256;
 *   - ChaCha20-Poly1305 IETF (RFC 8439) with a 64-bit counter as the nonce:
 *     nonce = 4 zero bytes || counter as u64 little-endian. The caller owns the
 *     counter and must never reuse one with the same key.
 * Invariant: secret material on the stack is wiped before return.
 * Pure apart from box_keypair_generate() (randomness); any thread may call these
 * after crypto_init().
 */
#ifndef CAIRN_CRYPTO_BOX_H
#define CAIRN_CRYPTO_BOX_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define BOX_PUB_BYTES 32
#define BOX_SEC_BYTES 32
#define BOX_SHARED_BYTES 32
#define BOX_KEY_BYTES 32
#define BOX_TAG_BYTES 16
#define BOX_HKDF_MAX_OUT (255 * 32)

typedef struct {
    uint8_t pub[BOX_PUB_BYTES];
    uint8_t sec[BOX_SEC_BYTES];
} box_keypair_t;

void box_keypair_generate(box_keypair_t *kp);
/* Deterministic key pair from 32 secret bytes (tests, fuzzing). */
void box_keypair_from_secret(box_keypair_t *kp, const uint8_t sec[static BOX_SEC_BYTES]);

/* X25519(sec, peer_pub). CAIRN_EBAD_KEY if peer_pub is a low-order point or the
 * result is all zeros; out is zeroed on failure. */
cairn_err box_shared(uint8_t out[static BOX_SHARED_BYTES],
                     const uint8_t sec[static BOX_SEC_BYTES],
                     const uint8_t peer_pub[static BOX_PUB_BYTES]) CAIRN_MUST_CHECK;

/* HKDF-SHA256 extract-then-expand. out_len <= BOX_HKDF_MAX_OUT. */
cairn_err box_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt,
                          size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                          const uint8_t *info, size_t info_len) CAIRN_MUST_CHECK;

/* ChaCha20-Poly1305 IETF. box_seal writes n + BOX_TAG_BYTES bytes to out (out may
 * equal msg). box_open writes ct_len - BOX_TAG_BYTES bytes (out may equal ct) and
 * fails with CAIRN_EBAD_MAC if the tag does not verify (out is then zeroed). */
void box_seal(uint8_t *out, const uint8_t key[static BOX_KEY_BYTES], uint64_t counter,
              const uint8_t *ad, size_t ad_len, const uint8_t *msg, size_t n);
cairn_err box_open(uint8_t *out, const uint8_t key[static BOX_KEY_BYTES],
                   uint64_t counter, const uint8_t *ad, size_t ad_len,
                   const uint8_t *ct, size_t ct_len) CAIRN_MUST_CHECK;

#endif
