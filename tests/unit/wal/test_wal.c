/* Consensus WAL: round trip, replay from the last end-of-height marker, torn
 * tails cut at every byte offset, damage in the middle refused, oversize length
 * fields, rotation and truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/log.h"
#include "crypto/crypto.h"
#include "wal/wal.h"
#include "wal/wal_int.h"

#define SEG0 "00000000000000000000.wal"
#define RECS_MAX 64

typedef struct {
    char dir[64];  /* the temp dir */
    char wal[96];  /* the WAL directory inside it */
} fixture;

typedef struct {
    int n;
    uint8_t type[RECS_MAX];
    size_t len[RECS_MAX];
    uint8_t *data[RECS_MAX];
} collected;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-wal-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->wal, sizeof f->wal, "%s/wal", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static cairn_err collect_cb(void *ctx, uint8_t type, const uint8_t *p, size_t n)
{
    collected *c = ctx;
    if (c->n == RECS_MAX) return CAIRN_ELIMIT;
    c->type[c->n] = type;
    c->len[c->n] = n;
    c->data[c->n] = malloc(n ? n : 1);
    memcpy(c->data[c->n], p, n);
    c->n++;
    return CAIRN_OK;
}

static void collected_free(collected *c)
{
    for (int i = 0; i < c->n; i++) free(c->data[i]);
    c->n = 0;
}

/* Record i of the test sequence: type 1 + i % 3, length varies, bytes patterned. */
static size_t rec_make(uint8_t *out, int i)
{
    static const size_t lens[] = {0, 1, 17, 300, 4096, 9};
    size_t n = lens[i % 6];
    for (size_t k = 0; k < n; k++) out[k] = (uint8_t)(i * 31 + k);
    return n;
}

static void append_seq(wal_t *w, int from, int to)
{
    uint8_t buf[4096];
    for (int i = from; i < to; i++) {
        size_t n = rec_make(buf, i);
        assert_int_equal(wal_append(w, (uint8_t)(1 + i % 3), buf, n), CAIRN_OK);
    }
}

static void expect_seq(const collected *c, int from, int to)
{
    assert_int_equal(c->n, to - from);
    uint8_t buf[4096];
    for (int i = from; i < to; i++) {
        size_t n = rec_make(buf, i);
        assert_int_equal(c->type[i - from], 1 + i % 3);
        assert_int_equal(c->len[i - from], n);
        assert_memory_equal(c->data[i - from], buf, n);
    }
}

static void replay_expect(wal_t *w, int from, int to)
{
    collected c = {0};
    assert_int_equal(wal_replay(w, &c, collect_cb), CAIRN_OK);
    expect_seq(&c, from, to);
    collected_free(&c);
}

