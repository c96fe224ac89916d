/* Signing-state rules: the sign/refuse matrix, persistence across reopen, and
 * refusal of damaged, missing, foreign or busy state files. */
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
#include "wal/signer.h"

typedef struct {
    char dir[64];
    char path[128];
    keypair_t kp;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-signer-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/priv_validator_state", f->dir);
    uint8_t seed[SEED_BYTES];
    memset(seed, 7, sizeof seed);
    key_from_seed(&f->kp, seed);
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

static void file_read(const char *path, uint8_t *buf, size_t max, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    *n = fread(buf, 1, max, fp);
    fclose(fp);
}

static void file_write(const char *path, const uint8_t *buf, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, n, fp), n);
    fclose(fp);
}

/* A message that stands for "the sign bytes at (h, r, step), variant v". */
static size_t msg_make(uint8_t *out, uint64_t h, uint32_t r, uint8_t step, int v)
{
    return (size_t)sprintf((char *)out, "msg h=%llu r=%u s=%u v=%d", (unsigned long long)h,
                           r, step, v);
}

static cairn_err sign_at(signer_t *s, uint64_t h, uint32_t r, uint8_t step, int v,
                         uint8_t sig[SIG_BYTES])
{
    uint8_t m[96];
    size_t n = msg_make(m, h, r, step, v);
    return signer_sign_bytes(s, h, r, step, m, n, 1000 + v, sig);
}

static void sig_verifies(const fixture *f, const uint8_t sig[SIG_BYTES], uint64_t h,
                         uint32_t r, uint8_t step, int v)
{
    uint8_t m[96];
    size_t n = msg_make(m, h, r, step, v);
    assert_int_equal(key_verify(sig, f->kp.pub, m, n), CAIRN_OK);
}

static void create_gives_blank_state_for_the_key(void **state)
{
    fixture *f = *state;
    signer_t *s = NULL;
    assert_int_equal(signer_create(f->path, &f->kp, &s), CAIRN_OK);
    signer_state_t st;
    signer_state_get(s, &st);
    assert_int_equal(st.height, 0);
    assert_int_equal(st.step, SIGNER_STEP_NONE);
    assert_memory_equal(st.pub, f->kp.pub, PUBKEY_BYTES);
    signer_close(s);
    assert_int_equal(signer_open(f->path, &f->kp, &s), CAIRN_OK);
    signer_close(s);
}

static void create_refuses_an_existing_state(void **state)
{
    fixture *f = *state;
    signer_t *s = NULL;
    assert_int_equal(signer_create(f->path, &f->kp, &s), CAIRN_OK);
    uint8_t sig[SIG_BYTES];
    assert_int_equal(sign_at(s, 5, 0, SIGNER_STEP_PREVOTE, 0, sig), CAIRN_OK);
    signer_close(s);
    assert_int_equal(signer_create(f->path, &f->kp, &s), CAIRN_EEXISTS);
    assert_int_equal(signer_open(f->path, &f->kp, &s), CAIRN_OK);
    signer_state_t st;
    signer_state_get(s, &st);
    assert_int_equal(st.height, 5); /* not reset */
    signer_close(s);
}

static void open_refuses_a_missing_state(void **state)
{
    fixture *f = *state;
    signer_t *s = NULL;
    assert_int_equal(signer_open(f->path, &f->kp, &s), CAIRN_ENOT_FOUND);
    assert_int_equal(access(f->path, F_OK), -1); /* and did not create one */
}

/* ---------------------------------------------------------------- the matrix */

#define H0 10
#define R0 5
#define S0 SIGNER_STEP_PREVOTE

typedef enum { EXPECT_REFUSE, EXPECT_SAME_SIG, EXPECT_NEW_SIG } expect;

static int cmp3(uint64_t h, uint32_t r, uint8_t s)
{
    if (h != H0) return h < H0 ? -1 : 1;
    if (r != R0) return r < R0 ? -1 : 1;
    if (s != S0) return s < S0 ? -1 : 1;
    return 0;
}

