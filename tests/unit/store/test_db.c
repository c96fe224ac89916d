/* test_db.c - the RocksDB layer of src/store: opening, column families, errors,
 * sealed values, the state reader, evidence, and damage below the block layer. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <rocksdb/c.h>

#include "base/log.h"
#include "store/store.h"
#include "store/store_int.h"
#include "store_test_util.h"

typedef struct {
    char dir[256];
    char path[300];
    store_t *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || tmpdir_make(f->dir) != 0) return -1;
    snprintf(f->path, sizeof f->path, "%s/db", f->dir);
    if (store_open(f->path, NULL, &f->s) != CAIRN_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->s);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static void reopen(fixture *f)
{
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->path, NULL, &f->s), CAIRN_OK);
}

static void state_put(store_t *s, const char *k, const char *v)
{
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(kv_batch_put(&b, k, strlen(k), v, strlen(v)), CAIRN_OK);
    assert_int_equal(store_state_write(s, &b), CAIRN_OK);
    kv_batch_deinit(&b);
}

static void assert_state(store_t *s, const char *k, const char *want)
{
    kv_reader r = store_state_reader(s);
    uint8_t *v = NULL;
    size_t n = 0;
    assert_int_equal(kv_get(&r, (const uint8_t *)k, strlen(k), &v, &n), CAIRN_OK);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(v, want, n);
    free(v);
}

static cairn_err state_read_rc(store_t *s, const char *k)
{
    kv_reader r = store_state_reader(s);
    uint8_t *v = NULL;
    size_t n = 0;
    cairn_err rc = kv_get(&r, (const uint8_t *)k, strlen(k), &v, &n);
    free(v);
    return rc;
}

static void test_open_creates_every_column_family(void **state)
{
    fixture *f = *state;
    store_close(f->s);
    f->s = NULL;
    rocksdb_options_t *o = rocksdb_options_create();
    char *err = NULL;
    size_t n = 0;
    char **names = rocksdb_list_column_families(o, f->path, &n, &err);
    assert_null(err);
    for (int c = 0; c < STORE_CF__COUNT; c++) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            if (strcmp(names[i], store_cf_name((store_cf)c)) == 0) found = true;
        assert_true(found);
    }
    rocksdb_list_column_families_destroy(names, n);
    rocksdb_options_destroy(o);
    reopen(f);
}

static void test_empty_store_has_no_height_and_no_meta(void **state)
{
    fixture *f = *state;
    assert_int_equal(store_height(f->s), 0);
    assert_int_equal(store_base_height(f->s), 0);
    store_meta_t m;
    assert_int_equal(store_meta_get(f->s, &m), CAIRN_ENOT_FOUND);
    buf_t b;
    buf_init(&b, 1024);
    assert_int_equal(store_chain_state_get(f->s, &b), CAIRN_ENOT_FOUND);
    buf_deinit(&b);
}

static void test_open_missing_without_create_fails_with_db_error(void **state)
{
    fixture *f = *state;
    char p[320];
    snprintf(p, sizeof p, "%s/absent", f->dir);
    store_options o;
    store_options_default(&o);
    o.create_if_missing = false;
    store_t *s = NULL;
    assert_int_equal(store_open(p, &o, &s), CAIRN_EDB);
    assert_null(s);
}

static void test_open_on_a_regular_file_fails_with_db_error(void **state)
{
    fixture *f = *state;
    char p[320];
    snprintf(p, sizeof p, "%s/file", f->dir);
    int fd = open(p, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    store_t *s = NULL;
    assert_int_equal(store_open(p, NULL, &s), CAIRN_EDB);
    assert_null(s);
}

static void test_second_open_of_an_open_store_is_refused(void **state)
{
    fixture *f = *state;
    store_t *s = NULL;
    assert_int_equal(store_open(f->path, NULL, &s), CAIRN_EDB);
    assert_null(s);
}

static void test_state_written_is_read_back_after_reopen(void **state)
{
    fixture *f = *state;
    state_put(f->s, "alice", "100");
    state_put(f->s, "bob", "7");
    assert_state(f->s, "alice", "100");
    reopen(f);
    assert_state(f->s, "alice", "100");
    assert_state(f->s, "bob", "7");
    assert_int_equal(state_read_rc(f->s, "carol"), CAIRN_ENOT_FOUND);
}

static void test_state_batch_later_write_wins_and_delete_removes(void **state)
{
    fixture *f = *state;
    state_put(f->s, "k", "old");
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(kv_batch_put(&b, "k", 1, "v1", 2), CAIRN_OK);
    assert_int_equal(kv_batch_put(&b, "k", 1, "v2", 2), CAIRN_OK);
    assert_int_equal(kv_batch_put(&b, "gone", 4, "x", 1), CAIRN_OK);
    assert_int_equal(kv_batch_del(&b, "gone", 4), CAIRN_OK);
    assert_int_equal(store_state_write(f->s, &b), CAIRN_OK);
    kv_batch_deinit(&b);
    assert_state(f->s, "k", "v2");
    assert_int_equal(state_read_rc(f->s, "gone"), CAIRN_ENOT_FOUND);
}

static void test_state_batch_with_bad_key_writes_nothing(void **state)
{
    fixture *f = *state;
    kv_batch b;
    kv_batch_init(&b);
    assert_int_equal(kv_batch_put(&b, "first", 5, "1", 1), CAIRN_OK);
    uint8_t big[STORE_KEY_MAX + 1];
    memset(big, 'k', sizeof big);
    assert_int_equal(kv_batch_put(&b, big, sizeof big, "2", 1), CAIRN_OK);
    assert_int_equal(store_state_write(f->s, &b), CAIRN_EINVALID_ARG);
    kv_batch_deinit(&b);
    assert_int_equal(state_read_rc(f->s, "first"), CAIRN_ENOT_FOUND);
}

static void test_state_value_with_flipped_byte_reads_corrupt(void **state)
{
    fixture *f = *state;
    state_put(f->s, "acct", "balance=100");
    buf_t raw;
    buf_init(&raw, 4096);
    assert_int_equal(store_debug_get_raw(f->s, STORE_CF_STATE, (const uint8_t *)"acct", 4,
                                         &raw),
                     CAIRN_OK);
    assert_int_equal(raw.len, strlen("balance=100") + STORE_SEAL_BYTES);
    for (size_t i = 0; i < raw.len; i += 3) {
        raw.data[i] ^= 0x01;
        assert_int_equal(store_debug_put_raw(f->s, STORE_CF_STATE,
                                             (const uint8_t *)"acct", 4, raw.data,
                                             raw.len),
                         CAIRN_OK);
        assert_int_equal(state_read_rc(f->s, "acct"), CAIRN_ECORRUPT);
        raw.data[i] ^= 0x01;
    }
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_STATE, (const uint8_t *)"acct", 4,
                                         raw.data, raw.len),
                     CAIRN_OK);
    assert_state(f->s, "acct", "balance=100");
    buf_deinit(&raw);
}

static void test_state_value_moved_to_another_key_reads_corrupt(void **state)
{
    fixture *f = *state;
    state_put(f->s, "a", "1000");
    state_put(f->s, "b", "1");
    buf_t raw;
    buf_init(&raw, 4096);
    assert_int_equal(
        store_debug_get_raw(f->s, STORE_CF_STATE, (const uint8_t *)"a", 1, &raw),
        CAIRN_OK);
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_STATE, (const uint8_t *)"b", 1,
                                         raw.data, raw.len),
                     CAIRN_OK);
    assert_int_equal(state_read_rc(f->s, "b"), CAIRN_ECORRUPT);
    assert_state(f->s, "a", "1000");
    buf_deinit(&raw);
}

static void test_truncated_state_value_reads_corrupt(void **state)
{
    fixture *f = *state;
    state_put(f->s, "t", "value");
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_STATE, (const uint8_t *)"t", 1,
                                         (const uint8_t *)"val", 3),
                     CAIRN_OK);
    assert_int_equal(state_read_rc(f->s, "t"), CAIRN_ECORRUPT);
}

static void test_evidence_put_get_delete(void **state)
{
    fixture *f = *state;
    const uint8_t key[] = {1, 2, 3};
    assert_int_equal(store_evidence_put(f->s, key, 3, (const uint8_t *)"ev", 2), CAIRN_OK);
    reopen(f);
    uint8_t *v = NULL;
    size_t n = 0;
    assert_int_equal(store_evidence_get(f->s, key, 3, &v, &n), CAIRN_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(v, "ev", 2);
    free(v);
    assert_int_equal(store_evidence_del(f->s, key, 3), CAIRN_OK);
    assert_int_equal(store_evidence_get(f->s, key, 3, &v, &n), CAIRN_ENOT_FOUND);
}

typedef struct {
    int n;
    char keys[8][8];
} ev_seen;

static bool ev_cb(const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len,
                  void *ctx)
{
    ev_seen *e = ctx;
    (void)val;
    (void)val_len;
    if (e->n < 8 && key_len < 8) memcpy(e->keys[e->n], key, key_len);
    e->n++;
    return true;
}

static void test_evidence_foreach_skips_damaged_values_and_honours_the_limit(void **state)
{
    fixture *f = *state;
    const char *keys[] = {"e1", "e2", "e3"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_evidence_put(f->s, (const uint8_t *)keys[i], 2,
                                            (const uint8_t *)"evidence", 8),
                         CAIRN_OK);
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_EVIDENCE, (const uint8_t *)"e2", 2,
                                         (const uint8_t *)"evidence-and-junk", 17),
                     CAIRN_OK);
    ev_seen seen = {0};
    size_t damaged = 0;
    assert_int_equal(store_evidence_foreach(f->s, 100, &damaged, ev_cb, &seen), CAIRN_OK);
    assert_int_equal(seen.n, 2);
    assert_int_equal(damaged, 1);
    assert_string_equal(seen.keys[0], "e1");
    assert_string_equal(seen.keys[1], "e3");
    ev_seen one = {0};
    assert_int_equal(store_evidence_foreach(f->s, 1, NULL, ev_cb, &one), CAIRN_OK);
    assert_int_equal(one.n, 1);
}

static void test_unsupported_format_version_refuses_to_open(void **state)
{
    fixture *f = *state;
    uint8_t rec[4 + STORE_SEAL_BYTES];
    store_put_u32le(rec, STORE_FORMAT_VERSION + 1);
    const uint8_t *key = (const uint8_t *)META_KEY_FORMAT;
    store_seal(rec + 4, STORE_CF_META, key, strlen(META_KEY_FORMAT), rec, 4);
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_META, key,
                                         strlen(META_KEY_FORMAT), rec, sizeof rec),
                     CAIRN_OK);
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->path, NULL, &f->s), CAIRN_EUNSUPPORTED);
    assert_null(f->s);
}

static void test_damaged_meta_record_refuses_to_open_as_corrupt(void **state)
{
    fixture *f = *state;
    const uint8_t *key = (const uint8_t *)META_KEY_FORMAT;
    assert_int_equal(store_debug_put_raw(f->s, STORE_CF_META, key,
                                         strlen(META_KEY_FORMAT),
                                         (const uint8_t *)"garbage-bytes", 13),
                     CAIRN_OK);
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->path, NULL, &f->s), CAIRN_ECORRUPT);
}

/* Flips bytes in the middle of every SST file of the directory. */
static int damage_sst_files(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return -1;
    int damaged = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 4, ".sst") != 0) continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        int fd = open(p, O_RDWR);
        if (fd < 0) continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_size > 64) {
            /* the first data block starts at offset 0: damage a value byte there */
            for (off_t off = 8; off < 40; off += 8) {
                uint8_t c;
                if (pread(fd, &c, 1, off) == 1) {
                    c ^= 0xff;
                    if (pwrite(fd, &c, 1, off) == 1) damaged++;
                }
            }
        }
        close(fd);
    }
    closedir(d);
    return damaged;
}