static uint8_t *file_slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)len + 1);
    assert_int_equal(fread(p, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    *n = (size_t)len;
    return p;
}

static void file_put(const char *path, const uint8_t *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    fclose(fp);
}

static void seg0_path(const fixture *f, char *out, size_t max)
{
    snprintf(out, max, "%s/" SEG0, f->wal);
}

/* Builds a WAL with records 0..n-1 (synced), returns the segment's bytes and the
 * offset where each record starts (offs[n] = end). */
static uint8_t *build_seq(fixture *f, int n, uint64_t *offs, size_t *size)
{
    wal_t *w = NULL;
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    uint64_t off = WAL_SEG_HEADER_BYTES;
    uint8_t buf[4096];
    for (int i = 0; i < n; i++) {
        offs[i] = off;
        off += WAL_REC_HEADER_BYTES + rec_make(buf, i);
    }
    offs[n] = off;
    append_seq(w, 0, n);
    assert_int_equal(wal_sync(w), CAIRN_OK);
    wal_close(w);
    char p[160];
    seg0_path(f, p, sizeof p);
    uint8_t *bytes = file_slurp(p, size);
    assert_int_equal(*size, off);
    return bytes;
}

/* ------------------------------------------------------------------ tests */

static void appended_records_replay_in_order_after_reopen(void **state)
{
    fixture *f = *state;
    wal_t *w = NULL;
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    replay_expect(w, 0, 0);
    append_seq(w, 0, 12);
    assert_int_equal(wal_sync(w), CAIRN_OK);
    replay_expect(w, 0, 12);
    wal_close(w);
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    assert_int_equal(wal_torn_bytes(w), 0);
    replay_expect(w, 0, 12);
    append_seq(w, 12, 14); /* appends continue after the reopened tail */
    replay_expect(w, 0, 14);
    wal_close(w);
}

static void replay_starts_after_the_last_end_of_height(void **state)
{
    fixture *f = *state;
    wal_t *w = NULL;
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    append_seq(w, 0, 4);
    assert_int_equal(wal_end_height(w, 1), CAIRN_OK);
    append_seq(w, 4, 7);
    assert_int_equal(wal_end_height(w, 2), CAIRN_OK);
    append_seq(w, 7, 10);
    assert_int_equal(wal_sync(w), CAIRN_OK);
    assert_int_equal(wal_last_height(w), 2);
    replay_expect(w, 7, 10);
    wal_close(w);
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    assert_int_equal(wal_last_height(w), 2);
    replay_expect(w, 7, 10);
    assert_int_equal(wal_end_height(w, 3), CAIRN_OK);
    replay_expect(w, 0, 0);
    wal_close(w);
}

static void end_of_height_must_increase(void **state)
{
    fixture *f = *state;
    wal_t *w = NULL;
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    assert_int_equal(wal_end_height(w, 0), CAIRN_EINVALID_ARG);
    assert_int_equal(wal_end_height(w, 5), CAIRN_OK);
    assert_int_equal(wal_end_height(w, 5), CAIRN_EINVALID_ARG);
    assert_int_equal(wal_end_height(w, 4), CAIRN_EINVALID_ARG);
    assert_int_equal(wal_end_height(w, 9), CAIRN_OK); /* gaps are fine (block sync) */
    assert_int_equal(wal_last_height(w), 9);
    wal_close(w);
}

static void reserved_types_and_oversize_records_are_refused(void **state)
{
    fixture *f = *state;
    wal_options o;
    wal_options_default(&o);
    o.record_bytes_max = 100;
    wal_t *w = NULL;
    assert_int_equal(wal_open(f->wal, &o, &w), CAIRN_OK);
    uint8_t buf[101] = {0};
    assert_int_equal(wal_append(w, 0, buf, 1), CAIRN_EINVALID_ARG);
    assert_int_equal(wal_append(w, WAL_TYPE_END_HEIGHT, buf, 8), CAIRN_EINVALID_ARG);
    assert_int_equal(wal_append(w, 1, buf, 101), CAIRN_ETOO_LARGE);
    assert_int_equal(wal_append(w, 1, buf, 100), CAIRN_OK);
    collected c = {0};
    assert_int_equal(wal_replay(w, &c, collect_cb), CAIRN_OK);
    assert_int_equal(c.n, 1);
    collected_free(&c);
    wal_close(w);
}

static void torn_tail_is_cut_at_every_byte_offset_of_the_last_record(void **state)
{
    fixture *f = *state;
    uint64_t offs[5];
    size_t size;
    uint8_t *full = build_seq(f, 4, offs, &size); /* last record: 9 + 300 bytes */
    char p[160];
    seg0_path(f, p, sizeof p);
    log_level_set(LOG_OFF);
    for (uint64_t cut = offs[3] + 1; cut < offs[4]; cut++) {
        file_put(p, full, cut);
        wal_t *w = NULL;
        assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
        assert_int_equal(wal_torn_bytes(w), cut - offs[3]);
        replay_expect(w, 0, 3);
        wal_close(w);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal((uint64_t)st.st_size, offs[3]); /* the cut is on disk */
    }
    log_level_set(LOG_INFO);
    /* After a cut, new records follow the complete ones. */
    wal_t *w = NULL;
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    append_seq(w, 3, 6);
    wal_close(w);
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    replay_expect(w, 0, 6);
    wal_close(w);
    free(full);
}

static void zero_filled_tail_after_a_crash_is_cut(void **state)
{
    fixture *f = *state;
    uint64_t offs[5];
    size_t size;
    uint8_t *full = build_seq(f, 4, offs, &size);
    uint8_t *padded = calloc(1, size + 8192);
    memcpy(padded, full, size);
    char p[160];
    seg0_path(f, p, sizeof p);
    file_put(p, padded, size + 8192);
    log_level_set(LOG_OFF);
    wal_t *w = NULL;
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    log_level_set(LOG_INFO);
    assert_int_equal(wal_torn_bytes(w), 8192);
    replay_expect(w, 0, 4);
    wal_close(w);
    free(full);
    free(padded);
}

static void flipped_byte_in_an_earlier_record_is_damage(void **state)
{
    fixture *f = *state;
    uint64_t offs[5];
    size_t size;
    uint8_t *full = build_seq(f, 4, offs, &size);
    char p[160];
    seg0_path(f, p, sizeof p);
    log_level_set(LOG_OFF);
    /* Every byte of records 1 and 2 (header and payload), records 3 follows. */
    for (uint64_t at = offs[1]; at < offs[3]; at++) {
        uint8_t *bad = malloc(size);
        memcpy(bad, full, size);
        bad[at] ^= 0x40;
        file_put(p, bad, size);
        wal_t *w = NULL;
        assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_EWAL_DAMAGED);
        size_t n2;
        uint8_t *after = file_slurp(p, &n2);
        assert_int_equal(n2, size); /* refused, not cut */
        assert_memory_equal(after, bad, size);
        free(after);
        free(bad);
    }
    log_level_set(LOG_INFO);
    free(full);
}

