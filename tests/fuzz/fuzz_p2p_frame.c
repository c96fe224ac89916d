/* The frame decoder, two ways.
 *
 * byte 0, bit 0 = 0: the rest is ciphertext from a peer, fed to a reader with a
 *   fixed key in chunks of (byte 0 >> 1) + 1 bytes. Every frame it accepts must
 *   re-seal to exactly the bytes it came from (encode(decode(b)) == b), and the
 *   reader must never accept a payload above its maximum.
 * bit 0 = 1: the rest is a list of plaintext messages (channel u8, length u16 LE
 *   capped by what is left, payload); they are sealed, fed back in chunks, and
 *   must come out identical and in order (decode(encode(x)) == x).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "p2p/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAYLOAD_MAX 4096
static const uint8_t KEY[BOX_KEY_BYTES] = {0x42, 1, 2, 3, 4, 5, 6, 7};

static void decode_peer_bytes(const uint8_t *data, size_t size, size_t chunk)
{
    p2p_frame_reader rd;
    p2p_frame_reader_init(&rd, KEY, 2, PAYLOAD_MAX);
    p2p_cipher check;
    p2p_cipher_init(&check, KEY, 2);
    size_t pos = 0, frame_start = 0;
    static uint8_t resealed[PAYLOAD_MAX + P2P_FRAME_OVERHEAD];
    while (pos < size) {
        size_t take = size - pos < chunk ? size - pos : chunk;
        size_t used;
        bool got;
        p2p_frame f;
        if (p2p_frame_reader_feed(&rd, data + pos, take, &used, &f, &got) != CAIRN_OK) break;
        if (used == 0 || used > take) abort();
        pos += used;
        if (!got) continue;
        if (f.len > PAYLOAD_MAX) abort();
        if (p2p_frame_seal(&check, f.channel, f.payload, f.len, resealed) != CAIRN_OK) abort();
        size_t n = p2p_frame_sealed_len(f.len);
        if (pos - frame_start != n || memcmp(resealed, data + frame_start, n) != 0) abort();
        frame_start = pos;
    }
    p2p_frame_reader_deinit(&rd);
}

static void round_trip_messages(const uint8_t *data, size_t size, size_t chunk)
{
    enum { MSGS = 64 };
    uint8_t chan[MSGS];
    const uint8_t *pay[MSGS];
    uint32_t len[MSGS];
    size_t count = 0, pos = 0, wire_len = 0;
    while (pos + 3 <= size && count < MSGS) {
        chan[count] = data[pos];
        uint32_t l = (uint32_t)data[pos + 1] | (uint32_t)data[pos + 2] << 8;
        pos += 3;
        if (l > size - pos) l = (uint32_t)(size - pos);
        pay[count] = data + pos;
        len[count] = l;
        pos += l;
        wire_len += p2p_frame_sealed_len(l);
        count++;
    }
    uint8_t *wire = malloc(wire_len ? wire_len : 1);
    if (wire == NULL) abort();
    p2p_cipher tx;
    p2p_cipher_init(&tx, KEY, 2);
    size_t w = 0;
    for (size_t i = 0; i < count; i++) {
        if (p2p_frame_seal(&tx, chan[i], pay[i], len[i], wire + w) != CAIRN_OK) abort();
        w += p2p_frame_sealed_len(len[i]);
    }
    p2p_frame_reader rd;
    p2p_frame_reader_init(&rd, KEY, 2, 1 << 16);
    size_t seen = 0;
    pos = 0;
    while (pos < w) {
        size_t take = w - pos < chunk ? w - pos : chunk;
        size_t used;
        bool got;
        p2p_frame f;
        if (p2p_frame_reader_feed(&rd, wire + pos, take, &used, &f, &got) != CAIRN_OK) abort();
        pos += used;
        if (!got) continue;
        if (seen >= count || f.channel != chan[seen] || f.len != len[seen] ||
            (f.len && memcmp(f.payload, pay[seen], f.len) != 0))
            abort();
        seen++;
    }
    if (seen != count || rd.cipher.counter != tx.counter) abort();
    p2p_frame_reader_deinit(&rd);
    free(wire);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        if (crypto_init() != CAIRN_OK) abort();
        init = 1;
    }
    if (size < 1) return 0;
    size_t chunk = (size_t)(data[0] >> 1) + 1;
    if (data[0] & 1)
        round_trip_messages(data + 1, size - 1, chunk);
    else
        decode_peer_bytes(data + 1, size - 1, chunk);
    return 0;
}
