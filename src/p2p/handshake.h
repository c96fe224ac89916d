/* handshake.h - the authenticated key exchange of a p2p connection, as a pure
 * state machine (docs/p2p.md, "Handshake"). No sockets, no clock: the transport
 * feeds it the bytes it read and sends the bytes it outputs, so it can be unit
 * tested and fuzzed on its own.
 *
 *   both       -> HELLO  magic | version | SHA-256(chain id) | ephemeral X25519 key
 *   responder  -> AUTH   frame (channel 0): node Ed25519 key | signature
 *   initiator  -> AUTH   frame (channel 0), only after it accepted the responder's
 * Transcript hash th = SHA-256("cairn-p2p-v1 transcript" | version u16 | chain id
 * length u32 | chain id | smaller ephemeral key | larger ephemeral key).
 * Keys: HKDF-SHA256(salt = th, ikm = X25519 shared secret, info = "cairn-p2p-v1
 * keys") -> 64 bytes, initiator->responder key then responder->initiator key. Each
 * AUTH signs "cairn-p2p-v1 auth" | role byte | th with the node key.
 *
 * Invariants:
 *   1. nothing but the HELLO is sent in plaintext;
 *   2. a side reaches DONE only after it checked the peer's signature over the
 *      transcript (so the peer holds both its node key and the ephemeral secret),
 *      and, if an expected node address was given, that the peer's key hashes to
 *      it; the initiator sends its own AUTH only after that, so a refused
 *      responder never learns who dialled it;
 *   3. low-order ephemeral keys, an all-zero shared secret, our own ephemeral key
 *      echoed back and our own node key are refused;
 *   4. after an error the state is FAILED and every later call returns the error.
 * Thread: one owner. Pure apart from drawing a random ephemeral key when none is
 * given.
 */
#ifndef CAIRN_P2P_HANDSHAKE_H
#define CAIRN_P2P_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "crypto/box.h"
#include "crypto/crypto.h"
#include "p2p/frame.h"

#define P2P_PROTOCOL_VERSION 1
#define P2P_MAGIC "CRNP"
#define P2P_HELLO_BYTES (4 + 2 + HASH_BYTES + BOX_PUB_BYTES)             /* 70 */
#define P2P_AUTH_PAYLOAD_BYTES (PUBKEY_BYTES + SIG_BYTES)                 /* 96 */
#define P2P_AUTH_FRAME_BYTES (P2P_AUTH_PAYLOAD_BYTES + P2P_FRAME_OVERHEAD) /* 133 */
#define P2P_CHANNEL_HANDSHAKE 0x00
#define P2P_HS_CHAIN_ID_MAX 64

typedef enum {
    P2P_HS_WAIT_HELLO = 0,
    P2P_HS_WAIT_AUTH,
    P2P_HS_DONE,
    P2P_HS_FAILED,
} p2p_hs_state;

typedef struct {
    /* configuration */
    bool initiator;
    keypair_t node;
    char chain_id[P2P_HS_CHAIN_ID_MAX + 1];
    uint8_t chain_hash[HASH_BYTES];
    bool has_expected;
    uint8_t expected_addr[ADDR_BYTES];
    box_keypair_t eph;
    /* progress */
    p2p_hs_state state;
    cairn_err err;
    uint8_t in[P2P_AUTH_FRAME_BYTES];
    size_t in_have;
    uint8_t out[P2P_HELLO_BYTES + P2P_AUTH_FRAME_BYTES];
    size_t out_len;
    uint8_t th[HASH_BYTES];
    uint8_t send_key[BOX_KEY_BYTES];
    uint8_t recv_key[BOX_KEY_BYTES];
    /* result */
    uint8_t remote_pub[PUBKEY_BYTES];
    uint8_t remote_addr[ADDR_BYTES];
} p2p_hs;

/* Starts a handshake; the HELLO is ready in the output at once. node is copied
 * (wiped by p2p_hs_deinit). expected_addr may be NULL (accept any node id).
 * eph may be NULL (fresh random key; pass one only in tests). chain_id must be
 * 1..P2P_HS_CHAIN_ID_MAX bytes (CAIRN_EINVALID_ARG). */
cairn_err p2p_hs_init(p2p_hs *hs, bool initiator, const keypair_t *node,
                      const char *chain_id, const uint8_t *expected_addr,
                      const box_keypair_t *eph) CAIRN_MUST_CHECK;
void p2p_hs_deinit(p2p_hs *hs);

/* Bytes to send now (possibly 0). The pointer is into hs and valid until the next
 * call on hs; taking them clears the output. */
const uint8_t *p2p_hs_output(p2p_hs *hs, size_t *n);

/* Feeds bytes from the peer. Consumes at most up to the end of the handshake;
 * bytes after it (*consumed < n once DONE) are the first frames and belong to
 * the frame reader. Returns CAIRN_OK while the handshake goes on or is done,
 * else why it failed:
 *   CAIRN_EHANDSHAKE     bad magic, or our own ephemeral key echoed back
 *   CAIRN_EBAD_VERSION   other protocol version
 *   CAIRN_EBAD_CHAIN_ID  the peer is a node of another chain
 *   CAIRN_EBAD_KEY       low-order ephemeral key / all-zero shared secret
 *   CAIRN_EBAD_MAC       AUTH does not decrypt (tampered, or not our session)
 *   CAIRN_EBAD_FRAME     AUTH on a wrong channel or of a wrong length
 *   CAIRN_EBAD_SIGNATURE the transcript signature does not verify
 *   CAIRN_EBAD_PEER      the node id is not the expected one, or is our own. */
cairn_err p2p_hs_feed(p2p_hs *hs, const uint8_t *in, size_t n,
                      size_t *consumed) CAIRN_MUST_CHECK;

static inline bool p2p_hs_done(const p2p_hs *hs) { return hs->state == P2P_HS_DONE; }

/* After DONE: the ciphers of both directions, counters already past the AUTH
 * frames. The caller owns them (wipe when done). */
void p2p_hs_session(const p2p_hs *hs, p2p_cipher *send, p2p_cipher *recv);

/* Lower-case hex of a node address (41 bytes with NUL). */
void p2p_node_id_hex(char out[static 2 * ADDR_BYTES + 1],
                     const uint8_t pub[static PUBKEY_BYTES]);

#endif