static void oversize_length_field_is_a_torn_tail_at_the_end_and_damage_before(void **state)
{
    fixture *f = *state;
    uint64_t offs[5];
    size_t size;
    uint8_t *full = build_seq(f, 4, offs, &size);
    char p[160];
    seg0_path(f, p, sizeof p);
    uint8_t *bad = malloc(size);
    log_level_set(LOG_OFF);
    /* In the last record: nothing valid follows, so it is a torn tail. */
    memcpy(bad, full, size);
    memset(bad + offs[3], 0xFF, 4);
    file_put(p, bad, size);
    wal_t *w = NULL;
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    replay_expect(w, 0, 3);
    wal_close(w);
    /* In record 1: records 2 and 3 are valid after it. */
    memcpy(bad, full, size);
    memset(bad + offs[1], 0xFF, 4);
    file_put(p, bad, size);
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_EWAL_DAMAGED);
    /* Just over the configured maximum, also in the middle. */
    memcpy(bad, full, size);
    uint32_t len = WAL_RECORD_BYTES_MAX + 1;
    for (int i = 0; i < 4; i++) bad[offs[1] + i] = (uint8_t)(len >> (8 * i));
    file_put(p, bad, size);
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_EWAL_DAMAGED);
    log_level_set(LOG_INFO);
    free(bad);
    free(full);
}

static void damaged_segment_header_is_refused(void **state)
{
    fixture *f = *state;
    uint64_t offs[3];
    size_t size;
    uint8_t *full = build_seq(f, 2, offs, &size);
    char p[160];
    seg0_path(f, p, sizeof p);
    log_level_set(LOG_OFF);
    for (int at = 0; at < WAL_SEG_HEADER_BYTES; at++) {
        full[at] ^= 1;
        file_put(p, full, size);
        wal_t *w = NULL;
        assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_EWAL_DAMAGED);
        full[at] ^= 1;
    }
    log_level_set(LOG_INFO);
    free(full);
}

static void replay_notices_a_record_changed_after_open(void **state)
{
    fixture *f = *state;
    uint64_t offs[4];
    size_t size;
    uint8_t *full = build_seq(f, 3, offs, &size);
    wal_t *w = NULL;
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    char p[160];
    seg0_path(f, p, sizeof p);
    full[offs[2] + WAL_REC_HEADER_BYTES] ^= 1;
    FILE *fp = fopen(p, "r+b"); /* same inode: the open WAL sees it */
    assert_non_null(fp);
    assert_int_equal(fwrite(full, 1, size, fp), size);
    fclose(fp);
    log_level_set(LOG_OFF);
    collected c = {0};
    assert_int_equal(wal_replay(w, &c, collect_cb), CAIRN_EWAL_DAMAGED);
    log_level_set(LOG_INFO);
    collected_free(&c);
    wal_close(w);
    free(full);
}

static void a_failing_replay_callback_stops_the_replay(void **state)
{
    fixture *f = *state;
    uint64_t offs[4];
    size_t size;
    uint8_t *full = build_seq(f, 3, offs, &size);
    free(full);
    wal_t *w = NULL;
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    collected c = {.n = RECS_MAX - 1}; /* room for one record, then CAIRN_ELIMIT */
    assert_int_equal(wal_replay(w, &c, collect_cb), CAIRN_ELIMIT);
    free(c.data[RECS_MAX - 1]);
    wal_close(w);
}

static int count_segments(const fixture *f)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '\\.wal$'", f->wal);
    FILE *fp = popen(cmd, "r");
    int n = -1;
    if (fp) {
        if (fscanf(fp, "%d", &n) != 1) n = -1;
        pclose(fp);
    }
    return n;
}