/* One cell: a signer that last signed (H0, R0, S0, variant 0) is asked for
 * (h, r, step, variant v). */
static void matrix_cell(fixture *f, uint64_t h, uint32_t r, uint8_t step, int v)
{
    unlink(f->path);
    signer_t *s = NULL;
    assert_int_equal(signer_create(f->path, &f->kp, &s), CAIRN_OK);
    uint8_t first[SIG_BYTES], sig[SIG_BYTES];
    assert_int_equal(sign_at(s, H0, R0, S0, 0, first), CAIRN_OK);
    int c = cmp3(h, r, step);
    expect want = c < 0 ? EXPECT_REFUSE : c > 0 ? EXPECT_NEW_SIG
                                       : v == 0 ? EXPECT_SAME_SIG : EXPECT_REFUSE;
    memset(sig, 0xEE, sizeof sig);
    cairn_err rc = sign_at(s, h, r, step, v, sig);
    signer_state_t st;
    signer_state_get(s, &st);
    switch (want) {
    case EXPECT_REFUSE:
        assert_int_equal(rc, CAIRN_EDOUBLE_SIGN);
        assert_int_equal(st.height, H0); /* state unchanged */
        assert_int_equal(st.round, R0);
        assert_int_equal(st.step, S0);
        break;
    case EXPECT_SAME_SIG:
        assert_int_equal(rc, CAIRN_OK);
        assert_memory_equal(sig, first, SIG_BYTES);
        break;
    case EXPECT_NEW_SIG:
        assert_int_equal(rc, CAIRN_OK);
        sig_verifies(f, sig, h, r, step, v);
        assert_int_equal(st.height, h);
        assert_int_equal(st.round, r);
        assert_int_equal(st.step, step);
        break;
    }
    signer_close(s);
}

/* Every combination of lower/equal/higher height, round and step, with the same
 * and with different sign bytes, filtered to the cells of one expectation. */
static void matrix_run(fixture *f, expect only)
{
    const uint64_t hs[] = {H0 - 1, H0, H0 + 1};
    const uint32_t rs[] = {R0 - 1, R0, R0 + 1};
    const uint8_t ss[] = {SIGNER_STEP_PROPOSAL, SIGNER_STEP_PREVOTE, SIGNER_STEP_PRECOMMIT};
    int cells = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++)
                for (int v = 0; v < 2; v++) {
                    int c = cmp3(hs[i], rs[j], ss[k]);
                    expect e = c < 0 ? EXPECT_REFUSE : c > 0 ? EXPECT_NEW_SIG
                                                   : v == 0 ? EXPECT_SAME_SIG : EXPECT_REFUSE;
                    if (e != only) continue;
                    matrix_cell(f, hs[i], rs[j], ss[k], v);
                    cells++;
                }
    assert_true(cells > 0);
}

static void lower_height_round_or_step_is_refused(void **state)
{
    fixture *f = *state;
    matrix_run(f, EXPECT_REFUSE);
}

static void same_step_same_bytes_returns_the_same_signature(void **state)
{
    fixture *f = *state;
    matrix_run(f, EXPECT_SAME_SIG);
}

static void higher_height_round_or_step_is_signed_and_recorded(void **state)
{
    fixture *f = *state;
    matrix_run(f, EXPECT_NEW_SIG);
}

static void same_step_different_bytes_is_refused(void **state)
{
    fixture *f = *state;
    signer_t *s = NULL;
    assert_int_equal(signer_create(f->path, &f->kp, &s), CAIRN_OK);
    uint8_t sig[SIG_BYTES];
    assert_int_equal(sign_at(s, H0, R0, S0, 0, sig), CAIRN_OK);
    for (int v = 1; v < 4; v++)
        assert_int_equal(sign_at(s, H0, R0, S0, v, sig), CAIRN_EDOUBLE_SIGN);
    signer_close(s);
}

