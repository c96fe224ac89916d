/* persist.c - the consensus persist record's canonical encoding, and names.
 *
 * Layout (CONS_PERSIST_BYTES = 167, little-endian, codec.h rules):
 *   off  size  field
 *     0     1  version (2; version 1 lacked the two times and is refused)
 *     1     8  height
 *     9     4  round
 *    13     1  step (1 propose, 2 prevote, 3 precommit)
 *    14     4  locked_round (i32 as u32, -1 = none)
 *    18    32  locked_id
 *    50     8  locked_time_ns (i64, 0 if none)
 *    58     4  valid_round (i32 as u32, -1 = none)
 *    62    32  valid_id
 *    94     8  valid_time_ns (i64, 0 if none)
 *   102     1  voted (bit 0 prevote, bit 1 precommit)
 *   103    32  prevote_id
 *   135    32  precommit_id
 * Pure; any thread.
 */
#include <string.h>

#include "consensus/consensus_int.h"

#define PERSIST_VERSION 2

cairn_err consensus_persist_encode(const cons_persist_t *rec, buf_t *out)
{
    if (!consensus_persist_consistent(rec)) return CAIRN_EINVALID_ARG;
    size_t start = out->len;
    codec_writer w;
    codec_writer_init(&w, out);
    codec_put_u8(&w, PERSIST_VERSION);
    codec_put_u64(&w, rec->height);
    codec_put_u32(&w, rec->round);
    codec_put_u8(&w, rec->step);
    codec_put_u32(&w, (uint32_t)rec->locked_round);
    codec_put_fixed(&w, rec->locked_id, HASH_BYTES);
    codec_put_i64(&w, rec->locked_time_ns);
    codec_put_u32(&w, (uint32_t)rec->valid_round);
    codec_put_fixed(&w, rec->valid_id, HASH_BYTES);
    codec_put_i64(&w, rec->valid_time_ns);
    codec_put_u8(&w, rec->voted);
    codec_put_fixed(&w, rec->prevote_id, HASH_BYTES);
    codec_put_fixed(&w, rec->precommit_id, HASH_BYTES);
    if (w.err != CAIRN_OK) out->len = start;
    return w.err;
}

cairn_err consensus_persist_decode(cons_persist_t *rec, const uint8_t *p, size_t n)
{
    cons_persist_t r;
    memset(&r, 0, sizeof r);
    codec_reader rd;
    codec_reader_init(&rd, p, n);
    uint8_t version = codec_get_u8(&rd);
    if (rd.err == CAIRN_OK && version != PERSIST_VERSION) return CAIRN_EBAD_VERSION;
    r.height = codec_get_u64(&rd);
    r.round = codec_get_u32(&rd);
    r.step = codec_get_u8(&rd);
    r.locked_round = (int32_t)codec_get_u32(&rd);
    codec_get_fixed(&rd, r.locked_id, HASH_BYTES);
    r.locked_time_ns = codec_get_i64(&rd);
    r.valid_round = (int32_t)codec_get_u32(&rd);
    codec_get_fixed(&rd, r.valid_id, HASH_BYTES);
    r.valid_time_ns = codec_get_i64(&rd);
    r.voted = codec_get_u8(&rd);
    codec_get_fixed(&rd, r.prevote_id, HASH_BYTES);
    codec_get_fixed(&rd, r.precommit_id, HASH_BYTES);
    CAIRN_TRY(codec_reader_finish(&rd));
    if (r.height == 0 || !consensus_persist_consistent(&r)) return CAIRN_EBAD_ENCODING;
    *rec = r;
    return CAIRN_OK;
}

const char *consensus_drop_name(enum cons_drop d)
{
    static const char *const names[] = {
#define XX(name, msg) #name,
        CONS_DROP_MAP(XX)
#undef XX
    };
    return (unsigned)d < CONS_DROP__COUNT ? names[d] : "?";
}

const char *consensus_step_name(enum cons_step s)
{
    switch (s) {
    case CONS_STEP_PROPOSE: return "propose";
    case CONS_STEP_PREVOTE: return "prevote";
    case CONS_STEP_PRECOMMIT: return "precommit";
    case CONS_STEP_DECIDED: return "decided";
    }
    return "?";
}