static void segments_rotate_at_height_boundaries_and_truncate(void **state)
{
    fixture *f = *state;
    wal_options o;
    wal_options_default(&o);
    o.segment_bytes_max = 300; /* each height (~411 bytes) fills one segment */
    wal_t *w = NULL;
    assert_int_equal(wal_open(f->wal, &o, &w), CAIRN_OK);
    for (uint64_t h = 1; h <= 10; h++) {
        append_seq(w, 0, 4); /* 0+1+17+300 bytes of payload */
        assert_int_equal(wal_end_height(w, h), CAIRN_OK);
    }
    append_seq(w, 0, 3); /* height 11 in progress */
    assert_int_equal(wal_sync(w), CAIRN_OK);
    assert_int_equal(wal_segment_count(w), 11);
    assert_int_equal(count_segments(f), 11);
    replay_expect(w, 0, 3);
    wal_close(w);

    assert_int_equal(wal_open(f->wal, &o, &w), CAIRN_OK);
    assert_int_equal(wal_last_height(w), 10);
    replay_expect(w, 0, 3);
    uint32_t removed = 0;
    /* Segments hold heights (0,1], (1,2], ... (9,10], (10, ...): keep 8 and up. */
    assert_int_equal(wal_truncate_before(w, 8, &removed), CAIRN_OK);
    assert_int_equal(removed, 7);
    assert_int_equal(wal_segment_count(w), 4);
    assert_int_equal(count_segments(f), 4);
    assert_int_equal(wal_truncate_before(w, 1000, &removed), CAIRN_OK);
    assert_int_equal(removed, 3); /* never the last segment */
    assert_int_equal(count_segments(f), 1);
    replay_expect(w, 0, 3);
    wal_close(w);

    assert_int_equal(wal_open(f->wal, &o, &w), CAIRN_OK);
    assert_int_equal(wal_last_height(w), 10);
    replay_expect(w, 0, 3);
    assert_int_equal(wal_end_height(w, 11), CAIRN_OK);
    assert_int_equal(wal_end_height(w, 10), CAIRN_EINVALID_ARG);
    wal_close(w);
}

static void scrub_finds_damage_in_an_older_segment(void **state)
{
    fixture *f = *state;
    wal_options o;
    wal_options_default(&o);
    o.segment_bytes_max = 300;
    wal_t *w = NULL;
    assert_int_equal(wal_open(f->wal, &o, &w), CAIRN_OK);
    for (uint64_t h = 1; h <= 3; h++) {
        append_seq(w, 0, 4);
        assert_int_equal(wal_end_height(w, h), CAIRN_OK);
    }
    append_seq(w, 0, 2);
    assert_int_equal(wal_segment_count(w), 4);
    assert_int_equal(wal_check(w), CAIRN_OK);
    wal_close(w);

    char p[160];
    snprintf(p, sizeof p, "%s/00000000000000000001.wal", f->wal);
    size_t n;
    uint8_t *seg = file_slurp(p, &n);
    seg[WAL_SEG_HEADER_BYTES + 30] ^= 0x01; /* inside the second record */
    file_put(p, seg, n);
    log_level_set(LOG_OFF);
    assert_int_equal(wal_open(f->wal, &o, &w), CAIRN_OK); /* replay does not need it */
    replay_expect(w, 0, 2);
    assert_int_equal(wal_check(w), CAIRN_EWAL_DAMAGED);
    seg[WAL_SEG_HEADER_BYTES + 30] ^= 0x01;
    file_put(p, seg, n - 17); /* drop its end-of-height marker */
    assert_int_equal(wal_check(w), CAIRN_EWAL_DAMAGED);
    file_put(p, seg, n);
    assert_int_equal(wal_check(w), CAIRN_OK);
    log_level_set(LOG_INFO);
    wal_close(w);
    free(seg);
}

static void second_writer_is_refused_while_the_wal_is_open(void **state)
{
    fixture *f = *state;
    wal_t *w = NULL, *v = NULL;
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    log_level_set(LOG_OFF);
    assert_int_equal(wal_open(f->wal, NULL, &v), CAIRN_EBUSY);
    log_level_set(LOG_INFO);
    wal_close(w);
    assert_int_equal(wal_open(f->wal, NULL, &v), CAIRN_OK);
    wal_close(v);
}

static void leftover_temp_segment_is_removed(void **state)
{
    fixture *f = *state;
    wal_t *w = NULL;
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    append_seq(w, 0, 2);
    wal_close(w);
    char p[160];
    snprintf(p, sizeof p, "%s/00000000000000000007.wal.tmp", f->wal);
    file_put(p, (const uint8_t *)"partial", 7);
    assert_int_equal(wal_open(f->wal, NULL, &w), CAIRN_OK);
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(wal_segment_count(w), 1);
    replay_expect(w, 0, 2);
    wal_close(w);
}

int main(void)
{
    if (crypto_init() != CAIRN_OK) return 1;
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(appended_records_replay_in_order_after_reopen),
        T(replay_starts_after_the_last_end_of_height),
        T(end_of_height_must_increase),
        T(reserved_types_and_oversize_records_are_refused),
        T(torn_tail_is_cut_at_every_byte_offset_of_the_last_record),
        T(zero_filled_tail_after_a_crash_is_cut),
        T(flipped_byte_in_an_earlier_record_is_damage),
        T(oversize_length_field_is_a_torn_tail_at_the_end_and_damage_before),
        T(damaged_segment_header_is_refused),
        T(replay_notices_a_record_changed_after_open),
        T(a_failing_replay_callback_stops_the_replay),
        T(segments_rotate_at_height_boundaries_and_truncate),
        T(scrub_finds_damage_in_an_older_segment),
        T(second_writer_is_refused_while_the_wal_is_open),
        T(leftover_temp_segment_is_removed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
