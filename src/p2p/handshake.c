#include <string.h>

#include "base/bytes.h"
#include "base/log.h"
#include "p2p/handshake.h"

static const char TRANSCRIPT_TAG[] = "cairn-p2p-v1 transcript";
static const char KEYS_INFO[] = "cairn-p2p-v1 keys";
static const char AUTH_TAG[] = "cairn-p2p-v1 auth";
#define ROLE_INITIATOR 1
#define ROLE_RESPONDER 2

static cairn_err fail(p2p_hs *hs, cairn_err err)
{
    hs->state = P2P_HS_FAILED;
    hs->err = err;
    hs->out_len = 0;
    crypto_wipe(hs->send_key, sizeof hs->send_key);
    crypto_wipe(hs->recv_key, sizeof hs->recv_key);
    return err;
}

static void out_append(p2p_hs *hs, const uint8_t *p, size_t n)
{
    CAIRN_ASSERTF(hs->out_len + n <= sizeof hs->out, "out_len=%zu n=%zu", hs->out_len, n);
    memcpy(hs->out + hs->out_len, p, n);
    hs->out_len += n;
}

static void put_hello(p2p_hs *hs)
{
    uint8_t m[P2P_HELLO_BYTES];
    memcpy(m, P2P_MAGIC, 4);
    m[4] = (uint8_t)(P2P_PROTOCOL_VERSION & 0xff);
    m[5] = (uint8_t)(P2P_PROTOCOL_VERSION >> 8);
    memcpy(m + 6, hs->chain_hash, HASH_BYTES);
    memcpy(m + 6 + HASH_BYTES, hs->eph.pub, BOX_PUB_BYTES);
    out_append(hs, m, sizeof m);
}

cairn_err p2p_hs_init(p2p_hs *hs, bool initiator, const keypair_t *node,
                      const char *chain_id, const uint8_t *expected_addr,
                      const box_keypair_t *eph)
{
    memset(hs, 0, sizeof *hs);
    size_t cid_len = chain_id ? strlen(chain_id) : 0;
    if (cid_len == 0 || cid_len > P2P_HS_CHAIN_ID_MAX) return CAIRN_EINVALID_ARG;
    hs->initiator = initiator;
    hs->node = *node;
    memcpy(hs->chain_id, chain_id, cid_len + 1);
    hash_sha256(hs->chain_hash, chain_id, cid_len);
    if (expected_addr) {
        hs->has_expected = true;
        memcpy(hs->expected_addr, expected_addr, ADDR_BYTES);
    }
    if (eph)
        hs->eph = *eph;
    else
        box_keypair_generate(&hs->eph);
    hs->state = P2P_HS_WAIT_HELLO;
    put_hello(hs);
    return CAIRN_OK;
}

void p2p_hs_deinit(p2p_hs *hs) { crypto_wipe(hs, sizeof *hs); }

const uint8_t *p2p_hs_output(p2p_hs *hs, size_t *n)
{
    *n = hs->out_len;
    hs->out_len = 0;
    return hs->out;
}

static void transcript_hash(p2p_hs *hs, const uint8_t remote_eph[static BOX_PUB_BYTES])
{
    const uint8_t *lo = hs->eph.pub, *hi = remote_eph;
    if (memcmp(lo, hi, BOX_PUB_BYTES) > 0) {
        lo = remote_eph;
        hi = hs->eph.pub;
    }
    uint8_t v[2] = {P2P_PROTOCOL_VERSION & 0xff, P2P_PROTOCOL_VERSION >> 8};
    uint32_t cid_len = (uint32_t)strlen(hs->chain_id);
    uint8_t l[4] = {(uint8_t)cid_len, (uint8_t)(cid_len >> 8), (uint8_t)(cid_len >> 16),
                    (uint8_t)(cid_len >> 24)};
    hash_ctx c;
    hash_init(&c);
    hash_update(&c, TRANSCRIPT_TAG, sizeof TRANSCRIPT_TAG - 1);
    hash_update(&c, v, 2);
    hash_update(&c, l, 4);
    hash_update(&c, hs->chain_id, cid_len);
    hash_update(&c, lo, BOX_PUB_BYTES);
    hash_update(&c, hi, BOX_PUB_BYTES);
    hash_final(&c, hs->th);
}