static void height_zero_and_unknown_steps_are_invalid(void **state)
{
    fixture *f = *state;
    signer_t *s = NULL;
    assert_int_equal(signer_create(f->path, &f->kp, &s), CAIRN_OK);
    uint8_t sig[SIG_BYTES];
    assert_int_equal(sign_at(s, 0, 0, SIGNER_STEP_PREVOTE, 0, sig), CAIRN_EINVALID_ARG);
    assert_int_equal(sign_at(s, 1, 0, SIGNER_STEP_NONE, 0, sig), CAIRN_EINVALID_ARG);
    assert_int_equal(sign_at(s, 1, 0, 4, 0, sig), CAIRN_EINVALID_ARG);
    signer_close(s);
}

/* ---------------------------------------------------------------- persistence */

static void state_survives_close_and_reopen(void **state)
{
    fixture *f = *state;
    signer_t *s = NULL;
    assert_int_equal(signer_create(f->path, &f->kp, &s), CAIRN_OK);
    uint8_t first[SIG_BYTES], sig[SIG_BYTES];
    assert_int_equal(sign_at(s, 7, 2, SIGNER_STEP_PRECOMMIT, 0, first), CAIRN_OK);
    signer_close(s); /* "crash": nothing else happens before the reopen */
    assert_int_equal(signer_open(f->path, &f->kp, &s), CAIRN_OK);
    assert_int_equal(sign_at(s, 7, 2, SIGNER_STEP_PRECOMMIT, 1, sig), CAIRN_EDOUBLE_SIGN);
    assert_int_equal(sign_at(s, 7, 2, SIGNER_STEP_PREVOTE, 0, sig), CAIRN_EDOUBLE_SIGN);
    assert_int_equal(sign_at(s, 6, 9, SIGNER_STEP_PRECOMMIT, 0, sig), CAIRN_EDOUBLE_SIGN);
    assert_int_equal(sign_at(s, 7, 2, SIGNER_STEP_PRECOMMIT, 0, sig), CAIRN_OK);
    assert_memory_equal(sig, first, SIG_BYTES);
    assert_int_equal(sign_at(s, 8, 0, SIGNER_STEP_PROPOSAL, 0, sig), CAIRN_OK);
    signer_close(s);
}

static void repeated_request_does_not_rewrite_the_file(void **state)
{
    fixture *f = *state;
    signer_t *s = NULL;
    assert_int_equal(signer_create(f->path, &f->kp, &s), CAIRN_OK);
    uint8_t sig[SIG_BYTES];
    assert_int_equal(sign_at(s, 3, 0, SIGNER_STEP_PREVOTE, 0, sig), CAIRN_OK);
    struct stat a, b;
    assert_int_equal(stat(f->path, &a), 0);
    assert_int_equal(sign_at(s, 3, 0, SIGNER_STEP_PREVOTE, 0, sig), CAIRN_OK);
    assert_int_equal(stat(f->path, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino); /* every persist renames a new inode in */
    signer_close(s);
}

static void damaged_state_file_is_refused_and_left_alone(void **state)
{
    fixture *f = *state;
    signer_t *s = NULL;
    assert_int_equal(signer_create(f->path, &f->kp, &s), CAIRN_OK);
    uint8_t sig[SIG_BYTES];
    assert_int_equal(sign_at(s, 9, 1, SIGNER_STEP_PREVOTE, 0, sig), CAIRN_OK);
    signer_close(s);
    uint8_t good[SIGNER_STATE_BYTES + 8], raw[SIGNER_STATE_BYTES + 8];
    size_t n;
    file_read(f->path, good, sizeof good, &n);
    assert_int_equal(n, SIGNER_STATE_BYTES);
    log_level_set(LOG_OFF);
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(raw, good, n);
            raw[i] ^= (uint8_t)(1u << bit);
            file_write(f->path, raw, n);
            assert_int_equal(signer_open(f->path, &f->kp, &s), CAIRN_ECORRUPT);
            size_t m;
            uint8_t after[SIGNER_STATE_BYTES + 8];
            file_read(f->path, after, sizeof after, &m);
            assert_int_equal(m, n);
            assert_memory_equal(after, raw, n); /* never reset */
        }
    }
    for (size_t len = 0; len < n; len++) { /* torn or truncated file */
        file_write(f->path, good, len);
        assert_int_equal(signer_open(f->path, &f->kp, &s), CAIRN_ECORRUPT);
    }
    memcpy(raw, good, n);
    raw[n] = 0;
    file_write(f->path, raw, n + 1); /* trailing garbage */
    assert_int_equal(signer_open(f->path, &f->kp, &s), CAIRN_ECORRUPT);
    log_level_set(LOG_INFO);
    file_write(f->path, good, n);
    assert_int_equal(signer_open(f->path, &f->kp, &s), CAIRN_OK);
    signer_close(s);
}

