#include "base/bytes.h"

#include <stdlib.h>
#include <string.h>

void buf_init(buf_t *b, size_t cap_max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->cap_max = cap_max ? cap_max : BUF_DEFAULT_MAX;
}

void buf_deinit(buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(buf_t *b) { b->len = 0; }

cairn_err buf_reserve(buf_t *b, size_t extra)
{
    if (extra > b->cap_max || b->len > b->cap_max - extra) return CAIRN_ELIMIT;
    size_t need = b->len + extra;
    if (need <= b->cap) return CAIRN_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > b->cap_max / 2 ? b->cap_max : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) return CAIRN_ENOMEM;
    b->data = p;
    b->cap = cap;
    return CAIRN_OK;
}

cairn_err buf_append(buf_t *b, const void *p, size_t n)
{
    CAIRN_TRY(buf_reserve(b, n));
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return CAIRN_OK;
}

uint8_t *buf_steal(buf_t *b, size_t *len_out)
{
    uint8_t *p = b->data;
    if (len_out) *len_out = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

static void hex_encode(char *out, const uint8_t *in, size_t n, const char *digits)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

void hex_encode_upper(char *out, const uint8_t *in, size_t n)
{
    hex_encode(out, in, n, "0123456789ABCDEF");
}

void hex_encode_lower(char *out, const uint8_t *in, size_t n)
{
    hex_encode(out, in, n, "0123456789abcdef");
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

cairn_err hex_decode_var(uint8_t *out, size_t out_max, size_t *out_len, const char *in,
                         size_t in_len)
{
    if (in_len % 2) return CAIRN_EBAD_ENCODING;
    if (in_len / 2 > out_max) return CAIRN_ETOO_LARGE;
    for (size_t i = 0; i < in_len / 2; i++) {
        int hi = hex_digit(in[2 * i]), lo = hex_digit(in[2 * i + 1]);
        if (hi < 0 || lo < 0) return CAIRN_EBAD_ENCODING;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = in_len / 2;
    return CAIRN_OK;
}

cairn_err hex_decode(uint8_t *out, size_t n, const char *in)
{
    size_t len = strlen(in), got;
    if (len != 2 * n) return CAIRN_EBAD_ENCODING;
    return hex_decode_var(out, n, &got, in, len);
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

void base64_encode(char *out, const uint8_t *in, size_t n)
{
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

cairn_err base64_decode(uint8_t *out, size_t out_max, size_t *out_len, const char *in,
                        size_t in_len)
{
    if (in_len % 4) return CAIRN_EBAD_ENCODING;
    size_t pad = 0;
    if (in_len >= 1 && in[in_len - 1] == '=') pad++;
    if (pad && in_len >= 2 && in[in_len - 2] == '=') pad++;
    size_t n = in_len / 4 * 3 - pad;
    if (n > out_max) return CAIRN_ETOO_LARGE;
    size_t o = 0;
    for (size_t i = 0; i < in_len; i += 4) {
        int v[4];
        bool last = i + 4 == in_len;
        for (int k = 0; k < 4; k++) {
            if (last && k >= 4 - (int)pad) {
                v[k] = 0;
                continue;
            }
            v[k] = b64_value(in[i + k]);
            if (v[k] < 0) return CAIRN_EBAD_ENCODING;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        if (last && pad == 2 && (w & 0xFFFF)) return CAIRN_ENONCANONICAL;
        if (last && pad == 1 && (w & 0xFF)) return CAIRN_ENONCANONICAL;
        out[o++] = (uint8_t)(w >> 16);
        if (!(last && pad == 2)) out[o++] = (uint8_t)(w >> 8);
        if (!(last && pad >= 1)) out[o++] = (uint8_t)w;
    }
    *out_len = o;
    return CAIRN_OK;
}

bool bytes_equal_ct(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++) d |= x[i] ^ y[i];
    return d == 0;
}

bool bytes_is_zero(const void *p, size_t n)
{
    const uint8_t *x = p;
    for (size_t i = 0; i < n; i++)
        if (x[i]) return false;
    return true;
}