/* The message a node signs: tag | role | th. */
static void auth_message(uint8_t out[sizeof AUTH_TAG - 1 + 1 + HASH_BYTES], int role,
                         const uint8_t th[static HASH_BYTES])
{
    memcpy(out, AUTH_TAG, sizeof AUTH_TAG - 1);
    out[sizeof AUTH_TAG - 1] = (uint8_t)role;
    memcpy(out + sizeof AUTH_TAG, th, HASH_BYTES);
}

static void put_auth(p2p_hs *hs)
{
    uint8_t msg[sizeof AUTH_TAG - 1 + 1 + HASH_BYTES];
    auth_message(msg, hs->initiator ? ROLE_INITIATOR : ROLE_RESPONDER, hs->th);
    uint8_t payload[P2P_AUTH_PAYLOAD_BYTES];
    memcpy(payload, hs->node.pub, PUBKEY_BYTES);
    key_sign(payload + PUBKEY_BYTES, &hs->node, msg, sizeof msg);
    p2p_cipher c;
    p2p_cipher_init(&c, hs->send_key, 0);
    uint8_t frame[P2P_AUTH_FRAME_BYTES];
    cairn_err rc = p2p_frame_seal(&c, P2P_CHANNEL_HANDSHAKE, payload, sizeof payload, frame);
    CAIRN_ASSERTF(rc == CAIRN_OK, "rc=%d", rc);
    p2p_cipher_wipe(&c);
    out_append(hs, frame, sizeof frame);
}

static cairn_err on_hello(p2p_hs *hs)
{
    const uint8_t *m = hs->in;
    if (memcmp(m, P2P_MAGIC, 4) != 0) return fail(hs, CAIRN_EHANDSHAKE);
    uint16_t version = (uint16_t)(m[4] | m[5] << 8);
    if (version != P2P_PROTOCOL_VERSION) return fail(hs, CAIRN_EBAD_VERSION);
    if (memcmp(m + 6, hs->chain_hash, HASH_BYTES) != 0) return fail(hs, CAIRN_EBAD_CHAIN_ID);
    const uint8_t *remote_eph = m + 6 + HASH_BYTES;
    if (memcmp(remote_eph, hs->eph.pub, BOX_PUB_BYTES) == 0)
        return fail(hs, CAIRN_EHANDSHAKE);

    uint8_t ss[BOX_SHARED_BYTES];
    if (box_shared(ss, hs->eph.sec, remote_eph) != CAIRN_OK) return fail(hs, CAIRN_EBAD_KEY);
    transcript_hash(hs, remote_eph);
    uint8_t keys[2 * BOX_KEY_BYTES];
    cairn_err rc = box_hkdf_sha256(keys, sizeof keys, hs->th, sizeof hs->th, ss, sizeof ss,
                                   (const uint8_t *)KEYS_INFO, sizeof KEYS_INFO - 1);
    crypto_wipe(ss, sizeof ss);
    crypto_wipe(hs->eph.sec, sizeof hs->eph.sec); /* forward secrecy: no longer needed */
    CAIRN_ASSERTF(rc == CAIRN_OK, "rc=%d", rc);
    const uint8_t *i2r = keys, *r2i = keys + BOX_KEY_BYTES;
    memcpy(hs->send_key, hs->initiator ? i2r : r2i, BOX_KEY_BYTES);
    memcpy(hs->recv_key, hs->initiator ? r2i : i2r, BOX_KEY_BYTES);
    crypto_wipe(keys, sizeof keys);

    hs->state = P2P_HS_WAIT_AUTH;
    if (!hs->initiator) put_auth(hs);
    return CAIRN_OK;
}

