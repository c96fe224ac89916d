/* frame.h - encrypted frames of a p2p connection (docs/p2p.md, "Frames").
 *
 * After the handshake every byte on a connection belongs to a frame:
 *   header = ChaCha20-Poly1305(key, counter c,   channel u8 | length u32 LE)  21 bytes
 *   body   = ChaCha20-Poly1305(key, counter c+1, payload[length])             length+16
 * Each direction has its own key and 64-bit counter; a frame uses two counter
 * values. Invariants:
 *   1. a counter value is used at most once per key: the sender's counter only
 *      grows, and p2p_frame_seal refuses (CAIRN_ELIMIT) before it would wrap, so
 *      the connection is closed rather than a nonce reused;
 *   2. the reader rejects a length above its maximum (CAIRN_EBAD_FRAME) before it
 *      allocates anything, so a peer cannot make it reserve more than
 *      payload_max + P2P_FRAME_OVERHEAD bytes;
 *   3. any authentication failure (CAIRN_EBAD_MAC) or bad length is sticky: the
 *      reader refuses all later input and the connection must be closed.
 * Pure: no I/O, no clock. One owner per cipher / reader.
 */
#ifndef CAIRN_P2P_FRAME_H
#define CAIRN_P2P_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "crypto/box.h"

#define P2P_FRAME_HDR_PLAIN 5
#define P2P_FRAME_HDR_BYTES (P2P_FRAME_HDR_PLAIN + BOX_TAG_BYTES) /* 21 */
#define P2P_FRAME_OVERHEAD (P2P_FRAME_HDR_BYTES + BOX_TAG_BYTES)   /* 37 */
#define P2P_FRAME_PAYLOAD_MAX_DEFAULT ((uint32_t)4 << 20)          /* 4 MiB */
/* Largest counter a frame may start at: it uses c and c+1, and c+2 must not wrap. */
#define P2P_COUNTER_LAST (UINT64_MAX - 2)

typedef struct {
    uint8_t key[BOX_KEY_BYTES];
    uint64_t counter; /* next nonce to use */
} p2p_cipher;

void p2p_cipher_init(p2p_cipher *c, const uint8_t key[static BOX_KEY_BYTES],
                     uint64_t counter);
void p2p_cipher_wipe(p2p_cipher *c);

static inline size_t p2p_frame_sealed_len(uint32_t payload_len)
{
    return (size_t)payload_len + P2P_FRAME_OVERHEAD;
}

/* Seals one frame into out (p2p_frame_sealed_len(len) bytes) and advances the
 * counter by 2. CAIRN_ELIMIT if the counter is exhausted (nothing written). */
cairn_err p2p_frame_seal(p2p_cipher *c, uint8_t channel, const void *payload,
                         uint32_t len, uint8_t *out) CAIRN_MUST_CHECK;

typedef struct {
    uint8_t channel;
    const uint8_t *payload; /* borrowed from the reader; valid until its next call */
    uint32_t len;
} p2p_frame;

typedef struct {
    p2p_cipher cipher;
    uint32_t payload_max;
    int state; /* 0 reading header, 1 reading body */
    cairn_err err; /* sticky */
    uint8_t hdr[P2P_FRAME_HDR_BYTES];
    size_t have;
    uint8_t channel;
    uint32_t len;
    uint8_t *body; /* owned; len + 16 bytes while reading a body */
    size_t body_cap;
} p2p_frame_reader;

void p2p_frame_reader_init(p2p_frame_reader *r, const uint8_t key[static BOX_KEY_BYTES],
                           uint64_t counter, uint32_t payload_max);
void p2p_frame_reader_deinit(p2p_frame_reader *r);

/* Consumes bytes from in up to the end of the next frame. *consumed gets the
 * number of bytes taken; *got is true when a whole frame was decoded into *out
 * (then more input may remain). Errors: CAIRN_EBAD_FRAME (length above
 * payload_max), CAIRN_EBAD_MAC (tampered or out-of-order bytes), CAIRN_ELIMIT
 * (counter exhausted), CAIRN_ENOMEM. After an error every call fails with it. */
cairn_err p2p_frame_reader_feed(p2p_frame_reader *r, const uint8_t *in, size_t n,
                                size_t *consumed, p2p_frame *out,
                                bool *got) CAIRN_MUST_CHECK;

#endif