static void state_of_another_key_is_refused(void **state)
{
    fixture *f = *state;
    signer_t *s = NULL;
    assert_int_equal(signer_create(f->path, &f->kp, &s), CAIRN_OK);
    signer_close(s);
    keypair_t other;
    uint8_t seed[SEED_BYTES];
    memset(seed, 8, sizeof seed);
    key_from_seed(&other, seed);
    assert_int_equal(signer_open(f->path, &other, &s), CAIRN_EBAD_KEY);
}

static void second_open_of_a_held_state_is_busy(void **state)
{
    fixture *f = *state;
    signer_t *s = NULL, *t = NULL;
    assert_int_equal(signer_create(f->path, &f->kp, &s), CAIRN_OK);
    assert_int_equal(signer_open(f->path, &f->kp, &t), CAIRN_EBUSY);
    signer_close(s);
    assert_int_equal(signer_open(f->path, &f->kp, &t), CAIRN_OK);
    signer_close(t);
}

static void leftover_temp_file_does_not_replace_the_state(void **state)
{
    fixture *f = *state;
    signer_t *s = NULL;
    assert_int_equal(signer_create(f->path, &f->kp, &s), CAIRN_OK);
    uint8_t sig[SIG_BYTES];
    assert_int_equal(sign_at(s, 4, 0, SIGNER_STEP_PREVOTE, 0, sig), CAIRN_OK);
    signer_close(s);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->path); /* a crash before the rename */
    file_write(tmp, (const uint8_t *)"half a state", 12);
    assert_int_equal(signer_open(f->path, &f->kp, &s), CAIRN_OK);
    signer_state_t st;
    signer_state_get(s, &st);
    assert_int_equal(st.height, 4);
    assert_int_equal(access(tmp, F_OK), -1);
    signer_close(s);
}

static void failed_persist_withholds_the_signature_and_stops_the_signer(void **state)
{
    fixture *f = *state;
    signer_t *s = NULL;
    assert_int_equal(signer_create(f->path, &f->kp, &s), CAIRN_OK);
    uint8_t sig[SIG_BYTES];
    assert_int_equal(sign_at(s, 2, 0, SIGNER_STEP_PREVOTE, 0, sig), CAIRN_OK);
    /* Make the rename fail: a non-empty directory where the state file was. */
    char inner[200];
    assert_int_equal(unlink(f->path), 0);
    assert_int_equal(mkdir(f->path, 0700), 0);
    snprintf(inner, sizeof inner, "%s/x", f->path);
    file_write(inner, (const uint8_t *)"x", 1);
    log_level_set(LOG_OFF);
    memset(sig, 0, sizeof sig);
    assert_int_equal(sign_at(s, 3, 0, SIGNER_STEP_PREVOTE, 0, sig), CAIRN_EIO);
    uint8_t zero[SIG_BYTES] = {0};
    assert_memory_equal(sig, zero, SIG_BYTES); /* nothing released */
    assert_int_equal(unlink(inner), 0);
    assert_int_equal(rmdir(f->path), 0);
    assert_int_equal(sign_at(s, 4, 0, SIGNER_STEP_PREVOTE, 0, sig), CAIRN_EIO);
    assert_int_equal(sign_at(s, 2, 0, SIGNER_STEP_PREVOTE, 0, sig), CAIRN_EIO);
    log_level_set(LOG_INFO);
    signer_close(s);
}

