/* chain_id.c - chain ids and the pieces shared by every encoder in src/chain. */
#include <string.h>

#include "chain/chain_int.h"

bool chain_id_bytes_valid(const uint8_t *p, size_t n)
{
    if (n < 1 || n > CHAIN_ID_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7e) return false;
    return true;
}

cairn_err chain_id_set(chain_id_t *cid, const char *s)
{
    size_t n = strnlen(s, CHAIN_ID_MAX + 1);
    if (!chain_id_bytes_valid((const uint8_t *)s, n)) return CAIRN_EINVALID_ARG;
    memset(cid, 0, sizeof *cid);
    memcpy(cid->id, s, n);
    cid->len = (uint8_t)n;
    return CAIRN_OK;
}

bool chain_id_equal(const chain_id_t *a, const chain_id_t *b)
{
    return a->len == b->len && memcmp(a->id, b->id, a->len) == 0;
}

void chain_id_read(codec_reader *r, chain_id_t *cid)
{
    const uint8_t *p;
    uint32_t n;
    memset(cid, 0, sizeof *cid);
    codec_get_bytes(r, &p, &n, CHAIN_ID_MAX);
    if (r->err) return;
    if (!chain_id_bytes_valid(p, n)) {
        codec_reader_fail(r, CAIRN_EBAD_ENCODING);
        return;
    }
    memcpy(cid->id, p, n);
    cid->len = (uint8_t)n;
}

void chain_put_domain(codec_writer *w, const char *tag, const chain_id_t *cid)
{
    codec_put_fixed(w, tag, strlen(tag));
    codec_put_bytes(w, cid->id, cid->len);
}

cairn_err chain_write_done(codec_writer *w, buf_t *out, size_t start)
{
    if (w->err) out->len = start;
    return w->err;
}
