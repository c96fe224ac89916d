/* The pure segment scanner over memory: why a record inside a torn record's
 * payload cannot pass as a real one (the per-segment salt), the hashing budget
 * of the tail search, and a WAL that stops after a failed write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/log.h"
#include "crypto/crypto.h"
#include "wal/wal.h"
#include "wal/wal_int.h"

typedef struct {
    const uint8_t *p;
    size_t n;
} mem;

static cairn_err mem_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got)
{
    const mem *m = ctx;
    *got = 0;
    if (off >= m->n) return CAIRN_OK;
    size_t k = m->n - (size_t)off < n ? m->n - (size_t)off : n;
    memcpy(buf, m->p + off, k);
    *got = k;
    return CAIRN_OK;
}

static wal_scan_end scan_mem(const wal_seg_header *h, const buf_t *seg, uint64_t budget,
                             wal_scan_result *res)
{
    mem m = {seg->data, seg->len};
    wal_scan_args a = {.read_at = mem_read, .read_ctx = &m, .size = seg->len,
                       .record_bytes_max = 4096, .start = WAL_SEG_HEADER_BYTES,
                       .resync_bytes_max = budget, .height_before = 0};
    assert_int_equal(wal_scan(&a, h, res, NULL, NULL), CAIRN_OK);
    return res->end;
}

/* A segment: header, one good record, then a record whose payload is itself an
 * encoded record (salted with `inner_salt`), cut in the middle of its payload
 * after the inner record. */
static void segment_with_embedded_record(buf_t *seg, const wal_seg_header *h,
                                         const uint8_t inner_salt[WAL_SALT_BYTES])
{
    uint8_t hd[WAL_SEG_HEADER_BYTES];
    wal_seg_header_encode(h, hd);
    assert_int_equal(buf_append(seg, hd, sizeof hd), CAIRN_OK);
    assert_int_equal(wal_record_encode(seg, h->salt, 1, "first", 5), CAIRN_OK);
    buf_t payload;
    buf_init(&payload, 1024);
    assert_int_equal(buf_append(&payload, "prefix", 6), CAIRN_OK);
    assert_int_equal(wal_record_encode(&payload, inner_salt, 2, "crafted", 7), CAIRN_OK);
    uint8_t rest[64];
    memset(rest, 0x5A, sizeof rest);
    assert_int_equal(buf_append(&payload, rest, sizeof rest), CAIRN_OK);
    size_t before = seg->len;
    assert_int_equal(wal_record_encode(seg, h->salt, 1, payload.data, payload.len), CAIRN_OK);
    seg->len = before + WAL_REC_HEADER_BYTES + 6 + WAL_REC_HEADER_BYTES + 7 + 10; /* torn */
    buf_deinit(&payload);
}

static void record_inside_a_torn_payload_does_not_count_with_another_salt(void **state)
{
    (void)state;
    wal_seg_header h = {.salt = {1, 2, 3, 4, 5, 6, 7, 8}, .base_height = 0};
    uint8_t attacker_salt[WAL_SALT_BYTES] = {0};
    buf_t seg;
    buf_init(&seg, 1 << 16);
    segment_with_embedded_record(&seg, &h, attacker_salt);
    wal_scan_result res;
    assert_int_equal(scan_mem(&h, &seg, 1 << 20, &res), WAL_SCAN_TORN);
    assert_int_equal(res.records, 1);
    assert_int_equal(res.valid_end, WAL_SEG_HEADER_BYTES + WAL_REC_HEADER_BYTES + 5);
    buf_deinit(&seg);
}

static void record_with_the_segment_salt_after_a_bad_one_is_damage(void **state)
{
    (void)state;
    wal_seg_header h = {.salt = {1, 2, 3, 4, 5, 6, 7, 8}, .base_height = 0};
    buf_t seg;
    buf_init(&seg, 1 << 16);
    segment_with_embedded_record(&seg, &h, h.salt); /* knows the salt */
    wal_scan_result res;
    assert_int_equal(scan_mem(&h, &seg, 1 << 20, &res), WAL_SCAN_DAMAGED);
    buf_deinit(&seg);
}