static cairn_err on_auth(p2p_hs *hs)
{
    p2p_frame_reader r;
    p2p_frame_reader_init(&r, hs->recv_key, 0, P2P_AUTH_PAYLOAD_BYTES);
    size_t used = 0;
    bool got = false;
    p2p_frame f;
    cairn_err rc = p2p_frame_reader_feed(&r, hs->in, P2P_AUTH_FRAME_BYTES, &used, &f, &got);
    if (rc == CAIRN_OK && (!got || f.channel != P2P_CHANNEL_HANDSHAKE ||
                           f.len != P2P_AUTH_PAYLOAD_BYTES || used != P2P_AUTH_FRAME_BYTES))
        rc = CAIRN_EBAD_FRAME;
    if (rc != CAIRN_OK) {
        p2p_frame_reader_deinit(&r);
        return fail(hs, rc);
    }
    memcpy(hs->remote_pub, f.payload, PUBKEY_BYTES);
    uint8_t sig[SIG_BYTES];
    memcpy(sig, f.payload + PUBKEY_BYTES, SIG_BYTES);
    p2p_frame_reader_deinit(&r);

    uint8_t msg[sizeof AUTH_TAG - 1 + 1 + HASH_BYTES];
    auth_message(msg, hs->initiator ? ROLE_RESPONDER : ROLE_INITIATOR, hs->th);
    if (key_verify(sig, hs->remote_pub, msg, sizeof msg) != CAIRN_OK)
        return fail(hs, CAIRN_EBAD_SIGNATURE);
    if (memcmp(hs->remote_pub, hs->node.pub, PUBKEY_BYTES) == 0)
        return fail(hs, CAIRN_EBAD_PEER);
    key_address(hs->remote_addr, hs->remote_pub);
    if (hs->has_expected && memcmp(hs->remote_addr, hs->expected_addr, ADDR_BYTES) != 0)
        return fail(hs, CAIRN_EBAD_PEER);

    if (hs->initiator) put_auth(hs);
    hs->state = P2P_HS_DONE;
    return CAIRN_OK;
}

cairn_err p2p_hs_feed(p2p_hs *hs, const uint8_t *in, size_t n, size_t *consumed)
{
    *consumed = 0;
    size_t pos = 0;
    while (pos < n) {
        if (hs->state == P2P_HS_FAILED) return hs->err;
        if (hs->state == P2P_HS_DONE) break;
        size_t need = hs->state == P2P_HS_WAIT_HELLO ? P2P_HELLO_BYTES : P2P_AUTH_FRAME_BYTES;
        size_t take = need - hs->in_have;
        if (take > n - pos) take = n - pos;
        memcpy(hs->in + hs->in_have, in + pos, take);
        hs->in_have += take;
        pos += take;
        *consumed = pos;
        if (hs->in_have < need) break;
        hs->in_have = 0;
        cairn_err rc = hs->state == P2P_HS_WAIT_HELLO ? on_hello(hs) : on_auth(hs);
        if (rc != CAIRN_OK) return rc;
    }
    return hs->state == P2P_HS_FAILED ? hs->err : CAIRN_OK;
}

void p2p_hs_session(const p2p_hs *hs, p2p_cipher *send, p2p_cipher *recv)
{
    CAIRN_ASSERT(hs->state == P2P_HS_DONE);
    /* The AUTH frame of each direction used counters 0 and 1. */
    p2p_cipher_init(send, hs->send_key, 2);
    p2p_cipher_init(recv, hs->recv_key, 2);
}

void p2p_node_id_hex(char out[static 2 * ADDR_BYTES + 1],
                     const uint8_t pub[static PUBKEY_BYTES])
{
    uint8_t addr[ADDR_BYTES];
    key_address(addr, pub);
    hex_encode_lower(out, addr, ADDR_BYTES);
}
