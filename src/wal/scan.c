/* scan.c - the WAL segment format and its scanner (wal_int.h). Pure: all input
 * comes through read_at, so it runs the same over a file and over memory. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "crypto/crypto.h"
#include "wal/wal_int.h"

#define WINDOW_BYTES (64 * 1024)
#define RESYNC_CANDIDATE_COST 16 /* budget charged per candidate on top of its length */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* ------------------------------------------------------------ formats */

void wal_seg_header_encode(const wal_seg_header *h, uint8_t out[static WAL_SEG_HEADER_BYTES])
{
    memset(out, 0, WAL_SEG_HEADER_BYTES);
    memcpy(out, WAL_MAGIC, 8);
    out[8] = WAL_VERSION;
    memcpy(out + 16, h->salt, WAL_SALT_BYTES);
    put_u64(out + 24, h->base_height);
    uint8_t d[HASH_BYTES];
    hash_sha256(d, out, 32);
    memcpy(out + 32, d, 8);
}

cairn_err wal_seg_header_decode(wal_seg_header *h, const uint8_t *p, size_t n)
{
    if (n < WAL_SEG_HEADER_BYTES) return CAIRN_ETRUNCATED;
    if (memcmp(p, WAL_MAGIC, 8) != 0) return CAIRN_EBAD_ENCODING;
    uint8_t d[HASH_BYTES];
    hash_sha256(d, p, 32);
    if (memcmp(d, p + 32, 8) != 0) return CAIRN_ECORRUPT;
    if (p[8] != WAL_VERSION) return CAIRN_EBAD_VERSION;
    if (!bytes_is_zero(p + 9, 7)) return CAIRN_ECORRUPT;
    memcpy(h->salt, p + 16, WAL_SALT_BYTES);
    h->base_height = get_u64(p + 24);
    return CAIRN_OK;
}

static void check_begin(hash_ctx *c, const uint8_t salt[static WAL_SALT_BYTES], uint32_t len,
                        uint8_t type)
{
    uint8_t pre[WAL_SALT_BYTES + 5];
    memcpy(pre, salt, WAL_SALT_BYTES);
    put_u32(pre + WAL_SALT_BYTES, len);
    pre[WAL_SALT_BYTES + 4] = type;
    hash_init(c);
    hash_update(c, pre, sizeof pre);
}

static uint32_t check_end(hash_ctx *c)
{
    uint8_t d[HASH_BYTES];
    hash_final(c, d);
    return get_u32(d);
}

uint32_t wal_record_check(const uint8_t salt[static WAL_SALT_BYTES], uint32_t len,
                          uint8_t type, const uint8_t *payload)
{
    hash_ctx c;
    check_begin(&c, salt, len, type);
    hash_update(&c, payload, len);
    return check_end(&c);
}

cairn_err wal_record_encode(buf_t *out, const uint8_t salt[static WAL_SALT_BYTES],
                            uint8_t type, const void *p, size_t n)
{
    if (n > UINT32_MAX - WAL_REC_HEADER_BYTES) return CAIRN_ETOO_LARGE;
    uint8_t h[WAL_REC_HEADER_BYTES];
    put_u32(h, (uint32_t)n);
    put_u32(h + 4, wal_record_check(salt, (uint32_t)n, type, p));
    h[8] = type;
    CAIRN_TRY(buf_reserve(out, sizeof h + n));
    CAIRN_TRY(buf_append(out, h, sizeof h));
    return buf_append(out, p, n);
}

/* ------------------------------------------------------------ resync */

/* Is there a record with a valid checksum at off? Reads it in chunks. */
static cairn_err candidate_valid(const wal_scan_args *a, const wal_seg_header *h, uint64_t off,
                                 uint32_t len, uint8_t type, uint32_t check, uint8_t *chunk,
                                 bool *valid)
{
    hash_ctx c;
    check_begin(&c, h->salt, len, type);
    uint64_t pos = off + WAL_REC_HEADER_BYTES;
    uint32_t left = len;
    while (left > 0) { /* bounded: len <= record_bytes_max */
        size_t want = left < WINDOW_BYTES ? left : WINDOW_BYTES, got = 0;
        CAIRN_TRY(a->read_at(a->read_ctx, pos, chunk, want, &got));
        if (got != want) {
            *valid = false;
            return CAIRN_OK;
        }
        hash_update(&c, chunk, got);
        pos += got;
        left -= (uint32_t)got;
    }
    *valid = check_end(&c) == check;
    return CAIRN_OK;
}

/* Looks for any valid record starting after bad_off. *found: one exists, or the
 * budget ran out before every offset was ruled out (we cannot prove a tail). */