static void tail_search_over_budget_reports_damage_not_a_cut(void **state)
{
    (void)state;
    wal_seg_header h = {.salt = {9}, .base_height = 0};
    buf_t seg;
    buf_init(&seg, 1 << 16);
    uint8_t hd[WAL_SEG_HEADER_BYTES];
    wal_seg_header_encode(&h, hd);
    assert_int_equal(buf_append(&seg, hd, sizeof hd), CAIRN_OK);
    assert_int_equal(wal_record_encode(&seg, h.salt, 1, "ok", 2), CAIRN_OK);
    /* Garbage made of plausible small records with wrong checksums. */
    uint8_t junk[2000];
    for (size_t i = 0; i < sizeof junk; i += 10) {
        const uint8_t block[10] = {1, 0, 0, 0, 0xDE, 0xAD, 0xBE, (uint8_t)i, 1, 0x33};
        memcpy(junk + i, block, sizeof block);
    }
    assert_int_equal(buf_append(&seg, junk, sizeof junk), CAIRN_OK);
    wal_scan_result res;
    assert_int_equal(scan_mem(&h, &seg, 1 << 20, &res), WAL_SCAN_TORN);
    assert_int_equal(scan_mem(&h, &seg, 64, &res), WAL_SCAN_DAMAGED);
    assert_int_equal(res.records, 1);
    buf_deinit(&seg);
}

/* In a child limited by RLIMIT_FSIZE, an append that cannot be written fully
 * fails with CAIRN_EIO and every later call fails too; reopening cuts the
 * partial record. Exit code 0 = as expected. */
static int child_write_until_limit(const char *dir)
{
    signal(SIGXFSZ, SIG_IGN);
    log_level_set(LOG_OFF);
    wal_t *w = NULL;
    if (wal_open(dir, NULL, &w) != CAIRN_OK) return 10;
    uint8_t buf[300];
    memset(buf, 7, sizeof buf);
    if (wal_append(w, 1, buf, 100) != CAIRN_OK || wal_sync(w) != CAIRN_OK) return 11;
    struct rlimit rl = {WAL_SEG_HEADER_BYTES + 109 + 150, WAL_SEG_HEADER_BYTES + 109 + 150};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) return 12;
    if (wal_append(w, 1, buf, sizeof buf) != CAIRN_EIO) return 13;
    if (wal_append(w, 1, buf, 10) != CAIRN_EIO) return 14; /* would fit, but stopped */
    if (wal_sync(w) != CAIRN_EIO) return 15;
    if (wal_end_height(w, 1) != CAIRN_EIO) return 16;
    wal_close(w);
    return 0;
}

static cairn_err count_cb(void *ctx, uint8_t type, const uint8_t *p, size_t n)
{
    (void)type;
    (void)p;
    (void)n;
    (*(int *)ctx)++;
    return CAIRN_OK;
}

static void failed_write_stops_the_wal_and_reopen_cuts_the_partial_record(void **state)
{
    (void)state;
    char tmp[] = "/tmp/cairn-walfail-XXXXXX";
    assert_non_null(mkdtemp(tmp));
    char dir[64];
    snprintf(dir, sizeof dir, "%s/wal", tmp);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(child_write_until_limit(dir));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    log_level_set(LOG_OFF);
    wal_t *w = NULL;
    assert_int_equal(wal_open(dir, NULL, &w), CAIRN_OK);
    log_level_set(LOG_INFO);
    assert_int_equal(wal_torn_bytes(w), 150); /* the partial 309-byte record */
    int n = 0;
    assert_int_equal(wal_replay(w, &n, count_cb), CAIRN_OK);
    assert_int_equal(n, 1);
    wal_close(w);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    if (crypto_init() != CAIRN_OK) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_inside_a_torn_payload_does_not_count_with_another_salt),
        cmocka_unit_test(record_with_the_segment_salt_after_a_bad_one_is_damage),
        cmocka_unit_test(tail_search_over_budget_reports_damage_not_a_cut),
        cmocka_unit_test(failed_write_stops_the_wal_and_reopen_cuts_the_partial_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
