/* Fuzz the WAL segment scanner: the input is the bytes after a valid segment
 * header (fixed salt). The scanner must never crash, never hand out a record that
 * fails its checksum, report records contiguously, and re-encoding what it
 * returned must give back exactly the bytes it accepted. The segment-header
 * decoder is fuzzed on the raw input too (with a re-encode check). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "crypto/crypto.h"
#include "wal/wal_int.h"

#define RECORD_MAX 1024

typedef struct {
    const uint8_t *p;
    size_t n;
} mem;

typedef struct {
    const mem *seg;
    const wal_seg_header *h;
    uint64_t next_off;
    buf_t re;
} checker;

static cairn_err mem_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got)
{
    const mem *m = ctx;
    *got = 0;
    if (off >= m->n) return CAIRN_OK;
    size_t k = m->n - (size_t)off < n ? m->n - (size_t)off : n;
    if (k) memcpy(buf, m->p + off, k);
    *got = k;
    return CAIRN_OK;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static cairn_err check_record(void *ctx, uint64_t off, uint8_t type, const uint8_t *p, size_t n)
{
    checker *c = ctx;
    const uint8_t *at = c->seg->p + off;
    if (off != c->next_off) abort();                       /* contiguous */
    if (off + WAL_REC_HEADER_BYTES + n > c->seg->n) abort(); /* inside the input */
    if (type == 0 || n > RECORD_MAX) abort();
    if (le32(at) != n || at[8] != type) abort();
    if (wal_record_check(c->h->salt, (uint32_t)n, type, p) != le32(at + 4)) abort();
    if (memcmp(p, at + WAL_REC_HEADER_BYTES, n) != 0) abort();
    buf_reset(&c->re);
    if (wal_record_encode(&c->re, c->h->salt, type, p, n) != CAIRN_OK) abort();
    if (c->re.len != WAL_REC_HEADER_BYTES + n || memcmp(c->re.data, at, c->re.len) != 0)
        abort(); /* encode(decode(b)) == b */
    c->next_off = off + WAL_REC_HEADER_BYTES + n;
    return CAIRN_OK;
}

static void header_round_trip(const uint8_t *data, size_t size)
{
    wal_seg_header h;
    if (wal_seg_header_decode(&h, data, size) != CAIRN_OK) return;
    uint8_t again[WAL_SEG_HEADER_BYTES];
    wal_seg_header_encode(&h, again);
    if (memcmp(again, data, WAL_SEG_HEADER_BYTES) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        if (crypto_init() != CAIRN_OK) abort();
        log_level_set(LOG_OFF);
        inited = 1;
    }
    header_round_trip(data, size);

    wal_seg_header h;
    memset(&h, 0, sizeof h); /* salt all zero, base height 0 */
    uint8_t *seg = malloc(WAL_SEG_HEADER_BYTES + size);
    if (!seg) return 0;
    wal_seg_header_encode(&h, seg);
    if (size) memcpy(seg + WAL_SEG_HEADER_BYTES, data, size);
    mem m = {seg, WAL_SEG_HEADER_BYTES + size};

    wal_scan_args a = {
        .read_at = mem_read,
        .read_ctx = &m,
        .size = m.n,
        .record_bytes_max = RECORD_MAX,
        .start = WAL_SEG_HEADER_BYTES,
        .resync_bytes_max = 1 << 20,
        .height_before = 0,
    };
    checker c = {.seg = &m, .h = &h, .next_off = WAL_SEG_HEADER_BYTES};
    buf_init(&c.re, RECORD_MAX + WAL_REC_HEADER_BYTES);
    wal_scan_result res;
    if (wal_scan(&a, &h, &res, &c, check_record) != CAIRN_OK) abort();
    if (res.valid_end != c.next_off || res.valid_end > m.n) abort();
    if (res.end == WAL_SCAN_CLEAN && res.valid_end != m.n) abort();
    if (res.end != WAL_SCAN_CLEAN && res.bad_offset != res.valid_end) abort();
    if (res.last_marker_end > res.valid_end) abort();
    buf_deinit(&c.re);
    free(seg);
    return 0;
}