static cairn_err resync(const wal_scan_args *a, const wal_seg_header *h, uint64_t bad_off,
                        bool *found)
{
    *found = false;
    uint8_t *win = malloc(WINDOW_BYTES + WAL_REC_HEADER_BYTES);
    uint8_t *chunk = malloc(WINDOW_BYTES);
    cairn_err rc = CAIRN_OK;
    if (!win || !chunk) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    uint64_t win_off = 0, win_len = 0, spent = 0;
    for (uint64_t off = bad_off + 1; off + WAL_REC_HEADER_BYTES <= a->size; off++) {
        if (off + WAL_REC_HEADER_BYTES > win_off + win_len) {
            size_t got = 0;
            rc = a->read_at(a->read_ctx, off, win, WINDOW_BYTES + WAL_REC_HEADER_BYTES, &got);
            if (rc != CAIRN_OK) goto out;
            win_off = off;
            win_len = got;
            if (got < WAL_REC_HEADER_BYTES) break;
        }
        const uint8_t *p = win + (off - win_off);
        uint32_t len = get_u32(p);
        uint8_t type = p[8];
        if (type == 0 || len > a->record_bytes_max ||
            len > a->size - off - WAL_REC_HEADER_BYTES)
            continue;
        spent += (uint64_t)len + RESYNC_CANDIDATE_COST;
        if (spent > a->resync_bytes_max) {
            *found = true;
            goto out;
        }
        bool valid = false;
        rc = candidate_valid(a, h, off, len, type, get_u32(p + 4), chunk, &valid);
        if (rc != CAIRN_OK) goto out;
        if (valid) {
            *found = true;
            goto out;
        }
    }
out:
    free(win);
    free(chunk);
    return rc;
}

/* ------------------------------------------------------------ scan */

typedef enum { REC_OK, REC_BAD, REC_DAMAGED } rec_verdict;

/* Reads and checks the record at pos. On REC_OK, rec holds its payload. */
static cairn_err record_read(const wal_scan_args *a, const wal_seg_header *h, uint64_t pos,
                             uint64_t height_before, buf_t *rec, uint8_t *type_out,
                             rec_verdict *v, const char **why)
{
    *v = REC_BAD;
    uint64_t remaining = a->size - pos;
    if (remaining < WAL_REC_HEADER_BYTES) {
        *why = "incomplete record header";
        return CAIRN_OK;
    }
    uint8_t hd[WAL_REC_HEADER_BYTES];
    size_t got = 0;
    CAIRN_TRY(a->read_at(a->read_ctx, pos, hd, sizeof hd, &got));
    if (got != sizeof hd) {
        *why = "incomplete record header";
        return CAIRN_OK;
    }
    uint32_t len = get_u32(hd), check = get_u32(hd + 4);
    uint8_t type = hd[8];
    if (type == 0) {
        *why = "record type 0";
        return CAIRN_OK;
    }
    if (len > a->record_bytes_max) {
        *why = "record length over the maximum";
        return CAIRN_OK;
    }
    if (len > remaining - WAL_REC_HEADER_BYTES) {
        *why = "record runs past the end of the file";
        return CAIRN_OK;
    }
    buf_reset(rec);
    CAIRN_TRY(buf_reserve(rec, len));
    got = 0;
    if (len > 0)
        CAIRN_TRY(a->read_at(a->read_ctx, pos + WAL_REC_HEADER_BYTES, rec->data, len, &got));
    if (got != len) {
        *why = "record runs past the end of the file";
        return CAIRN_OK;
    }
    rec->len = len;
    if (wal_record_check(h->salt, len, type, rec->data) != check) {
        *why = "record checksum mismatch";
        return CAIRN_OK;
    }
    if (type == WAL_TYPE_END_HEIGHT &&
        (len != 8 || get_u64(rec->data) <= height_before)) {
        /* A record that passes its checksum was written whole: it is not a torn
         * tail but a broken log. */
        *why = "end-of-height marker malformed or out of order";
        *v = REC_DAMAGED;
        return CAIRN_OK;
    }
    *type_out = type;
    *v = REC_OK;
    return CAIRN_OK;
}

static void result_init(wal_scan_result *res, const wal_scan_args *a)
{
    memset(res, 0, sizeof *res);
    res->end = WAL_SCAN_CLEAN;
    res->valid_end = a->start;
    res->last_marker_end = a->start;
    res->last_height = a->height_before;
    res->why = "";
}

cairn_err wal_scan(const wal_scan_args *a, const wal_seg_header *h, wal_scan_result *res,
                   void *ctx, wal_scan_record_cb cb)
{
    CAIRN_ASSERT(a->start >= WAL_SEG_HEADER_BYTES && a->record_bytes_max > 0);
    result_init(res, a);
    if (a->start > a->size) return CAIRN_EINVALID_ARG;
    buf_t rec;
    buf_init(&rec, a->record_bytes_max);
    cairn_err rc = CAIRN_OK;
    uint64_t pos = a->start;
    while (pos < a->size) { /* each pass advances pos by >= 9 bytes */
        uint8_t type = 0;
        rec_verdict v;
        const char *why = "";
        rc = record_read(a, h, pos, res->last_height, &rec, &type, &v, &why);
        if (rc != CAIRN_OK) goto out;
        if (v != REC_OK) {
            res->bad_offset = pos;
            res->why = why;
            bool found = true;
            if (v == REC_BAD) {
                rc = resync(a, h, pos, &found);
                if (rc != CAIRN_OK) goto out;
            }
            res->end = found ? WAL_SCAN_DAMAGED : WAL_SCAN_TORN;
            goto out;
        }
        if (cb) {
            rc = cb(ctx, pos, type, rec.data ? rec.data : (const uint8_t *)"", rec.len);
            if (rc != CAIRN_OK) goto out;
        }
        pos += WAL_REC_HEADER_BYTES + rec.len;
        res->records++;
        res->valid_end = pos;
        if (type == WAL_TYPE_END_HEIGHT) {
            res->last_marker_end = pos;
            res->last_height = get_u64(rec.data);
        }
    }
out:
    buf_deinit(&rec);
    return rc;
}
