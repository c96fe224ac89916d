#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "crypto/crypto.h"
#include "p2p/frame.h"

/* A body buffer larger than this is released after its frame was delivered, so
 * an idle peer that once sent a big frame does not keep megabytes. */
#define READER_KEEP_BYTES ((size_t)64 << 10)

void p2p_cipher_init(p2p_cipher *c, const uint8_t key[static BOX_KEY_BYTES],
                     uint64_t counter)
{
    memcpy(c->key, key, BOX_KEY_BYTES);
    c->counter = counter;
}

void p2p_cipher_wipe(p2p_cipher *c) { crypto_wipe(c, sizeof *c); }

cairn_err p2p_frame_seal(p2p_cipher *c, uint8_t channel, const void *payload,
                         uint32_t len, uint8_t *out)
{
    if (c->counter > P2P_COUNTER_LAST) return CAIRN_ELIMIT;
    uint8_t hdr[P2P_FRAME_HDR_PLAIN];
    hdr[0] = channel;
    for (int i = 0; i < 4; i++) hdr[1 + i] = (uint8_t)(len >> (8 * i));
    box_seal(out, c->key, c->counter, NULL, 0, hdr, sizeof hdr);
    box_seal(out + P2P_FRAME_HDR_BYTES, c->key, c->counter + 1, NULL, 0, payload, len);
    c->counter += 2;
    return CAIRN_OK;
}

void p2p_frame_reader_init(p2p_frame_reader *r, const uint8_t key[static BOX_KEY_BYTES],
                           uint64_t counter, uint32_t payload_max)
{
    memset(r, 0, sizeof *r);
    p2p_cipher_init(&r->cipher, key, counter);
    r->payload_max = payload_max;
}

void p2p_frame_reader_deinit(p2p_frame_reader *r)
{
    free(r->body);
    p2p_cipher_wipe(&r->cipher);
    memset(r, 0, sizeof *r);
}

static cairn_err fail(p2p_frame_reader *r, cairn_err err)
{
    r->err = err;
    return err;
}

static cairn_err open_header(p2p_frame_reader *r)
{
    if (r->cipher.counter > P2P_COUNTER_LAST) return fail(r, CAIRN_ELIMIT);
    uint8_t plain[P2P_FRAME_HDR_PLAIN];
    cairn_err rc = box_open(plain, r->cipher.key, r->cipher.counter, NULL, 0, r->hdr,
                            P2P_FRAME_HDR_BYTES);
    if (rc != CAIRN_OK) return fail(r, rc);
    r->channel = plain[0];
    r->len = (uint32_t)plain[1] | (uint32_t)plain[2] << 8 | (uint32_t)plain[3] << 16 |
             (uint32_t)plain[4] << 24;
    if (r->len > r->payload_max) return fail(r, CAIRN_EBAD_FRAME);
    size_t need = (size_t)r->len + BOX_TAG_BYTES;
    if (need > r->body_cap) {
        uint8_t *p = realloc(r->body, need);
        if (p == NULL) return fail(r, CAIRN_ENOMEM);
        r->body = p;
        r->body_cap = need;
    }
    r->state = 1;
    r->have = 0;
    return CAIRN_OK;
}

static cairn_err open_body(p2p_frame_reader *r, p2p_frame *out)
{
    size_t ct_len = (size_t)r->len + BOX_TAG_BYTES;
    cairn_err rc = box_open(r->body, r->cipher.key, r->cipher.counter + 1, NULL, 0,
                            r->body, ct_len);
    if (rc != CAIRN_OK) return fail(r, rc);
    r->cipher.counter += 2;
    out->channel = r->channel;
    out->payload = r->body;
    out->len = r->len;
    r->state = 0;
    r->have = 0;
    return CAIRN_OK;
}

cairn_err p2p_frame_reader_feed(p2p_frame_reader *r, const uint8_t *in, size_t n,
                                size_t *consumed, p2p_frame *out, bool *got)
{
    *consumed = 0;
    *got = false;
    if (r->err != CAIRN_OK) return r->err;
    if (r->state == 0 && r->have == 0 && r->body_cap > READER_KEEP_BYTES) {
        free(r->body);
        r->body = NULL;
        r->body_cap = 0;
    }
    size_t pos = 0;
    while (pos < n) {
        if (r->state == 0) {
            size_t take = P2P_FRAME_HDR_BYTES - r->have;
            if (take > n - pos) take = n - pos;
            memcpy(r->hdr + r->have, in + pos, take);
            r->have += take;
            pos += take;
            if (r->have < P2P_FRAME_HDR_BYTES) break;
            cairn_err rc = open_header(r);
            if (rc != CAIRN_OK) {
                *consumed = pos;
                return rc;
            }
            continue;
        }
        size_t need = (size_t)r->len + BOX_TAG_BYTES;
        size_t take = need - r->have;
        if (take > n - pos) take = n - pos;
        memcpy(r->body + r->have, in + pos, take);
        r->have += take;
        pos += take;
        if (r->have < need) break;
        cairn_err rc = open_body(r, out);
        *consumed = pos;
        if (rc != CAIRN_OK) return rc;
        *got = true;
        return CAIRN_OK;
    }
    *consumed = pos;
    return CAIRN_OK;
}
