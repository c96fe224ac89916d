#include "codec/codec.h"

#include <string.h>

void codec_writer_init(codec_writer *w, buf_t *out)
{
    w->out = out;
    w->err = CAIRN_OK;
}

void codec_put_fixed(codec_writer *w, const void *p, size_t n)
{
    if (w->err) return;
    w->err = buf_append(w->out, p, n);
}

static void put_le(codec_writer *w, uint64_t v, int n)
{
    uint8_t b[8];
    for (int i = 0; i < n; i++) b[i] = (uint8_t)(v >> (8 * i));
    codec_put_fixed(w, b, (size_t)n);
}

void codec_put_u8(codec_writer *w, uint8_t v) { put_le(w, v, 1); }
void codec_put_u16(codec_writer *w, uint16_t v) { put_le(w, v, 2); }
void codec_put_u32(codec_writer *w, uint32_t v) { put_le(w, v, 4); }
void codec_put_u64(codec_writer *w, uint64_t v) { put_le(w, v, 8); }
void codec_put_i64(codec_writer *w, int64_t v) { put_le(w, (uint64_t)v, 8); }
void codec_put_bool(codec_writer *w, bool v) { put_le(w, v ? 1 : 0, 1); }

void codec_put_bytes(codec_writer *w, const void *p, size_t n)
{
    if (n > UINT32_MAX) {
        if (!w->err) w->err = CAIRN_ETOO_LARGE;
        return;
    }
    codec_put_u32(w, (uint32_t)n);
    codec_put_fixed(w, p, n);
}

void codec_reader_init(codec_reader *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->err = CAIRN_OK;
}

void codec_reader_fail(codec_reader *r, cairn_err err)
{
    if (!r->err) r->err = err;
}

size_t codec_remaining(const codec_reader *r) { return r->err ? 0 : r->len - r->pos; }

const uint8_t *codec_get_view(codec_reader *r, size_t n)
{
    if (r->err) return NULL;
    if (n > r->len - r->pos) {
        r->err = CAIRN_ETRUNCATED;
        return NULL;
    }
    const uint8_t *v = r->p + r->pos;
    r->pos += n;
    return v;
}

void codec_get_fixed(codec_reader *r, void *out, size_t n)
{
    const uint8_t *v = codec_get_view(r, n);
    if (v)
        memcpy(out, v, n);
    else
        memset(out, 0, n);
}

static uint64_t get_le(codec_reader *r, int n)
{
    const uint8_t *v = codec_get_view(r, (size_t)n);
    uint64_t x = 0;
    if (!v) return 0;
    for (int i = 0; i < n; i++) x |= (uint64_t)v[i] << (8 * i);
    return x;
}

uint8_t codec_get_u8(codec_reader *r) { return (uint8_t)get_le(r, 1); }
uint16_t codec_get_u16(codec_reader *r) { return (uint16_t)get_le(r, 2); }
uint32_t codec_get_u32(codec_reader *r) { return (uint32_t)get_le(r, 4); }
uint64_t codec_get_u64(codec_reader *r) { return get_le(r, 8); }
int64_t codec_get_i64(codec_reader *r) { return (int64_t)get_le(r, 8); }

bool codec_get_bool(codec_reader *r)
{
    uint8_t v = codec_get_u8(r);
    if (v > 1) codec_reader_fail(r, CAIRN_ENONCANONICAL);
    return v == 1;
}

void codec_get_bytes(codec_reader *r, const uint8_t **out, uint32_t *len, uint32_t max)
{
    *out = NULL;
    *len = 0;
    uint32_t n = codec_get_u32(r);
    if (r->err) return;
    if (n > max) {
        codec_reader_fail(r, CAIRN_ETOO_LARGE);
        return;
    }
    const uint8_t *v = codec_get_view(r, n);
    if (!v) return;
    *out = v;
    *len = n;
}

cairn_err codec_reader_finish(const codec_reader *r)
{
    if (r->err) return r->err;
    return r->pos == r->len ? CAIRN_OK : CAIRN_ETRAILING;
}