static void test_damaged_sst_file_is_reported_as_corrupt(void **state)
{
    fixture *f = *state;
    char val[256];
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = 0;
    state_put(f->s, "key-in-sst", val);
    assert_int_equal(store_flush(f->s), CAIRN_OK);
    store_close(f->s);
    f->s = NULL;
    assert_true(damage_sst_files(f->path) > 0);
    log_level_set(LOG_OFF);
    cairn_err rc = store_open(f->path, NULL, &f->s);
    if (rc == CAIRN_OK) rc = state_read_rc(f->s, "key-in-sst");
    log_level_set(LOG_INFO);
    assert_int_equal(rc, CAIRN_ECORRUPT);
}

static void test_key_description_names_height_for_height_keyed_families(void **state)
{
    (void)state;
    uint8_t key[8];
    store_height_key(key, 258);
    char out[64];
    store_key_describe(STORE_CF_BLOCKS, key, 8, out, sizeof out);
    assert_string_equal(out, "blocks/height=258");
    const uint8_t h[2] = {0xab, 0x01};
    store_key_describe(STORE_CF_BLOCK_HASH, h, 2, out, sizeof out);
    assert_string_equal(out, "block_hash/AB01");
}

int main(void)
{
    log_level_set(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_every_column_family, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_store_has_no_height_and_no_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_missing_without_create_fails_with_db_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_on_a_regular_file_fails_with_db_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_open_of_an_open_store_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_written_is_read_back_after_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_batch_later_write_wins_and_delete_removes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_batch_with_bad_key_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_value_with_flipped_byte_reads_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_value_moved_to_another_key_reads_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_state_value_reads_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evidence_put_get_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evidence_foreach_skips_damaged_values_and_honours_the_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_format_version_refuses_to_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_meta_record_refuses_to_open_as_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_sst_file_is_reported_as_corrupt, setup, teardown),
        cmocka_unit_test(test_key_description_names_height_for_height_keyed_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