/* ---------------------------------------------------------------- codec */

static void state_encoding_round_trips_and_is_strict(void **state)
{
    (void)state;
    signer_state_t st, back;
    memset(&st, 0, sizeof st);
    memset(st.pub, 0xAB, sizeof st.pub);
    st.height = 0x0102030405060708ull;
    st.round = 77;
    st.step = SIGNER_STEP_PRECOMMIT;
    st.time_ns = -5;
    memset(st.sign_hash, 0x11, sizeof st.sign_hash);
    memset(st.sig, 0x22, sizeof st.sig);
    uint8_t raw[SIGNER_STATE_BYTES], again[SIGNER_STATE_BYTES];
    signer_state_encode(&st, raw);
    assert_memory_equal(raw, "cairnsig", 8);
    assert_int_equal(signer_state_decode(&back, raw, sizeof raw), CAIRN_OK);
    assert_int_equal(back.height, st.height);
    assert_int_equal(back.round, st.round);
    assert_int_equal(back.step, st.step);
    assert_int_equal(back.time_ns, st.time_ns);
    assert_memory_equal(back.pub, st.pub, PUBKEY_BYTES);
    assert_memory_equal(back.sign_hash, st.sign_hash, HASH_BYTES);
    assert_memory_equal(back.sig, st.sig, SIG_BYTES);
    signer_state_encode(&back, again);
    assert_memory_equal(again, raw, sizeof raw);
    assert_int_equal(signer_state_decode(&back, raw, sizeof raw - 1), CAIRN_ETRUNCATED);

    /* Well-checksummed but invalid contents are still refused. */
    st.step = 4;
    signer_state_encode(&st, raw);
    assert_int_equal(signer_state_decode(&back, raw, sizeof raw), CAIRN_EBAD_ENCODING);
    st.step = SIGNER_STEP_NONE; /* "nothing signed" with a height */
    signer_state_encode(&st, raw);
    assert_int_equal(signer_state_decode(&back, raw, sizeof raw), CAIRN_EBAD_ENCODING);
    st.step = SIGNER_STEP_PREVOTE;
    st.height = 0;
    signer_state_encode(&st, raw);
    assert_int_equal(signer_state_decode(&back, raw, sizeof raw), CAIRN_EBAD_ENCODING);
}

int main(void)
{
    if (crypto_init() != CAIRN_OK) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_gives_blank_state_for_the_key, setup, teardown),
        cmocka_unit_test_setup_teardown(create_refuses_an_existing_state, setup, teardown),
        cmocka_unit_test_setup_teardown(open_refuses_a_missing_state, setup, teardown),
        cmocka_unit_test_setup_teardown(lower_height_round_or_step_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(same_step_same_bytes_returns_the_same_signature, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(higher_height_round_or_step_is_signed_and_recorded,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(same_step_different_bytes_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(height_zero_and_unknown_steps_are_invalid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(state_survives_close_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(repeated_request_does_not_rewrite_the_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(damaged_state_file_is_refused_and_left_alone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(state_of_another_key_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(second_open_of_a_held_state_is_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(leftover_temp_file_does_not_replace_the_state, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            failed_persist_withholds_the_signature_and_stops_the_signer, setup, teardown),
        cmocka_unit_test(state_encoding_round_trips_and_is_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
