#include "node/results.h"

#include <string.h>

#include "codec/codec.h"

cairn_err result_record_encode(const app_result_t *res, buf_t *out)
{
    CAIRN_TRY(app_result_encode(res, out));
    codec_writer w;
    codec_writer_init(&w, out);
    codec_put_bytes(&w, res->log, strnlen(res->log, APP_LOG_MAX - 1));
    codec_put_u32(&w, res->n_events);
    for (uint32_t i = 0; i < res->n_events && i < APP_EVENTS_MAX; i++) {
        const app_event_t *e = &res->events[i];
        codec_put_bytes(&w, e->type, strnlen(e->type, APP_ATTR_KEY_MAX - 1));
        codec_put_u32(&w, e->n_attrs);
        for (uint32_t k = 0; k < e->n_attrs && k < APP_EVENT_ATTRS_MAX; k++) {
            codec_put_bytes(&w, e->attrs[k].key, strnlen(e->attrs[k].key, APP_ATTR_KEY_MAX - 1));
            codec_put_bytes(&w, e->attrs[k].value,
                            strnlen(e->attrs[k].value, APP_ATTR_VALUE_MAX - 1));
        }
    }
    return w.err;
}

static void get_str(codec_reader *r, char *out, size_t cap)
{
    const uint8_t *p;
    uint32_t n;
    codec_get_bytes(r, &p, &n, (uint32_t)(cap - 1));
    if (r->err) {
        out[0] = 0;
        return;
    }
    if (memchr(p, 0, n)) { /* a C string cannot hold it: would not round-trip */
        codec_reader_fail(r, CAIRN_ENONCANONICAL);
        out[0] = 0;
        return;
    }
    memcpy(out, p, n);
    out[n] = 0;
}

cairn_err result_record_decode(app_result_t *res, const uint8_t *p, size_t n)
{
    memset(res, 0, sizeof *res);
    codec_reader r;
    codec_reader_init(&r, p, n);
    if (codec_get_u8(&r) != 1 && !r.err) return CAIRN_EBAD_VERSION;
    res->code = codec_get_u32(&r);
    get_str(&r, res->log, APP_LOG_MAX);
    res->n_events = codec_get_u32(&r);
    if (res->n_events > APP_EVENTS_MAX) codec_reader_fail(&r, CAIRN_ETOO_LARGE);
    for (uint32_t i = 0; !r.err && i < res->n_events; i++) {
        app_event_t *e = &res->events[i];
        get_str(&r, e->type, APP_ATTR_KEY_MAX);
        e->n_attrs = codec_get_u32(&r);
        if (e->n_attrs > APP_EVENT_ATTRS_MAX) codec_reader_fail(&r, CAIRN_ETOO_LARGE);
        for (uint32_t k = 0; !r.err && k < e->n_attrs; k++) {
            get_str(&r, e->attrs[k].key, APP_ATTR_KEY_MAX);
            get_str(&r, e->attrs[k].value, APP_ATTR_VALUE_MAX);
        }
    }
    return codec_reader_finish(&r);
}
