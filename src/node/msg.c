#include "node/msg.h"

#include <stdbool.h>

#include "codec/codec.h"

#define VOTE_BYTES_MAX 1024
#define PROPOSAL_BYTES_MAX 1024
#define COMMIT_BYTES_MAX (VALIDATORS_MAX * 128 + 1024)

static bool repair_reason_valid(uint8_t r)
{
    return r >= REPAIR_NONE_NOT_STORED && r <= REPAIR_NONE_BUSY;
}

static cairn_err encode(const msg_t *m, buf_t *out)
{
    codec_writer w;
    codec_writer_init(&w, out);
    codec_put_u8(&w, m->kind);
    switch (m->kind) {
    case MSG_PROPOSAL:
        codec_put_bytes(&w, m->u.proposal.proposal, m->u.proposal.proposal_len);
        codec_put_bytes(&w, m->u.proposal.block, m->u.proposal.block_len);
        break;
    case MSG_VOTE:
        codec_put_bytes(&w, m->u.vote.vote, m->u.vote.vote_len);
        break;
    case MSG_ROUND_STATE:
        codec_put_u64(&w, m->u.round_state.height);
        codec_put_u32(&w, m->u.round_state.round);
        codec_put_u8(&w, m->u.round_state.step);
        break;
    case MSG_TXS:
        if (m->u.txs.count > MSG_TXS_MAX) return CAIRN_ETOO_LARGE;
        codec_put_u32(&w, m->u.txs.count);
        for (uint32_t i = 0; i < m->u.txs.count; i++)
            codec_put_bytes(&w, m->u.txs.txs[i].p, m->u.txs.txs[i].len);
        break;
    case MSG_STATUS:
        codec_put_u64(&w, m->u.status.base);
        codec_put_u64(&w, m->u.status.height);
        break;
    case MSG_BLOCK_REQUEST:
    case MSG_NO_BLOCK:
    case MSG_REPAIR_REQUEST:
        codec_put_u64(&w, m->u.request.height);
        break;
    case MSG_BLOCK_RESPONSE:
        codec_put_u64(&w, m->u.response.height);
        codec_put_bytes(&w, m->u.response.block, m->u.response.block_len);
        codec_put_bytes(&w, m->u.response.commit, m->u.response.commit_len);
        break;
    case MSG_REPAIR_RESPONSE:
        if (m->u.repair.block_len > BLOCK_BYTES_MAX || m->u.repair.commit_len > COMMIT_BYTES_MAX ||
            m->u.repair.results_len > MSG_RESULTS_BYTES_MAX)
            return CAIRN_ETOO_LARGE;
        codec_put_u64(&w, m->u.repair.height);
        codec_put_bytes(&w, m->u.repair.block, m->u.repair.block_len);
        codec_put_bytes(&w, m->u.repair.commit, m->u.repair.commit_len);
        codec_put_bytes(&w, m->u.repair.results, m->u.repair.results_len);
        break;
    case MSG_REPAIR_NONE:
        if (!repair_reason_valid(m->u.repair_none.reason)) return CAIRN_EINVALID_ARG;
        codec_put_u64(&w, m->u.repair_none.height);
        codec_put_u8(&w, m->u.repair_none.reason);
        break;
    default:
        return CAIRN_EBAD_TYPE;
    }
    return w.err;
}

/* On failure out is left as it was. */
cairn_err msg_encode(const msg_t *m, buf_t *out)
{
    size_t start = out->len;
    cairn_err rc = encode(m, out);
    if (rc != CAIRN_OK) out->len = start;
    return rc;
}

cairn_err msg_decode(msg_t *m, const uint8_t *p, size_t n)
{
    codec_reader r;
    codec_reader_init(&r, p, n);
    m->kind = codec_get_u8(&r);
    switch (m->kind) {
    case MSG_PROPOSAL:
        codec_get_bytes(&r, &m->u.proposal.proposal, &m->u.proposal.proposal_len,
                        PROPOSAL_BYTES_MAX);
        codec_get_bytes(&r, &m->u.proposal.block, &m->u.proposal.block_len, BLOCK_BYTES_MAX);
        break;
    case MSG_VOTE:
        codec_get_bytes(&r, &m->u.vote.vote, &m->u.vote.vote_len, VOTE_BYTES_MAX);
        break;
    case MSG_ROUND_STATE:
        m->u.round_state.height = codec_get_u64(&r);
        m->u.round_state.round = codec_get_u32(&r);
        m->u.round_state.step = codec_get_u8(&r);
        break;
    case MSG_TXS:
        m->u.txs.count = codec_get_u32(&r);
        if (m->u.txs.count > MSG_TXS_MAX) codec_reader_fail(&r, CAIRN_ETOO_LARGE);
        for (uint32_t i = 0; !r.err && i < m->u.txs.count; i++) {
            uint32_t len;
            codec_get_bytes(&r, &m->u.txs.txs[i].p, &len, TX_BYTES_MAX);
            m->u.txs.txs[i].len = len;
        }
        break;
    case MSG_STATUS:
        m->u.status.base = codec_get_u64(&r);
        m->u.status.height = codec_get_u64(&r);
        break;
    case MSG_BLOCK_REQUEST:
    case MSG_NO_BLOCK:
    case MSG_REPAIR_REQUEST:
        m->u.request.height = codec_get_u64(&r);
        break;
    case MSG_BLOCK_RESPONSE:
        m->u.response.height = codec_get_u64(&r);
        codec_get_bytes(&r, &m->u.response.block, &m->u.response.block_len, BLOCK_BYTES_MAX);
        codec_get_bytes(&r, &m->u.response.commit, &m->u.response.commit_len, COMMIT_BYTES_MAX);
        break;
    case MSG_REPAIR_RESPONSE:
        m->u.repair.height = codec_get_u64(&r);
        codec_get_bytes(&r, &m->u.repair.block, &m->u.repair.block_len, BLOCK_BYTES_MAX);
        codec_get_bytes(&r, &m->u.repair.commit, &m->u.repair.commit_len, COMMIT_BYTES_MAX);
        codec_get_bytes(&r, &m->u.repair.results, &m->u.repair.results_len,
                        MSG_RESULTS_BYTES_MAX);
        break;
    case MSG_REPAIR_NONE:
        m->u.repair_none.height = codec_get_u64(&r);
        m->u.repair_none.reason = codec_get_u8(&r);
        if (!r.err && !repair_reason_valid(m->u.repair_none.reason))
            codec_reader_fail(&r, CAIRN_EBAD_ENCODING);
        break;
    default:
        if (!r.err) return CAIRN_EBAD_TYPE;
    }
    return codec_reader_finish(&r);
}
