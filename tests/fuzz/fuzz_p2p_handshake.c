/* Arbitrary bytes from the remote side fed to the handshake state machine.
 *
 * Input: byte 0 = mode (bit 0: we are the initiator, bit 1: expect the node id
 * of the test peer key, bits 2-7: chunk size - 1 for feeding), then the remote's
 * bytes. Our keys (node and ephemeral) are fixed so that a recorded handshake is
 * a reproducible seed that reaches the AUTH stage. Checks: the machine never
 * consumes more than it was given, output is only a HELLO then one AUTH frame,
 * a failure is sticky, and DONE implies the peer's key is not ours and matches
 * the expected id; bytes after the handshake go to a frame reader with the
 * session key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "crypto/box.h"
#include "crypto/crypto.h"
#include "p2p/frame.h"
#include "p2p/handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static keypair_t local, remote;
static box_keypair_t eph_i, eph_r;

static void init_keys(void)
{
    static int done;
    if (done) return;
    done = 1;
    if (crypto_init() != CAIRN_OK) abort();
    log_level_set(LOG_OFF);
    uint8_t seed[SEED_BYTES];
    memset(seed, 0x11, sizeof seed);
    key_from_seed(&local, seed);
    memset(seed, 0x22, sizeof seed);
    key_from_seed(&remote, seed);
    uint8_t sec[BOX_SEC_BYTES];
    memset(sec, 0x33, sizeof sec);
    box_keypair_from_secret(&eph_i, sec);
    memset(sec, 0x44, sizeof sec);
    box_keypair_from_secret(&eph_r, sec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_keys();
    if (size < 1) return 0;
    bool initiator = data[0] & 1;
    bool expect = data[0] & 2;
    size_t chunk = (size_t)(data[0] >> 2) + 1;
    data++;
    size--;
    uint8_t want[ADDR_BYTES];
    key_address(want, remote.pub);
    p2p_hs hs;
    if (p2p_hs_init(&hs, initiator, &local, "cairn-fuzz", expect ? want : NULL,
                    initiator ? &eph_i : &eph_r) != CAIRN_OK)
        abort();
    size_t out_total = 0, n;
    p2p_hs_output(&hs, &n);
    if (n != P2P_HELLO_BYTES) abort();
    out_total += n;

    size_t pos = 0;
    cairn_err rc = CAIRN_OK;
    while (pos < size && rc == CAIRN_OK && !p2p_hs_done(&hs)) {
        size_t take = size - pos < chunk ? size - pos : chunk;
        size_t used = 0;
        rc = p2p_hs_feed(&hs, data + pos, take, &used);
        if (used > take) abort();
        pos += used;
        p2p_hs_output(&hs, &n);
        if (n != 0 && n != P2P_AUTH_FRAME_BYTES) abort();
        out_total += n;
        if (rc == CAIRN_OK && used == 0 && !p2p_hs_done(&hs)) abort();
    }
    if (out_total > P2P_HELLO_BYTES + P2P_AUTH_FRAME_BYTES) abort();
    if (rc != CAIRN_OK) {
        size_t used = 1;
        if (p2p_hs_feed(&hs, data, size, &used) != rc || used != 0) abort(); /* sticky */
    }
    if (p2p_hs_done(&hs)) {
        if (out_total != P2P_HELLO_BYTES + P2P_AUTH_FRAME_BYTES) abort();
        if (memcmp(hs.remote_pub, local.pub, PUBKEY_BYTES) == 0) abort();
        if (expect && memcmp(hs.remote_addr, want, ADDR_BYTES) != 0) abort();
        p2p_cipher s, r;
        p2p_hs_session(&hs, &s, &r);
        p2p_frame_reader rd;
        p2p_frame_reader_init(&rd, r.key, r.counter, 1 << 16);
        while (pos < size) {
            size_t used;
            bool got;
            p2p_frame f;
            if (p2p_frame_reader_feed(&rd, data + pos, size - pos, &used, &f, &got) != CAIRN_OK)
                break;
            if (used == 0) abort();
            pos += used;
        }
        p2p_frame_reader_deinit(&rd);
    }
    p2p_hs_deinit(&hs);
    return 0;
}
